//! Messages and the room log: every change takes the room's next seq and is
//! logged with its live payload in the same transaction.
//!
//! `read`: a message, and the rows of any page made whole (reactions,
//! mentions); `history`: a room's pages and the page around one message;
//! `write`: edits, deletes and reactions; `log`: the room's seqs, its event
//! log and the catch-up reads of `sync`. New messages are stored by
//! `post.rs` / `post_set.rs`.

mod history;
mod log;
mod read;
mod write;

pub(super) use history::{around, history};
pub(super) use log::{events_after, log, next_seq};
pub(super) use read::{get, message_select};
pub(super) use write::{delete, edit, insert_mentions, toggle_reaction};
