//! The application's side of the engine: the [`Handler`] trait of a namespace
//! and what it is given ([`ConnectInfo`], [`Event`], [`DisconnectReason`]) or
//! may return ([`ConnectError`]), and what emitting can fail with.

use std::future::Future;
use std::net::SocketAddr;

use bytes::Bytes;
use http::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::acks::AckSender;
use super::socket::{Socket, SocketRef};
use crate::eio::{self, CloseReason};

/// What the handshake knew. Lent to `connect`, then dropped.
pub struct ConnectInfo<'a> {
    pub namespace: &'a str,
    /// The CONNECT packet's payload.
    pub auth: Option<&'a Value>,
    /// Headers of the handshake request (only those an application needs are
    /// kept: cookie, authorization, origin, user-agent, forwarding headers).
    pub headers: &'a HeaderMap,
    pub remote_addr: Option<SocketAddr>,
}

/// Refuses a connection: the client gets `CONNECT_ERROR {"message": ..}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectError(pub String);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

/// A namespace's application handlers.
pub trait Handler: Send + Sync + 'static {
    /// Per-socket state (e.g. the authenticated user), made by `connect`.
    type State: Send + Sync + 'static;
    /// Runs before CONNECT is answered. May `socket.join(..)` rooms and emit (what
    /// it emits is delivered right after the CONNECT). Err → CONNECT_ERROR.
    fn connect(
        &self,
        socket: &SocketRef,
        info: ConnectInfo<'_>,
    ) -> impl Future<Output = Result<Self::State, ConnectError>> + Send;
    /// One call per EVENT / BINARY_EVENT. For one socket, calls run one at a time in
    /// arrival order, never blocking that socket's writes/pings nor other sockets.
    fn event(
        &self,
        socket: &Socket<Self::State>,
        event: Event,
        ack: Option<AckSender>,
    ) -> impl Future<Output = ()> + Send;
    /// Once, after the socket is gone (rooms already left).
    fn disconnect(
        &self,
        socket: &Socket<Self::State>,
        reason: DisconnectReason,
    ) -> impl Future<Output = ()> + Send;
    /// An EVENT the engine refused on its own: its JSON holds a lone UTF-16
    /// surrogate escape (`"\ud83d"`, a cut emoji). Runs in the event's place in
    /// the order; the connection stays up. The default drops it (no ack).
    fn invalid_event(
        &self,
        _socket: &Socket<Self::State>,
        _name: String,
        _ack: Option<AckSender>,
    ) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// An event from a client.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub name: String,
    /// The arguments after the name; binary placeholders
    /// (`{"_placeholder":true,"num":n}`) are left as they are.
    pub args: Vec<Value>,
    /// The binary attachments, by placeholder number.
    pub binary: Vec<Bytes>,
}

impl Event {
    /// The first argument deserialised (missing → `null`), for the `(data, ack)` shape.
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match self.args.first() {
            Some(v) => T::deserialize(v),
            None => T::deserialize(&Value::Null),
        }
    }
}

/// Why a socket left its namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The client sent DISCONNECT for the namespace.
    ClientNamespaceDisconnect,
    /// The server called `disconnect`.
    ServerNamespaceDisconnect,
    TransportClose,
    TransportError,
    PingTimeout,
    ParseError,
    ServerShutdown,
    /// The outbound queue went over `outbound_limit_bytes`.
    SlowConsumer,
    ForcedServerClose,
}

impl DisconnectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ServerShutdown => "server shutting down",
            DisconnectReason::SlowConsumer => "slow consumer",
            DisconnectReason::ForcedServerClose => "forced server close",
        }
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<CloseReason> for DisconnectReason {
    fn from(r: CloseReason) -> Self {
        match r {
            CloseReason::TransportClose => DisconnectReason::TransportClose,
            CloseReason::TransportError => DisconnectReason::TransportError,
            CloseReason::PingTimeout => DisconnectReason::PingTimeout,
            CloseReason::ParseError => DisconnectReason::ParseError,
            CloseReason::ServerClose => DisconnectReason::ForcedServerClose,
            CloseReason::ServerShutdown => DisconnectReason::ServerShutdown,
            CloseReason::SlowConsumer => DisconnectReason::SlowConsumer,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error("could not encode the payload: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("socket disconnected")]
    Closed,
    #[error("slow consumer: the client was disconnected")]
    SlowConsumer,
}

impl From<eio::SendError> for EmitError {
    fn from(e: eio::SendError) -> Self {
        match e {
            eio::SendError::Closed => EmitError::Closed,
            eio::SendError::SlowConsumer => EmitError::SlowConsumer,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AckError {
    #[error("no ack within the timeout")]
    Timeout,
    #[error("socket disconnected before acknowledging")]
    Disconnected,
    #[error(transparent)]
    Emit(#[from] EmitError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_data_is_the_first_argument() {
        let e = Event {
            name: "m".into(),
            args: vec![json!({"n": 1}), json!("ignored")],
            binary: Vec::new(),
        };
        let v: Value = e.data().unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(v, json!({"n": 1}));
        let none = Event {
            args: Vec::new(),
            ..e.clone()
        };
        assert_eq!(
            none.data::<Option<u32>>().ok(),
            Some(None),
            "missing is null"
        );
        assert!(e.data::<String>().is_err());
    }

    #[test]
    fn close_reasons_map_to_disconnect_reasons() {
        let cases = [
            (
                CloseReason::TransportClose,
                DisconnectReason::TransportClose,
            ),
            (
                CloseReason::TransportError,
                DisconnectReason::TransportError,
            ),
            (CloseReason::PingTimeout, DisconnectReason::PingTimeout),
            (CloseReason::ParseError, DisconnectReason::ParseError),
            (
                CloseReason::ServerClose,
                DisconnectReason::ForcedServerClose,
            ),
            (
                CloseReason::ServerShutdown,
                DisconnectReason::ServerShutdown,
            ),
            (CloseReason::SlowConsumer, DisconnectReason::SlowConsumer),
        ];
        for (close, reason) in cases {
            assert_eq!(DisconnectReason::from(close), reason);
            // the names socket.io clients know
            assert_eq!(reason.as_str(), close.as_str());
            assert_eq!(reason.to_string(), close.as_str());
        }
        assert_eq!(
            DisconnectReason::ClientNamespaceDisconnect.as_str(),
            "client namespace disconnect"
        );
    }

    #[test]
    fn send_errors_become_emit_errors() {
        assert!(matches!(
            EmitError::from(eio::SendError::Closed),
            EmitError::Closed
        ));
        assert!(matches!(
            EmitError::from(eio::SendError::SlowConsumer),
            EmitError::SlowConsumer
        ));
        assert_eq!(ConnectError("no".into()).to_string(), "no");
        let ack: AckError = EmitError::Closed.into();
        assert_eq!(ack.to_string(), "socket disconnected");
    }
}
