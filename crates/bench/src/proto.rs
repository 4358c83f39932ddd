//! Engine.IO 4 / Socket.IO 5 text framing, just what the harness needs, and a
//! few byte-level field readers so the hot path (one `message:new` per
//! delivery) never builds a JSON tree.

use std::fmt::Write as _;

/// What one incoming websocket text frame is.
#[derive(Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    /// Engine.IO OPEN (`0{...}`).
    Open,
    /// Engine.IO PING (`2`): answer `3`.
    Ping,
    /// Socket.IO CONNECT answered (`40{"sid":..}`).
    Connected,
    /// Socket.IO CONNECT_ERROR (`44{"message":..}`), with the raw payload.
    ConnectError(&'a str),
    /// Socket.IO DISCONNECT (`41`) or Engine.IO CLOSE (`1`).
    Closed,
    /// Socket.IO EVENT without ack id: `42["name",...]`; `name` and the whole array.
    Event { name: &'a str, body: &'a str },
    /// Socket.IO ACK `43<id>[...]`.
    Ack { id: u64, body: &'a str },
    /// Anything else (noop, pong, binary placeholders…).
    Other,
}

pub fn parse(frame: &str) -> Packet<'_> {
    let b = frame.as_bytes();
    match b.first() {
        Some(b'0') => Packet::Open,
        Some(b'2') => Packet::Ping,
        Some(b'1') => Packet::Closed,
        Some(b'4') => match b.get(1) {
            Some(b'0') => Packet::Connected,
            Some(b'1') => Packet::Closed,
            Some(b'4') => Packet::ConnectError(&frame[2..]),
            Some(b'2') => {
                let rest = &frame[2..];
                // An event may carry an ack id (server → client events with ack are
                // not used by the scenarios); skip digits.
                let start = rest.find('[').unwrap_or(rest.len());
                let body = &rest[start..];
                Packet::Event {
                    name: event_name(body).unwrap_or(""),
                    body,
                }
            }
            Some(b'3') => {
                let rest = &frame[2..];
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                let id = rest[..digits].parse().unwrap_or(0);
                Packet::Ack {
                    id,
                    body: &rest[digits..],
                }
            }
            _ => Packet::Other,
        },
        _ => Packet::Other,
    }
}

/// `["name", ...]` → `name` (event names never hold escapes).
fn event_name(body: &str) -> Option<&str> {
    let rest = body.strip_prefix("[\"")?;
    let end = rest.find('"')?;
    Some(&rest[..end])
}

/// The unsigned integer right after `key` (e.g. `"eventSeq":`).
pub fn num_after(s: &str, key: &str) -> Option<u64> {
    let at = s.find(key)? + key.len();
    let rest = s[at..].trim_start_matches([' ', '"']);
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest[..digits].parse().ok()
}

/// The string value right after `key` (e.g. `"roomId":"`), without escapes.
pub fn str_after<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let at = s.find(key)? + key.len();
    let rest = &s[at..];
    let end = rest.find('"')?;
    Some(&rest[..end])
}

/// The harness's content stamp: `t=<unix nanos>|s=<step>|` then padding.
pub fn stamp(t_ns: u64, step: u32, total_len: usize) -> String {
    let mut s = String::with_capacity(total_len.max(32));
    let _ = write!(s, "t={t_ns}|s={step}|");
    while s.len() < total_len {
        s.push('x');
    }
    s
}

/// Reads a stamp back out of a `message:new` body: (send time, step).
pub fn read_stamp(body: &str) -> Option<(u64, u32)> {
    let at = body.find("\"content\":\"t=")? + "\"content\":\"t=".len();
    let rest = &body[at..];
    let d = rest.bytes().take_while(u8::is_ascii_digit).count();
    let t = rest[..d].parse().ok()?;
    let rest = rest[d..].strip_prefix("|s=")?;
    let d2 = rest.bytes().take_while(u8::is_ascii_digit).count();
    let step = rest[..d2].parse().ok()?;
    Some((t, step))
}

/// `42<ack>["name",<data>]`.
pub fn emit(ack: Option<u64>, name: &str, data: &serde_json::Value) -> String {
    match ack {
        Some(id) => format!("42{id}[\"{name}\",{data}]"),
        None => format!("42[\"{name}\",{data}]"),
    }
}

/// `message:send` framed without building a JSON tree (ids and stamps need no escaping).
pub fn message_send(ack: u64, room_id: &str, content: &str) -> String {
    let name = natter_core::events::ClientEventName::MessageSend.as_str();
    format!("42{ack}[\"{name}\",{{\"roomId\":\"{room_id}\",\"content\":\"{content}\"}}]")
}

/// An ack body `[{...}]` says ok?
pub fn ack_ok(body: &str) -> bool {
    body.starts_with("[{\"ok\":true") || body.contains("\"ok\":true")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_packets_the_harness_meets() {
        assert_eq!(parse("2"), Packet::Ping);
        assert_eq!(parse("40{\"sid\":\"x\"}"), Packet::Connected);
        assert_eq!(
            parse("44{\"message\":\"Invalid token\"}"),
            Packet::ConnectError("{\"message\":\"Invalid token\"}")
        );
        assert_eq!(
            parse("4317[{\"ok\":true}]"),
            Packet::Ack {
                id: 17,
                body: "[{\"ok\":true}]"
            }
        );
        match parse(
            "42[\"message:new\",{\"roomId\":\"3\",\"content\":\"t=12|s=4|xx\",\"eventSeq\":9}]",
        ) {
            Packet::Event { name, body } => {
                assert_eq!(name, "message:new");
                assert_eq!(read_stamp(body), Some((12, 4)));
                assert_eq!(num_after(body, "\"eventSeq\":"), Some(9));
                assert_eq!(str_after(body, "\"roomId\":\""), Some("3"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stamps_pad_to_the_asked_length() {
        let s = stamp(123, 2, 100);
        assert_eq!(s.len(), 100);
        let framed = format!("{{\"content\":\"{s}\"}}");
        assert_eq!(read_stamp(&framed), Some((123, 2)));
    }
}
