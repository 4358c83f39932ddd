//! Sessions: one row per signed-in token (`sid` claim). Revoking deletes the
//! row, so a token whose row is gone is refused from then on.

use natter_core::{Id, Result};

use super::Pools;
use crate::error::db_err;
use crate::{now, NewSession, StoredSession};

pub(super) async fn create(p: &Pools, s: NewSession) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&s.id)
    .bind(s.user_id.0)
    .bind(now())
    .bind(s.expires_at)
    .execute(&p.write)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(super) async fn get(p: &Pools, id: &str) -> Result<Option<StoredSession>> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT user_id, expires_at FROM sessions WHERE id = $1")
            .bind(id)
            .fetch_optional(&p.read)
            .await
            .map_err(db_err)?;
    Ok(row.map(|(user, expires_at)| StoredSession {
        user_id: Id(user),
        expires_at,
    }))
}

pub(super) async fn revoke(p: &Pools, id: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(id)
        .execute(&p.write)
        .await
        .map_err(db_err)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn revoke_of_user(p: &Pools, user: Id, keep: Option<&str>) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "DELETE FROM sessions WHERE user_id = $1 AND id <> COALESCE($2, '') RETURNING id",
    )
    .bind(user.0)
    .bind(keep)
    .fetch_all(&p.write)
    .await
    .map_err(db_err)?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// New hash and every other session revoked, in one transaction: a stolen
/// session cannot outlive the password change.
pub(super) async fn change_password(
    p: &Pools,
    user: Id,
    hash: &str,
    keep: Option<&str>,
) -> Result<Vec<String>> {
    let mut tx = p.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(user.0)
        .bind(hash)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    let rows: Vec<(String,)> = sqlx::query_as(
        "DELETE FROM sessions WHERE user_id = $1 AND id <> COALESCE($2, '') RETURNING id",
    )
    .bind(user.0)
    .bind(keep)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

pub(super) async fn prune(p: &Pools, now_unix: i64) -> Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now_unix)
        .execute(&p.write)
        .await
        .map_err(db_err)?;
    Ok(done.rows_affected())
}

/// Whether the pair already has its DM room (opening one is rate limited).
pub(super) async fn dm_exists(p: &Pools, a: Id, b: Id) -> Result<bool> {
    let key = format!("{}:{}", a.0.min(b.0), a.0.max(b.0));
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM rooms WHERE dm_key = $1")
        .bind(key)
        .fetch_optional(&p.read)
        .await
        .map_err(db_err)?;
    Ok(row.is_some())
}

pub(super) async fn password_hash(p: &Pools, user: Id) -> Result<Option<String>> {
    let row: Option<(String,)> = sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
        .bind(user.0)
        .fetch_optional(&p.read)
        .await
        .map_err(db_err)?;
    Ok(row.map(|(h,)| h))
}
