//! Typing indicators: relayed to the room's other members, and stopped by the
//! server 6 s after the last `typing:start` if the client never says stop.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use natter_core::events::payload::{TypingStart, TypingStop};
use natter_core::events::ServerEvent;
use natter_core::Id;

use crate::app::{room_channel, user_channel, App, AppState, NS};
use crate::auth::Session;

pub const TYPING_EXPIRY: Duration = Duration::from_secs(6);

/// Who is typing where, with a generation per (user, room) so only the latest
/// start's timer may expire it.
#[derive(Default)]
pub struct Typing {
    active: Mutex<HashMap<(Id, Id), u64>>,
    next: std::sync::atomic::AtomicU64,
}

impl Typing {
    pub fn start(&self, app: &AppState, who: &Session, room: Id) {
        let generation = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut m) = self.active.lock() {
            m.insert((who.user_id, room), generation);
        }
        let start = ServerEvent::TypingStart(TypingStart {
            user_id: who.user_id,
            username: who.username.clone(),
            room_id: room,
        });
        others(app, who.user_id, room, start);
        let app = app.clone();
        let user = who.user_id;
        tokio::spawn(async move {
            tokio::time::sleep(TYPING_EXPIRY).await;
            if app.typing.clear(user, room, Some(generation)) {
                announce_stop(&app, user, room);
            }
        });
    }

    /// Stops an indicator: always when the client says so (`explicit`), else
    /// (a send) only if one is shown.
    pub fn stop(&self, app: &App, user: Id, room: Id, explicit: bool) {
        if self.clear(user, room, None) || explicit {
            announce_stop(app, user, room);
        }
    }

    /// Forgets (user, room) if shown — and, with `generation`, only if that
    /// start is still the latest. Returns whether it was shown.
    fn clear(&self, user: Id, room: Id, generation: Option<u64>) -> bool {
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

fn announce_stop(app: &App, user: Id, room: Id) {
    let stop = ServerEvent::TypingStop(TypingStop {
        user_id: user,
        room_id: room,
    });
    others(app, user, room, stop);
}

fn others(app: &App, user: Id, room: Id, event: ServerEvent) {
    let to = app
        .engine
        .to(NS, &room_channel(room))
        .except_room(&user_channel(user));
    app.emit(to, event);
}
