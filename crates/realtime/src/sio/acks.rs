//! Acknowledgements both ways: [`AckSender`] answers a client's event, and
//! [`SocketRef::emit_with_ack`] awaits the client's answer, by an id from the
//! socket's [`Acks`].

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::oneshot;

use super::handler::{AckError, EmitError};
use super::packet;
use super::socket::{Phase, SocketRef};
use crate::eio::{lock, Frame};

/// Answers a client's event that asked for an ack. Dropping it sends nothing.
pub struct AckSender {
    pub(super) socket: SocketRef,
    pub(super) id: u64,
}

impl AckSender {
    /// `ACK [value]`.
    pub fn send<T: Serialize + ?Sized>(self, value: &T) {
        match packet::ack_value(&self.socket.inner.ns.path, self.id, value) {
            Ok(b) => self.socket.send_quiet(&[Frame::Text(b)]),
            Err(e) => tracing::error!(error = %e, "could not encode an ack"),
        }
    }

    /// `ACK [args..]`, binary (`BINARY_ACK`) when `binary` is not empty (the args then
    /// hold the placeholders).
    pub fn send_args(self, args: &[Value], binary: Vec<Bytes>) {
        match packet::ack(&self.socket.inner.ns.path, self.id, args, binary.len()) {
            Ok(b) => {
                let mut frames = Vec::with_capacity(1 + binary.len());
                frames.push(Frame::Text(b));
                frames.extend(binary.into_iter().map(Frame::Binary));
                self.socket.send_quiet(&frames);
            }
            Err(e) => tracing::error!(error = %e, "could not encode an ack"),
        }
    }

    pub fn id(&self) -> u64 {
        self.id
    }
}

/// An ack the client sent back.
pub(super) struct AckReply {
    args: Vec<Value>,
}

/// The acks a socket awaits from its client, by id.
#[derive(Default)]
pub(super) struct Acks {
    /// `None` when none is awaited: most sockets never ask for an ack.
    waiting: Option<HashMap<u64, oneshot::Sender<AckReply>>>,
    /// The last id given out (ids start at 1).
    last: u64,
}

impl Acks {
    /// A new id, and where its reply will come.
    fn register(&mut self) -> (u64, oneshot::Receiver<AckReply>) {
        let (tx, rx) = oneshot::channel();
        self.last += 1;
        let id = self.last;
        self.waiting
            .get_or_insert_with(Default::default)
            .insert(id, tx);
        (id, rx)
    }

    /// Stops awaiting `id`: where its reply would have gone, if it was awaited.
    fn take(&mut self, id: u64) -> Option<oneshot::Sender<AckReply>> {
        let waiting = self.waiting.as_mut()?;
        let tx = waiting.remove(&id);
        if waiting.is_empty() {
            self.waiting = None;
        }
        tx
    }

    /// Drops every awaited ack: their emitters get [`AckError::Disconnected`].
    pub(super) fn clear(&mut self) {
        self.waiting = None;
    }

    #[cfg(test)]
    fn awaited(&self) -> usize {
        self.waiting.as_ref().map_or(0, HashMap::len)
    }
}

