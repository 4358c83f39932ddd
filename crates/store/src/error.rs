//! The one place where database errors become [`natter_core::Error`]s, so both
//! backends answer the same failure with the same error.

use natter_core::Error;

/// Maps a sqlx error to the error a caller sees.
///
/// Unique violations become `conflict` naming the field when the constraint
/// is one of the user's unique fields (both backends put the field name in
/// the index name, and SQLite only tells us that name in the message text).
/// A foreign key violation means an id that does not exist: `not_found`.
/// A database that cannot be reached (no connection within the pool's
/// timeout, a broken socket) is `Unavailable`: a clear, retryable error.
/// Everything else is `internal`, with the detail kept for the log.
pub(crate) fn db_err(err: sqlx::Error) -> Error {
    if matches!(
        err,
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed
    ) {
        tracing::warn!(error = %err, "database unreachable");
        return Error::Unavailable("the database is unreachable; retry shortly".into());
    }
    if let sqlx::Error::Database(db) = &err {
        let what = format!("{} {}", db.constraint().unwrap_or_default(), db.message());
        if db.is_unique_violation() {
            return if what.contains("username") {
                Error::conflict("username is taken")
            } else if what.contains("email") {
                Error::conflict("email is taken")
            } else {
                Error::conflict("already exists")
            };
        }
        if db.is_foreign_key_violation() {
            return Error::not_found("refers to a room, user or message that does not exist");
        }
    }
    Error::internal(format!("database: {err}"))
}

/// For values the database handed back that do not parse (a corrupt row).
pub(crate) fn bad_row(what: impl std::fmt::Display) -> Error {
    Error::internal(format!("unreadable row: {what}"))
}
