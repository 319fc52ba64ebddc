//! Links into the app: the rules a link must pass, and the one place it waits for the UI (how
//! one arrives from the OS is `arrival.rs`). The contract, per platform, is `DEEPLINKS.md`.
//!
//! The reset token never leaves Rust: it lives in the [`PendingReset`] that [`Links`] holds. The
//! web view learns where a link leads ([`LinkTarget`], with a short hint of the token for
//! support) and calls commands that take no token.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use tauri::ipc::Channel;
use unipos_client::support::{
    self, LinkArrival, LinkEvent, LINK_OPENED_FORGOT, LINK_OPENED_LOGIN, LINK_OPENED_RESET,
    LINK_VALID, LOG_RESET_LINK_RECEIVED, MAX_LINK_EVENTS,
};
use unipos_client::unipos_protocol::PasswordPolicy;
use unipos_client::{ClientError, Flows, OpenedLink, PendingReset};

use crate::ui_values::{IncomingLink, LinkTarget, LinkWaiting};

/// What the app knows of links between commands.
#[derive(Debug, Default)]
struct Waiting {
    /// A link the OS delivered, judged by the rules, not yet taken by the UI; a newer one
    /// replaces it.
    incoming: Option<Result<OpenedLink, ClientError>>,
    /// The reset link the Reset screen works on (opened, pasted, or taken from `incoming`).
    reset: Option<PendingReset>,
    /// The organisation's policy from the last check of `reset`, for the checklist.
    policy: Option<PasswordPolicy>,
}

/// The link waiting for the UI, and the reset link it holds: one lock for all of it. Beside it,
/// the last links' verdicts for the support report (kept when the rest is dropped).
#[derive(Default)]
pub struct Links {
    waiting: Mutex<Waiting>,
    events: Mutex<VecDeque<LinkEvent>>,
    /// Where the UI hears that a link arrived (`watch_links`).
    watcher: Mutex<Option<Channel<LinkWaiting>>>,
}

impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Links")
            .field("waiting", &self.waiting)
            .finish_non_exhaustive()
    }
}

impl Links {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn events(&self) -> MutexGuard<'_, VecDeque<LinkEvent>> {
        self.events.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Judges a link the OS delivered and keeps the verdict until the UI asks for it.
    pub fn deliver(&self, flows: &Flows, raw: &str, came: LinkArrival) {
        let verdict = flows.open_link(raw);
        match &verdict {
            Ok(OpenedLink::Reset(p)) => {
                log::info!("{LOG_RESET_LINK_RECEIVED} ({})", p.token_hint())
            }
            Ok(OpenedLink::Forgot) => log::info!("forgot-password link received"),
            Ok(OpenedLink::Login) => log::info!("login link received"),
            Err(e) => log::info!("link refused: {}", e.code()),
        }
        self.note(&verdict, came);
        self.lock().incoming = Some(verdict);
    }

    /// Records how a link came and what the rules said of it (for the support report): the
    /// token's hint only.
    pub fn note(&self, verdict: &Result<OpenedLink, ClientError>, came: LinkArrival) {
        let (verdict, token_hint) = match verdict {
            Ok(OpenedLink::Reset(p)) => (LINK_OPENED_RESET.to_owned(), Some(p.token_hint())),
            Ok(OpenedLink::Forgot) => (LINK_OPENED_FORGOT.to_owned(), None),
            Ok(OpenedLink::Login) => (LINK_OPENED_LOGIN.to_owned(), None),
            Err(e) => (e.code().to_owned(), None),
        };
        let event = LinkEvent {
            at: support::now(),
            came,
            verdict,
            token_hint,
            checked: None,
        };
        support::push_bounded(&mut self.events(), event, MAX_LINK_EVENTS);
    }

    /// Records what the server said when Reset checked the held link: on the latest event of the
    /// same token.
    pub fn note_check(&self, pending: &PendingReset, outcome: Result<(), &ClientError>) {
        let hint = pending.token_hint();
        let mut events = self.events();
        if let Some(event) = events
            .iter_mut()
            .rev()
            .find(|e| e.token_hint.as_deref() == Some(hint.as_str()))
        {
            event.checked = Some(match outcome {
                Ok(()) => LINK_VALID.to_owned(),
                Err(e) => e.code().to_owned(),
            });
        }
    }

