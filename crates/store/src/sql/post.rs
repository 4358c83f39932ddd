//! Storing new messages: `post` and the group writer's `post_batch`, which
//! tries the set-based write (`post_set.rs`) and falls back to storing the
//! batch message by message when a message needs its own undo.

use natter_core::search;
use natter_core::{Error, Id, Message, Result};

use super::messages::{get, insert_mentions, log, message_select, next_seq};
use super::{post_set, reads, Conn, Pools};
use crate::error::db_err;
use crate::rows::{assemble, mention_rows, micros, LoggedEvent, MessageRow};
use crate::{now, NewMessage, OnStored, Posted};

async fn by_client_id(c: &mut Conn, msg: &NewMessage, client_id: &str) -> Result<Option<Message>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM messages WHERE room_id = $1 AND user_id = $2 AND client_id = $3",
    )
    .bind(msg.room_id.0)
    .bind(msg.user_id.0)
    .bind(client_id)
    .fetch_optional(&mut *c)
    .await
    .map_err(db_err)?;
    match row {
        Some((id,)) => get(c, Id(id)).await,
        None => Ok(None),
    }
}

/// The earlier message of a repeated `client_id`, read from a reader so a
/// replay is answered without queueing for the writer.
pub(super) async fn replay(p: &Pools, msg: &NewMessage) -> Result<Option<Posted>> {
    let Some(cid) = &msg.client_id else {
        return Ok(None);
    };
    let found = by_client_id(&mut *p.read().await?, msg, cid).await?;
    Ok(found.map(|message| Posted {
        message,
        created: false,
    }))
}

/// Stores one message (no group writer): the replay check, then a batch of
/// one. `then` runs after the commit; without a writer, two posts into one
/// room may run their hooks in either order.
pub(super) async fn post(p: &Pools, msg: NewMessage, then: OnStored) -> Result<Posted> {
    if let Some(posted) = replay(p, &msg).await? {
        return Ok(posted);
    }
    let posted = post_batch(p, std::slice::from_ref(&msg))
        .await
        .pop()
        .unwrap_or_else(|| Err(Error::internal("a batch of one gave no result")))?;
    if posted.created {
        then(&posted.message);
    }
    Ok(posted)
}

/// Stores `msgs` in ONE transaction with one commit (group commit) and
/// answers each in order, only once the commit is durable.
///
/// Messages are stored in room order (stable: each room keeps the order of
/// arrival), so on PostgreSQL the room locks are taken in one order. The
/// batch is first written set-based (`post_set.rs`: a few statements for
/// the whole batch). A message that is refused before anything of it is
/// written (an unknown room, a sender who is not a member, a bad
/// `replyToId`) fails alone; a replay of a stored `client_id` is answered
/// with the earlier message. When a message
/// must be undone after something of it was written (a `client_id` twice in
/// the batch, or stored meanwhile by another node; a refused attachment; any
/// database error), the transaction rolls back and the batch runs again one
/// message at a time with a SAVEPOINT each, so that only that message is
/// undone. If the transaction itself fails (begin, a savepoint, the commit)
/// every message of the batch fails: nothing of it is acknowledged.
pub(super) async fn post_batch(p: &Pools, msgs: &[NewMessage]) -> Vec<Result<Posted>> {
    let mut order: Vec<usize> = (0..msgs.len()).collect();
    order.sort_by_key(|&i| msgs[i].room_id.0);
    let tried = match post_set::post(p, msgs, &order).await {
        Ok(post_set::SetOutcome::Done(results)) => Ok(results),
        Ok(post_set::SetOutcome::Fallback) => one_by_one(p, msgs, &order).await,
        Err(e) => Err(e),
    };
    tried.unwrap_or_else(|e| {
        tracing::warn!(error = %e, messages = msgs.len(), "a group commit failed");
        msgs.iter()
            .map(|_| Err(Error::internal(format!("group commit failed: {e}"))))
            .collect()
    })
}

/// The batch one message at a time, each in a savepoint of its own (a
/// message alone: the transaction is its unit).
async fn one_by_one(
    p: &Pools,
    msgs: &[NewMessage],
    order: &[usize],
) -> Result<Vec<Result<Posted>>> {
    let mut results: Vec<Option<Result<Posted>>> = msgs.iter().map(|_| None).collect();
    let mut tx = p.begin().await?;
    let savepoints = msgs.len() > 1;
    let mut stored = false;
    for &i in order {
        if savepoints {
            savepoint(&mut tx, "SAVEPOINT post").await?;
        }
        let result = match insert_one(&mut tx, &msgs[i]).await {
            Outcome::Stored(posted) => Ok(posted),
            Outcome::Refused(e) => Err(e),
            Outcome::Undo(result) if savepoints => {
                savepoint(&mut tx, "ROLLBACK TO SAVEPOINT post").await?;
                result
            }
            Outcome::Undo(result) => {
                tx.rollback().await.map_err(db_err)?;
                return Ok(vec![result]);
            }
        };
        if savepoints {
            savepoint(&mut tx, "RELEASE SAVEPOINT post").await?;
        }
        stored |= matches!(result, Ok(Posted { created: true, .. }));
        results[i] = Some(result);
    }
    if stored {
        tx.commit().await.map_err(db_err)?;
    } else {
        // Everything refused: nothing to make durable.
        tx.rollback().await.map_err(db_err)?;
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::internal("a message of the batch was skipped"))))
        .collect())
}

async fn savepoint(c: &mut Conn, sql: &'static str) -> Result<()> {
    sqlx::query(sql).execute(&mut *c).await.map_err(db_err)?;
    Ok(())
}

