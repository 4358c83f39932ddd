//! Running a socket's handlers: every [`Job`] (connect, each event, disconnect)
//! waits in the socket's queue and one worker task runs them in arrival order,
//! then ends (an idle socket has no task). A full queue holds the connection's
//! reading (backpressure) until half of it is handled.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use serde_json::Value;

use super::acks::AckSender;
use super::handler::{ConnectInfo, DisconnectReason, Event, Handler};
use super::socket::SocketRef;
use crate::eio::lock;

pub(super) enum Job {
    Connect(Option<Value>),
    Event(Event, Option<u64>),
    /// An event refused by the engine (lone surrogate): its name and ack id.
    Invalid(String, Option<u64>),
    Disconnect(DisconnectReason),
}

impl SocketRef {
    /// Events from the client waiting for this socket's handler (the one
    /// running not counted).
    pub fn queued_events(&self) -> usize {
        lock(&self.inner.st)
            .jobs
            .iter()
            .filter(|j| matches!(j, Job::Event(..) | Job::Invalid(..)))
            .count()
    }

    pub(super) fn push_job(&self, job: Job) {
        let max = self.inner.ns.max_queued_events;
        let mut st = lock(&self.inner.st);
        st.jobs.push_back(job);
        let hold = !st.holding && max > 0 && st.jobs.len() >= max;
        st.holding |= hold;
        let spawn = !st.running;
        st.running = true;
        drop(st);
        if hold {
            tracing::debug!(socket = %self.inner.id, "inbound queue full: reading held");
            self.inner.conn.hold_reading();
        }
        if spawn {
            self.inner.ns.handler.clone().spawn_worker(self.clone());
        }
    }

    fn take_job(&self) -> Option<Job> {
        let mut st = lock(&self.inner.st);
        let job = st.jobs.pop_front();
        let release = st.holding && st.jobs.len() <= self.inner.ns.max_queued_events / 2;
        st.holding &= !release;
        if job.is_none() {
            st.running = false;
            st.jobs = VecDeque::new();
        }
        drop(st);
        if release {
            self.inner.conn.release_reading();
        }
        job
    }
}

/// A namespace's handler with its `State` type erased.
pub(super) trait DynHandler: Send + Sync {
    fn spawn_worker(self: Arc<Self>, socket: SocketRef);
}

pub(super) struct Typed<H: Handler>(pub(super) H);

impl<H: Handler> DynHandler for Typed<H> {
    fn spawn_worker(self: Arc<Self>, socket: SocketRef) {
        tokio::spawn(worker(self, socket));
    }
}

/// Runs one socket's jobs in order, then ends (idle sockets have no task).
async fn worker<H: Handler>(h: Arc<Typed<H>>, socket: SocketRef) {
    while let Some(job) = socket.take_job() {
        match job {
            Job::Connect(auth) => {
                let conn = &socket.inner.conn;
                let info = ConnectInfo {
                    namespace: &socket.inner.ns.path,
                    auth: auth.as_ref(),
                    headers: &conn.data().headers,
                    remote_addr: conn.data().remote,
                };
                match AssertUnwindSafe(h.0.connect(&socket, info))
                    .catch_unwind()
                    .await
                {
                    Ok(Ok(state)) => socket.connected_with(Arc::new(state)),
                    Ok(Err(e)) => socket.refused(&e.0),
                    Err(_) => {
                        tracing::error!(namespace = %socket.inner.ns.path, "connect handler panicked");
                        socket.refused("Internal error");
                    }
                }
            }
            Job::Event(event, ack) => {
                let Some(s) = socket.typed::<H::State>() else {
                    continue;
                };
                let name = event.name.clone();
                let ack = ack.map(|id| AckSender {
                    socket: socket.clone(),
                    id,
                });
                if AssertUnwindSafe(h.0.event(&s, event, ack))
                    .catch_unwind()
                    .await
                    .is_err()
                {
                    tracing::error!(event = %name, "event handler panicked");
                }
            }
            Job::Invalid(name, ack) => {
                let Some(s) = socket.typed::<H::State>() else {
                    continue;
                };
                let ack = ack.map(|id| AckSender {
                    socket: socket.clone(),
                    id,
                });
                if AssertUnwindSafe(h.0.invalid_event(&s, name, ack))
                    .catch_unwind()
                    .await
                    .is_err()
                {
                    tracing::error!("invalid_event handler panicked");
                }
            }
            Job::Disconnect(reason) => {
                if let Some(s) = socket.typed::<H::State>() {
                    if AssertUnwindSafe(h.0.disconnect(&s, reason))
                        .catch_unwind()
                        .await
                        .is_err()
                    {
                        tracing::error!("disconnect handler panicked");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::eio::{CloseReason, EioHandler};
    use crate::sio::testing::{fixture, sent, until};
    use crate::sio::EngineConfig;
    use serde_json::json;

    /// A fixture whose sockets hold reading at `max` queued events.
    fn queue_of(max: usize) -> crate::sio::testing::Fixture {
        fixture(EngineConfig {
            max_queued_events: max,
            ..EngineConfig::default()
        })
    }

    #[tokio::test]
    async fn events_run_in_arrival_order_then_the_disconnect() {
        let fx = fixture(EngineConfig::default());
        let (conn, s) = fx.connect(json!({})).await;
        for i in 0..5 {
            fx.text(&conn, &format!("2[\"e\",{i}]"));
        }
        fx.engine
            .eio
            .handler()
            .on_close(&conn, CloseReason::PingTimeout);
        assert!(!s.connected());
        until(|| fx.seen().len() == 6).await;
        assert_eq!(
            fx.seen(),
            [
                "e [0] 0",
                "e [1] 0",
                "e [2] 0",
                "e [3] 0",
                "e [4] 0",
                "disconnect / ping timeout"
            ]
        );
    }

    #[tokio::test]
    async fn a_full_queue_holds_reading_until_half_is_handled() {
        let fx = queue_of(4);
        let (conn, s) = fx.connect(json!({})).await;
        // the worker cannot run before this task yields
        for i in 0..3 {
            fx.text(&conn, &format!("2[\"e\",{i}]"));
        }
        assert_eq!(s.queued_events(), 3);
        assert!(!conn.reading_held());
        fx.text(&conn, "2[\"e\",3]");
        assert!(conn.reading_held());
        until(|| s.queued_events() == 0).await;
        assert!(!conn.reading_held());
        until(|| fx.seen().len() == 4).await;
    }

    #[tokio::test]
    async fn no_limit_never_holds() {
        let fx = queue_of(0);
        let (conn, s) = fx.connect(json!({})).await;
        for i in 0..300 {
            fx.text(&conn, &format!("2[\"e\",{i}]"));
        }
        assert_eq!(s.queued_events(), 300);
        assert!(!conn.reading_held());
    }

    #[tokio::test]
    async fn an_event_the_engine_refused_is_dropped_by_default() {
        let fx = fixture(EngineConfig::default());
        let (conn, _s) = fx.connect(json!({})).await;
        fx.text(&conn, r#"21["bad","\ud83d"]"#);
        fx.text(&conn, r#"22["good","\ud83d\ude00"]"#);
        until(|| fx.seen().len() == 1).await;
        assert_eq!(fx.seen(), ["good [\"\u{1f600}\"] 0"]);
        until(|| conn.queued_bytes() > 0).await;
        assert_eq!(
            sent(&conn),
            ["432[\"\u{1f600}\"]"],
            "no ack for the refused one"
        );
        assert!(!conn.is_closed());
    }
}
