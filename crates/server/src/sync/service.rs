//! Catch-up: every change of the caller's rooms after the seq they last applied.

use std::collections::BTreeMap;

use natter_core::{Error, Id, Result, RoomEvent};

use natter_store::Catchup;

use crate::app::App;
use crate::auth::tokens::Session;

/// More changes than this behind: the room is `reset` (reload its newest page).
pub const MAX_CATCHUP: u32 = 500;
/// Rooms in one `sync` call.
pub const MAX_SYNC_ROOMS: usize = 1_000;
/// Bytes of events (as JSON) in one `sync` answer, well under the engine's
/// 4 MiB outbound limit: a room whose events would go past it is `reset`
/// instead (the client reloads its newest page), so an answer never drops the
/// client. The rooms are taken in id order; a later smaller room may still fit.
pub const MAX_SYNC_BYTES: usize = 1024 * 1024;

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
        let mut bytes = 0usize;
        for (room, last_seq) in rooms {
            if last_seq < 0 {
                return Err(Error::invalid("rooms: a lastSeq must be 0 or more"));
            }
            if self.store.role_of(room, who.user_id).await?.is_none() {
                out.reset.push(room);
                continue;
            }
            match self.store.events_after(room, last_seq, MAX_CATCHUP).await? {
                Catchup::Events(events) => {
                    let size = json_size(&events);
                    if bytes.saturating_add(size) > MAX_SYNC_BYTES {
                        out.reset.push(room);
                    } else {
                        bytes += size;
                        out.events.extend(events);
                    }
                }
                Catchup::Reset => out.reset.push(room),
            }
        }
        Ok(out)
    }
}

/// Bytes `v` takes as JSON (an estimate only if it cannot be serialised).
fn json_size<T: serde::Serialize>(v: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    match serde_json::to_writer(&mut c, v) {
        Ok(()) => c.0,
        Err(_) => usize::MAX,
    }
}
