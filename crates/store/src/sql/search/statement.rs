//! The statement of a search's matches, built from the request alone (no IO):
//! the backend's full-text condition, the searcher's membership, then the
//! filters (`from:`, `in:`, `has:`, dates, excluded words). `pages.rs` wraps
//! it to read one page.

use natter_core::search::{Has, Sort};

use super::sql::{Arg, Sql};
use super::terms::{fts_any, fts_expr, loose, ts_any, ts_expr, Scope};
use crate::SearchRequest;

/// A search's matches, ready to be paged.
pub(super) struct Plan<'a> {
    /// `SELECT <id> AS id, <score> … WHERE …`: open to more `AND`s.
    pub inner: Sql,
    /// The column of a match's id in `inner`.
    pub id_col: &'static str,
    /// Words and `sort=relevance`: paged by rank (`pages::ranked`).
    pub ranked: bool,
    /// PostgreSQL, ranked: `inner` has no score; each window ranks its rows
    /// against their own room's query.
    pub rank_pg: Option<OwnRoom<'a>>,
}

/// PostgreSQL: the query of a message's own room, chosen by its room. The
/// index condition names every room of the scope, and both the recheck of a
/// phrase (positions are not in the index) and `ts_rank_cd` walk every item
/// of the query for each row: 150 µs a row at 50 rooms, a few with this.
#[derive(Clone, Copy)]
pub(super) struct OwnRoom<'a> {
    req: &'a SearchRequest,
    scope: &'a Scope,
}

impl OwnRoom<'_> {
    /// `CASE <of>.room_id WHEN <room> THEN <its tsquery> … END`.
    fn push(&self, q: &mut Sql, of: &str) {
        q.push("CASE ").push(of).push(".room_id");
        for room in self.scope {
            q.push(" WHEN ")
                .arg(Arg::Int(*room))
                .push(" THEN CAST(")
                .arg(Arg::Text(ts_expr(
                    &self.req.terms,
                    &self.req.excluded,
                    &[*room],
                )))
                .push(" AS tsquery)");
        }
        q.push(" END");
    }

    /// The rank of a window's row `w`, lower is better (as bm25).
    pub(super) fn push_rank(&self, q: &mut Sql) {
        q.push("-ts_rank_cd(w.tsv, ");
        self.push(q, "w");
        q.push(")::float8");
    }
}

/// The matches of `req` among the rooms of `scope` (the searcher's, within
/// those asked for), for PostgreSQL if `pg`, else SQLite.
pub(super) fn plan<'a>(req: &'a SearchRequest, scope: &'a Scope, pg: bool) -> Plan<'a> {
    let text = !req.terms.is_empty();
    let ranked = text && req.sort == Sort::Relevance;
    // SQLite, words and nothing else: the index alone answers (the scope is in
    // the query, deleted messages are not indexed), with no row of `messages`
    // read per match: bm25 plus a lookup per match doubled the time.
    let fts_only = text
        && !pg
        && req.from.is_none()
        && req.has.is_empty()
        && req.since.is_none()
        && req.until.is_none();
    let id_col = if fts_only {
        "messages_fts.rowid"
    } else {
        "m.id"
    };
    let mut rank_pg = None;
    let mut q = Sql::default();
    q.push("SELECT ").push(id_col).push(" AS id, ");
    if text && pg {
        let own_room = OwnRoom { req, scope };
        if ranked {
            // Ranked in the window's query (`pages::window`), not per match here.
            q.push("m.search_tsv AS tsv, m.room_id AS room_id");
            rank_pg = Some(own_room);
        } else {
            q.push("CAST(0 AS float8) AS score");
        }
        // The index condition without phrases (their tokens ANDed), which the
        // index answers exactly: no recheck of the scope-wide query.
        q.push(" FROM messages m WHERE m.search_tsv @@ CAST(")
            .arg(Arg::Text(ts_expr(&loose(&req.terms), &req.excluded, scope)))
            .push(" AS tsquery)");
        if req.terms.iter().any(|t| t.tokens.len() > 1) {
            q.push(" AND m.search_tsv @@ ");
            own_room.push(&mut q, "m");
        }
    } else if text {
        q.push(if ranked { "bm25(messages_fts)" } else { "0.0" });
        q.push(if fts_only {
            " AS score FROM messages_fts WHERE messages_fts MATCH "
        } else {
            " AS score FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid WHERE messages_fts MATCH "
        })
        .arg(Arg::Text(fts_expr(&req.terms, &req.excluded, scope)));
    } else {
        q.push(if pg { "CAST(0 AS float8)" } else { "0.0" })
            .push(" AS score FROM messages m WHERE TRUE");
    }
    if !fts_only {
        membership(&mut q, req, pg, text);
    }
    filters(&mut q, req, scope, pg, fts_only);
    Plan {
        inner: q,
        id_col,
        ranked,
        rank_pg,
    }
}

