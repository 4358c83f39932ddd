//! Paging a search's matches: newest first by id, or by rank within
//! windows of the newest matches; a page's cursor says where the next one
//! starts.

use natter_core::search::Cursor;
use natter_core::Result;

use super::super::Conn;
use super::sql::{Arg, Sql};
use super::statement::Plan;
use crate::SearchRequest;

/// One page by id alone, newest first: `(ids, cursor of the next page)`.
pub(super) async fn newest(
    c: &mut Conn,
    plan: &Plan<'_>,
    req: &SearchRequest,
    limit: i64,
    max_id: i64,
) -> Result<(Vec<i64>, Option<Cursor>)> {
    // Unranked (no words, or sort=newest): by id alone, so an index on id can
    // be walked newest first and stop at the page (from:@user: the author's
    // index, not a sort of all their messages).
    let mut q = Sql::after("SELECT id, score FROM (", &plan.inner);
    q.push(" AND ")
        .push(plan.id_col)
        .push(" <= ")
        .arg(Arg::Int(max_id));
    q.push(") hits");
    if let Some(cur) = req.cursor {
        q.push(" WHERE id < ").arg(Arg::Int(cur.id));
    }
    q.push(" ORDER BY id DESC LIMIT ").arg(Arg::Int(limit + 1));
    let mut hits: Vec<(i64, f64)> = q.fetch(c).await?;
    let more = hits.len() as i64 > limit;
    hits.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = match hits.last() {
        Some(&(id, _)) if more => Some(Cursor {
            sort: req.sort,
            rank: 0.0,
            id,
            max_id,
            floor: 0,
        }),
        _ => None,
    };
    Ok((hits.into_iter().map(|(id, _)| id).collect(), next))
}

/// Matches ranked per window: at most this many, the newest first, are ranked
/// together; a page that needs more goes on with the next (older) window.
/// (Small in this crate's unit tests, so a few messages span windows.)
const RANK_WINDOW: i64 = if cfg!(test) { 8 } else { 1000 };

/// One page of a ranked search, by windows of the [`RANK_WINDOW`] newest matches
/// at or below `hi`: each window is ranked as a whole (keyset on rank then id
/// inside it), and when it runs out the next window starts below its oldest
/// match. Ranking costs a few µs per ranked match, so a common word (tens of
/// thousands of matches at 1M messages) would otherwise cost tens of ms per
/// page; with the window it costs the same as a rare one. A search with fewer
/// matches than a window is ranked exactly. The cursor holds the window of its
/// last result (`max_id` its top, `floor` its oldest id, 0 when it holds every
/// match left), so each match is on exactly one page.
pub(super) async fn ranked(
    c: &mut Conn,
    plan: &Plan<'_>,
    req: &SearchRequest,
    limit: i64,
    max_id: i64,
) -> Result<(Vec<i64>, Option<Cursor>)> {
    let (inner, id_col) = (&plan.inner, plan.id_col);
    let mut hi = max_id;
    let mut floor = req.cursor.map(|cur| cur.floor);
    let mut after = match req.cursor {
        // The pivot is the cursor's message as ranked NOW: bm25 moves with the
        // whole index (new messages change its statistics), mostly shifting
        // every score alike, so ranking the pivot again keeps the pages exact.
        // If it no longer matches (edited, deleted, left), its old rank.
        Some(cur) => {
            let mut one = inner.clone();
            one.push(" AND ")
                .push(id_col)
                .push(" = ")
                .arg(Arg::Int(cur.id));
            let now: Vec<(i64, f64, i64, i64)> =
                window(&one, plan, None, i64::MAX, None, 1).fetch(c).await?;
            Some((now.first().map_or(cur.rank, |r| r.1), cur.id))
        }
        None => None,
    };
    let mut hits: Vec<(i64, f64)> = Vec::new();
    // The window of each hit, for the cursor after it.
    let mut windows: Vec<(i64, i64)> = Vec::new();
    loop {
        let want = limit + 1 - hits.len() as i64;
        let rows: Vec<(i64, f64, i64, i64)> =
            window(inner, plan, floor, hi, after, want).fetch(c).await?;
        // A window found here (no floor yet) is its newest RANK_WINDOW matches:
        // if it is full, older matches may follow below its oldest.
        let this_floor = match (floor, rows.first()) {
            (Some(f), _) => f,
            (None, Some(&(_, _, lo, n))) if n >= RANK_WINDOW => lo,
            _ => 0,
        };
        for &(id, rank, _, _) in &rows {
            hits.push((id, rank));
            windows.push((hi, this_floor));
        }
        if hits.len() as i64 > limit || this_floor == 0 {
            break;
        }
        hi = this_floor - 1;
        floor = None;
        after = None;
    }
    let more = hits.len() as i64 > limit;
    hits.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = match (hits.last(), windows.get(hits.len().wrapping_sub(1))) {
        (Some(&(id, rank)), Some(&(top, floor))) if more => Some(Cursor {
            sort: req.sort,
            rank,
            id,
            max_id: top,
            floor,
        }),
        _ => None,
    };
    Ok((hits.into_iter().map(|(id, _)| id).collect(), next))
}

