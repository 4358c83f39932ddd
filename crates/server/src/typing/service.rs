//! Typing as a service: `typing:start` to the room's other members, and
//! `typing:stop` when the client says so, sends a message, or goes quiet.

use natter_core::events::payload::{TypingStart, TypingStop};
use natter_core::events::ServerEvent;
use natter_core::Id;

use super::TYPING_EXPIRY;
use crate::app::{room_channel, user_channel, App, AppState, NS};
use crate::auth::tokens::Session;

impl AppState {
    /// Shows `who` typing in `room` until they stop, send, or 6 s pass.
    pub fn typing_started(&self, who: &Session, room: Id) {
        let generation = self.typing.begin(who.user_id, room);
        let start = ServerEvent::TypingStart(TypingStart {
            user_id: who.user_id,
            username: who.username.clone(),
            room_id: room,
        });
        self.to_others(who.user_id, room, start);
        let app = self.clone();
        let user = who.user_id;
        tokio::spawn(async move {
            tokio::time::sleep(TYPING_EXPIRY).await;
            if app.typing.clear(user, room, Some(generation)) {
                app.announce_typing_stop(user, room);
            }
        });
    }
}

impl App {
    /// Stops an indicator: always when the client says so (`explicit`), else
    /// (a send) only if one is shown.
    pub fn typing_stopped(&self, user: Id, room: Id, explicit: bool) {
        if self.typing.clear(user, room, None) || explicit {
            self.announce_typing_stop(user, room);
        }
    }

    fn announce_typing_stop(&self, user: Id, room: Id) {
        let stop = ServerEvent::TypingStop(TypingStop {
            user_id: user,
            room_id: room,
        });
        self.to_others(user, room, stop);
    }

    /// To the room's sockets but the user's own.
    fn to_others(&self, user: Id, room: Id, event: ServerEvent) {
        let to = self
            .engine
            .to(NS, &room_channel(room))
            .except_room(&user_channel(user));
        self.emit(to, event);
    }
}
