//! Socket.IO v5 packets over Engine.IO messages:
//! `<type>[<attachments>-][<namespace>,][<ack id>][<json>]`.
//! Binary packets carry `{"_placeholder":true,"num":n}` in their JSON and their
//! attachments as the next `n` binary Engine.IO messages.

use std::io::Write as _;

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Connect = 0,
    Disconnect = 1,
    Event = 2,
    Ack = 3,
    ConnectError = 4,
    BinaryEvent = 5,
    BinaryAck = 6,
}

impl Kind {
    fn from_byte(b: u8) -> Option<Kind> {
        Some(match b {
            b'0' => Kind::Connect,
            b'1' => Kind::Disconnect,
            b'2' => Kind::Event,
            b'3' => Kind::Ack,
            b'4' => Kind::ConnectError,
            b'5' => Kind::BinaryEvent,
            b'6' => Kind::BinaryAck,
            _ => return None,
        })
    }

    fn is_binary(self) -> bool {
        matches!(self, Kind::BinaryEvent | Kind::BinaryAck)
    }
}

/// A decoded packet (attachments, if any, still to come).
#[derive(Clone, Debug, PartialEq)]
pub struct Packet {
    pub kind: Kind,
    pub nsp: String,
    pub id: Option<u64>,
    pub attachments: usize,
    pub data: Option<Value>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("empty packet")]
    Empty,
    #[error("unknown packet type")]
    Kind,
    #[error("illegal attachments")]
    Attachments,
    #[error("invalid ack id")]
    AckId,
    #[error("invalid JSON payload")]
    Json,
    #[error("payload invalid for this packet type")]
    Payload,
}

/// Most attachments one packet may announce.
pub const MAX_ATTACHMENTS: usize = 64;

/// Decodes a text packet (the Engine.IO message after its `4`).
pub fn decode(s: &str) -> Result<Packet, ParseError> {
    match decode_lenient(s)? {
        (p, false) => Ok(p),
        (_, true) => Err(ParseError::Json),
    }
}

/// Like [`decode`], but JSON whose only fault is a lone UTF-16 surrogate escape
/// (`"\ud83d"`: what a client that cut an emoji in half sends) is decoded with
/// U+FFFD in its place; the flag tells it was. The caller then refuses that one
/// packet instead of the whole connection.
pub fn decode_lenient(s: &str) -> Result<(Packet, bool), ParseError> {
    let b = s.as_bytes();
    let kind = Kind::from_byte(*b.first().ok_or(ParseError::Empty)?).ok_or(ParseError::Kind)?;
    let mut i = 1;
    let mut attachments = 0;
    if kind.is_binary() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || b.get(i) != Some(&b'-') {
            return Err(ParseError::Attachments);
        }
        attachments = s[start..i].parse().map_err(|_| ParseError::Attachments)?;
        if attachments > MAX_ATTACHMENTS {
            return Err(ParseError::Attachments);
        }
        i += 1;
    }
    let nsp = if b.get(i) == Some(&b'/') {
        let start = i;
        while i < b.len() && b[i] != b',' {
            i += 1;
        }
        let nsp = s[start..i].to_owned();
        if i < b.len() {
            i += 1; // the comma
        }
        nsp
    } else {
        "/".to_owned()
    };
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let id = if i > start {
        Some(s[start..i].parse::<u64>().map_err(|_| ParseError::AckId)?)
    } else {
        None
    };
    let rest = &s[i..];
    let mut replaced = false;
    let data = if rest.is_empty() {
        None
    } else {
        match serde_json::from_str::<Value>(rest) {
            Ok(v) => Some(v),
            Err(_) => {
                let fixed = replace_lone_surrogates(rest).ok_or(ParseError::Json)?;
                replaced = true;
                Some(serde_json::from_str::<Value>(&fixed).map_err(|_| ParseError::Json)?)
            }
        }
    };
    let valid = match kind {
        Kind::Connect => data.as_ref().is_none_or(Value::is_object),
        Kind::Disconnect => data.is_none(),
        Kind::ConnectError => false, // never from a client
        Kind::Event | Kind::BinaryEvent => matches!(
            &data,
            Some(Value::Array(a)) if a.first().is_some_and(Value::is_string)
        ),
        Kind::Ack | Kind::BinaryAck => id.is_some() && matches!(data, Some(Value::Array(_))),
    };
    if !valid {
        return Err(ParseError::Payload);
    }
    Ok((
        Packet {
            kind,
            nsp,
            id,
            attachments,
            data,
        },
        replaced,
    ))
}

