//! Keeps a room's live events in seq order on this node.
//!
//! Two changes of one room commit in seq order (the room row is locked while
//! a seq is taken), but their tasks may reach the broadcast in either order,
//! and members would then see 64 before 63 and have to `sync`. New messages
//! are broadcast by the room's group-commit writer right after each commit,
//! in commit order (`Store::post_message_then`). Edits, deletes and
//! reactions hold this per-room lock from "take the seq" until "broadcast".
//! Between the two kinds order is best effort: an edit that commits just
//! after a new message of its room could, in principle, be broadcast before
//! the writer broadcast that message (it needs several round trips and a
//! commit after the writer's, so it does not in practice); across nodes
//! order is best effort too. A client that sees a gap syncs.

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
