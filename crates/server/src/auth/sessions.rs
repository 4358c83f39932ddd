//! Revocable sessions. Every token names its session (`sid`); a session is a
//! row of the store's `sessions` table, and revoking deletes it.
//!
//! A REST request or socket handshake checks the row, cached for at most
//! [`FRESH`]: revoking on this node forgets the cache entry at once, and
//! other nodes' entries are stale within `FRESH`, so a revoked token stops
//! working everywhere within a second without a query per request. Sockets
//! are in the engine room `session:<sid>`; revoking disconnects that room on
//! every node (the engine's fan-out), and each node closes its sockets when
//! their token expires.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use natter_core::Id;

/// How long a checked session is believed without asking the store again.
pub const FRESH: Duration = Duration::from_secs(1);

/// The engine room of every socket of one session.
pub fn session_channel(sid: &str) -> String {
    format!("session:{sid}")
}

#[derive(Default)]
pub struct SessionCache {
    /// sid → (user, when the store last said it is live).
    checked: Mutex<HashMap<String, (Id, Instant)>>,
    /// (exp, sid) of sessions with sockets on this node, soonest first.
    expiries: Mutex<BTreeSet<(u64, String)>>,
}

impl SessionCache {
    pub(crate) fn fresh(&self, sid: &str, user: Id) -> bool {
        self.checked
            .lock()
            .ok()
            .and_then(|m| m.get(sid).copied())
            .is_some_and(|(u, at)| u == user && at.elapsed() < FRESH)
    }

    pub(crate) fn remember(&self, sid: &str, user: Id) {
        if let Ok(mut m) = self.checked.lock() {
            m.insert(sid.to_owned(), (user, Instant::now()));
        }
    }

    pub(crate) fn forget(&self, sid: &str) {
        if let Ok(mut m) = self.checked.lock() {
            m.remove(sid);
        }
    }

    /// Closes this session's sockets on this node at `exp`.
    pub fn expire_at(&self, sid: &str, exp: u64) {
        if let Ok(mut e) = self.expiries.lock() {
            e.insert((exp, sid.to_owned()));
        }
    }

    /// Drops stale cache entries; returns the sessions whose time is up.
    pub(crate) fn sweep(&self, now: u64) -> Vec<String> {
        if let Ok(mut m) = self.checked.lock() {
            m.retain(|_, (_, at)| at.elapsed() < FRESH);
        }
        let Ok(mut e) = self.expiries.lock() else {
            return Vec::new();
        };
        let mut due = Vec::new();
        while let Some(first) = e.first() {
            if first.0 > now {
                break;
            }
            if let Some((_, sid)) = e.pop_first() {
                due.push(sid);
            }
        }
        due
    }
}

/// A new random session id (128 bits, hex).
pub(crate) fn new_sid() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
