//! Engine.IO settings, and the open packet that announces them to a client.

use std::time::Duration;

use bytes::Bytes;

/// Engine.IO settings.
#[derive(Clone, Debug)]
pub struct EioConfig {
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    pub max_payload: usize,
    /// Exact origin allowed with credentials; `"*"` allows any origin without credentials.
    pub cors_origin: Option<String>,
    pub outbound_limit_bytes: usize,
}

impl Default for EioConfig {
    fn default() -> Self {
        EioConfig {
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            max_payload: 1_000_000,
            cors_origin: None,
            outbound_limit_bytes: 4 * 1024 * 1024,
        }
    }
}

impl EioConfig {
    /// The open packet (`0{..}`) of session `sid`; `upgrades`: whether it may
    /// upgrade to a websocket (a polling session).
    pub(super) fn open_packet(&self, sid: &str, upgrades: bool) -> Bytes {
        Bytes::from(format!(
            "0{{\"sid\":\"{sid}\",\"upgrades\":[{}],\"pingInterval\":{},\"pingTimeout\":{},\"maxPayload\":{}}}",
            if upgrades { "\"websocket\"" } else { "" },
            self.ping_interval.as_millis(),
            self.ping_timeout.as_millis(),
            self.max_payload
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn json_of(b: &Bytes) -> Value {
        let s = std::str::from_utf8(b).unwrap_or_else(|e| panic!("{e}"));
        let body = s.strip_prefix('0').unwrap_or_else(|| panic!("no 0: {s}"));
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn defaults_are_the_reference_servers() {
        let c = EioConfig::default();
        assert_eq!(c.ping_interval, Duration::from_secs(25));
        assert_eq!(c.ping_timeout, Duration::from_secs(20));
        assert_eq!(c.max_payload, 1_000_000);
        assert_eq!(c.cors_origin, None);
        assert_eq!(c.outbound_limit_bytes, 4 * 1024 * 1024);
    }

    #[test]
    fn open_packet_announces_the_settings() {
        let c = EioConfig {
            ping_interval: Duration::from_millis(300),
            ping_timeout: Duration::from_millis(200),
            max_payload: 1234,
            ..EioConfig::default()
        };
        assert_eq!(
            json_of(&c.open_packet("abc", true)),
            json!({"sid": "abc", "upgrades": ["websocket"], "pingInterval": 300,
                   "pingTimeout": 200, "maxPayload": 1234})
        );
        assert_eq!(json_of(&c.open_packet("x", false))["upgrades"], json!([]));
    }
}
