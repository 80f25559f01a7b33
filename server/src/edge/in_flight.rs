//! Requests in progress per key (a client address, an account), each key below a maximum:
//! the connection cap per address (`serve`) and the uploads and zips per client (`limits`).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

/// Counts per key; a key with none is forgotten (memory stays bounded by what is in progress).
#[derive(Debug, Clone)]
pub struct InFlight<K> {
    max: usize,
    counts: Arc<Mutex<HashMap<K, usize>>>,
}

/// The key has the most it may have in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// One request (or connection) in progress for a key; dropping it frees its place.
pub struct Slot<K: Hash + Eq + Clone> {
    counts: InFlight<K>,
    key: K,
}

impl<K: Hash + Eq + Clone> InFlight<K> {
    /// At most `max` per key; 0: no cap.
    pub fn new(max: usize) -> Self {
        Self { max, counts: Arc::default() }
    }

    /// The cap.
    pub fn max(&self) -> usize {
        self.max
    }

    /// A place for one more under `key` (`None`: no cap, nothing counted), unless it has the
    /// most already.
    pub fn enter(&self, key: K) -> Result<Option<Slot<K>>, Full> {
        if self.max == 0 {
            return Ok(None);
        }
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(key.clone()).or_insert(0);
        if *count >= self.max {
            return Err(Full);
        }
        *count += 1;
        Ok(Some(Slot { counts: self.clone(), key }))
    }
}

impl<K: Hash + Eq + Clone> Drop for Slot<K> {
    fn drop(&mut self) {
        let mut counts = self.counts.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_holds_at_most_max_and_a_dropped_slot_frees_its_place() {
        let counts = InFlight::new(2);
        let first = counts.enter("a").unwrap();
        let _second = counts.enter("a").unwrap();
        assert!(counts.enter("a").is_err());
        assert!(counts.enter("b").is_ok(), "keys are counted apart");
        drop(first);
        assert!(counts.enter("a").is_ok());
        assert!(InFlight::new(0).enter("a").unwrap().is_none(), "0 is no cap");
    }
}