/// `(id, rank, oldest id of the window, matches in it)` of the best `want`
/// matches of `inner` (`plan`'s statement, or one match of it) in the window
/// `floor..=hi` (no floor: the newest
/// [`RANK_WINDOW`] at or below `hi`), after `after` (rank, id) if given.
fn window(
    inner: &Sql,
    plan: &Plan<'_>,
    floor: Option<i64>,
    hi: i64,
    after: Option<(f64, i64)>,
    want: i64,
) -> Sql {
    let id_col = plan.id_col;
    // Materialized: ranked once, then read for the page and for its bounds.
    let mut q = Sql::after("WITH w AS MATERIALIZED (", inner);
    q.push(" AND ").push(id_col).push(" <= ").arg(Arg::Int(hi));
    if let Some(f) = floor {
        q.push(" AND ").push(id_col).push(" >= ").arg(Arg::Int(f));
    }
    // A window found from its floor holds at most RANK_WINDOW matches when it
    // was made (a few more if edits added some): the bound only stops a forged
    // cursor from ranking every match at once.
    q.push(" ORDER BY ")
        .push(id_col)
        .push(" DESC LIMIT ")
        .arg(Arg::Int(if floor.is_some() {
            2 * RANK_WINDOW
        } else {
            RANK_WINDOW
        }));
    q.push(") SELECT id, score, lo, n FROM (SELECT w.id AS id, ");
    match plan.rank_pg {
        Some(own_room) => own_room.push_rank(&mut q),
        None => {
            q.push("w.score");
        }
    }
    q.push(" AS score, (SELECT MIN(id) FROM w) AS lo, (SELECT COUNT(*) FROM w) AS n FROM w) r");
    if let Some((rank, id)) = after {
        q.push(" WHERE score > ")
            .arg(Arg::Real(rank))
            .push(" OR (score = ")
            .arg(Arg::Real(rank))
            .push(" AND id < ")
            .arg(Arg::Int(id))
            .push(")");
    }
    q.push(" ORDER BY score, id DESC LIMIT ")
        .arg(Arg::Int(want));
    q
}

#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::fixtures::{alice_in_a_room, deploy, post};
    use crate::Store;

    /// Ranked pages by windows of the newest matches: every match on exactly
    /// one page, pages crossing window boundaries, each window ranked within.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ranked_pages_cover_every_window_once() {
        let (_db, s, me, room) = alice_in_a_room().await;
        let mut strong = Vec::new();
        let mut all = Vec::new();
        for i in 0..30 {
            let content = if i % 7 == 0 {
                "deploy deploy deploy".to_owned()
            } else {
                format!("we deploy number {i} with many other words in it")
            };
            let id = post(&s, room, me, content).await;
            all.push(id);
            if i % 7 == 0 {
                strong.push(id);
            }
        }
        let mut req = deploy(me, 5);
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let page = s.search(req.clone()).await.unwrap();
            seen.extend(page.messages.iter().map(|m| m.id));
            pages += 1;
            assert!(pages <= 10, "paging does not end");
            match page.next {
                Some(c) => {
                    let back = natter_core::search::Cursor::decode(&c.encode(), c.sort);
                    req.cursor = Some(back.unwrap());
                }
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), seen.len(), "a match on two pages: {seen:?}");
        assert_eq!(sorted, all, "every match once");
        // The newest window (8) first, its strongest match (i = 28) at the top;
        // the oldest strong match (i = 0) first of the last window.
        let newest: Vec<_> = all[22..].to_vec();
        assert!(seen[..8].iter().all(|id| newest.contains(id)), "{seen:?}");
        assert_eq!(seen[0], strong[4]);
        assert_eq!(seen[24], strong[0], "{seen:?}");
    }
}
