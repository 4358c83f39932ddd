//! A small load tool for the realtime engine's memory / broadcast figures
//! (docs/BENCHMARKS.md). It speaks just enough websocket + Engine.IO + Socket.IO:
//! handshake, CONNECT, pong, counting broadcasts. Client source addresses are
//! spread over 127.0.0.2..=127.0.0.41.
//!
//! ```text
//! load idle <port> <server-pid> <conns>             RSS per idle connection
//! load broadcast <port> <server-pid> <members> <rounds>
//! ```
//! Start the server with production-like timers, e.g.
//! `PING_INTERVAL_MS=25000 PING_TIMEOUT_MS=20000 CONNECT_TIMEOUT_MS=45000 PORT=3100 conformance`.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, Notify};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn frame(text: &str) -> Vec<u8> {
    let mut out = vec![0x81u8];
    let n = text.len();
    if n < 126 {
        out.push(0x80 | n as u8);
    } else {
        out.push(0x80 | 126);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    }
    out.extend_from_slice(&[0, 0, 0, 0]); // a zero mask: the payload goes as is
    out.extend_from_slice(text.as_bytes());
    out
}

/// Next complete server frame's text (binary/control frames give an empty string).
fn next_frame(buf: &mut BytesMut) -> Option<String> {
    if buf.len() < 2 {
        return None;
    }
    let (hdr, len) = match buf[1] & 0x7f {
        126 if buf.len() >= 4 => (4, u16::from_be_bytes([buf[2], buf[3]]) as usize),
        126 => return None,
        127 if buf.len() >= 10 => {
            let mut a = [0u8; 8];
            a.copy_from_slice(&buf[2..10]);
            (10, u64::from_be_bytes(a) as usize)
        }
        127 => return None,
        n => (2, n as usize),
    };
    if buf.len() < hdr + len {
        return None;
    }
    let op = buf[0] & 0x0f;
    buf.advance(hdr);
    let payload = buf.split_to(len);
    Some(if op == 1 {
        String::from_utf8_lossy(&payload).into_owned()
    } else {
        String::new()
    })
}

struct Shared {
    connected: AtomicUsize,
    received: AtomicUsize,
    notify: Notify,
}

async fn open(
    i: usize,
    port: u16,
    nsp_connect: String,
    shared: Arc<Shared>,
    mut cmds: Option<mpsc::Receiver<String>>,
) -> Res<()> {
    let src = Ipv4Addr::new(127, 0, 0, 2 + (i % 40) as u8);
    let sock = TcpSocket::new_v4()?;
    sock.bind(SocketAddr::from((src, 0)))?;
    let mut s: TcpStream = sock
        .connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .await?;
    let req = format!(
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await?;
    let mut buf = BytesMut::with_capacity(512);
    loop {
        if s.read_buf(&mut buf).await? == 0 {
            return Err("closed during handshake".into());
        }
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.advance(p + 4);
            break;
        }
    }
    let mut connected = false;
    loop {
        while let Some(text) = next_frame(&mut buf) {
            if text.starts_with('0') {
                s.write_all(&frame(&nsp_connect)).await?;
            } else if text == "2" {
                s.write_all(&frame("3")).await?;
            } else if text.starts_with("40") && !connected {
                connected = true;
                shared.connected.fetch_add(1, Ordering::Relaxed);
                shared.notify.notify_waiters();
            } else if text.contains("[\"broadcast\"") {
                shared.received.fetch_add(1, Ordering::Relaxed);
                shared.notify.notify_waiters();
            }
        }
        if buf.capacity() > 4096 && buf.is_empty() {
            buf = BytesMut::with_capacity(512);
        }
        match cmds.as_mut() {
            Some(rx) => {
                tokio::select! {
                    n = s.read_buf(&mut buf) => if n? == 0 { return Ok(()) },
                    c = rx.recv() => match c {
                        Some(text) => s.write_all(&frame(&text)).await?,
                        None => return Ok(()),
                    },
                }
            }
            None => {
                if s.read_buf(&mut buf).await? == 0 {
                    return Ok(());
                }
            }
        }
    }
}

