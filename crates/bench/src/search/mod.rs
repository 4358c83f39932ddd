//! S7: message search at scale (issue 10). Bulk-loads messages of varied text
//! straight into the server's database (with their search tokens, computed by
//! the same `natter_core::search::index_text` the server uses, so the
//! database's own index machinery — FTS5 triggers, the GIN index — indexes
//! them during the load), times a rebuild of the search index and reports its
//! size, then times `GET /api/search` per query kind, warm, as a user who is a
//! member of a few of the rooms.
//!
//! Layout: `corpus` (the generated text), `load` (into the database, and the
//! index figures), `queries` (the query mix and its timing); here the
//! scenario itself: who is in which room, and the report.

use std::collections::HashSet;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use serde_json::{json, Value};

use crate::api::{self, Layout};
use crate::scenarios::Budget;
use crate::Common;

mod corpus;
mod load;
mod queries;

use load::{load, Target};

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
        let kinds = queries::kinds(&username);
        let (figures, ok) = queries::measure(&api, &token, &kinds, &mine, queries).await?;
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