/// What storing one message inside a transaction did.
enum Outcome {
    Stored(Posted),
    /// Refused before anything was written: nothing to undo.
    Refused(Error),
    /// Some of it was written and must be undone; then this is the answer
    /// (a replay: the earlier message; or the error).
    Undo(Result<Posted>),
}

/// One message inside the caller's transaction.
async fn insert_one(c: &mut Conn, msg: &NewMessage) -> Outcome {
    // Checked before the seq is taken, so a bad one writes nothing. Messages
    // are never removed (a delete leaves a tombstone in place), so what is
    // checked here still holds at the insert.
    match member_ok(c, msg).await {
        Ok(None) => {}
        Ok(Some(refused)) => return Outcome::Refused(refused),
        Err(e) => return Outcome::Undo(Err(e)),
    }
    if let Some(reply) = msg.reply_to_id {
        match reply_ok(c, msg, reply).await {
            Ok(None) => {}
            Ok(Some(refused)) => return Outcome::Refused(refused),
            Err(e) => return Outcome::Undo(Err(e)),
        }
    }
    let at = now();
    let seq = match next_seq(c, msg.room_id.0, Some(micros(at))).await {
        Ok(seq) => seq,
        // The UPDATE matched no row: nothing was written.
        Err(e @ Error::NotFound(_)) => return Outcome::Refused(e),
        Err(e) => return Outcome::Undo(Err(e)),
    };
    // Checked under the room's lock: a concurrent replay may have won (or an
    // earlier message of the same batch).
    if let Some(cid) = &msg.client_id {
        match by_client_id(c, msg, cid).await {
            Ok(None) => {}
            Ok(Some(message)) => {
                return Outcome::Undo(Ok(Posted {
                    message,
                    created: false,
                }))
            }
            Err(e) => return Outcome::Undo(Err(e)),
        }
    }
    match store_new(c, msg, seq, at).await {
        Ok(message) => Outcome::Stored(Posted {
            message,
            created: true,
        }),
        Err(e) => Outcome::Undo(Err(e)),
    }
}

/// `None` if the sender is a member of the message's room; otherwise the
/// refusal (as the set-based path and `App::require_member` word it).
async fn member_ok(c: &mut Conn, msg: &NewMessage) -> Result<Option<Error>> {
    let (room, member): (Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT (SELECT id FROM rooms WHERE id = $1),
                (SELECT room_id FROM members WHERE room_id = $1 AND user_id = $2)",
    )
    .bind(msg.room_id.0)
    .bind(msg.user_id.0)
    .fetch_one(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(match (room, member) {
        (None, _) => Some(Error::not_found("room not found")),
        (Some(_), None) => Some(Error::forbidden("you are not a member of this room")),
        (Some(_), Some(_)) => None,
    })
}

/// `None` if `reply` is a message of the message's room; otherwise the
/// refusal: `not_found` for an unknown room (as when the seq is taken),
/// else `invalid`.
async fn reply_ok(c: &mut Conn, msg: &NewMessage, reply: Id) -> Result<Option<Error>> {
    let of: Option<(i64,)> = sqlx::query_as("SELECT room_id FROM messages WHERE id = $1")
        .bind(reply.0)
        .fetch_optional(&mut *c)
        .await
        .map_err(db_err)?;
    if of == Some((msg.room_id.0,)) {
        return Ok(None);
    }
    let room: Option<(i64,)> = sqlx::query_as("SELECT id FROM rooms WHERE id = $1")
        .bind(msg.room_id.0)
        .fetch_optional(&mut *c)
        .await
        .map_err(db_err)?;
    Ok(Some(match room {
        None => Error::not_found("room not found"),
        Some(_) => Error::invalid("replyToId is not a message of this room"),
    }))
}

/// Writes a new message with its seq: the row, its mentions, the sender's
/// cursor and its `message:new` event.
async fn store_new(
    c: &mut Conn,
    msg: &NewMessage,
    seq: i64,
    at: time::OffsetDateTime,
) -> Result<Message> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO messages (room_id, user_id, seq, content, kind, file_url, reply_to_id, client_id,
                               created_at, updated_at, search_text, has_link)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11)
         RETURNING id",
    )
    .bind(msg.room_id.0)
    .bind(msg.user_id.0)
    .bind(seq)
    .bind(&msg.content)
    .bind(msg.kind.as_str())
    .bind(&msg.file_url)
    .bind(msg.reply_to_id.map(|r| r.0))
    .bind(&msg.client_id)
    .bind(at)
    // Indexed for search in this same statement (sql/search/).
    .bind(search::index_text(&msg.content))
    .bind(search::has_link(&msg.content))
    .fetch_one(&mut *c)
    .await
    .map_err(db_err)?;
    super::uploads::attach(c, id, msg).await?;
    insert_mentions(c, id, msg.room_id.0, seq, &msg.mentions).await?;
    reads::mark_read(c, msg.room_id, msg.user_id, seq).await?;
    let message = get_new(c, id, &msg.mentions).await?;
    log(c, msg.room_id, seq, LoggedEvent::message_new(&message)).await?;
    Ok(message)
}

/// A message just inserted, read back with one query: it has no reactions
/// yet, and its mentions are the ones just inserted (sorted, deduplicated,
/// as `hydrate` would read them).
async fn get_new(c: &mut Conn, id: i64, mentions: &[Id]) -> Result<Message> {
    let rows: Vec<MessageRow> = sqlx::query_as(concat!(message_select!(), " WHERE m.id = $1"))
        .bind(id)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
    let mentions = mention_rows(id, mentions);
    assemble(rows, Vec::new(), mentions)?
        .pop()
        .ok_or_else(|| Error::internal("a message just stored is missing"))
}
