//! Notification levels and Web Push subscriptions (issue 11).

use natter_core::{Error, Id, NotificationLevel, Result};
use sqlx::QueryBuilder;

use super::{Db, Pools};
use crate::error::db_err;
use crate::now;
use crate::rows::notify_level;
use crate::{NewPushSubscription, Notified, PushSubscription};

/// A member's level with their default filled in (`all` in a DM, `mentions` in a room).
const LEVEL: &str =
    "COALESCE(mb.notify_level, CASE WHEN r.is_direct THEN 'all' ELSE 'mentions' END)";

pub(super) async fn set_level(
    p: &Pools,
    room: Id,
    user: Id,
    level: NotificationLevel,
) -> Result<bool> {
    let done =
        sqlx::query("UPDATE members SET notify_level = $3 WHERE room_id = $1 AND user_id = $2")
            .bind(room.0)
            .bind(user.0)
            .bind(level.as_str())
            .execute(&p.write)
            .await
            .map_err(db_err)?;
    Ok(done.rows_affected() > 0)
}

/// Binds per statement when a list of ids goes into `IN (…)`: well under both
/// databases' limits, whatever the size of a room (`@room` mentions everyone).
const CHUNK: usize = 500;

fn push_ids(q: &mut QueryBuilder<'_, Db>, ids: &[Id]) {
    q.push("(");
    let mut list = q.separated(", ");
    for u in ids {
        list.push_bind(u.0);
    }
    q.push(")");
}

pub(super) async fn levels(
    p: &Pools,
    room: Id,
    users: &[Id],
) -> Result<Vec<(Id, NotificationLevel)>> {
    let mut out = Vec::new();
    for chunk in users.chunks(CHUNK) {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT mb.user_id, mb.notify_level, r.is_direct
             FROM members mb JOIN rooms r ON r.id = mb.room_id WHERE mb.room_id = ",
        );
        q.push_bind(room.0).push(" AND mb.user_id IN ");
        push_ids(&mut q, chunk);
        let rows: Vec<(i64, Option<String>, bool)> = q
            .build_query_as()
            .fetch_all(&p.read)
            .await
            .map_err(db_err)?;
        for (id, level, direct) in rows {
            out.push((Id(id), notify_level(level.as_deref(), direct)?));
        }
    }
    out.sort_by_key(|(id, _)| *id);
    Ok(out)
}

/// Members at `all` in one query, mentioned members at `mentions` in chunks.
/// Whom each of `messages` (room, author, mentioned) notifies, in order: for
/// a batch of new messages, one query for the `all` members of all their
/// rooms and one per chunk of mentions, instead of two per message.
pub(super) async fn targets(p: &Pools, messages: &[Notified<'_>]) -> Result<Vec<Vec<Id>>> {
    let mut rooms: Vec<Id> = messages.iter().map(|m| m.room).collect();
    rooms.sort();
    rooms.dedup();
    // (room, user) of every member at `all` in those rooms.
    let mut all: Vec<(i64, i64)> = Vec::new();
    for chunk in rooms.chunks(CHUNK) {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT mb.room_id, mb.user_id FROM members mb JOIN rooms r ON r.id = mb.room_id
             WHERE mb.room_id IN ",
        );
        push_ids(&mut q, chunk);
        q.push(format!(" AND {LEVEL} = 'all'"));
        all.extend(
            q.build_query_as::<(i64, i64)>()
                .fetch_all(&p.read)
                .await
                .map_err(db_err)?,
        );
    }
    // (room, user) of each mentioned member at `mentions`.
    let mut asked: Vec<(i64, i64)> = messages
        .iter()
        .flat_map(|m| m.mentioned.iter().map(move |u| (m.room.0, u.0)))
        .collect();
    asked.sort_unstable();
    asked.dedup();
    let mut mentions: Vec<(i64, i64)> = Vec::new();
    // Two binds a pair.
    for chunk in asked.chunks(CHUNK / 2) {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT mb.room_id, mb.user_id FROM members mb JOIN rooms r ON r.id = mb.room_id
             WHERE (mb.room_id, mb.user_id) IN (",
        );
        let mut list = q.separated(", ");
        for &(room, user) in chunk {
            list.push("(")
                .push_bind_unseparated(room)
                .push_unseparated(", ")
                .push_bind_unseparated(user)
                .push_unseparated(")");
        }
        q.push(format!(") AND {LEVEL} = 'mentions'"));
        mentions.extend(
            q.build_query_as::<(i64, i64)>()
                .fetch_all(&p.read)
                .await
                .map_err(db_err)?,
        );
    }
    let mentions: std::collections::HashSet<(i64, i64)> = mentions.into_iter().collect();
    Ok(messages
        .iter()
        .map(|m| {
            let mut ids: Vec<Id> = all
                .iter()
                .filter(|(room, _)| *room == m.room.0)
                .map(|&(_, user)| Id(user))
                .chain(
                    m.mentioned
                        .iter()
                        .filter(|u| mentions.contains(&(m.room.0, u.0)))
                        .copied(),
                )
                .filter(|u| *u != m.author)
                .collect();
            ids.sort();
            ids.dedup();
            ids
        })
        .collect())
}

