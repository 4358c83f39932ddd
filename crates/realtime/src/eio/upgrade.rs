//! Websocket handshakes: a new websocket session, or the upgrade of a polling
//! session (`sid` in the query), whose websocket probes (`2probe` → `3probe`)
//! while polling still carries the session, until the client's `5` switches
//! the transport. A second upgrade is refused the reference server's way.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{header, Method, Request};
use tokio::io::AsyncWriteExt;

use super::driver::{drive, finish};
use super::response::{bad, switching};
use super::server::Inner;
use super::stream::WsIo;
use super::{lock, read, ws, CloseReason, Conn, EioHandler};

impl<H: EioHandler> Inner<H> {
    /// A websocket handshake: `sid` names the polling session to upgrade.
    pub(super) fn websocket(
        self: &Arc<Self>,
        req: &mut Request<Body>,
        sid: Option<&str>,
    ) -> Response {
        if req.method() != Method::GET {
            return bad(2);
        }
        let h = req.headers();
        let upgrade = h
            .get(header::UPGRADE)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
        let version = h
            .get(header::SEC_WEBSOCKET_VERSION)
            .is_some_and(|v| v.as_bytes() == b"13");
        let Some(key) = h
            .get(header::SEC_WEBSOCKET_KEY)
            .filter(|_| upgrade && version)
        else {
            return bad(3);
        };
        let accept = ws::accept_key(key.as_bytes());
        let Some(on_upgrade) = req.extensions_mut().remove::<hyper::upgrade::OnUpgrade>() else {
            return bad(3);
        };
        match sid {
            None => {
                let conn = self.new_conn(req.headers(), Self::remote(req), true);
                let open = self.config.open_packet(&conn.sid, false);
                self.handler.on_open(&conn);
                tokio::spawn(async move {
                    match tokio::time::timeout(Duration::from_secs(10), on_upgrade).await {
                        Ok(Ok(io)) => drive(conn, Some(WsIo::from_upgraded(io)), Some(open)).await,
                        _ => {
                            conn.close(CloseReason::TransportError);
                            finish(&conn);
                        }
                    }
                });
            }
            Some(sid) => {
                let Some(conn) = read(&self.conns).get(sid).cloned() else {
                    return bad(1);
                };
                let refuse = {
                    let mut st = lock(&conn.st);
                    if st.closed.is_some() {
                        return bad(1);
                    }
                    let refuse = st.ws || st.upgrade_started;
                    st.upgrade_started = true;
                    refuse
                };
                if refuse {
                    // Already upgraded (or upgrading): like the reference, complete the
                    // websocket handshake and close that websocket at once.
                    tokio::spawn(async move {
                        if let Ok(Ok(io)) =
                            tokio::time::timeout(Duration::from_secs(10), on_upgrade).await
                        {
                            let (mut io, _) = WsIo::from_upgraded(io);
                            let close = [(ws::OP_CLOSE, ws::close_payload(1008))];
                            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                                let _ = ws::write_frames(&mut io, &close).await;
                                let _ = io.shutdown().await;
                            })
                            .await;
                        }
                    });
                    return switching(&accept);
                }
                tokio::spawn(async move {
                    let io = tokio::time::timeout(Duration::from_secs(10), on_upgrade).await;
                    let mut st = lock(&conn.st);
                    match io {
                        Ok(Ok(io)) if st.closed.is_none() => {
                            st.upgrade_io = Some(WsIo::from_upgraded(io))
                        }
                        _ => st.upgrade_started = false,
                    }
                    drop(st);
                    conn.ctrl.notify_one();
                });
            }
        }
        switching(&accept)
    }
}

