//! S7: message search at scale (issue 10). Bulk-loads messages of varied text
//! straight into the server's database (with their search tokens, computed by
//! the same `natter_core::search::index_text` the server uses, so the
//! database's own index machinery — FTS5 triggers, the GIN index — indexes
//! them during the load), times a rebuild of the search index and reports its
//! size, then times `GET /api/search` per query kind, warm, as a user who is a
//! member of a few of the rooms.

use std::collections::HashSet;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use serde_json::{json, Value};
use sqlx::Connection;

use crate::api::{self, Layout};
use crate::scenarios::Budget;
use crate::stats;
use crate::Common;

#[derive(Debug, Clone, Args)]
pub struct S7 {
    #[command(flatten)]
    pub common: Common,
    /// Messages to bulk-load.
    #[arg(long, default_value_t = 1_000_000)]
    pub messages: u64,
    /// Rooms to spread them over.
    #[arg(long, default_value_t = 1_000)]
    pub rooms: usize,
    /// Rooms the searching user is a member of.
    #[arg(long, default_value_t = 50)]
    pub member_rooms: usize,
    /// Other users writing the messages (each room has the searcher or not, plus two of them).
    #[arg(long, default_value_t = 20)]
    pub authors: usize,
    /// The server's database (`sqlite://path` or `postgres://…`), written directly.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Timed requests per query kind (after a warm-up).
    #[arg(long, default_value_t = 300)]
    pub queries: usize,
}

/// Rows per INSERT statement of the loader.
const ROWS_PER_INSERT: usize = 400;

const WORDS: &[&str] = &[
    "the",
    "a",
    "we",
    "it",
    "is",
    "to",
    "and",
    "of",
    "for",
    "on",
    "in",
    "this",
    "that",
    "with",
    "can",
    "you",
    "be",
    "will",
    "just",
    "now",
    "team",
    "today",
    "tomorrow",
    "meeting",
    "lunch",
    "build",
    "test",
    "tests",
    "failing",
    "passing",
    "merge",
    "branch",
    "review",
    "code",
    "bug",
    "fix",
    "fixed",
    "issue",
    "ticket",
    "server",
    "client",
    "database",
    "query",
    "index",
    "cache",
    "latency",
    "timeout",
    "error",
    "retry",
    "queue",
    "worker",
    "cluster",
    "node",
    "redis",
    "postgres",
    "sqlite",
    "schema",
    "migration",
    "backup",
    "restore",
    "deploy",
    "deployed",
    "deployment",
    "rollback",
    "release",
    "staging",
    "production",
    "monitoring",
    "alert",
    "dashboard",
    "metrics",
    "logs",
    "trace",
    "profile",
    "memory",
    "cpu",
    "disk",
    "network",
    "socket",
    "message",
    "search",
    "room",
    "user",
    "password",
    "token",
    "session",
    "login",
    "design",
    "spec",
    "draft",
    "docs",
    "readme",
    "changelog",
    "version",
    "upgrade",
    "config",
    "café",
    "reunión",
    "mañana",
    "über",
    "naïve",
    "coffee",
    "pizza",
    "weekend",
    "holiday",
    "vacation",
    "thanks",
    "please",
    "great",
    "good",
    "bad",
    "ok",
    "sure",
    "maybe",
    "later",
];

const CJK: &[&str] = &[
    "明日の会議は東京で行います",
    "今日はとても忙しいです",
    "京都に行きます",
    "我们明天在北京开会",
    "서울에서 회의가 있습니다",
];

/// A small deterministic generator (xorshift64*): the same corpus every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Skewed towards the start of the list (frequent words first).
    fn word(&mut self) -> &'static str {
        let u = (self.below(1 << 20) as f64) / f64::from(1 << 20);
        WORDS[((u * u) * WORDS.len() as f64) as usize % WORDS.len()]
    }
}

