//! Rows as both backends read them, and their assembly into the wire objects.
//!
//! The row structs derive `FromRow` generically, so one definition serves
//! SQLite and PostgreSQL; everything here is plain Rust with no IO, which is
//! also where the event payloads of the room log are built, so the live event
//! and the logged one cannot differ.

mod log;
mod messages;
mod rooms;
mod users;

use time::OffsetDateTime;

pub(crate) use log::{logged, LoggedEvent};
pub(crate) use messages::{
    assemble, group_reactions, mention_rows, MentionRow, MessageRow, ReactionRow,
};
pub(crate) use rooms::{notify_level, role, MemberRow, RoomRow};
pub(crate) use users::{MeRow, UserRow};

/// A `LIKE` pattern matching `query` anywhere, ignoring case: the query is
/// lower-cased (the SQL lower-cases the column) and its wildcards escaped
/// with `\` (the SQL says `ESCAPE '\'`).
pub(crate) fn contains_pattern(query: &str) -> String {
    let mut p = String::with_capacity(query.len() + 2);
    p.push('%');
    for c in query.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Microseconds since the epoch: the room-list sort key, kept as an integer
/// so it sorts the same on both backends.
pub(crate) fn micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern(" A_b%\\ "), "%a\\_b\\%\\\\%");
        assert_eq!(contains_pattern(""), "%%");
    }

    #[test]
    fn micros_count_from_the_epoch() {
        assert_eq!(micros(OffsetDateTime::UNIX_EPOCH), 0);
        let t = OffsetDateTime::UNIX_EPOCH + time::Duration::nanoseconds(1_234_567_999);
        assert_eq!(micros(t), 1_234_567);
    }
}