fn rss_kb(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// utime + stime of a process, in clock ticks (100 Hz).
fn cpu_ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    get(11) + get(12)
}

async fn wait_until(shared: &Shared, what: impl Fn(&Shared) -> bool, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    loop {
        let n = shared.notify.notified();
        if what(shared) {
            return true;
        }
        if tokio::time::timeout_at(end.into(), n).await.is_err() {
            return what(shared);
        }
    }
}

#[tokio::main]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let mode = arg(1);
    let port: u16 = arg(2).parse()?;
    let pid: u32 = arg(3).parse()?;
    let n: usize = arg(4).parse()?;
    let shared = Arc::new(Shared {
        connected: AtomicUsize::new(0),
        received: AtomicUsize::new(0),
        notify: Notify::new(),
    });
    let before = rss_kb(pid);
    let t0 = Instant::now();
    let (nsp, rounds) = match mode.as_str() {
        "idle" => ("40".to_owned(), 0),
        "broadcast" => (
            r#"40/interop,{"token":"secret","name":"bench","room":"bench"}"#.to_owned(),
            arg(5).parse()?,
        ),
        _ => return Err("usage: load idle|broadcast <port> <pid> <conns> [rounds]".into()),
    };
    let (tx, rx) = mpsc::channel(16);
    let mut rx = Some(rx);
    for i in 0..n {
        let cmds = if i == 0 { rx.take() } else { None };
        let shared = shared.clone();
        let nsp = nsp.clone();
        tokio::spawn(async move {
            if let Err(e) = open(i, port, nsp, shared, cmds).await {
                eprintln!("conn {i}: {e}");
            }
        });
        if i % 500 == 499 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let ok = wait_until(
        &shared,
        |s| s.connected.load(Ordering::Relaxed) >= n,
        Duration::from_secs(120),
    )
    .await;
    let up = shared.connected.load(Ordering::Relaxed);
    println!(
        "{up}/{n} connected in {:.2}s (all: {ok})",
        t0.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = rss_kb(pid);
    println!(
        "server RSS: {before} KiB before, {after} KiB with {up} idle connections: {:.2} KiB per connection",
        (after.saturating_sub(before)) as f64 / up.max(1) as f64
    );
    if rounds > 0 {
        let members = up - 1; // the sender is excepted
        let cpu0 = cpu_ticks(pid);
        let mut times = Vec::with_capacity(rounds);
        for r in 0..rounds {
            let target = (r + 1) * members;
            let start = Instant::now();
            tx.send(format!(r#"42/interop,["broadcast-except",{{"room":"bench","data":{{"round":{r},"text":"a chat message of ordinary length, about a hundred bytes of payload"}}}}]"#))
                .await?;
            if !wait_until(
                &shared,
                |s| s.received.load(Ordering::Relaxed) >= target,
                Duration::from_secs(10),
            )
            .await
            {
                println!(
                    "round {r}: only {} of {target}",
                    shared.received.load(Ordering::Relaxed)
                );
                break;
            }
            times.push(start.elapsed());
        }
        let cpu = cpu_ticks(pid) - cpu0;
        times.sort();
        let mean = times.iter().sum::<Duration>() / times.len().max(1) as u32;
        println!(
            "broadcast to {members} members x {}: mean {:.2} ms, p50 {:.2} ms, max {:.2} ms (send -> last member got it); server CPU {:.1} ms per broadcast",
            times.len(),
            mean.as_secs_f64() * 1e3,
            times.get(times.len() / 2).map_or(0.0, |d| d.as_secs_f64() * 1e3),
            times.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
            cpu as f64 * 10.0 / times.len().max(1) as f64,
        );
    }
    Ok(())
}
