//! Rate limits: named budgets per client address, account or link, counted with GCRA (the
//! `governor` crate). A check *reserves* a unit before the work it guards (a password check
//! runs only after its attempt was counted), so a parallel burst cannot slip past a budget.
//!
//! The counts live in this process ([`LocalLimits`]) or, with `PANNIER_REDIS_URL`, in Redis
//! ([`RedisLimits`]: one count shared by every instance, taken atomically by a script). If
//! Redis fails, the check counts in this process instead (logged): a limit never refuses
//! because Redis is down, and never disappears either. Every budget is a configuration key;
//! `0` turns it off.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::AppError;
use crate::cluster::Redis;
use crate::config::Config;

/// What a budget limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Budget {
    /// Sign-in attempts per account.
    SignInAccount,
    /// Sign-in attempts per client address.
    SignInAddress,
    /// Sign-ups per client address.
    SignUp,
    /// Password attempts per link and client address.
    Unlock,
    /// Uploads started (files, tus creations) per account or address.
    Uploads,
    /// File and zip downloads per account or address.
    Downloads,
    /// Every request per account or address.
    Requests,
}

impl Budget {
    /// The name in `RateLimit`/`RateLimit-Policy` headers and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Self::SignInAccount => "sign-in-account",
            Self::SignInAddress => "sign-in",
            Self::SignUp => "sign-up",
            Self::Unlock => "unlock",
            Self::Uploads => "uploads",
            Self::Downloads => "downloads",
            Self::Requests => "requests",
        }
    }

    /// What the person is told when it runs out.
    fn message(self) -> &'static str {
        match self {
            Self::SignInAccount | Self::SignInAddress => "Too many sign-in attempts.",
            Self::SignUp => "Too many accounts were made from your address.",
            Self::Unlock => "Too many wrong passwords.",
            Self::Uploads => "Too many uploads at once.",
            Self::Downloads => "Too many downloads at once.",
            Self::Requests => "Too many requests.",
        }
    }
}

/// A budget's size: `burst` units at once, refilled evenly over `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Units per window (and at most this many at once).
    pub burst: NonZeroU32,
    /// The window.
    pub window: Duration,
}

/// One check's answer, for the `RateLimit` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The budget checked.
    pub budget: Budget,
    /// Its policy.
    pub policy: Policy,
    /// Units left now.
    pub remaining: u32,
    /// Until the next unit is available (zero when some are left).
    pub reset: Duration,
}

impl Decision {
    /// `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers): `"name";q=10;w=900`.
    pub fn policy_header(&self) -> String {
        format!(
            "\"{}\";q={};w={}",
            self.budget.name(),
            self.policy.burst,
            self.policy.window.as_secs()
        )
    }

    /// `RateLimit`: `"name";r=3;t=12` (units remaining, seconds until the next one).
    pub fn limit_header(&self) -> String {
        format!("\"{}\";r={};t={}", self.budget.name(), self.remaining, seconds(self.reset))
    }
}

fn seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// Where counts live. Implementations are atomic per key: two checks at once never both get
/// the last unit.
#[async_trait::async_trait]
pub trait LimitStore: Send + Sync + fmt::Debug {
    /// Takes one unit of `budget` for `key`: `Ok` with what is left, `Err` with how long until
    /// one is available.
    async fn take(&self, budget: Budget, policy: Policy, key: &str) -> Result<u32, Duration>;

    /// Forgets keys idle long enough to be full again (bounds memory).
    fn forget_idle(&self);
}

type Keyed =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// Counts in this process: one keyed GCRA limiter per budget that is on, made at start.
#[derive(Debug)]
pub struct LocalLimits {
    limiters: HashMap<Budget, Keyed>,
}

impl LocalLimits {
    /// A limiter for each of `policies`.
    pub fn new(policies: &HashMap<Budget, Policy>) -> Self {
        let limiters = policies
            .iter()
            .map(|(&budget, policy)| {
                let period = policy.window / policy.burst.get();
                let quota = Quota::with_period(period.max(Duration::from_nanos(1))).map_or_else(
                    || Quota::per_second(policy.burst),
                    |quota| quota.allow_burst(policy.burst),
                );
                let limiter =
                    RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>();
                (budget, limiter)
            })
            .collect();
        Self { limiters }
    }
}

impl LocalLimits {
    fn take_here(&self, budget: Budget, key: &str) -> Result<u32, Duration> {
        let Some(limiter) = self.limiters.get(&budget) else { return Ok(u32::MAX) };
        match limiter.check_key(&key.to_owned()) {
            Ok(snapshot) => Ok(snapshot.remaining_burst_capacity()),
            Err(not_until) => Err(not_until.wait_time_from(DefaultClock::default().now())),
        }
    }
}

