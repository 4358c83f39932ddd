//! Time-bounded mutation fuzzing of the decoders a client reaches, on stable
//! Rust (`cargo fuzz` needs nightly): the Engine.IO text packet and polling
//! payload decoders, the Socket.IO packet decoder, binary-packet reassembly and
//! the websocket frame reader. Each target starts from the committed seed
//! corpus of real packets in `fuzz-corpus/<target>/` and mutates it (bit flips,
//! protocol tokens, splices, cuts) for `NATTER_FUZZ_SECS` seconds (default 5),
//! checking that nothing panics or hangs and that each decoder's invariants
//! hold. A failure prints the seed (`NATTER_FUZZ_SEED` replays the run) and the
//! input; add that input to the corpus with the fix.

mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use natter_realtime::eio::packet::{decode_payload, encode_payload, parse_text, Frame, Packet};
use natter_realtime::eio::ws::{WsEvent, WsReader};
use natter_realtime::sio_packet::{
    decode, decode_lenient, AssembleError, Reassembler, MAX_ATTACHMENTS,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::{listen, masked_frame};

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz-corpus")
        .join(target);
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read(e.path()).ok())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "empty corpus {}", dir.display());
    out
}

fn budget() -> Duration {
    let secs = std::env::var("NATTER_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(5.0);
    Duration::from_secs_f64(secs.max(0.0))
}

fn seed() -> u64 {
    std::env::var("NATTER_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random)
}

/// One mutation of `v`.
fn mutate(rng: &mut StdRng, v: &mut Vec<u8>, seeds: &[Vec<u8>], dict: &[&[u8]]) {
    let at = |rng: &mut StdRng, v: &Vec<u8>| rng.random_range(0..=v.len());
    match rng.random_range(0..9) {
        0 if !v.is_empty() => {
            let i = rng.random_range(0..v.len());
            v[i] ^= 1 << rng.random_range(0..8);
        }
        1 if !v.is_empty() => {
            let i = rng.random_range(0..v.len());
            v[i] = *[
                0u8, 0x7f, 0x80, 0xff, b'"', b'\\', b'[', b'{', b'0', b'9', 0x1e,
            ]
            .get(rng.random_range(0..11))
            .unwrap_or(&0);
        }
        2 | 3 => {
            let tok = dict[rng.random_range(0..dict.len())];
            let i = at(rng, v);
            v.splice(i..i, tok.iter().copied());
        }
        4 if !v.is_empty() => {
            let i = rng.random_range(0..v.len());
            let n = rng.random_range(1..=(v.len() - i).min(16));
            v.drain(i..i + n);
        }
        5 if !v.is_empty() => {
            let i = rng.random_range(0..v.len());
            let n = rng.random_range(1..=(v.len() - i).min(32));
            let chunk: Vec<u8> = v[i..i + n].to_vec();
            let j = at(rng, v);
            v.splice(j..j, chunk);
        }
        6 => {
            let other = &seeds[rng.random_range(0..seeds.len())];
            let cut = rng.random_range(0..=other.len());
            let i = at(rng, v);
            v.truncate(i);
            v.extend_from_slice(&other[cut..]);
        }
        7 if !v.is_empty() => {
            let i = rng.random_range(0..v.len());
            v.truncate(i);
        }
        _ => {
            let i = at(rng, v);
            let n = rng.random_range(1..8);
            let junk: Vec<u8> = (0..n).map(|_| rng.random()).collect();
            v.splice(i..i, junk);
        }
    }
    v.truncate(64 * 1024);
}

/// Runs `check` on the seeds, then on mutants of them until the budget is spent.
fn fuzz(target: &str, dict: &[&[u8]], check: impl Fn(&[u8])) {
    let seeds = corpus(target);
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let run = |input: &[u8]| {
        if catch_unwind(AssertUnwindSafe(|| check(input))).is_err() {
            panic!(
                "{target}: failed on input {:?} (hex {}); replay with NATTER_FUZZ_SEED={seed}",
                String::from_utf8_lossy(input),
                input.iter().map(|b| format!("{b:02x}")).collect::<String>()
            );
        }
    };
    for s in &seeds {
        run(s);
    }
    let until = Instant::now() + budget();
    let mut runs = 0u64;
    while Instant::now() < until {
        for _ in 0..64 {
            let mut v = seeds[rng.random_range(0..seeds.len())].clone();
            for _ in 0..rng.random_range(1..=8) {
                mutate(&mut rng, &mut v, &seeds, dict);
            }
            run(&v);
            runs += 1;
        }
    }
    eprintln!(
        "{target}: {} seeds, {runs} mutants (seed {seed})",
        seeds.len()
    );
}

const JSON_TOKENS: &[&[u8]] = &[
    b"[",
    b"]",
    b"{",
    b"}",
    b"\"",
    b",",
    b":",
    b"\\",
    b"\\u",
    b"\\ud83d",
    b"\\ude00",
    b"\\udc00",
    b"\\u0000",
    b"null",
    b"true",
    b"1e999",
    b"-",
    b"/",
    b"_placeholder",
    b"\"num\":",
    b"{\"_placeholder\":true,\"num\":0}",
    b"\xf0\x9f\x98\x80",
    b"\xc3",
    b"\xed\xa0\xbd",
];

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

/// Splits a reassembly input into messages: kind byte, u16 length, payload.
fn messages(input: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut rest = input;
    while rest.len() >= 3 {
        let kind = rest[0];
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]]));
        let end = (3 + len).min(rest.len());
        out.push((kind, &rest[3..end]));
        rest = &rest[end..];
    }
    out
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