impl SocketRef {
    /// Emits `[event, data]` asking for an ack; resolves to the ack's arguments.
    pub async fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
        timeout: Duration,
    ) -> Result<Vec<Value>, AckError> {
        let (id, rx) = {
            let mut st = lock(&self.inner.st);
            if matches!(st.phase, Phase::Closed) {
                return Err(AckError::Emit(EmitError::Closed));
            }
            st.acks.register()
        };
        let sent = packet::event(&self.inner.ns.path, event, data, Some(id))
            .map_err(EmitError::from)
            .and_then(|b| self.send(&[Frame::Text(b)]));
        if let Err(e) = sent {
            self.forget_ack(id);
            return Err(e.into());
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(reply)) => Ok(reply.args),
            Ok(Err(_)) => Err(AckError::Disconnected),
            Err(_) => {
                self.forget_ack(id);
                Err(AckError::Timeout)
            }
        }
    }

    fn forget_ack(&self, id: u64) {
        lock(&self.inner.st).acks.take(id);
    }

    /// The client acknowledged `id` with `args`.
    pub(super) fn resolve_ack(&self, id: u64, args: Vec<Value>) {
        let tx = lock(&self.inner.st).acks.take(id);
        if let Some(tx) = tx {
            let _ = tx.send(AckReply { args });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sio::testing::{fixture, sent, until};
    use crate::sio::EngineConfig;
    use serde_json::json;

    const LONG: Duration = Duration::from_secs(60);

    #[test]
    fn ids_count_up_and_each_reply_goes_once() {
        let mut acks = Acks::default();
        let (a, _ra) = acks.register();
        let (b, mut rb) = acks.register();
        assert_eq!((a, b), (1, 2));
        assert_eq!(acks.awaited(), 2);
        let tx = acks.take(b).unwrap_or_else(|| panic!("awaited"));
        assert!(acks.take(b).is_none(), "once");
        assert!(acks.take(99).is_none());
        let _ = tx.send(AckReply {
            args: vec![json!(1)],
        });
        assert_eq!(rb.try_recv().map(|r| r.args).ok(), Some(vec![json!(1)]));
        acks.take(a);
        assert!(acks.waiting.is_none(), "no map kept when none is awaited");
        let (c, _) = acks.register();
        assert_eq!(c, 3, "ids are not reused");
    }

    #[test]
    fn clearing_tells_every_emitter() {
        let mut acks = Acks::default();
        let (_, mut r1) = acks.register();
        let (_, mut r2) = acks.register();
        acks.clear();
        assert!(r1.try_recv().is_err() && r2.try_recv().is_err());
        assert_eq!(acks.awaited(), 0);
    }

    #[tokio::test]
    async fn an_emit_resolves_with_the_clients_ack() {
        let fx = fixture(EngineConfig::default());
        let (conn, s) = fx.connect(json!({})).await;
        let s2 = s.clone();
        let asked = tokio::spawn(async move { s2.emit_with_ack("q", &"?", LONG).await });
        until(|| conn.queued_bytes() > 0).await;
        assert_eq!(sent(&conn), ["421[\"q\",\"?\"]"]);
        fx.text(&conn, "31[\"yes\",2]");
        let got = asked.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got.ok(), Some(vec![json!("yes"), json!(2)]));
        assert_eq!(lock(&s.inner.st).acks.awaited(), 0);
    }

    #[tokio::test]
    async fn an_unanswered_emit_times_out_and_is_forgotten() {
        let fx = fixture(EngineConfig::default());
        let (conn, s) = fx.connect(json!({})).await;
        let r = s.emit_with_ack("q", &1, Duration::ZERO).await;
        assert!(matches!(r, Err(AckError::Timeout)), "{r:?}");
        assert_eq!(lock(&s.inner.st).acks.awaited(), 0);
        // a late answer is dropped
        fx.text(&conn, "31[\"late\"]");
        assert!(!conn.is_closed());
    }

    #[tokio::test]
    async fn a_disconnect_ends_the_wait() {
        let fx = fixture(EngineConfig::default());
        let (_conn, s) = fx.connect(json!({})).await;
        let s2 = s.clone();
        let asked = tokio::spawn(async move { s2.emit_with_ack("q", &1, LONG).await });
        until(|| lock(&s.inner.st).acks.awaited() == 1).await;
        s.disconnect();
        let r = asked.await.unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(r, Err(AckError::Disconnected)), "{r:?}");
        let r = s.emit_with_ack("q", &1, LONG).await;
        assert!(matches!(r, Err(AckError::Emit(EmitError::Closed))), "{r:?}");
    }

    #[tokio::test]
    async fn a_clients_ack_request_is_answered_in_its_namespace() {
        let fx = fixture(EngineConfig::default());
        let (conn, _s) = fx.connect(json!({})).await;
        fx.text(&conn, "27[\"e\",2]");
        until(|| conn.queued_bytes() > 0).await;
        assert_eq!(sent(&conn), ["437[2]"]);
        fx.join(&conn, "/admin", json!({})).await;
        sent(&conn);
        fx.text(
            &conn,
            "51-/admin,8[\"b\",{\"_placeholder\":true,\"num\":0}]",
        );
        fx.binary(&conn, b"xyz");
        until(|| conn.queued_bytes() > 0).await;
        assert_eq!(
            sent(&conn),
            [
                "461-/admin,8[{\"_placeholder\":true,\"num\":0}]",
                "<binary 3>"
            ]
        );
    }

    #[tokio::test]
    async fn ack_sender_sends_one_value() {
        let fx = fixture(EngineConfig::default());
        let (conn, socket) = fx.connect(json!({})).await;
        let ack = AckSender { socket, id: 5 };
        assert_eq!(ack.id(), 5);
        ack.send(&json!({"ok": true}));
        assert_eq!(sent(&conn), ["435[{\"ok\":true}]"]);
    }
}