/// A text frame on a probing websocket: `2probe` is answered `3probe` (polls
/// then get a noop), `5` completes the upgrade. `Ok(true)`: upgraded; `Err`:
/// anything else, which abandons the probe.
pub(super) fn probe_text<H: EioHandler>(
    conn: &Conn<H>,
    text: &[u8],
    out: &mut Vec<(u8, Bytes)>,
) -> Result<bool, ()> {
    if text == b"2probe" {
        out.push((ws::OP_TEXT, Bytes::from_static(b"3probe")));
        lock(&conn.st).upgrading = true;
        conn.data_ready.notify_one();
        Ok(false)
    } else if text == b"5" && lock(&conn.st).upgrading {
        {
            let mut st = lock(&conn.st);
            st.ws = true;
            st.upgrading = false;
        }
        // wake a pending poll (it answers noop) and flush the queue here
        conn.data_ready.notify_one();
        conn.data_ready.notify_one();
        Ok(true)
    } else {
        Err(())
    }
}

/// The probing websocket failed: polling goes on, and may upgrade again.
pub(super) fn abandon_upgrade<H: EioHandler>(conn: &Conn<H>) {
    let mut st = lock(&conn.st);
    st.upgrade_started = false;
    st.upgrading = false;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eio::testing::{read_frame, recorder, seen, session};
    use crate::eio::EioConfig;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpStream;

    #[test]
    fn a_probe_then_5_switches_the_transport() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, false);
        let mut out = Vec::new();
        assert_eq!(probe_text(&conn, b"2probe", &mut out), Ok(false));
        assert_eq!(out, [(ws::OP_TEXT, Bytes::from_static(b"3probe"))]);
        assert!(lock(&conn.st).upgrading);
        assert_eq!(conn.transport(), "polling");
        assert_eq!(probe_text(&conn, b"5", &mut out), Ok(true));
        assert_eq!(conn.transport(), "websocket");
        assert!(!lock(&conn.st).upgrading);
    }

    #[test]
    fn only_the_probe_may_come_first() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, false);
        let mut out = Vec::new();
        assert_eq!(probe_text(&conn, b"5", &mut out), Err(()));
        assert_eq!(probe_text(&conn, b"2ping", &mut out), Err(()));
        assert!(out.is_empty());
        assert_eq!(conn.transport(), "polling");
    }

    #[test]
    fn an_abandoned_upgrade_may_start_again() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, false);
        {
            let mut st = lock(&conn.st);
            st.upgrade_started = true;
            st.upgrading = true;
        }
        abandon_upgrade(&conn);
        let st = lock(&conn.st);
        assert!(!st.upgrade_started && !st.upgrading && !st.ws);
    }

    /// A raw HTTP/1.1 request; the head of the answer and the stream after it.
    async fn request(addr: std::net::SocketAddr, head: &str) -> (String, TcpStream) {
        let mut s = TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        s.write_all(head.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut got = Vec::new();
        let mut b = [0u8; 1];
        while !got.ends_with(b"\r\n\r\n") {
            let n = s.read(&mut b).await.unwrap_or(0);
            assert_eq!(n, 1, "closed in the answer's head");
            got.push(b[0]);
        }
        (String::from_utf8_lossy(&got).into_owned(), s)
    }

    fn ws_head(sid: &str) -> String {
        format!(
            "GET /e/?EIO=4&transport=websocket&sid={sid} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
    }

    #[tokio::test]
    async fn a_second_upgrade_is_closed_with_1008() {
        let srv = recorder(EioConfig::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let app = srv.router("/e/");
        tokio::spawn(async move { axum::serve(listener, app).await });
        let conn = session(&srv, false);

        let (head, _first) = request(addr, &ws_head(conn.sid())).await;
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
        let (head, mut second) = request(addr, &ws_head(conn.sid())).await;
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        assert_eq!(
            read_frame(&mut second).await,
            Some((ws::OP_CLOSE, 1008u16.to_be_bytes().to_vec()))
        );
        assert!(!conn.is_closed(), "the session itself goes on");
        let (head, _) = request(addr, &ws_head("unknown")).await;
        assert!(head.starts_with("HTTP/1.1 400"), "{head}");
        assert!(seen(&srv).is_empty());
    }
}
