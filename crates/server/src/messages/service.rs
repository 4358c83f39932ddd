//! Sending, editing, deleting, reacting to and reading messages.

use natter_core::events::payload::{
    MessageChange, MessageDeleted, MessageReactions, Notification, NotificationKind,
};
use natter_core::events::ServerEvent;
use natter_core::{
    mentions, perms, validate, Error, Id, Message, MessageType, Result, UnreadCounts,
};
use natter_store::{NewMessage, Posted};

use crate::app::{room_channel, user_channel, App, NS};
use crate::auth::tokens::Session;

/// A message as a client sends it (REST body, `message:send`, `dm:send`).
#[derive(Debug, Clone)]
pub struct SendMessage {
    pub room_id: Id,
    pub content: String,
    pub reply_to_id: Option<Id>,
    pub kind: Option<MessageType>,
    pub file_url: Option<String>,
    pub client_id: Option<String>,
}

/// `message:new` to the room and, since sending moved the sender's cursor
/// to this message (the room's newest at commit), zero counts to the
/// sender's devices: no query needed. Run by the room's writer in commit
/// order, so the counts reach the sender before any later `message:new`.
fn broadcast_new(engine: &natter_realtime::Engine, m: &Message) {
    let change = MessageChange {
        message: m.clone(),
        event_seq: m.seq,
    };
    crate::app::emit_to(
        engine.to(NS, &room_channel(m.room_id)),
        ServerEvent::MessageNew(change),
    );
    let counts = UnreadCounts {
        room_id: m.room_id,
        unread: 0,
        mentions: 0,
    };
    crate::app::emit_to(
        engine.to(NS, &user_channel(m.user_id)),
        ServerEvent::UnreadUpdate(counts),
    );
}

impl App {
    /// Stores a message (acknowledged only once durable), then tells the room.
    /// A repeated `clientId` returns the first message and sends nothing.
    pub async fn send_message(&self, who: &Session, input: SendMessage) -> Result<Posted> {
        self.limits.send(who.user_id)?;
        let kind = input.kind.unwrap_or_default();
        validate::content(&input.content, input.file_url.is_some())?;
        if let Some(c) = &input.client_id {
            validate::client_id(c)?;
        }
        // Membership is checked by the store under the room's lock, in the
        // write's own transaction (no query per send before it is queued);
        // an attachment is checked here first, so a non-member is told they
        // are not a member rather than that the file is not theirs.
        let file_url = match (&input.file_url, kind) {
            (None, MessageType::Text) => None,
            (None, _) => return Err(Error::invalid("fileUrl: required with type image or file")),
            (Some(url), _) => {
                self.require_member(input.room_id, who.user_id).await?;
                Some(self.check_attachment(who, input.room_id, kind, url).await?)
            }
        };
        let mentioned = self
            .resolve_mentions(input.room_id, who.user_id, &input.content)
            .await?;
        // Broadcast by the room's writer right after the commit, in the
        // room's commit order: no lock is held across the write, so a busy
        // room's messages share group commits.
        let engine = self.engine.clone();
        let posted = self
            .store
            .post_message_then(
                NewMessage {
                    room_id: input.room_id,
                    user_id: who.user_id,
                    content: input.content,
                    kind,
                    file_url,
                    reply_to_id: input.reply_to_id,
                    client_id: input.client_id,
                    mentions: mentioned,
                },
                Box::new(move |m| broadcast_new(&engine, m)),
            )
            .await?;
        // A send ends the sender's typing there, whichever door it came by.
        self.typing_stopped(who.user_id, input.room_id, false);
        if posted.created {
            self.announce_new(&posted.message).await;
            self.push.message_stored(&posted.message);
        }
        Ok(posted)
    }

    /// After `message:new`: a `notification` to each mentioned member
    /// (not to those whose level in the room is `none`).
    async fn announce_new(&self, m: &Message) {
        let muted = self.muted(m.room_id, &m.mentions).await;
        for user in m.mentions.iter().filter(|u| !muted.contains(u)) {
            self.emit_user(
                *user,
                ServerEvent::Notification(Notification {
                    kind: NotificationKind::Mention,
                    room_id: m.room_id,
                    message: m.clone(),
                }),
            );
        }
    }

