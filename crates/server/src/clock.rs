//! The server's notion of "now": the system clock, which tests can move forward.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The system clock plus a skew that only ever grows, shared by every clone.
///
/// Token expiry, session expiry, lockouts and rate limits all read this clock, so a test can
/// [`advance`](Clock::advance) it past an hour-long TTL instead of sleeping.
#[derive(Clone, Default)]
pub struct Clock {
    skew_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock, not skewed.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.skew_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default();
        real + self.skew_ms.load(Ordering::SeqCst)
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock(skew {} ms)", self.skew_ms.load(Ordering::SeqCst))
    }
}

/// `2026-11-26T20:00:00Z`: RFC 3339 in UTC, whole seconds.
pub fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// Whole seconds from `now_ms` until `until_ms`, rounded up, at least 1.
pub fn secs_until(now_ms: i64, until_ms: i64) -> u64 {
    let ms = (until_ms - now_ms).max(1) as u64;
    ms.div_ceil(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_is_utc_with_whole_seconds() {
        assert_eq!(rfc3339(1_795_723_200_999), "2026-11-26T20:00:00Z");
    }

    #[test]
    fn advancing_a_clone_moves_every_clone() {
        let a = Clock::system();
        let b = a.clone();
        let before = b.now_ms();
        a.advance(Duration::from_secs(3600));
        assert!(b.now_ms() - before >= 3_600_000);
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(secs_until(0, 1), 1);
        assert_eq!(secs_until(0, 1000), 1);
        assert_eq!(secs_until(0, 1001), 2);
        assert_eq!(secs_until(5000, 0), 1);
    }
}
