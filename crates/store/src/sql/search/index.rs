//! Keeping the search index: the backfill of messages stored before search
//! existed, and on SQLite the upkeep that merges FTS5's segments.

use std::time::Instant;

use natter_core::search;
use natter_core::Result;

use super::super::{postgres, Pools};
use super::sql::{Arg, Sql};
use crate::error::db_err;

/// Messages indexed per statement of the backfill.
const BACKFILL_BATCH: usize = 500;

/// Indexes the messages stored before search existed (`search_text` NULL),
/// in batches, logging progress. Runs when the store opens; idempotent, so
/// several nodes starting at once only share the work.
pub(crate) async fn backfill(p: &Pools) -> Result<()> {
    let mut c = p.write().await?;
    let (todo,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages WHERE search_text IS NULL")
        .fetch_one(&mut *c)
        .await
        .map_err(db_err)?;
    if todo == 0 {
        return Ok(());
    }
    tracing::info!(
        messages = todo,
        "search: indexing the messages stored before search existed"
    );
    let started = Instant::now();
    let mut logged = Instant::now();
    let mut done: i64 = 0;
    loop {
        let batch: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, content FROM messages WHERE search_text IS NULL ORDER BY id LIMIT $1",
        )
        .bind(BACKFILL_BATCH as i64)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
        if batch.is_empty() {
            break;
        }
        let mut q = Sql::default();
        q.push(
            "UPDATE messages AS m SET search_text = v.column2, has_link = v.column3 FROM (VALUES ",
        );
        for (i, (id, content)) in batch.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push("(")
                .arg(Arg::Int(*id))
                .push(", ")
                .arg(Arg::Text(search::index_text(content)))
                .push(", ")
                .arg(Arg::Bool(search::has_link(content)))
                .push(")");
        }
        q.push(") AS v WHERE m.id = v.column1");
        q.execute(&mut c).await?;
        done += batch.len() as i64;
        if logged.elapsed().as_secs() >= 2 {
            logged = Instant::now();
            tracing::info!(done, total = todo, "search: backfill progress");
        }
    }
    tracing::info!(
        messages = done,
        secs = started.elapsed().as_secs_f64(),
        "search: backfill done"
    );
    Ok(())
}

/// How often SQLite's full-text index is checked for segments to merge.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Index pages merged per write transaction of the upkeep: a few ms of the
/// write lock each, so messages being sent wait at most that long.
const MERGE_PAGES: i64 = 200;

/// The most merge steps of one upkeep round (about 50 MB of index).
const MERGE_STEPS: usize = 64;

/// SQLite only: keeps the FTS5 index in few segments. FTS5 writes a segment per
/// transaction and merges them only a few at a time (its `automerge`), so a
/// live index holds ten or more; a search looks each term up in each of the
/// searcher's rooms in every segment, and at 1M messages a 9-segment index
/// answered in six times the time (`東京`: 9.4 ms → 1.5 ms merged). This task
/// wakes every [`UPKEEP_EVERY`] and, when the index has grown enough since its
/// last merge ([`worth_merging`]), merges in short steps (FTS5's incremental
/// `merge` with a negative page count: all segments into one) until one is
/// left. It ends when `stop`'s senders are all dropped (with the store).
pub(crate) fn start_upkeep(p: &Pools, mut stop: tokio::sync::mpsc::Receiver<()>) {
    if postgres() {
        return;
    }
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let p = p.clone();
    rt.spawn(async move {
        loop {
            tokio::select! {
                _ = stop.recv() => return,
                () = tokio::time::sleep(UPKEEP_EVERY) => {}
            }
            if let Err(e) = upkeep_round(&p).await {
                tracing::warn!(error = %e, "search: index upkeep failed");
            }
        }
    });
}

/// The size of each segment of the FTS5 index, in leaf pages (its `%_idx`
/// table has a row per leaf page of each segment).
async fn segment_sizes(p: &Pools) -> Result<Vec<i64>> {
    let mut c = p.read().await?;
    let rows: Vec<(i64,)> = sqlx::query_as("SELECT COUNT(*) FROM messages_fts_idx GROUP BY segid")
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
    Ok(rows.into_iter().map(|(n,)| n).collect())
}

async fn segments(p: &Pools) -> Result<i64> {
    Ok(segment_sizes(p).await?.len() as i64)
}

/// Whether a full merge is worth its cost: it rewrites the whole index, so only
/// once the segments besides the largest hold 1/[`MERGE_SHARE`] of it (each
/// merge then pays for that much growth: bounded write amplification, where a
/// merge at every new segment would rewrite the index every round).
fn worth_merging(sizes: &[i64]) -> bool {
    let total: i64 = sizes.iter().sum();
    let largest = sizes.iter().copied().max().unwrap_or(0);
    sizes.len() > 1 && (total - largest) * MERGE_SHARE >= total
}

/// The small segments' share of the index that triggers a full merge: 1/20.
const MERGE_SHARE: i64 = 20;

/// One round of [`start_upkeep`]: when [`worth_merging`], merge steps until one
/// segment is left (or [`MERGE_STEPS`], the next round goes on); the segments
/// left.
pub(crate) async fn upkeep_round(p: &Pools) -> Result<i64> {
    let sizes = segment_sizes(p).await?;
    let mut left = sizes.len() as i64;
    if !worth_merging(&sizes) {
        return Ok(left);
    }
    for _ in 0..MERGE_STEPS {
        if left <= 1 {
            break;
        }
        // Its own transaction per step: the write connection goes back to the
        // pool in between, so sends and edits interleave with the merge.
        let mut c = p.write().await?;
        sqlx::query("INSERT INTO messages_fts (messages_fts, rank) VALUES ('merge', $1)")
            .bind(-MERGE_PAGES)
            .execute(&mut *c)
            .await
            .map_err(db_err)?;
        drop(c);
        left = segments(p).await?;
    }
    Ok(left)
}

#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::fixtures::{alice_in_a_room, deploy, post};
    use super::{postgres, segments, upkeep_round};
    use crate::Store;

    /// A full merge once the small segments hold 1/20 of the index.
    #[test]
    fn merges_once_the_index_grew_enough() {
        assert!(!super::worth_merging(&[]));
        assert!(!super::worth_merging(&[100]));
        assert!(!super::worth_merging(&[100, 2, 2]));
        assert!(super::worth_merging(&[100, 3, 3]));
        assert!(super::worth_merging(&[1, 1]));
    }

    /// Each message committed alone leaves FTS5 a segment of its own; the
    /// upkeep merges them into one, and search finds the same afterwards.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn upkeep_merges_the_index_into_one_segment() {
        let (_db, s, me, room) = alice_in_a_room().await;
        for i in 0..12 {
            post(&s, room, me, format!("deploy number {i}")).await;
        }
        let req = deploy(me, 50);
        assert_eq!(s.search(req.clone()).await.unwrap().messages.len(), 12);
        if postgres() {
            return; // a GIN index: no segments to merge
        }
        let before = segments(&s.pools).await.unwrap();
        assert!(before > 1, "{before} segments after 12 commits");
        assert_eq!(upkeep_round(&s.pools).await.unwrap(), 1);
        assert_eq!(s.search(req).await.unwrap().messages.len(), 12);
    }
}
