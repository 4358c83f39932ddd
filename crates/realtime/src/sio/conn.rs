//! A client's Engine.IO connection as the Socket.IO layer sees it: [`Sio`] is
//! the [`EioHandler`] that turns messages into packets (reassembling binary
//! ones) and packets into socket jobs, per connection ([`ConnData`]: the kept
//! handshake headers and the sockets of each namespace).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::HeaderMap;
use serde_json::Value;
use tokio::time::Instant;

use super::engine::Shared;
use super::handler::{DisconnectReason, Event};
use super::packet::{self, AssembleError as Inbound, Kind};
use super::socket::SocketRef;
use super::worker::Job;
use crate::eio::{lock, read, write, CloseReason, Conn, EioHandler, Frame, Message};

/// Per-connection Socket.IO data.
pub(crate) struct ConnData {
    pub(super) headers: HeaderMap,
    pub(super) remote: Option<SocketAddr>,
    st: Mutex<ConnSio>,
}

struct ConnSio {
    sockets: Vec<SocketRef>,
    /// Binary packets waiting for their attachments.
    reassembler: packet::Reassembler,
}

impl ConnData {
    /// The socket of this connection in namespace `nsp`.
    pub(super) fn socket(&self, nsp: &str) -> Option<SocketRef> {
        lock(&self.st)
            .sockets
            .iter()
            .find(|s| &*s.inner.ns.path == nsp)
            .cloned()
    }

    /// Forgets a socket; `true` when that left the connection with none.
    pub(super) fn remove(&self, socket: &SocketRef) -> bool {
        let mut st = lock(&self.st);
        let before = st.sockets.len();
        st.sockets.retain(|s| !Arc::ptr_eq(&s.inner, &socket.inner));
        before != st.sockets.len() && st.sockets.is_empty()
    }
}

pub(super) type EConn = Conn<Sio>;

pub(crate) struct Sio {
    pub(super) shared: Arc<Shared>,
}

/// Request headers worth keeping for `connect` (auth, origin checks, logging).
const KEPT_HEADERS: [&str; 12] = [
    "cookie",
    "authorization",
    "origin",
    "user-agent",
    "x-forwarded-for",
    "x-real-ip",
    "accept-language",
    // for cross-site checks of cookie-authenticated handshakes
    "host",
    "sec-fetch-site",
    "x-forwarded-host",
    "x-forwarded-proto",
    "forwarded",
];

impl EioHandler for Sio {
    type Data = ConnData;

    fn create(&self, headers: &HeaderMap, remote: Option<SocketAddr>) -> ConnData {
        let mut kept = HeaderMap::new();
        for name in KEPT_HEADERS {
            for v in headers.get_all(name) {
                kept.append(name, v.clone());
            }
        }
        ConnData {
            headers: kept,
            remote,
            st: Mutex::new(ConnSio {
                sockets: Vec::new(),
                reassembler: packet::Reassembler::new(self.shared.config.max_payload),
            }),
        }
    }

    fn on_open(&self, conn: &Arc<EConn>) {
        conn.set_deadline(Some(Instant::now() + self.shared.config.connect_timeout));
    }

    fn on_deadline(&self, conn: &Arc<EConn>) {
        if lock(&conn.data().st).sockets.is_empty() {
            tracing::debug!(sid = conn.sid(), "no CONNECT in time: closing");
            conn.close(CloseReason::ServerClose);
        }
    }

    fn on_message(&self, conn: &Arc<EConn>, msg: Message) {
        match self.message(conn, msg) {
            Ok(()) => {}
            Err(Inbound::Parse(e)) => {
                tracing::debug!(sid = conn.sid(), error = %e, "invalid socket.io packet: closing");
                conn.close(CloseReason::ParseError);
            }
            Err(Inbound::TooBig) => {
                tracing::debug!(sid = conn.sid(), "binary packet over maxPayload: closing");
                conn.close(CloseReason::TransportError);
            }
        }
    }

    fn on_close(&self, conn: &Arc<EConn>, reason: CloseReason) {
        let sockets = {
            let mut st = lock(&conn.data().st);
            st.reassembler.reset();
            std::mem::take(&mut st.sockets)
        };
        for s in sockets {
            s.gone(reason.into());
        }
    }
}

