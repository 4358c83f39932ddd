//! The connection's one task (the *driver*): the heartbeat and the application
//! deadline for every session, and for a websocket session the stream itself:
//! batched writes of the queue, reads (held under backpressure), the close
//! frame; then the final cleanup ([`finish`]).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::time::Instant;

use super::stream::WsIo;
use super::upgrade::abandon_upgrade;
use super::websocket::{linger_close, on_ws_bytes, read_some};
use super::ws::{self, WsReader};
use super::{lock, write, CloseReason, Conn, EioHandler, Frame};

/// The least a read asks room for.
const MIN_READ: usize = 256;
/// Pause between a split-off handshake answer and what follows it.
const SPLIT_PAUSE: Duration = Duration::from_millis(2);
const SHRINK_ABOVE: usize = 4096;

/// The connection's one task: heartbeat, deadline, and (once there is one) the websocket.
pub(super) async fn drive<H: EioHandler>(
    conn: Arc<Conn<H>>,
    io: Option<(WsIo, Bytes)>,
    open: Option<Bytes>,
) {
    let (mut io, prefix) = match io {
        Some((io, prefix)) => (Some(io), prefix),
        None => (None, Bytes::new()),
    };
    let cfg = conn.server.config.clone();
    let write_timeout = cfg.ping_interval + cfg.ping_timeout;
    let mut rbuf = BytesMut::from(&prefix[..]);
    drop(prefix);
    let mut reader = WsReader::default();
    let mut more = false;
    let mut pause = false;
    // The websocket is there but the polling transport still rules (upgrade in progress).
    let mut probing = false;
    let mut out: Vec<(u8, Bytes)> = Vec::new();
    if let Some(open) = open {
        out.push((ws::OP_TEXT, open));
    }
    let mut grace_until: Option<Instant> = None;
    // Frames left in `rbuf` when reading was held.
    let mut backlog = false;
    loop {
        let now = Instant::now();
        let fire_deadline;
        let mut exit = None;
        let timer;
        {
            let mut st = lock(&conn.st);
            let tick = st.tick(now, cfg.ping_timeout);
            if tick.pinged {
                conn.data_ready.notify_one();
            }
            fire_deadline = tick.deadline;
            if io.is_none() {
                if let Some((new, prefix)) = st.upgrade_io.take() {
                    io = Some(new);
                    probing = true;
                    rbuf = BytesMut::from(&prefix[..]);
                    reader = WsReader::default();
                }
            }
            let ws_mode = st.ws && io.is_some() && !probing;
            if ws_mode && (st.closed.is_none() || st.closed.is_some_and(CloseReason::graceful)) {
                let (batch, split) = st.take_batch();
                pause = split;
                for f in batch {
                    out.push(match f {
                        Frame::Text(b) => (ws::OP_TEXT, b),
                        Frame::Binary(b) => (ws::OP_BINARY, b),
                    });
                }
                more = !st.queue.is_empty();
            }
            if let Some(reason) = st.closed {
                // An upgrade in progress does not end a polling session's linger: the
                // client may still poll for the close, or (having paused polling for
                // the upgrade) send the upgrade packet and be told on the websocket.
                if ws_mode || !reason.waits_for_poll() || st.final_flushed {
                    exit = Some(reason);
                } else {
                    let g = *grace_until.get_or_insert(now + reason.linger(cfg.ping_timeout));
                    if now >= g {
                        exit = Some(reason);
                    }
                }
                if ws_mode {
                    let code = if reason == CloseReason::TransportError {
                        1009
                    } else {
                        1000
                    };
                    out.push((ws::OP_CLOSE, ws::close_payload(code)));
                }
            }
            timer = st.wake_at(grace_until, now + cfg.ping_interval);
        }
        if !out.is_empty() {
            if let Some(w) = io.as_mut() {
                let res = tokio::time::timeout(write_timeout, ws::write_frames(w, &out)).await;
                if !matches!(res, Ok(Ok(()))) {
                    if probing {
                        io = None;
                        probing = false;
                        abandon_upgrade(&conn);
                    } else {
                        conn.close(CloseReason::TransportError);
                        exit.get_or_insert(CloseReason::TransportError);
                    }
                }
            }
            out.clear();
            if out.capacity() > 64 {
                out = Vec::new();
            }
        }
        if let Some(reason) = exit {
            tracing::debug!(sid = %conn.sid, reason = reason.as_str(), "engine.io connection closed");
            finish(&conn);
            if let Some(w) = io.take() {
                linger_close(w).await;
            }
            return;
        }
        if fire_deadline {
            conn.server.handler.on_deadline(&conn);
            continue;
        }
        if std::mem::take(&mut pause) {
            // a handshake answer went out on its own: let the client read it alone
            tokio::time::sleep(SPLIT_PAUSE).await;
        }
        if std::mem::take(&mut more) {
            continue;
        }
        let ws_mode = io.is_some() && !probing;
        let held = conn.reading_held();
        if backlog && ws_mode && !held {
            // reading resumed: first what was read and not handled
            backlog = on_ws_bytes(
                &conn,
                &mut reader,
                &mut rbuf,
                &mut out,
                &mut probing,
                cfg.max_payload,
            )
            .unwrap_or(false);
            continue;
        }
        if io.is_some() {
            let spare = rbuf.capacity() - rbuf.len();
            let want = WsReader::needed(&rbuf)
                .unwrap_or(0)
                .saturating_sub(rbuf.len());
            let want = want.min(cfg.max_payload + 16).max(MIN_READ);
            if spare < want {
                rbuf.reserve(want);
            }
        }
        tokio::select! {
            r = read_some(io.as_mut(), &mut rbuf), if !(held && ws_mode) => {
                match r {
                    Ok(n) if n > 0 => {
                        match on_ws_bytes(&conn, &mut reader, &mut rbuf, &mut out, &mut probing, cfg.max_payload) {
                            Ok(b) => backlog = b,
                            Err(()) => {
                                if probing {
                                    io = None;
                                    probing = false;
                                    abandon_upgrade(&conn);
                                }
                            }
                        }
                        if probing && io.is_some() && lock(&conn.st).ws {
                            probing = false;
                        }
                        if rbuf.is_empty() && rbuf.capacity() > SHRINK_ABOVE {
                            rbuf = BytesMut::new();
                        }
                    }
                    _ => {
                        if probing {
                            io = None;
                            probing = false;
                            abandon_upgrade(&conn);
                        } else {
                            conn.close(CloseReason::TransportClose);
                        }
                    }
                }
            }
            _ = conn.data_ready.notified(), if ws_mode => {}
            _ = conn.ctrl.notified() => {}
            _ = tokio::time::sleep_until(timer) => {}
        }
    }
}

