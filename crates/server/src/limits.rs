//! Sliding-window rate limits, kept in the database so that every instance on it counts the
//! same events.

use crate::client_addr::ClientKey;
use crate::clock::secs_until;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store;

/// At most `limit` events per `window_ms`.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub limit: u32,
    pub window_ms: i64,
}

/// Counts events per key of one scope (`forgot`, `client`) against a set of rules; an event is
/// recorded only when every rule allows it.
#[derive(Debug, Clone)]
pub struct Limiter {
    scope: &'static str,
    rules: Vec<Rule>,
}

impl Limiter {
    pub fn new(scope: &'static str, rules: Vec<Rule>) -> Limiter {
        Limiter { scope, rules }
    }

    /// Records an event for `key` at `now`, or answers how many seconds to wait. Each rule costs
    /// one indexed count (and one indexed look-up when it is full), however many events a key has.
    pub fn hit(
        &self,
        c: &mut crate::sql::Conn<'_>,
        key: &str,
        now: i64,
    ) -> crate::sql::DbResult<Result<(), u64>> {
        let mut tx = c.immediate(&format!("rate:{}:{key}", self.scope))?;
        let mut retry_at: Option<i64> = None;
        for rule in &self.rules {
            let since = now - rule.window_ms;
            let count = store::count_rate_events(&mut tx, self.scope, key, since)?;
            if count >= u64::from(rule.limit) {
                // Once the (count - limit + 1)-th oldest event leaves the window, one more fits.
                let free_at = if rule.limit == 0 {
                    now + rule.window_ms
                } else {
                    let nth = count - u64::from(rule.limit);
                    store::nth_rate_event(&mut tx, self.scope, key, since, nth)?.unwrap_or(now)
                        + rule.window_ms
                };
                retry_at = Some(retry_at.map_or(free_at, |r| r.max(free_at)));
            }
        }
        let verdict = match retry_at {
            Some(at) => Err(secs_until(now, at)),
            None => {
                store::record_rate_event(&mut tx, self.scope, key, now)?;
                Ok(())
            }
        };
        tx.commit()?;
        Ok(verdict)
    }
}

/// Every minute, forgets rate-limit events and failed logins older than every window, and
/// locks that have ended, for keys not seen since.
pub async fn sweep(db: crate::db::Db, clock: crate::clock::Clock, longest_window_ms: i64) {
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        let now = clock.now_ms();
        let before = now - longest_window_ms;
        let swept = db
            .call(move |c| {
                store::sweep_rate_events(c, before)?;
                Ok(store::sweep_login_failures(c, before, now)?)
            })
            .await;
        if let Err(e) = swept {
            tracing::warn!(error = ?e, "could not sweep old rate-limit events and failures");
        }
    }
}

impl AppState {
    /// The generous per-client limit on the unauthenticated endpoints.
    pub async fn limit_client(&self, client: &ClientKey) -> Result<(), ApiError> {
        self.limit(&self.client_limiter, client.0.clone()).await
    }

    /// One event of `limiter` for `key`, or `rate_limited` with when to try again.
    pub async fn limit(&self, limiter: &Limiter, key: String) -> Result<(), ApiError> {
        let (limiter, now) = (limiter.clone(), self.clock.now_ms());
        self.db
            .call(move |c| Ok(limiter.hit(c, &key, now)?))
            .await?
            .map_err(ApiError::rate_limited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    fn hit(db: &Db, l: &Limiter, key: &str, now: i64) -> Result<(), u64> {
        db.with(|c| l.hit(c, key, now)).unwrap()
    }

    #[test]
    fn allows_up_to_the_limit_then_says_when_to_retry() {
        let db = Db::for_unit_test();
        let l = Limiter::new(
            "test",
            vec![Rule {
                limit: 2,
                window_ms: 10_000,
            }],
        );
        assert_eq!(hit(&db, &l, "a", 0), Ok(()));
        assert_eq!(hit(&db, &l, "a", 3_000), Ok(()));
        assert_eq!(hit(&db, &l, "a", 4_000), Err(6));
        assert_eq!(hit(&db, &l, "b", 4_000), Ok(()), "keys are separate");
        assert_eq!(
            hit(&db, &l, "a", 10_000),
            Ok(()),
            "the first event left the window"
        );
        assert_eq!(hit(&db, &l, "a", 10_500), Err(3));
        let other_scope = Limiter::new("other", l.rules.clone());
        assert_eq!(
            hit(&db, &other_scope, "a", 10_500),
            Ok(()),
            "scopes are separate"
        );
    }

    #[test]
    fn every_rule_must_allow_and_the_longest_wait_wins() {
        let db = Db::for_unit_test();
        let l = Limiter::new(
            "test",
            vec![
                Rule {
                    limit: 1,
                    window_ms: 1_000,
                },
                Rule {
                    limit: 2,
                    window_ms: 60_000,
                },
            ],
        );
        assert_eq!(hit(&db, &l, "a", 0), Ok(()));
        assert_eq!(hit(&db, &l, "a", 500), Err(1));
        assert_eq!(hit(&db, &l, "a", 1_000), Ok(()));
        assert_eq!(hit(&db, &l, "a", 2_000), Err(58));
    }
}
