//! The worker's figures: the counters and histograms all its connections
//! add to during a step, and the step's `RESULT` read from them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, Result};
use hdrhistogram::Histogram;

use super::spec::{StepResult, WorkerSpec};
use crate::stats::{self, hist};

/// Track mode: a connection's rooms → the last contiguous `eventSeq` applied.
pub(super) type Track = Arc<Mutex<HashMap<String, u64>>>;

#[derive(Default)]
pub(super) struct Counters {
    pub(super) sent: AtomicU64,
    pub(super) send_errors: AtomicU64,
    pub(super) acked_ok: AtomicU64,
    pub(super) acked_err: AtomicU64,
    pub(super) delivered: AtomicU64,
    pub(super) late: AtomicU64,
    pub(super) error_events: AtomicU64,
    pub(super) disconnects: AtomicU64,
    pub(super) reconnects: AtomicU64,
    pub(super) closes: AtomicU64,
    pub(super) syncs: AtomicU64,
    pub(super) sync_errors: AtomicU64,
    pub(super) sync_resets: AtomicU64,
    pub(super) sync_events: AtomicU64,
    pub(super) duplicates: AtomicU64,
    pub(super) gaps: AtomicU64,
    pub(super) open: AtomicU64,
}

impl Counters {
    /// Zeroes the counters of a step (`open`, a gauge, stays).
    fn reset(&self) {
        for a in [
            &self.sent,
            &self.send_errors,
            &self.acked_ok,
            &self.acked_err,
            &self.delivered,
            &self.late,
            &self.error_events,
            &self.disconnects,
            &self.reconnects,
            &self.closes,
            &self.syncs,
            &self.sync_errors,
            &self.sync_resets,
            &self.sync_events,
            &self.duplicates,
            &self.gaps,
        ] {
            take(a);
        }
    }
}

pub(super) struct Hists {
    pub(super) deliver: Histogram<u64>,
    pub(super) ack: Histogram<u64>,
    pub(super) sync: Histogram<u64>,
    pub(super) recover: Histogram<u64>,
}

impl Hists {
    pub(super) fn new() -> Hists {
        Hists {
            deliver: hist(),
            ack: hist(),
            sync: hist(),
            recover: hist(),
        }
    }
}

pub(super) struct Ctx {
    pub(super) addr: SocketAddr,
    pub(super) host: String,
    pub(super) source_ips: bool,
    pub(super) track: bool,
    pub(super) join_rooms: bool,
    pub(super) step: AtomicU32,
    pub(super) c: Counters,
    pub(super) h: Mutex<Hists>,
    pub(super) first_ack_error: Mutex<Option<String>>,
    pub(super) acked_seqs: Mutex<HashMap<String, (u64, u64)>>,
}

impl Ctx {
    pub(super) fn new(addr: SocketAddr, host: String, spec: &WorkerSpec) -> Ctx {
        Ctx {
            addr,
            host,
            source_ips: spec.source_ips,
            track: spec.track,
            join_rooms: spec.join_rooms,
            step: AtomicU32::new(0),
            c: Counters::default(),
            h: Mutex::new(Hists::new()),
            first_ack_error: Mutex::new(None),
            acked_seqs: Mutex::new(HashMap::new()),
        }
    }

    /// Starts step `step`: its counters and histograms from zero.
    pub(super) fn start_step(&self, step: u32) {
        self.c.reset();
        if let Ok(mut h) = self.h.lock() {
            *h = Hists::new();
        }
        self.step.store(step, Ordering::Relaxed);
    }