/// The JSON text with every `\uXXXX` escape of an unpaired UTF-16 surrogate
/// replaced by `\ufffd`; `None` when it has none. Outside strings JSON has no
/// backslash, so escapes are recognised without tracking strings.
fn replace_lone_surrogates(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let unit = |at: usize| -> Option<u16> {
        if b.get(at) != Some(&b'\\') || b.get(at + 1) != Some(&b'u') {
            return None;
        }
        let h = b.get(at + 2..at + 6)?;
        if !h.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
    };
    let high = |u: u16| (0xD800..0xDC00).contains(&u);
    let low = |u: u16| (0xDC00..0xE000).contains(&u);
    let mut out: Option<String> = None;
    let (mut i, mut copied) = (0, 0);
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(u) = unit(i) else {
            i += 2; // any other escape (`\\`, `\"`, `\n`…), or not one at all
            continue;
        };
        if high(u) && unit(i + 6).is_some_and(low) {
            i += 12; // a proper pair
            continue;
        }
        if !high(u) && !low(u) {
            i += 6;
            continue;
        }
        let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
        o.push_str(&s[copied..i]);
        o.push_str("\\ufffd");
        i += 6;
        copied = i;
    }
    out.map(|mut o| {
        o.push_str(&s[copied..]);
        o
    })
}

/// A packet with all its attachments.
#[derive(Clone, Debug, PartialEq)]
pub struct Complete {
    pub packet: Packet,
    pub binary: Vec<Bytes>,
    /// Its JSON held a lone surrogate (see [`decode_lenient`]).
    pub invalid: bool,
}

/// Why an inbound message ends the connection.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AssembleError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("binary packet larger than maxPayload")]
    TooBig,
}

/// Reassembles binary packets: a text packet announcing `n` attachments, then
/// `n` binary messages. The whole packet (text and attachments) is held to
/// `max_bytes`; a text packet while attachments are awaited, or a binary
/// message nobody announced, is a protocol error.
#[derive(Debug)]
pub struct Reassembler {
    max_bytes: usize,
    partial: Option<(Complete, usize)>,
}

impl Reassembler {
    pub fn new(max_bytes: usize) -> Self {
        Reassembler {
            max_bytes,
            partial: None,
        }
    }

    /// A text message (after the Engine.IO `4`); `Some` when a packet is complete.
    pub fn text(&mut self, s: &str) -> Result<Option<Complete>, AssembleError> {
        if self.partial.is_some() {
            return Err(ParseError::Attachments.into());
        }
        let (packet, invalid) = decode_lenient(s)?;
        let complete = Complete {
            binary: Vec::with_capacity(packet.attachments),
            packet,
            invalid,
        };
        if complete.packet.attachments == 0 {
            return Ok(Some(complete));
        }
        if s.len() > self.max_bytes {
            return Err(AssembleError::TooBig);
        }
        self.partial = Some((complete, s.len()));
        Ok(None)
    }

    /// A binary message: the next attachment of the pending packet.
    pub fn binary(&mut self, b: Bytes) -> Result<Option<Complete>, AssembleError> {
        let Some((part, bytes)) = self.partial.as_mut() else {
            return Err(ParseError::Attachments.into());
        };
        *bytes = bytes.saturating_add(b.len());
        if *bytes > self.max_bytes {
            self.partial = None;
            return Err(AssembleError::TooBig);
        }
        part.binary.push(b);
        if part.binary.len() < part.packet.attachments {
            return Ok(None);
        }
        Ok(self.partial.take().map(|(c, _)| c))
    }

    /// Whether a packet awaits attachments.
    pub fn pending(&self) -> bool {
        self.partial.is_some()
    }

    /// Forgets a pending packet.
    pub fn reset(&mut self) {
        self.partial = None;
    }
}

/// The start of an outbound packet: Engine.IO `4`, type, attachments, namespace, id.
fn head(kind: Kind, nsp: &str, attachments: usize, id: Option<u64>, extra: usize) -> BytesMut {
    let mut b = BytesMut::with_capacity(8 + nsp.len() + extra);
    b.put_u8(b'4');
    b.put_u8(b'0' + kind as u8);
    if kind.is_binary() {
        b.put_slice(attachments.to_string().as_bytes());
        b.put_u8(b'-');
    }
    if nsp != "/" {
        b.put_slice(nsp.as_bytes());
        b.put_u8(b',');
    }
    if let Some(id) = id {
        b.put_slice(id.to_string().as_bytes());
    }
    b
}

/// `CONNECT` answer: `40[nsp,]{"sid":..}`.
pub fn connect(nsp: &str, sid: &str) -> Bytes {
    let mut b = head(Kind::Connect, nsp, 0, None, 32);
    b.put_slice(b"{\"sid\":");
    b.put_slice(Value::from(sid).to_string().as_bytes());
    b.put_u8(b'}');
    b.freeze()
}

