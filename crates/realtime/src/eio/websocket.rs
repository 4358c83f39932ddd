//! The websocket transport of a session, below the driver: what the frames read
//! from the client mean (packets, pings, close, protocol errors, the upgrade
//! probe), waiting for bytes, and closing the TCP stream without a reset.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::packet;
use super::stream::WsIo;
use super::upgrade::probe_text;
use super::ws::{self, WsEvent, WsReader};
use super::{lock, CloseReason, Conn, EioHandler, Message};

/// Waits for bytes on the websocket, or forever when there is none.
pub(super) async fn read_some(io: Option<&mut WsIo>, buf: &mut BytesMut) -> std::io::Result<usize> {
    match io {
        Some(io) => io.read_buf(buf).await,
        None => std::future::pending().await,
    }
}

/// Closes a websocket's TCP connection without resetting it: our side ends first
/// (after any close frame), then what the peer still sends (its close frame) is read
/// and dropped until it ends too, for at most a second. Dropping the socket with
/// unread bytes would send a reset, and the client could lose our close frame to it
/// and report a transport error instead of a close.
pub(super) async fn linger_close(mut w: WsIo) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        w.shutdown().await?;
        let mut scratch = [0u8; 256];
        while w.read(&mut scratch).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}

/// Handles the frames in `rbuf`. `Ok(true)`: stopped because reading is held,
/// frames may be left in `rbuf`. `Err(())` aborts a probing websocket.
pub(super) fn on_ws_bytes<H: EioHandler>(
    conn: &Arc<Conn<H>>,
    reader: &mut WsReader,
    rbuf: &mut BytesMut,
    out: &mut Vec<(u8, Bytes)>,
    probing: &mut bool,
    max: usize,
) -> Result<bool, ()> {
    loop {
        if !*probing {
            let (closed, held) = {
                let st = lock(&conn.st);
                (st.closed.is_some(), st.holds > 0)
            };
            if closed {
                rbuf.clear();
                return Ok(false);
            }
            if held {
                return Ok(true);
            }
        }
        let ev = match reader.next(rbuf, max) {
            Ok(Some(ev)) => ev,
            Ok(None) => return Ok(false),
            Err(e) => {
                rbuf.clear();
                if *probing {
                    return Err(());
                }
                tracing::debug!(sid = %conn.sid, error = %e, "websocket error: closing");
                out.push((ws::OP_CLOSE, ws::close_payload(e.close_code())));
                let reason = if e == ws::WsError::TooBig {
                    CloseReason::TransportError
                } else {
                    CloseReason::ParseError
                };
                conn.close(reason);
                return Ok(false);
            }
        };
        match ev {
            WsEvent::Ping(p) => out.push((ws::OP_PONG, p)),
            WsEvent::Pong => {}
            WsEvent::Close => {
                if *probing {
                    return Err(());
                }
                conn.close(CloseReason::TransportClose);
                return Ok(false);
            }
            WsEvent::Text(b) if *probing => {
                if probe_text(conn, &b, out)? {
                    *probing = false;
                }
            }
            WsEvent::Binary(_) if *probing => return Err(()),
            WsEvent::Text(b) => {
                let ok = packet::parse_text(b)
                    .map_err(|_| ())
                    .and_then(|p| conn.on_packet(p));
                if ok.is_err() {
                    tracing::debug!(sid = %conn.sid, "invalid packet: closing");
                    conn.close(CloseReason::ParseError);
                }
            }
            WsEvent::Binary(b) => conn.server.handler.on_message(conn, Message::Binary(b)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eio::testing::{client_frame, masked, recorder, seen, session, Recorder};
    use crate::eio::EioConfig;

    const MAX: usize = 100;

    /// Feeds `wire` to `on_ws_bytes`: its result, what it queued to write, and
    /// the bytes it left unread.
    fn feed(
        conn: &Arc<Conn<Recorder>>,
        wire: &[u8],
        probing: &mut bool,
    ) -> (Result<bool, ()>, Vec<(u8, Bytes)>, usize) {
        let mut reader = WsReader::default();
        let mut rbuf = BytesMut::from(wire);
        let mut out = Vec::new();
        let r = on_ws_bytes(conn, &mut reader, &mut rbuf, &mut out, probing, MAX);
        (r, out, rbuf.len())
    }

    fn closed(conn: &Conn<Recorder>) -> Option<CloseReason> {
        lock(&conn.st).closed
    }

    #[test]
    fn messages_go_to_the_handler_and_pings_are_answered() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, true);
        let mut wire = masked(ws::OP_TEXT, b"4hi");
        wire.extend(masked(ws::OP_PING, b"p"));
        wire.extend(masked(ws::OP_BINARY, &[1, 2]));
        wire.extend(masked(ws::OP_TEXT, b"6"));
        let (r, out, left) = feed(&conn, &wire, &mut false);
        assert_eq!((r, left), (Ok(false), 0));
        assert_eq!(out, [(ws::OP_PONG, Bytes::from_static(b"p"))]);
        assert_eq!(seen(&srv), ["text hi", "binary 2"]);
        assert_eq!(closed(&conn), None);
    }

    #[test]
    fn a_close_frame_closes_and_stops_reading() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, true);
        let mut wire = masked(ws::OP_CLOSE, &[3, 232]);
        wire.extend(masked(ws::OP_TEXT, b"4after"));
        let (r, _, _) = feed(&conn, &wire, &mut false);
        assert_eq!(r, Ok(false));
        assert_eq!(closed(&conn), Some(CloseReason::TransportClose));
        assert!(seen(&srv).is_empty());
    }

    #[test]
    fn protocol_errors_close_with_their_code() {
        let srv = recorder(EioConfig::default());
        let cases: [(Vec<u8>, u16, CloseReason); 3] = [
            (
                masked(ws::OP_BINARY, &[0; MAX + 1]),
                1009,
                CloseReason::TransportError,
            ),
            (
                client_frame(true, ws::OP_CONT, b"x", [1; 4]),
                1002,
                CloseReason::ParseError,
            ),
            (masked(ws::OP_TEXT, &[0xff]), 1007, CloseReason::ParseError),
        ];
        for (wire, code, reason) in cases {
            let conn = session(&srv, true);
            let (r, out, left) = feed(&conn, &wire, &mut false);
            assert_eq!((r, left), (Ok(false), 0));
            assert_eq!(out, [(ws::OP_CLOSE, ws::close_payload(code))]);
            assert_eq!(closed(&conn), Some(reason));
        }
        // a frame that is websocket but not Engine.IO
        let conn = session(&srv, true);
        let (r, _, _) = feed(&conn, &masked(ws::OP_TEXT, b"9"), &mut false);
        assert_eq!(r, Ok(false));
        assert_eq!(closed(&conn), Some(CloseReason::ParseError));
    }

    #[test]
    fn held_reading_leaves_the_frames_for_later() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, true);
        conn.hold_reading();
        let wire = masked(ws::OP_TEXT, b"4later");
        let mut reader = WsReader::default();
        let mut rbuf = BytesMut::from(&wire[..]);
        let mut out = Vec::new();
        let r = on_ws_bytes(&conn, &mut reader, &mut rbuf, &mut out, &mut false, MAX);
        assert_eq!((r, rbuf.len()), (Ok(true), wire.len()));
        assert!(seen(&srv).is_empty());
        conn.release_reading();
        let r = on_ws_bytes(&conn, &mut reader, &mut rbuf, &mut out, &mut false, MAX);
        assert_eq!((r, rbuf.len()), (Ok(false), 0));
        assert_eq!(seen(&srv), ["text later"]);
    }

    #[test]
    fn a_closed_session_drops_what_is_left() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, true);
        conn.close(CloseReason::ServerClose);
        let (r, out, left) = feed(&conn, &masked(ws::OP_TEXT, b"4x"), &mut false);
        assert_eq!((r, left), (Ok(false), 0));
        assert!(out.is_empty() && seen(&srv).is_empty());
    }

    #[test]
    fn a_probe_upgrades_on_5() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, false);
        let mut probing = true;
        let mut wire = masked(ws::OP_TEXT, b"2probe");
        wire.extend(masked(ws::OP_TEXT, b"5"));
        wire.extend(masked(ws::OP_TEXT, b"4now"));
        let (r, out, _) = feed(&conn, &wire, &mut probing);
        assert_eq!(r, Ok(false));
        assert_eq!(out, [(ws::OP_TEXT, Bytes::from_static(b"3probe"))]);
        assert!(!probing);
        assert_eq!(conn.transport(), "websocket");
        assert_eq!(seen(&srv), ["text now"]);
    }

    #[test]
    fn anything_else_on_a_probe_abandons_it() {
        let srv = recorder(EioConfig::default());
        for wire in [
            masked(ws::OP_TEXT, b"4early"),
            masked(ws::OP_BINARY, b"x"),
            masked(ws::OP_CLOSE, b""),
            masked(ws::OP_TEXT, b"5"), // no probe before
            client_frame(true, ws::OP_CONT, b"x", [1; 4]),
        ] {
            let conn = session(&srv, false);
            let (r, out, _) = feed(&conn, &wire, &mut true);
            assert_eq!(r, Err(()));
            assert!(out.is_empty());
            assert_eq!(closed(&conn), None, "polling goes on");
            assert_eq!(conn.transport(), "polling");
        }
        assert!(seen(&srv).is_empty());
    }

    #[tokio::test]
    async fn linger_close_reads_the_peers_close_and_ends() {
        let (a, mut b) = crate::eio::testing::tcp_pair().await;
        b.write_all(&masked(ws::OP_CLOSE, &[3, 232]))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let closing = tokio::spawn(linger_close(WsIo::Tcp(a, None)));
        let mut rest = Vec::new();
        // our side ended: the peer reads EOF, then ends too
        b.read_to_end(&mut rest)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(rest.is_empty());
        drop(b);
        closing.await.unwrap_or_else(|e| panic!("{e}"));
    }
}
