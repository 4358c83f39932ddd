//! One connection's life: its schedule for a phase (when it sends, when it
//! is force-closed) and the loop that reconnects, sends and reads.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::Message;

use super::counters::{bump, Ctx, Track};
use super::net::{connect, source_ip, Ws};
use super::spec::{ConnSpec, Phase};
use crate::stats::{self, now_ns};

pub(super) enum Pending {
    Send { t_ns: u64, step: u32, room: String },
    Sync { t_ns: u64 },
}

/// One connection's life.
pub(super) struct Conn {
    pub(super) spec: ConnSpec,
    pub(super) ctx: Arc<Ctx>,
    pub(super) next_ack: u64,
    pub(super) pending: HashMap<u64, Pending>,
    // sending
    pub(super) send_room: Option<String>,
    pub(super) next_send: Option<(Instant, u64)>,
    pub(super) period_ns: u64,
    pub(super) send_end_ns: u64,
    pub(super) step: u32,
    pub(super) payload: usize,
    // jitter
    pub(super) next_jitter: Option<Instant>,
    pub(super) jitter_period: Duration,
    pub(super) jitter_end: Instant,
    pub(super) closed_at_ns: Option<u64>,
    // tracking
    pub(super) track: Track,
    pub(super) sync_inflight: bool,
    pub(super) buffered: BTreeSet<(String, u64)>,
}

/// splitmix64: a fixed pseudo-random phase per connection.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn frac(x: u64) -> f64 {
    (mix(x) >> 11) as f64 / (1u64 << 53) as f64
}

impl Conn {
    pub(super) fn new(spec: ConnSpec, ctx: Arc<Ctx>, track: Track) -> Conn {
        Conn {
            spec,
            ctx,
            next_ack: 0,
            pending: HashMap::new(),
            send_room: None,
            next_send: None,
            period_ns: 1,
            send_end_ns: 0,
            step: 0,
            payload: 100,
            next_jitter: None,
            jitter_period: Duration::from_secs(15),
            jitter_end: Instant::now(),
            closed_at_ns: None,
            track,
            sync_inflight: false,
            buffered: BTreeSet::new(),
        }
    }

    pub(super) fn schedule(&mut self, p: &Phase) {
        self.step = p.step;
        self.payload = p.payload;
        self.send_room = self
            .spec
            .sends
            .iter()
            .find(|(g, _)| *g == p.group)
            .map(|(_, r)| r.clone());
        self.next_send = None;
        self.next_jitter = None;
        let end_ns = p.t0_ns + p.duration_ms * 1_000_000;
        if self.send_room.is_some() && p.rate_per_sender > 0.0 {
            self.period_ns = (1e9 / p.rate_per_sender) as u64;
            let offset = (frac(self.spec.id as u64 ^ (u64::from(p.step) << 40))
                * self.period_ns as f64) as u64;
            let first = p.t0_ns + offset;
            self.send_end_ns = end_ns;
            if first < end_ns {
                self.next_send = Some((stats::instant_at(first), first));
            }
        }
        if self.spec.jitter && p.jitter_period_ms > 0 {
            self.jitter_period = Duration::from_millis(p.jitter_period_ms);
            let offset = (frac(self.spec.id as u64 + 7) * p.jitter_period_ms as f64 * 1e6) as u64;
            let first = p.t0_ns + offset;
            self.jitter_end = stats::instant_at(end_ns);
            if first < end_ns {
                self.next_jitter = Some(stats::instant_at(first));
            }
        }
    }

    pub(super) fn ack_id(&mut self) -> u64 {
        self.next_ack += 1;
        self.next_ack
    }