/// `CONNECT_ERROR`: `44[nsp,]{"message":..}`.
pub fn connect_error(nsp: &str, message: &str) -> Bytes {
    let mut b = head(Kind::ConnectError, nsp, 0, None, 32);
    b.put_slice(b"{\"message\":");
    b.put_slice(Value::from(message).to_string().as_bytes());
    b.put_u8(b'}');
    b.freeze()
}

/// `DISCONNECT`: `41[nsp,]`.
pub fn disconnect(nsp: &str) -> Bytes {
    head(Kind::Disconnect, nsp, 0, None, 0).freeze()
}

/// An `EVENT` (or `BINARY_EVENT` when `attachments > 0`) with `[event, data]`.
pub fn event<T: Serialize + ?Sized>(
    nsp: &str,
    event: &str,
    data: &T,
    id: Option<u64>,
) -> Result<Bytes, serde_json::Error> {
    let mut w = head(Kind::Event, nsp, 0, id, 64).writer();
    serde_json::to_writer(&mut w, &(event, data))?;
    Ok(w.into_inner().freeze())
}

/// An event with any number of arguments; binary when `attachments > 0` (the
/// arguments then hold the placeholders).
pub fn event_args(
    nsp: &str,
    event: &str,
    args: &[Value],
    attachments: usize,
    id: Option<u64>,
) -> Result<Bytes, serde_json::Error> {
    let kind = if attachments > 0 {
        Kind::BinaryEvent
    } else {
        Kind::Event
    };
    let mut w = head(kind, nsp, attachments, id, 64).writer();
    w.write_all(b"[").map_err(serde_json::Error::io)?;
    serde_json::to_writer(&mut w, event)?;
    for a in args {
        w.write_all(b",").map_err(serde_json::Error::io)?;
        serde_json::to_writer(&mut w, a)?;
    }
    w.write_all(b"]").map_err(serde_json::Error::io)?;
    Ok(w.into_inner().freeze())
}

/// An `ACK` (or `BINARY_ACK`) carrying `args`.
pub fn ack(
    nsp: &str,
    id: u64,
    args: &[Value],
    attachments: usize,
) -> Result<Bytes, serde_json::Error> {
    let kind = if attachments > 0 {
        Kind::BinaryAck
    } else {
        Kind::Ack
    };
    let mut w = head(kind, nsp, attachments, Some(id), 32).writer();
    serde_json::to_writer(&mut w, args)?;
    Ok(w.into_inner().freeze())
}

/// An `ACK` with one serialisable value: `[value]`.
pub fn ack_value<T: Serialize + ?Sized>(
    nsp: &str,
    id: u64,
    value: &T,
) -> Result<Bytes, serde_json::Error> {
    let mut w = head(Kind::Ack, nsp, 0, Some(id), 32).writer();
    serde_json::to_writer(&mut w, &(value,))?;
    Ok(w.into_inner().freeze())
}

