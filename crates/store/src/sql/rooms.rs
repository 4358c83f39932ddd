//! Rooms, members and roles, and the one DM room of each pair.

use natter_core::{Error, Id, Member, Result, Role, Room};

use super::reads::unread_columns;
use super::{clamp, messages, Conn, Pools};
use crate::error::db_err;
use crate::rows::{contains_pattern, micros, role, LoggedEvent, MemberRow, RoomRow};
use crate::{now, NewRoom, RoomPatch};

/// A room as the viewer (`$1`) sees it: their role and counts (from their
/// read cursor; 0 when they are not a member), the member count, and for a
/// DM the other member.
macro_rules! room_select {
    () => {
        concat!(
            "SELECT r.id, r.name, r.description, r.is_private, r.is_direct, r.created_by,
                    r.created_at, r.last_seq, mb.role, ",
            unread_columns!(),
            ", (SELECT COUNT(*) FROM members c WHERE c.room_id = r.id) AS member_count,
                    pu.id AS peer_id, pu.username AS peer_username, pu.name AS peer_name,
                    pu.avatar AS peer_avatar, mb.notify_level
             FROM rooms r
             LEFT JOIN members mb ON mb.room_id = r.id AND mb.user_id = $1
             LEFT JOIN users pu ON r.is_direct AND pu.id = (
                 SELECT p.user_id FROM members p
                 WHERE p.room_id = r.id AND p.user_id <> $1
                 ORDER BY p.user_id LIMIT 1)"
        )
    };
}
pub(super) async fn get(c: &mut Conn, id: Id, viewer: Id) -> Result<Option<Room>> {
    let row: Option<RoomRow> = sqlx::query_as(concat!(room_select!(), " WHERE r.id = $2"))
        .bind(viewer.0)
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await
        .map_err(db_err)?;
    row.map(RoomRow::room).transpose()
}

async fn get_existing(c: &mut Conn, id: Id, viewer: Id) -> Result<Room> {
    get(c, id, viewer)
        .await?
        .ok_or_else(|| Error::not_found("room not found"))
}

pub(super) async fn create(p: &Pools, room: NewRoom) -> Result<Room> {
    let at = now();
    let mut tx = p.begin().await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO rooms (name, description, is_private, is_direct, created_by, created_at, last_activity)
         VALUES ($1, $2, $3, FALSE, $4, $5, $6)
         RETURNING id",
    )
    .bind(&room.name)
    .bind(&room.description)
    .bind(room.is_private)
    .bind(room.created_by.0)
    .bind(at)
    .bind(micros(at))
    .fetch_one(&mut *tx)
    .await
    .map_err(db_err)?;
    add_member(&mut tx, Id(id), room.created_by, Role::Admin).await?;
    let created = get_existing(&mut tx, Id(id), room.created_by).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(created)
}

/// Changes a room's settings and logs `room:updated` with the room's next
/// seq, in one transaction: the room the caller gets back has that seq as
/// its `lastSeq`, so the change's `eventSeq` is `room.last_seq`. A patch that
/// changes nothing writes nothing.
pub(super) async fn update(p: &Pools, id: Id, patch: RoomPatch, viewer: Id) -> Result<Room> {
    let empty = patch.is_empty();
    let mut tx = p.begin().await?;
    let done = sqlx::query(
        "UPDATE rooms SET name = COALESCE($2, name), description = COALESCE($3, description),
                          is_private = COALESCE($4, is_private)
         WHERE id = $1",
    )
    .bind(id.0)
    .bind(patch.name)
    .bind(patch.description)
    .bind(patch.is_private)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("room not found"));
    }
    let seq = if empty {
        None
    } else {
        Some(messages::next_seq(&mut tx, id.0, None).await?)
    };
    let room = get_existing(&mut tx, id, viewer).await?;
    if let Some(seq) = seq {
        messages::log(&mut tx, id, seq, LoggedEvent::room_updated(&room)).await?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(room)
}

pub(super) async fn of_user(p: &Pools, user: Id) -> Result<Vec<Room>> {
    let rows: Vec<RoomRow> = sqlx::query_as(concat!(
        room_select!(),
        " WHERE mb.user_id IS NOT NULL ORDER BY r.last_activity DESC, r.id DESC"
    ))
    .bind(user.0)
    .fetch_all(&p.read)
    .await
    .map_err(db_err)?;
    rows.into_iter().map(RoomRow::room).collect()
}

pub(super) async fn ids_of(p: &Pools, user: Id) -> Result<Vec<Id>> {
    let ids: Vec<(i64,)> =
        sqlx::query_as("SELECT room_id FROM members WHERE user_id = $1 ORDER BY room_id")
            .bind(user.0)
            .fetch_all(&p.read)
            .await
            .map_err(db_err)?;
    Ok(ids.into_iter().map(|(id,)| Id(id)).collect())
}