    async fn resolve_mentions(&self, room: Id, author: Id, text: &str) -> Result<Vec<Id>> {
        let found = mentions::parse(text);
        if found.usernames.is_empty() && !found.room {
            return Ok(Vec::new());
        }
        self.store
            .resolve_mentions(room, author, &found.usernames, found.room)
            .await
    }

    /// A message the caller may see (member of its room), or the right error.
    pub(crate) async fn visible_message(
        &self,
        who: &Session,
        id: Id,
    ) -> Result<(Message, natter_core::Role)> {
        let m = self
            .store
            .message(id)
            .await?
            .ok_or_else(|| Error::not_found("message not found"))?;
        let role = self.require_member(m.room_id, who.user_id).await?;
        Ok((m, role))
    }

    /// Author only; the message keeps its seq, the change takes the next one.
    pub async fn edit_message(&self, who: &Session, id: Id, content: String) -> Result<Message> {
        self.limits.user(crate::limits::Action::Edit, who.user_id)?;
        validate::content(&content, false)?;
        let (m, _) = self.visible_message(who, id).await?;
        if !perms::can_edit_message(m.user_id == who.user_id) {
            return Err(Error::forbidden("only the author can edit a message"));
        }
        if m.deleted_at.is_some() {
            return Err(Error::invalid("a deleted message cannot be edited"));
        }
        let mentioned = self
            .resolve_mentions(m.room_id, who.user_id, &content)
            .await?;
        let _order = self.room_locks.lock(m.room_id).await;
        let change = self.store.edit_message(id, content, mentioned).await?;
        self.emit_room(
            m.room_id,
            ServerEvent::MessageUpdated(MessageChange {
                message: change.value.clone(),
                event_seq: change.event_seq,
            }),
        );
        Ok(change.value)
    }

    /// Author, room moderator or admin. Deleting a tombstone changes nothing.
    pub async fn delete_message(&self, who: &Session, id: Id) -> Result<Message> {
        self.limits
            .user(crate::limits::Action::Delete, who.user_id)?;
        let (m, role) = self.visible_message(who, id).await?;
        if !perms::can_delete_message(role, m.user_id == who.user_id) {
            return Err(Error::forbidden(
                "only the author, a moderator or an admin can delete a message",
            ));
        }
        if m.deleted_at.is_some() {
            return Ok(m);
        }
        let order = self.room_locks.lock(m.room_id).await;
        let change = self.store.delete_message(id).await?;
        self.emit_room(
            m.room_id,
            ServerEvent::MessageDeleted(MessageDeleted {
                message_id: id,
                room_id: m.room_id,
                event_seq: change.event_seq,
            }),
        );
        drop(order);
        // Its file is already visible to nobody; this removes the bytes.
        if m.file_url.is_some() {
            self.remove_attachments(id).await;
        }
        Ok(change.value)
    }

    /// Toggle the caller's emoji on a message.
    pub async fn react(&self, who: &Session, id: Id, emoji: &str) -> Result<MessageReactions> {
        self.limits
            .user(crate::limits::Action::React, who.user_id)?;
        validate::emoji(emoji)?;
        let (m, _) = self.visible_message(who, id).await?;
        if m.deleted_at.is_some() {
            return Err(Error::invalid("a deleted message cannot get reactions"));
        }
        let _order = self.room_locks.lock(m.room_id).await;
        let change = self.store.toggle_reaction(id, who.user_id, emoji).await?;
        let payload = MessageReactions {
            message_id: id,
            room_id: m.room_id,
            reactions: change.value.reactions,
            event_seq: change.event_seq,
        };
        self.emit_room(m.room_id, ServerEvent::MessageReactions(payload.clone()));
        Ok(payload)
    }
}