fn content(rng: &mut Rng, n: u64) -> String {
    let len = 4 + rng.below(16) as usize;
    let mut words: Vec<String> = (0..len).map(|_| rng.word().to_owned()).collect();
    // Rarer things at fixed strides (so every size of run holds some in the
    // searcher's rooms): links 2%, identifiers 1%, the phrase 0.5%, CJK 1%.
    let extra = if n % 50 == 2 {
        Some(format!(
            "https://github.com/natter/natter/issues/{}",
            n % 5000
        ))
    } else if n % 100 == 3 {
        // with 1,000 rooms (or any count dividing 1,000) PLT-k lands in room
        // k % rooms: PLT-3, the query, in room 3, one of the searcher's
        Some(format!("PLT-{}", n % 1000))
    } else if n % 200 == 4 {
        Some("release notes".to_owned())
    } else if n % 300 == 1 {
        Some(CJK[0].to_owned())
    } else if n.is_multiple_of(150) {
        Some(CJK[1 + (n / 150 % 4) as usize].to_owned())
    } else {
        None
    };
    let at = rng.below(len as u64) as usize;
    if let Some(e) = extra {
        words.insert(at, e);
    }
    words.join(" ")
}

fn day(secs: i64) -> String {
    // Days since the epoch → civil date (Howard Hinnant's algorithm), UTC.
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// One room to fill: its id and who writes in it.
struct Target {
    room: i64,
    authors: Vec<i64>,
}

/// Inserts `per_room` messages into each room, newest ending now.
async fn load(url: &str, targets: &[Target], per_room: u64) -> Result<Value> {
    let now = (stats::now_ns() / 1_000_000_000) as i64;
    let total = per_room * targets.len() as u64;
    // Spread over the last 30 days.
    let step = ((30 * 86_400) as u64 / total.max(1)).max(1) as i64;
    let base = now - step * total as i64;
    let pg = url.starts_with("postgres");
    let started = Instant::now();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut rows: Vec<(i64, i64, i64, String, i64)> = Vec::with_capacity(ROWS_PER_INSERT);
    let mut n: u64 = 0;
    let mut last_report = Instant::now();
    let mut sqlite = None;
    let mut postgres = None;
    if pg {
        postgres = Some(
            sqlx::PgConnection::connect(url)
                .await
                .context("connecting")?,
        );
    } else {
        let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
            .busy_timeout(Duration::from_secs(60))
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
        sqlite = Some(sqlx::SqliteConnection::connect_with(&opts).await?);
    }
    // Messages interleave over rooms, so times rise with ids as when sent live.
    for seq in 1..=per_room as i64 {
        for t in targets {
            let author = t.authors[rng.below(t.authors.len() as u64) as usize];
            let at = base + n as i64 * step;
            rows.push((t.room, author, seq, content(&mut rng, n), at));
            n += 1;
            if rows.len() == ROWS_PER_INSERT {
                insert(&mut sqlite, &mut postgres, &rows).await?;
                rows.clear();
            }
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            last_report = Instant::now();
            eprintln!(
                "  s7 load: {n}/{total} messages, {:.0} messages/s",
                n as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    if !rows.is_empty() {
        insert(&mut sqlite, &mut postgres, &rows).await?;
    }
    let activity = now * 1_000_000;
    let load_secs = started.elapsed().as_secs_f64();
    let mut report = json!({"messages": total, "load_seconds": load_secs, "rows_per_s": (total as f64 / load_secs).round()});
    let sql = "UPDATE rooms SET last_seq = $1, last_activity = $2 WHERE id = $3";
    if let Some(c) = sqlite.as_mut() {
        for t in targets {
            sqlx::query(sql)
                .bind(per_room as i64)
                .bind(activity)
                .bind(t.room)
                .execute(&mut *c)
                .await?;
        }
        let t = Instant::now();
        sqlx::query("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")
            .execute(&mut *c)
            .await?;
        report["index_rebuild_seconds"] = json!(t.elapsed().as_secs_f64());
        // The rebuild leaves several segments; the server's upkeep merges them
        // into one in the background (sql/search.rs), as it does for a live
        // index: measure once it has, as a live server is most of the time.
        let t = Instant::now();
        let mut segments = i64::MAX;
        while segments > 1 && t.elapsed() < Duration::from_secs(600) {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM (SELECT DISTINCT segid FROM messages_fts_idx)",
            )
            .fetch_one(&mut *c)
            .await?;
            segments = n;
        }
        report["index_segments"] = json!(segments);
        report["index_upkeep_wait_seconds"] = json!(t.elapsed().as_secs_f64());
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut *c)
            .await?;
        sqlx::query("ANALYZE").execute(&mut *c).await?;
        let size: Result<(i64,), _> =
            sqlx::query_as("SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'messages_fts%'")
                .fetch_one(&mut *c)
                .await;
        report["index_bytes"] = size.map(|(s,)| json!(s)).unwrap_or(Value::Null);
        let (text,): (i64,) = sqlx::query_as("SELECT SUM(LENGTH(search_text)) FROM messages")
            .fetch_one(&mut *c)
            .await?;
        report["search_text_bytes"] = json!(text);
    }
    if let Some(c) = postgres.as_mut() {
        for t in targets {
            sqlx::query(sql)
                .bind(per_room as i64)
                .bind(activity)
                .bind(t.room)
                .execute(&mut *c)
                .await?;
        }
        let t = Instant::now();
        sqlx::query("REINDEX INDEX messages_search")
            .execute(&mut *c)
            .await?;
        report["index_rebuild_seconds"] = json!(t.elapsed().as_secs_f64());
        sqlx::query("VACUUM ANALYZE messages")
            .execute(&mut *c)
            .await?;
        let (gin, tsv, text): (i64, i64, i64) = sqlx::query_as(
            "SELECT pg_relation_size('messages_search'),
                    COALESCE(SUM(pg_column_size(search_tsv)), 0)::bigint,
                    COALESCE(SUM(octet_length(search_text)), 0)::bigint
             FROM messages",
        )
        .fetch_one(&mut *c)
        .await?;
        report["index_bytes"] = json!(gin);
        report["tsvector_bytes"] = json!(tsv);
        report["search_text_bytes"] = json!(text);
    }
    Ok(report)
}

async fn insert(
    sqlite: &mut Option<sqlx::SqliteConnection>,
    postgres: &mut Option<sqlx::PgConnection>,
    rows: &[(i64, i64, i64, String, i64)],
) -> Result<()> {
    let pg = postgres.is_some();
    // Seven parameters per row: room, user, seq, content, time, tokens, has_link.
    let mut fixed = String::new();
    fixed.push_str(
        "INSERT INTO messages (room_id, user_id, seq, content, kind, created_at, updated_at, search_text, has_link) VALUES ",
    );
    for i in 0..rows.len() {
        let b = i * 7;
        if i > 0 {
            fixed.push_str(", ");
        }
        let time = if pg {
            format!("to_timestamp(${})", b + 5)
        } else {
            format!("${}", b + 5)
        };
        fixed.push_str(&format!(
            "(${}, ${}, ${}, ${}, 'text', {time}, {time}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 6,
            b + 7
        ));
    }
    macro_rules! bind_all {
        ($q:expr, $time:expr) => {{
            let mut q = $q;
            for (room, user, seq, text, at) in rows {
                q = q
                    .bind(*room)
                    .bind(*user)
                    .bind(*seq)
                    .bind(text.as_str())
                    .bind($time(*at))
                    .bind(natter_core::search::index_text(text))
                    .bind(natter_core::search::has_link(text));
            }
            q
        }};
    }
    if let Some(c) = postgres.as_mut() {
        bind_all!(sqlx::query::<sqlx::Postgres>(&fixed), |at: i64| at as f64)
            .execute(&mut *c)
            .await?;
    } else if let Some(c) = sqlite.as_mut() {
        bind_all!(sqlx::query::<sqlx::Sqlite>(&fixed), day)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

impl S7 {
    pub async fn run(self, b: Budget) -> Result<(Value, bool)> {
        let smoke = b.common.smoke;
        let (messages, rooms, member_rooms, authors, queries) = if smoke {
            (3_000, 20, 5, 4, 10)
        } else {
            (
                self.messages,
                self.rooms,
                self.member_rooms,
                self.authors.max(2),
                self.queries,
            )
        };
        let member_rooms = member_rooms.min(rooms);
        // User 0 searches; users 1..=authors write. Room i: two writers, and
        // user 0 in the first `member_rooms`.
        let layout = Layout {
            users: 1 + authors,
            rooms: (0..rooms)
                .map(|i| {
                    let a = 1 + i % authors;
                    let b2 = 1 + (i + 1) % authors;
                    let mut m = vec![a, b2];
                    if i < member_rooms {
                        m.push(0);
                    }
                    ("s7".to_owned(), m)
                })
                .collect(),
        };
        let prov = b.provision(&layout).await?;
        let url = self.database_url.clone().ok_or_else(|| {
            anyhow!("s7 needs --database-url (the server's database) to bulk-load")
        })?;
        let user_id = |i: usize| -> Result<i64> {
            prov.users[i]
                .id
                .parse()
                .context("user ids must be integers (Natter's store)")
        };
        let mut targets = Vec::new();
        let mut mine = HashSet::new();
        for r in prov.rooms_tagged("s7") {
            let writers = r
                .members
                .iter()
                .filter(|&&m| m != 0)
                .map(|&m| user_id(m))
                .collect::<Result<Vec<_>>>()?;
            if r.members.contains(&0) {
                mine.insert(r.id.clone());
            }
            targets.push(Target {
                room: r.id.parse()?,
                authors: writers,
            });
        }
        let per_room = messages / targets.len().max(1) as u64;
        let load = load(&url, &targets, per_room).await?;
        eprintln!("s7: {load}");

        let api = api::Api::new(&b.common.url)?;
        let token = prov.users[0].token.clone();
        // A writer of the searcher's first room, by username, for from:.
        let writer = prov.rooms_tagged("s7")[0].members[0];
        let (_, me) = api
            .call(
                reqwest::Method::GET,
                "/api/me",
                Some(&prov.users[writer].token),
                None,
            )
            .await?;
        let username = me["user"]["username"]
            .as_str()
            .ok_or_else(|| anyhow!("GET /api/me gave no username: {me}"))?
            .to_owned();
        let kinds: Vec<(&str, String)> = vec![
            ("word", "deployment".to_owned()),
            ("prefix_word", "deploy".to_owned()),
            ("two_words", "server timeout".to_owned()),
            ("phrase", "\"release notes\"".to_owned()),
            ("cjk", "東京".to_owned()),
            ("identifier", "PLT-3".to_owned()),
            ("from", format!("from:@{username}")),
            ("has_link", "has:link".to_owned()),
        ];
        let mut ok = true;
        let mut figures = serde_json::Map::new();
        for (kind, q) in &kinds {
            let path = format!("/api/search?q={}&limit=20", url_encode(q));
            // Correctness: results, only from the searcher's rooms.
            let (status, v) = api
                .call(reqwest::Method::GET, &path, Some(&token), None)
                .await?;
            let results = v["results"].as_array().cloned().unwrap_or_default();
            let outside = results
                .iter()
                .filter(|r| !mine.contains(r["message"]["roomId"].as_str().unwrap_or("")))
                .count();
            if status != 200 || results.is_empty() || outside > 0 {
                eprintln!("s7: {kind} ({q}): status {status}, {} results, {outside} outside the searcher's rooms", results.len());
                ok = false;
            }
            for _ in 0..queries.min(20) {
                api.call(reqwest::Method::GET, &path, Some(&token), None)
                    .await?;
            }
            let mut h = stats::hist();
            let mut errors = 0u64;
            for _ in 0..queries {
                let t = Instant::now();
                let (status, _) = api
                    .call(reqwest::Method::GET, &path, Some(&token), None)
                    .await?;
                stats::record(&mut h, t.elapsed().as_micros() as u64);
                if status != 200 {
                    errors += 1;
                }
            }
            if errors > 0 {
                ok = false;
            }
            let p = stats::pcts(&h);
            figures.insert(
                (*kind).to_owned(),
                json!({"q": q, "first_page": results.len(), "p50_ms": p.p50_ms, "p99_ms": p.p99_ms, "errors": errors}),
            );
        }
        if smoke && targets.is_empty() {
            bail!("no rooms");
        }
        let report = json!({
            "messages": per_room * targets.len() as u64,
            "rooms": targets.len(),
            "searcher_rooms": mine.len(),
            "load": load,
            "queries": figures,
            "target": {"p99_ms_max": 15, "messages": 1_000_000, "warm": true},
        });
        Ok((report, ok))
    }
}

fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
