//! What instances share through Redis (`PANNIER_REDIS_URL`, optional): the rate-limit counts
//! ([`crate::limits::RedisLimits`]) and the news of every write that retires cached reads
//! ([`Change`], published on one channel and applied by every other process's [`crate::cache`]).
//!
//! Redis is never needed to answer a request: a command that fails or takes longer than
//! [`COMMAND_TIMEOUT`] is logged (at most every few seconds) and the caller goes on without it
//! — rate limits count in this process, caches fall back to their short TTL. The connection
//! is made lazily and again after a failure (at most once a second), so an instance starts
//! while Redis is down and recovers when it is back, without a restart.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::state::Check;

/// How long one command may take before the caller goes on without Redis.
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(250);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// The channel the changes are published on.
const CHANNEL: &str = "pannier:changes";

/// A Redis server shared by the instances.
pub struct Redis {
    client: redis::Client,
    connected: OnceLock<ConnectionManager>,
    connecting: tokio::sync::Mutex<()>,
    last_attempt: Mutex<Option<Instant>>,
    last_complaint: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis").finish_non_exhaustive()
    }
}

impl Redis {
    /// A handle on the server at `url` (nothing is connected yet).
    pub fn open(url: &SecretString) -> Result<Self, redis::RedisError> {
        Ok(Self {
            client: redis::Client::open(url.expose_secret())?,
            connected: OnceLock::new(),
            connecting: tokio::sync::Mutex::new(()),
            last_attempt: Mutex::new(None),
            last_complaint: Mutex::new(None),
        })
    }

    /// The shared connection, connecting first if needed: one attempt at a time, at most one
    /// a second, and after the first nobody waits for one (callers go on without Redis
    /// meanwhile). Once made, the connection reconnects by itself.
    async fn connection(&self) -> Option<ConnectionManager> {
        if let Some(connection) = self.connected.get() {
            return Some(connection.clone());
        }
        // The first attempt is waited for (at most [`CONNECT_TIMEOUT`]), so an instance that
        // just started counts its first requests in Redis too; later ones are not.
        let first =
            self.last_attempt.lock().unwrap_or_else(std::sync::PoisonError::into_inner).is_none();
        let _attempt = if first {
            self.connecting.lock().await
        } else {
            let Ok(attempt) = self.connecting.try_lock() else { return None };
            attempt
        };
        if let Some(connection) = self.connected.get() {
            return Some(connection.clone());
        }
        let recently =
            |last: &Option<Instant>| last.is_some_and(|at| at.elapsed() < Duration::from_secs(1));
        if recently(&self.last_attempt.lock().unwrap_or_else(std::sync::PoisonError::into_inner)) {
            return None;
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(COMMAND_TIMEOUT)
            .set_number_of_retries(0)
            .set_max_delay(1000);
        let made = tokio::time::timeout(
            CONNECT_TIMEOUT,
            self.client.get_connection_manager_with_config(config),
        )
        .await;
        *self.last_attempt.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(Instant::now());
        match made {
            Ok(Ok(made)) => {
                tracing::info!("connected to Redis");
                Some(self.connected.get_or_init(|| made).clone())
            }
            Ok(Err(err)) => {
                self.complain("connect", &err);
                None
            }
            Err(_) => {
                self.complain("connect", &"timed out");
                None
            }
        }
    }

    /// Runs `command`; `None` (logged) when Redis fails or is slow. The caller goes on without.
    pub async fn run<'a, T: redis::FromRedisValue>(
        &self,
        what: &'static str,
        command: impl FnOnce(ConnectionManager) -> redis::RedisFuture<'a, T>,
    ) -> Option<T> {
        let connection = self.connection().await?;
        match tokio::time::timeout(COMMAND_TIMEOUT, command(connection)).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(err)) => {
                self.complain(what, &err);
                None
            }
            Err(_) => {
                self.complain(what, &"timed out");
                None
            }
        }
    }

    /// Logs a failure, at most every 5 s (a dead Redis under load would flood the log), and
    /// counts every one.
    fn complain(&self, what: &'static str, err: &dyn std::fmt::Display) {
        metrics::counter!("pannier_redis_errors_total", "op" => what).increment(1);
        let mut last =
            self.last_complaint.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_none_or(|at| at.elapsed() >= Duration::from_secs(5)) {
            *last = Some(Instant::now());
            tracing::warn!(op = what, error = %err, "Redis unavailable; going on without it");
        }
    }

    /// For `/readyz`: a `PING` answers. Informational — an instance serves without Redis.
    pub async fn check(&self) -> Check {
        let pong = self
            .run("ping", |mut connection| {
                Box::pin(
                    async move { redis::cmd("PING").query_async::<String>(&mut connection).await },
                )
            })
            .await;
        if pong.is_some() { Check::ok() } else { Check::failed("Redis unreachable") }
    }
}

/// A write that retires cached reads, announced to the other processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// Accounts, tokens, sessions by account or settings ([`crate::cache::auth_committed`]).
    Auth,
    /// An owner's files or folders ([`crate::cache::tree_changed`]).
    Tree(Uuid),
    /// Links ([`crate::cache::shares_changed`]).
    Shares,
    /// One session ended ([`crate::cache::forget_session`]).
    Session(String),
}

