//! One Engine.IO session ([`Conn`]): its state, the outbound queue every packet
//! goes through (bounded by `outbound_limit_bytes`), closing, the application
//! deadline, read holds (backpressure), and what a packet from the client does.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::packet::{Frame, Packet};
use super::server::Inner;
use super::stream::WsIo;
use super::{lock, CloseReason, EioConfig, EioHandler, Message, SendError};

pub(super) struct ConnState {
    pub(super) queue: VecDeque<Frame>,
    pub(super) queued: usize,
    /// The websocket is the transport (direct, or after the upgrade completed).
    pub(super) ws: bool,
    /// A websocket upgrade request was accepted and not abandoned.
    pub(super) upgrade_started: bool,
    /// The probe was answered: pending polls get a noop.
    pub(super) upgrading: bool,
    /// The upgraded stream (and bytes already read), handed to the driver.
    pub(super) upgrade_io: Option<(WsIo, Bytes)>,
    /// Frames to write on their own before the rest of the queue.
    pub(super) split: Option<usize>,
    pub(super) poll_active: bool,
    pub(super) closed: Option<CloseReason>,
    /// The client has been told (or can no longer be told) about the close.
    pub(super) final_flushed: bool,
    pub(super) next_ping: Instant,
    pub(super) pong_deadline: Option<Instant>,
    pub(super) deadline: Option<Instant>,
    /// Holds on reading from the client ([`Conn::hold_reading`]): backpressure
    /// while the layer above has a full inbound queue.
    pub(super) holds: usize,
}

impl ConnState {
    /// A new session's state; `ws`: it is a websocket from the start.
    pub(super) fn new(ws: bool, next_ping: Instant) -> Self {
        ConnState {
            queue: VecDeque::new(),
            queued: 0,
            ws,
            upgrade_started: false,
            upgrading: false,
            upgrade_io: None,
            split: None,
            poll_active: false,
            closed: None,
            final_flushed: false,
            next_ping,
            pong_deadline: None,
            deadline: None,
            holds: 0,
        }
    }

    /// Takes the whole queue.
    pub(super) fn take_queue(&mut self) -> VecDeque<Frame> {
        self.queued = 0;
        self.split = None;
        std::mem::take(&mut self.queue)
    }

    /// Takes the queue up to a pending split point (all of it when none); `true`
    /// when it stopped at one.
    pub(super) fn take_batch(&mut self) -> (VecDeque<Frame>, bool) {
        match self.split.take() {
            Some(n) if n > 0 && n < self.queue.len() => {
                let rest = self.queue.split_off(n);
                let batch = std::mem::replace(&mut self.queue, rest);
                self.queued -= batch.iter().map(Frame::len).sum::<usize>();
                (batch, true)
            }
            _ => (self.take_queue(), false),
        }
    }
}

/// One Engine.IO session.
pub struct Conn<H: EioHandler> {
    pub(super) sid: Arc<str>,
    pub(super) server: Arc<Inner<H>>,
    pub(super) data: H::Data,
    pub(super) st: Mutex<ConnState>,
    /// Wakes the writer (websocket driver or the pending poll).
    pub(super) data_ready: Notify,
    /// Wakes the driver (close, upgrade, pong, deadline, reading resumed).
    pub(super) ctrl: Notify,
    /// Wakes polling POSTs waiting for reading to resume.
    pub(super) resume: Notify,
}

impl<H: EioHandler> Conn<H> {
    /// A new session of `server` (not yet in its map of sessions).
    pub(super) fn new(server: Arc<Inner<H>>, sid: Arc<str>, data: H::Data, ws: bool) -> Self {
        let next_ping = Instant::now() + server.config.ping_interval;
        Conn {
            sid,
            server,
            data,
            st: Mutex::new(ConnState::new(ws, next_ping)),
            data_ready: Notify::new(),
            ctrl: Notify::new(),
            resume: Notify::new(),
        }
    }

    pub fn sid(&self) -> &str {
        &self.sid
    }

    pub fn data(&self) -> &H::Data {
        &self.data
    }

    pub fn config(&self) -> &EioConfig {
        &self.server.config
    }

    /// Queues one packet.
    pub fn send(&self, frame: Frame) -> Result<(), SendError> {
        self.send_all(std::slice::from_ref(&frame))
    }

    /// Queues packets back to back (a message and its binary attachments).
    pub fn send_all(&self, frames: &[Frame]) -> Result<(), SendError> {
        let add: usize = frames.iter().map(Frame::len).sum();
        let mut st = lock(&self.st);
        if st.closed.is_some() {
            return Err(SendError::Closed);
        }
        if st.queued.saturating_add(add) > self.server.config.outbound_limit_bytes {
            st.closed = Some(CloseReason::SlowConsumer);
            let queued = st.queued;
            drop(st);
            tracing::warn!(sid = %self.sid, queued, "slow consumer: closing the connection");
            self.wake_all();
            return Err(SendError::SlowConsumer);
        }
        st.queue.extend(frames.iter().cloned());
        st.queued += add;
        drop(st);
        self.data_ready.notify_one();
        Ok(())
    }

