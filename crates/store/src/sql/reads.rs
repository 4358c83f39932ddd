//! Read cursors, unread and mention counts, and mention resolution.

use natter_core::{Id, Result, UnreadCounts};
use sqlx::QueryBuilder;

use super::{Conn, Db, Pools};
use crate::error::db_err;

/// `unread` and `mentions` of the member row `mb` (NULL → 0): messages after
/// their cursor, not their own, not deleted; and how many of those mention
/// them. Both counts walk an index range (`messages (room_id, seq)`,
/// `message_mentions (user_id, room_id, seq)`) from the cursor on.
macro_rules! unread_columns {
    () => {
        "(SELECT COUNT(*) FROM messages m
           WHERE m.room_id = mb.room_id AND m.seq > mb.last_read_seq
             AND m.user_id <> mb.user_id AND m.deleted_at IS NULL) AS unread,
         (SELECT COUNT(*) FROM message_mentions mm JOIN messages m ON m.id = mm.message_id
           WHERE mm.user_id = mb.user_id AND mm.room_id = mb.room_id
             AND mm.seq > mb.last_read_seq
             AND m.user_id <> mb.user_id AND m.deleted_at IS NULL) AS mentions"
    };
}
pub(super) use unread_columns;

/// Only ever forward, so devices racing to mark different messages read end
/// at the furthest one.
pub(super) async fn mark_read(c: &mut Conn, room: Id, user: Id, seq: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE members SET last_read_seq = $3
         WHERE room_id = $1 AND user_id = $2 AND last_read_seq < $3",
    )
    .bind(room.0)
    .bind(user.0)
    .bind(seq)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() > 0)
}

/// Zero counts for a non-member: they have nothing to read.
pub(super) async fn unread(p: &Pools, room: Id, user: Id) -> Result<UnreadCounts> {
    let row: Option<(i64, i64)> = sqlx::query_as(concat!(
        "SELECT ",
        unread_columns!(),
        " FROM members mb WHERE mb.room_id = $1 AND mb.user_id = $2"
    ))
    .bind(room.0)
    .bind(user.0)
    .fetch_optional(&p.read)
    .await
    .map_err(db_err)?;
    let (unread, mentions) = row.unwrap_or((0, 0));
    Ok(UnreadCounts {
        room_id: room,
        unread,
        mentions,
    })
}

pub(super) async fn resolve_mentions(
    p: &Pools,
    room: Id,
    author: Id,
    usernames: &[String],
    everyone: bool,
) -> Result<Vec<Id>> {
    if usernames.is_empty() && !everyone {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<Db>::new(
        "SELECT mb.user_id FROM members mb JOIN users u ON u.id = mb.user_id WHERE mb.room_id = ",
    );
    q.push_bind(room.0)
        .push(" AND mb.user_id <> ")
        .push_bind(author.0);
    if !everyone {
        q.push(" AND lower(u.username) IN (");
        let mut list = q.separated(", ");
        for name in usernames {
            list.push_bind(name.to_lowercase());
        }
        q.push(")");
    }
    q.push(" ORDER BY mb.user_id");
    let ids: Vec<(i64,)> = q
        .build_query_as()
        .fetch_all(&p.read)
        .await
        .map_err(db_err)?;
    Ok(ids.into_iter().map(|(id,)| Id(id)).collect())
}
