//! The scenarios (S1, S3, S4, S6, S8): layout, phases, figures, correctness.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use clap::Args;
use serde_json::{json, Value};

use crate::api::{self, Layout, Provision};
use crate::coord::{pct, Fleet, Merged, Options};
use crate::stats::{self, now_ns, Watched};
use crate::worker::{ConnSpec, Phase};
use crate::Common;

/// What a scenario gets: its common options, its deadline, the watched server.
pub struct Budget {
    pub common: Common,
    pub deadline: Instant,
    pub server: Watched,
}

impl Budget {
    pub fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    fn options(&self, track: bool) -> Options {
        Options {
            url: self.common.url.clone(),
            per_worker: self.common.per_worker,
            connect_concurrency: self.common.connect_concurrency,
            source_ips: !self.common.no_source_ips,
            track,
            join_rooms: self.common.join_rooms,
            pin: self.common.pin.clone(),
            deadline_ns: now_ns() + self.left().as_nanos() as u64 + 5_000_000_000,
        }
    }

    pub(crate) async fn provision(&self, layout: &Layout) -> Result<Provision> {
        let p = api::obtain(
            &self.common.url,
            layout,
            self.common.provision_file.as_deref(),
            self.common.save_provision.as_deref(),
            self.common.reuse_users.as_deref(),
            self.common.provision_concurrency,
        )
        .await?;
        if self.common.provision_only {
            return Err(anyhow!(ProvisionedOnly));
        }
        Ok(p)
    }
}

/// The early exit of `--provision-only`.
#[derive(Debug)]
pub struct ProvisionedOnly;

impl std::fmt::Display for ProvisionedOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("provisioned only")
    }
}

impl std::error::Error for ProvisionedOnly {}

/// Runs a scenario within its time limit, prints and saves its report.
pub async fn run<F, Fut>(common: Common, name: &str, f: F) -> Result<bool>
where
    F: FnOnce(Budget) -> Fut,
    Fut: Future<Output = Result<(Value, bool)>>,
{
    let limit = Duration::from_secs(common.duration);
    let budget = Budget {
        common: common.clone(),
        deadline: Instant::now() + limit,
        server: Watched(common.server_pid),
    };
    let started = now_ns();
    let (mut report, ok) =
        match tokio::time::timeout(limit + Duration::from_secs(10), f(budget)).await {
            Ok(Err(e)) if e.is::<ProvisionedOnly>() => {
                eprintln!("{name}: provisioned only (--provision-only)");
                return Ok(true);
            }
            Ok(r) => r?,
            Err(_) => bail!(
                "{name} did not finish within --duration {}s; stopped",
                common.duration
            ),
        };
    if let Value::Object(m) = &mut report {
        m.insert("scenario".into(), json!(name));
        m.insert("label".into(), json!(common.label));
        m.insert("smoke".into(), json!(common.smoke));
        m.insert("ok".into(), json!(ok));
        m.insert("started_unix_ns".into(), json!(started));
        m.insert("machine".into(), machine());
    }
    let text = serde_json::to_string_pretty(&report)?;
    println!("{text}");
    if let Some(out) = &common.out {
        std::fs::write(out, &text)?;
    }
    Ok(ok)
}

fn machine() -> Value {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| {
                    v.split_whitespace()
                        .next()
                        .and_then(|n| n.parse::<u64>().ok())
                })
        })
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    json!({"cpus": cpus, "mem_gib": (mem_kib as f64 / 1048576.0 * 10.0).round() / 10.0, "kernel": kernel.trim()})
}

fn p(h: &stats::Pcts) -> Value {
    json!({"n": h.count, "p50_ms": h.p50_ms, "p90_ms": h.p90_ms, "p99_ms": h.p99_ms, "p999_ms": h.p999_ms, "max_ms": h.max_ms})
}

