//! Who is online. A user is online while any of their sockets is connected;
//! this node counts its own sockets per user (the engine's `user:<id>` room).
//! Last-seen times are kept in memory on the node that saw the disconnect.

use std::collections::HashMap;
use std::sync::Mutex;

use natter_core::Id;
use time::OffsetDateTime;

#[derive(Default)]
pub struct Presence {
    last_seen: Mutex<HashMap<Id, OffsetDateTime>>,
}

impl Presence {
    pub fn went_offline(&self, user: Id, at: OffsetDateTime) {
        if let Ok(mut m) = self.last_seen.lock() {
            m.insert(user, at);
        }
    }

    pub fn last_seen(&self, user: Id) -> Option<OffsetDateTime> {
        self.last_seen
            .lock()
            .ok()
            .and_then(|m| m.get(&user).copied())
    }
}
