//! Direct messages: the pair's one DM room, found or made, then a normal send.

use crate::app::App;
use crate::auth::tokens::Session;
use crate::messages::service::SendMessage;
use natter_core::events::payload::{Notification, NotificationKind};
use natter_core::events::ServerEvent;
use natter_core::{Id, Result};
use natter_store::Posted;

impl App {
    /// `dm:send`: the pair's one DM room, found or made, then a normal send;
    /// both users get `dm:new`, the recipient a `notification`.
    pub async fn send_dm(
        &self,
        who: &Session,
        recipient: Id,
        content: String,
        client_id: Option<String>,
    ) -> Result<Posted> {
        let room = self.open_dm(who, recipient).await?;
        let posted = self
            .send_message(
                who,
                SendMessage {
                    room_id: room.id,
                    content,
                    reply_to_id: None,
                    kind: None,
                    file_url: None,
                    client_id,
                },
            )
            .await?;
        if posted.created {
            for user in [who.user_id, recipient] {
                self.emit_user(user, ServerEvent::DmNew(posted.message.clone()));
            }
            if self.muted(room.id, &[recipient]).await.is_empty() {
                self.emit_user(
                    recipient,
                    ServerEvent::Notification(Notification {
                        kind: NotificationKind::Dm,
                        room_id: room.id,
                        message: posted.message.clone(),
                    }),
                );
            }
        }
        Ok(posted)
    }
}
