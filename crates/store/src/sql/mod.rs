//! The SQL of both backends, written once.
//!
//! This module is compiled twice: `crate::sqlite` and `crate::postgres` each
//! include it (`#[path = "sql/mod.rs"]`) after naming their sqlx driver
//! `Db` and their store type `Backend`. Every statement here runs unchanged
//! on both databases (`$N` placeholders, `RETURNING`, `ON CONFLICT`, the same
//! table and column names), so writing it once keeps the two backends from
//! drifting apart, while each compiled copy stays concrete: no generic
//! `sqlx::Database` bounds on every function. What truly differs (pools,
//! pragmas, migrations) lives in the backend modules.

mod batch;
#[cfg(all(test, feature = "testing"))]
mod fixtures;
mod messages;
mod post;
mod post_set;
mod push;
mod reads;
mod redact;
mod rooms;
mod search;
mod sessions;
mod uploads;
mod users;

use async_trait::async_trait;
use natter_core::{
    Id, Me, Member, Message, NotificationLevel, Result, Role, Room, UnreadCounts, User,
};
use sqlx::pool::PoolConnection;
use sqlx::{Pool, Transaction};

pub(crate) use batch::GroupWriter;
pub(crate) use search::backfill as search_backfill;
pub(crate) use search::start_upkeep as start_search_upkeep;

use super::{Backend, Db};
use crate::error::db_err;
use crate::{
    AroundPage, Catchup, Change, Credentials, NewMessage, NewPushSubscription, NewRoom, NewUpload,
    NewUser, Notified, OnStored, Page, PageAt, Posted, PushSubscription, ReactionsChanged,
    RoomPatch, SearchPage, SearchRequest, Store, Upload,
};
use crate::{NewSession, StoredSession};

/// A connection of this backend, for functions that run several statements.
type Conn = <Db as sqlx::Database>::Connection;

/// The store's connections: `read` for queries, `write` for anything that
/// writes. On PostgreSQL both are the same pool; SQLite allows one writer at
/// a time, so there `write` holds a single connection and writers queue in
/// the pool instead of failing with SQLITE_BUSY.
#[derive(Debug, Clone)]
pub(crate) struct Pools {
    pub read: Pool<Db>,
    pub write: Pool<Db>,
}

impl Pools {
    async fn read(&self) -> Result<PoolConnection<Db>> {
        self.read.acquire().await.map_err(db_err)
    }

    async fn write(&self) -> Result<PoolConnection<Db>> {
        self.write.acquire().await.map_err(db_err)
    }

    async fn begin(&self) -> Result<Transaction<'static, Db>> {
        self.write.begin().await.map_err(db_err)
    }
}

/// Which backend this copy is compiled for, where the SQL must differ.
fn postgres() -> bool {
    use sqlx::Database;
    Db::NAME == "PostgreSQL"
}

/// Clamps a caller's page size into `1..=max`.
fn clamp(limit: u32, max: u32) -> i64 {
    i64::from(limit.clamp(1, max))
}

