//! The sending side of a connection: its scheduled messages (stamped with
//! their send time), `sync` after a reconnect or a gap, `room:join`.

use futures_util::SinkExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use anyhow::{anyhow, Result};
use natter_core::events::ClientEventName;

use super::conn::{Conn, Pending};
use super::counters::bump;
use super::net::Ws;
use crate::proto;
use crate::stats::now_ns;

impl Conn {
    pub(super) async fn send_one(&mut self, ws: &mut Option<Ws>, t_ns: u64) {
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

    pub(super) async fn send_sync(&mut self, w: &mut Ws) -> Result<()> {
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

    pub(super) async fn join_rooms(&mut self, w: &mut Ws) -> Result<()> {
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
}
