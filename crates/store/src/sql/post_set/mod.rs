//! The set-based write of a group-commit batch: the same few statements
//! whether the batch holds one message or 256 (see `post.rs` for the
//! fallback that stores message by message).
//!
//! In one transaction: lock the batch's rooms (in id order on PostgreSQL)
//! and read which senders are members with what a message shows of them, in
//! one statement; read what the other checks need (replied-to messages,
//! earlier `clientId`s) only when a message asks for it; take every room's
//! seqs with one `UPDATE … RETURNING`; then write the messages, mentions, log
//! events and each sender's cursor. On SQLite (in-process, statements are
//! cheap) those are four multi-row statements; on PostgreSQL, where every
//! statement is a round trip and a plan, the message ids come with the seqs
//! (`nextval` in the same statement) and everything is ONE statement of the
//! same text whatever the batch (`jsonb_to_recordset`, so it is prepared
//! once). The messages are built from what was written: nothing is read
//! back.
//!
//! Layout: `checks.rs` reads under the rooms' locks and refuses;
//! `seqs.rs` places the new messages; `built.rs` builds them; `sqlite.rs`
//! and `pg.rs` write them.

mod built;
mod checks;
mod pg;
mod seqs;
mod sqlite;
#[cfg(all(test, feature = "testing"))]
mod tests;

use natter_core::{Error, Id, Message, Result};
use sqlx::QueryBuilder;

use super::{messages, postgres, Conn, Db, Pools};
use crate::error::db_err;
use crate::rows::micros;
use crate::{now, NewMessage, Posted};

/// Binds per multi-row statement: well under SQLite's 32,766 and
/// PostgreSQL's 65,535, whatever the batch (an `@room` in a big room gives
/// a message thousands of mention rows).
const MAX_BINDS: usize = 6_000;

/// What the set-based path made of a batch.
pub(super) enum SetOutcome {
    /// Committed (or, if everything was refused, rolled back): the answers.
    Done(Vec<Result<Posted>>),
    /// Something needs the per-message path (a `clientId` twice in the
    /// batch, an attachment refused after its message was written, a
    /// database error): rolled back, nothing of the batch was stored.
    Fallback,
}

/// Stores `msgs` (taken in `order`: by room, arrival order within a room).
pub(super) async fn post(p: &Pools, msgs: &[NewMessage], order: &[usize]) -> Result<SetOutcome> {
    let mut tx = p.begin().await?;
    match write(&mut tx, msgs, order).await {
        Ok(Some((results, stored))) => {
            if stored {
                tx.commit().await.map_err(db_err)?;
            } else {
                tx.rollback().await.map_err(db_err)?;
            }
            Ok(SetOutcome::Done(results))
        }
        Ok(None) => {
            tx.rollback().await.map_err(db_err)?;
            Ok(SetOutcome::Fallback)
        }
        Err(e) => {
            tracing::debug!(error = %e, "set-based batch fell back to one message at a time");
            tx.rollback().await.map_err(db_err)?;
            Ok(SetOutcome::Fallback)
        }
    }
}

/// `(message, room, user, seq)`: a mention row to insert.
type Mention = (i64, i64, i64, i64);

/// `(room, user, seq)`: where a sender's read cursor moves.
type Cursor = (i64, i64, i64);

/// A new message of the batch: its index in the batch, and the message.
type Stored = (usize, Message);

/// `Ok(None)`: fall back. Otherwise the answers (in `msgs` order) and
/// whether anything was written.
async fn write(
    c: &mut Conn,
    msgs: &[NewMessage],
    order: &[usize],
) -> Result<Option<(Vec<Result<Posted>>, bool)>> {
    let mut answers: Vec<Option<Result<Posted>>> = msgs.iter().map(|_| None).collect();
    let senders = checks::lock_members(c, msgs).await?;
    let replied = checks::replied(c, msgs).await?;

    // Refusals that write nothing: an unknown room, a sender who is not (or
    // no longer) a member, a bad replyToId.
    checks::refuse(msgs, order, &senders, &replied, &mut answers);
    // Replays of a clientId stored earlier (read under the rooms' locks); a
    // clientId twice in this batch is left to the per-message path.
    if checks::client_id_twice(msgs, order, &answers) {
        return Ok(None);
    }
    for (i, id) in checks::earlier_client_ids(c, msgs, &answers).await? {
        let message = messages::get(c, Id(id))
            .await?
            .ok_or_else(|| Error::internal("a replayed message is missing"))?;
        answers[i] = Some(Ok(Posted {
            message,
            created: false,
        }));
    }

    let new: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&i| answers[i].is_none())
        .collect();
    if new.is_empty() {
        return Ok(Some((finish(answers), false)));
    }
    let at = now();
    let (seqs, ids) = seqs::take(c, msgs, &new, micros(at)).await?;
    let ids = match ids {
        Some(ids) => ids,
        None => sqlite::insert_messages(c, msgs, &new, &seqs, at).await?,
    };
    // (index, seq, id) of each new message, in `new` order.
    let placed = new
        .iter()
        .map(|&i| match (seqs.get(&i), ids.get(&i)) {
            (Some(&seq), Some(&id)) => Ok((i, seq, id)),
            _ => Err(Error::internal("a new message has no seq or id")),
        })
        .collect::<Result<Vec<_>>>()?;
    let (stored, mentions) = built::messages(msgs, &placed, at, &senders.users, &replied)?;
    let cursors = seqs::cursors(msgs, &new, &seqs);
    if postgres() {
        pg::write(c, msgs, &stored, &mentions, &cursors, at).await?;
    } else {
        sqlite::write(c, &stored, &mentions, &cursors).await?;
    }
    // After the rows exist (an upload points at its message).
    for &(i, _, id) in &placed {
        if msgs[i].file_url.is_some() && super::uploads::attach(c, id, &msgs[i]).await.is_err() {
            return Ok(None);
        }
    }
    for (i, message) in stored {
        answers[i] = Some(Ok(Posted {
            message,
            created: true,
        }));
    }
    Ok(Some((finish(answers), true)))
}

fn finish(answers: Vec<Option<Result<Posted>>>) -> Vec<Result<Posted>> {
    answers
        .into_iter()
        .map(|a| a.unwrap_or_else(|| Err(Error::internal("a message of the batch was skipped"))))
        .collect()
}

fn push_list(q: &mut QueryBuilder<'_, Db>, ids: &[i64]) {
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
}
