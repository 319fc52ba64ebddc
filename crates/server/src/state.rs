//! What every handler shares: the configuration, the database, the clock, the limiters, the
//! hashing workers, the mail deliverer's bell and the metrics. Below the handlers: they import
//! it, and lib.rs only builds it and wires the router.

use std::ops::Deref;
use std::sync::Arc;

use tokio::sync::{watch, Notify};
use unipos_protocol::LinkRules;

use crate::clock::Clock;
use crate::config::Config;
use crate::limits::Limiter;
use crate::metrics::Metrics;
use crate::{account_sheet, db, hashing};

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState(pub(crate) Arc<Shared>);

pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) db: db::Db,
    pub(crate) clock: Clock,
    pub(crate) links: LinkRules,
    pub(crate) forgot_limiter: Limiter,
    pub(crate) client_limiter: Limiter,
    pub(crate) hasher: hashing::Hasher,
    /// Wakes the mail deliverer when a mail was queued.
    pub(crate) mail_due: Arc<Notify>,
    /// What Account Information sheets are set in; `None` when no font was found (sheets are
    /// then answered `account_sheet_unavailable`).
    pub(crate) sheet_font: Option<Arc<account_sheet::SheetFont>>,
    /// The series `/metrics` serves.
    pub(crate) metrics: Arc<Metrics>,
    /// True once the server is told to stop (readiness then fails).
    pub(crate) stopping: watch::Receiver<bool>,
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
