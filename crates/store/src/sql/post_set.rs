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

use std::collections::{BTreeMap, HashMap, HashSet};

use natter_core::search;
use natter_core::{Error, Id, Result};
use sqlx::QueryBuilder;

use super::{messages, postgres, Conn, Db, Pools};
use crate::error::db_err;
use crate::rows::{assemble, micros, LoggedEvent, MentionRow, MessageRow, UserRow};
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

/// A replied-to message: its room, and what a reply shows of it.
struct Replied {
    room: i64,
    content: String,
    username: String,
}

/// `Ok(None)`: fall back. Otherwise the answers (in `msgs` order) and
/// whether anything was written.
async fn write(
    c: &mut Conn,
    msgs: &[NewMessage],
    order: &[usize],
) -> Result<Option<(Vec<Result<Posted>>, bool)>> {
    let mut answers: Vec<Option<Result<Posted>>> = msgs.iter().map(|_| None).collect();
    let senders = lock_members(c, msgs).await?;
    let replied = replied(c, msgs).await?;

    // Refusals that write nothing: an unknown room, a sender who is not (or
    // no longer) a member, a bad replyToId.
    for &i in order {
        let m = &msgs[i];
        if let Some(refused) = senders.refusal(m) {
            answers[i] = Some(Err(refused));
        } else if let Some(r) = m.reply_to_id {
            if replied.get(&r.0).map(|r| r.room) != Some(m.room_id.0) {
                answers[i] = Some(Err(Error::invalid(
                    "replyToId is not a message of this room",
                )));
            }
        }
    }
    // Replays of a clientId stored earlier (read under the rooms' locks); a
    // clientId twice in this batch is left to the per-message path.
    let mut seen = HashSet::new();
    for &i in order {
        if let (None, Some(cid)) = (&answers[i], &msgs[i].client_id) {
            if !seen.insert((msgs[i].room_id.0, msgs[i].user_id.0, cid.as_str())) {
                return Ok(None);
            }
        }
    }
    for (i, id) in earlier_client_ids(c, msgs, &answers).await? {
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
    let (seqs, ids) = take_seqs(c, msgs, &new, micros(at)).await?;
    let ids = match ids {
        Some(ids) => ids,
        None => insert_messages(c, msgs, &new, &seqs, at).await?,
    };
    // (index, seq, id) of each new message, in `new` order.
    let placed = new
        .iter()
        .map(|&i| match (seqs.get(&i), ids.get(&i)) {
            (Some(&seq), Some(&id)) => Ok((i, seq, id)),
            _ => Err(Error::internal("a new message has no seq or id")),
        })
        .collect::<Result<Vec<_>>>()?;
    let mut stored = Vec::with_capacity(new.len());
    let mut mentions = Vec::new();
    for &(i, seq, id) in &placed {
        let m = &msgs[i];
        let mut users = m.mentions.clone();
        users.sort();
        users.dedup();
        let row = message_row(m, id, seq, at, &senders.users, &replied)?;
        let mention_rows = users
            .iter()
            .map(|u| MentionRow {
                message_id: id,
                user_id: u.0,
            })
            .collect();
        mentions.extend(users.iter().map(|u| (id, m.room_id.0, u.0, seq)));
        let message = assemble(vec![row], Vec::new(), mention_rows)?
            .pop()
            .ok_or_else(|| Error::internal("a message just stored is missing"))?;
        stored.push((i, message));
    }
    let cursors = cursors(msgs, &new, &seqs);
    if postgres() {
        write_pg(c, msgs, &stored, &mentions, &cursors, at).await?;
    } else {
        insert_mentions(c, &mentions).await?;
        move_cursors(c, &cursors).await?;
        log_new(c, &stored).await?;
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

/// Who may send into the batch's rooms, read under the rooms' locks.
struct Senders {
    /// The batch's rooms that exist.
    rooms: HashSet<i64>,
    /// `(room, user)` of each sender who is a member of that room.
    members: HashSet<(i64, i64)>,
    /// What a message shows of its sender, by id.
    users: HashMap<i64, UserRow>,
}

impl Senders {
    /// Why `m` is refused, if it is (the errors of `App::require_member`).
    fn refusal(&self, m: &NewMessage) -> Option<Error> {
        if !self.rooms.contains(&m.room_id.0) {
            Some(Error::not_found("room not found"))
        } else if !self.members.contains(&(m.room_id.0, m.user_id.0)) {
            Some(Error::forbidden("you are not a member of this room"))
        } else {
            None
        }
    }
}

/// Locks the batch's rooms and reads which senders are their members, in
/// one statement: the membership check is part of the write, so a member
/// removed a moment ago cannot post, and a send needs no query of its own
/// before it is queued. On PostgreSQL the rooms' rows are locked in id
/// order, so two nodes' writers never deadlock over the same rooms; SQLite
/// has one writer at a time anyway.
async fn lock_members(c: &mut Conn, msgs: &[NewMessage]) -> Result<Senders> {
    let distinct = |ids: &mut Vec<i64>| {
        ids.sort_unstable();
        ids.dedup();
    };
    let mut rooms: Vec<i64> = msgs.iter().map(|m| m.room_id.0).collect();
    distinct(&mut rooms);
    let mut users: Vec<i64> = msgs.iter().map(|m| m.user_id.0).collect();
    distinct(&mut users);
    let mut q = QueryBuilder::<Db>::new(
        "SELECT r.id, u.id, u.username, u.name, u.avatar FROM rooms r
         LEFT JOIN members mb ON mb.room_id = r.id AND mb.user_id IN (",
    );
    push_list(&mut q, &users);
    q.push(") LEFT JOIN users u ON u.id = mb.user_id WHERE r.id IN (");
    push_list(&mut q, &rooms);
    q.push(") ORDER BY r.id");
    if postgres() {
        q.push(" FOR UPDATE OF r");
    }
    type Row = (
        i64,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = q
        .build_query_as()
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
    let mut senders = Senders {
        rooms: HashSet::new(),
        members: HashSet::new(),
        users: HashMap::new(),
    };
    for (room, user, username, name, avatar) in rows {
        senders.rooms.insert(room);
        if let (Some(id), Some(username), Some(name)) = (user, username, name) {
            senders.members.insert((room, id));
            senders.users.insert(
                id,
                UserRow {
                    id,
                    username,
                    name,
                    avatar,
                },
            );
        }
    }
    Ok(senders)
}

/// The messages replied to, by id. Messages are never removed and never
/// change room, so what is read here still holds at the insert.
async fn replied(c: &mut Conn, msgs: &[NewMessage]) -> Result<HashMap<i64, Replied>> {
    let mut ids: Vec<i64> = msgs
        .iter()
        .filter_map(|m| m.reply_to_id)
        .map(|r| r.0)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut q = QueryBuilder::<Db>::new(
        "SELECT m.id, m.room_id, m.content, u.username
         FROM messages m JOIN users u ON u.id = m.user_id WHERE m.id IN (",
    );
    push_list(&mut q, &ids);
    q.push(")");
    let rows: Vec<(i64, i64, String, String)> = q
        .build_query_as()
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
    Ok(rows
        .into_iter()
        .map(|(id, room, content, username)| {
            (
                id,
                Replied {
                    room,
                    content,
                    username,
                },
            )
        })
        .collect())
}

/// `(index, earlier message id)` of each unanswered message whose
/// `clientId` its sender already used in that room.
async fn earlier_client_ids(
    c: &mut Conn,
    msgs: &[NewMessage],
    answers: &[Option<Result<Posted>>],
) -> Result<Vec<(usize, i64)>> {
    let asked: Vec<(usize, &NewMessage, &str)> = msgs
        .iter()
        .enumerate()
        .filter(|(i, _)| answers[*i].is_none())
        .filter_map(|(i, m)| m.client_id.as_deref().map(|cid| (i, m, cid)))
        .collect();
    let mut found = Vec::new();
    // Three binds a message.
    for chunk in asked.chunks(MAX_BINDS / 3) {
        let mut q =
            QueryBuilder::<Db>::new("SELECT id, room_id, user_id, client_id FROM messages WHERE ");
        let mut first = true;
        for (_, m, cid) in chunk {
            q.push(if first { "(" } else { " OR (" });
            first = false;
            q.push("room_id = ")
                .push_bind(m.room_id.0)
                .push(" AND user_id = ")
                .push_bind(m.user_id.0)
                .push(" AND client_id = ")
                .push_bind(cid.to_string())
                .push(")");
        }
        let rows: Vec<(i64, i64, i64, String)> = q
            .build_query_as()
            .fetch_all(&mut *c)
            .await
            .map_err(db_err)?;
        for (id, room, user, cid) in rows {
            found.extend(
                chunk
                    .iter()
                    .filter(|(_, m, c)| m.room_id.0 == room && m.user_id.0 == user && *c == cid)
                    .map(|(i, _, _)| (*i, id)),
            );
        }
    }
    Ok(found)
}

/// Message index → seq and, on PostgreSQL, → id.
type Placed = (HashMap<usize, i64>, Option<HashMap<usize, i64>>);

/// Takes `k` seqs for each room with `k` new messages, in one statement,
/// and hands them out in order: message index → seq. On PostgreSQL the
/// same statement takes the new messages' ids from the table's identity
/// sequence, so everything after it can be written in one statement.
async fn take_seqs(
    c: &mut Conn,
    msgs: &[NewMessage],
    new: &[usize],
    activity: i64,
) -> Result<Placed> {
    let mut per_room: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for &i in new {
        per_room.entry(msgs[i].room_id.0).or_default().push(i);
    }
    let mut q = QueryBuilder::<Db>::new(if postgres() {
        "WITH s AS (UPDATE rooms SET last_seq = last_seq + CASE id"
    } else {
        "UPDATE rooms SET last_seq = last_seq + CASE id"
    });
    for (room, of) in &per_room {
        q.push(" WHEN ")
            .push_bind(*room)
            .push(" THEN ")
            .push_bind(i64::try_from(of.len()).unwrap_or(i64::MAX));
    }
    q.push(" ELSE 0 END, last_activity = ")
        .push_bind(activity)
        .push(" WHERE id IN (");
    let rooms: Vec<i64> = per_room.keys().copied().collect();
    push_list(&mut q, &rooms);
    q.push(") RETURNING id, last_seq");
    if postgres() {
        // Rooms' rows have a room id; the ids' rows have none.
        q.push(
            ") SELECT id, last_seq FROM s UNION ALL
             SELECT NULL, nextval(pg_get_serial_sequence('messages', 'id'))
             FROM generate_series(1, ",
        )
        .push_bind(i64::try_from(new.len()).unwrap_or(i64::MAX))
        .push(")");
    }
    let rows: Vec<(Option<i64>, i64)> = q
        .build_query_as()
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
    let (rooms, ids): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(room, _)| room.is_some());
    if rooms.len() != per_room.len() {
        return Err(Error::internal("a locked room went missing"));
    }
    let mut seqs = HashMap::with_capacity(new.len());
    for (room, last) in rooms {
        let room = room.unwrap_or_default();
        let of = per_room
            .get(&room)
            .ok_or_else(|| Error::internal("seqs of a room not asked for"))?;
        let first = last - i64::try_from(of.len()).unwrap_or(i64::MAX) + 1;
        for (seq, &i) in (first..).zip(of) {
            seqs.insert(i, seq);
        }
    }
    if !postgres() {
        return Ok((seqs, None));
    }
    if ids.len() != new.len() {
        return Err(Error::internal("fewer message ids than new messages"));
    }
    // Ascending, in `new` order, as a multi-row insert would number them.
    let mut ids: Vec<i64> = ids.into_iter().map(|(_, id)| id).collect();
    ids.sort_unstable();
    Ok((seqs, Some(new.iter().copied().zip(ids).collect())))
}

/// Eleven binds a message.
const MESSAGE_BINDS: usize = 11;

/// Inserts the new messages; message index → id.
async fn insert_messages(
    c: &mut Conn,
    msgs: &[NewMessage],
    new: &[usize],
    seqs: &HashMap<usize, i64>,
    at: time::OffsetDateTime,
) -> Result<HashMap<usize, i64>> {
    let mut ids = HashMap::with_capacity(new.len());
    for chunk in new.chunks(MAX_BINDS / MESSAGE_BINDS) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO messages (room_id, user_id, seq, content, kind, file_url, reply_to_id,
                                   client_id, created_at, updated_at, search_text, has_link) ",
        );
        q.push_values(chunk, |mut row, &i| {
            let m = &msgs[i];
            row.push_bind(m.room_id.0)
                .push_bind(m.user_id.0)
                .push_bind(seqs.get(&i).copied().unwrap_or_default())
                .push_bind(m.content.clone())
                .push_bind(m.kind.as_str())
                .push_bind(m.file_url.clone())
                .push_bind(m.reply_to_id.map(|r| r.0))
                .push_bind(m.client_id.clone())
                .push_bind(at)
                .push_bind(at)
                // Indexed for search in this same statement (sql/search/).
                .push_bind(search::index_text(&m.content))
                .push_bind(search::has_link(&m.content));
        });
        q.push(" RETURNING id, room_id, seq");
        let rows: Vec<(i64, i64, i64)> = q
            .build_query_as()
            .fetch_all(&mut *c)
            .await
            .map_err(db_err)?;
        // RETURNING's order is not promised: match rows by (room, seq).
        let by_place: HashMap<(i64, i64), i64> = rows
            .into_iter()
            .map(|(id, room, seq)| ((room, seq), id))
            .collect();
        for &i in chunk {
            let place = (msgs[i].room_id.0, seqs.get(&i).copied().unwrap_or_default());
            let id = by_place
                .get(&place)
                .ok_or_else(|| Error::internal("an inserted message was not returned"))?;
            ids.insert(i, *id);
        }
    }
    Ok(ids)
}

/// The row `hydrate` would read back for a message just inserted.
fn message_row(
    m: &NewMessage,
    id: i64,
    seq: i64,
    at: time::OffsetDateTime,
    authors: &HashMap<i64, UserRow>,
    replied: &HashMap<i64, Replied>,
) -> Result<MessageRow> {
    let author = authors
        .get(&m.user_id.0)
        .ok_or_else(|| Error::not_found("user not found"))?;
    let reply = m.reply_to_id.and_then(|r| replied.get(&r.0));
    Ok(MessageRow {
        id,
        room_id: m.room_id.0,
        user_id: m.user_id.0,
        seq,
        content: m.content.clone(),
        kind: m.kind.as_str().to_owned(),
        file_url: m.file_url.clone(),
        reply_to_id: m.reply_to_id.map(|r| r.0),
        client_id: m.client_id.clone(),
        created_at: at,
        updated_at: at,
        edited_at: None,
        deleted_at: None,
        username: author.username.clone(),
        user_name: author.name.clone(),
        avatar: author.avatar.clone(),
        reply_content: reply.map(|r| r.content.clone()),
        reply_username: reply.map(|r| r.username.clone()),
    })
}

/// `(message, room, user, seq)` rows.
async fn insert_mentions(c: &mut Conn, rows: &[(i64, i64, i64, i64)]) -> Result<()> {
    for chunk in rows.chunks(MAX_BINDS / 4) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO message_mentions (message_id, room_id, user_id, seq) ",
        );
        q.push_values(chunk, |mut row, &(message, room, user, seq)| {
            row.push_bind(message)
                .push_bind(room)
                .push_bind(user)
                .push_bind(seq);
        });
        q.push(" ON CONFLICT DO NOTHING");
        q.build().execute(&mut *c).await.map_err(db_err)?;
    }
    Ok(())
}

/// `(room, user, seq)`: each sender's newest message of the batch in each
/// room, where their cursor moves.
fn cursors(msgs: &[NewMessage], new: &[usize], seqs: &HashMap<usize, i64>) -> Vec<(i64, i64, i64)> {
    let mut newest: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for &i in new {
        let seq = seqs.get(&i).copied().unwrap_or_default();
        let e = newest
            .entry((msgs[i].room_id.0, msgs[i].user_id.0))
            .or_insert(seq);
        *e = (*e).max(seq);
    }
    newest.into_iter().map(|((r, u), s)| (r, u, s)).collect()
}

/// Moves the cursors (only forward, as `reads::mark_read`).
async fn move_cursors(c: &mut Conn, rows: &[(i64, i64, i64)]) -> Result<()> {
    for chunk in rows.chunks(MAX_BINDS / 3) {
        // `VALUES` names its columns column1, column2, … on both databases.
        let mut q = QueryBuilder::<Db>::new("UPDATE members SET last_read_seq = v.column3 FROM (");
        q.push_values(chunk, |mut row, &(room, user, seq)| {
            row.push_bind(room).push_bind(user).push_bind(seq);
        });
        q.push(
            ") AS v WHERE members.room_id = v.column1 AND members.user_id = v.column2
               AND members.last_read_seq < v.column3",
        );
        q.build().execute(&mut *c).await.map_err(db_err)?;
    }
    Ok(())
}

/// Six binds an event.
const EVENT_BINDS: usize = 6;

/// The `message:new` event of each stored message, with its exact payload.
async fn log_new(c: &mut Conn, stored: &[(usize, natter_core::Message)]) -> Result<()> {
    let events = stored
        .iter()
        .map(|(_, m)| {
            let e = LoggedEvent::message_new(m);
            Ok((m, e.name(), e.data()?, e.message_id))
        })
        .collect::<Result<Vec<_>>>()?;
    let created = now();
    for chunk in events.chunks(MAX_BINDS / EVENT_BINDS) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO room_events (room_id, event_seq, event, data, created_at, message_id) ",
        );
        q.push_values(chunk, |mut row, (m, name, data, message_id)| {
            row.push_bind(m.room_id.0)
                .push_bind(m.seq)
                .push_bind(*name)
                .push_bind(data.clone())
                .push_bind(created)
                .push_bind(message_id.map(|m| m.0));
        });
        q.build().execute(&mut *c).await.map_err(db_err)?;
    }
    Ok(())
}

