//! S8: clients force-closed every period while messages flow; each
//! reconnects and calls `sync`. The share of messages every member ends up with.

use std::collections::HashMap;

use anyhow::Result;
use clap::Args;
use serde_json::{json, Value};

use super::shared::{chunks, connect_summary, conns_for, p, Cpu};
use super::Budget;
use crate::api::Layout;
use crate::coord::{pct, Fleet};
use crate::worker::Phase;
use crate::Common;

#[derive(Debug, Clone, Args)]
pub struct S8 {
    #[command(flatten)]
    pub common: Common,
    /// Clients force-closed every period (each reconnects and calls `sync`).
    #[arg(long, default_value_t = 2000)]
    pub clients: usize,
    /// Clients per room (each room also has one steady sender).
    #[arg(long, default_value_t = 10)]
    pub room_size: usize,
    /// Seconds between two force-closes of one client.
    #[arg(long, default_value_t = 15)]
    pub period_secs: u64,
    /// Messages per second per room.
    #[arg(long, default_value_t = 2.0)]
    pub rate_per_room: f64,
    /// Seconds of jitter.
    #[arg(long, default_value_t = 60)]
    pub run_secs: u64,
}

impl S8 {
    pub async fn run(self, b: Budget) -> Result<(Value, bool)> {
        let smoke = b.common.smoke;
        let (k, size, period, secs, rate) = if smoke {
            (20, 5, 2, 5, 20.0)
        } else {
            (
                self.clients,
                self.room_size,
                self.period_secs,
                self.run_secs,
                self.rate_per_room,
            )
        };
        let rooms = k.div_ceil(size);
        // Users 0..k are the jittered clients; k..k+rooms the steady senders.
        let mut layout = Layout {
            users: k + rooms,
            rooms: vec![],
        };
        for (r, members) in chunks(k, size).into_iter().enumerate() {
            let mut m = vec![k + r];
            m.extend(members);
            layout.rooms.push(("s8".to_owned(), m));
        }
        let prov = b.provision(&layout).await?;
        let mut conns = conns_for(&prov, k + rooms, &[("s8", "s8")]);
        for c in conns.iter_mut().take(k) {
            c.jitter = true;
        }
        let (mut fleet, c) = Fleet::start(&b.options(true), conns).await?;
        eprintln!(
            "s8: {} connected ({} failed); {k} clients closed every {period} s for {secs} s",
            c.connected, c.failed
        );
        let cpu = Cpu::start(b.server);
        let m = fleet
            .phase(Phase {
                group: "s8".into(),
                duration_ms: secs * 1000,
                rate_per_sender: rate,
                payload: 100,
                drain_ms: 5000,
                jitter_period_ms: period * 1000,
                ..Phase::default()
            })
            .await?;
        let cpu_s = cpu.secs();
        fleet.finish().await?;
        let mut acked: HashMap<String, (u64, u64)> = HashMap::new();
        for part in &m.parts {
            for (room, (max, n)) in &part.acked_seqs {
                let e = acked.entry(room.clone()).or_insert((0, 0));
                e.0 = e.0.max(*max);
                e.1 += n;
            }
        }
        let (mut pairs, mut complete, mut want, mut have) = (0u64, 0u64, 0u64, 0u64);
        for part in &m.parts {
            for (_, room, last) in &part.tracked {
                let Some((max, n)) = acked.get(room) else {
                    continue;
                };
                let first = (max + 1).saturating_sub(*n); // this run's seqs are first..=max
                let got = (*last.min(max) + 1).saturating_sub(first);
                pairs += 1;
                want += n;
                have += got;
                if got == *n {
                    complete += 1;
                }
            }
        }
        let sent = m.sum(|r| r.sent);
        let acked_n = m.sum(|r| r.acked_ok);
        let share = if want > 0 {
            have as f64 / want as f64 * 100.0
        } else {
            0.0
        };
        let sync = pct(&m.sync);
        let recover = pct(&m.recover);
        let errors = m.sum(|r| r.acked_err + r.sync_errors + r.send_errors);
        let ok = c.failed == 0
            && want > 0
            && have == want
            && acked_n == sent
            && errors == 0
            && m.sum(|r| r.sync_resets) == 0;
        eprintln!(
            "s8: {have}/{want} member-messages ({share:.4}%), {complete}/{pairs} members complete; sync p99 {:.1} ms, recover p99 {:.1} ms",
            sync.p99_ms, recover.p99_ms
        );
        let report = json!({
            "clients": k, "room_size": size, "rooms": rooms, "period_s": period, "run_s": secs,
            "rate_per_room": rate,
            "connect": connect_summary(&c),
            "sent": sent, "acked": acked_n,
            "member_messages_expected": want, "member_messages_had": have,
            "share_pct": share, "members_complete": complete, "members": pairs,
            "force_closes": m.sum(|r| r.closes), "reconnects": m.sum(|r| r.reconnects),
            "unexpected_disconnects": m.sum(|r| r.disconnects),
            "syncs": m.sum(|r| r.syncs), "sync_events": m.sum(|r| r.sync_events), "sync_resets": m.sum(|r| r.sync_resets),
            "gaps_seen": m.sum(|r| r.gaps), "duplicates_ignored": m.sum(|r| r.duplicates),
            "errors": errors, "first_error": m.first_error(),
            "sync_rtt": p(&sync), "close_to_caught_up": p(&recover),
            "live_deliver": p(&pct(&m.deliver)),
            "server_cpu_s": cpu_s,
            "target": {"share_pct": 100, "replay_p99_ms_max": 1000},
        });
        Ok((report, ok))
    }
}
