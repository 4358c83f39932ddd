//! Accounts: creation, login lookup, search.

use natter_core::{Id, Me, Result, User};
use sqlx::QueryBuilder;

use super::{clamp, Db, Pools};
use crate::error::db_err;
use crate::rows::{contains_pattern, MeRow, UserRow};
use crate::{now, Credentials, NewUser};

/// What [`MeRow`] reads (the hash too: one row type serves `me` and login).
const ME_COLUMNS: &str = "id, username, name, avatar, email, password_hash";

/// The unique indexes on `lower(email)` / `lower(username)` decide clashes,
/// race-free; `db_err` turns them into "… is taken".
pub(super) async fn create(p: &Pools, u: NewUser) -> Result<Me> {
    let row: MeRow = sqlx::query_as(
        "INSERT INTO users (email, username, name, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING id, username, name, avatar, email, password_hash",
    )
    .bind(&u.email)
    .bind(&u.username)
    .bind(&u.name)
    .bind(&u.password_hash)
    .bind(now())
    .fetch_one(&p.write)
    .await
    .map_err(db_err)?;
    Ok(row.me())
}

pub(super) async fn credentials(p: &Pools, login: &str) -> Result<Option<Credentials>> {
    let sql = format!(
        "SELECT {ME_COLUMNS} FROM users WHERE lower(email) = lower($1) OR lower(username) = lower($1)"
    );
    let row: Option<MeRow> = sqlx::query_as(&sql)
        .bind(natter_core::validate::login_key(login))
        .fetch_optional(&p.read)
        .await
        .map_err(db_err)?;
    Ok(row.map(MeRow::credentials))
}

pub(super) async fn me(p: &Pools, id: Id) -> Result<Option<Me>> {
    let sql = format!("SELECT {ME_COLUMNS} FROM users WHERE id = $1");
    let row: Option<MeRow> = sqlx::query_as(&sql)
        .bind(id.0)
        .fetch_optional(&p.read)
        .await
        .map_err(db_err)?;
    Ok(row.map(MeRow::me))
}

pub(super) async fn user(p: &Pools, id: Id) -> Result<Option<User>> {
    let row: Option<UserRow> =
        sqlx::query_as("SELECT id, username, name, avatar FROM users WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&p.read)
            .await
            .map_err(db_err)?;
    Ok(row.map(User::from))
}

pub(super) async fn search(p: &Pools, query: &str, limit: u32) -> Result<Vec<User>> {
    let rows: Vec<UserRow> = sqlx::query_as(
        "SELECT id, username, name, avatar FROM users
         WHERE lower(username) LIKE $1 ESCAPE '\\' OR lower(name) LIKE $1 ESCAPE '\\'
         ORDER BY lower(username)
         LIMIT $2",
    )
    .bind(contains_pattern(query))
    .bind(clamp(limit, 100))
    .fetch_all(&p.read)
    .await
    .map_err(db_err)?;
    Ok(rows.into_iter().map(User::from).collect())
}

pub(super) async fn by_username(p: &Pools, usernames: &[String]) -> Result<Vec<User>> {
    if usernames.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<Db>::new(
        "SELECT id, username, name, avatar FROM users WHERE lower(username) IN (",
    );
    let mut list = q.separated(", ");
    for name in usernames {
        list.push_bind(name.to_lowercase());
    }
    q.push(") ORDER BY id");
    let rows: Vec<UserRow> = q
        .build_query_as()
        .fetch_all(&p.read)
        .await
        .map_err(db_err)?;
    Ok(rows.into_iter().map(User::from).collect())
}
