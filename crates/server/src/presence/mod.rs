//! Who is online. A user is online while any of their sockets is connected, on
//! any node. One node (no Redis) counts its own sockets in memory; a cluster
//! shares the counts through Redis (`cluster::presence`). `build()` picks one.

pub mod service;

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use natter_core::Id;
use time::OffsetDateTime;

use crate::cluster::presence::RedisPresence;

/// Who is online: the node's one view of presence, local or shared (a test
/// may swap in its own).
#[async_trait]
pub trait Presence: Send + Sync + 'static {
    /// A socket of `user` opened on this node (after `connect` succeeded).
    /// `true` when the user just came online: announce `user:online`.
    async fn connected(&self, user: Id) -> bool;
    /// A socket of `user` closed on this node. `true` when the user just went
    /// offline everywhere (their last-seen time is then `at`).
    async fn disconnected(&self, user: Id, at: OffsetDateTime) -> bool;
    /// Online or not, for each user.
    async fn online(&self, users: &[Id]) -> Vec<bool>;
    /// When each user last went offline, if known.
    async fn last_seen(&self, users: &[Id]) -> Vec<Option<OffsetDateTime>>;
}

/// One node: sockets per user and last-seen times, in memory.
#[derive(Default)]
pub struct LocalPresence {
    sockets: Mutex<HashMap<Id, usize>>,
    last_seen: Mutex<HashMap<Id, OffsetDateTime>>,
}

#[async_trait]
impl Presence for LocalPresence {
    async fn connected(&self, user: Id) -> bool {
        self.sockets
            .lock()
            .map(|mut m| {
                let c = m.entry(user).or_insert(0);
                *c += 1;
                *c == 1
            })
            .unwrap_or(false)
    }

    async fn disconnected(&self, user: Id, at: OffsetDateTime) -> bool {
        let gone = self
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
            if let Ok(mut m) = self.last_seen.lock() {
                m.insert(user, at);
            }
        }
        gone
    }

    async fn online(&self, users: &[Id]) -> Vec<bool> {
        let m = self.sockets.lock().ok();
        users
            .iter()
            .map(|u| m.as_ref().is_some_and(|m| m.contains_key(u)))
            .collect()
    }

    async fn last_seen(&self, users: &[Id]) -> Vec<Option<OffsetDateTime>> {
        let m = self.last_seen.lock().ok();
        users
            .iter()
            .map(|u| m.as_ref().and_then(|m| m.get(u).copied()))
            .collect()
    }
}

/// Many nodes: the counts shared through Redis.
#[async_trait]
impl Presence for RedisPresence {
    async fn connected(&self, user: Id) -> bool {
        RedisPresence::connected(self, user).await
    }

    async fn disconnected(&self, user: Id, at: OffsetDateTime) -> bool {
        RedisPresence::disconnected(self, user, at).await
    }

    async fn online(&self, users: &[Id]) -> Vec<bool> {
        RedisPresence::online(self, users).await
    }

    async fn last_seen(&self, users: &[Id]) -> Vec<Option<OffsetDateTime>> {
        RedisPresence::last_seen(self, users).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_presence_counts_sockets() {
        let p = LocalPresence::default();
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