/// PostgreSQL: the new messages (ids taken with their seqs), their mentions,
/// the senders' cursors and the `message:new` events in ONE statement. The
/// rows travel as JSON documents, so its text is the same for every batch
/// (prepared once per connection) and a batch of 200 costs one round trip.
/// The foreign keys of mentions and events are checked at the end of the
/// statement, when the messages are there.
async fn write_pg(
    c: &mut Conn,
    msgs: &[NewMessage],
    stored: &[(usize, natter_core::Message)],
    mentions: &[(i64, i64, i64, i64)],
    cursors: &[(i64, i64, i64)],
    at: time::OffsetDateTime,
) -> Result<()> {
    use serde_json::{json, Value};
    let rows = stored
        .iter()
        .map(|(i, m)| {
            let new = &msgs[*i];
            let event = LoggedEvent::message_new(m);
            Ok(json!({
                "id": m.id.0, "room_id": new.room_id.0, "user_id": new.user_id.0, "seq": m.seq,
                "content": new.content, "kind": new.kind.as_str(), "file_url": new.file_url,
                "reply_to_id": new.reply_to_id.map(|r| r.0), "client_id": new.client_id,
                // Indexed for search in this same statement (sql/search/).
                "search_text": search::index_text(&new.content),
                "has_link": search::has_link(&new.content),
                "event": event.name(), "data": event.data()?,
            }))
        })
        .collect::<Result<Vec<Value>>>()?;
    let mentions: Vec<Value> = mentions
        .iter()
        .map(|&(message, room, user, seq)| {
            json!({"message_id": message, "room_id": room, "user_id": user, "seq": seq})
        })
        .collect();
    let cursor_rows: Vec<Value> = cursors
        .iter()
        .map(|&(room, user, seq)| json!({"room_id": room, "user_id": user, "seq": seq}))
        .collect();
    sqlx::query(
        "WITH x AS (
             SELECT * FROM jsonb_to_recordset($1::jsonb) AS x (
                 id BIGINT, room_id BIGINT, user_id BIGINT, seq BIGINT, content TEXT, kind TEXT,
                 file_url TEXT, reply_to_id BIGINT, client_id TEXT, search_text TEXT,
                 has_link BOOLEAN, event TEXT, data JSONB)
         ), m AS (
             INSERT INTO messages (id, room_id, user_id, seq, content, kind, file_url, reply_to_id,
                                   client_id, created_at, updated_at, search_text, has_link)
             SELECT id, room_id, user_id, seq, content, kind, file_url, reply_to_id, client_id,
                    $4, $4, search_text, has_link FROM x
         ), mm AS (
             INSERT INTO message_mentions (message_id, room_id, user_id, seq)
             SELECT * FROM jsonb_to_recordset($2::jsonb)
                 AS y (message_id BIGINT, room_id BIGINT, user_id BIGINT, seq BIGINT)
             ON CONFLICT DO NOTHING
         ), cur AS (
             -- LIMIT (the real count) only tells the planner these are a few
             -- rows (it assumes 100 of a recordset): a few primary-key lookups,
             -- not a hash join over a seq scan of every membership.
             UPDATE members SET last_read_seq = v.seq
             FROM (SELECT * FROM jsonb_to_recordset($3::jsonb)
                       AS v (room_id BIGINT, user_id BIGINT, seq BIGINT) LIMIT $5) AS v
             WHERE members.room_id = v.room_id AND members.user_id = v.user_id
               AND members.last_read_seq < v.seq
         )
         INSERT INTO room_events (room_id, event_seq, event, data, created_at, message_id)
         SELECT room_id, seq, event, data, $4, id FROM x",
    )
    .bind(Value::Array(rows))
    .bind(Value::Array(mentions))
    .bind(Value::Array(cursor_rows))
    .bind(at)
    .bind(i64::try_from(cursors.len()).unwrap_or(i64::MAX))
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

