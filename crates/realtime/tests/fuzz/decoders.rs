//! One fuzz target per decoder a client reaches: Engine.IO payloads and text
//! packets, Socket.IO packets (strict and lenient), binary-packet reassembly,
//! and the websocket frame reader, each with the invariants it must keep.

use bytes::{Bytes, BytesMut};
use natter_realtime::eio::packet::{decode_payload, encode_payload, parse_text, Frame, Packet};
use natter_realtime::eio::ws::{WsEvent, WsReader};
use natter_realtime::sio_packet::{
    decode, decode_lenient, AssembleError, Reassembler, MAX_ATTACHMENTS,
};

use crate::harness::{fuzz, messages, JSON_TOKENS};

#[test]
fn fuzz_eio_payload_and_text_packets() {
    let mut dict: Vec<&[u8]> = JSON_TOKENS.to_vec();
    dict.extend_from_slice(&[
        b"\x1e", b"\x1eb", b"b", b"4", b"2probe", b"3", b"==", b"AQID", b"+/",
    ]);
    fuzz("eio-payload", &dict, |input| {
        let body = Bytes::copy_from_slice(input);
        if let Ok(packets) = decode_payload(&body) {
            assert!(std::str::from_utf8(input).is_ok(), "a payload is UTF-8");
            // what decodes re-encodes to a payload that decodes the same
            let frames: Option<Vec<Frame>> = packets
                .iter()
                .map(|p| match p {
                    Packet::Message(b) => Some(Frame::Text(b.clone())),
                    Packet::Binary(b) => Some(Frame::Binary(b.clone())),
                    _ => None,
                })
                .collect();
            if let Some(frames) = frames {
                let again = Bytes::from(encode_payload(&frames));
                assert_eq!(decode_payload(&again).ok(), Some(packets.clone()));
            }
            for p in &packets {
                if let Packet::Message(b) = p {
                    assert_eq!(b.first(), Some(&b'4'));
                }
            }
        }
        let _ = parse_text(body);
    });
}

#[test]
fn fuzz_sio_packet_decoder() {
    let mut dict: Vec<&[u8]> = JSON_TOKENS.to_vec();
    dict.extend_from_slice(&[
        b"0",
        b"2",
        b"3",
        b"5",
        b"6",
        b"1-",
        b"64-",
        b"/admin,",
        b"99999999999999999999",
    ]);
    fuzz("sio-packet", &dict, |input| {
        let Ok(s) = std::str::from_utf8(input) else {
            return;
        };
        let strict = decode(s);
        let lenient = decode_lenient(s);
        match (&strict, &lenient) {
            (Ok(p), Ok((q, replaced))) => {
                assert!(!replaced);
                assert_eq!(p, q);
            }
            (Err(_), Ok((_, replaced))) => assert!(*replaced, "lenient only differs on surrogates"),
            (Ok(_), Err(e)) => panic!("strict accepted what lenient refused: {e}"),
            (Err(_), Err(_)) => {}
        }
        if let Ok((p, _)) = lenient {
            assert!(p.attachments <= MAX_ATTACHMENTS);
            assert!(p.nsp.starts_with('/'));
        }
    });
}

#[test]
fn fuzz_sio_binary_reassembly() {
    let mut dict: Vec<&[u8]> = JSON_TOKENS.to_vec();
    dict.extend_from_slice(&[
        b"T\x00\x10",
        b"B\x00\x03abc",
        b"B\x01\x00",
        b"51-",
        b"52-",
        b"61-",
    ]);
    const MAX: usize = 300;
    fuzz("sio-reassembly", &dict, |input| {
        let mut r = Reassembler::new(MAX);
        for (kind, payload) in messages(input) {
            let res = if kind == b'B' {
                r.binary(Bytes::copy_from_slice(payload))
            } else {
                match std::str::from_utf8(payload) {
                    Ok(s) => r.text(s),
                    Err(_) => continue,
                }
            };
            match res {
                Ok(Some(c)) => {
                    assert_eq!(c.binary.len(), c.packet.attachments);
                    if c.packet.attachments > 0 {
                        let bytes: usize = c.binary.iter().map(Bytes::len).sum();
                        assert!(bytes <= MAX, "{bytes} bytes of attachments passed");
                    }
                    assert!(!r.pending());
                }
                Ok(None) => assert!(r.pending()),
                // the connection closes: what a connection does next is moot
                Err(AssembleError::TooBig) | Err(AssembleError::Parse(_)) => {
                    r.reset();
                }
            }
        }
    });
}

/// Every event (and the final error) of a byte stream read in `chunk`-byte pieces.
fn ws_events(input: &[u8], chunk: usize, max: usize) -> (Vec<WsEvent>, Option<String>) {
    let mut r = WsReader::default();
    let mut buf = BytesMut::new();
    let mut events = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            match r.next(&mut buf, max) {
                Ok(Some(ev)) => {
                    assert!(buf.len() < before, "an event consumes bytes");
                    events.push(ev);
                }
                Ok(None) => break,
                Err(e) => return (events, Some(e.to_string())),
            }
        }
        let _ = WsReader::needed(&buf);
    }
    (events, None)
}

#[test]
fn fuzz_websocket_frame_reader() {
    let dict: &[&[u8]] = &[
        b"\x81\x85",
        b"\x82\xfe\x01\x00",
        b"\x82\xff\x00\x00\x00\x00\x00\x00\x01\x00",
        b"\x01\x81",
        b"\x80\x81",
        b"\x89\x80",
        b"\x88\x82",
        b"\x8a\x80",
        b"\x01\x02\x03\x04",
        b"\x00\x00\x00\x00",
        b"\xff\xff",
        b"4",
        b"42[\"e\"]",
    ];
    const MAX: usize = 1_000;
    fuzz("ws-frames", dict, |input| {
        let whole = ws_events(input, input.len(), MAX);
        // the events do not depend on how the bytes arrive
        assert_eq!(ws_events(input, 1, MAX), whole);
        assert_eq!(ws_events(input, 7, MAX), whole);
        for ev in &whole.0 {
            match ev {
                WsEvent::Text(b) => {
                    assert!(b.len() <= MAX);
                    assert!(std::str::from_utf8(b).is_ok());
                }
                WsEvent::Binary(b) => assert!(b.len() <= MAX),
                WsEvent::Ping(p) => assert!(p.len() <= 125),
                WsEvent::Pong | WsEvent::Close => {}
            }
        }
    });
}
