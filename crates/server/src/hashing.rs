//! Password hashing behind a bound. Each argon2id run takes 19 MiB and a core for tens of
//! milliseconds, so a burst of logins must queue, not pile up: at most `workers` run at once,
//! at most `queue` more wait (each for at most `wait`), and anyone past that is answered
//! 503 `server_busy` at once, without hashing anything.
//!
//! The runs happen on `workers` threads of their own, not on the runtime's blocking pool, and
//! each thread reuses one argon2 working memory (`secrets.rs`): a fresh 19 MiB per run on any of
//! hundreds of pool threads ended up parked in the allocator's arenas (measured after a burst of
//! 200 logins: 751 MiB peak RSS on the blocking pool, 443 MiB on two threads allocating per run,
//! 86 MiB on two threads with reused memory).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{oneshot, Semaphore};
use unipos_protocol::ErrorCode;

use crate::error::ApiError;

type Job = Box<dyn FnOnce() + Send>;

pub struct Hasher {
    /// Hands work to the hashing threads; they end when it is dropped.
    jobs: std::sync::mpsc::Sender<Job>,
    /// Permits to run: one per worker.
    running: Arc<Semaphore>,
    /// Permits to be admitted at all: running plus waiting.
    admitted: Arc<Semaphore>,
    wait: Duration,
    /// How many times work ran (each an argon2 hash or verification).
    runs: Arc<AtomicU64>,
    /// How many checks were refused `server_busy`.
    refused: Arc<AtomicU64>,
    workers: usize,
    queue: usize,
    /// How many pieces of work were admitted (to run at once or to wait), in the order they
    /// take a worker.
    admissions: AtomicU64,
}

impl Hasher {
    #[allow(
        clippy::expect_used,
        reason = "at start: without its workers the server could check no password"
    )]
    pub fn new(workers: usize, queue: usize, wait: Duration) -> Hasher {
        let (jobs, inbox) = std::sync::mpsc::channel::<Job>();
        let inbox = Arc::new(std::sync::Mutex::new(inbox));
        for n in 0..workers {
            let inbox = inbox.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || loop {
                    let job = inbox.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    match job {
                        // A panicking job answers its request with `internal`; the thread
                        // stays for the next one.
                        Ok(job) => {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                        Err(_) => return,
                    }
                })
                .expect("a hashing thread starts");
        }
        Hasher {
            jobs,
            running: Arc::new(Semaphore::new(workers)),
            admitted: Arc::new(Semaphore::new(workers + queue)),
            wait,
            runs: Arc::new(AtomicU64::new(0)),
            refused: Arc::new(AtomicU64::new(0)),
            workers,
            queue,
            admissions: AtomicU64::new(0),
        }
    }

    /// Checks admitted that wait for a worker now.
    pub fn queued(&self) -> usize {
        let admitted = (self.workers + self.queue) - self.admitted.available_permits();
        let running = self.workers - self.running.available_permits();
        admitted.saturating_sub(running)
    }

    /// How many checks were refused `server_busy` since start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// How many hashes and verifications ran since start.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::SeqCst)
    }

    /// How many were admitted since start (run, running or waiting): workers are taken in
    /// this order.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub fn admissions(&self) -> u64 {
        self.admissions.load(Ordering::SeqCst)
    }

    /// Runs `work` (a hash or a verification) on a blocking thread once a worker is free.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| self.busy())?;
        self.admissions.fetch_add(1, Ordering::SeqCst);
        let running = tokio::time::timeout(self.wait, self.running.clone().acquire_owned())
            .await
            .map_err(|_| self.busy())?
            .map_err(ApiError::internal)?;
        // The permits travel with the work: a client that hangs up does not free a worker that
        // is still hashing.
        let runs = self.runs.clone();
        let (done, result) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move || {
            let _in_request = span.enter();
            runs.fetch_add(1, Ordering::SeqCst);
            tracing::debug!("password hashing ran");
            let value = work();
            drop((running, admitted));
            let _ = done.send(value);
        });
        self.jobs
            .send(job)
            .map_err(|_| ApiError::internal(anyhow::anyhow!("the hashing threads are gone")))?;
        result
            .await
            .map_err(|_| ApiError::internal(anyhow::anyhow!("a hashing job was lost")))
    }
}

impl Hasher {
    fn busy(&self) -> ApiError {
        self.refused.fetch_add(1, Ordering::Relaxed);
        ApiError::new(ErrorCode::ServerBusy).retry_after(1)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn past_the_workers_and_the_queue_the_answer_is_server_busy_at_once() {
        let hasher = Arc::new(Hasher::new(1, 1, Duration::from_secs(5)));
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let gate = Arc::new(std::sync::Mutex::new(gate));
        let started = Arc::new(AtomicUsize::new(0));
        let spawn_blocked = |h: Arc<Hasher>| {
            let (gate, started) = (gate.clone(), started.clone());
            tokio::spawn(async move {
                h.run(move || {
                    started.fetch_add(1, Ordering::SeqCst);
                    let _ = gate.lock().unwrap().recv();
                })
                .await
            })
        };
        let first = spawn_blocked(hasher.clone());
        let second = spawn_blocked(hasher.clone());
        while started.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        // One runs, one waits: a third is refused without waiting.
        let t = std::time::Instant::now();
        let third = hasher.run(|| ()).await.unwrap_err();
        assert_eq!(third.code(), ErrorCode::ServerBusy);
        assert!(t.elapsed() < Duration::from_millis(100));
        release.send(()).unwrap();
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        second.await.unwrap().unwrap();
        assert_eq!(started.load(Ordering::SeqCst), 2);
        // Free again.
        hasher.run(|| ()).await.unwrap();
    }

    #[tokio::test]
    async fn a_check_that_waits_too_long_for_a_worker_is_server_busy() {
        let hasher = Arc::new(Hasher::new(1, 4, Duration::from_millis(100)));
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let h = hasher.clone();
        let busy_worker = tokio::spawn(async move {
            h.run(move || {
                let _ = gate.recv();
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let waited = hasher.run(|| ()).await.unwrap_err();
        assert_eq!(waited.code(), ErrorCode::ServerBusy);
        release.send(()).unwrap();
        busy_worker.await.unwrap().unwrap();
    }
}
