//! Upload records (the bytes are the file store's) and their lifecycle:
//! unsent → sent (linked to its message in the message's transaction) →
//! removed (message deleted, or unsent for too long) → forgotten.

use natter_core::{Error, Id, Result};

use super::{Conn, Pools};
use crate::error::db_err;
use crate::{now, NewMessage, NewUpload, Upload};

#[derive(Debug, sqlx::FromRow)]
struct UploadRow {
    id: i64,
    room_id: i64,
    user_id: i64,
    name: String,
    content_type: String,
    size: i64,
    width: Option<i32>,
    height: Option<i32>,
    has_thumbnail: bool,
    created_at: time::OffsetDateTime,
    message_id: Option<i64>,
    storage_key: Option<String>,
    etag: Option<String>,
    gone: bool,
}

impl From<UploadRow> for Upload {
    fn from(r: UploadRow) -> Self {
        Upload {
            id: Id(r.id),
            room_id: Id(r.room_id),
            user_id: Id(r.user_id),
            // Rows from before migration 0004 keep their bytes under their id.
            storage_key: r.storage_key.unwrap_or_else(|| r.id.to_string()),
            etag: r.etag.unwrap_or_else(|| format!("{}-{}", r.id, r.size)),
            name: r.name,
            content_type: r.content_type,
            size: r.size,
            width: r.width,
            height: r.height,
            has_thumbnail: r.has_thumbnail,
            created_at: r.created_at,
            message_id: r.message_id.map(Id),
            gone: r.gone,
        }
    }
}

/// An upload with `gone`: removed, or its message deleted.
macro_rules! upload_select {
    () => {
        "SELECT u.id, u.room_id, u.user_id, u.name, u.content_type, u.size, u.width, u.height,
                u.has_thumbnail, u.created_at, u.message_id, u.storage_key, u.etag,
                (u.removed_at IS NOT NULL OR m.deleted_at IS NOT NULL) AS gone
         FROM uploads u LEFT JOIN messages m ON m.id = u.message_id"
    };
}

pub(super) async fn create(p: &Pools, u: NewUpload) -> Result<Upload> {
    let row: UploadRow = sqlx::query_as(
        "INSERT INTO uploads (room_id, user_id, name, content_type, size, width, height, has_thumbnail,
                              created_at, storage_key, etag)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         RETURNING id, room_id, user_id, name, content_type, size, width, height, has_thumbnail,
                   created_at, message_id, storage_key, etag, removed_at IS NOT NULL AS gone",
    )
    .bind(u.room_id.0)
    .bind(u.user_id.0)
    .bind(&u.name)
    .bind(&u.content_type)
    .bind(u.size)
    .bind(u.width)
    .bind(u.height)
    .bind(u.has_thumbnail)
    .bind(now())
    .bind(&u.storage_key)
    .bind(&u.etag)
    .fetch_one(&p.write)
    .await
    .map_err(db_err)?;
    Ok(row.into())
}

pub(super) async fn get(p: &Pools, id: Id) -> Result<Option<Upload>> {
    let row: Option<UploadRow> = sqlx::query_as(concat!(upload_select!(), " WHERE u.id = $1"))
        .bind(id.0)
        .fetch_optional(&p.read)
        .await
        .map_err(db_err)?;
    Ok(row.map(Upload::from))
}

/// Inside a message's transaction: links the upload its `fileUrl` names to
/// it. Only an unsent, not removed upload of the sender in that room; the
/// conditional UPDATE is what makes a send and the sweeper exclusive.
pub(super) async fn attach(c: &mut Conn, message: i64, msg: &NewMessage) -> Result<()> {
    let Some(upload) = msg
        .file_url
        .as_deref()
        .and_then(natter_core::files::file_id)
    else {
        return Ok(());
    };
    let done = sqlx::query(
        "UPDATE uploads SET message_id = $1
         WHERE id = $2 AND user_id = $3 AND room_id = $4
           AND message_id IS NULL AND removed_at IS NULL",
    )
    .bind(message)
    .bind(upload.0)
    .bind(msg.user_id.0)
    .bind(msg.room_id.0)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(Error::invalid(
            "fileUrl: not an unsent file you uploaded to this room (already sent, or expired: upload it again)",
        ))
    }
}

pub(super) async fn bytes_since(p: &Pools, user: Id, since: time::OffsetDateTime) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM uploads
         WHERE user_id = $1 AND created_at >= $2",
    )
    .bind(user.0)
    .bind(since)
    .fetch_one(&p.read)
    .await
    .map_err(db_err)?;
    Ok(n)
}

pub(super) async fn remove_of_message(p: &Pools, message: Id) -> Result<Vec<Upload>> {
    sqlx::query("UPDATE uploads SET removed_at = $2 WHERE message_id = $1 AND removed_at IS NULL")
        .bind(message.0)
        .bind(now())
        .execute(&p.write)
        .await
        .map_err(db_err)?;
    let rows: Vec<UploadRow> = sqlx::query_as(concat!(
        upload_select!(),
        " WHERE u.message_id = $1 AND u.removed_at IS NOT NULL ORDER BY u.id"
    ))
    .bind(message.0)
    .fetch_all(&p.write)
    .await
    .map_err(db_err)?;
    Ok(rows.into_iter().map(Upload::from).collect())
}

pub(super) async fn claim_expired(
    p: &Pools,
    unsent_before: time::OffsetDateTime,
    limit: u32,
) -> Result<Vec<Upload>> {
    let at = now();
    // Each UPDATE re-checks its conditions on the row it changes, so a send
    // that linked the upload first wins, and the upload stays.
    sqlx::query(
        "UPDATE uploads SET removed_at = $1
         WHERE message_id IS NULL AND removed_at IS NULL AND created_at < $2",
    )
    .bind(at)
    .bind(unsent_before)
    .execute(&p.write)
    .await
    .map_err(db_err)?;
    // Normally done at once by the delete; this catches a node that died between.
    sqlx::query(
        "UPDATE uploads SET removed_at = $1
         WHERE removed_at IS NULL AND message_id IS NOT NULL
           AND EXISTS (SELECT 1 FROM messages m WHERE m.id = uploads.message_id AND m.deleted_at IS NOT NULL)",
    )
    .bind(at)
    .execute(&p.write)
    .await
    .map_err(db_err)?;
    let rows: Vec<UploadRow> = sqlx::query_as(concat!(
        upload_select!(),
        " WHERE u.removed_at IS NOT NULL ORDER BY u.id LIMIT $1"
    ))
    .bind(i64::from(limit.max(1)))
    .fetch_all(&p.write)
    .await
    .map_err(db_err)?;
    Ok(rows.into_iter().map(Upload::from).collect())
}

pub(super) async fn forget(p: &Pools, id: Id) -> Result<()> {
    sqlx::query("DELETE FROM uploads WHERE id = $1 AND removed_at IS NOT NULL")
        .bind(id.0)
        .execute(&p.write)
        .await
        .map_err(db_err)?;
    Ok(())
}