    /// The last links, oldest first.
    pub fn recent(&self) -> Vec<LinkEvent> {
        self.events().iter().cloned().collect()
    }

    /// The link the OS delivered, once: an accepted one is held as [`Links::hold`] does.
    pub async fn take_incoming(&self, flows: &Flows) -> Option<IncomingLink> {
        let verdict = self.lock().incoming.take()?;
        Some(match verdict {
            Ok(opened) => IncomingLink::Opened {
                target: self.hold(flows, opened).await,
            },
            Err(error) => IncomingLink::Refused { error },
        })
    }

    /// Holds the reset link of `opened` (replacing an older one) and says where it leads.
    pub async fn hold(&self, flows: &Flows, opened: OpenedLink) -> LinkTarget {
        match opened {
            OpenedLink::Reset(pending) => {
                let token_hint = pending.token_hint();
                let mut waiting = self.lock();
                waiting.reset = Some(pending);
                waiting.policy = None;
                LinkTarget::Reset { token_hint }
            }
            OpenedLink::Forgot => LinkTarget::Forgot {
                logged_in: flows.has_session().await.unwrap_or(false),
            },
            OpenedLink::Login => LinkTarget::Login {
                logged_in: flows.has_session().await.unwrap_or(false),
            },
        }
    }

    /// The held reset link, for a command to send its token to the API.
    pub fn pending_reset(&self) -> Option<PendingReset> {
        self.lock().reset.clone()
    }

    /// Drops the held link and its policy (after "Set password and login").
    pub fn forget_reset(&self) {
        let mut waiting = self.lock();
        waiting.reset = None;
        waiting.policy = None;
    }

    /// Drops everything: a link for one API must not send its token to another.
    pub fn forget_all(&self) {
        *self.lock() = Waiting::default();
    }

    /// Whether a link from the OS waits for the UI.
    pub fn is_waiting(&self) -> bool {
        self.lock().incoming.is_some()
    }

    /// The UI's channel for [`LinkWaiting`]; a newer one (the page reloaded) replaces it. A link
    /// that arrived before the UI watched is told at once, so the UI need not ask after it
    /// starts (a call beside the first screen).
    pub fn watch(&self, channel: Channel<LinkWaiting>) {
        *self.watcher.lock().unwrap_or_else(|p| p.into_inner()) = Some(channel);
        if self.is_waiting() {
            self.tell_ui();
        }
    }

    /// Tells the UI a link is waiting; before it watches, `startup` hands the link over, or
    /// [`Links::watch`] tells it.
    pub fn tell_ui(&self) {
        let watcher = self.watcher.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(channel) = watcher.as_ref() {
            if let Err(e) = channel.send(LinkWaiting {}) {
                log::warn!("could not tell the UI about a link: {e}");
            }
        }
    }

    pub fn set_policy(&self, policy: PasswordPolicy) {
        self.lock().policy = Some(policy);
    }

