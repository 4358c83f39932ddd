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

use std::time::Instant;

use natter_core::search::{self, Cursor, Has, Sort, Term};
use natter_core::{Id, Message, Result};
use sqlx::Database;

use super::{clamp, postgres, Conn, Db, Pools};
use crate::error::db_err;
use crate::rows::{assemble, MentionRow, MessageRow, ReactionRow};
use crate::{SearchPage, SearchRequest};

/// A bind parameter of a statement built here.
#[derive(Clone)]
enum Arg {
    Int(i64),
    Text(String),
    Real(f64),
    Bool(bool),
}

/// A statement with its parameters, `$1`, `$2`, … in order.
#[derive(Default, Clone)]
struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    fn arg(&mut self, a: Arg) -> &mut Self {
        self.args.push(a);
        let n = self.args.len();
        self.text.push_str(&format!("${n}"));
        self
    }

    /// `inner` after the text `prefix` (which has no parameters, so `inner`'s
    /// `$n` stay as they are).
    fn after(prefix: &str, inner: &Sql) -> Sql {
        Sql {
            text: format!("{prefix}{}", inner.text),
            args: inner.args.clone(),
        }
    }

    fn list(&mut self, ids: &[Id]) -> &mut Self {
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.arg(Arg::Int(id.0));
        }
        self
    }

    async fn fetch<T>(self, c: &mut Conn) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, <Db as Database>::Row> + Send + Unpin,
    {
        // Not a cached prepared statement: each search's text is its own (the
        // scope's rooms are in it), and PostgreSQL would switch a reused one to a
        // generic plan after five runs — one that cannot see how selective the
        // full-text condition is (6 ms became 50 ms at 1M messages).
        let mut q = sqlx::query_as::<Db, T>(&self.text).persistent(false);
        for a in self.args {
            q = match a {
                Arg::Int(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::Real(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
            };
        }
        q.fetch_all(&mut *c).await.map_err(db_err)
    }
}

/// The rooms of a search scope, each term looked up in each of them: the index
/// holds every token as `<room>·<token>` (migration 0007), so a term ORed over
/// the scope's rooms reads only that word's postings in those rooms.
type Scope = [i64];

/// `parts` ORed as a balanced tree, so a scope of thousands of rooms stays a
/// shallow expression (PostgreSQL evaluates a tsquery recursively).
fn any_of(parts: &[String], or: &str) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        _ => {
            let (a, b) = parts.split_at(parts.len() / 2);
            format!("({}{or}{})", any_of(a, or), any_of(b, or))
        }
    }
}

/// FTS5: `"r<room>·t1 r<room>·t2"*` per room (a phrase; `*` makes its last
/// token a prefix), ORed.
fn fts_term(t: &Term, scope: &Scope) -> String {
    let phrases: Vec<String> = scope
        .iter()
        .map(|room| {
            let tokens: Vec<String> = t
                .tokens
                .iter()
                .map(|tok| format!("r{room}·{tok}"))
                .collect();
            format!(
                "\"{}\"{}",
                tokens.join(" ").replace('"', "\"\""),
                if t.prefix { "*" } else { "" }
            )
        })
        .collect();
    any_of(&phrases, " OR ")
}

fn fts_expr(terms: &[Term], excluded: &[Term], scope: &Scope) -> String {
    let mut e = terms
        .iter()
        .map(|t| fts_term(t, scope))
        .collect::<Vec<_>>()
        .join(" AND ");
    for x in excluded {
        e.push_str(" NOT ");
        e.push_str(&fts_term(x, scope));
    }
    e
}

