//! Read cursors: moving the caller's cursor, the `message:read` receipt and
//! the caller's new counts.

use crate::app::App;
use crate::auth::tokens::Session;
use natter_core::events::payload::MessageRead;
use natter_core::events::ServerEvent;
use natter_core::{Id, Result};

impl App {
    /// Move the caller's read cursor to this message (never backwards).
    pub async fn mark_read(&self, who: &Session, id: Id) -> Result<MessageRead> {
        self.limits.user(crate::limits::Action::Read, who.user_id)?;
        let (m, _) = self.visible_message(who, id).await?;
        let receipt = MessageRead {
            message_id: id,
            room_id: m.room_id,
            user_id: who.user_id,
            seq: m.seq,
        };
        if self.store.mark_read(m.room_id, who.user_id, m.seq).await? {
            self.emit_room(m.room_id, ServerEvent::MessageRead(receipt.clone()));
            let counts = self.store.unread(m.room_id, who.user_id).await?;
            self.emit_user(who.user_id, ServerEvent::UnreadUpdate(counts));
        }
        Ok(receipt)
    }
}