    pub fn policy(&self) -> Option<PasswordPolicy> {
        self.lock().policy.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use unipos_client::testing::MemoryVault;
    use unipos_client::ClientConfig;

    use super::*;

    fn flows() -> Flows {
        let config = ClientConfig::with_bases("http://127.0.0.1:9", "https://unipos.me").unwrap();
        Flows::new(config, Arc::new(MemoryVault::new())).unwrap()
    }

    fn reset_link(fill: char) -> String {
        format!(
            "unipos://reset_password?token={}",
            fill.to_string().repeat(43)
        )
    }

    fn take(links: &Links, flows: &Flows) -> Option<IncomingLink> {
        tauri::async_runtime::block_on(links.take_incoming(flows))
    }

    #[test]
    fn a_newer_link_replaces_the_waiting_one_which_is_taken_once_and_held() {
        let (links, flows) = (Links::default(), flows());
        links.deliver(&flows, &reset_link('A'), LinkArrival::ColdStart);
        links.deliver(&flows, &reset_link('B'), LinkArrival::Warm);
        let Some(IncomingLink::Opened {
            target: LinkTarget::Reset { token_hint },
        }) = take(&links, &flows)
        else {
            panic!("the newer reset link was not waiting");
        };
        assert!(token_hint.starts_with('B'), "{token_hint}");
        assert!(take(&links, &flows).is_none(), "a link is taken once");
        let held = links.pending_reset().expect("the taken link is held");
        assert_eq!(held.token_hint(), token_hint);
    }

    #[test]
    fn a_refused_link_waits_with_its_code_and_holds_nothing() {
        let (links, flows) = (Links::default(), flows());
        links.deliver(
            &flows,
            "https://unipos.me@evil.example/reset_password?token=x",
            LinkArrival::Warm,
        );
        let Some(IncomingLink::Refused { error }) = take(&links, &flows) else {
            panic!("the refusal was not waiting");
        };
        assert_eq!(error.code(), "link_userinfo");
        assert!(links.pending_reset().is_none());
    }

    #[test]
    fn the_last_ten_links_are_noted_with_how_they_came_their_verdict_and_the_token_hint_only() {
        let (links, flows) = (Links::default(), flows());
        links.deliver(&flows, &reset_link('A'), LinkArrival::ColdStart);
        links.deliver(
            &flows,
            "https://unipos.me.evil.example/reset_password?token=x",
            LinkArrival::Warm,
        );
        for _ in 0..9 {
            links.deliver(&flows, &reset_link('B'), LinkArrival::Warm);
        }
        let Some(IncomingLink::Opened { .. }) = take(&links, &flows) else {
            panic!("the last link was not waiting");
        };
        let held = links.pending_reset().unwrap();
        let refused = ClientError::Api {
            code: unipos_client::unipos_protocol::ErrorCode::TokenExpired,
            message: String::new(),
            status: 410,
            request_id: "r-1".into(),
            retry_after_s: None,
            details: None,
        };
        links.note_check(&held, Err(&refused));
        let events = links.recent();
        assert_eq!(events.len(), MAX_LINK_EVENTS, "the oldest (A) is gone");
        assert_eq!(events[0].verdict, "link_host");
        assert_eq!(events[0].came, LinkArrival::Warm);
        assert_eq!(events[0].token_hint, None, "a refused link leaves no hint");
        let last = events.last().unwrap();
        assert_eq!(last.verdict, LINK_OPENED_RESET);
        assert_eq!(last.checked.as_deref(), Some("token_expired"));
        assert_eq!(
            events[1].checked, None,
            "only the latest event of the token"
        );
        let hint = last.token_hint.as_deref().unwrap();
        assert!(!hint.contains(&"B".repeat(12)), "{hint}");
    }

    /// A channel that counts what Rust told it.
    fn counting_channel() -> (Channel<LinkWaiting>, Arc<std::sync::atomic::AtomicUsize>) {
        let told = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&told);
        let channel = Channel::new(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        });
        (channel, told)
    }

    #[test]
    fn a_link_that_arrived_before_the_ui_watched_is_told_as_soon_as_it_watches() {
        use std::sync::atomic::Ordering::SeqCst;
        let (links, flows) = (Links::default(), flows());
        links.deliver(&flows, &reset_link('A'), LinkArrival::Warm);
        let (channel, told) = counting_channel();
        links.watch(channel);
        assert_eq!(told.load(SeqCst), 1, "told at once");
        assert!(take(&links, &flows).is_some());

        let (channel, told) = counting_channel();
        links.watch(channel);
        assert_eq!(told.load(SeqCst), 0, "nothing waits: nothing told");
        links.deliver(&flows, &reset_link('B'), LinkArrival::Warm);
        links.tell_ui();
        assert_eq!(told.load(SeqCst), 1, "a later link is told when it comes");
    }

    #[test]
    fn forgetting_all_drops_the_waiting_link_the_held_one_and_its_policy() {
        let (links, flows) = (Links::default(), flows());
        links.deliver(&flows, &reset_link('A'), LinkArrival::ColdStart);
        take(&links, &flows);
        links.set_policy(PasswordPolicy::default());
        links.deliver(&flows, &reset_link('B'), LinkArrival::Warm);
        links.forget_all();
        assert!(take(&links, &flows).is_none());
        assert!(links.pending_reset().is_none());
        assert!(links.policy().is_none());
    }
}
