//! This instance's recent traffic, minute by minute over the last hour: requests answered and
//! how many were server errors (5xx), for the admin's status page. Counted in memory with a
//! few atomic adds per request (no lock); a minute's slot is reused an hour later. The
//! Prometheus endpoint (`/metrics`) has the full picture across instances.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Minutes kept.
pub const MINUTES: usize = 60;

struct Slot {
    minute: AtomicI64,
    requests: AtomicU64,
    errors: AtomicU64,
}

static SLOTS: [Slot; MINUTES] = [const {
    Slot { minute: AtomicI64::new(-1), requests: AtomicU64::new(0), errors: AtomicU64::new(0) }
}; MINUTES];

fn minute_now() -> i64 {
    chrono::Utc::now().timestamp().div_euclid(60)
}

fn slot_of(minute: i64) -> &'static Slot {
    let index = usize::try_from(minute.rem_euclid(MINUTES as i64)).unwrap_or(0);
    &SLOTS[index]
}

/// Counts one answered request with HTTP status `status`.
pub fn note(status: u16) {
    let minute = minute_now();
    let slot = slot_of(minute);
    let seen = slot.minute.load(Ordering::Acquire);
    // The first request of a new minute takes the slot over from an hour ago. (A request of
    // the old minute landing in between is counted in the new one: at most a few.)
    if seen != minute
        && slot.minute.compare_exchange(seen, minute, Ordering::AcqRel, Ordering::Acquire).is_ok()
    {
        slot.requests.store(0, Ordering::Release);
        slot.errors.store(0, Ordering::Release);
    }
    slot.requests.fetch_add(1, Ordering::AcqRel);
    if status >= 500 {
        slot.errors.fetch_add(1, Ordering::AcqRel);
    }
}

/// The last [`MINUTES`] minutes, oldest first, the current one last: `(requests, errors)`
/// of each (zero for a minute without any).
pub fn last_hour() -> Vec<(u64, u64)> {
    let now = minute_now();
    (0..MINUTES as i64)
        .rev()
        .map(|ago| {
            let minute = now - ago;
            let slot = slot_of(minute);
            if slot.minute.load(Ordering::Acquire) == minute {
                (slot.requests.load(Ordering::Acquire), slot.errors.load(Ordering::Acquire))
            } else {
                (0, 0)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_minute_counts_requests_and_server_errors() {
        let before = *last_hour().last().unwrap();
        for status in [200, 404, 500, 503, 201] {
            note(status);
        }
        let (requests, errors) = *last_hour().last().unwrap();
        // Other tests of this process may count too; these five are in.
        assert!(requests >= before.0 + 5 && errors >= before.1 + 2, "{requests} {errors}");
        assert_eq!(last_hour().len(), MINUTES);
    }
}
