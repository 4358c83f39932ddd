//! A generator process. It holds its share of the connections (one tokio task
//! each), answers pings, and on each `GO <phase>` line from the coordinator runs
//! one timed phase: open-loop senders at a fixed rate (the scheduled send time is
//! stamped into the content), optional force-closes with reconnect + `sync`,
//! then a drain, then one `RESULT <json>` line. `EXIT` (or stdin closing, or the
//! spec's deadline) ends it.

//!
//! Layout: `spec` (what coordinator and worker say), `net` (connect and
//! handshake), `conn` (a connection's schedule and loop), `send` and `recv`
//! (its two sides), `counters` (the step's figures); here the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, Result};
use futures_util::StreamExt;
use tokio::io::AsyncBufReadExt;
use tokio::sync::watch;
use tokio::time::sleep_until;

use crate::stats::{self, hist, now_ns, record};

mod conn;
mod counters;
mod net;
mod recv;
mod send;
mod spec;

use conn::Conn;
use counters::{Ctx, Track};
pub use net::{connect, resolve, source_ip};
pub use spec::{ConnSpec, Phase, Ready, StepResult, WorkerSpec};

fn println_flush(line: &str) {
    use std::io::Write;
    let out = std::io::stdout();
    let mut out = out.lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

pub fn raise_nofile() -> u64 {
    match rlimit::getrlimit(rlimit::Resource::NOFILE) {
        Ok((_, hard)) => {
            let _ = rlimit::setrlimit(rlimit::Resource::NOFILE, hard, hard);
            hard
        }
        Err(_) => 1024,
    }
}

pub async fn run(spec_path: &std::path::Path) -> Result<()> {
    raise_nofile();
    let spec: WorkerSpec = serde_json::from_slice(&std::fs::read(spec_path)?)?;
    let (addr, host) = resolve(&spec.url)?;
    let ctx = Arc::new(Ctx::new(addr, host, &spec));
    let (phase_tx, phase_rx) = watch::channel(Arc::new(Phase::default()));
    let deadline = stats::instant_at(spec.deadline_ns);

    // Ramp: connect everything, `connect_concurrency` handshakes in flight.
    let connect_start_ns = now_ns();
    let mut hs = hist();
    let mut failed = 0u64;
    let mut first_error = None;
    let mut tracks = Vec::new();
    let mut results = futures_util::stream::iter(spec.conns.iter().cloned())
        .map(|c| {
            let ctx = ctx.clone();
            async move {
                let t = now_ns();
                let src = ctx.source_ips.then(|| source_ip(c.id));
                let r = tokio::time::timeout(
                    Duration::from_secs(60),
                    connect(ctx.addr, &ctx.host, src, &c.token, c.jitter),
                )
                .await
                .map_err(|_| anyhow!("handshake timed out"))
                .and_then(|r| r);
                (c, t, r)
            }
        })
        .buffer_unordered(spec.connect_concurrency.max(1));
    let mut connected = 0u64;
    while let Some((c, t, r)) = results.next().await {
        match r {
            Ok(mut ws) => {
                record(&mut hs, now_ns().saturating_sub(t) / 1000);
                connected += 1;
                let track: Track = Arc::new(Mutex::new(
                    c.rooms
                        .iter()
                        .map(|r| (r.clone(), 0u64))
                        .collect::<HashMap<_, _>>(),
                ));
                if spec.track {
                    tracks.push((c.id, track.clone()));
                }
                let mut conn = Conn::new(c, ctx.clone(), track);
                if conn.join_rooms(&mut ws).await.is_err() {
                    failed += 1;
                    continue;
                }
                tokio::spawn(conn.run(ws, phase_rx.clone()));
            }
            Err(e) => {
                failed += 1;
                if first_error.is_none() {
                    first_error = Some(format!("{e:#}"));
                }
            }
        }
    }
    drop(results);
    let ready = Ready {
        worker: spec.index,
        connected,
        failed,
        first_error,
        connect_start_ns,
        connect_end_ns: now_ns(),
        handshake_hist: stats::to_hex(&hs),
    };
    println_flush(&format!("READY {}", serde_json::to_string(&ready)?));

    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        let line = tokio::select! {
            l = lines.next_line() => l?,
            _ = sleep_until(deadline) => None,
        };
        let Some(line) = line else { break };
        let Some(json) = line.strip_prefix("GO ") else {
            break;
        };
        let phase: Phase = serde_json::from_str(json)?;
        // Reset the step's counters, then start it.
        ctx.start_step(phase.step);
        let cpu0 = stats::cpu_seconds(std::process::id()).unwrap_or(0.0);
        let end = stats::instant_at(phase.t0_ns + (phase.duration_ms + phase.drain_ms) * 1_000_000);
        let step = phase.step;
        phase_tx.send_replace(Arc::new(phase));
        tokio::select! {
            _ = sleep_until(end) => {}
            _ = sleep_until(deadline) => break,
        }
        let result = ctx.result(spec.index, step, &tracks, cpu0)?;
        println_flush(&format!("RESULT {}", serde_json::to_string(&result)?));
    }
    phase_tx.send_replace(Arc::new(Phase {
        exit: true,
        ..Phase::default()
    }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    println_flush("DONE");
    Ok(())
}