    /// The figures of step `step` of worker `worker`, with where each tracked
    /// connection got to; `cpu0` is the worker's CPU seconds at the step's start.
    pub(super) fn result(
        &self,
        worker: usize,
        step: u32,
        tracks: &[(usize, Track)],
        cpu0: f64,
    ) -> Result<StepResult> {
        let h = self.h.lock().map_err(|_| anyhow!("poisoned"))?;
        let tracked = tracks
            .iter()
            .flat_map(|(id, t)| {
                t.lock()
                    .map(|m| {
                        m.iter()
                            .map(|(r, s)| (*id, r.clone(), *s))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
            .collect();
        let c = &self.c;
        Ok(StepResult {
            worker,
            step,
            sent: c.sent.load(Ordering::Relaxed),
            send_errors: c.send_errors.load(Ordering::Relaxed),
            acked_ok: c.acked_ok.load(Ordering::Relaxed),
            acked_err: c.acked_err.load(Ordering::Relaxed),
            first_ack_error: self.first_ack_error.lock().ok().and_then(|f| f.clone()),
            delivered: c.delivered.load(Ordering::Relaxed),
            late: c.late.load(Ordering::Relaxed),
            error_events: c.error_events.load(Ordering::Relaxed),
            disconnects: c.disconnects.load(Ordering::Relaxed),
            reconnects: c.reconnects.load(Ordering::Relaxed),
            closes: c.closes.load(Ordering::Relaxed),
            syncs: c.syncs.load(Ordering::Relaxed),
            sync_errors: c.sync_errors.load(Ordering::Relaxed),
            sync_resets: c.sync_resets.load(Ordering::Relaxed),
            sync_events: c.sync_events.load(Ordering::Relaxed),
            duplicates: c.duplicates.load(Ordering::Relaxed),
            gaps: c.gaps.load(Ordering::Relaxed),
            deliver_hist: stats::to_hex(&h.deliver),
            ack_hist: stats::to_hex(&h.ack),
            sync_hist: stats::to_hex(&h.sync),
            recover_hist: stats::to_hex(&h.recover),
            tracked,
            acked_seqs: self
                .acked_seqs
                .lock()
                .map(|a| a.clone())
                .unwrap_or_default(),
            open_conns: c.open.load(Ordering::Relaxed),
            generator_cpu_s: stats::cpu_seconds(std::process::id()).unwrap_or(0.0) - cpu0,
        })
    }
}

pub(super) fn bump(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

fn take(a: &AtomicU64) -> u64 {
    a.swap(0, Ordering::Relaxed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        let spec = WorkerSpec {
            url: "http://127.0.0.1:3000".into(),
            index: 0,
            of: 1,
            conns: Vec::new(),
            connect_concurrency: 1,
            source_ips: false,
            track: true,
            join_rooms: false,
            deadline_ns: 0,
        };
        Ctx::new(
            ([127, 0, 0, 1], 3000).into(),
            "127.0.0.1:3000".into(),
            &spec,
        )
    }

    #[test]
    fn a_step_starts_from_zero_but_keeps_the_open_gauge() {
        let ctx = ctx();
        bump(&ctx.c.sent);
        bump(&ctx.c.gaps);
        bump(&ctx.c.open);
        stats::record(&mut ctx.h.lock().unwrap().deliver, 5);
        ctx.start_step(3);
        let r = ctx.result(7, 3, &[], 0.0).unwrap();
        assert_eq!((r.sent, r.gaps, r.open_conns), (0, 0, 1));
        assert_eq!(stats::from_hex(&r.deliver_hist).unwrap().len(), 0);
        assert_eq!(ctx.step.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn results_read_the_counters_and_every_tracked_room() {
        let ctx = ctx();
        for _ in 0..3 {
            bump(&ctx.c.delivered);
        }
        bump(&ctx.c.acked_err);
        *ctx.first_ack_error.lock().unwrap() = Some("no".into());
        ctx.acked_seqs.lock().unwrap().insert("r".into(), (9, 2));
        let track: Track = Arc::new(Mutex::new(HashMap::from([("r".to_owned(), 4)])));
        let r = ctx.result(7, 1, &[(5, track)], 0.0).unwrap();
        assert_eq!((r.worker, r.step, r.delivered, r.acked_err), (7, 1, 3, 1));
        assert_eq!(r.first_ack_error.as_deref(), Some("no"));
        assert_eq!(r.tracked, [(5, "r".to_owned(), 4)]);
        assert_eq!(r.acked_seqs["r"], (9, 2));
    }
}