// ---------------------------------------------------------------- the whole engine

struct Echo;

impl natter_realtime::Handler for Echo {
    type State = ();

    async fn connect(
        &self,
        socket: &natter_realtime::SocketRef,
        _info: natter_realtime::ConnectInfo<'_>,
    ) -> Result<(), natter_realtime::ConnectError> {
        socket.join("all");
        Ok(())
    }

    async fn event(
        &self,
        socket: &natter_realtime::Socket<()>,
        event: natter_realtime::Event,
        ack: Option<natter_realtime::AckSender>,
    ) {
        if let Some(ack) = ack {
            ack.send_args(&event.args, event.binary.clone());
        } else {
            let _ = socket.emit_args(&event.name, &event.args, event.binary);
        }
    }

    async fn disconnect(
        &self,
        _socket: &natter_realtime::Socket<()>,
        _r: natter_realtime::DisconnectReason,
    ) {
    }
}

/// Opens a websocket session; the stream after the 101.
async fn ws_open(addr: std::net::SocketAddr) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    s.write_all(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        .await
        .unwrap_or_else(|e| panic!("write: {e}"));
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut b))
            .await
            .unwrap_or_else(|_| panic!("no handshake answer"))
            .unwrap_or(0);
        assert!(n == 1, "closed in the handshake");
        head.push(b[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"));
    s
}

/// Sequences of Socket.IO messages (the reassembly corpus format), mutated,
/// sent as websocket frames after a CONNECT on a real engine; after every
/// batch a fresh client must still connect and get its ack, and no task of the
/// process may have panicked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzz_the_engine_over_a_real_socket() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    static PANICS: AtomicUsize = AtomicUsize::new(0);
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));

    let engine = natter_realtime::Engine::new(
        natter_realtime::EngineConfig {
            max_payload: 2_000,
            max_queued_events: 16,
            ..natter_realtime::EngineConfig::default()
        },
        std::sync::Arc::new(natter_realtime::NoopFanout),
    );
    engine.namespace("/", Echo);
    engine.namespace("/other", Echo);
    let addr = listen(&engine).await;

    let seeds = corpus("sio-reassembly");
    let mut dict: Vec<&[u8]> = JSON_TOKENS.to_vec();
    dict.extend_from_slice(&[
        b"T\x00\x10",
        b"B\x00\x03abc",
        b"51-",
        b"0/other,",
        b"1",
        b"41",
    ]);
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let until = Instant::now() + budget();
    let mut runs = 0u64;
    while runs < seeds.len() as u64 || Instant::now() < until {
        let mut input = seeds[(runs as usize) % seeds.len()].clone();
        if runs >= seeds.len() as u64 {
            for _ in 0..rng.random_range(1..=6) {
                mutate(&mut rng, &mut input, &seeds, &dict);
            }
        }
        let mut s = ws_open(addr).await;
        let mut wire = masked_frame(1, b"40");
        for (kind, payload) in messages(&input) {
            let mut text = vec![b'4'];
            text.extend_from_slice(payload);
            wire.extend(match kind {
                b'B' => masked_frame(2, payload),
                _ if std::str::from_utf8(&text).is_ok() => masked_frame(1, &text),
                _ => continue,
            });
        }
        wire.extend(masked_frame(8, &[3, 232]));
        let _ = s.write_all(&wire).await;
        // read what comes back until the server closes (bounded)
        let mut sink = vec![0u8; 8192];
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Ok(n) = s.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
        runs += 1;
        let panics = PANICS.load(Ordering::SeqCst);
        assert_eq!(
            panics,
            0,
            "the engine panicked on {:?} (hex {}); replay with NATTER_FUZZ_SEED={seed}",
            String::from_utf8_lossy(&input),
            input.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        if runs.is_multiple_of(50) || Instant::now() >= until {
            // still serving: a fresh client connects and gets its ack
            let mut c = ws_open(addr).await;
            let _ = c
                .write_all(&[masked_frame(1, b"40"), masked_frame(1, b"421[\"ping\",1]")].concat())
                .await;
            let mut got = Vec::new();
            let ok = tokio::time::timeout(Duration::from_secs(5), async {
                while !got.windows(6).any(|w| w == b"431[1]") {
                    match c.read(&mut sink).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got.extend_from_slice(&sink[..n]),
                    }
                }
            })
            .await;
            assert!(
                ok.is_ok(),
                "the engine stopped answering after {runs} inputs (seed {seed})"
            );
        }
    }
    eprintln!("engine: {runs} connections (seed {seed})");
    assert!(engine.connection_count() < 10_000);
}
