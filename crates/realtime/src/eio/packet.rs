//! Engine.IO v4 packets: the text form (`<type><data>`), binary messages, and the
//! HTTP long-polling payload (packets joined by the record separator `\x1e`, binary
//! ones as `b<base64>`).

use base64::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};

/// The record separator between packets of a polling payload.
pub const SEPARATOR: u8 = 0x1e;

/// One queued outbound Engine.IO packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A text packet, type character included (`4hello`, `2`, `6`…).
    Text(Bytes),
    /// A binary message (sent as-is over websocket, `b<base64>` over polling).
    Binary(Bytes),
}

impl Frame {
    /// Bytes this frame costs in the outbound queue.
    pub fn len(&self) -> usize {
        match self {
            Frame::Text(b) | Frame::Binary(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A `4<text>` message frame.
    pub fn message(text: &str) -> Frame {
        let mut b = BytesMut::with_capacity(text.len() + 1);
        b.put_u8(b'4');
        b.put_slice(text.as_bytes());
        Frame::Text(b.freeze())
    }
}

/// A packet received from a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    Close,
    /// `2` with its data (`probe` during an upgrade).
    Ping(Bytes),
    Pong(Bytes),
    /// A text message: the whole packet, leading `4` included (zero-copy echo).
    Message(Bytes),
    Binary(Bytes),
    Upgrade,
    Noop,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("empty packet")]
    Empty,
    #[error("unknown packet type {0:#x}")]
    UnknownType(u8),
    #[error("payload is not valid UTF-8")]
    Utf8,
    #[error("invalid base64 in a binary packet")]
    Base64,
}

/// Parses one text packet (its bytes must already be valid UTF-8).
pub fn parse_text(b: Bytes) -> Result<Packet, ParseError> {
    let Some(&t) = b.first() else {
        return Err(ParseError::Empty);
    };
    Ok(match t {
        b'1' => Packet::Close,
        b'2' => Packet::Ping(b.slice(1..)),
        b'3' => Packet::Pong(b.slice(1..)),
        b'4' => Packet::Message(b),
        b'5' => Packet::Upgrade,
        b'6' => Packet::Noop,
        other => return Err(ParseError::UnknownType(other)),
    })
}

/// Decodes an HTTP long-polling request body.
pub fn decode_payload(body: &Bytes) -> Result<Vec<Packet>, ParseError> {
    if std::str::from_utf8(body).is_err() {
        return Err(ParseError::Utf8);
    }
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let end = body[start..]
            .iter()
            .position(|&c| c == SEPARATOR)
            .map_or(body.len(), |p| start + p);
        let part = body.slice(start..end);
        if part.first() == Some(&b'b') {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(&part[1..])
                .map_err(|_| ParseError::Base64)?;
            out.push(Packet::Binary(Bytes::from(raw)));
        } else {
            out.push(parse_text(part)?);
        }
        if end >= body.len() {
            break;
        }
        start = end + 1;
    }
    Ok(out)
}

/// Encodes frames as an HTTP long-polling response body.
pub fn encode_payload<'a>(frames: impl IntoIterator<Item = &'a Frame>) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        if !out.is_empty() {
            out.push(SEPARATOR);
        }
        match f {
            Frame::Text(b) => out.extend_from_slice(b),
            Frame::Binary(b) => {
                out.push(b'b');
                let s = base64::engine::general_purpose::STANDARD.encode(b);
                out.extend_from_slice(s.as_bytes());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_packets() {
        assert_eq!(parse_text(Bytes::from_static(b"1")), Ok(Packet::Close));
        assert_eq!(
            parse_text(Bytes::from_static(b"2probe")),
            Ok(Packet::Ping(Bytes::from_static(b"probe")))
        );
        assert_eq!(
            parse_text(Bytes::from_static(b"3")),
            Ok(Packet::Pong(Bytes::new()))
        );
        assert_eq!(
            parse_text(Bytes::from_static(b"4hi")),
            Ok(Packet::Message(Bytes::from_static(b"4hi")))
        );
        assert_eq!(parse_text(Bytes::from_static(b"5")), Ok(Packet::Upgrade));
        assert_eq!(parse_text(Bytes::from_static(b"6")), Ok(Packet::Noop));
        assert_eq!(parse_text(Bytes::new()), Err(ParseError::Empty));
        assert_eq!(
            parse_text(Bytes::from_static(b"0{}")),
            Err(ParseError::UnknownType(b'0'))
        );
        assert_eq!(
            parse_text(Bytes::from_static(b"abc")),
            Err(ParseError::UnknownType(b'a'))
        );
    }

    #[test]
    fn decodes_polling_payloads() {
        let body = Bytes::from_static(b"4hello\x1ebAQIDBA==\x1e3");
        let p = decode_payload(&body).unwrap_or_default();
        assert_eq!(
            p,
            vec![
                Packet::Message(Bytes::from_static(b"4hello")),
                Packet::Binary(Bytes::from_static(&[1, 2, 3, 4])),
                Packet::Pong(Bytes::new()),
            ]
        );
        assert_eq!(
            decode_payload(&Bytes::from_static(b"4a\x1e")),
            Err(ParseError::Empty)
        );
        assert_eq!(
            decode_payload(&Bytes::from_static(b"b!!!")),
            Err(ParseError::Base64)
        );
        assert_eq!(
            decode_payload(&Bytes::from_static(&[b'4', 0xff])),
            Err(ParseError::Utf8)
        );
        assert_eq!(decode_payload(&Bytes::new()), Err(ParseError::Empty));
    }

    #[test]
    fn encodes_polling_payloads() {
        let frames = [
            Frame::message("hello"),
            Frame::Binary(Bytes::from_static(&[1, 2, 3, 4])),
            Frame::Text(Bytes::from_static(b"2")),
        ];
        assert_eq!(
            encode_payload(&frames),
            b"4hello\x1ebAQIDBA==\x1e2".to_vec()
        );
        assert_eq!(encode_payload(&[]), Vec::<u8>::new());
    }

    #[test]
    fn round_trips() {
        let frames = [
            Frame::message("a\u{e9}"),
            Frame::Binary(Bytes::from_static(b"\0\x1e")),
        ];
        let body = Bytes::from(encode_payload(&frames));
        let back = decode_payload(&body).unwrap_or_default();
        assert_eq!(
            back,
            vec![
                Packet::Message(Bytes::from("4a\u{e9}")),
                Packet::Binary(Bytes::from_static(b"\0\x1e"))
            ]
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut seed = 0x2545_f491_u32;
        for len in 0..200 {
            let mut v = Vec::with_capacity(len);
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let alphabet = b"0123456b\x1e=A/+\xff{";
                v.push(alphabet[(seed as usize) % alphabet.len()]);
            }
            let _ = decode_payload(&Bytes::from(v));
        }
    }
}
