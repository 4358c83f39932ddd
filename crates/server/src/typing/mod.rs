//! Typing indicators: relayed to the room's other members, and stopped by the
//! server 6 s after the last `typing:start` if the client never says stop.
//! This holds who is typing where; `service` announces it.

pub mod service;
pub mod socket;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use natter_core::Id;

pub const TYPING_EXPIRY: Duration = Duration::from_secs(6);

/// Who is typing where, with a generation per (user, room) so only the latest
/// start's timer may expire it.
#[derive(Default)]
pub struct Typing {
    active: Mutex<HashMap<(Id, Id), u64>>,
    next: std::sync::atomic::AtomicU64,
}

impl Typing {
    /// `user` types in `room` (again): the generation of this start.
    pub fn begin(&self, user: Id, room: Id) -> u64 {
        let generation = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut m) = self.active.lock() {
            m.insert((user, room), generation);
        }
        generation
    }

    /// Forgets (user, room) if shown — and, with `generation`, only if that
    /// start is still the latest. Returns whether it was shown.
    pub fn clear(&self, user: Id, room: Id, generation: Option<u64>) -> bool {
        let Ok(mut m) = self.active.lock() else {
            return false;
        };
        match (m.get(&(user, room)), generation) {
            (Some(current), Some(g)) if *current != g => false,
            (Some(_), _) => m.remove(&(user, room)).is_some(),
            (None, _) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_latest_start_expires() {
        let t = Typing::default();
        let first = t.begin(Id(1), Id(2));
        let second = t.begin(Id(1), Id(2));
        assert!(!t.clear(Id(1), Id(2), Some(first)), "a stale timer");
        assert!(t.clear(Id(1), Id(2), Some(second)));
        assert!(!t.clear(Id(1), Id(2), None), "already gone");
    }

    #[test]
    fn an_explicit_clear_ends_any_start() {
        let t = Typing::default();
        t.begin(Id(1), Id(2));
        t.begin(Id(3), Id(2));
        assert!(t.clear(Id(1), Id(2), None));
        assert!(
            t.clear(Id(3), Id(2), None),
            "others' indicators stay until cleared"
        );
    }
}
