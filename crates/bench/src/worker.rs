//! A generator process. It holds its share of the connections (one tokio task
//! each), answers pings, and on each `GO <phase>` line from the coordinator runs
//! one timed phase: open-loop senders at a fixed rate (the scheduled send time is
//! stamped into the content), optional force-closes with reconnect + `sync`,
//! then a drain, then one `RESULT <json>` line. `EXIT` (or stdin closing, or the
//! spec's deadline) ends it.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::AsyncBufReadExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use natter_core::events::{ClientEventName, ServerEventName};

use crate::proto::{self, Packet};
use crate::stats::{self, hist, now_ns, record};

pub type Ws = WebSocketStream<TcpStream>;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerSpec {
    pub url: String,
    pub index: usize,
    pub of: usize,
    pub conns: Vec<ConnSpec>,
    pub connect_concurrency: usize,
    /// Bind each connection to 127.0.0.(2 + id % 249) so ports never run out.
    pub source_ips: bool,
    /// Follow every room's `eventSeq`, detect gaps, `sync` after reconnects (S8).
    pub track: bool,
    /// Send `room:join` for each of the connection's rooms after connecting.
    pub join_rooms: bool,
    /// The worker exits by itself at this unix-nanosecond time, whatever happens.
    pub deadline_ns: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnSpec {
    pub id: usize,
    pub token: String,
    pub rooms: Vec<String>,
    /// (group, room): in a phase of that group this connection sends into that room.
    pub sends: Vec<(String, String)>,
    /// Force-closed every `jitter_period_ms` of a phase (S8).
    pub jitter: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Phase {
    pub step: u32,
    pub group: String,
    pub t0_ns: u64,
    pub duration_ms: u64,
    pub rate_per_sender: f64,
    pub payload: usize,
    pub drain_ms: u64,
    pub jitter_period_ms: u64,
    pub exit: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ready {
    pub worker: usize,
    pub connected: u64,
    pub failed: u64,
    pub first_error: Option<String>,
    pub connect_start_ns: u64,
    pub connect_end_ns: u64,
    pub handshake_hist: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StepResult {
    pub worker: usize,
    pub step: u32,
    pub sent: u64,
    pub send_errors: u64,
    pub acked_ok: u64,
    pub acked_err: u64,
    pub first_ack_error: Option<String>,
    pub delivered: u64,
    pub late: u64,
    pub error_events: u64,
    pub disconnects: u64,
    pub reconnects: u64,
    pub closes: u64,
    pub syncs: u64,
    pub sync_errors: u64,
    pub sync_resets: u64,
    pub sync_events: u64,
    pub duplicates: u64,
    pub gaps: u64,
    pub deliver_hist: String,
    pub ack_hist: String,
    pub sync_hist: String,
    pub recover_hist: String,
    /// Track mode: (connection id, room, last contiguous eventSeq applied).
    pub tracked: Vec<(usize, String, u64)>,
    /// Track mode: room → (highest acked seq, acked sends) of this worker's senders.
    pub acked_seqs: HashMap<String, (u64, u64)>,
    pub open_conns: u64,
    pub generator_cpu_s: f64,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    send_errors: AtomicU64,
    acked_ok: AtomicU64,
    acked_err: AtomicU64,
    delivered: AtomicU64,
    late: AtomicU64,
    error_events: AtomicU64,
    disconnects: AtomicU64,
    reconnects: AtomicU64,
    closes: AtomicU64,
    syncs: AtomicU64,
    sync_errors: AtomicU64,
    sync_resets: AtomicU64,
    sync_events: AtomicU64,
    duplicates: AtomicU64,
    gaps: AtomicU64,
    open: AtomicU64,
}

struct Hists {
    deliver: Histogram<u64>,
    ack: Histogram<u64>,
    sync: Histogram<u64>,
    recover: Histogram<u64>,
}

impl Hists {
    fn new() -> Hists {
        Hists {
            deliver: hist(),
            ack: hist(),
            sync: hist(),
            recover: hist(),
        }
    }
}

struct Ctx {
    addr: SocketAddr,
    host: String,
    source_ips: bool,
    track: bool,
    join_rooms: bool,
    step: AtomicU32,
    c: Counters,
    h: Mutex<Hists>,
    first_ack_error: Mutex<Option<String>>,
    acked_seqs: Mutex<HashMap<String, (u64, u64)>>,
}

fn bump(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

fn take(a: &AtomicU64) -> u64 {
    a.swap(0, Ordering::Relaxed)
}

/// `http://host:port` → socket address + Host header.
pub fn resolve(url: &str) -> Result<(SocketAddr, String)> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("only http:// URLs (loopback) are supported: {url}"))?;
    let host = rest.split('/').next().unwrap_or(rest).to_owned();
    let with_port = if host.contains(':') {
        host.clone()
    } else {
        format!("{host}:80")
    };
    let addr = with_port
        .to_socket_addrs()?
        .find(SocketAddr::is_ipv4)
        .ok_or_else(|| anyhow!("cannot resolve {host} to an IPv4 address"))?;
    if !addr.ip().is_loopback() {
        bail!("natter-bench only targets loopback addresses, not {addr}");
    }
    Ok((addr, host))
}

pub fn source_ip(id: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (id % 249) as u8))
}

/// TCP connect (from a chosen source address), websocket upgrade, Engine.IO
/// OPEN, Socket.IO CONNECT with the token. Ready for events when it returns.
pub async fn connect(
    addr: SocketAddr,
    host: &str,
    src: Option<IpAddr>,
    token: &str,
    linger0: bool,
) -> Result<Ws> {
    let sock = TcpSocket::new_v4()?;
    if let Some(ip) = src {
        sock.bind(SocketAddr::new(ip, 0))
            .context("bind source address")?;
    }
    if linger0 {
        sock.set_zero_linger()?;
    }
    let stream = sock.connect(addr).await.context("tcp connect")?;
    stream.set_nodelay(true)?;
    let url = format!("ws://{host}/socket.io/?EIO=4&transport=websocket");
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(Some(16 << 20));
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
        .await
        .context("websocket upgrade")?;
    let mut sent_connect = false;
    loop {
        let msg = ws
            .next()
            .await
            .ok_or_else(|| anyhow!("closed during handshake"))??;
        let Message::Text(t) = msg else { continue };
        match proto::parse(t.as_str()) {
            Packet::Open if !sent_connect => {
                let auth = serde_json::json!({ "token": token });
                ws.send(Message::Text(format!("40{auth}").into())).await?;
                sent_connect = true;
            }
            Packet::Ping => ws.send(Message::Text("3".into())).await?,
            Packet::Connected => return Ok(ws),
            Packet::ConnectError(e) => bail!("connect refused: {e}"),
            Packet::Closed => bail!("closed during handshake"),
            _ => {}
        }
    }
}

enum Pending {
    Send { t_ns: u64, step: u32, room: String },
    Sync { t_ns: u64 },
}

/// One connection's life.
struct Conn {
    spec: ConnSpec,
    ctx: Arc<Ctx>,
    next_ack: u64,
    pending: HashMap<u64, Pending>,
    // sending
    send_room: Option<String>,
    next_send: Option<(Instant, u64)>,
    period_ns: u64,
    send_end_ns: u64,
    step: u32,
    payload: usize,
    // jitter
    next_jitter: Option<Instant>,
    jitter_period: Duration,
    jitter_end: Instant,
    closed_at_ns: Option<u64>,
    // tracking
    track: Arc<Mutex<HashMap<String, u64>>>,
    sync_inflight: bool,
    buffered: BTreeSet<(String, u64)>,
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
    fn schedule(&mut self, p: &Phase) {
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

    fn ack_id(&mut self) -> u64 {
        self.next_ack += 1;
        self.next_ack
    }

    async fn send_one(&mut self, ws: &mut Option<Ws>, t_ns: u64) {
        let Some(room) = self.send_room.clone() else {
            return;
        };
        let Some(w) = ws.as_mut() else {
            bump(&self.ctx.c.send_errors);
            return;
        };
        let id = self.ack_id();
        let frame = proto::message_send(id, &room, &proto::stamp(t_ns, self.step, self.payload));
        self.pending.insert(
            id,
            Pending::Send {
                t_ns,
                step: self.step,
                room,
            },
        );
        if w.send(Message::Text(frame.into())).await.is_ok() {
            bump(&self.ctx.c.sent);
        } else {
            self.pending.remove(&id);
            bump(&self.ctx.c.send_errors);
        }
    }

    async fn send_sync(&mut self, w: &mut Ws) -> Result<()> {
        let rooms: serde_json::Map<String, Value> = {
            let t = self.track.lock().map_err(|_| anyhow!("poisoned"))?;
            t.iter()
                .map(|(k, v)| (k.clone(), Value::from(*v)))
                .collect()
        };
        let id = self.ack_id();
        self.pending.insert(id, Pending::Sync { t_ns: now_ns() });
        self.sync_inflight = true;
        bump(&self.ctx.c.syncs);
        let frame = proto::emit(
            Some(id),
            ClientEventName::Sync.as_str(),
            &serde_json::json!({ "rooms": rooms }),
        );
        w.send(Message::Text(frame.into())).await?;
        Ok(())
    }

    /// Applies buffered live events that now follow on; true when a gap remains.
    fn drain_buffer(&mut self) -> bool {
        let Ok(mut t) = self.track.lock() else {
            return false;
        };
        let mut gap = false;
        let items: Vec<(String, u64)> = std::mem::take(&mut self.buffered).into_iter().collect();
        for (room, seq) in items {
            let last = t.entry(room.clone()).or_insert(0);
            if seq <= *last {
                continue;
            } else if seq == *last + 1 {
                *last = seq;
            } else {
                gap = true;
                self.buffered.insert((room, seq));
            }
        }
        gap
    }

    async fn on_live(&mut self, w: &mut Ws, body: &str) -> Result<()> {
        let (Some(room), Some(seq)) = (
            proto::str_after(body, "\"roomId\":\""),
            proto::num_after(body, "\"eventSeq\":"),
        ) else {
            return Ok(());
        };
        if self.sync_inflight {
            self.buffered.insert((room.to_owned(), seq));
            return Ok(());
        }
        let gap = {
            let mut t = self.track.lock().map_err(|_| anyhow!("poisoned"))?;
            let last = t.entry(room.to_owned()).or_insert(0);
            if seq <= *last {
                bump(&self.ctx.c.duplicates);
                false
            } else if seq == *last + 1 {
                *last = seq;
                false
            } else {
                true
            }
        };
        if gap {
            bump(&self.ctx.c.gaps);
            self.buffered.insert((room.to_owned(), seq));
            self.send_sync(w).await?;
        }
        Ok(())
    }

    async fn on_sync_ack(&mut self, w: &mut Ws, body: &str, t_ns: u64) -> Result<()> {
        self.sync_inflight = false;
        let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let a = &v[0];
        if a["ok"] != Value::Bool(true) {
            bump(&self.ctx.c.sync_errors);
            self.note_ack_error(body);
            return Ok(());
        }
        let now = now_ns();
        {
            let mut t = self.track.lock().map_err(|_| anyhow!("poisoned"))?;
            if let Some(events) = a["events"].as_array() {
                for e in events {
                    self.ctx.c.sync_events.fetch_add(1, Ordering::Relaxed);
                    let (Some(room), Some(seq)) = (e["roomId"].as_str(), e["eventSeq"].as_u64())
                    else {
                        continue;
                    };
                    let last = t.entry(room.to_owned()).or_insert(0);
                    if seq == *last + 1 {
                        *last = seq;
                    }
                }
            }
            if let Some(reset) = a["reset"].as_array() {
                self.ctx
                    .c
                    .sync_resets
                    .fetch_add(reset.len() as u64, Ordering::Relaxed);
            }
        }
        if let Ok(mut h) = self.ctx.h.lock() {
            record(&mut h.sync, (now.saturating_sub(t_ns)) / 1000);
            if let Some(c) = self.closed_at_ns.take() {
                record(&mut h.recover, (now.saturating_sub(c)) / 1000);
            }
        }
        if self.drain_buffer() {
            self.send_sync(w).await?;
        }
        Ok(())
    }

    fn note_ack_error(&self, body: &str) {
        if let Ok(mut f) = self.ctx.first_ack_error.lock() {
            if f.is_none() {
                *f = Some(body.chars().take(300).collect());
            }
        }
    }

    async fn on_text(&mut self, w: &mut Ws, text: &str) -> Result<bool> {
        match proto::parse(text) {
            Packet::Ping => {
                w.send(Message::Text("3".into())).await?;
            }
            Packet::Event { name, body } => match ServerEventName::parse(name) {
                Some(ServerEventName::MessageNew) => {
                    if let Some((t, step)) = proto::read_stamp(body) {
                        if step == self.ctx.step.load(Ordering::Relaxed) {
                            bump(&self.ctx.c.delivered);
                            let lat = now_ns().saturating_sub(t) / 1000;
                            if let Ok(mut h) = self.ctx.h.lock() {
                                record(&mut h.deliver, lat);
                            }
                        } else {
                            bump(&self.ctx.c.late);
                        }
                    }
                    if self.ctx.track {
                        self.on_live(w, body).await?;
                    }
                }
                Some(ServerEventName::Error) => {
                    bump(&self.ctx.c.error_events);
                    self.note_ack_error(body);
                }
                _ => {}
            },
            Packet::Ack { id, body } => match self.pending.remove(&id) {
                Some(Pending::Send { t_ns, step, room }) => {
                    if proto::ack_ok(body) {
                        bump(&self.ctx.c.acked_ok);
                        if step == self.ctx.step.load(Ordering::Relaxed) {
                            if let Ok(mut h) = self.ctx.h.lock() {
                                record(&mut h.ack, now_ns().saturating_sub(t_ns) / 1000);
                            }
                        }
                        if self.ctx.track {
                            let seq = proto::num_after(body, "\"seq\":").unwrap_or(0);
                            if let Ok(mut a) = self.ctx.acked_seqs.lock() {
                                let e = a.entry(room).or_insert((0, 0));
                                e.0 = e.0.max(seq);
                                e.1 += 1;
                            }
                        }
                    } else {
                        bump(&self.ctx.c.acked_err);
                        self.note_ack_error(body);
                    }
                }
                Some(Pending::Sync { t_ns }) => self.on_sync_ack(w, body, t_ns).await?,
                None => {}
            },
            Packet::Closed => return Ok(false),
            _ => {}
        }
        Ok(true)
    }

    async fn join_rooms(&mut self, w: &mut Ws) -> Result<()> {
        if !self.ctx.join_rooms {
            return Ok(());
        }
        for room in self.spec.rooms.clone() {
            let frame = proto::emit(
                None,
                ClientEventName::RoomJoin.as_str(),
                &serde_json::json!({ "roomId": room }),
            );
            w.send(Message::Text(frame.into())).await?;
        }
        Ok(())
    }

    async fn run(mut self, ws: Ws, mut phase_rx: watch::Receiver<Arc<Phase>>) {
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
    let ctx = Arc::new(Ctx {
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
    });
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
                let track = Arc::new(Mutex::new(
                    c.rooms
                        .iter()
                        .map(|r| (r.clone(), 0u64))
                        .collect::<HashMap<_, _>>(),
                ));
                if spec.track {
                    tracks.push((c.id, track.clone()));
                }
                let mut conn = Conn {
                    spec: c,
                    ctx: ctx.clone(),
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
                };
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
        let c = &ctx.c;
        for a in [
            &c.sent,
            &c.send_errors,
            &c.acked_ok,
            &c.acked_err,
            &c.delivered,
            &c.late,
            &c.error_events,
            &c.disconnects,
            &c.reconnects,
            &c.closes,
            &c.syncs,
            &c.sync_errors,
            &c.sync_resets,
            &c.sync_events,
            &c.duplicates,
            &c.gaps,
        ] {
            take(a);
        }
        if let Ok(mut h) = ctx.h.lock() {
            *h = Hists::new();
        }
        ctx.step.store(phase.step, Ordering::Relaxed);
        let cpu0 = stats::cpu_seconds(std::process::id()).unwrap_or(0.0);
        let end = stats::instant_at(phase.t0_ns + (phase.duration_ms + phase.drain_ms) * 1_000_000);
        let step = phase.step;
        phase_tx.send_replace(Arc::new(phase));
        tokio::select! {
            _ = sleep_until(end) => {}
            _ = sleep_until(deadline) => break,
        }
        let h = ctx.h.lock().map_err(|_| anyhow!("poisoned"))?;
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
        let result = StepResult {
            worker: spec.index,
            step,
            sent: c.sent.load(Ordering::Relaxed),
            send_errors: c.send_errors.load(Ordering::Relaxed),
            acked_ok: c.acked_ok.load(Ordering::Relaxed),
            acked_err: c.acked_err.load(Ordering::Relaxed),
            first_ack_error: ctx.first_ack_error.lock().ok().and_then(|f| f.clone()),
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
            acked_seqs: ctx.acked_seqs.lock().map(|a| a.clone()).unwrap_or_default(),
            open_conns: c.open.load(Ordering::Relaxed),
            generator_cpu_s: stats::cpu_seconds(std::process::id()).unwrap_or(0.0) - cpu0,
        };
        drop(h);
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