/// `{"_placeholder":true,"num":n}`.
pub fn placeholder(num: usize) -> Value {
    serde_json::json!({ "_placeholder": true, "num": num })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(s: &str) -> Packet {
        match decode(s) {
            Ok(p) => p,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn decodes_connect_variants() {
        let p = ok("0");
        assert_eq!((p.kind, p.nsp.as_str(), p.data), (Kind::Connect, "/", None));
        let p = ok("0/admin,{\"token\":\"x\"}");
        assert_eq!(p.nsp, "/admin");
        assert_eq!(p.data, Some(json!({"token":"x"})));
        let p = ok("0/random");
        assert_eq!((p.nsp.as_str(), p.data), ("/random", None));
        assert_eq!(decode("0[1]"), Err(ParseError::Payload));
        assert_eq!(decode("1{}"), Err(ParseError::Payload));
        assert_eq!(ok("1/custom,").kind, Kind::Disconnect);
    }

    #[test]
    fn decodes_events_and_acks() {
        let p = ok("2[\"message\",1,\"2\",{\"3\":[true]}]");
        assert_eq!(p.kind, Kind::Event);
        assert_eq!(p.id, None);
        let p = ok("2/chat,456[\"m\"]");
        assert_eq!((p.nsp.as_str(), p.id), ("/chat", Some(456)));
        let p = ok("3456[1,\"2\"]");
        assert_eq!((p.kind, p.id), (Kind::Ack, Some(456)));
        assert_eq!(decode("3[1]"), Err(ParseError::Payload));
        assert_eq!(decode("2{}"), Err(ParseError::Payload));
        assert_eq!(decode("2[]"), Err(ParseError::Payload));
        assert_eq!(decode("2[1]"), Err(ParseError::Payload));
        assert_eq!(decode("2abc[\"m\"]"), Err(ParseError::Json));
        assert_eq!(
            decode("299999999999999999999999[\"m\"]"),
            Err(ParseError::AckId)
        );
        assert_eq!(decode("abc"), Err(ParseError::Kind));
        assert_eq!(decode("4{\"message\":\"x\"}"), Err(ParseError::Payload));
        assert_eq!(decode(""), Err(ParseError::Empty));
    }

    #[test]
    fn decodes_binary_packets() {
        let p =
            ok("52-[\"m\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
        assert_eq!((p.kind, p.attachments), (Kind::BinaryEvent, 2));
        let p = ok("61-/x,7[{\"_placeholder\":true,\"num\":0}]");
        assert_eq!(
            (p.kind, p.attachments, p.nsp.as_str(), p.id),
            (Kind::BinaryAck, 1, "/x", Some(7))
        );
        assert_eq!(decode("5[\"m\"]"), Err(ParseError::Attachments));
        assert_eq!(decode("52[\"m\"]"), Err(ParseError::Attachments));
        assert_eq!(decode("5-[\"m\"]"), Err(ParseError::Attachments));
        assert_eq!(decode("5999-[\"m\"]"), Err(ParseError::Attachments));
    }

    #[test]
    fn lone_surrogates_decode_leniently() {
        let s = r#"2["m",{"t":"a\ud83d","ok":"\ud83d\ude00","esc":"\\ud83d","lo":"\ude00x"}]"#;
        assert_eq!(decode(s), Err(ParseError::Json));
        let (p, replaced) = decode_lenient(s).unwrap_or_else(|e| panic!("{e}"));
        assert!(replaced);
        assert_eq!(
            p.data,
            Some(
                json!(["m", {"t": "a\u{fffd}", "ok": "\u{1f600}", "esc": "\\ud83d", "lo": "\u{fffd}x"}])
            )
        );
        // a proper pair alone is no fault; other broken JSON stays broken
        assert_eq!(
            decode_lenient(r#"2["m","\ud83d\ude00"]"#).map(|r| r.1),
            Ok(false)
        );
        assert_eq!(decode_lenient(r#"2["m","\ud83d"#), Err(ParseError::Json));
        assert_eq!(decode_lenient(r#"2["m","\ud83d\"]"#), Err(ParseError::Json));
        assert_eq!(
            decode_lenient(r#"2["m","\uD83D\u"]"#),
            Err(ParseError::Json)
        );
    }

    #[test]
    fn encodes() -> Result<(), serde_json::Error> {
        assert_eq!(&connect("/", "abc")[..], b"40{\"sid\":\"abc\"}");
        assert_eq!(
            &connect("/custom", "abc")[..],
            b"40/custom,{\"sid\":\"abc\"}"
        );
        assert_eq!(
            &connect_error("/random", "Invalid namespace")[..],
            b"44/random,{\"message\":\"Invalid namespace\"}"
        );
        assert_eq!(&disconnect("/")[..], b"41");
        assert_eq!(&disconnect("/a")[..], b"41/a,");
        assert_eq!(
            &event("/", "auth", &json!({}), None)?[..],
            b"42[\"auth\",{}]"
        );
        assert_eq!(&event("/a", "e", &1, Some(9))?[..], b"42/a,9[\"e\",1]");
        let args = [placeholder(0), placeholder(1)];
        assert_eq!(
            &event_args("/", "message-back", &args, 2, None)?[..],
            b"452-[\"message-back\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]"
        );
        assert_eq!(
            &event_args("/", "m", &[json!(1)], 0, None)?[..],
            b"42[\"m\",1]"
        );
        assert_eq!(
            &ack("/", 456, &[json!(1), json!("2")], 0)?[..],
            b"43456[1,\"2\"]"
        );
        assert_eq!(
            &ack("/", 789, &args, 2)?[..],
            b"462-789[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]"
        );
        assert_eq!(
            &ack_value("/x", 3, &json!({"ok":true}))?[..],
            b"43/x,3[{\"ok\":true}]"
        );
        Ok(())
    }

    #[test]
    fn round_trip_through_decode() -> Result<(), serde_json::Error> {
        let b = event_args("/n", "e", &[json!([1, 2])], 0, Some(12))?;
        let s = std::str::from_utf8(&b[1..]).unwrap_or("");
        let p = ok(s);
        assert_eq!(
            (p.kind, p.nsp.as_str(), p.id),
            (Kind::Event, "/n", Some(12))
        );
        assert_eq!(p.data, Some(json!(["e", [1, 2]])));
        Ok(())
    }

    #[test]
    fn malformed_input_never_panics() {
        let alphabet = [
            "0", "1", "2", "3", "4", "5", "6", "/", ",", "-", "[", "]", "{", "}", "\"", "9", "é",
            "a",
        ];
        let mut seed = 12345u32;
        for len in 0..300 {
            let mut s = String::new();
            for _ in 0..(len % 24) {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                s.push_str(alphabet[(seed as usize) % alphabet.len()]);
            }
            let _ = decode(&s);
        }
    }
}
