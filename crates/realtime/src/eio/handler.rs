//! What the layer above Engine.IO sees: the [`EioHandler`] callbacks, the
//! [`Message`]s they get, why a session closed ([`CloseReason`]) and why a send
//! failed ([`SendError`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;

use super::Conn;

/// Why an Engine.IO connection closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// The client closed (close packet, websocket close, connection lost).
    TransportClose,
    /// A transport failure (I/O error, websocket protocol error, payload too large).
    TransportError,
    /// No pong within `ping_timeout`.
    PingTimeout,
    /// The client sent something that is not the protocol.
    ParseError,
    /// Closed by the server application.
    ServerClose,
    /// The server is shutting down.
    ServerShutdown,
    /// More than `outbound_limit_bytes` queued for the client.
    SlowConsumer,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::TransportClose => "transport close",
            CloseReason::TransportError => "transport error",
            CloseReason::PingTimeout => "ping timeout",
            CloseReason::ParseError => "parse error",
            CloseReason::ServerClose => "forced server close",
            CloseReason::ServerShutdown => "server shutting down",
            CloseReason::SlowConsumer => "slow consumer",
        }
    }

    /// Whether queued packets are still delivered before closing.
    pub(super) fn graceful(self) -> bool {
        matches!(self, CloseReason::ServerClose | CloseReason::ServerShutdown)
    }

    /// Whether a polling session lingers (briefly) for a poll to be told: the queue
    /// and a close packet after a server close, a noop after the client's close.
    pub(super) fn waits_for_poll(self) -> bool {
        self.graceful() || self == CloseReason::TransportClose
    }

    /// How long a polling session lingers for that poll.
    pub(super) fn linger(self, ping_timeout: Duration) -> Duration {
        let cap = if self.graceful() { 5 } else { 1 };
        ping_timeout.min(Duration::from_secs(cap))
    }
}

/// A message from the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// The whole text packet, leading `4` included.
    Text(Bytes),
    Binary(Bytes),
}

impl Message {
    /// The text of a text message (after the `4`).
    pub fn text(&self) -> Option<&str> {
        match self {
            Message::Text(b) => std::str::from_utf8(b.get(1..)?).ok(),
            Message::Binary(_) => None,
        }
    }
}

#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    #[error("connection closed")]
    Closed,
    #[error("slow consumer: outbound queue limit exceeded, connection closed")]
    SlowConsumer,
}

/// What the layer above Engine.IO does with connections. Callbacks are synchronous
/// and must not block: they run on the connection's reading path.
pub trait EioHandler: Send + Sync + Sized + 'static {
    /// Per-connection data of the layer above.
    type Data: Send + Sync + 'static;
    /// Makes the data from the handshake request.
    fn create(&self, headers: &HeaderMap, remote: Option<SocketAddr>) -> Self::Data;
    /// The session is open (its open packet is sent first).
    fn on_open(&self, _conn: &Arc<Conn<Self>>) {}
    fn on_message(&self, conn: &Arc<Conn<Self>>, msg: Message);
    /// The deadline set with [`Conn::set_deadline`] passed.
    fn on_deadline(&self, _conn: &Arc<Conn<Self>>) {}
    /// Once, after the connection is gone.
    fn on_close(&self, conn: &Arc<Conn<Self>>, reason: CloseReason);
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [CloseReason; 7] = [
        CloseReason::TransportClose,
        CloseReason::TransportError,
        CloseReason::PingTimeout,
        CloseReason::ParseError,
        CloseReason::ServerClose,
        CloseReason::ServerShutdown,
        CloseReason::SlowConsumer,
    ];

    #[test]
    fn only_server_closes_are_graceful() {
        let graceful: Vec<_> = ALL.into_iter().filter(|r| r.graceful()).collect();
        assert_eq!(
            graceful,
            [CloseReason::ServerClose, CloseReason::ServerShutdown]
        );
        let waits: Vec<_> = ALL.into_iter().filter(|r| r.waits_for_poll()).collect();
        assert_eq!(
            waits,
            [
                CloseReason::TransportClose,
                CloseReason::ServerClose,
                CloseReason::ServerShutdown
            ]
        );
    }

    #[test]
    fn linger_is_capped_by_ping_timeout() {
        let long = Duration::from_secs(20);
        assert_eq!(
            CloseReason::ServerClose.linger(long),
            Duration::from_secs(5)
        );
        assert_eq!(
            CloseReason::TransportClose.linger(long),
            Duration::from_secs(1)
        );
        let short = Duration::from_millis(300);
        assert_eq!(CloseReason::ServerShutdown.linger(short), short);
    }

    #[test]
    fn reasons_have_distinct_names() {
        let mut names: Vec<_> = ALL.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        assert_eq!(CloseReason::ServerClose.as_str(), "forced server close");
    }

    #[test]
    fn message_text_is_after_the_type() {
        assert_eq!(Message::Text(Bytes::from_static(b"4hi")).text(), Some("hi"));
        assert_eq!(Message::Text(Bytes::from_static(b"4")).text(), Some(""));
        assert_eq!(Message::Text(Bytes::new()).text(), None);
        assert_eq!(Message::Text(Bytes::from_static(b"4\xff")).text(), None);
        assert_eq!(Message::Binary(Bytes::from_static(b"4hi")).text(), None);
    }
}