#[async_trait::async_trait]
impl LimitStore for LocalLimits {
    async fn take(&self, budget: Budget, _policy: Policy, key: &str) -> Result<u32, Duration> {
        self.take_here(budget, key)
    }

    fn forget_idle(&self) {
        for limiter in self.limiters.values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// GCRA in one Redis script, on Redis's clock: the key holds the "theoretical arrival time"
/// of the next unit (ms) and expires when the budget is full again. Returns `{1, remaining}`
/// or `{0, wait_ms}`.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
local allow_at = next_tat - burst * interval
if allow_at > now then
  return {0, allow_at - now}
end
redis.call('SET', KEYS[1], next_tat, 'PX', math.max(1, next_tat - now))
return {1, math.floor((now - allow_at) / interval)}
";

/// Counts shared by every instance through Redis; this process's counts when Redis fails.
#[derive(Debug)]
pub struct RedisLimits {
    redis: Arc<Redis>,
    script: redis::Script,
    fallback: LocalLimits,
}

impl RedisLimits {
    /// Counts for `policies` in `redis`.
    pub fn new(redis: Arc<Redis>, policies: &HashMap<Budget, Policy>) -> Self {
        Self { redis, script: redis::Script::new(GCRA), fallback: LocalLimits::new(policies) }
    }
}

#[async_trait::async_trait]
impl LimitStore for RedisLimits {
    async fn take(&self, budget: Budget, policy: Policy, key: &str) -> Result<u32, Duration> {
        // Keys are hashed: an e-mail or an address never shows in Redis, and lengths are fixed.
        let shared = format!("pannier:rl:{}:{}", budget.name(), crate::auth::sha256_hex(key));
        let interval = (policy.window.as_millis() / u128::from(policy.burst.get())).max(1);
        let mut invocation = self.script.key(shared);
        invocation.arg(u64::try_from(interval).unwrap_or(u64::MAX)).arg(policy.burst.get());
        let answer = self
            .redis
            .run("rate limit", move |mut connection| {
                Box::pin(async move { invocation.invoke_async::<(u8, u64)>(&mut connection).await })
            })
            .await;
        match answer {
            Some((1, remaining)) => Ok(u32::try_from(remaining).unwrap_or(u32::MAX)),
            Some((_, wait_ms)) => Err(Duration::from_millis(wait_ms)),
            None => self.fallback.take_here(budget, key),
        }
    }

    fn forget_idle(&self) {
        self.fallback.forget_idle();
    }
}

/// The budgets of this instance and where their counts live.
#[derive(Debug, Clone)]
pub struct Limits {
    policies: HashMap<Budget, Policy>,
    store: Arc<dyn LimitStore>,
}

impl Limits {
    /// The budgets the configuration sets, counted in `redis` if given, else in this process.
    pub fn from_config(config: &Config, redis: Option<&Arc<Redis>>) -> Self {
        const MINUTE: Duration = Duration::from_secs(60);
        const QUARTER: Duration = Duration::from_secs(15 * 60);
        const HOUR: Duration = Duration::from_secs(3600);
        let budgets = [
            (Budget::SignInAccount, config.rate_sign_ins, QUARTER),
            (Budget::SignInAddress, config.rate_sign_ins.saturating_mul(2), QUARTER),
            (Budget::SignUp, config.rate_sign_ups, HOUR),
            (Budget::Unlock, config.rate_unlocks, QUARTER),
            (Budget::Uploads, config.rate_uploads, MINUTE),
            (Budget::Downloads, config.rate_downloads, MINUTE),
            (Budget::Requests, config.rate_requests, MINUTE),
        ];
        let policies = budgets
            .into_iter()
            .filter_map(|(budget, burst, window)| {
                NonZeroU32::new(burst).map(|burst| (budget, Policy { burst, window }))
            })
            .collect();
        let store: Arc<dyn LimitStore> = match redis {
            Some(redis) => Arc::new(RedisLimits::new(Arc::clone(redis), &policies)),
            None => Arc::new(LocalLimits::new(&policies)),
        };
        Self { policies, store }
    }

    /// Takes one unit of `budget` for `key` (an address from [`address_key`], an account id, a
    /// link and address): what is left, or 429 `rate_limited` with `Retry-After`. A budget
    /// that is off always allows.
    pub async fn take(&self, budget: Budget, key: &str) -> Result<Option<Decision>, AppError> {
        let Some(&policy) = self.policies.get(&budget) else { return Ok(None) };
        match self.store.take(budget, policy, key).await {
            Ok(remaining) => {
                Ok(Some(Decision { budget, policy, remaining, reset: Duration::ZERO }))
            }
            Err(wait) => {
                let retry_after_secs = seconds(wait).max(1);
                let when = if retry_after_secs < 120 {
                    format!("{retry_after_secs} seconds")
                } else {
                    format!("{} minutes", retry_after_secs.div_ceil(60))
                };
                tracing::info!(budget = budget.name(), "rate limited");
                metrics::counter!("pannier_rate_limited_total", "budget" => budget.name())
                    .increment(1);
                Err(AppError::TooManyRequests {
                    message: format!("{} Try again in {when}.", budget.message()),
                    retry_after_secs,
                })
            }
        }
    }

    /// The policy of `budget`, if it is on.
    pub fn policy(&self, budget: Budget) -> Option<Policy> {
        self.policies.get(&budget).copied()
    }

    /// Forgets idle keys (call every minute or so).
    pub fn forget_idle(&self) {
        self.store.forget_idle();
    }
}

/// The key for a client address: IPv4 as is, IPv6 by its /64 (one subscriber usually holds a
/// whole /64, and would otherwise get a fresh budget per address). No address → one shared key.
pub fn address_key(ip: Option<&str>) -> String {
    match ip.and_then(|ip| ip.parse::<IpAddr>().ok()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        None => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_sign_ins(sign_ins: u32) -> Limits {
        Limits::from_config(&Config { rate_sign_ins: sign_ins, ..Config::default() }, None)
    }

    async fn spend_three_of_three(limits: &Limits, key: &str) {
        for left in [2, 1, 0] {
            let decision = limits.take(Budget::SignInAccount, key).await.unwrap().unwrap();
            assert_eq!(decision.remaining, left);
        }
        let Err(AppError::TooManyRequests { retry_after_secs, message }) =
            limits.take(Budget::SignInAccount, key).await
        else {
            panic!("the fourth attempt is refused");
        };
        assert!((1..=300).contains(&retry_after_secs), "{retry_after_secs}");
        assert!(message.contains("Try again in"), "{message}");
    }

    #[tokio::test]
    async fn a_budget_allows_its_burst_then_says_when_to_come_back() {
        let limits = with_sign_ins(3);
        spend_three_of_three(&limits, "ada").await;
        assert!(limits.take(Budget::SignInAccount, "bob").await.is_ok(), "keys are separate");
        let off = with_sign_ins(0);
        assert!(off.take(Budget::SignInAccount, "ada").await.unwrap().is_none(), "0 is off");
    }

    /// How many of 64 simultaneous takes of a 5-unit budget, spread over `instances`, pass.
    async fn allowed_of_64(instances: &[Limits], key: &str) -> usize {
        let takes = (0..64).map(|i| {
            let limits = instances[i % instances.len()].clone();
            let key = key.to_owned();
            tokio::spawn(async move { limits.take(Budget::SignInAccount, &key).await.is_ok() })
        });
        futures_util::future::join_all(takes)
            .await
            .into_iter()
            .filter(|ok| matches!(ok, Ok(true)))
            .count()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn parallel_takes_never_share_the_last_unit() {
        assert_eq!(allowed_of_64(&[with_sign_ins(5)], "ada").await, 5);
    }

    fn with_redis(url: &str, sign_ins: u32) -> Limits {
        let redis = Arc::new(Redis::open(&url.to_owned().into()).unwrap());
        Limits::from_config(&Config { rate_sign_ins: sign_ins, ..Config::default() }, Some(&redis))
    }

    /// Two instances on one Redis share one count: 5 units in all, not 5 each.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn instances_sharing_redis_share_one_budget() {
        let Ok(url) = std::env::var("TEST_REDIS_URL") else {
            eprintln!("TEST_REDIS_URL not set: skipped (scripts/with-services.sh sets it)");
            return;
        };
        let key = uuid::Uuid::new_v4().to_string();
        let (a, b) = (with_redis(&url, 5), with_redis(&url, 5));
        assert_eq!(allowed_of_64(&[a.clone(), b.clone()], &key).await, 5);
        let other = uuid::Uuid::new_v4().to_string();
        spend_three_of_three(&with_redis(&url, 3), &other).await;
    }

    /// Redis down: the check neither fails nor refuses — it counts in this process.
    #[tokio::test]
    async fn without_redis_the_count_is_kept_here() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("redis://{}", closed.local_addr().unwrap());
        drop(closed);
        let started = std::time::Instant::now();
        spend_three_of_three(&with_redis(&url, 3), "ada").await;
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }

    #[test]
    fn addresses_are_keyed_by_host_or_ipv6_subnet() {
        assert_eq!(address_key(Some("203.0.113.9")), "203.0.113.9");
        assert_eq!(address_key(Some("::ffff:203.0.113.9")), "203.0.113.9");
        assert_eq!(address_key(Some("2001:db8:1:2:3:4:5:6")), "2001:db8:1:2::/64");
        assert_eq!(address_key(Some("2001:db8:1:2:ffff::1")), "2001:db8:1:2::/64");
        assert_eq!(address_key(None), "unknown");
    }
}