fn push_list(q: &mut QueryBuilder<'_, Db>, ids: &[i64]) {
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
}

/// The set-based path on hand-made batches: what it answers is exactly what
/// is stored, and it falls back only when it must. Compiled once per backend.
#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use natter_core::{Id, Role};

    use super::super::super::{test_db, Backend};
    use super::{post, SetOutcome};
    use crate::{Catchup, NewMessage, NewRoom, NewUser, Store};

    const NEW: &str = natter_core::events::ServerEventName::MessageNew.as_str();

    fn msg(room: Id, user: Id, content: &str) -> NewMessage {
        NewMessage::text(room, user, content)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_is_written_as_a_set_exactly_as_stored() {
        let db = test_db().await;
        let s = Backend::open(&db.url).await.unwrap();
        let mut users = Vec::new();
        for name in ["alice", "bob", "carol"] {
            let me = s
                .create_user(NewUser {
                    email: format!("{name}@example.com"),
                    username: name.into(),
                    name: format!("{name} N"),
                    password_hash: "x".into(),
                })
                .await
                .unwrap();
            users.push(me.user.id);
        }
        let (alice, bob, carol) = (users[0], users[1], users[2]);
        let mut rooms = Vec::new();
        for name in ["general", "other"] {
            let room = NewRoom {
                name: name.into(),
                description: String::new(),
                is_private: false,
                created_by: alice,
            };
            let id = s.create_room(room).await.unwrap().id;
            s.add_member(id, bob, Role::Member).await.unwrap();
            s.add_member(id, carol, Role::Member).await.unwrap();
            rooms.push(id);
        }
        let (r, o) = (rooms[0], rooms[1]);
        let first = s.post_message(msg(r, carol, "first")).await.unwrap();
        let mut cid = msg(r, bob, "with a client id");
        cid.client_id = Some("c1".into());
        let earlier = s.post_message(cid.clone()).await.unwrap();

        let mut mention = msg(r, bob, "hi @alice @carol");
        mention.mentions = vec![carol, alice, carol];
        let mut reply = msg(r, alice, "a reply");
        reply.reply_to_id = Some(first.message.id);
        let mut bad_reply = msg(o, alice, "replies across rooms");
        bad_reply.reply_to_id = Some(first.message.id);
        let batch = [
            msg(o, bob, "o1"),
            mention,
            cid,
            msg(Id(999_999), bob, "nowhere"),
            reply,
            bad_reply,
            msg(o, carol, "o2"),
            msg(r, bob, "last of bob"),
        ];
        let order: Vec<usize> = {
            let mut o: Vec<usize> = (0..batch.len()).collect();
            o.sort_by_key(|&i| batch[i].room_id.0);
            o
        };
        let SetOutcome::Done(results) = post(&s.pools, &batch, &order).await.unwrap() else {
            panic!("an ordinary batch fell back");
        };
        let got: Vec<Option<(i64, bool)>> = results
            .iter()
            .map(|r| r.as_ref().ok().map(|p| (p.message.seq, p.created)))
            .collect();
        // General had seqs 1 and 2: its new messages take 3, 4, 5 in arrival
        // order; other starts at 1; the replay and refusals take none.
        assert_eq!(
            got,
            [
                Some((1, true)),
                Some((3, true)),
                Some((2, false)),
                None,
                Some((4, true)),
                None,
                Some((2, true)),
                Some((5, true)),
            ]
        );
        assert!(matches!(results[3], Err(natter_core::Error::NotFound(_))));
        assert!(matches!(results[5], Err(natter_core::Error::Invalid(_))));
        assert_eq!(results[2].as_ref().unwrap().message, earlier.message);
        let mention = &results[1].as_ref().unwrap().message;
        assert_eq!(mention.mentions, vec![alice, carol]);
        assert_eq!(mention.user.name, "bob N");
        let reply = &results[4].as_ref().unwrap().message;
        assert_eq!(reply.reply_to.as_ref().unwrap().content, "first");
        assert_eq!(reply.reply_to.as_ref().unwrap().user.username, "carol");

        // Exactly what a reader gets back, and exactly what the log holds.
        for posted in results.iter().filter_map(|r| r.as_ref().ok()) {
            let m = &posted.message;
            assert_eq!(s.message(m.id).await.unwrap().as_ref(), Some(m));
        }
        let Catchup::Events(log) = s.events_after(r, 2, 100).await.unwrap() else {
            panic!("expected events");
        };
        assert_eq!(log.len(), 3);
        for (e, i) in log.iter().zip([1, 4, 7]) {
            let m = results[i].as_ref().unwrap().message.clone();
            assert_eq!((e.event_seq, e.name()), (m.seq, NEW));
            let live = natter_core::events::payload::MessageChange {
                event_seq: m.seq,
                message: m,
            };
            assert_eq!(e.data(), serde_json::to_value(live).unwrap());
        }
        // Rooms' seqs and each sender's cursor moved to their newest message.
        assert_eq!(s.room(r, bob).await.unwrap().unwrap().last_seq, 5);
        assert_eq!(s.room(o, bob).await.unwrap().unwrap().last_seq, 2);
        let cursor = |members: &[natter_core::Member], u: Id| {
            members
                .iter()
                .find(|m| m.user.id == u)
                .unwrap()
                .last_read_seq
        };
        let general = s.members(r).await.unwrap();
        assert_eq!((cursor(&general, bob), cursor(&general, alice)), (5, 4));
        let other = s.members(o).await.unwrap();
        assert_eq!((cursor(&other, bob), cursor(&other, carol)), (1, 2));
        // Mentions were stored: carol's unread mention count sees it.
        assert_eq!(s.unread(r, carol).await.unwrap().mentions, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_client_id_twice_in_one_batch_falls_back_and_writes_nothing() {
        let db = test_db().await;
        let s = Backend::open(&db.url).await.unwrap();
        let (alice, r) = crate::testing::user_with_room(&s).await;
        let mut a = msg(r, alice, "a");
        a.client_id = Some("same".into());
        let batch = [msg(r, alice, "before"), a.clone(), a];
        let out = post(&s.pools, &batch, &[0, 1, 2]).await.unwrap();
        assert!(matches!(out, SetOutcome::Fallback));
        assert_eq!(s.room(r, alice).await.unwrap().unwrap().last_seq, 0);
    }

    /// The membership check is part of the write, on the set path and on
    /// the per-message fallback alike: a non-member's message is refused
    /// (`forbidden`, no seq taken) and the rest of the batch is stored.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_non_member_is_refused_inside_the_batch() {
        let db = test_db().await;
        let s = Backend::open(&db.url).await.unwrap();
        let (alice, r) = crate::testing::user_with_room(&s).await;
        let mallory = s
            .create_user(NewUser {
                email: "m@example.com".into(),
                username: "mallory".into(),
                name: "Mallory".into(),
                password_hash: "x".into(),
            })
            .await
            .unwrap()
            .user
            .id;
        let batch = [msg(r, mallory, "let me in"), msg(r, alice, "hello")];
        let SetOutcome::Done(results) = post(&s.pools, &batch, &[0, 1]).await.unwrap() else {
            panic!("an ordinary batch fell back");
        };
        assert!(
            matches!(&results[0], Err(natter_core::Error::Forbidden(_))),
            "{:?}",
            results[0]
        );
        assert_eq!(results[1].as_ref().unwrap().message.seq, 1);

        // The fallback (a clientId twice) refuses the same way.
        let mut twice = msg(r, alice, "again");
        twice.client_id = Some("same".into());
        let batch = [twice.clone(), twice, msg(r, mallory, "still out")];
        let results = super::super::post::post_batch(&s.pools, &batch).await;
        assert!(!results[1].as_ref().unwrap().created);
        assert!(
            matches!(&results[2], Err(natter_core::Error::Forbidden(_))),
            "{:?}",
            results[2]
        );
        assert_eq!(s.room(r, alice).await.unwrap().unwrap().last_seq, 2);
        let Catchup::Events(log) = s.events_after(r, 0, 100).await.unwrap() else {
            panic!("expected events");
        };
        // Only alice's two messages were logged (`message:new` is flat).
        let authors: Vec<_> = log
            .iter()
            .map(|e| e.data()["user"]["username"].clone())
            .collect();
        assert_eq!(authors, ["alice", "alice"]);
    }
}
