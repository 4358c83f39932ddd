//! What the set-based write reads under the rooms' locks before it writes
//! anything: who may send (the locks and membership in one statement), the
//! messages replied to, and `clientId`s used before; and the refusals and
//! fallbacks that follow from them.

use std::collections::{HashMap, HashSet};

use natter_core::{Error, Result};
use sqlx::QueryBuilder;

use super::super::{postgres, Conn, Db};
use super::{push_list, MAX_BINDS};
use crate::error::db_err;
use crate::rows::UserRow;
use crate::{NewMessage, Posted};

/// A replied-to message: its room, and what a reply shows of it.
pub(super) struct Replied {
    pub room: i64,
    pub content: String,
    pub username: String,
}

/// Who may send into the batch's rooms, read under the rooms' locks.
pub(super) struct Senders {
    /// The batch's rooms that exist.
    pub rooms: HashSet<i64>,
    /// `(room, user)` of each sender who is a member of that room.
    pub members: HashSet<(i64, i64)>,
    /// What a message shows of its sender, by id.
    pub users: HashMap<i64, UserRow>,
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
pub(super) async fn lock_members(c: &mut Conn, msgs: &[NewMessage]) -> Result<Senders> {
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
pub(super) async fn replied(c: &mut Conn, msgs: &[NewMessage]) -> Result<HashMap<i64, Replied>> {
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
pub(super) async fn earlier_client_ids(
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

/// Answers the messages refused before anything is written: an unknown
/// room, a sender who is not (or no longer) a member, a bad `replyToId`.
pub(super) fn refuse(
    msgs: &[NewMessage],
    order: &[usize],
    senders: &Senders,
    replied: &HashMap<i64, Replied>,
    answers: &mut [Option<Result<Posted>>],
) {
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
}

/// Whether an unanswered message repeats the `clientId` of an earlier one
/// of the batch (same room and sender): left to the per-message path.
pub(super) fn client_id_twice(
    msgs: &[NewMessage],
    order: &[usize],
    answers: &[Option<Result<Posted>>],
) -> bool {
    let mut seen = HashSet::new();
    order
        .iter()
        .any(|&i| match (&answers[i], &msgs[i].client_id) {
            (None, Some(cid)) => !seen.insert((msgs[i].room_id.0, msgs[i].user_id.0, cid.as_str())),
            _ => false,
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use natter_core::{Error, Id, Result};

    use super::{client_id_twice, refuse, Replied, Senders};
    use crate::{NewMessage, Posted};

    /// Room 1 exists with member 2; room 3 exists with no sender a member.
    fn senders() -> Senders {
        Senders {
            rooms: HashSet::from([1, 3]),
            members: HashSet::from([(1, 2)]),
            users: HashMap::new(),
        }
    }

    fn unanswered(n: usize) -> Vec<Option<Result<Posted>>> {
        (0..n).map(|_| None).collect()
    }

    #[test]
    fn refusals_name_the_room_the_membership_or_the_reply() {
        let mut good_reply = NewMessage::text(Id(1), Id(2), "re");
        good_reply.reply_to_id = Some(Id(40));
        let mut foreign_reply = NewMessage::text(Id(1), Id(2), "re");
        foreign_reply.reply_to_id = Some(Id(41));
        let mut unknown_reply = NewMessage::text(Id(1), Id(2), "re");
        unknown_reply.reply_to_id = Some(Id(42));
        let msgs = [
            NewMessage::text(Id(1), Id(2), "fine"),
            NewMessage::text(Id(9), Id(2), "no such room"),
            NewMessage::text(Id(3), Id(2), "not a member"),
            good_reply,
            foreign_reply,
            unknown_reply,
        ];
        let quote = |room| Replied {
            room,
            content: String::new(),
            username: String::new(),
        };
        let replied = HashMap::from([(40, quote(1)), (41, quote(3))]);
        let mut answers = unanswered(msgs.len());
        refuse(
            &msgs,
            &[0, 1, 2, 3, 4, 5],
            &senders(),
            &replied,
            &mut answers,
        );
        let kinds: Vec<&str> = answers
            .iter()
            .map(|a| match a {
                None => "-",
                Some(Err(Error::NotFound(_))) => "not_found",
                Some(Err(Error::Forbidden(_))) => "forbidden",
                Some(Err(Error::Invalid(_))) => "invalid",
                Some(_) => "other",
            })
            .collect();
        assert_eq!(
            kinds,
            ["-", "not_found", "forbidden", "-", "invalid", "invalid"]
        );
    }

    #[test]
    fn a_client_id_twice_is_per_room_and_sender_among_the_unanswered() {
        let with = |room, user, cid: &str| {
            let mut m = NewMessage::text(Id(room), Id(user), "x");
            m.client_id = Some(cid.into());
            m
        };
        let msgs = [
            with(1, 2, "a"),
            with(1, 3, "a"),
            with(4, 2, "a"),
            with(1, 2, "b"),
        ];
        assert!(!client_id_twice(&msgs, &[0, 1, 2, 3], &unanswered(4)));
        let msgs = [with(1, 2, "a"), with(1, 3, "b"), with(1, 2, "a")];
        assert!(client_id_twice(&msgs, &[0, 1, 2], &unanswered(3)));
        // The first was refused: it stores nothing, so the second is alone.
        let mut answers = unanswered(3);
        answers[0] = Some(Err(Error::forbidden("no")));
        assert!(!client_id_twice(&msgs, &[0, 1, 2], &answers));
    }
}
