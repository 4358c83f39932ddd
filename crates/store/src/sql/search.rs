//! Message search and history around a message (issue 10, docs/SEARCH.md).
//!
//! The tokens come from `natter_core::search` (folded, split, CJK as pairs),
//! stored in `messages.search_text` by the statement that stores or edits
//! the message; SQLite indexes them with FTS5 (triggers), PostgreSQL with a
//! generated `tsvector` and a GIN index: both in the message's transaction,
//! so a message is searchable as soon as it is acknowledged.
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

use super::{clamp, messages, Conn, Db, Pools};
use crate::error::db_err;
use crate::rows::{assemble, MentionRow, MessageRow, ReactionRow};
use crate::{AroundPage, PageAt, SearchPage, SearchRequest};

fn postgres() -> bool {
    Db::NAME == "PostgreSQL"
}

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
        let mut q = sqlx::query_as::<Db, T>(&self.text);
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

/// FTS5: `"t1 t2"*` per term (a phrase; `*` makes its last token a prefix).
fn fts_term(t: &Term) -> String {
    format!(
        "\"{}\"{}",
        t.tokens.join(" ").replace('"', "\"\""),
        if t.prefix { "*" } else { "" }
    )
}

fn fts_expr(terms: &[Term], excluded: &[Term]) -> String {
    let mut e = format!(
        "({})",
        terms.iter().map(fts_term).collect::<Vec<_>>().join(" AND ")
    );
    for x in excluded {
        e.push_str(" NOT ");
        e.push_str(&fts_term(x));
    }
    e
}

/// PostgreSQL: `('t1' <-> 't2':*)` per term; lexemes quoted, so taken as is.
fn ts_term(t: &Term) -> String {
    let last = t.tokens.len().saturating_sub(1);
    let parts: Vec<String> = t
        .tokens
        .iter()
        .enumerate()
        .map(|(i, tok)| {
            let quoted = format!("'{}'", tok.replace('\\', "\\\\").replace('\'', "''"));
            if i == last && t.prefix {
                quoted + ":*"
            } else {
                quoted
            }
        })
        .collect();
    format!("({})", parts.join(" <-> "))
}

fn ts_expr(terms: &[Term], excluded: &[Term]) -> String {
    let mut parts: Vec<String> = terms.iter().map(ts_term).collect();
    parts.extend(excluded.iter().map(|x| format!("!{}", ts_term(x))));
    parts.join(" & ")
}

fn ts_any(terms: &[Term]) -> String {
    terms.iter().map(ts_term).collect::<Vec<_>>().join(" | ")
}