/// PostgreSQL: `'#<room>·t1' <-> '#<room>·t2':*` per room, ORed; lexemes
/// quoted, so taken as is.
fn ts_term(t: &Term, scope: &Scope) -> String {
    let last = t.tokens.len().saturating_sub(1);
    let phrases: Vec<String> = scope
        .iter()
        .map(|room| {
            let parts: Vec<String> = t
                .tokens
                .iter()
                .enumerate()
                .map(|(i, tok)| {
                    let lexeme = format!("#{room}·{tok}");
                    let quoted = format!("'{}'", lexeme.replace('\\', "\\\\").replace('\'', "''"));
                    if i == last && t.prefix {
                        quoted + ":*"
                    } else {
                        quoted
                    }
                })
                .collect();
            format!("({})", parts.join(" <-> "))
        })
        .collect();
    any_of(&phrases, " | ")
}

fn ts_expr(terms: &[Term], excluded: &[Term], scope: &Scope) -> String {
    let mut parts: Vec<String> = terms.iter().map(|t| ts_term(t, scope)).collect();
    parts.extend(excluded.iter().map(|x| format!("!{}", ts_term(x, scope))));
    parts.join(" & ")
}

fn ts_any(terms: &[Term], scope: &Scope) -> String {
    terms
        .iter()
        .map(|t| ts_term(t, scope))
        .collect::<Vec<_>>()
        .join(" | ")
}

fn fts_any(terms: &[Term], scope: &Scope) -> String {
    terms
        .iter()
        .map(|t| fts_term(t, scope))
        .collect::<Vec<_>>()
        .join(" OR ")
}

