//! S6: bulk-load history straight into the database, then time the newest
//! page and a keyset page of `GET /api/messages`, cold and warm.

use std::time::Instant;

use anyhow::{anyhow, Result};
use clap::Args;
use serde_json::{json, Value};

use super::shared::{p, time_requests};
use super::Budget;
use crate::api::{self, Layout};
use crate::Common;

#[derive(Debug, Clone, Args)]
pub struct S6 {
    #[command(flatten)]
    pub common: Common,
    /// Messages to bulk-load.
    #[arg(long, default_value_t = 10_000_000)]
    pub messages: u64,
    /// Rooms to spread them over.
    #[arg(long, default_value_t = 10_000)]
    pub rooms: usize,
    /// The server's database (`sqlite://path` or `postgres://…`), written directly.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Requests per measurement (warm: repeated over a few rooms; cold: one per room).
    #[arg(long, default_value_t = 2000)]
    pub queries: usize,
    /// Skip the load (the database already holds the rooms of --provision-file).
    #[arg(long)]
    pub no_load: bool,
}

impl S6 {
    pub async fn run(self, b: Budget) -> Result<(Value, bool)> {
        let smoke = b.common.smoke;
        let (messages, rooms, queries) = if smoke {
            (2_000, 4, 20)
        } else {
            (self.messages, self.rooms, self.queries)
        };
        let layout = Layout {
            users: 1,
            rooms: (0..rooms).map(|_| ("s6".to_owned(), vec![0])).collect(),
        };
        let prov = b.provision(&layout).await?;
        let room_ids: Vec<String> = prov
            .rooms_tagged("s6")
            .iter()
            .map(|r| r.id.clone())
            .collect();
        let token = prov.users[0].token.clone();
        let mut load = Value::Null;
        if !self.no_load {
            let url = self.database_url.clone().ok_or_else(|| {
                anyhow!("s6 needs --database-url (the server's database) to bulk-load")
            })?;
            let started = Instant::now();
            let stats = crate::bulk::load(&url, &prov.users[0].id, &room_ids, messages).await?;
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "s6: loaded {messages} messages into {} rooms in {secs:.1} s",
                room_ids.len()
            );
            load = json!({"messages": messages, "rooms": room_ids.len(), "seconds": secs, "rows_per_s": (messages as f64 / secs).round(), "details": stats});
        }
        let api = api::Api::new(&b.common.url)?;
        let per_room = messages / rooms as u64;
        let mid = (per_room / 2).max(1);
        let mut ok = true;
        // Correctness: the newest page of one room holds its newest seqs.
        let (status, v) = api
            .call(
                reqwest::Method::GET,
                &format!("/api/messages?roomId={}&limit=50", room_ids[0]),
                Some(&token),
                None,
            )
            .await?;
        let page = v["messages"].as_array().cloned().unwrap_or_default();
        let last_seq = page.last().and_then(|m| m["seq"].as_u64()).unwrap_or(0);
        if status != 200 || page.len() as u64 != per_room.min(50) || last_seq != per_room {
            eprintln!("s6: newest page check failed: status {status}, {} messages, last seq {last_seq} (want {per_room})", page.len());
            ok = false;
        }
        let path_newest = |room: &str| format!("/api/messages?roomId={room}&limit=50");
        let path_keyset = |room: &str| format!("/api/messages?roomId={room}&before={mid}&limit=50");
        let dropped = drop_caches();
        let cold_rooms: Vec<&String> = room_ids.iter().take(queries.min(room_ids.len())).collect();
        let cold_newest =
            time_requests(&api, &token, cold_rooms.iter().map(|r| path_newest(r))).await?;
        let cold_rooms2: Vec<&String> = room_ids
            .iter()
            .rev()
            .take(queries.min(room_ids.len()))
            .collect();
        let _ = drop_caches();
        let cold_keyset =
            time_requests(&api, &token, cold_rooms2.iter().map(|r| path_keyset(r))).await?;
        let warm_set: Vec<&String> = room_ids.iter().take(10).collect();
        let _ = time_requests(&api, &token, warm_set.iter().map(|r| path_newest(r))).await?;
        let warm_newest = time_requests(
            &api,
            &token,
            (0..queries).map(|i| path_newest(warm_set[i % warm_set.len()])),
        )
        .await?;
        let warm_keyset = time_requests(
            &api,
            &token,
            (0..queries).map(|i| path_keyset(warm_set[i % warm_set.len()])),
        )
        .await?;
        for (name, r) in [
            ("cold_newest", &cold_newest),
            ("cold_keyset", &cold_keyset),
            ("warm_newest", &warm_newest),
            ("warm_keyset", &warm_keyset),
        ] {
            eprintln!(
                "  {name}: p50 {:.2} ms p99 {:.2} ms ({} errors)",
                r.0.p50_ms, r.0.p99_ms, r.1
            );
            if r.1 > 0 {
                ok = false;
            }
        }
        let report = json!({
            "messages": messages, "rooms": rooms, "per_room": per_room,
            "load": load,
            "page_cache_dropped": dropped,
            "cold_newest": p(&cold_newest.0), "cold_keyset": p(&cold_keyset.0),
            "warm_newest": p(&warm_newest.0), "warm_keyset": p(&warm_keyset.0),
            "errors": cold_newest.1 + cold_keyset.1 + warm_newest.1 + warm_keyset.1,
            "target": {"warm_newest_p99_ms_max": 5, "messages": 10_000_000},
        });
        Ok((report, ok))
    }
}

/// Drops the kernel's page cache (root only); false when not allowed.
fn drop_caches() -> bool {
    std::fs::write("/proc/sys/vm/drop_caches", "1").is_ok()
}
