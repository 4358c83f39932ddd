//! The [`Store`] trait: everything the server asks of its database, one
//! method per question or change, implemented once in `sql/` for both backends.

use async_trait::async_trait;
use natter_core::{
    Id, Me, Member, Message, NotificationLevel, Result, Role, Room, UnreadCounts, User,
};
use time::OffsetDateTime;

use crate::{
    AroundPage, Catchup, Change, Credentials, NewMessage, NewPushSubscription, NewRoom, NewSession,
    NewUpload, NewUser, Notified, OnStored, Page, PageAt, Posted, PushSubscription,
    ReactionsChanged, RoomPatch, SearchPage, SearchRequest, StoredSession, Upload,
};

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Cheap round trip, for `/readyz`.
    async fn ping(&self) -> Result<()>;

    // ---- users ----
    /// `conflict` naming the field ("username" / "email") when taken, ignoring case.
    async fn create_user(&self, user: NewUser) -> Result<Me>;
    /// By email or username, ignoring case.
    async fn credentials(&self, login: &str) -> Result<Option<Credentials>>;
    async fn me(&self, id: Id) -> Result<Option<Me>>;
    async fn user(&self, id: Id) -> Result<Option<User>>;
    /// Username or name containing `query` (ignoring case); empty query lists some users.
    async fn search_users(&self, query: &str, limit: u32) -> Result<Vec<User>>;
    /// The ids of these usernames (lower-case) that exist.
    async fn users_by_username(&self, usernames: &[String]) -> Result<Vec<User>>;

    // ---- rooms and members ----
    /// The creator becomes its `admin`.
    async fn create_room(&self, room: NewRoom) -> Result<Room>;
    /// A room as `viewer` sees it (unread, mentions, role are theirs; zero/None if not a member).
    async fn room(&self, id: Id, viewer: Id) -> Result<Option<Room>>;
    async fn update_room(&self, id: Id, patch: RoomPatch, viewer: Id) -> Result<Room>;
    /// Every room `user` is a member of, with counts, most recently active first.
    async fn rooms_of(&self, user: Id) -> Result<Vec<Room>>;
    /// The ids only (to subscribe sockets on connect).
    async fn room_ids_of(&self, user: Id) -> Result<Vec<Id>>;
    /// Public, non-DM rooms whose name or description contains `query`.
    async fn public_rooms(&self, query: &str, viewer: Id, limit: u32) -> Result<Vec<Room>>;
    async fn role_of(&self, room: Id, user: Id) -> Result<Option<Role>>;
    /// Adds a member; returns false (and changes nothing) if already one.
    async fn add_member(&self, room: Id, user: Id, role: Role) -> Result<bool>;
    /// Returns false if they were not a member.
    async fn remove_member(&self, room: Id, user: Id) -> Result<bool>;
    async fn set_role(&self, room: Id, user: Id, role: Role) -> Result<bool>;
    /// `online` is false and `last_seen` is None here: presence is not the store's.
    async fn members(&self, room: Id) -> Result<Vec<Member>>;
    async fn member_ids(&self, room: Id) -> Result<Vec<Id>>;
    /// The one DM room of the pair, created (both as members) if missing.
    /// Returns the room as `a` sees it and whether it was created.
    async fn dm_room(&self, a: Id, b: Id) -> Result<(Room, bool)>;

    // ---- messages ----
    /// Stores a message and its `message:new` event with the room's next seq,
    /// moves the sender's read cursor to it, all in one transaction. A repeated
    /// `client_id` (same user, same room) stores nothing and returns the first.
    /// The sender must be a member of the room, checked under the room's lock
    /// in that transaction: `not_found` for no such room, `forbidden` for a
    /// non-member.
    /// Concurrent calls may share that transaction (group commit,
    /// `sql/batch.rs`); each returns only after it committed.
    async fn post_message(&self, msg: NewMessage) -> Result<Posted> {
        self.post_message_then(msg, Box::new(|_| {})).await
    }
    /// `post_message`, and `then` runs with the new message once it is
    /// durable (not for a replay or a failure), before this call returns.
    /// The hooks of one room run in commit order, one after the other, on
    /// the room's writer: a caller that broadcasts from `then` broadcasts a
    /// room's messages in seq order without holding a lock of its own
    /// across the write (which would let a busy room put only one message
    /// in each group commit).
    async fn post_message_then(&self, msg: NewMessage, then: OnStored) -> Result<Posted>;
    async fn message(&self, id: Id) -> Result<Option<Message>>;
    /// New content, `edited_at` set, `message:updated` logged with the next seq.
    async fn edit_message(
        &self,
        id: Id,
        content: String,
        mentions: Vec<Id>,
    ) -> Result<Change<Message>>;
    /// Tombstone (content "", file_url None, deleted_at set), `message:deleted` logged.
    async fn delete_message(&self, id: Id) -> Result<Change<Message>>;
    /// Adds the user's emoji on the message, or removes it if present; logs `message:reactions`.
    async fn toggle_reaction(
        &self,
        message: Id,
        user: Id,
        emoji: &str,
    ) -> Result<Change<ReactionsChanged>>;
    async fn history(&self, room: Id, at: PageAt, limit: u32) -> Result<Page>;
    /// Changes after `after_seq`, or `Reset` if more than `max` of them.
    async fn events_after(&self, room: Id, after_seq: i64, max: u32) -> Result<Catchup>;

    // ---- read cursors ----
    /// Moves `user`'s cursor in `room` to `seq` if that is forward; returns
    /// whether it moved.
    async fn mark_read(&self, room: Id, user: Id, seq: i64) -> Result<bool>;
    /// Messages after the cursor not by `user` (deleted ones excluded), and how many of those mention them.
    async fn unread(&self, room: Id, user: Id) -> Result<UnreadCounts>;

    // ---- uploads ----
    async fn create_upload(&self, upload: NewUpload) -> Result<Upload>;
    async fn upload(&self, id: Id) -> Result<Option<Upload>>;

    /// The users among `usernames` who are members of `room`, and with
    /// `everyone` all the room's members; never `author`.
    async fn resolve_mentions(
        &self,
        room: Id,
        author: Id,
        usernames: &[String],
        everyone: bool,
    ) -> Result<Vec<Id>>;

    // ---- notification levels and Web Push (issue 11) ----
    /// Sets `user`'s level in `room`; false (nothing changed) if not a member.
    async fn set_notification_level(
        &self,
        room: Id,
        user: Id,
        level: NotificationLevel,
    ) -> Result<bool>;
    /// The levels (defaults filled in) of those of `users` who are members of `room`.
    async fn notification_levels(
        &self,
        room: Id,
        users: &[Id],
    ) -> Result<Vec<(Id, NotificationLevel)>>;
    /// Whom a new message of `author` in `room` notifies: every other member
    /// whose level is `all`, and those of `mentioned` whose level is `mentions`.
    async fn notify_targets(&self, room: Id, author: Id, mentioned: &[Id]) -> Result<Vec<Id>> {
        let one = Notified {
            room,
            author,
            mentioned,
        };
        Ok(self
            .notify_targets_many(&[one])
            .await?
            .pop()
            .unwrap_or_default())
    }
    /// `notify_targets` of several new messages at once, in order (a few
    /// queries for the whole list).
    async fn notify_targets_many(&self, messages: &[Notified<'_>]) -> Result<Vec<Vec<Id>>>;
    /// Stores a subscription, keyed by endpoint: registering an endpoint again
    /// updates its keys and moves it to this user. `invalid` when the user
    /// already has `max_per_user` others.
    async fn save_push_subscription(
        &self,
        sub: NewPushSubscription,
        max_per_user: u32,
    ) -> Result<PushSubscription>;
    /// Deletes `user`'s subscription of that endpoint; false if they have none.
    async fn delete_push_subscription(&self, user: Id, endpoint: &str) -> Result<bool>;
    /// Deletes that endpoint's subscription whoever holds it (the push
    /// service said it is gone).
    async fn prune_push_subscription(&self, endpoint: &str) -> Result<bool>;
    /// Every subscription of these users, by user then age.
    async fn push_subscriptions_of(&self, users: &[Id]) -> Result<Vec<PushSubscription>>;
    // ---- uploads: lifecycle (issue 12) ----
    // `post_message` links a message's upload (`fileUrl` of the form
    // `/api/files/{id}`) to it in the message's transaction: only an unsent,
    // not removed upload of the sender in that room (else `invalid`).

    /// Bytes `user` uploaded since `since` (their upload quota).
    async fn uploaded_bytes_since(&self, user: Id, since: OffsetDateTime) -> Result<i64>;
    /// Marks the uploads of a (deleted) message removed and returns them, so
    /// the caller removes their bytes, then calls [`Store::forget_upload`].
    async fn remove_uploads_of_message(&self, message: Id) -> Result<Vec<Upload>>;
    /// Claims up to `limit` uploads whose bytes must go: unsent and created
    /// before `unsent_before`, or of a deleted message (these are marked
    /// removed), and any marked removed whose removal was not finished. Safe
    /// to run on several nodes at once (each claim is one conditional UPDATE;
    /// removing bytes twice is harmless).
    async fn claim_expired_uploads(
        &self,
        unsent_before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Upload>>;
    /// Deletes the row of an upload whose bytes were removed.
    async fn forget_upload(&self, id: Id) -> Result<()>;
    // ---- search (issue 10; `sql/search/`; `history_around` in `sql/messages/`) ----
    /// Messages of the rooms `req.user` is a member of now, matching every
    /// term, ranked (or newest first), a page at a time.
    async fn search(&self, req: SearchRequest) -> Result<SearchPage>;
    /// The page of a room's history centred on `seq`: the message at `seq`
    /// (if any) and about `limit / 2` on either side.
    async fn history_around(&self, room: Id, seq: i64, limit: u32) -> Result<AroundPage>;

    // ---- sessions (issue 14) ----
    async fn create_session(&self, session: NewSession) -> Result<()>;
    /// The session with this id, if not revoked (it may be past `expires_at`
    /// until pruned: callers check the token's `exp`).
    async fn session(&self, id: &str) -> Result<Option<StoredSession>>;
    /// Returns whether it existed.
    async fn revoke_session(&self, id: &str) -> Result<bool>;
    /// Revokes every session of `user` except `keep`; returns the revoked ids.
    async fn revoke_sessions_of(&self, user: Id, keep: Option<&str>) -> Result<Vec<String>>;
    /// Sets the password hash and revokes every other session (all but
    /// `keep`), in one transaction; returns the revoked ids.
    async fn change_password(
        &self,
        user: Id,
        password_hash: &str,
        keep: Option<&str>,
    ) -> Result<Vec<String>>;
    async fn password_hash(&self, user: Id) -> Result<Option<String>>;
    /// Deletes sessions that expired at or before `now_unix`; returns how many.
    async fn prune_sessions(&self, now_unix: i64) -> Result<u64>;
    /// Whether the pair already has its DM room.
    async fn dm_exists(&self, a: Id, b: Id) -> Result<bool>;
}