#[async_trait]
impl Store for Backend {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pools.read)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn create_user(&self, user: NewUser) -> Result<Me> {
        users::create(&self.pools, user).await
    }
    async fn credentials(&self, login: &str) -> Result<Option<Credentials>> {
        users::credentials(&self.pools, login).await
    }
    async fn me(&self, id: Id) -> Result<Option<Me>> {
        users::me(&self.pools, id).await
    }
    async fn user(&self, id: Id) -> Result<Option<User>> {
        users::user(&self.pools, id).await
    }
    async fn search_users(&self, query: &str, limit: u32) -> Result<Vec<User>> {
        users::search(&self.pools, query, limit).await
    }
    async fn users_by_username(&self, usernames: &[String]) -> Result<Vec<User>> {
        users::by_username(&self.pools, usernames).await
    }

    async fn create_room(&self, room: NewRoom) -> Result<Room> {
        rooms::create(&self.pools, room).await
    }
    async fn room(&self, id: Id, viewer: Id) -> Result<Option<Room>> {
        let mut c = self.pools.read().await?;
        rooms::get(&mut c, id, viewer).await
    }
    async fn update_room(&self, id: Id, patch: RoomPatch, viewer: Id) -> Result<Room> {
        rooms::update(&self.pools, id, patch, viewer).await
    }
    async fn rooms_of(&self, user: Id) -> Result<Vec<Room>> {
        rooms::of_user(&self.pools, user).await
    }
    async fn room_ids_of(&self, user: Id) -> Result<Vec<Id>> {
        rooms::ids_of(&self.pools, user).await
    }
    async fn public_rooms(&self, query: &str, viewer: Id, limit: u32) -> Result<Vec<Room>> {
        rooms::public(&self.pools, query, viewer, limit).await
    }
    async fn role_of(&self, room: Id, user: Id) -> Result<Option<Role>> {
        rooms::role_of(&self.pools, room, user).await
    }
    async fn add_member(&self, room: Id, user: Id, role: Role) -> Result<bool> {
        let mut c = self.pools.write().await?;
        rooms::add_member(&mut c, room, user, role).await
    }
    async fn remove_member(&self, room: Id, user: Id) -> Result<bool> {
        rooms::remove_member(&self.pools, room, user).await
    }
    async fn set_role(&self, room: Id, user: Id, role: Role) -> Result<bool> {
        rooms::set_role(&self.pools, room, user, role).await
    }
    async fn members(&self, room: Id) -> Result<Vec<Member>> {
        rooms::members(&self.pools, room).await
    }
    async fn member_ids(&self, room: Id) -> Result<Vec<Id>> {
        rooms::member_ids(&self.pools, room).await
    }
    async fn dm_room(&self, a: Id, b: Id) -> Result<(Room, bool)> {
        rooms::dm(&self.pools, a, b).await
    }

    async fn post_message_then(&self, msg: NewMessage, then: OnStored) -> Result<Posted> {
        self.posts.post(&self.pools, msg, then).await
    }
    async fn message(&self, id: Id) -> Result<Option<Message>> {
        let mut c = self.pools.read().await?;
        messages::get(&mut c, id).await
    }
    async fn edit_message(
        &self,
        id: Id,
        content: String,
        mentions: Vec<Id>,
    ) -> Result<Change<Message>> {
        messages::edit(&self.pools, id, content, mentions).await
    }
    async fn delete_message(&self, id: Id) -> Result<Change<Message>> {
        messages::delete(&self.pools, id).await
    }
    async fn toggle_reaction(
        &self,
        message: Id,
        user: Id,
        emoji: &str,
    ) -> Result<Change<ReactionsChanged>> {
        messages::toggle_reaction(&self.pools, message, user, emoji).await
    }
    async fn history(&self, room: Id, at: PageAt, limit: u32) -> Result<Page> {
        messages::history(&self.pools, room, at, limit).await
    }
    async fn events_after(&self, room: Id, after_seq: i64, max: u32) -> Result<Catchup> {
        messages::events_after(&self.pools, room, after_seq, max).await
    }

    async fn mark_read(&self, room: Id, user: Id, seq: i64) -> Result<bool> {
        let mut c = self.pools.write().await?;
        reads::mark_read(&mut c, room, user, seq).await
    }
    async fn unread(&self, room: Id, user: Id) -> Result<UnreadCounts> {
        reads::unread(&self.pools, room, user).await
    }
    async fn resolve_mentions(
        &self,
        room: Id,
        author: Id,
        usernames: &[String],
        everyone: bool,
    ) -> Result<Vec<Id>> {
        reads::resolve_mentions(&self.pools, room, author, usernames, everyone).await
    }

    async fn create_upload(&self, upload: NewUpload) -> Result<Upload> {
        uploads::create(&self.pools, upload).await
    }
    async fn upload(&self, id: Id) -> Result<Option<Upload>> {
        uploads::get(&self.pools, id).await
    }

    async fn set_notification_level(
        &self,
        room: Id,
        user: Id,
        level: NotificationLevel,
    ) -> Result<bool> {
        push::set_level(&self.pools, room, user, level).await
    }
    async fn notification_levels(
        &self,
        room: Id,
        users: &[Id],
    ) -> Result<Vec<(Id, NotificationLevel)>> {
        push::levels(&self.pools, room, users).await
    }
    async fn notify_targets_many(&self, messages: &[Notified<'_>]) -> Result<Vec<Vec<Id>>> {
        push::targets(&self.pools, messages).await
    }
    async fn save_push_subscription(
        &self,
        sub: NewPushSubscription,
        max_per_user: u32,
    ) -> Result<PushSubscription> {
        push::save(&self.pools, sub, max_per_user).await
    }
    async fn delete_push_subscription(&self, user: Id, endpoint: &str) -> Result<bool> {
        push::delete(&self.pools, user, endpoint).await
    }
    async fn prune_push_subscription(&self, endpoint: &str) -> Result<bool> {
        push::prune(&self.pools, endpoint).await
    }
    async fn push_subscriptions_of(&self, users: &[Id]) -> Result<Vec<PushSubscription>> {
        push::of_users(&self.pools, users).await
    }
    async fn uploaded_bytes_since(&self, user: Id, since: time::OffsetDateTime) -> Result<i64> {
        uploads::bytes_since(&self.pools, user, since).await
    }
    async fn remove_uploads_of_message(&self, message: Id) -> Result<Vec<Upload>> {
        uploads::remove_of_message(&self.pools, message).await
    }
    async fn claim_expired_uploads(
        &self,
        unsent_before: time::OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Upload>> {
        uploads::claim_expired(&self.pools, unsent_before, limit).await
    }
    async fn forget_upload(&self, id: Id) -> Result<()> {
        uploads::forget(&self.pools, id).await
    }
    async fn search(&self, req: SearchRequest) -> Result<SearchPage> {
        search::search(&self.pools, req).await
    }
    async fn history_around(&self, room: Id, seq: i64, limit: u32) -> Result<AroundPage> {
        messages::around(&self.pools, room, seq, limit).await
    }
    // ---- sessions (issue 14) ----
    async fn create_session(&self, session: NewSession) -> Result<()> {
        sessions::create(&self.pools, session).await
    }
    async fn session(&self, id: &str) -> Result<Option<StoredSession>> {
        sessions::get(&self.pools, id).await
    }
    async fn revoke_session(&self, id: &str) -> Result<bool> {
        sessions::revoke(&self.pools, id).await
    }
    async fn revoke_sessions_of(&self, user: Id, keep: Option<&str>) -> Result<Vec<String>> {
        sessions::revoke_of_user(&self.pools, user, keep).await
    }
    async fn change_password(
        &self,
        user: Id,
        password_hash: &str,
        keep: Option<&str>,
    ) -> Result<Vec<String>> {
        sessions::change_password(&self.pools, user, password_hash, keep).await
    }
    async fn password_hash(&self, user: Id) -> Result<Option<String>> {
        sessions::password_hash(&self.pools, user).await
    }
    async fn prune_sessions(&self, now_unix: i64) -> Result<u64> {
        sessions::prune(&self.pools, now_unix).await
    }
    async fn dm_exists(&self, a: Id, b: Id) -> Result<bool> {
        sessions::dm_exists(&self.pools, a, b).await
    }
}
