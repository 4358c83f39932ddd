//! Placing a batch's new messages: each room takes its seqs in one
//! statement (on PostgreSQL with the messages' ids), handed out in arrival
//! order; each sender's cursor moves to their newest message of the room.

use std::collections::{BTreeMap, HashMap};

use natter_core::{Error, Result};
use sqlx::QueryBuilder;

use super::super::{postgres, Conn, Db};
use super::{push_list, Cursor};
use crate::error::db_err;
use crate::NewMessage;

/// Message index → seq and, on PostgreSQL, → id.
pub(super) type Placed = (HashMap<usize, i64>, Option<HashMap<usize, i64>>);

/// Takes `k` seqs for each room with `k` new messages, in one statement,
/// and hands them out in order: message index → seq. On PostgreSQL the
/// same statement takes the new messages' ids from the table's identity
/// sequence, so everything after it can be written in one statement.
pub(super) async fn take(
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
    let seqs = hand_out(&per_room, rooms, new.len())?;
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

/// Message index → seq, from each room's `last_seq` after it took one seq
/// for each of its messages (`per_room`, in arrival order).
fn hand_out(
    per_room: &BTreeMap<i64, Vec<usize>>,
    rooms: Vec<(Option<i64>, i64)>,
    messages: usize,
) -> Result<HashMap<usize, i64>> {
    if rooms.len() != per_room.len() {
        return Err(Error::internal("a locked room went missing"));
    }
    let mut seqs = HashMap::with_capacity(messages);
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
    Ok(seqs)
}

/// `(room, user, seq)`: each sender's newest message of the batch in each
/// room, where their cursor moves.
pub(super) fn cursors(
    msgs: &[NewMessage],
    new: &[usize],
    seqs: &HashMap<usize, i64>,
) -> Vec<Cursor> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use natter_core::Id;

    use super::{cursors, hand_out};
    use crate::NewMessage;

    #[test]
    fn each_room_hands_out_its_seqs_in_arrival_order() {
        // Room 1 took seqs 6 and 7 for messages 0 and 2; room 5 took 1 for 1.
        let per_room = BTreeMap::from([(1, vec![0, 2]), (5, vec![1])]);
        let seqs = hand_out(&per_room, vec![(Some(5), 1), (Some(1), 7)], 3).unwrap();
        assert_eq!(seqs, HashMap::from([(0, 6), (2, 7), (1, 1)]));
        // A room that did not answer, or one not asked for: no seqs at all.
        assert!(hand_out(&per_room, vec![(Some(1), 7)], 3).is_err());
        assert!(hand_out(&per_room, vec![(Some(1), 7), (Some(9), 3)], 3).is_err());
    }

    #[test]
    fn a_cursor_moves_to_the_senders_newest_message_of_each_room() {
        let m = |room, user| NewMessage::text(Id(room), Id(user), "x");
        let msgs = [m(1, 7), m(1, 8), m(1, 7), m(2, 7), m(1, 7)];
        // Message 4 is not new (a replay): it moves nothing.
        let seqs = HashMap::from([(0, 3), (1, 4), (2, 5), (3, 1), (4, 9)]);
        let got = cursors(&msgs, &[0, 1, 2, 3], &seqs);
        assert_eq!(got, [(1, 7, 5), (1, 8, 4), (2, 7, 1)]);
    }
}
