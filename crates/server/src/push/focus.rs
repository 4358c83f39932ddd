//! Which room each socket is looking at right now (the `focus` event), so a
//! user reading a room is not pushed its messages.
//!
//! A focus lasts until the socket sends another one (`null` = nothing
//! focused), disconnects, or [`FOCUS_TTL`] passes without the client sending
//! it again (the web app re-sends it every 60 s while the room stays visible
//! and focused), so a node that dies cannot leave a user "looking" forever.
//!
//! One node keeps it in memory. In a cluster every node also writes it to
//! Redis, one hash per user (`focus:<user>`: socket id → `room:ms`), because
//! the node that stores a message (and so sends its push) may not be the one
//! holding the reader's socket. When Redis cannot answer, the user counts as
//! not looking: a push too many beats a missed one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fred::prelude::*;
use natter_core::Id;

use crate::cluster::{Cluster, COMMAND_TIMEOUT};

/// How long a focus holds without being sent again.
pub const FOCUS_TTL: Duration = Duration::from_secs(120);

/// socket id → (room, when the focus was sent)
type Sockets = HashMap<String, (Id, Instant)>;

#[derive(Default)]
pub struct Focus {
    local: Mutex<HashMap<Id, Sockets>>,
    cluster: Option<Arc<Cluster>>,
}

fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}

impl Focus {
    pub fn new(cluster: Option<Arc<Cluster>>) -> Self {
        Focus {
            local: Mutex::default(),
            cluster,
        }
    }

    /// `socket` of `user` now looks at `room` (or at nothing).
    pub async fn set(&self, user: Id, socket: &str, room: Option<Id>) {
        {
            let mut local = self.local.lock().unwrap_or_else(|e| e.into_inner());
            let sockets = local.entry(user).or_default();
            match room {
                Some(r) => {
                    sockets.insert(socket.to_owned(), (r, Instant::now()));
                }
                None => {
                    sockets.remove(socket);
                }
            }
            if sockets.is_empty() {
                local.remove(&user);
            }
        }
        let Some(c) = &self.cluster else { return };
        let key = c.key(&format!("focus:{user}"));
        let write = async {
            match room {
                Some(r) => {
                    let value = format!("{r}:{}", now_ms());
                    c.client()
                        .hset::<(), _, _>(&key, (socket, value.as_str()))
                        .await?;
                    let ttl = i64::try_from(FOCUS_TTL.as_millis()).unwrap_or(i64::MAX);
                    c.client().pexpire::<(), _>(&key, ttl, None).await
                }
                None => c.client().hdel::<(), _, _>(&key, socket).await,
            }
        };
        match tokio::time::timeout(COMMAND_TIMEOUT, write).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::debug!(error = %e, "focus: Redis write failed"),
            Err(_) => tracing::debug!("focus: Redis write timed out"),
        }
    }

    /// The socket is gone.
    pub async fn forget(&self, user: Id, socket: &str) {
        self.set(user, socket, None).await;
    }

    /// Whether any socket of `user` (on any node) looks at `room` now.
    pub async fn is_looking(&self, user: Id, room: Id) -> bool {
        {
            let local = self.local.lock().unwrap_or_else(|e| e.into_inner());
            let here = local.get(&user).is_some_and(|sockets| {
                sockets
                    .values()
                    .any(|(r, at)| *r == room && at.elapsed() < FOCUS_TTL)
            });
            if here {
                return true;
            }
        }
        let Some(c) = &self.cluster else { return false };
        let key = c.key(&format!("focus:{user}"));
        let read = c.client().hvals::<Vec<String>, _>(&key);
        let Ok(Ok(values)) = tokio::time::timeout(COMMAND_TIMEOUT, read).await else {
            return false;
        };
        let fresh_after = now_ms() - i64::try_from(FOCUS_TTL.as_millis()).unwrap_or(i64::MAX);
        values.iter().any(|v| {
            v.split_once(':').is_some_and(|(r, at)| {
                r == room.to_string() && at.parse::<i64>().is_ok_and(|at| at > fresh_after)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn focus_follows_the_last_event_of_each_socket() {
        let f = Focus::default();
        let (u, r1, r2) = (Id(1), Id(10), Id(20));
        assert!(!f.is_looking(u, r1).await);
        f.set(u, "a", Some(r1)).await;
        assert!(f.is_looking(u, r1).await);
        assert!(!f.is_looking(Id(2), r1).await, "only that user");
        f.set(u, "b", Some(r2)).await;
        f.set(u, "a", Some(r2)).await;
        assert!(!f.is_looking(u, r1).await);
        assert!(f.is_looking(u, r2).await);
        f.set(u, "a", None).await;
        assert!(f.is_looking(u, r2).await, "socket b still looks");
        f.forget(u, "b").await;
        assert!(!f.is_looking(u, r2).await);
    }
}
