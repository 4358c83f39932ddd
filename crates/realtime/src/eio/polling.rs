//! The HTTP long-polling transport of a session: a GET waits for what is
//! queued (one poll at a time), a POST carries packets from the client. A poll
//! also learns of a close, and of an upgrade (it is answered a noop).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{header, Request, StatusCode};
use tokio::time::Instant;

use super::packet::{self, Packet};
use super::response::{bad, error_response, text_response};
use super::{lock, CloseReason, Conn, EioHandler, Frame};

/// How long a poll that arrived during an upgrade waits for its completion.
const UPGRADE_GRACE: Duration = Duration::from_millis(20);

/// Resets `poll_active` when a poll ends (answered or abandoned by the client).
struct PollGuard<'a, H: EioHandler>(&'a Conn<H>);

impl<H: EioHandler> Drop for PollGuard<'_, H> {
    fn drop(&mut self) {
        lock(&self.0.st).poll_active = false;
    }
}

impl<H: EioHandler> Conn<H> {
    /// A polling GET: what is queued (waiting until something is), or how the
    /// session ended, or a noop once the upgrade has been probed.
    pub(super) async fn poll(self: &Arc<Self>) -> Response {
        // A poll that comes once a websocket upgrade has begun: if the upgrade then
        // completes, it is refused like any poll after the upgrade.
        let arrived_during_upgrade;
        {
            let mut st = lock(&self.st);
            if st.ws {
                return bad(3);
            }
            if st.closed.is_some()
                && (st.final_flushed || !st.closed.is_some_and(CloseReason::waits_for_poll))
            {
                return bad(1);
            }
            if st.closed.is_none() && st.ping_overdue(Instant::now()) {
                st.closed = Some(CloseReason::PingTimeout);
                st.final_flushed = true;
                drop(st);
                self.wake_all();
                return bad(1);
            }
            if st.poll_active {
                st.closed = Some(CloseReason::TransportError);
                drop(st);
                tracing::debug!(sid = %self.sid, "overlapping polls: closing");
                self.wake_all();
                return bad(3);
            }
            st.poll_active = true;
            arrived_during_upgrade = st.upgrade_started;
        }
        let _guard = PollGuard(self);
        let mut waited = false;
        loop {
            let notified = self.data_ready.notified();
            let wait_upgrade;
            {
                let mut st = lock(&self.st);
                if let Some(reason) = st.closed {
                    let mut frames = if reason.graceful() {
                        st.take_queue()
                    } else {
                        VecDeque::new()
                    };
                    let last: &'static [u8] = if reason == CloseReason::TransportClose {
                        b"6"
                    } else {
                        b"1"
                    };
                    frames.push_back(Frame::Text(Bytes::from_static(last)));
                    st.final_flushed = true;
                    drop(st);
                    self.ctrl.notify_one();
                    return text_response(packet::encode_payload(&frames));
                }
                if !st.queue.is_empty() {
                    let frames = st.take_queue();
                    drop(st);
                    return text_response(packet::encode_payload(&frames));
                }
                if st.ws {
                    return if arrived_during_upgrade {
                        bad(3)
                    } else {
                        text_response("6")
                    };
                }
                if st.upgrading && (!arrived_during_upgrade || waited) {
                    return text_response("6");
                }
                wait_upgrade = st.upgrading;
            }
            if wait_upgrade {
                // the upgrade packet is usually right behind the probe
                waited = true;
                let _ = tokio::time::timeout(UPGRADE_GRACE, notified).await;
                continue;
            }
            notified.await;
        }
    }

    /// A polling POST: the client's packets, handled in order. Held reading
    /// holds the answer (backpressure).
    pub(super) async fn post(self: &Arc<Self>, req: Request<Body>) -> Response {
        {
            let st = lock(&self.st);
            if st.ws {
                return bad(3);
            }
            if st.closed.is_some() {
                return bad(1);
            }
        }
        let max = self.server.config.max_payload;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let too_big = || {
            self.close(CloseReason::TransportError);
            error_response(3, "Payload too large", StatusCode::PAYLOAD_TOO_LARGE)
        };
        if declared.is_some_and(|l| l > max) {
            return too_big();
        }
        let body = match axum::body::to_bytes(req.into_body(), max).await {
            Ok(b) => b,
            Err(_) => return too_big(),
        };
        let packets = match packet::decode_payload(&body) {
            Ok(p) => p,
            Err(e) => {
                tracing::debug!(sid = %self.sid, error = %e, "bad polling payload: closing");
                self.close(CloseReason::ParseError);
                return bad(3);
            }
        };
        for p in packets {
            // backpressure: the client gets its answer once the handlers caught up
            if matches!(p, Packet::Message(_) | Packet::Binary(_)) && !self.readable().await {
                break;
            }
            if self.on_packet(p).is_err() {
                self.close(CloseReason::ParseError);
                return bad(3);
            }
        }
        text_response("ok")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eio::testing::{recorder, seen, session, Recorder};
    use crate::eio::EioConfig;

    async fn body(r: Response) -> (StatusCode, String) {
        let status = r.status();
        let b = axum::body::to_bytes(r.into_body(), 1 << 20)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        (status, String::from_utf8_lossy(&b).into_owned())
    }

    fn post_req(body: &'static [u8]) -> Request<Body> {
        Request::builder()
            .method("POST")
            .body(Body::from(body))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn small() -> EioConfig {
        EioConfig {
            max_payload: 100,
            ..EioConfig::default()
        }
    }

    /// A poll started in its own task, once it waits.
    async fn pending_poll(conn: &Arc<Conn<Recorder>>) -> tokio::task::JoinHandle<Response> {
        let c = conn.clone();
        let task = tokio::spawn(async move { c.poll().await });
        while !lock(&conn.st).poll_active {
            tokio::task::yield_now().await;
        }
        task
    }

    async fn joined(t: tokio::task::JoinHandle<Response>) -> (StatusCode, String) {
        body(t.await.unwrap_or_else(|e| panic!("{e}"))).await
    }

    #[tokio::test]
    async fn a_poll_takes_the_whole_queue_as_one_payload() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, false);
        let sent = [
            Frame::message("a"),
            Frame::Binary(Bytes::from_static(&[1, 2, 3])),
        ];
        conn.send_all(&sent).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            body(conn.poll().await).await,
            (StatusCode::OK, "4a\x1ebAQID".into())
        );
        assert_eq!(conn.queued_bytes(), 0);
    }

    #[tokio::test]
    async fn a_waiting_poll_is_answered_by_the_next_send() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, false);
        let poll = pending_poll(&conn).await;
        conn.send(Frame::message("late"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(joined(poll).await.1, "4late");
        assert!(!lock(&conn.st).poll_active, "the guard resets it");
    }

    #[tokio::test]
    async fn overlapping_polls_close_the_session() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, false);
        let first = pending_poll(&conn).await;
        let (status, text) = body(conn.poll().await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(text.contains("\"code\":3"), "{text}");
        assert_eq!(lock(&conn.st).closed, Some(CloseReason::TransportError));
        // the waiting poll is told the session closed, without the queue
        assert_eq!(joined(first).await.1, "1");
    }

    #[tokio::test]
    async fn a_server_close_delivers_the_queue_then_a_close_once() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, false);
        conn.send(Frame::message("bye"))
            .unwrap_or_else(|e| panic!("{e}"));
        conn.close(CloseReason::ServerClose);
        assert_eq!(body(conn.poll().await).await.1, "4bye\x1e1");
        let (status, text) = body(conn.poll().await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(text.contains("\"code\":1"), "{text}");
    }

    #[tokio::test]
    async fn a_client_close_is_answered_with_a_noop() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, false);
        conn.close(CloseReason::TransportClose);
        assert_eq!(body(conn.poll().await).await.1, "6");
        // an error close tells a poll nothing more
        let conn = session(&srv, false);
        conn.close(CloseReason::ParseError);
        assert_eq!(body(conn.poll().await).await.0, StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn a_poll_after_a_missed_pong_ends_the_session() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, false);
        lock(&conn.st).pong_deadline = Some(Instant::now());
        assert_eq!(body(conn.poll().await).await.0, StatusCode::BAD_REQUEST);
        assert_eq!(lock(&conn.st).closed, Some(CloseReason::PingTimeout));
    }

    #[tokio::test]
    async fn polling_a_websocket_session_is_refused() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, true);
        assert_eq!(body(conn.poll().await).await.0, StatusCode::BAD_REQUEST);
        assert_eq!(
            body(conn.post(post_req(b"4x")).await).await.0,
            StatusCode::BAD_REQUEST
        );
        assert!(!conn.is_closed());
    }

    #[tokio::test]
    async fn a_post_hands_each_packet_over_in_order() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, false);
        lock(&conn.st).pong_deadline = Some(Instant::now() + Duration::from_secs(60));
        let r = conn.post(post_req(b"4hello\x1ebAQID\x1e3\x1e1")).await;
        assert_eq!(body(r).await, (StatusCode::OK, "ok".into()));
        assert_eq!(seen(&srv), ["text hello", "binary 3"]);
        assert_eq!(lock(&conn.st).pong_deadline, None, "the pong counted");
        assert_eq!(lock(&conn.st).closed, Some(CloseReason::TransportClose));
    }

    #[tokio::test]
    async fn a_post_over_max_payload_closes_the_session() {
        let srv = recorder(small());
        let conn = session(&srv, false);
        let big: &'static [u8] = &[b'4'; 101];
        let r = conn.post(post_req(big)).await;
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(lock(&conn.st).closed, Some(CloseReason::TransportError));
        assert!(seen(&srv).is_empty());
    }

    #[tokio::test]
    async fn a_post_that_is_not_the_protocol_closes_the_session() {
        let srv = recorder(EioConfig::default());
        for bad_body in [&b"4a\x1e9"[..], b"b!!", b"5"] {
            let conn = session(&srv, false);
            let r = conn.post(post_req(bad_body)).await;
            assert_eq!(r.status(), StatusCode::BAD_REQUEST);
            assert_eq!(lock(&conn.st).closed, Some(CloseReason::ParseError));
        }
    }
}