fn fts_any(terms: &[Term]) -> String {
    terms.iter().map(fts_term).collect::<Vec<_>>().join(" OR ")
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
    // The searcher's rooms (within the asked scope), ANDed into the full-text
    // query when few enough, so the index narrows to them first. The SQL
    // membership check below stays the rule either way.
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
    let in_index = scope.len() <= INDEXED_SCOPE;
    let text = !req.terms.is_empty();
    let ranked = text && req.sort == Sort::Relevance;
    let mut q = Sql::default();
    q.push("SELECT m.id AS id, ");
    if text && pg {
        let expr = ts_expr(&req.terms, &req.excluded);
        let mut filter = format!("({expr})");
        if in_index {
            let rooms: Vec<String> = scope.iter().map(|(r,)| format!("'#{r}'")).collect();
            filter.push_str(&format!(" & ({})", rooms.join(" | ")));
        }
        if ranked {
            q.push("-ts_rank_cd(m.search_tsv, CAST(")
                .arg(Arg::Text(expr))
                .push(" AS tsquery))::float8");
        } else {
            q.push("CAST(0 AS float8)");
        }
        q.push(" AS score FROM messages m WHERE m.search_tsv @@ CAST(")
            .arg(Arg::Text(filter))
            .push(" AS tsquery)");
    } else if text {
        // Words only ever match `search_text`; the room column weighs nothing.
        let mut expr = format!("search_text : ({})", fts_expr(&req.terms, &req.excluded));
        if in_index {
            let rooms: Vec<String> = scope.iter().map(|(r,)| format!("r{r}")).collect();
            expr.push_str(&format!(" AND search_room : ({})", rooms.join(" OR ")));
        }
        q.push(if ranked {
            "bm25(messages_fts, 1.0, 0.0)"
        } else {
            "0.0"
        });
        q.push(" AS score FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid WHERE messages_fts MATCH ")
            .arg(Arg::Text(expr));
    } else {
        q.push(if pg { "CAST(0 AS float8)" } else { "0.0" })
            .push(" AS score FROM messages m WHERE TRUE");
    }
    // PostgreSQL: the rooms as an array computed once (an init plan), not a join:
    // as a semi-join, a low estimate of the member rows made the planner loop over
    // the rooms and run the whole full-text index scan once per room (1.2 s
    // instead of 50 ms at 1M messages, docs/BENCHMARKS.md S7).
    q.push(if pg {
        " AND m.room_id = ANY(ARRAY(SELECT room_id FROM members WHERE user_id = "
    } else {
        " AND m.room_id IN (SELECT room_id FROM members WHERE user_id = "
    })
    .arg(Arg::Int(req.user.0))
    .push(if pg { "))" } else { ")" })
    .push(" AND m.deleted_at IS NULL AND m.id <= ")
    .arg(Arg::Int(max_id));
    if let Some(rooms) = &req.rooms {
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
                .arg(Arg::Text(ts_any(&req.excluded)))
                .push(" AS tsquery))");
        } else {
            q.push(" AND m.id NOT IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ")
                .arg(Arg::Text(format!(
                    "search_text : ({})",
                    fts_any(&req.excluded)
                )))
                .push(")");
        }
    }
    let inner = q;
    let mut q = Sql::default();
    q.push("SELECT id, score FROM (");
    q.text.push_str(&inner.text);
    q.args.extend(inner.args.iter().cloned());
    q.push(") hits");
    if let Some(cur) = req.cursor {
        // The pivot is the cursor's message as ranked NOW: bm25 moves with the
        // whole index (new messages change its statistics), mostly shifting
        // every score alike, so ranking the pivot again keeps the pages exact.
        // If it no longer matches (edited, deleted, left), its old rank.
        if ranked {
            let mut pivot = inner.clone();
            pivot.push(" AND m.id = ").arg(Arg::Int(cur.id));
            let now: Vec<(i64, f64)> = pivot.fetch(&mut c).await?;
            let rank = now.first().map_or(cur.rank, |&(_, r)| r);
            q.push(" WHERE score > ")
                .arg(Arg::Real(rank))
                .push(" OR (score = ")
                .arg(Arg::Real(rank))
                .push(" AND id < ")
                .arg(Arg::Int(cur.id))
                .push(")");
        } else {
            q.push(" WHERE id < ").arg(Arg::Int(cur.id));
        }
    }
    // Without words (every score 0) the order is by id alone, so an index on id can
    // be walked newest first and stop at the page (from:@user: the author's index,
    // not a sort of all their messages). With words the score stays in the order:
    // a walk of the whole table testing each row for a rare word is what the
    // planner must not pick; the full-text index then the sort is always right.
    q.push(if text {
        " ORDER BY score, id DESC LIMIT "
    } else {
        " ORDER BY id DESC LIMIT "
    })
    .arg(Arg::Int(limit + 1));
    let mut hits: Vec<(i64, f64)> = q.fetch(&mut c).await?;
    let more = hits.len() as i64 > limit;
    hits.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = match hits.last() {
        Some(&(id, rank)) if more => Some(Cursor {
            sort: req.sort,
            rank,
            id,
            max_id,
        }),
        _ => None,
    };
    let ids: Vec<Id> = hits.iter().map(|&(id, _)| Id(id)).collect();
    Ok(SearchPage {
        messages: by_ids(&mut c, &ids).await?,
        next,
    })
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

/// The message at `seq` and the older ones before it (half the page,
/// rounded up), then the newer ones after it.
/// Near the start or end of the room, the other side fills the page.
pub(super) async fn around(p: &Pools, room: Id, seq: i64, limit: u32) -> Result<AroundPage> {
    let limit = limit.clamp(1, 100);
    let older = messages::history(p, room, PageAt::Before(seq.saturating_add(1)), limit).await?;
    let newer = messages::history(p, room, PageAt::After(seq), limit).await?;
    let n = limit as usize;
    let (o, w) = (older.messages.len(), newer.messages.len());
    let take_newer = w.min(n - o.min(n.div_ceil(2)));
    let take_older = o.min(n - take_newer);
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

/// Up to this many rooms in scope go into the full-text query itself.
const INDEXED_SCOPE: usize = 256;

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
