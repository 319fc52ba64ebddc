//! In-memory sliding-window rate limits.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::clock::secs_until;

/// At most `limit` events per `window_ms`.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub limit: u32,
    pub window_ms: i64,
}

/// Counts events per key against a set of rules; an event is recorded only when every rule
/// allows it.
#[derive(Debug)]
pub struct Limiter {
    rules: Vec<Rule>,
    events: Mutex<HashMap<String, VecDeque<i64>>>,
}

const SWEEP_ABOVE_KEYS: usize = 10_000;

impl Limiter {
    pub fn new(rules: Vec<Rule>) -> Limiter {
        Limiter {
            rules,
            events: Mutex::new(HashMap::new()),
        }
    }

    fn longest_window(&self) -> i64 {
        self.rules.iter().map(|r| r.window_ms).max().unwrap_or(0)
    }

    /// Records an event for `key` at `now`, or answers how many seconds to wait.
    pub fn hit(&self, key: &str, now: i64) -> Result<(), u64> {
        let horizon = now - self.longest_window();
        let mut all = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if all.len() > SWEEP_ABOVE_KEYS {
            all.retain(|_, events| events.back().is_some_and(|&t| t > horizon));
        }
        let events = all.entry(key.to_owned()).or_default();
        while events.front().is_some_and(|&t| t <= horizon) {
            events.pop_front();
        }
        let mut retry_at: Option<i64> = None;
        for rule in &self.rules {
            if rule.limit == 0 {
                retry_at = Some(retry_at.unwrap_or(now).max(now + rule.window_ms));
                continue;
            }
            let in_window: Vec<i64> = events
                .iter()
                .copied()
                .filter(|&t| t > now - rule.window_ms)
                .collect();
            let count = in_window.len();
            let limit = rule.limit as usize;
            if count >= limit {
                // Once the (count - limit + 1)-th oldest event leaves the window, one more fits.
                let free_at = in_window[count - limit] + rule.window_ms;
                retry_at = Some(retry_at.map_or(free_at, |r| r.max(free_at)));
            }
        }
        match retry_at {
            Some(at) => Err(secs_until(now, at)),
            None => {
                events.push_back(now);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_up_to_the_limit_then_says_when_to_retry() {
        let l = Limiter::new(vec![Rule {
            limit: 2,
            window_ms: 10_000,
        }]);
        assert_eq!(l.hit("a", 0), Ok(()));
        assert_eq!(l.hit("a", 3_000), Ok(()));
        assert_eq!(l.hit("a", 4_000), Err(6));
        assert_eq!(l.hit("b", 4_000), Ok(()), "keys are separate");
        assert_eq!(
            l.hit("a", 10_000),
            Ok(()),
            "the first event left the window"
        );
        assert_eq!(l.hit("a", 10_500), Err(3));
    }

    #[test]
    fn every_rule_must_allow_and_the_longest_wait_wins() {
        let l = Limiter::new(vec![
            Rule {
                limit: 1,
                window_ms: 1_000,
            },
            Rule {
                limit: 2,
                window_ms: 60_000,
            },
        ]);
        assert_eq!(l.hit("a", 0), Ok(()));
        assert_eq!(l.hit("a", 500), Err(1));
        assert_eq!(l.hit("a", 1_000), Ok(()));
        assert_eq!(l.hit("a", 2_000), Err(58));
    }
}