/// Only the searcher's rooms, and no deleted message.
fn membership(q: &mut Sql, req: &SearchRequest, pg: bool, text: bool) {
    // PostgreSQL: the rooms as an array computed once (an init plan), not a
    // join: as a semi-join, a low estimate of the member rows made the planner
    // loop over the rooms and run the whole full-text index scan once per room
    // (1.2 s instead of 50 ms at 1M messages, docs/BENCHMARKS.md S7).
    // With words the scope is in the full-text condition already; `+ 0` keeps
    // this check from becoming a second bitmap (all the scope's messages,
    // 3.5 ms at 50 rooms) ANDed with it.
    q.push(if pg && text {
        " AND m.room_id + 0 = ANY(ARRAY(SELECT room_id FROM members WHERE user_id = "
    } else if pg {
        " AND m.room_id = ANY(ARRAY(SELECT room_id FROM members WHERE user_id = "
    } else {
        " AND m.room_id IN (SELECT room_id FROM members WHERE user_id = "
    })
    .arg(Arg::Int(req.user.0))
    .push(if pg { "))" } else { ")" })
    .push(" AND m.deleted_at IS NULL");
}

/// `in:`, `from:`, `has:`, the dates, and excluded words without words.
fn filters(q: &mut Sql, req: &SearchRequest, scope: &Scope, pg: bool, fts_only: bool) {
    if let Some(rooms) = req.rooms.as_ref().filter(|_| !fts_only) {
        q.push(" AND m.room_id IN (").list(rooms).push(")");
    }
    if let Some(from) = &req.from {
        q.push(" AND m.user_id IN (").list(from).push(")");
    }
    for has in &req.has {
        q.push(match has {
            Has::Image => " AND m.kind = 'image'",
            Has::File => " AND m.kind = 'file'",
            Has::Link => " AND m.has_link",
        });
    }
    // SQLite keeps times as RFC 3339 text in UTC: a day compares as its prefix.
    let bound = |q: &mut Sql, op: &str, d: time::Date| {
        q.push(" AND m.created_at ").push(op).push(" ");
        if pg {
            q.push("CAST(")
                .arg(Arg::Text(day(d)))
                .push(" AS timestamp) AT TIME ZONE 'UTC'");
        } else {
            q.arg(Arg::Text(day(d)));
        }
    };
    if let Some(d) = req.since {
        bound(q, ">=", d);
    }
    if let Some(d) = req.until {
        bound(q, "<", d);
    }
    if req.terms.is_empty() && !req.excluded.is_empty() {
        if pg {
            q.push(" AND NOT (m.search_tsv @@ CAST(")
                .arg(Arg::Text(ts_any(&req.excluded, scope)))
                .push(" AS tsquery))");
        } else {
            q.push(" AND m.id NOT IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ")
                .arg(Arg::Text(fts_any(&req.excluded, scope)))
                .push(")");
        }
    }
}

