//! A room's history: keyset pages by seq, and the page around one message
//! (search results open there).

use natter_core::{Id, Message, Result};

use super::super::{clamp, Pools};
use super::read::{hydrate, message_select};
use crate::error::db_err;
use crate::rows::MessageRow;
use crate::{AroundPage, Page, PageAt};

/// Keyset pages by seq. One row beyond the page is read to learn whether
/// more exist in the direction of travel.
pub(crate) async fn history(p: &Pools, room: Id, at: PageAt, limit: u32) -> Result<Page> {
    let limit = clamp(limit, 100);
    let (sql, bound, backwards) = match at {
        PageAt::Newest => (BACKWARDS, i64::MAX, true),
        PageAt::Before(seq) => (BACKWARDS, seq, true),
        PageAt::After(seq) => (FORWARDS, seq, false),
    };
    let mut c = p.read().await?;
    let mut rows: Vec<MessageRow> = sqlx::query_as(sql)
        .bind(room.0)
        .bind(bound)
        .bind(limit + 1)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    if backwards {
        rows.reverse();
    }
    Ok(Page {
        messages: hydrate(&mut c, rows).await?,
        has_more,
    })
}

const BACKWARDS: &str = concat!(
    message_select!(),
    " WHERE m.room_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3"
);
const FORWARDS: &str = concat!(
    message_select!(),
    " WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq ASC LIMIT $3"
);

/// The message at `seq` and the older ones before it (half the page,
/// rounded up), then the newer ones after it.
/// Near the start or end of the room, the other side fills the page.
pub(crate) async fn around(p: &Pools, room: Id, seq: i64, limit: u32) -> Result<AroundPage> {
    let limit = limit.clamp(1, 100);
    let older = history(p, room, PageAt::Before(seq.saturating_add(1)), limit).await?;
    let newer = history(p, room, PageAt::After(seq), limit).await?;
    let (o, w) = (older.messages.len(), newer.messages.len());
    let (take_older, take_newer) = around_split(limit as usize, o, w);
    // the newest `take_older` of the older page, then the oldest `take_newer` of the newer
    let mut older_messages = older.messages;
    let mut messages: Vec<Message> = older_messages.split_off(o - take_older);
    let mut newer_messages = newer.messages;
    newer_messages.truncate(take_newer);
    messages.extend(newer_messages);
    Ok(AroundPage {
        messages,
        has_more_before: older.has_more || take_older < o,
        has_more_after: newer.has_more || take_newer < w,
    })
}

/// How many of `older` (the message and those before it, at most `n`) and of
/// `newer` a page of `n` around a message shows: `(older, newer)`.
fn around_split(n: usize, older: usize, newer: usize) -> (usize, usize) {
    let take_newer = newer.min(n - older.min(n.div_ceil(2)));
    let take_older = older.min(n - take_newer);
    (take_older, take_newer)
}

#[cfg(test)]
mod tests {
    use super::around_split;

    #[test]
    fn the_page_around_is_centred_and_filled_from_the_other_side() {
        // Plenty on both sides: half (rounded up) older, the rest newer.
        assert_eq!(around_split(10, 10, 20), (5, 5));
        assert_eq!(around_split(9, 9, 20), (5, 4));
        // Near the start: newer ones fill the page; near the end: older ones.
        assert_eq!(around_split(10, 2, 20), (2, 8));
        assert_eq!(around_split(10, 10, 1), (9, 1));
        // A room smaller than the page: all of it.
        assert_eq!(around_split(10, 3, 4), (3, 4));
        assert_eq!(around_split(1, 1, 5), (1, 0));
        assert_eq!(around_split(10, 0, 0), (0, 0));
    }
}