fn day(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

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
    let pg = postgres();
    // The searcher's rooms (within the asked scope): every term is looked up in
    // each of them (the index is by room, see `Scope`), which is the membership
    // rule of a words-only search on SQLite (`fts_only`); the other statements
    // check membership again in SQL.
    let mut scope: Vec<(i64,)> =
        sqlx::query_as("SELECT room_id FROM members WHERE user_id = $1 ORDER BY room_id")
            .bind(req.user.0)
            .fetch_all(&mut *c)
            .await
            .map_err(db_err)?;
    if let Some(only) = &req.rooms {
        scope.retain(|(r,)| only.iter().any(|o| o.0 == *r));
    }
    if scope.is_empty() {
        return Ok(none);
    }
    let scope: Vec<i64> = scope.into_iter().map(|(r,)| r).collect();
    // Every token is looked up in every room of the scope: bound the product, so
    // a query stays within PostgreSQL's tsquery and parameter limits and a
    // search cannot hold a reader for seconds.
    let tokens: usize = req
        .terms
        .iter()
        .chain(&req.excluded)
        .map(|t| t.tokens.len())
        .sum();
    if tokens > 0 && (scope.len() > MAX_SCOPE_ROOMS || scope.len() * tokens > MAX_SCOPE_ITEMS) {
        return Err(natter_core::Error::invalid(format!(
            "this search is too broad: {tokens} words in {} rooms; narrow it to some rooms \
             (in:#room, or search this room) or use fewer words",
            scope.len()
        )));
    }
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
    // PostgreSQL's rank of a window's row `w` (see `window`).
    let mut rank_pg: Option<Box<RankPg<'_>>> = None;
    let mut q = Sql::default();
    q.push("SELECT ").push(id_col).push(" AS id, ");
    if text && pg {
        // Each message checked and ranked against its own room's query: the
        // index condition names every room of the scope, and both the recheck of a
        // phrase (positions are not in the index) and ts_rank_cd walk every item
        // of the query for each row: 150 µs a row at 50 rooms, a few with this.
        let own_room = |q: &mut Sql, of: &str| {
            q.push("CASE ").push(of).push(".room_id");
            for room in &scope {
                q.push(" WHEN ")
                    .arg(Arg::Int(*room))
                    .push(" THEN CAST(")
                    .arg(Arg::Text(ts_expr(&req.terms, &req.excluded, &[*room])))
                    .push(" AS tsquery)");
            }
            q.push(" END");
        };
        if ranked {
            // Ranked in the window's query (`window`), not per match here.
            q.push("m.search_tsv AS tsv, m.room_id AS room_id");
            rank_pg = Some(Box::new(move |q: &mut Sql| {
                q.push("-ts_rank_cd(w.tsv, ");
                own_room(q, "w");
                q.push(")::float8");
            }));
        } else {
            q.push("CAST(0 AS float8) AS score");
        }
        // The index condition without phrases (their tokens ANDed), which the
        // index answers exactly: no recheck of the scope-wide query.
        let loose: Vec<Term> = req
            .terms
            .iter()
            .flat_map(|t| {
                let last = t.tokens.len().saturating_sub(1);
                t.tokens.iter().enumerate().map(move |(i, tok)| Term {
                    raw: t.raw.clone(),
                    tokens: vec![tok.clone()],
                    prefix: t.prefix && i == last,
                })
            })
            .collect();
        q.push(" FROM messages m WHERE m.search_tsv @@ CAST(")
            .arg(Arg::Text(ts_expr(&loose, &req.excluded, &scope)))
            .push(" AS tsquery)");
        if req.terms.iter().any(|t| t.tokens.len() > 1) {
            q.push(" AND m.search_tsv @@ ");
            own_room(&mut q, "m");
        }
    } else if text {
        q.push(if ranked { "bm25(messages_fts)" } else { "0.0" });
        q.push(if fts_only {
            " AS score FROM messages_fts WHERE messages_fts MATCH "
        } else {
            " AS score FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid WHERE messages_fts MATCH "
        })
        .arg(Arg::Text(fts_expr(&req.terms, &req.excluded, &scope)));
    } else {
        q.push(if pg { "CAST(0 AS float8)" } else { "0.0" })
            .push(" AS score FROM messages m WHERE TRUE");
    }
    if !fts_only {
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
        bound(&mut q, ">=", d);
    }
    if let Some(d) = req.until {
        bound(&mut q, "<", d);
    }
    if !text && !req.excluded.is_empty() {
        if pg {
            q.push(" AND NOT (m.search_tsv @@ CAST(")
                .arg(Arg::Text(ts_any(&req.excluded, &scope)))
                .push(" AS tsquery))");
        } else {
            q.push(" AND m.id NOT IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ")
                .arg(Arg::Text(fts_any(&req.excluded, &scope)))
                .push(")");
        }
    }
    let inner = q;
    let (hits, next) = if ranked {
        ranked_pages(
            &mut c,
            &inner,
            id_col,
            rank_pg.as_deref(),
            &req,
            limit,
            max_id,
        )
        .await?
    } else {
        // Unranked (no words, or sort=newest): by id alone, so an index on id can
        // be walked newest first and stop at the page (from:@user: the author's
        // index, not a sort of all their messages).
        let mut q = Sql::after("SELECT id, score FROM (", &inner);
        q.push(" AND ")
            .push(id_col)
            .push(" <= ")
            .arg(Arg::Int(max_id));
        q.push(") hits");
        if let Some(cur) = req.cursor {
            q.push(" WHERE id < ").arg(Arg::Int(cur.id));
        }
        q.push(" ORDER BY id DESC LIMIT ").arg(Arg::Int(limit + 1));
        let mut hits: Vec<(i64, f64)> = q.fetch(&mut c).await?;
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
        (hits.into_iter().map(|(id, _)| id).collect(), next)
    };
    let ids: Vec<Id> = hits.into_iter().map(Id).collect();
    Ok(SearchPage {
        messages: by_ids(&mut c, &ids).await?,
        next,
    })
}