    /// Queues `first`, then `then`, asking the websocket writer to put `first` in a
    /// write of its own (a handshake answer before what follows it).
    pub fn send_split(&self, first: &[Frame], then: &[Frame]) -> Result<(), SendError> {
        if then.is_empty() {
            return self.send_all(first);
        }
        let all: Vec<Frame> = first.iter().chain(then).cloned().collect();
        self.send_all(&all)?;
        let mut st = lock(&self.st);
        let at = st.queue.len().saturating_sub(then.len());
        st.split = Some(at);
        Ok(())
    }

    /// Bytes waiting in the outbound queue.
    pub fn queued_bytes(&self) -> usize {
        lock(&self.st).queued
    }

    /// Closes the session (no-op when already closing).
    pub fn close(&self, reason: CloseReason) {
        let mut st = lock(&self.st);
        if st.closed.is_some() {
            return;
        }
        st.closed = Some(reason);
        drop(st);
        self.wake_all();
    }

    pub fn is_closed(&self) -> bool {
        lock(&self.st).closed.is_some()
    }

    /// `"websocket"` or `"polling"`.
    pub fn transport(&self) -> &'static str {
        if lock(&self.st).ws {
            "websocket"
        } else {
            "polling"
        }
    }

    /// Arms (or clears) a one-shot deadline; [`EioHandler::on_deadline`] runs when it passes.
    pub fn set_deadline(&self, at: Option<Instant>) {
        lock(&self.st).deadline = at;
        self.ctrl.notify_one();
    }

    pub(super) fn wake_all(&self) {
        self.ctrl.notify_one();
        self.data_ready.notify_one();
        self.resume.notify_waiters();
    }

    /// Stops taking packets from the client (backpressure): the websocket is not
    /// read, a polling POST waits before its next message. Counted: reading
    /// resumes when every hold is released. No ping timeout while held (the
    /// pong may be among what is not read).
    pub fn hold_reading(&self) {
        lock(&self.st).holds += 1;
    }

    /// Releases one [`Conn::hold_reading`].
    pub fn release_reading(&self) {
        let mut st = lock(&self.st);
        st.holds = st.holds.saturating_sub(1);
        if st.holds > 0 {
            return;
        }
        if let Some(d) = st.pong_deadline {
            st.pong_deadline = Some(d.max(Instant::now() + self.server.config.ping_timeout));
        }
        drop(st);
        self.ctrl.notify_one();
        self.resume.notify_waiters();
    }

    /// Whether reading is held.
    pub fn reading_held(&self) -> bool {
        lock(&self.st).holds > 0
    }

    /// Waits until reading is not held; `false` when the connection closed.
    pub(super) async fn readable(&self) -> bool {
        loop {
            let resumed = self.resume.notified();
            {
                let st = lock(&self.st);
                if st.closed.is_some() {
                    return false;
                }
                if st.holds == 0 {
                    return true;
                }
            }
            resumed.await;
        }
    }

    /// Handles one packet from either transport. `Err` = protocol violation.
    pub(super) fn on_packet(self: &Arc<Self>, p: Packet) -> Result<(), ()> {
        match p {
            Packet::Close => self.close(CloseReason::TransportClose),
            Packet::Pong(_) => {
                let mut st = lock(&self.st);
                st.pong(Instant::now(), self.server.config.ping_interval);
                drop(st);
                self.ctrl.notify_one();
            }
            Packet::Message(b) => self.server.handler.on_message(self, Message::Text(b)),
            Packet::Binary(b) => self.server.handler.on_message(self, Message::Binary(b)),
            Packet::Ping(_) | Packet::Noop => {}
            Packet::Upgrade => return Err(()),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eio::testing::{recorder, seen, session, take_sent, texts};
    use std::time::Duration;

    fn limited(bytes: usize) -> EioConfig {
        EioConfig {
            outbound_limit_bytes: bytes,
            ..EioConfig::default()
        }
    }

    #[test]
    fn sends_queue_in_order_and_count_bytes() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, true);
        conn.send(Frame::message("ab"))
            .unwrap_or_else(|e| panic!("{e}"));
        conn.send_all(&[
            Frame::message("c"),
            Frame::Binary(Bytes::from_static(b"xyz")),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(conn.queued_bytes(), 3 + 2 + 3);
        assert_eq!(texts(&take_sent(&conn)), ["4ab", "4c", "<binary 3>"]);
        assert_eq!(conn.queued_bytes(), 0);
    }

    #[test]
    fn over_the_limit_closes_as_a_slow_consumer() {
        let srv = recorder(limited(5));
        let conn = session(&srv, true);
        conn.send(Frame::message("abcd"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(conn.send(Frame::message("e")), Err(SendError::SlowConsumer));
        assert!(conn.is_closed());
        assert_eq!(lock(&conn.st).closed, Some(CloseReason::SlowConsumer));
        // what passed the limit was not queued; nothing more is
        assert_eq!(conn.queued_bytes(), 5);
        assert_eq!(conn.send(Frame::message("")), Err(SendError::Closed));
    }

    #[test]
    fn a_split_send_writes_its_first_part_alone() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, true);
        conn.send(Frame::message("before"))
            .unwrap_or_else(|e| panic!("{e}"));
        let first = [Frame::message("connect")];
        let then = [Frame::message("a"), Frame::message("b")];
        conn.send_split(&first, &then)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut st = lock(&conn.st);
        let (batch, split) = st.take_batch();
        assert!(split);
        assert_eq!(texts(&Vec::from(batch)), ["4before", "4connect"]);
        assert_eq!(st.queued, 4);
        let (rest, split) = st.take_batch();
        assert!(!split);
        assert_eq!(texts(&Vec::from(rest)), ["4a", "4b"]);
        assert_eq!(st.queued, 0);
    }

    #[test]
    fn a_split_with_nothing_after_is_a_plain_send() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, true);
        conn.send_split(&[Frame::message("only")], &[])
            .unwrap_or_else(|e| panic!("{e}"));
        let (batch, split) = lock(&conn.st).take_batch();
        assert!(!split);
        assert_eq!(batch.len(), 1);
    }

    #[test]
    fn close_keeps_the_first_reason() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, false);
        assert!(!conn.is_closed());
        conn.close(CloseReason::ServerClose);
        conn.close(CloseReason::ParseError);
        assert_eq!(lock(&conn.st).closed, Some(CloseReason::ServerClose));
        assert_eq!(conn.transport(), "polling");
    }

    #[test]
    fn holds_are_counted_and_release_extends_the_pong_deadline() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, true);
        let soon = Instant::now();
        lock(&conn.st).pong_deadline = Some(soon);
        conn.hold_reading();
        conn.hold_reading();
        conn.release_reading();
        assert!(conn.reading_held());
        assert_eq!(lock(&conn.st).pong_deadline, Some(soon));
        conn.release_reading();
        assert!(!conn.reading_held());
        let later = lock(&conn.st).pong_deadline.unwrap_or(soon);
        assert!(
            later >= soon + Duration::from_secs(20),
            "a full ping_timeout again"
        );
        // more releases than holds do not go below zero
        conn.release_reading();
        conn.hold_reading();
        assert!(conn.reading_held());
    }

    #[tokio::test]
    async fn readable_waits_for_the_last_release() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, true);
        assert!(conn.readable().await);
        conn.hold_reading();
        let c = conn.clone();
        let waiting = tokio::spawn(async move { c.readable().await });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        conn.release_reading();
        assert!(waiting.await.unwrap_or(false));
        conn.hold_reading();
        let c = conn.clone();
        let waiting = tokio::spawn(async move { c.readable().await });
        conn.close(CloseReason::ServerClose);
        assert!(!waiting.await.unwrap_or(true), "false once closed");
    }

    #[test]
    fn packets_from_the_client() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, true);
        let packet = |p| conn.on_packet(p);
        lock(&conn.st).pong_deadline = Some(Instant::now());
        assert_eq!(packet(Packet::Pong(Bytes::new())), Ok(()));
        assert_eq!(lock(&conn.st).pong_deadline, None);
        assert_eq!(packet(Packet::Message(Bytes::from_static(b"4m"))), Ok(()));
        assert_eq!(packet(Packet::Binary(Bytes::from_static(b"bb"))), Ok(()));
        assert_eq!(packet(Packet::Ping(Bytes::new())), Ok(()));
        assert_eq!(packet(Packet::Noop), Ok(()));
        assert_eq!(
            packet(Packet::Upgrade),
            Err(()),
            "only on a probing websocket"
        );
        assert!(!conn.is_closed());
        assert_eq!(packet(Packet::Close), Ok(()));
        assert_eq!(lock(&conn.st).closed, Some(CloseReason::TransportClose));
        assert_eq!(seen(&srv), ["text m", "binary 2"]);
    }

    #[test]
    fn deadlines_are_stored_for_the_driver() {
        let srv = recorder(EioConfig::default());
        let conn = session(&srv, true);
        let at = Instant::now() + Duration::from_secs(3);
        conn.set_deadline(Some(at));
        assert_eq!(lock(&conn.st).deadline, Some(at));
        conn.set_deadline(None);
        assert_eq!(lock(&conn.st).deadline, None);
        assert_eq!(conn.sid().len(), 20);
        assert!(srv.conn(conn.sid()).is_some());
    }
}