    pub(super) async fn run(mut self, ws: Ws, mut phase_rx: watch::Receiver<Arc<Phase>>) {
        let mut ws = Some(ws);
        self.ctx.c.open.fetch_add(1, Ordering::Relaxed);
        let far = || Instant::now() + Duration::from_secs(86_400);
        let mut retry_at: Option<Instant> = None;
        loop {
            if ws.is_none() {
                let at = retry_at.unwrap_or_else(Instant::now);
                tokio::select! {
                    _ = sleep_until(at) => {}
                    ch = phase_rx.changed() => {
                        if ch.is_err() || phase_rx.borrow_and_update().exit { return; }
                        let p = phase_rx.borrow().clone();
                        self.schedule(&p);
                        continue;
                    }
                }
                let src = self.ctx.source_ips.then(|| source_ip(self.spec.id));
                match connect(
                    self.ctx.addr,
                    &self.ctx.host,
                    src,
                    &self.spec.token,
                    self.spec.jitter,
                )
                .await
                {
                    Ok(mut w) => {
                        bump(&self.ctx.c.reconnects);
                        self.ctx.c.open.fetch_add(1, Ordering::Relaxed);
                        self.pending
                            .retain(|_, p| matches!(p, Pending::Send { .. }));
                        self.sync_inflight = false;
                        let ok = self.join_rooms(&mut w).await.is_ok()
                            && (!self.ctx.track || self.send_sync(&mut w).await.is_ok());
                        if ok {
                            ws = Some(w);
                            retry_at = None;
                        }
                    }
                    Err(_) => retry_at = Some(Instant::now() + Duration::from_millis(500)),
                }
                continue;
            }
            let next_send = self.next_send.map(|(i, _)| i).unwrap_or_else(far);
            let next_jitter = self.next_jitter.unwrap_or_else(far);
            let Some(w) = ws.as_mut() else { continue };
            let mut lost = false;
            tokio::select! {
                msg = w.next() => match msg {
                    Some(Ok(Message::Text(t))) => {
                        match self.on_text(w, t.as_str()).await {
                            Ok(true) => {}
                            _ => lost = true,
                        }
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => lost = true,
                    Some(Ok(_)) => {}
                },
                ch = phase_rx.changed() => {
                    if ch.is_err() || phase_rx.borrow_and_update().exit {
                        let _ = w.close(None).await;
                        self.ctx.c.open.fetch_sub(1, Ordering::Relaxed);
                        return;
                    }
                    let p = phase_rx.borrow().clone();
                    self.schedule(&p);
                }
                _ = sleep_until(next_send), if self.next_send.is_some() => {
                    if let Some((_, t_ns)) = self.next_send {
                        self.send_one(&mut ws, t_ns).await;
                        let next = t_ns + self.period_ns;
                        self.next_send = (next < self.send_end_ns).then(|| (stats::instant_at(next), next));
                    }
                }
                _ = sleep_until(next_jitter), if self.next_jitter.is_some() => {
                    // Abrupt close: SO_LINGER 0 makes dropping the socket send RST.
                    ws = None;
                    self.ctx.c.open.fetch_sub(1, Ordering::Relaxed);
                    bump(&self.ctx.c.closes);
                    self.closed_at_ns = Some(now_ns());
                    let next = Instant::now() + self.jitter_period;
                    self.next_jitter = (next < self.jitter_end).then_some(next);
                }
            }
            if lost {
                ws = None;
                self.ctx.c.open.fetch_sub(1, Ordering::Relaxed);
                bump(&self.ctx.c.disconnects);
                self.closed_at_ns = Some(now_ns());
                retry_at = Some(Instant::now() + Duration::from_millis(200));
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::worker::spec::WorkerSpec;

    fn conn(sends: &[(&str, &str)], jitter: bool) -> Conn {
        let spec = WorkerSpec {
            url: String::new(),
            index: 0,
            of: 1,
            conns: Vec::new(),
            connect_concurrency: 1,
            source_ips: false,
            track: false,
            join_rooms: false,
            deadline_ns: 0,
        };
        let ctx = Ctx::new(([127, 0, 0, 1], 1).into(), String::new(), &spec);
        let spec = ConnSpec {
            id: 3,
            token: String::new(),
            rooms: Vec::new(),
            sends: sends
                .iter()
                .map(|(g, r)| ((*g).to_owned(), (*r).to_owned()))
                .collect(),
            jitter,
        };
        Conn::new(spec, Arc::new(ctx), Arc::new(Mutex::new(HashMap::new())))
    }

    fn phase(group: &str, rate: f64, jitter_ms: u64) -> Phase {
        Phase {
            step: 2,
            group: group.into(),
            t0_ns: 1_000_000_000,
            duration_ms: 1000,
            rate_per_sender: rate,
            payload: 64,
            jitter_period_ms: jitter_ms,
            ..Phase::default()
        }
    }

    #[test]
    fn the_phase_of_a_connection_is_fixed_and_spread() {
        // splitmix64's first output for the seed 0.
        assert_eq!(mix(0), 0xE220_A839_7B1D_CDAF);
        let fracs: Vec<f64> = (0..1000).map(frac).collect();
        assert!(fracs.iter().all(|f| (0.0..1.0).contains(f)));
        let low = fracs.iter().filter(|f| **f < 0.5).count();
        assert!((400..600).contains(&low), "{low}");
    }

    #[test]
    fn senders_of_the_group_send_from_a_point_within_the_first_period() {
        let mut c = conn(&[("other", "r0"), ("g", "r1")], false);
        c.schedule(&phase("g", 10.0, 0));
        assert_eq!(c.send_room.as_deref(), Some("r1"));
        assert_eq!((c.step, c.payload, c.period_ns), (2, 64, 100_000_000));
        assert_eq!(c.send_end_ns, 2_000_000_000);
        let (_, first) = c.next_send.unwrap();
        assert!((1_000_000_000..1_100_000_000).contains(&first), "{first}");
        assert!(c.next_jitter.is_none());
        // Another group's phase: nothing to send.
        c.schedule(&phase("h", 10.0, 0));
        assert!(c.send_room.is_none() && c.next_send.is_none());
        // A rate of zero sends nothing either.
        c.schedule(&phase("g", 0.0, 0));
        assert!(c.next_send.is_none());
    }

    #[test]
    fn only_jittered_connections_get_a_close_scheduled() {
        let mut c = conn(&[], true);
        c.schedule(&phase("g", 0.0, 500));
        assert!(c.next_jitter.is_some());
        assert_eq!(c.jitter_period, Duration::from_millis(500));
        let mut c = conn(&[], false);
        c.schedule(&phase("g", 0.0, 500));
        assert!(c.next_jitter.is_none());
    }
}
