//! S3: fan-out into rooms of each size at stepped rates; the deliveries/s at
//! which p99 holds the bound, and the latencies at half that load.

use std::time::Duration;

use anyhow::{bail, Result};
use clap::Args;
use serde_json::{json, Value};

use super::shared::{chunks, connect_summary, conns_for, p, room_sizes, us_per, Cpu};
use super::Budget;
use crate::api::Layout;
use crate::coord::{pct, Fleet, Merged};
use crate::stats;
use crate::worker::Phase;
use crate::Common;

#[derive(Debug, Clone, Args)]
pub struct S3 {
    #[command(flatten)]
    pub common: Common,
    /// Connections (users); each is a member of one room of every size.
    #[arg(long, default_value_t = 2000)]
    pub conns: usize,
    /// Room sizes to measure, one after the other.
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000")]
    pub sizes: Vec<usize>,
    /// First step's rate in deliveries/s.
    #[arg(long, default_value_t = 20_000.0)]
    pub start_rate: f64,
    /// Each next step multiplies the rate by this.
    #[arg(long, default_value_t = 1.5)]
    pub factor: f64,
    /// At most this many steps per size.
    #[arg(long, default_value_t = 10)]
    pub max_steps: usize,
    /// Seconds per step.
    #[arg(long, default_value_t = 5)]
    pub step_secs: u64,
    /// Message content bytes.
    #[arg(long, default_value_t = 100)]
    pub payload: usize,
    /// The p99 bound (ms) a step must hold.
    #[arg(long, default_value_t = 50.0)]
    pub p99_ms: f64,
}

struct StepFig {
    offered: f64,
    achieved: f64,
    delivered: u64,
    expected: u64,
    deliver: stats::Pcts,
    cpu_us: Value,
    gen_cpu_s: f64,
    ok: bool,
    json: Value,
}

/// What every step of one room size shares: the phase group (its rooms' tag),
/// how many rooms and members it has, and the knobs of a step.
#[derive(Clone, Copy)]
struct Fanout<'a> {
    group: &'a str,
    rooms: usize,
    members: usize,
    secs: u64,
    payload: usize,
    p99_ms: f64,
}

async fn fanout_step(
    fleet: &mut Fleet,
    b: &Budget,
    fan: Fanout<'_>,
    deliveries_per_s: f64,
) -> Result<StepFig> {
    let Fanout {
        group,
        rooms,
        members,
        secs,
        payload,
        p99_ms,
    } = fan;
    let per_room_size = members as f64 / rooms.max(1) as f64;
    let msgs_per_s = deliveries_per_s / per_room_size;
    let rate_per_sender = msgs_per_s / rooms.max(1) as f64;
    let cpu = Cpu::start(b.server);
    let m: Merged = fleet
        .phase(Phase {
            group: group.into(),
            duration_ms: secs * 1000,
            rate_per_sender,
            payload,
            drain_ms: 2000,
            ..Phase::default()
        })
        .await?;
    let cpu_s = cpu.secs();
    let sent = m.sum(|r| r.sent);
    let acked = m.sum(|r| r.acked_ok);
    let delivered = m.sum(|r| r.delivered);
    let expected = (sent as f64 * per_room_size).round() as u64;
    let d = pct(&m.deliver);
    let lost = expected.saturating_sub(delivered);
    let errors = m.sum(|r| r.acked_err + r.send_errors + r.error_events + r.disconnects);
    let ok = errors == 0 && lost == 0 && d.p99_ms <= p99_ms;
    let achieved = delivered as f64 / secs as f64;
    let json = json!({
        "offered_deliveries_per_s": deliveries_per_s.round(),
        "achieved_deliveries_per_s": achieved.round(),
        "msgs_per_s": (sent as f64 / secs as f64).round(),
        "sent": sent, "acked": acked, "delivered": delivered, "expected": expected,
        "late": m.sum(|r| r.late), "errors": errors, "first_error": m.first_error(),
        "deliver": p(&d), "ack": p(&pct(&m.ack)),
        "server_cpu_s": cpu_s,
        "server_cpu_us_per_delivery": us_per(cpu_s, delivered),
        "server_cpu_s_per_million_deliveries": us_per(cpu_s, delivered),
        "generator_cpu_s": m.generator_cpu_s(),
        "held": ok,
    });
    eprintln!(
        "  {group}: offered {:>9.0}/s achieved {:>9.0}/s p50 {:>7.2} ms p99 {:>8.2} ms lost {lost} errors {errors} cpu {} µs/delivery",
        deliveries_per_s, achieved, d.p50_ms, d.p99_ms, json["server_cpu_us_per_delivery"]
    );
    Ok(StepFig {
        offered: deliveries_per_s,
        achieved,
        delivered,
        expected,
        deliver: d,
        cpu_us: json["server_cpu_us_per_delivery"].clone(),
        gen_cpu_s: m.generator_cpu_s(),
        ok,
        json,
    })
}