#[derive(Debug, sqlx::FromRow)]
struct SubscriptionRow {
    id: i64,
    user_id: i64,
    endpoint: String,
    p256dh: String,
    auth: String,
    created_at: time::OffsetDateTime,
}

impl From<SubscriptionRow> for PushSubscription {
    fn from(r: SubscriptionRow) -> Self {
        PushSubscription {
            id: Id(r.id),
            user_id: Id(r.user_id),
            endpoint: r.endpoint,
            p256dh: r.p256dh,
            auth: r.auth,
            created_at: r.created_at,
        }
    }
}

const COLUMNS: &str = "id, user_id, endpoint, p256dh, auth, created_at";

/// Upsert by endpoint in one transaction. The no-op update of the user's row
/// takes its row lock on PostgreSQL (SQLite has one writer anyway), so two
/// registrations of one user at once cannot both pass the count.
pub(super) async fn save(p: &Pools, s: NewPushSubscription, max: u32) -> Result<PushSubscription> {
    let mut tx = p.begin().await?;
    let locked = sqlx::query("UPDATE users SET id = id WHERE id = $1")
        .bind(s.user_id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    if locked.rows_affected() == 0 {
        return Err(Error::not_found("user not found"));
    }
    let (others,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM push_subscriptions WHERE user_id = $1 AND endpoint <> $2",
    )
    .bind(s.user_id.0)
    .bind(&s.endpoint)
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    if others >= i64::from(max) {
        return Err(Error::invalid(format!(
            "at most {max} push subscriptions per user: remove one first"
        )));
    }
    let sql = format!(
        "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (endpoint) DO UPDATE
           SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth
         RETURNING {COLUMNS}"
    );
    let row: SubscriptionRow = sqlx::query_as(&sql)
        .bind(s.user_id.0)
        .bind(&s.endpoint)
        .bind(&s.p256dh)
        .bind(&s.auth)
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(row.into())
}

pub(super) async fn delete(p: &Pools, user: Id, endpoint: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2")
        .bind(user.0)
        .bind(endpoint)
        .execute(&p.write)
        .await
        .map_err(db_err)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn prune(p: &Pools, endpoint: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1")
        .bind(endpoint)
        .execute(&p.write)
        .await
        .map_err(db_err)?;
    Ok(done.rows_affected() > 0)
}

/// In chunks, so a big room stays under the databases' bind limits.
pub(super) async fn of_users(p: &Pools, users: &[Id]) -> Result<Vec<PushSubscription>> {
    let mut out = Vec::new();
    for chunk in users.chunks(CHUNK) {
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {COLUMNS} FROM push_subscriptions WHERE user_id IN "
        ));
        push_ids(&mut q, chunk);
        q.push(" ORDER BY user_id, id");
        let rows: Vec<SubscriptionRow> = q
            .build_query_as()
            .fetch_all(&p.read)
            .await
            .map_err(db_err)?;
        out.extend(rows.into_iter().map(PushSubscription::from));
    }
    Ok(out)
}
