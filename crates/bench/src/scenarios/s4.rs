//! S4: durable sends (ack after commit) at stepped rates; send→ack and
//! send→deliver percentiles, the highest acked rate that holds the bound.

use std::time::Duration;

use anyhow::Result;
use clap::Args;
use serde_json::{json, Value};

use super::shared::{chunks, connect_summary, conns_for, p, us_per, Cpu};
use super::Budget;
use crate::api::Layout;
use crate::coord::{pct, Fleet};
use crate::worker::Phase;
use crate::Common;

#[derive(Debug, Clone, Args)]
pub struct S4 {
    #[command(flatten)]
    pub common: Common,
    /// Rooms (one sender each).
    #[arg(long, default_value_t = 100)]
    pub rooms: usize,
    /// Members per room.
    #[arg(long, default_value_t = 10)]
    pub room_size: usize,
    /// Acked messages/s offered by the steps, in order.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1000,2000,4000,8000,16000,32000"
    )]
    pub rates: Vec<f64>,
    /// Seconds per step.
    #[arg(long, default_value_t = 5)]
    pub step_secs: u64,
    /// The send→ack p99 bound (ms) a step must hold to count as sustained.
    #[arg(long, default_value_t = 10.0)]
    pub ack_p99_ms: f64,
    #[arg(long, default_value_t = 100)]
    pub payload: usize,
}

impl S4 {
    pub async fn run(self, b: Budget) -> Result<(Value, bool)> {
        let smoke = b.common.smoke;
        let (rooms, size, rates, secs) = if smoke {
            (3, 4, vec![30.0, 60.0], 1)
        } else {
            (
                self.rooms,
                self.room_size,
                self.rates.clone(),
                self.step_secs,
            )
        };
        let n = rooms * size;
        let layout = Layout {
            users: n,
            rooms: chunks(n, size)
                .into_iter()
                .map(|m| ("s4".to_owned(), m))
                .collect(),
        };
        let prov = b.provision(&layout).await?;
        let conns = conns_for(&prov, n, &[("s4", "s4")]);
        let (mut fleet, c) = Fleet::start(&b.options(false), conns).await?;
        eprintln!(
            "s4: {} connected ({} failed), {rooms} rooms of {size}",
            c.connected, c.failed
        );
        let mut ok = c.failed == 0;
        let mut steps = Vec::new();
        let (mut sustained, mut max_acked) = (None::<f64>, 0f64);
        for rate in rates {
            if b.left() < Duration::from_secs(secs + 40) {
                break;
            }
            let cpu = Cpu::start(b.server);
            let m = fleet
                .phase(Phase {
                    group: "s4".into(),
                    duration_ms: secs * 1000,
                    rate_per_sender: rate / rooms as f64,
                    payload: self.payload,
                    drain_ms: 3000,
                    ..Phase::default()
                })
                .await?;
            let cpu_s = cpu.secs();
            let sent = m.sum(|r| r.sent);
            let acked = m.sum(|r| r.acked_ok);
            let delivered = m.sum(|r| r.delivered);
            let expected = sent * size as u64;
            let errors = m.sum(|r| r.acked_err + r.send_errors + r.error_events + r.disconnects);
            let ack = pct(&m.ack);
            let del = pct(&m.deliver);
            let acked_per_s = acked as f64 / secs as f64;
            let held = errors == 0 && acked == sent && ack.p99_ms <= self.ack_p99_ms;
            if errors == 0 && acked == sent {
                max_acked = max_acked.max(acked_per_s);
            }
            if held {
                sustained = Some(acked_per_s);
            }
            if smoke && (acked != sent || delivered != expected || errors > 0) {
                ok = false;
            }
            eprintln!(
                "  offered {rate:>7.0}/s acked {acked_per_s:>7.0}/s ack p50 {:.2} p99 {:.2} ms; deliver p50 {:.2} p99 {:.2} ms; errors {errors}",
                ack.p50_ms, ack.p99_ms, del.p50_ms, del.p99_ms
            );
            steps.push(json!({
                "offered_msgs_per_s": rate,
                "acked_msgs_per_s": acked_per_s.round(),
                "sent": sent, "acked": acked, "delivered": delivered, "expected_deliveries": expected,
                "errors": errors, "first_error": m.first_error(),
                "send_to_ack": p(&ack), "send_to_deliver": p(&del),
                "server_cpu_s": cpu_s, "server_cpu_us_per_message": us_per(cpu_s, acked),
                "generator_cpu_s": m.generator_cpu_s(),
                "held": held,
            }));
            if !held && !smoke && acked < sent {
                break;
            }
        }
        fleet.finish().await?;
        let report = json!({
            "rooms": rooms, "room_size": size,
            "connect": connect_summary(&c),
            "ack_p99_bound_ms": self.ack_p99_ms,
            "sustained_acked_msgs_per_s": sustained.map(f64::round),
            "max_acked_msgs_per_s_any_latency": max_acked.round(),
            "steps": steps,
            "target": {"acked_msgs_per_s_min": 30_000, "ack_p99_ms_max": 10, "store": "PostgreSQL, synchronous commit"},
        });
        Ok((report, ok))
    }
}
