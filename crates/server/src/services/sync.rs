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
    /// A room the caller is not (or no longer) a member of, or that does not
    /// exist, comes back in `reset` with no events: the client's copy of it is
    /// stale, and reloading it tells the client why (`forbidden`/`not_found`).
    /// One such room never blocks the catch-up of the others.
    pub async fn sync(&self, who: &Session, rooms: BTreeMap<Id, i64>) -> Result<Synced> {
        self.limits.user(crate::limits::Action::Sync, who.user_id)?;
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
            if self.store.role_of(room, who.user_id).await?.is_none() {
                out.reset.push(room);
                continue;
            }
            match self.store.events_after(room, last_seq, MAX_CATCHUP).await? {
                Catchup::Events(events) => out.events.extend(events),
                Catchup::Reset => out.reset.push(room),
            }
        }
        Ok(out)
    }
}
