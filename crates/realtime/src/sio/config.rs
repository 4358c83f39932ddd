//! The engine's settings ([`EngineConfig`]): Engine.IO's, and the Socket.IO
//! layer's own (path, connect timeout, inbound queue).

use std::time::Duration;

use crate::eio::EioConfig;

/// Engine settings (Engine.IO + Socket.IO).
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Where the engine is served, e.g. `/socket.io/`.
    pub path: String,
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    /// Largest payload accepted: a polling POST body or one websocket message.
    pub max_payload: usize,
    /// Exact origin allowed (with credentials); `"*"` = any origin, no credentials;
    /// `None` = same origin only.
    pub cors_origin: Option<String>,
    /// How long a client has to send its first Socket.IO CONNECT.
    pub connect_timeout: Duration,
    /// Slow-consumer policy: more bytes than this queued for one client closes it.
    pub outbound_limit_bytes: usize,
    /// Events of one socket waiting for its handler. At this many the engine
    /// stops reading from the client (backpressure, like socket.io's stream),
    /// and reads again once half are handled. `0` = unbounded.
    pub max_queued_events: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            path: "/socket.io/".into(),
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            max_payload: 1_000_000,
            cors_origin: None,
            connect_timeout: Duration::from_secs(45),
            outbound_limit_bytes: 4 * 1024 * 1024,
            max_queued_events: 128,
        }
    }
}

impl EngineConfig {
    /// The Engine.IO part.
    pub(super) fn eio(&self) -> EioConfig {
        EioConfig {
            ping_interval: self.ping_interval,
            ping_timeout: self.ping_timeout,
            max_payload: self.max_payload,
            cors_origin: self.cors_origin.clone(),
            outbound_limit_bytes: self.outbound_limit_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_socket_io_and_engine_io() {
        let c = EngineConfig::default();
        assert_eq!(c.path, "/socket.io/");
        assert_eq!(c.connect_timeout, Duration::from_secs(45));
        assert_eq!(c.max_queued_events, 128);
        let (ours, theirs) = (c.eio(), EioConfig::default());
        assert_eq!(ours.ping_interval, theirs.ping_interval);
        assert_eq!(ours.ping_timeout, theirs.ping_timeout);
        assert_eq!(ours.max_payload, theirs.max_payload);
        assert_eq!(ours.cors_origin, theirs.cors_origin);
        assert_eq!(ours.outbound_limit_bytes, theirs.outbound_limit_bytes);
    }

    #[test]
    fn the_engine_io_part_is_copied_over() {
        let c = EngineConfig {
            ping_interval: Duration::from_millis(1),
            ping_timeout: Duration::from_millis(2),
            max_payload: 3,
            cors_origin: Some("https://a.example".into()),
            outbound_limit_bytes: 4,
            ..EngineConfig::default()
        };
        let e = c.eio();
        assert_eq!(e.ping_interval, Duration::from_millis(1));
        assert_eq!(e.ping_timeout, Duration::from_millis(2));
        assert_eq!(e.max_payload, 3);
        assert_eq!(e.cors_origin.as_deref(), Some("https://a.example"));
        assert_eq!(e.outbound_limit_bytes, 4);
    }
}