fn day(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use natter_core::search::{Has, Sort};
    use natter_core::Id;

    use super::super::request;
    use super::super::sql::{Arg, Sql};
    use super::{day, plan};
    use crate::SearchRequest;

    fn req(q: &str) -> SearchRequest {
        request(Id(5), q)
    }

    #[test]
    fn words_alone_on_sqlite_are_answered_by_the_index() {
        let r = req("deploy");
        let p = plan(&r, &[1, 2], false);
        assert_eq!(
            p.inner.text(),
            "SELECT messages_fts.rowid AS id, bm25(messages_fts) AS score \
             FROM messages_fts WHERE messages_fts MATCH $1"
        );
        assert_eq!(
            p.inner.args(),
            [Arg::Text("(\"r1·deploy\"* OR \"r2·deploy\"*)".into())]
        );
        assert_eq!(p.id_col, "messages_fts.rowid");
        assert!(p.ranked && p.rank_pg.is_none());
        // `in:` is in the scope already: the index alone still answers.
        let mut r = req("deploy");
        r.rooms = Some(vec![Id(1)]);
        assert_eq!(plan(&r, &[1], false).id_col, "messages_fts.rowid");
    }

    #[test]
    fn filters_join_the_messages_and_check_membership_again() {
        let mut r = req("deploy");
        r.sort = Sort::Newest;
        r.from = Some(vec![Id(9)]);
        r.has = vec![Has::Link];
        r.since = Some(time::macros::date!(2024 - 03 - 05));
        let p = plan(&r, &[1], false);
        assert_eq!(
            p.inner.text(),
            "SELECT m.id AS id, 0.0 AS score FROM messages_fts \
             JOIN messages m ON m.id = messages_fts.rowid WHERE messages_fts MATCH $1 \
             AND m.room_id IN (SELECT room_id FROM members WHERE user_id = $2) \
             AND m.deleted_at IS NULL AND m.user_id IN ($3) AND m.has_link \
             AND m.created_at >= $4"
        );
        assert_eq!(
            p.inner.args()[1..],
            [Arg::Int(5), Arg::Int(9), Arg::Text("2024-03-05".into())]
        );
        assert!(!p.ranked);
    }

    #[test]
    fn postgres_checks_phrases_and_ranks_against_each_rows_own_room() {
        let r = req("\"deploy now\"");
        let p = plan(&r, &[1, 2], true);
        assert_eq!(
            p.inner.text(),
            "SELECT m.id AS id, m.search_tsv AS tsv, m.room_id AS room_id FROM messages m \
             WHERE m.search_tsv @@ CAST($1 AS tsquery) \
             AND m.search_tsv @@ CASE m.room_id WHEN $2 THEN CAST($3 AS tsquery) \
             WHEN $4 THEN CAST($5 AS tsquery) END \
             AND m.room_id + 0 = ANY(ARRAY(SELECT room_id FROM members WHERE user_id = $6)) \
             AND m.deleted_at IS NULL"
        );
        // The index condition has the words alone; each room's, the phrase.
        assert_eq!(
            p.inner.args()[..3],
            [
                Arg::Text("(('#1·deploy') | ('#2·deploy')) & (('#1·now') | ('#2·now'))".into()),
                Arg::Int(1),
                Arg::Text("('#1·deploy' <-> '#1·now')".into()),
            ]
        );
        let mut rank = Sql::default();
        p.rank_pg.unwrap().push_rank(&mut rank);
        assert_eq!(
            rank.text(),
            "-ts_rank_cd(w.tsv, CASE w.room_id WHEN $1 THEN CAST($2 AS tsquery) \
             WHEN $3 THEN CAST($4 AS tsquery) END)::float8"
        );
    }

    #[test]
    fn excluded_words_alone_filter_out_their_matches() {
        let r = req("-deploy");
        let sqlite = plan(&r, &[1], false);
        assert_eq!(
            sqlite.inner.text(),
            "SELECT m.id AS id, 0.0 AS score FROM messages m WHERE TRUE \
             AND m.room_id IN (SELECT room_id FROM members WHERE user_id = $1) \
             AND m.deleted_at IS NULL \
             AND m.id NOT IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH $2)"
        );
        let pg = plan(&r, &[1], true);
        assert_eq!(
            pg.inner.text(),
            "SELECT m.id AS id, CAST(0 AS float8) AS score FROM messages m WHERE TRUE \
             AND m.room_id = ANY(ARRAY(SELECT room_id FROM members WHERE user_id = $1)) \
             AND m.deleted_at IS NULL AND NOT (m.search_tsv @@ CAST($2 AS tsquery))"
        );
        assert!(!pg.ranked && pg.rank_pg.is_none());
    }

    #[test]
    fn days_are_iso_dates() {
        assert_eq!(day(time::macros::date!(2024 - 03 - 05)), "2024-03-05");
        assert_eq!(day(time::macros::date!(987 - 12 - 31)), "0987-12-31");
    }
}