impl Change {
    fn encode(&self, origin: Uuid) -> String {
        match self {
            Self::Auth => format!("{origin} auth"),
            Self::Tree(owner) => format!("{origin} tree {owner}"),
            Self::Shares => format!("{origin} shares"),
            Self::Session(id) => format!("{origin} session {id}"),
        }
    }

    /// The change and who sent it; `None` for anything else on the channel.
    fn decode(message: &str) -> Option<(Uuid, Self)> {
        let mut words = message.split(' ');
        let origin = Uuid::parse_str(words.next()?).ok()?;
        let change = match (words.next()?, words.next()) {
            ("auth", None) => Self::Auth,
            ("shares", None) => Self::Shares,
            ("tree", Some(owner)) => Self::Tree(Uuid::parse_str(owner).ok()?),
            ("session", Some(id)) if id.len() <= 64 => Self::Session(id.to_owned()),
            _ => return None,
        };
        words.next().is_none().then_some((origin, change))
    }
}

/// This process on the channel: the queue of changes to publish.
struct Bus {
    outbox: mpsc::UnboundedSender<Change>,
}

static BUS: OnceLock<Bus> = OnceLock::new();

/// Tells the other processes about `change` (nothing without Redis). Never waits.
pub(crate) fn announce(change: Change) {
    if let Some(bus) = BUS.get() {
        let _ = bus.outbox.send(change);
    }
}

/// Joins this process to the channel on `redis`: publishes what [`announce`] queues and
/// applies what other processes publish, until the returned tasks are aborted. The caches are
/// process-wide, so the first server of a process joins and later ones (tests) share it.
pub fn join(redis: &std::sync::Arc<Redis>) -> Vec<tokio::task::JoinHandle<()>> {
    let (outbox, inbox) = mpsc::unbounded_channel();
    let origin = Uuid::new_v4();
    if BUS.set(Bus { outbox }).is_err() {
        return Vec::new();
    }
    vec![
        tokio::spawn(publish(std::sync::Arc::clone(redis), inbox, origin)),
        tokio::spawn(listen(std::sync::Arc::clone(redis), origin)),
    ]
}

/// Publishes queued changes, many at once in one pipeline. A change that cannot be published
/// is dropped (logged): the others' caches expire it within [`crate::cache::TTL`].
async fn publish(
    redis: std::sync::Arc<Redis>,
    mut inbox: mpsc::UnboundedReceiver<Change>,
    origin: Uuid,
) {
    let mut batch = Vec::new();
    while inbox.recv_many(&mut batch, 256).await > 0 {
        let mut pipe = redis::pipe();
        for change in batch.drain(..) {
            pipe.publish(CHANNEL, change.encode(origin)).ignore();
        }
        redis
            .run("publish", move |mut connection| {
                Box::pin(async move { pipe.query_async::<()>(&mut connection).await })
            })
            .await;
    }
}

/// Applies the other processes' changes. After any gap (not yet subscribed, connection lost)
/// every cached read is retired, since changes may have been missed.
async fn listen(redis: std::sync::Arc<Redis>, origin: Uuid) {
    loop {
        match tokio::time::timeout(CONNECT_TIMEOUT, redis.client.get_async_pubsub())
            .await
            .unwrap_or_else(|_| Err((redis::ErrorKind::IoError, "timed out").into()))
        {
            Ok(mut pubsub) => match pubsub.subscribe(CHANNEL).await {
                Ok(()) => {
                    // What was cached during the gap may have missed changes.
                    crate::cache::everything_changed();
                    tracing::info!("listening for other instances' changes");
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        let Ok(text) = message.get_payload::<String>() else { continue };
                        match Change::decode(&text) {
                            Some((from, change)) if from != origin => {
                                metrics::counter!("pannier_cluster_changes_total").increment(1);
                                crate::cache::apply(&change);
                            }
                            Some(_) => {}
                            None => tracing::debug!("ignored a message on the changes channel"),
                        }
                    }
                    redis.complain("subscribe", &"connection lost");
                }
                Err(err) => redis.complain("subscribe", &err),
            },
            Err(err) => redis.complain("subscribe", &err),
        }
        // Deaf from now on: stop trusting what is cached at once (and again once subscribed).
        crate::cache::everything_changed();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_round_trip_and_junk_is_ignored() {
        let origin = Uuid::new_v4();
        let owner = Uuid::new_v4();
        for change in
            [Change::Auth, Change::Shares, Change::Tree(owner), Change::Session("abc".into())]
        {
            assert_eq!(Change::decode(&change.encode(origin)), Some((origin, change)));
        }
        for junk in [
            "",
            "x auth",
            &format!("{origin} tree nope"),
            &format!("{origin} auth extra"),
            &format!("{origin} session {}", "a".repeat(65)),
        ] {
            assert_eq!(Change::decode(junk), None, "{junk}");
        }
    }
}
