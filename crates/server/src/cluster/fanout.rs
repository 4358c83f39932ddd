//! The Redis fan-out: the engine's [`Fanout`] across nodes.
//!
//! Every op the engine applies locally is handed here once, and goes out as
//! ONE `PUBLISH <prefix>:fanout <node id><op>` whatever the room's size: the
//! op carries the Engine.IO packet exactly as the sending node encoded it, and
//! each receiving node hands it to `Engine::apply_remote`, which writes those
//! same bytes to its own sockets in the op's rooms. A node ignores its own
//! messages by the node id in front.
//!
//! `publish` never blocks the engine: ops go into a bounded queue drained by
//! one task, which sends whatever has piled up as one pipeline (order kept).
//! A full queue, or Redis being away, drops the op and counts it
//! (`natter_fanout_dropped_total`); clients recover from the database with
//! `sync`, as after any missed event.
//!
//! Plain PUBLISH, not Redis 7's sharded SPUBLISH: there is one channel for the
//! whole cluster, so sharding would put every message on one shard anyway, and
//! PUBLISH works on every Redis (and Valkey, KeyDB, managed offerings) from 2.0
//! on. Per-room shard channels are the way to spread fan-out over a Redis
//! Cluster later; see `docs/OPERATIONS.md`.

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use fred::prelude::*;
use natter_realtime::{Fanout, FanoutOp};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use super::Cluster;

/// Ops waiting to be published; beyond this, new ops are dropped (and counted).
pub const QUEUE_CAPACITY: usize = 8_192;
/// At most this many ops per pipeline.
const BATCH: usize = 256;
const NODE_ID_LEN: usize = 16;

/// `node id` (16 bytes) followed by the encoded op.
pub fn frame(node_id: &str, op: &FanoutOp) -> Bytes {
    let op = op.encode();
    let mut b = BytesMut::with_capacity(NODE_ID_LEN + op.len());
    b.put_slice(node_id.as_bytes());
    b.put_slice(&op);
    b.freeze()
}

/// The sender's node id and the op, or `None` for anything malformed.
pub fn unframe(b: &[u8]) -> Option<(&str, FanoutOp)> {
    if b.len() < NODE_ID_LEN {
        return None;
    }
    let (id, op) = b.split_at(NODE_ID_LEN);
    Some((std::str::from_utf8(id).ok()?, FanoutOp::decode(op)?))
}

/// The engine's fan-out over Redis.
pub struct RedisFanout {
    cluster: Arc<Cluster>,
    queue: mpsc::Sender<Bytes>,
}

impl RedisFanout {
    /// Starts the publishing task.
    pub fn start(cluster: Arc<Cluster>) -> Arc<Self> {
        let (queue, rx) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(publisher(cluster.clone(), rx));
        Arc::new(RedisFanout { cluster, queue })
    }
}

impl Fanout for RedisFanout {
    fn publish(&self, op: &FanoutOp) {
        let m = self.cluster.metrics();
        match self.queue.try_send(frame(self.cluster.node_id(), op)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => m.dropped("queue_full"),
            Err(mpsc::error::TrySendError::Closed(_)) => m.dropped("closed"),
        }
    }
}

async fn publisher(cluster: Arc<Cluster>, mut rx: mpsc::Receiver<Bytes>) {
    let channel = cluster.channel();
    let metrics = cluster.metrics().clone();
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let n = batch.len() as u64;
        if !cluster.client().is_connected() {
            // Redis is away: drop now rather than replay stale events later
            metrics
                .fanout_dropped
                .with_label_values(&["redis_down"])
                .inc_by(n);
            batch.clear();
            continue;
        }
        let pipeline = cluster.client().pipeline();
        for frame in batch.drain(..) {
            // queued in memory, sent below in one round trip, in order
            let _: Result<(), _> = pipeline.publish(channel.as_str(), frame).await;
        }
        let results = pipeline.try_all::<Value>().await;
        let failed = results.iter().filter(|r| r.is_err()).count() as u64;
        metrics.fanout_published.inc_by(n.saturating_sub(failed));
        if failed > 0 {
            metrics
                .fanout_dropped
                .with_label_values(&["redis_error"])
                .inc_by(failed);
            if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
                tracing::warn!(error = %e, failed, "fan-out: could not publish");
            }
        }
    }
}

/// Subscribes to the fan-out channel and hands every op from another node to
/// `sink` (in production `Engine::apply_remote`). The subscription survives
/// Redis restarts (`manage_subscriptions` re-subscribes on reconnect).
pub async fn subscribe<F>(cluster: Arc<Cluster>, sink: F) -> Result<(), Error>
where
    F: Fn(FanoutOp) + Send + Sync + 'static,
{
    let mut messages = cluster.subscriber().message_rx();
    cluster.subscriber().subscribe(cluster.channel()).await?;
    let metrics = cluster.metrics().clone();
    let me = cluster.node_id().to_owned();
    tokio::spawn(async move {
        loop {
            match messages.recv().await {
                Ok(msg) => {
                    let Some(bytes) = msg.value.into_bytes() else {
                        metrics.dropped("invalid");
                        continue;
                    };
                    match unframe(&bytes) {
                        Some((from, _)) if from == me => {}
                        Some((_, op)) => {
                            metrics.fanout_received.inc();
                            sink(op);
                        }
                        None => metrics.dropped("invalid"),
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "fan-out: subscriber fell behind");
                    metrics
                        .fanout_dropped
                        .with_label_values(&["lagged"])
                        .inc_by(n);
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use natter_realtime::FanoutAction;

    #[test]
    fn frames_round_trip_and_reject_garbage() {
        let op = FanoutOp {
            namespace: "/".into(),
            rooms: vec!["room:1".into()],
            except_rooms: vec![],
            except_sockets: vec!["s".into()],
            action: FanoutAction::Emit {
                packet: Bytes::from_static(b"42[\"message:new\",{}]"),
                attachments: vec![],
            },
        };
        let f = frame("0123456789abcdef", &op);
        assert_eq!(unframe(&f), Some(("0123456789abcdef", op)));
        assert_eq!(unframe(b"short"), None);
        assert_eq!(unframe(&f[..f.len() - 1]), None);
    }
}