/// Final cleanup, exactly once per connection: forget it, tell the handler.
pub(super) fn finish<H: EioHandler>(conn: &Arc<Conn<H>>) {
    let reason = {
        let mut st = lock(&conn.st);
        let reason = *st.closed.get_or_insert(CloseReason::TransportClose);
        st.final_flushed = true;
        st.queue = VecDeque::new();
        st.queued = 0;
        st.upgrade_io = None;
        reason
    };
    let removed = write(&conn.server.conns).remove(&conn.sid).is_some();
    conn.data_ready.notify_one();
    if removed {
        conn.server.handler.on_close(conn, reason);
    }
    conn.server.gone.notify_waiters();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eio::testing::{masked, read_frame, recorder, seen, session, tcp_pair, Recorder};
    use crate::eio::EioConfig;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpStream;
    use tokio::task::JoinHandle;

    /// A websocket session driven over loopback: the session, the client's end
    /// of the stream and the driver task. `prefix`: bytes hyper read already.
    async fn driven(
        srv: &crate::eio::EioServer<Recorder>,
        prefix: &[u8],
    ) -> (Arc<Conn<Recorder>>, TcpStream, JoinHandle<()>) {
        let conn = session(srv, true);
        let (server_end, client) = tcp_pair().await;
        let io = (WsIo::Tcp(server_end, None), Bytes::copy_from_slice(prefix));
        let open = Bytes::from_static(b"0{}");
        let task = tokio::spawn(drive(conn.clone(), Some(io), Some(open)));
        (conn, client, task)
    }

    async fn send(client: &mut TcpStream, op: u8, payload: &[u8]) {
        client
            .write_all(&masked(op, payload))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }

    async fn text(client: &mut TcpStream) -> String {
        match read_frame(client).await {
            Some((ws::OP_TEXT, p)) => String::from_utf8_lossy(&p).into_owned(),
            other => panic!("not a text frame: {other:?}"),
        }
    }

    /// The client gets a normal close frame; once it goes, the driver ends.
    async fn closed_normally(mut client: TcpStream, task: JoinHandle<()>) {
        assert_eq!(
            read_frame(&mut client).await,
            Some((ws::OP_CLOSE, vec![3, 232]))
        );
        drop(client);
        task.await.unwrap_or_else(|e| panic!("{e}"));
    }

    #[tokio::test]
    async fn the_open_packet_goes_first_then_the_queue() {
        let srv = recorder(EioConfig::default());
        let (conn, mut client, _task) = driven(&srv, b"").await;
        conn.send(Frame::message("one"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(text(&mut client).await, "0{}");
        assert_eq!(text(&mut client).await, "4one");
        conn.send_all(&[
            Frame::message("two"),
            Frame::Binary(Bytes::from_static(b"b")),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(text(&mut client).await, "4two");
        assert_eq!(
            read_frame(&mut client).await,
            Some((ws::OP_BINARY, b"b".to_vec()))
        );
    }

    #[tokio::test]
    async fn what_hyper_read_ahead_is_handled_first() {
        let srv = recorder(EioConfig::default());
        let (_conn, mut client, _task) = driven(&srv, &masked(ws::OP_TEXT, b"4early")).await;
        send(&mut client, ws::OP_TEXT, b"4later").await;
        assert_eq!(text(&mut client).await, "0{}");
        send(&mut client, ws::OP_CLOSE, &[3, 232]).await;
        // the close frame back, then the end
        assert_eq!(
            read_frame(&mut client).await.map(|f| f.0),
            Some(ws::OP_CLOSE)
        );
        assert_eq!(read_frame(&mut client).await, None);
        assert_eq!(
            seen(&srv),
            ["text early", "text later", "close transport close"]
        );
        assert_eq!(srv.connection_count(), 0);
    }

    #[tokio::test]
    async fn a_server_close_flushes_the_queue_then_closes_with_1000() {
        let srv = recorder(EioConfig::default());
        let (conn, mut client, task) = driven(&srv, b"").await;
        assert_eq!(text(&mut client).await, "0{}");
        conn.send(Frame::message("last"))
            .unwrap_or_else(|e| panic!("{e}"));
        conn.close(CloseReason::ServerClose);
        assert_eq!(text(&mut client).await, "4last");
        closed_normally(client, task).await;
        assert_eq!(seen(&srv), ["close forced server close"]);
    }

    #[tokio::test]
    async fn a_slow_consumer_is_closed_without_its_queue() {
        let srv = recorder(EioConfig {
            outbound_limit_bytes: 10,
            ..EioConfig::default()
        });
        let (conn, mut client, task) = driven(&srv, b"").await;
        assert_eq!(text(&mut client).await, "0{}");
        let big = Frame::message("more than ten bytes");
        assert_eq!(conn.send(big), Err(crate::eio::SendError::SlowConsumer));
        closed_normally(client, task).await;
        assert_eq!(seen(&srv), ["close slow consumer"]);
    }

    #[tokio::test]
    async fn a_polling_session_closed_for_an_error_ends_at_once() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, false);
        conn.close(CloseReason::ParseError);
        drive(conn.clone(), None, None).await;
        assert_eq!(seen(&srv), ["close parse error"]);
        assert!(srv.conn(conn.sid()).is_none());
    }

    #[test]
    fn finish_tells_the_handler_once() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, false);
        conn.send(Frame::message("x"))
            .unwrap_or_else(|e| panic!("{e}"));
        finish(&conn);
        finish(&conn);
        // never closed explicitly: the client went away
        assert_eq!(seen(&srv), ["close transport close"]);
        assert_eq!(conn.queued_bytes(), 0);
        assert_eq!(
            conn.send(Frame::message("y")),
            Err(crate::eio::SendError::Closed)
        );
    }
}