fn chunks(n: usize, size: usize) -> Vec<Vec<usize>> {
    (0..n)
        .collect::<Vec<_>>()
        .chunks(size.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

/// Connections for users 0..n of a provision; each in the rooms the provision
/// lists it in; `sender_of(room)` names rooms whose first member sends for a group.
fn conns_for(p: &Provision, n: usize, tags: &[(&str, &str)]) -> Vec<ConnSpec> {
    let mut conns: Vec<ConnSpec> = (0..n)
        .map(|i| ConnSpec {
            id: i,
            token: p.users[i].token.clone(),
            rooms: Vec::new(),
            sends: Vec::new(),
            jitter: false,
        })
        .collect();
    for r in &p.rooms {
        let Some((_, group)) = tags.iter().find(|(t, _)| *t == r.tag) else {
            continue;
        };
        for (k, m) in r.members.iter().enumerate() {
            if let Some(c) = conns.get_mut(*m) {
                c.rooms.push(r.id.clone());
                if k == 0 {
                    c.sends.push(((*group).to_owned(), r.id.clone()));
                }
            }
        }
    }
    conns
}

fn room_sizes(p: &Provision, tag: &str) -> (usize, usize) {
    let rooms = p.rooms_tagged(tag);
    (rooms.len(), rooms.iter().map(|r| r.members.len()).sum())
}

struct Cpu {
    server: Watched,
    at: Option<f64>,
}

impl Cpu {
    fn start(server: Watched) -> Cpu {
        Cpu {
            server,
            at: server.cpu(),
        }
    }
    fn secs(&self) -> Option<f64> {
        Some(self.server.cpu()? - self.at?)
    }
}

fn us_per(cpu_s: Option<f64>, n: u64) -> Value {
    match cpu_s {
        Some(c) if n > 0 => json!((c * 1e6 / n as f64 * 100.0).round() / 100.0),
        _ => Value::Null,
    }
}

fn connect_summary(c: &crate::coord::Connected) -> Value {
    json!({
        "connected": c.connected,
        "failed": c.failed,
        "first_error": c.first_error,
        "handshakes_per_s": c.handshakes_per_s.round(),
        "handshake": p(&stats::pcts(&c.handshake)),
        "ramp_wall_s": c.wall_s,
    })
}

// ───────────────────────────── S1 ─────────────────────────────

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

// ───────────────────────────── S3 ─────────────────────────────

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

#[allow(clippy::too_many_arguments)]
async fn fanout_step(
    fleet: &mut Fleet,
    b: &Budget,
    group: &str,
    rooms: usize,
    members: usize,
    deliveries_per_s: f64,
    secs: u64,
    payload: usize,
    p99_ms: f64,
) -> Result<StepFig> {
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
            let mut steps = Vec::new();
            let mut best: Option<(f64, f64)> = None; // (offered, achieved)
            let mut rate = if smoke { 200.0 } else { self.start_rate };
            let max_steps = if smoke { 2 } else { self.max_steps };
            for _ in 0..max_steps {
                if b.left() < Duration::from_secs(secs + 40) {
                    eprintln!("s3: stopping early, the --duration budget is nearly spent");
                    break;
                }
                let f = fanout_step(
                    &mut fleet,
                    &b,
                    &tag,
                    rooms,
                    members,
                    rate,
                    secs,
                    self.payload,
                    self.p99_ms,
                )
                .await?;
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
                    let f = fanout_step(
                        &mut fleet,
                        &b,
                        &tag,
                        rooms,
                        members,
                        offered / 2.0,
                        secs,
                        self.payload,
                        self.p99_ms,
                    )
                    .await?;
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

// ───────────────────────────── S4 ─────────────────────────────

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

// ───────────────────────────── S6 ─────────────────────────────

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

async fn time_requests(
    api: &api::Api,
    token: &str,
    paths: impl Iterator<Item = String>,
) -> Result<(stats::Pcts, u64)> {
    let mut h = stats::hist();
    let mut errors = 0;
    for path in paths {
        let t = Instant::now();
        let (status, _) = api
            .call(reqwest::Method::GET, &path, Some(token), None)
            .await?;
        stats::record(&mut h, t.elapsed().as_micros() as u64);
        if status != 200 {
            errors += 1;
        }
    }
    Ok((stats::pcts(&h), errors))
}

// ───────────────────────────── S8 ─────────────────────────────

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
