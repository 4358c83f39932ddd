//! Presence as a service: announcing `user:offline` to a user's rooms.

use natter_core::events::payload::UserOffline;
use natter_core::events::ServerEvent;
use natter_core::Id;
use time::OffsetDateTime;

use crate::app::{room_channel, user_channel, App, NS};

impl App {
    /// `user:offline` to everyone sharing a room with `user` (not to the user).
    /// `username` is looked up when not given (a dead node's users).
    pub async fn announce_offline(&self, user: Id, username: Option<String>, at: OffsetDateTime) {
        let username = match username {
            Some(u) => u,
            None => match self.store.user(user).await {
                Ok(Some(u)) => u.username,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "presence: could not load a user");
                    return;
                }
            },
        };
        match self.store.room_ids_of(user).await {
            Ok(rooms) => {
                if let Some(to) = self.rooms_of_user_except_self(user, &rooms) {
                    let offline = UserOffline {
                        user_id: user,
                        username,
                        last_seen: at,
                    };
                    self.emit(to, ServerEvent::UserOffline(offline));
                }
            }
            Err(e) => tracing::warn!(error = %e, "presence: could not list rooms"),
        }
    }
}

impl App {
    /// A broadcast to every room of a user (each socket once), minus their own sockets.
    pub fn rooms_of_user_except_self(
        &self,
        user: Id,
        rooms: &[Id],
    ) -> Option<natter_realtime::Broadcast> {
        let (first, rest) = rooms.split_first()?;
        let mut to = self.engine.to(NS, &room_channel(*first));
        for r in rest {
            to = to.to(&room_channel(*r));
        }
        Some(to.except_room(&user_channel(user)))
    }
}