/// Writes PostgreSQL's rank of a window's row `w` into a statement.
type RankPg<'a> = dyn Fn(&mut Sql) + Send + Sync + 'a;

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
async fn ranked_pages(
    c: &mut Conn,
    inner: &Sql,
    id_col: &str,
    rank_pg: Option<&RankPg<'_>>,
    req: &SearchRequest,
    limit: i64,
    max_id: i64,
) -> Result<(Vec<i64>, Option<Cursor>)> {
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
                window(&one, id_col, rank_pg, None, i64::MAX, None, 1)
                    .fetch(c)
                    .await?;
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
            window(inner, id_col, rank_pg, floor, hi, after, want)
                .fetch(c)
                .await?;
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
/// matches of `inner` in the window `floor..=hi` (no floor: the newest
/// [`RANK_WINDOW`] at or below `hi`), after `after` (rank, id) if given.
fn window(
    inner: &Sql,
    id_col: &str,
    rank_pg: Option<&RankPg<'_>>,
    floor: Option<i64>,
    hi: i64,
    after: Option<(f64, i64)>,
    want: i64,
) -> Sql {
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
    match rank_pg {
        Some(rank) => rank(&mut q),
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

/// Full messages of `ids` (of any rooms), in that order.
async fn by_ids(c: &mut Conn, ids: &[Id]) -> Result<Vec<Message>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::default();
    q.push(
        "SELECT m.id, m.room_id, m.user_id, m.seq, m.content, m.kind, m.file_url, m.reply_to_id,
                m.client_id, m.created_at, m.updated_at, m.edited_at, m.deleted_at,
                u.username, u.name AS user_name, u.avatar,
                rm.content AS reply_content, ru.username AS reply_username
         FROM messages m
         JOIN users u ON u.id = m.user_id
         LEFT JOIN messages rm ON rm.id = m.reply_to_id
         LEFT JOIN users ru ON ru.id = rm.user_id
         WHERE m.id IN (",
    )
    .list(ids)
    .push(")");
    let rows: Vec<MessageRow> = q.fetch(c).await?;
    let mut q = Sql::default();
    q.push("SELECT message_id, emoji, user_id FROM reactions WHERE message_id IN (")
        .list(ids)
        .push(") ORDER BY message_id, emoji_seq, seq");
    let reactions: Vec<ReactionRow> = q.fetch(c).await?;
    let mut q = Sql::default();
    q.push("SELECT message_id, user_id FROM message_mentions WHERE message_id IN (")
        .list(ids)
        .push(") ORDER BY message_id, user_id");
    let mentions: Vec<MentionRow> = q.fetch(c).await?;
    let mut found = assemble(rows, reactions, mentions)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(i) = found.iter().position(|m| m.id == *id) {
            out.push(found.swap_remove(i));
        }
    }
    Ok(out)
}

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
        let mut stmt = sqlx::query::<Db>(&q.text);
        for a in q.args {
            stmt = match a {
                Arg::Int(v) => stmt.bind(v),
                Arg::Text(v) => stmt.bind(v),
                Arg::Real(v) => stmt.bind(v),
                Arg::Bool(v) => stmt.bind(v),
            };
        }
        stmt.execute(&mut *c).await.map_err(db_err)?;
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

/// The most rooms a search with words looks in at once (each adds bound
/// parameters on PostgreSQL, whose limit is 65,535 per statement).
const MAX_SCOPE_ROOMS: usize = 5_000;

/// The most (room, token) pairs of a search with words.
const MAX_SCOPE_ITEMS: usize = 20_000;

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
    use natter_core::Id;

    use super::super::super::{test_db, Backend};
    use super::{postgres, segments, upkeep_round};
    use crate::testing::TestDb;
    use crate::{NewMessage, SearchRequest, Store};

    /// A store with one user and one room of theirs.
    async fn alice_in_a_room() -> (TestDb, Backend, Id, Id) {
        let db = test_db().await;
        let s = Backend::open(&db.url).await.unwrap();
        let (me, room) = crate::testing::user_with_room(&s).await;
        (db, s, me, room)
    }

    /// Posts `content` (its own commit), returns its id.
    async fn post(s: &Backend, room: Id, user: Id, content: String) -> Id {
        s.post_message(NewMessage::text(room, user, content))
            .await
            .unwrap()
            .message
            .id
    }

    fn deploy(user: Id, limit: u32) -> SearchRequest {
        let q = natter_core::search::parse("deploy").unwrap();
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
            limit,
            cursor: None,
        }
    }

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