pub(super) async fn public(p: &Pools, query: &str, viewer: Id, limit: u32) -> Result<Vec<Room>> {
    let rows: Vec<RoomRow> = sqlx::query_as(concat!(
        room_select!(),
        " WHERE NOT r.is_private AND NOT r.is_direct
            AND (lower(r.name) LIKE $2 ESCAPE '\\' OR lower(r.description) LIKE $2 ESCAPE '\\')
          ORDER BY lower(r.name), r.id
          LIMIT $3"
    ))
    .bind(viewer.0)
    .bind(contains_pattern(query))
    .bind(clamp(limit, 200))
    .fetch_all(&p.read)
    .await
    .map_err(db_err)?;
    rows.into_iter().map(RoomRow::room).collect()
}

pub(super) async fn role_of(p: &Pools, room: Id, user: Id) -> Result<Option<Role>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT role FROM members WHERE room_id = $1 AND user_id = $2")
            .bind(room.0)
            .bind(user.0)
            .fetch_optional(&p.read)
            .await
            .map_err(db_err)?;
    row.map(|(r,)| role(&r)).transpose()
}

/// Joining never resets an existing member's role or read cursor.
pub(super) async fn add_member(c: &mut Conn, room: Id, user: Id, role: Role) -> Result<bool> {
    let done = sqlx::query(
        // A new member starts with the history read: joining a busy room does
        // not make every old message unread.
        "INSERT INTO members (room_id, user_id, role, joined_at, last_read_seq)
         VALUES ($1, $2, $3, $4, COALESCE((SELECT last_seq FROM rooms WHERE id = $1), 0))
         ON CONFLICT (room_id, user_id) DO NOTHING",
    )
    .bind(room.0)
    .bind(user.0)
    .bind(role.as_str())
    .bind(now())
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn remove_member(p: &Pools, room: Id, user: Id) -> Result<bool> {
    let done = sqlx::query("DELETE FROM members WHERE room_id = $1 AND user_id = $2")
        .bind(room.0)
        .bind(user.0)
        .execute(&p.write)
        .await
        .map_err(db_err)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn set_role(p: &Pools, room: Id, user: Id, role: Role) -> Result<bool> {
    let done = sqlx::query("UPDATE members SET role = $3 WHERE room_id = $1 AND user_id = $2")
        .bind(room.0)
        .bind(user.0)
        .bind(role.as_str())
        .execute(&p.write)
        .await
        .map_err(db_err)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn members(p: &Pools, room: Id) -> Result<Vec<Member>> {
    let rows: Vec<MemberRow> = sqlx::query_as(
        "SELECT u.id, u.username, u.name, u.avatar, mb.role, mb.joined_at, mb.last_read_seq
         FROM members mb JOIN users u ON u.id = mb.user_id
         WHERE mb.room_id = $1
         ORDER BY mb.joined_at, u.id",
    )
    .bind(room.0)
    .fetch_all(&p.read)
    .await
    .map_err(db_err)?;
    rows.into_iter().map(MemberRow::member).collect()
}

pub(super) async fn member_ids(p: &Pools, room: Id) -> Result<Vec<Id>> {
    let ids: Vec<(i64,)> =
        sqlx::query_as("SELECT user_id FROM members WHERE room_id = $1 ORDER BY user_id")
            .bind(room.0)
            .fetch_all(&p.read)
            .await
            .map_err(db_err)?;
    Ok(ids.into_iter().map(|(id,)| Id(id)).collect())
}

/// Race-free: the pair's `dm_key` is unique, so of two concurrent creators
/// one inserts and the other's `ON CONFLICT DO NOTHING` returns no row and
/// it reads the winner's room (on PostgreSQL its insert waits for the
/// winner's commit; on SQLite writers are serialized anyway).
pub(super) async fn dm(p: &Pools, a: Id, b: Id) -> Result<(Room, bool)> {
    if a == b {
        return Err(Error::invalid("a direct message needs two different users"));
    }
    let key = format!("{}:{}", a.0.min(b.0), a.0.max(b.0));
    let at = now();
    let mut tx = p.begin().await?;
    let inserted: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO rooms (name, description, is_private, is_direct, dm_key, created_by, created_at, last_activity)
         VALUES ('', '', TRUE, TRUE, $1, $2, $3, $4)
         ON CONFLICT (dm_key) DO NOTHING
         RETURNING id",
    )
    .bind(&key)
    .bind(a.0)
    .bind(at)
    .bind(micros(at))
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let (id, created) = match inserted {
        Some((id,)) => {
            add_member(&mut tx, Id(id), a, Role::Member).await?;
            add_member(&mut tx, Id(id), b, Role::Member).await?;
            (id, true)
        }
        None => {
            let (id,): (i64,) = sqlx::query_as("SELECT id FROM rooms WHERE dm_key = $1")
                .bind(&key)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
            (id, false)
        }
    };
    let room = get_existing(&mut tx, Id(id), a).await?;
    tx.commit().await.map_err(db_err)?;
    Ok((room, created))
}
