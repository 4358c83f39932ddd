//! Message search and history around a message (issue 10, docs/SEARCH.md).
//!
//! The tokens come from `natter_core::search` (folded, split, CJK as pairs),
//! stored in `messages.search_text` by the statement that stores or edits
//! the message; SQLite indexes them with FTS5 (triggers), PostgreSQL with a
//! generated `tsvector` and a GIN index, each token prefixed by its room
//! (`r12·deploy`, `#12·deploy`): both in the message's transaction, so a
//! message is searchable as soon as it is acknowledged.
//!
//! Unlike the rest of `sql/`, the matching and ranking SQL differs per
//! backend (FTS5 `MATCH` + `bm25` vs `@@` + `ts_rank_cd`); the rest of each
//! statement is shared. Ranks are "lower is better" on both (bm25 as is, the
//! negated `ts_rank_cd`), with the newer message first among equal ranks, and
//! pages are keyset on `(rank, id)` below the newest id of the first page.

//!
//! Layout: `statement.rs` builds the matches' statement from the request
//! (with `terms.rs`, each backend's full-text query, and `sql.rs`, the
//! statement builder); `pages.rs` reads one page of it and its cursor;
//! `results.rs` makes the page's messages whole; `index.rs` keeps the index
//! (backfill, SQLite's segment merges).

mod index;
mod pages;
mod results;
mod sql;
mod statement;
mod terms;

use natter_core::{Id, Result};

use super::{clamp, postgres, Conn, Pools};
use crate::error::db_err;
use crate::{SearchPage, SearchRequest};

pub(crate) use index::{backfill, start_upkeep};

/// The most rooms a search with words looks in at once (each adds bound
/// parameters on PostgreSQL, whose limit is 65,535 per statement).
const MAX_SCOPE_ROOMS: usize = 5_000;

/// The most (room, token) pairs of a search with words.
const MAX_SCOPE_ITEMS: usize = 20_000;

pub(super) async fn search(p: &Pools, req: SearchRequest) -> Result<SearchPage> {
    let none = SearchPage {
        messages: Vec::new(),
        next: None,
    };
    if matches!(&req.rooms, Some(r) if r.is_empty()) || matches!(&req.from, Some(f) if f.is_empty())
    {
        return Ok(none);
    }
    let limit = clamp(req.limit, 50);
    let mut c = p.read().await?;
    let max_id = match req.cursor {
        Some(cur) => cur.max_id,
        None => {
            let (max,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM messages")
                .fetch_one(&mut *c)
                .await
                .map_err(db_err)?;
            match max {
                Some(m) => m,
                None => return Ok(none),
            }
        }
    };
    let scope = scope(&mut c, &req).await?;
    if scope.is_empty() {
        return Ok(none);
    }
    not_too_broad(&req, scope.len())?;
    let plan = statement::plan(&req, &scope, postgres());
    let (hits, next) = if plan.ranked {
        pages::ranked(&mut c, &plan, &req, limit, max_id).await?
    } else {
        pages::newest(&mut c, &plan, &req, limit, max_id).await?
    };
    let ids: Vec<Id> = hits.into_iter().map(Id).collect();
    Ok(SearchPage {
        messages: results::by_ids(&mut c, &ids).await?,
        next,
    })
}

/// The searcher's rooms (within the asked scope), in id order: every term is
/// looked up in each of them (the index is by room, see `terms::Scope`),
/// which is the membership rule of a words-only search on SQLite (`fts_only`
/// in `statement.rs`); the other statements check membership again in SQL.
async fn scope(c: &mut Conn, req: &SearchRequest) -> Result<Vec<i64>> {
    let mut scope: Vec<(i64,)> =
        sqlx::query_as("SELECT room_id FROM members WHERE user_id = $1 ORDER BY room_id")
            .bind(req.user.0)
            .fetch_all(&mut *c)
            .await
            .map_err(db_err)?;
    if let Some(only) = &req.rooms {
        scope.retain(|(r,)| only.iter().any(|o| o.0 == *r));
    }
    Ok(scope.into_iter().map(|(r,)| r).collect())
}

/// Every token is looked up in every room of the scope: bound the product, so
/// a query stays within PostgreSQL's tsquery and parameter limits and a
/// search cannot hold a reader for seconds.
fn not_too_broad(req: &SearchRequest, rooms: usize) -> Result<()> {
    let tokens: usize = req
        .terms
        .iter()
        .chain(&req.excluded)
        .map(|t| t.tokens.len())
        .sum();
    if tokens > 0 && (rooms > MAX_SCOPE_ROOMS || rooms * tokens > MAX_SCOPE_ITEMS) {
        return Err(natter_core::Error::invalid(format!(
            "this search is too broad: {tokens} words in {rooms} rooms; narrow it to some rooms \
             (in:#room, or search this room) or use fewer words"
        )));
    }
    Ok(())
}

/// A search for `q` by `user` in all their rooms, ranked, 20 a page.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
fn request(user: Id, q: &str) -> SearchRequest {
    let q = natter_core::search::parse(q).unwrap();
    SearchRequest {
        user,
        rooms: None,
        from: None,
        terms: q.terms,
        excluded: q.excluded,
        has: Vec::new(),
        since: None,
        until: None,
        sort: natter_core::search::Sort::Relevance,
        limit: 20,
        cursor: None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use natter_core::Id;

    use super::{not_too_broad, request, MAX_SCOPE_ITEMS, MAX_SCOPE_ROOMS};

    #[test]
    fn words_times_rooms_are_bounded() {
        // Four words and one excluded: five tokens, each in every room.
        let five = request(Id(1), "alpha beta gamma delta -omega");
        assert!(not_too_broad(&five, MAX_SCOPE_ITEMS / 5).is_ok());
        let err = not_too_broad(&five, MAX_SCOPE_ITEMS / 5 + 1).unwrap_err();
        assert!(
            matches!(&err, natter_core::Error::Invalid(m) if m.contains("5 words in 4001 rooms")),
            "{err:?}"
        );
        let one = request(Id(1), "deploy");
        assert!(not_too_broad(&one, MAX_SCOPE_ROOMS).is_ok());
        assert!(not_too_broad(&one, MAX_SCOPE_ROOMS + 1).is_err());
        // Without words nothing is looked up per room: any scope will do.
        assert!(not_too_broad(&request(Id(1), "has:link"), 1_000_000).is_ok());
    }
}

/// What the search tests of both backends share: a store with alice in a
/// room of hers, posting into it, and a search for "deploy".
#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used)]
mod fixtures {
    use natter_core::Id;

    use super::super::super::Backend;
    use super::super::fixtures::store;
    use super::request;
    use crate::testing::TestDb;
    use crate::{NewMessage, SearchRequest, Store};

    /// A store with one user and one room of theirs.
    pub(super) async fn alice_in_a_room() -> (TestDb, Backend, Id, Id) {
        let (db, s) = store().await;
        let (me, room) = crate::testing::user_with_room(&s).await;
        (db, s, me, room)
    }

    /// Posts `content` (its own commit), returns its id.
    pub(super) async fn post(s: &Backend, room: Id, user: Id, content: String) -> Id {
        s.post_message(NewMessage::text(room, user, content))
            .await
            .unwrap()
            .message
            .id
    }

    pub(super) fn deploy(user: Id, limit: u32) -> SearchRequest {
        SearchRequest {
            limit,
            ..request(user, "deploy")
        }
    }
}
