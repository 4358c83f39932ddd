//! The receiving side of a connection: deliveries and acks (and their
//! latencies from the stamped send time), error events, and in track mode
//! each room's `eventSeq` followed in order, with `sync` to fill gaps.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;

use anyhow::{anyhow, Result};
use futures_util::SinkExt;
use natter_core::events::ServerEventName;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use super::conn::{Conn, Pending};
use super::counters::bump;
use super::net::Ws;
use crate::proto::{self, Packet};
use crate::stats::{now_ns, record};

/// Where a room's event stands against the last one applied in order.
#[derive(Debug, PartialEq, Eq)]
enum Seq {
    /// Already applied (or older).
    Seen,
    /// The next one: applied now.
    Next,
    /// Some are missing before it.
    Gap,
}

/// Applies `seq` to `last` if it is the next one; says where it stood.
fn advance(last: &mut u64, seq: u64) -> Seq {
    if seq <= *last {
        Seq::Seen
    } else if seq == *last + 1 {
        *last = seq;
        Seq::Next
    } else {
        Seq::Gap
    }
}

/// Applies the buffered events that now follow on, in order, and keeps
/// those still past a gap; true when there are such.
fn apply_buffered(
    track: &mut HashMap<String, u64>,
    buffered: &mut BTreeSet<(String, u64)>,
) -> bool {
    let mut gap = false;
    let items: Vec<(String, u64)> = std::mem::take(buffered).into_iter().collect();
    for (room, seq) in items {
        let last = track.entry(room.clone()).or_insert(0);
        if advance(last, seq) == Seq::Gap {
            gap = true;
            buffered.insert((room, seq));
        }
    }
    gap
}

impl Conn {
    /// Applies buffered live events that now follow on; true when a gap remains.
    fn drain_buffer(&mut self) -> bool {
        let Ok(mut t) = self.track.lock() else {
            return false;
        };
        apply_buffered(&mut t, &mut self.buffered)
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
            match advance(t.entry(room.to_owned()).or_insert(0), seq) {
                Seq::Seen => {
                    bump(&self.ctx.c.duplicates);
                    false
                }
                Seq::Next => false,
                Seq::Gap => true,
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
                    advance(t.entry(room.to_owned()).or_insert(0), seq);
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

    pub(super) async fn on_text(&mut self, w: &mut Ws, text: &str) -> Result<bool> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_apply_only_in_order() {
        let mut last = 4;
        assert_eq!(advance(&mut last, 3), Seq::Seen);
        assert_eq!(advance(&mut last, 4), Seq::Seen);
        assert_eq!(advance(&mut last, 6), Seq::Gap);
        assert_eq!(last, 4);
        assert_eq!(advance(&mut last, 5), Seq::Next);
        assert_eq!(last, 5);
    }

    #[test]
    fn buffered_events_apply_once_the_gap_is_filled() {
        let mut track = HashMap::from([("a".to_owned(), 2), ("b".to_owned(), 0)]);
        let mut buffered: BTreeSet<(String, u64)> =
            [("a", 4), ("a", 3), ("a", 6), ("a", 1), ("b", 1)]
                .into_iter()
                .map(|(r, s)| (r.to_owned(), s))
                .collect();
        // 3 and 4 follow on from 2, 1 is old; 6 still waits for 5.
        assert!(apply_buffered(&mut track, &mut buffered));
        assert_eq!((track["a"], track["b"]), (4, 1));
        assert_eq!(
            buffered.into_iter().collect::<Vec<_>>(),
            [("a".to_owned(), 6)]
        );
        // A room not tracked yet starts from 0.
        let mut buffered = BTreeSet::from([("c".to_owned(), 1)]);
        assert!(!apply_buffered(&mut track, &mut buffered));
        assert_eq!(track["c"], 1);
    }
}