impl S3 {
    pub async fn run(self, b: Budget) -> Result<(Value, bool)> {
        let smoke = b.common.smoke;
        let (n, sizes, secs) = if smoke {
            (30, vec![10, 30], 1)
        } else {
            (self.conns, self.sizes.clone(), self.step_secs)
        };
        let tags: Vec<(String, String)> = sizes
            .iter()
            .map(|s| (format!("s3-{s}"), format!("s3-{s}")))
            .collect();
        let mut layout = Layout {
            users: n,
            rooms: vec![],
        };
        for s in &sizes {
            if *s > n {
                bail!("room size {s} needs at least {s} connections (--conns {n})");
            }
            for m in chunks(n - n % s, *s) {
                layout.rooms.push((format!("s3-{s}"), m));
            }
        }
        let prov = b.provision(&layout).await?;
        let tag_refs: Vec<(&str, &str)> =
            tags.iter().map(|(a, g)| (a.as_str(), g.as_str())).collect();
        let conns = conns_for(&prov, n, &tag_refs);
        let (mut fleet, c) = Fleet::start(&b.options(false), conns).await?;
        eprintln!("s3: {} connected ({} failed)", c.connected, c.failed);
        let mut ok = c.failed == 0;
        let mut per_size = Vec::new();
        for s in &sizes {
            let tag = format!("s3-{s}");
            let (rooms, members) = room_sizes(&prov, &tag);
            eprintln!("s3: rooms of {s} ({rooms} rooms, {members} members)");
            let fan = Fanout {
                group: &tag,
                rooms,
                members,
                secs,
                payload: self.payload,
                p99_ms: self.p99_ms,
            };
            let mut steps = Vec::new();
            let mut best: Option<(f64, f64)> = None; // (offered, achieved)
            let mut rate = if smoke { 200.0 } else { self.start_rate };
            let max_steps = if smoke { 2 } else { self.max_steps };
            for _ in 0..max_steps {
                if b.left() < Duration::from_secs(secs + 40) {
                    eprintln!("s3: stopping early, the --duration budget is nearly spent");
                    break;
                }
                let f = fanout_step(&mut fleet, &b, fan, rate).await?;
                if smoke && f.delivered != f.expected {
                    ok = false;
                }
                let held = f.ok;
                if held {
                    best = Some((f.offered, f.achieved));
                }
                steps.push(f.json);
                if !held && !smoke {
                    // Nothing held yet: step down (halving) to find a floor.
                    if best.is_none() && rate > self.start_rate / 16.0 {
                        rate /= 2.0;
                        continue;
                    }
                    break;
                }
                if best.is_some() && steps.len() > 1 && !smoke && rate < self.start_rate {
                    // A step-down found a floor; the next step up is known to fail.
                    break;
                }
                rate *= self.factor;
            }
            let half = match best {
                Some((offered, _)) if b.left() > Duration::from_secs(secs + 30) && !smoke => {
                    let f = fanout_step(&mut fleet, &b, fan, offered / 2.0).await?;
                    Some(f)
                }
                _ => None,
            };
            per_size.push(json!({
                "room_size": s,
                "rooms": rooms,
                "capacity_deliveries_per_s": best.map(|(_, a)| a.round()),
                "capacity_offered_per_s": best.map(|(o, _)| o.round()),
                "half_load": half.as_ref().map(|h| json!({
                    "offered_deliveries_per_s": h.offered.round(),
                    "p50_ms": h.deliver.p50_ms, "p99_ms": h.deliver.p99_ms,
                    "server_cpu_us_per_delivery": h.cpu_us, "generator_cpu_s": h.gen_cpu_s,
                    "lost": h.expected.saturating_sub(h.delivered),
                })),
                "steps": steps,
            }));
        }
        fleet.finish().await?;
        let report = json!({
            "conns": n,
            "connect": connect_summary(&c),
            "p99_bound_ms": self.p99_ms,
            "payload_bytes": self.payload,
            "sizes": per_size,
            "target": {"x_node_at_p99_50ms": 5, "server_cpu_us_per_delivery_max": 5, "half_load_p99_ms_max": 20},
        });
        Ok((report, ok))
    }
}
