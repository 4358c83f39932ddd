//! Who is online. A user is online while any of their sockets is connected, on
//! any node. One node (no Redis) counts its own sockets in memory; a cluster
//! shares the counts through Redis (`cluster::presence`). `build()` picks one.

pub mod service;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use natter_core::Id;
use time::OffsetDateTime;

use crate::cluster::presence::RedisPresence;

pub enum Presence {
    /// One node: everything in this process.
    Local(LocalPresence),
    /// Many nodes: shared through Redis.
    Redis(Arc<RedisPresence>),
}

impl Default for Presence {
    fn default() -> Self {
        Presence::Local(LocalPresence::default())
    }
}

/// Sockets per user and last-seen times, in memory.
#[derive(Default)]
pub struct LocalPresence {
    sockets: Mutex<HashMap<Id, usize>>,
    last_seen: Mutex<HashMap<Id, OffsetDateTime>>,
}

impl Presence {
    /// A socket of `user` opened on this node (after `connect` succeeded).
    /// `true` when the user just came online: announce `user:online`.
    pub async fn connected(&self, user: Id) -> bool {
        match self {
            Presence::Local(p) => p
                .sockets
                .lock()
                .map(|mut m| {
                    let c = m.entry(user).or_insert(0);
                    *c += 1;
                    *c == 1
                })
                .unwrap_or(false),
            Presence::Redis(p) => p.connected(user).await,
        }
    }

    /// A socket of `user` closed on this node. `true` when the user just went
    /// offline everywhere (their last-seen time is then `at`).
    pub async fn disconnected(&self, user: Id, at: OffsetDateTime) -> bool {
        match self {
            Presence::Local(p) => {
                let gone = p
                    .sockets
                    .lock()
                    .map(|mut m| match m.get_mut(&user) {
                        Some(c) if *c > 1 => {
                            *c -= 1;
                            false
                        }
                        Some(_) => {
                            m.remove(&user);
                            true
                        }
                        None => true,
                    })
                    .unwrap_or(false);
                if gone {
                    if let Ok(mut m) = p.last_seen.lock() {
                        m.insert(user, at);
                    }
                }
                gone
            }
            Presence::Redis(p) => p.disconnected(user, at).await,
        }
    }

    /// Online or not, for each user.
    pub async fn online(&self, users: &[Id]) -> Vec<bool> {
        match self {
            Presence::Local(p) => {
                let m = p.sockets.lock().ok();
                users
                    .iter()
                    .map(|u| m.as_ref().is_some_and(|m| m.contains_key(u)))
                    .collect()
            }
            Presence::Redis(p) => p.online(users).await,
        }
    }

    /// When each user last went offline, if known.
    pub async fn last_seen(&self, users: &[Id]) -> Vec<Option<OffsetDateTime>> {
        match self {
            Presence::Local(p) => {
                let m = p.last_seen.lock().ok();
                users
                    .iter()
                    .map(|u| m.as_ref().and_then(|m| m.get(u).copied()))
                    .collect()
            }
            Presence::Redis(p) => p.last_seen(users).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_presence_counts_sockets() {
        let p = Presence::default();
        let (a, b) = (Id(1), Id(2));
        assert!(p.connected(a).await);
        assert!(!p.connected(a).await);
        assert_eq!(p.online(&[a, b]).await, vec![true, false]);
        let at = OffsetDateTime::now_utc();
        assert!(!p.disconnected(a, at).await);
        assert_eq!(p.last_seen(&[a]).await, vec![None]);
        assert!(p.disconnected(a, at).await);
        assert_eq!(p.online(&[a]).await, vec![false]);
        assert_eq!(p.last_seen(&[a, b]).await, vec![Some(at), None]);
    }
}