impl Sio {
    fn message(&self, conn: &Arc<EConn>, msg: Message) -> Result<(), Inbound> {
        let data = conn.data();
        let done = match msg {
            Message::Text(_) => {
                let text = msg.text().ok_or(packet::ParseError::Empty)?;
                lock(&data.st).reassembler.text(text)?
            }
            Message::Binary(b) => lock(&data.st).reassembler.binary(b)?,
        };
        match done {
            Some(c) => self.dispatch(conn, c.packet, c.binary, c.invalid),
            None => Ok(()),
        }
    }

    /// `invalid`: the JSON held a lone surrogate (replaced by U+FFFD in `p`).
    fn dispatch(
        &self,
        conn: &Arc<EConn>,
        p: packet::Packet,
        binary: Vec<Bytes>,
        invalid: bool,
    ) -> Result<(), Inbound> {
        let data = conn.data();
        match p.kind {
            Kind::Connect => {
                let ns = read(&self.shared.namespaces).get(&p.nsp).cloned();
                let Some(ns) = ns else {
                    let _ = conn.send(Frame::Text(packet::connect_error(
                        &p.nsp,
                        "Invalid namespace",
                    )));
                    return Ok(());
                };
                let socket = {
                    let mut st = lock(&data.st);
                    if st.sockets.iter().any(|s| s.inner.ns.path == ns.path) {
                        return Ok(()); // already connected there
                    }
                    let socket = SocketRef::new(ns.clone(), conn.clone());
                    st.sockets.push(socket.clone());
                    socket
                };
                conn.set_deadline(None);
                write(&ns.sockets).insert(socket.inner.id.clone(), socket.clone());
                socket.push_job(Job::Connect(p.data));
            }
            Kind::Disconnect => {
                if let Some(s) = data.socket(&p.nsp) {
                    s.detach();
                    s.gone(DisconnectReason::ClientNamespaceDisconnect);
                }
            }
            Kind::Event | Kind::BinaryEvent => {
                let Some(s) = data.socket(&p.nsp) else {
                    return Ok(()); // not connected to that namespace: ignored
                };
                let Some(Value::Array(mut args)) = p.data else {
                    return Err(packet::ParseError::Payload.into());
                };
                let name = match args.first() {
                    Some(Value::String(_)) => match args.remove(0) {
                        Value::String(n) => n,
                        _ => return Err(packet::ParseError::Payload.into()),
                    },
                    _ => return Err(packet::ParseError::Payload.into()),
                };
                if invalid {
                    s.push_job(Job::Invalid(name, p.id));
                } else {
                    s.push_job(Job::Event(Event { name, args, binary }, p.id));
                }
            }
            Kind::Ack | Kind::BinaryAck => {
                if let (Some(s), Some(id), Some(Value::Array(args))) =
                    (data.socket(&p.nsp), p.id, p.data)
                {
                    s.resolve_ack(id, args);
                }
            }
            Kind::ConnectError => return Err(packet::ParseError::Payload.into()),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sio::testing::{fixture, sent, until};
    use crate::sio::EngineConfig;
    use serde_json::json;

    fn closed_for(conn: &EConn) -> bool {
        conn.is_closed()
    }

    #[test]
    fn only_the_headers_an_application_needs_are_kept() {
        let fx = fixture(EngineConfig::default());
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("cookie", "a=1"),
            ("cookie", "b=2"),
            ("origin", "https://x.example"),
            ("x-secret", "no"),
            ("content-length", "3"),
        ] {
            h.append(k, v.parse().unwrap_or_else(|e| panic!("{e}")));
        }
        let data = fx.engine.eio.handler().create(&h, None);
        assert_eq!(data.headers.get_all("cookie").iter().count(), 2);
        assert!(data.headers.get("origin").is_some());
        assert!(data.headers.get("x-secret").is_none());
        assert_eq!(data.headers.len(), 3);
    }

    #[tokio::test]
    async fn connects_once_per_known_namespace() {
        let fx = fixture(EngineConfig::default());
        let conn = fx.conn();
        fx.text(&conn, "0/nope,");
        assert_eq!(sent(&conn), ["44/nope,{\"message\":\"Invalid namespace\"}"]);
        let a = fx.join(&conn, "/", json!({})).await;
        fx.text(&conn, "0");
        let b = fx.join(&conn, "/admin", json!({})).await;
        until(|| fx.engine.local_socket_count("/") == 1).await;
        assert_eq!(
            fx.engine.local_socket_count("/"),
            1,
            "a second CONNECT is ignored"
        );
        assert_eq!(fx.engine.local_socket_count("/admin"), 1);
        assert_ne!(a.id(), b.id());
        assert!(!closed_for(&conn));
    }

    #[tokio::test]
    async fn packets_for_unconnected_namespaces_are_ignored() {
        let fx = fixture(EngineConfig::default());
        let conn = fx.conn();
        fx.text(&conn, "2/admin,[\"e\"]");
        fx.text(&conn, "31[1]");
        fx.text(&conn, "1/admin,");
        assert!(!closed_for(&conn));
        assert!(sent(&conn).is_empty());
    }

    #[tokio::test]
    async fn what_is_not_the_protocol_closes_the_connection() {
        let fx = fixture(EngineConfig {
            max_payload: 50,
            ..EngineConfig::default()
        });
        for bad in ["4{\"message\":\"x\"}", "2{}", "9", ""] {
            let conn = fx.conn();
            fx.text(&conn, bad);
            assert!(closed_for(&conn), "{bad:?}");
        }
        // a binary message nobody announced
        let conn = fx.conn();
        fx.binary(&conn, b"x");
        assert!(closed_for(&conn));
        // attachments past maxPayload
        let conn = fx.conn();
        fx.text(&conn, "51-[\"b\",{\"_placeholder\":true,\"num\":0}]");
        fx.binary(&conn, &[0; 40]);
        assert!(closed_for(&conn));
    }

    #[tokio::test]
    async fn the_connect_deadline_closes_only_connections_without_sockets() {
        let fx = fixture(EngineConfig::default());
        let lonely = fx.conn();
        let (busy, _s) = fx.connect(json!({})).await;
        for c in [&lonely, &busy] {
            fx.engine.eio.handler().on_deadline(c);
        }
        assert!(closed_for(&lonely));
        assert!(!closed_for(&busy));
    }

    #[tokio::test]
    async fn a_client_disconnect_ends_that_socket_only() {
        let fx = fixture(EngineConfig::default());
        let (conn, root) = fx.connect(json!({})).await;
        let admin = fx.join(&conn, "/admin", json!({})).await;
        fx.text(&conn, "1/admin,");
        until(|| !fx.seen().is_empty()).await;
        assert_eq!(fx.seen(), ["disconnect /admin client namespace disconnect"]);
        assert!(!admin.connected() && root.connected());
        assert!(conn.data().socket("/admin").is_none());
    }

    #[tokio::test]
    async fn a_binary_event_reaches_the_handler_whole() {
        let fx = fixture(EngineConfig::default());
        let (conn, _s) = fx.connect(json!({})).await;
        let p = "{\"_placeholder\":true,\"num\":0}";
        fx.text(
            &conn,
            &format!("52-[\"up\",{p},{{\"_placeholder\":true,\"num\":1}}]"),
        );
        fx.binary(&conn, b"ab");
        assert!(fx.seen().is_empty());
        fx.binary(&conn, b"cde");
        until(|| fx.seen().len() == 1).await;
        assert!(fx.seen()[0].starts_with("up [{\"_placeholder\""));
        assert!(fx.seen()[0].ends_with(" 2"), "{:?}", fx.seen());
    }

    #[tokio::test]
    async fn closing_the_connection_ends_every_socket() {
        let fx = fixture(EngineConfig::default());
        let (conn, _root) = fx.connect(json!({})).await;
        fx.join(&conn, "/admin", json!({})).await;
        fx.engine
            .eio
            .handler()
            .on_close(&conn, CloseReason::TransportError);
        until(|| fx.seen().len() == 2).await;
        let mut seen = fx.seen();
        seen.sort();
        assert_eq!(
            seen,
            [
                "disconnect / transport error",
                "disconnect /admin transport error"
            ]
        );
        assert_eq!(fx.engine.local_socket_count("/"), 0);
    }
}
