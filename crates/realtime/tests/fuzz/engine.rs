//! Fuzzing a whole engine: mutated Socket.IO traffic over a real websocket,
//! with an echoing application; the engine must neither panic nor stop serving.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::harness::{budget, corpus, messages, mutate, seed, JSON_TOKENS};
use crate::support::{listen, masked_frame};

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
