//! The HTTP accept loop (instead of `axum::serve`): HTTP/1.1 with a header-read
//! timeout, caps on open connections in total and per client address, graceful
//! shutdown, and `ConnectInfo<SocketAddr>` for handlers.
//!
//! hyper's header-read timer runs whenever a connection waits for a request
//! head: from the accept, and again after each response. So one timeout bounds
//! both a slowloris client (headers byte by byte) and an idle keep-alive
//! connection. A long-poll or a websocket is not waiting for a head and is not
//! cut by it. A connection's slot lives as long as its TCP stream, an upgraded
//! websocket included (the engine keeps the stream, see
//! [`natter_realtime::eio::TrackedTcp`]).

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use natter_realtime::eio::TrackedTcp;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// Connection limits of the HTTP listener.
#[derive(Clone, Debug)]
pub struct Limits {
    /// A request head must arrive within this, also after an idle keep-alive
    /// gap; `None` = no limit.
    pub header_timeout: Option<Duration>,
    /// Open connections in total; `0` = no cap.
    pub max_connections: usize,
    /// Open connections per client address (IPv6: per /64); `0` = no cap.
    pub max_per_ip: usize,
    /// Loopback peers (a reverse proxy on the same host, the benchmarks) are
    /// not capped per address; they still count in the total.
    pub exempt_loopback: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Some(Duration::from_secs(20)),
            max_connections: 100_000,
            max_per_ip: 5_000,
            exempt_loopback: true,
        }
    }
}

/// An address as the per-address cap counts it: IPv4, or an IPv6 /64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Peer {
    V4(u32),
    V6(u64),
}

fn peer_key(ip: IpAddr) -> Peer {
    match ip {
        IpAddr::V4(v4) => Peer::V4(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Peer::V4(u32::from(v4)),
            None => Peer::V6((u128::from(v6) >> 64) as u64),
        },
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_peer: HashMap<Peer, usize>,
}

struct Slots {
    limits: Limits,
    counts: Mutex<Counts>,
}

/// One open connection's place in the counts, given back on drop.
struct Slot {
    slots: Arc<Slots>,
    peer: Option<Peer>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.slots.lock();
        c.total = c.total.saturating_sub(1);
        if let Some(p) = self.peer {
            if let Some(n) = c.per_peer.get_mut(&p) {
                *n -= 1;
                if *n == 0 {
                    c.per_peer.remove(&p);
                }
            }
        }
    }
}

impl Slots {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for a new connection from `ip`, or `None` when a cap is reached.
    fn take(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let l = &self.limits;
        let mut c = self.lock();
        if l.max_connections > 0 && c.total >= l.max_connections {
            return None;
        }
        let peer =
            (l.max_per_ip > 0 && !(l.exempt_loopback && is_loopback(ip))).then(|| peer_key(ip));
        if let Some(p) = peer {
            let n = c.per_peer.entry(p).or_insert(0);
            if *n >= l.max_per_ip {
                return None;
            }
            *n += 1;
        }
        c.total += 1;
        Some(Slot {
            slots: self.clone(),
            peer,
        })
    }
}

/// What a refused connection is told before it is closed (best effort).
const REFUSED: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n";

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting,
/// lets requests in flight finish and waits for their connections to close.
pub async fn serve<F>(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let slots = Arc::new(Slots {
        limits,
        counts: Mutex::default(),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (tcp, addr) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // out of file descriptors and the like: back off, keep serving
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Some(slot) = slots.take(addr.ip()) else {
            tracing::debug!(peer = %addr, "connection cap reached: refusing");
            let _ = tcp.try_write(REFUSED);
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(connection(
            http.clone(),
            tcp,
            addr,
            slot,
            router.clone(),
            stop_rx.clone(),
        ));
    }
    drop(listener);
    drop(stop_rx);
    let _ = stop_tx.send(true);
    // every connection task holds a receiver: this resolves once they are all done
    stop_tx.closed().await;
    Ok(())
}

async fn connection(
    http: hyper::server::conn::http1::Builder,
    tcp: TcpStream,
    addr: SocketAddr,
    slot: Slot,
    router: Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let io = TokioIo::new(TrackedTcp::new(tcp, slot));
    let service = hyper::service::service_fn(move |mut req: axum::http::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(addr));
        router.clone().oneshot(req)
    });
    let conn = http.serve_connection(io, service).with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(peer = %addr, error = %e, "http connection ended");
            }
        }
        _ = async { stop.wait_for(|s| *s).await.map(|_| ()) } => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.as_mut().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn ipv6_addresses_count_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(
            peer_key(ip("2001:db8:1:2::1")),
            peer_key(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            peer_key(ip("2001:db8:1:2::1")),
            peer_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(peer_key(ip("::ffff:192.0.2.7")), peer_key(ip("192.0.2.7")));
        assert_ne!(peer_key(ip("192.0.2.7")), peer_key(ip("192.0.2.8")));
        assert!(is_loopback(ip("127.0.0.9")));
        assert!(is_loopback(ip("::1")));
        assert!(is_loopback(ip("::ffff:127.0.0.1")));
        assert!(!is_loopback(ip("192.0.2.7")));
    }

    #[test]
    fn slots_are_given_back_on_drop() {
        let slots = Arc::new(Slots {
            limits: Limits {
                max_connections: 3,
                max_per_ip: 2,
                exempt_loopback: true,
                ..Limits::default()
            },
            counts: Mutex::default(),
        });
        let a = slots.take(ip("2001:db8::1"));
        let b = slots.take(ip("2001:db8::2"));
        assert!(a.is_some() && b.is_some());
        assert!(
            slots.take(ip("2001:db8::3")).is_none(),
            "same /64: per-address cap"
        );
        let c = slots.take(ip("127.0.0.1"));
        assert!(c.is_some(), "loopback is not capped per address");
        assert!(slots.take(ip("192.0.2.1")).is_none(), "total cap");
        drop(a);
        assert!(slots.take(ip("2001:db8::4")).is_some());
        drop((b, c));
        let counts = slots.lock();
        assert_eq!(counts.total, 0);
        assert!(counts.per_peer.is_empty());
    }
}
