//! What the coordinator and a generator process tell each other: the
//! worker's spec file, each phase (`GO <json>`), the `READY` after the ramp
//! and each phase's `RESULT`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

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
