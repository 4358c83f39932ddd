//! S1: ramp to N idle connections, hold them, probe every group room once;
//! server RSS per connection and handshakes/s.

use std::time::Duration;

use anyhow::Result;
use clap::Args;
use serde_json::{json, Value};

use super::shared::{chunks, connect_summary, conns_for, p, us_per, Cpu};
use super::Budget;
use crate::api::Layout;
use crate::coord::{pct, Fleet};
use crate::worker::{ConnSpec, Phase};
use crate::Common;

#[derive(Debug, Clone, Args)]
pub struct S1 {
    #[command(flatten)]
    pub common: Common,
    /// Connections to hold (one user each).
    #[arg(long, default_value_t = 10_000)]
    pub conns: usize,
    /// Members (users) per group room.
    #[arg(long, default_value_t = 100)]
    pub room_size: usize,
    /// Connections per user (devices); users = conns / this. Registration hashes a
    /// password, so fewer users provision faster; every connection is still
    /// subscribed to its user's channel and group room.
    #[arg(long, default_value_t = 1)]
    pub conns_per_user: usize,
    /// Seconds to hold the connections idle after the ramp (≥ 30 covers a ping round).
    #[arg(long, default_value_t = 30)]
    pub hold: u64,
}

impl S1 {
    pub async fn run(self, b: Budget) -> Result<(Value, bool)> {
        let (n, size, hold, per_user) = if b.common.smoke {
            (40, 10, 1, 2)
        } else {
            (
                self.conns,
                self.room_size,
                self.hold,
                self.conns_per_user.max(1),
            )
        };
        let users = n.div_ceil(per_user);
        let layout = Layout {
            users,
            rooms: chunks(users, size)
                .into_iter()
                .map(|m| ("s1".to_owned(), m))
                .collect(),
        };
        let prov = b.provision(&layout).await?;
        let by_user = conns_for(&prov, users, &[("s1", "probe")]);
        // Connection i is a device of user i % users; only each user's first
        // device sends the probe.
        let conns: Vec<ConnSpec> = (0..n)
            .map(|i| {
                let u = &by_user[i % users];
                ConnSpec {
                    id: i,
                    token: u.token.clone(),
                    rooms: u.rooms.clone(),
                    sends: if i < users {
                        u.sends.clone()
                    } else {
                        Vec::new()
                    },
                    jitter: false,
                }
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss0 = b.server.rss();
        let cpu = Cpu::start(b.server);
        eprintln!("s1: ramping to {n} connections");
        let (mut fleet, c) = Fleet::start(&b.options(false), conns).await?;
        let ramp_cpu = cpu.secs();
        eprintln!(
            "s1: {} connected, {} failed, {:.0} handshakes/s",
            c.connected, c.failed, c.handshakes_per_s
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss1 = b.server.rss();
        let idle_cpu = Cpu::start(b.server);
        tokio::time::sleep(Duration::from_secs(hold)).await;
        let hold_cpu = idle_cpu.secs();
        let rss2 = b.server.rss();
        // Probe: one message into every group room; every member must get it.
        let m = fleet
            .phase(Phase {
                group: "probe".into(),
                duration_ms: 1000,
                rate_per_sender: 1.0,
                payload: 100,
                drain_ms: if b.common.smoke { 2000 } else { 5000 },
                ..Phase::default()
            })
            .await?;
        fleet.finish().await?;
        let delivered = m.sum(|r| r.delivered);
        let sent = m.sum(|r| r.sent);
        // Every connection is in exactly one group room, which gets one probe.
        let expected = n as u64;
        let per_conn = |after: Option<u64>| match (rss0, after) {
            (Some(a), Some(z)) if c.connected > 0 => {
                json!(((z as f64 - a as f64) / c.connected as f64 * 100.0).round() / 100.0)
            }
            _ => Value::Null,
        };
        let disconnects = m.sum(|r| r.disconnects);
        let ok = c.failed == 0
            && sent == prov.rooms_tagged("s1").len() as u64
            && delivered == expected
            && m.sum(|r| r.acked_err) == 0;
        let report = json!({
            "conns": n,
            "users": users,
            "conns_per_user": per_user,
            "room_size": size,
            "connect": connect_summary(&c),
            "server_rss_kib": {"before": rss0, "after_ramp": rss1, "after_hold": rss2},
            "server_kib_per_conn": per_conn(rss1),
            "server_kib_per_conn_after_hold": per_conn(rss2),
            "server_cpu_s": {"ramp": ramp_cpu, "hold": hold_cpu, "hold_s": hold},
            "server_cpu_us_per_handshake": us_per(ramp_cpu, c.connected),
            "probe": {"sent": sent, "delivered": delivered, "expected": expected, "p": p(&pct(&m.deliver)), "disconnects": disconnects, "first_error": m.first_error()},
            "target": {"kib_per_conn_max": 8, "conns_min": 50_000},
        });
        eprintln!(
            "s1: server {} KiB/conn after ramp ({:?} → {:?} KiB); probe {delivered}/{expected}",
            report["server_kib_per_conn"], rss0, rss1
        );
        Ok((report, ok))
    }
}
