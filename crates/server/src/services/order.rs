//! Keeps a room's live events in seq order on this node.
//!
//! Two sends into one room commit in seq order (the room row is locked while a
//! seq is taken), but their tasks may reach the broadcast in either order, and
//! members would then see 64 before 63 and have to `sync`. Holding a per-room
//! lock from "take the seq" until "broadcast" makes this node emit in commit
//! order. It costs no throughput the database was not already serialising per
//! room. Across nodes order is best effort: a client that sees a gap syncs.

use tokio::sync::{Mutex, MutexGuard};

use natter_core::Id;

/// Striped so memory does not grow with the number of rooms; two rooms that
/// share a stripe merely take turns.
pub struct RoomLocks {
    stripes: Vec<Mutex<()>>,
}

const STRIPES: usize = 512;

impl Default for RoomLocks {
    fn default() -> Self {
        RoomLocks {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }
}

impl RoomLocks {
    pub async fn lock(&self, room: Id) -> MutexGuard<'_, ()> {
        let i = usize::try_from(room.0.rem_euclid(STRIPES as i64)).unwrap_or(0);
        self.stripes[i].lock().await
    }
}
