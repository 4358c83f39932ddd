//! Namespaces: each has its handler, its sockets, and its room index ([`Rooms`]:
//! room → its members, a room existing only while it has one).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::socket::SocketRef;
use super::worker::DynHandler;
use crate::eio::write;

/// Sockets by id.
pub(super) type Members<T = SocketRef> = HashMap<Arc<str>, T>;

/// The rooms of a namespace: room → members by socket id. Generic so that what
/// it does can be tested without sockets.
pub(super) struct Rooms<T = SocketRef> {
    pub(super) by_room: HashMap<Arc<str>, Members<T>>,
}

impl<T> Default for Rooms<T> {
    fn default() -> Self {
        Rooms {
            by_room: HashMap::new(),
        }
    }
}

impl<T> Rooms<T> {
    /// Adds `member` to `room`; the room's name, shared with its index entry.
    pub(super) fn add(&mut self, room: &str, id: Arc<str>, member: T) -> Arc<str> {
        let key = self
            .by_room
            .get_key_value(room)
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| Arc::from(room));
        self.by_room
            .entry(key.clone())
            .or_default()
            .insert(id, member);
        key
    }

    /// Takes `id` out of `room`, and the room out of the index once empty.
    pub(super) fn remove(&mut self, room: &str, id: &str) {
        if let Some(m) = self.by_room.get_mut(room) {
            m.remove(id);
            if m.is_empty() {
                self.by_room.remove(room);
            }
        }
    }

    /// Members of `room`.
    pub(super) fn count(&self, room: &str) -> usize {
        self.by_room.get(room).map_or(0, HashMap::len)
    }
}

pub(super) struct Namespace {
    pub(super) path: Arc<str>,
    pub(super) connect_timeout: Duration,
    pub(super) max_queued_events: usize,
    pub(super) handler: Arc<dyn DynHandler>,
    pub(super) rooms: RwLock<Rooms>,
    pub(super) sockets: RwLock<Members>,
}

impl Namespace {
    pub(super) fn unindex(&self, room: &str, id: &str) {
        write(&self.rooms).remove(room, id);
    }
}

/// A namespace's path as registered: `"admin"` is `"/admin"`.
pub(super) fn normalize(path: &str) -> String {
    if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_start_with_a_slash() {
        assert_eq!(normalize("/"), "/");
        assert_eq!(normalize("/admin"), "/admin");
        assert_eq!(normalize("admin"), "/admin");
        assert_eq!(normalize(""), "/");
    }

    #[test]
    fn rooms_exist_while_they_have_members() {
        let mut r: Rooms<u8> = Rooms::default();
        let a = r.add("room", Arc::from("s1"), 1);
        let b = r.add("room", Arc::from("s2"), 2);
        assert!(Arc::ptr_eq(&a, &b), "one name per room");
        assert_eq!(r.count("room"), 2);
        r.add("room", Arc::from("s1"), 1);
        assert_eq!(r.count("room"), 2, "a member once");
        r.remove("room", "s1");
        r.remove("room", "nobody");
        r.remove("nowhere", "s2");
        assert_eq!(r.count("room"), 1);
        r.remove("room", "s2");
        assert_eq!(r.count("room"), 0);
        assert!(r.by_room.is_empty());
    }
}
