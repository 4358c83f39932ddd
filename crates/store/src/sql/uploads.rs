//! Upload records (the bytes are the file store's).

use natter_core::{Id, Result};

use super::Pools;
use crate::error::db_err;
use crate::{now, NewUpload, Upload};

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
}

impl From<UploadRow> for Upload {
    fn from(r: UploadRow) -> Self {
        Upload {
            id: Id(r.id),
            room_id: Id(r.room_id),
            user_id: Id(r.user_id),
            name: r.name,
            content_type: r.content_type,
            size: r.size,
            width: r.width,
            height: r.height,
            has_thumbnail: r.has_thumbnail,
            created_at: r.created_at,
        }
    }
}

const COLUMNS: &str =
    "id, room_id, user_id, name, content_type, size, width, height, has_thumbnail, created_at";

pub(super) async fn create(p: &Pools, u: NewUpload) -> Result<Upload> {
    let sql = format!(
        "INSERT INTO uploads (room_id, user_id, name, content_type, size, width, height, has_thumbnail, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
    );
    let row: UploadRow = sqlx::query_as(&sql)
        .bind(u.room_id.0)
        .bind(u.user_id.0)
        .bind(&u.name)
        .bind(&u.content_type)
        .bind(u.size)
        .bind(u.width)
        .bind(u.height)
        .bind(u.has_thumbnail)
        .bind(now())
        .fetch_one(&p.write)
        .await
        .map_err(db_err)?;
    Ok(row.into())
}

pub(super) async fn get(p: &Pools, id: Id) -> Result<Option<Upload>> {
    let sql = format!("SELECT {COLUMNS} FROM uploads WHERE id = $1");
    let row: Option<UploadRow> = sqlx::query_as(&sql)
        .bind(id.0)
        .fetch_optional(&p.read)
        .await
        .map_err(db_err)?;
    Ok(row.map(Upload::from))
}
