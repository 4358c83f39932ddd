//! Catch-up: every change of the caller's rooms after the seq they last applied.

use std::collections::BTreeMap;

use natter_core::{Error, Id, Result, RoomEvent};
use natter_store::Catchup;

use crate::app::App;
use crate::auth::Session;

/// More changes than this behind: the room is `reset` (reload its newest page).
pub const MAX_CATCHUP: u32 = 500;
/// Rooms in one `sync` call.
pub const MAX_SYNC_ROOMS: usize = 1_000;

#[derive(Debug, Default)]
pub struct Synced {
    pub events: Vec<RoomEvent>,
    pub reset: Vec<Id>,
}

impl App {
    /// Rooms the caller is not a member of are refused as a whole call
    /// (`forbidden`), so a client never believes it is caught up when it is not.
    pub async fn sync(&self, who: &Session, rooms: BTreeMap<Id, i64>) -> Result<Synced> {
        if rooms.len() > MAX_SYNC_ROOMS {
            return Err(Error::invalid(format!(
                "rooms: at most {MAX_SYNC_ROOMS} rooms per sync"
            )));
        }
        let mut out = Synced::default();
        for (room, last_seq) in rooms {
            if last_seq < 0 {
                return Err(Error::invalid("rooms: a lastSeq must be 0 or more"));
            }
            self.require_member(room, who.user_id).await?;
            match self.store.events_after(room, last_seq, MAX_CATCHUP).await? {
                Catchup::Events(events) => out.events.extend(events),
                Catchup::Reset => out.reset.push(room),
            }
        }
        Ok(out)
    }
}
