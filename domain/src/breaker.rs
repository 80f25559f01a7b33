//! Circuit breakers around the dependencies (the database, S3): once one fails or hangs,
//! requests that need it are refused at once — `503` with `Retry-After` and a clear message —
//! instead of each waiting out its timeouts; the breaker closes by itself as soon as the
//! dependency answers again, without a restart.
//!
//! A breaker opens on a failed call (the S3 client's calls, after their retries) or a failed
//! probe (the database is pinged every second by [`watch`]). While open, at most one call per
//! [`COOL_DOWN`] goes through as a trial; a trial or probe that succeeds closes it.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::AppError;

/// How long an open breaker refuses everything before letting one trial call through.
pub const COOL_DOWN: Duration = Duration::from_secs(1);
/// How often [`watch`] probes, and how long a probe may take before it counts as failed.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);
/// What refused clients are told to wait (`Retry-After`).
pub const RETRY_AFTER_SECS: u64 = 2;

/// One dependency's breaker.
#[derive(Debug)]
pub struct Breaker {
    /// The metrics label: `database`, `storage`.
    name: &'static str,
    /// How messages name it: "the database", "storage".
    dependency: &'static str,
    open_until: Mutex<Option<Instant>>,
}

/// A call refused because the breaker is open (an error so it can travel through a client
/// library's error chain and be recognized on the way out).
#[derive(Debug, thiserror::Error)]
#[error("{0} is not answering: its circuit breaker is open")]
pub struct Refused(pub &'static str);

impl Breaker {
    /// A closed breaker for `dependency`, named `name` in the metrics.
    pub fn new(name: &'static str, dependency: &'static str) -> Self {
        let breaker = Self { name, dependency, open_until: Mutex::new(None) };
        breaker.gauge().set(0.0);
        breaker
    }

    fn open_until(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.open_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether calls are being refused.
    pub fn is_open(&self) -> bool {
        self.open_until().is_some()
    }

    /// `closed` or `open`, for `/readyz` and the metrics.
    pub fn state(&self) -> &'static str {
        if self.is_open() { "open" } else { "closed" }
    }

    /// May a call go out now? Closed: yes. Open: no, except one trial per [`COOL_DOWN`].
    pub fn admit(&self) -> Result<(), Refused> {
        let mut open_until = self.open_until();
        match *open_until {
            None => Ok(()),
            Some(until) if Instant::now() >= until => {
                *open_until = Some(Instant::now() + COOL_DOWN);
                Ok(())
            }
            Some(_) => Err(Refused(self.dependency)),
        }
    }

    /// A call or probe succeeded: the dependency answers.
    pub fn succeeded(&self) {
        if self.open_until().take().is_some() {
            self.gauge().set(0.0);
            tracing::info!(
                dependency = self.dependency,
                "dependency answers again: breaker closed"
            );
        }
    }

    /// A call or probe failed because the dependency did not answer.
    pub fn failed(&self) {
        let mut open_until = self.open_until();
        if open_until.is_none() {
            self.gauge().set(1.0);
            tracing::warn!(dependency = self.dependency, "dependency not answering: breaker open");
        }
        *open_until = Some(Instant::now() + COOL_DOWN);
    }

    /// `pannier_breaker_open{dependency}`: 1 while open.
    fn gauge(&self) -> metrics::Gauge {
        metrics::gauge!("pannier_breaker_open", "dependency" => self.name)
    }

    /// The answer to a refused request.
    pub fn refusal(&self) -> AppError {
        unavailable(self.dependency)
    }
}

/// The answer when `dependency` ("storage") does not answer: 503 `unavailable`.
pub fn unavailable(dependency: &str) -> AppError {
    let mut chars = dependency.chars();
    let capitalized: String =
        chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default();
    AppError::Unavailable(format!(
        "{capitalized} is not answering right now. Try again in a few seconds."
    ))
}

/// Probes that must fail in a row to open a breaker: one slow probe may be a busy moment (every
/// pooled connection taken), not an outage.
pub const PROBE_FAILURES_TO_OPEN: u32 = 2;

/// Probes the dependency every [`PROBE_EVERY`] forever (run it beside the server):
/// [`PROBE_FAILURES_TO_OPEN`] probes in a row that fail or take longer than that open the
/// breaker (or keep it open); one that succeeds closes it.
pub async fn watch<F, Fut>(breaker: &Breaker, probe: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let mut every = tokio::time::interval(PROBE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failures = 0;
    loop {
        every.tick().await;
        if let Ok(true) = tokio::time::timeout(PROBE_EVERY, probe()).await {
            failures = 0;
            breaker.succeeded();
        } else {
            failures += 1;
            if failures >= PROBE_FAILURES_TO_OPEN || breaker.is_open() {
                breaker.failed();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_refuses_then_lets_one_trial_through_per_cool_down() {
        let breaker = Breaker::new("storage", "storage");
        assert!(breaker.admit().is_ok());
        breaker.failed();
        assert_eq!(breaker.state(), "open");
        assert!(breaker.admit().is_err());
        std::thread::sleep(COOL_DOWN);
        assert!(breaker.admit().is_ok(), "the trial");
        assert!(breaker.admit().is_err(), "only one trial at a time");
        breaker.succeeded();
        assert_eq!(breaker.state(), "closed");
        assert!(breaker.admit().is_ok());
        assert_eq!(breaker.refusal().status(), 503);
        assert!(breaker.refusal().to_string().starts_with("Storage is not answering"));
    }

    #[tokio::test(start_paused = true)]
    async fn probes_that_hang_twice_in_a_row_open_the_breaker() {
        let breaker = Breaker::new("database", "the database");
        let once = PROBE_EVERY + PROBE_EVERY / 2;
        let once = tokio::time::timeout(once, watch(&breaker, std::future::pending::<bool>));
        assert!(once.await.is_err());
        assert!(!breaker.is_open(), "one slow probe is not an outage");
        let hanging =
            tokio::time::timeout(PROBE_EVERY * 4, watch(&breaker, std::future::pending::<bool>));
        assert!(hanging.await.is_err());
        assert!(breaker.is_open());
        let answering = tokio::time::timeout(PROBE_EVERY * 2, watch(&breaker, || async { true }));
        assert!(answering.await.is_err());
        assert!(!breaker.is_open());
    }
}
