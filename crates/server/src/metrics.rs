//! What `/metrics` shows (Prometheus text format). One `Metrics` per node, held
//! by `App` (no global registry, so two nodes in one test process stay apart).
//!
//! Counted here, at the server's side of the engine:
//! - socket events in, by name, and how long each `message:send` / `dm:send` took
//!   (the [`Metered`] wrapper around the gateway);
//! - events out: every broadcast/join/leave op this node issued (the
//!   [`MeteredFanout`] wrapper around the fan-out; one op reaches many sockets);
//! - store round trips (`/readyz` and a ping every 5 s), Redis reconnects,
//!   fan-out published / received / dropped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use natter_core::events::ClientEventName;
use natter_realtime::{
    AckSender, ConnectError, ConnectInfo, DisconnectReason, Event, Fanout, FanoutAction, FanoutOp,
    Handler, Socket, SocketRef,
};
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// Buckets (seconds) for request-like latencies: 0.5 ms … 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub struct Metrics {
    registry: Registry,
    pub connections: IntGauge,
    pub sockets: IntGauge,
    pub events_in: IntCounterVec,
    pub events_out: IntCounterVec,
    pub event_seconds: HistogramVec,
    pub message_send_seconds: Histogram,
    pub store_ping_seconds: Histogram,
    pub store_up: IntGauge,
    pub redis_up: IntGauge,
    pub redis_reconnects: IntCounter,
    pub fanout_published: IntCounter,
    pub fanout_received: IntCounter,
    pub fanout_dropped: IntCounterVec,
    pub presence_nodes_reaped: IntCounter,
    /// Socket event and disconnect handlers running now (shutdown waits for 0).
    pub handlers_in_flight: IntGauge,
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let registry = Registry::new();
        let m = Metrics {
            connections: gauge(
                "natter_connections",
                "Engine.IO connections open on this node",
            ),
            sockets: gauge("natter_sockets", "Socket.IO sockets open on this node"),
            events_in: counter_vec(
                "natter_events_in_total",
                "Socket events received, by event name",
                "event",
            ),
            events_out: counter_vec(
                "natter_events_out_total",
                "Broadcast ops issued by this node (emit/join/leave/disconnect), each once whatever the number of recipients",
                "action",
            ),
            event_seconds: must(HistogramVec::new(
                HistogramOpts::new(
                    "natter_event_duration_seconds",
                    "Time to handle one socket event, by event name",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
                &["event"],
            )),
            message_send_seconds: histogram(
                "natter_message_send_seconds",
                "message:send and dm:send, from receipt to ack (includes the store transaction)",
            ),
            store_ping_seconds: histogram(
                "natter_store_ping_seconds",
                "Round trip of a store ping (every 5 s and on /readyz)",
            ),
            store_up: gauge("natter_store_up", "1 when the last store ping succeeded"),
            redis_up: gauge(
                "natter_redis_up",
                "1 when the Redis clients are connected (cluster mode; 0 otherwise)",
            ),
            redis_reconnects: counter(
                "natter_redis_reconnects_total",
                "Reconnections of the Redis clients (publisher and subscriber)",
            ),
            fanout_published: counter(
                "natter_fanout_published_total",
                "Ops published to the other nodes (one PUBLISH each)",
            ),
            fanout_received: counter(
                "natter_fanout_received_total",
                "Ops received from other nodes and applied here",
            ),
            fanout_dropped: counter_vec(
                "natter_fanout_dropped_total",
                "Ops not published or not applied: queue_full, redis_error, lagged, invalid",
                "reason",
            ),
            presence_nodes_reaped: counter(
                "natter_presence_nodes_reaped_total",
                "Dead nodes (expired heartbeat) whose users this node took offline",
            ),
            handlers_in_flight: gauge(
                "natter_handlers_in_flight",
                "Socket event and disconnect handlers running now",
            ),
            registry,
        };
        m.register_all();
        Arc::new(m)
    }

    fn register_all(&self) {
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(self.connections.clone()),
            Box::new(self.sockets.clone()),
            Box::new(self.events_in.clone()),
            Box::new(self.events_out.clone()),
            Box::new(self.event_seconds.clone()),
            Box::new(self.message_send_seconds.clone()),
            Box::new(self.store_ping_seconds.clone()),
            Box::new(self.store_up.clone()),
            Box::new(self.redis_up.clone()),
            Box::new(self.redis_reconnects.clone()),
            Box::new(self.fanout_published.clone()),
            Box::new(self.fanout_received.clone()),
            Box::new(self.fanout_dropped.clone()),
            Box::new(self.presence_nodes_reaped.clone()),
            Box::new(self.handlers_in_flight.clone()),
        ];
        for c in collectors {
            if let Err(e) = self.registry.register(c) {
                tracing::error!(error = %e, "could not register a metric");
            }
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap_or_else(|e| format!("# could not encode metrics: {e}\n"))
    }

    pub fn dropped(&self, reason: &str) {
        self.fanout_dropped.with_label_values(&[reason]).inc();
    }

    pub fn store_ping(&self, took: Duration, ok: bool) {
        self.store_ping_seconds.observe(took.as_secs_f64());
        self.store_up.set(i64::from(ok));
    }

    /// A counter owned by another module (e.g. push), shown with the rest.
    pub fn register_counter(&self, name: &str, help: &str) -> IntCounter {
        let c = counter(name, help);
        if let Err(e) = self.registry.register(Box::new(c.clone())) {
            tracing::error!(error = %e, "could not register a metric");
        }
        c
    }
}

/// Metric definitions are constants (names and help texts checked by the
/// tests below), so building one cannot fail at run time.
#[allow(clippy::expect_used)]
fn must<T>(r: prometheus::Result<T>) -> T {
    r.expect("constant metric definitions are valid")
}

fn gauge(name: &str, help: &str) -> IntGauge {
    must(IntGauge::new(name, help))
}

fn counter(name: &str, help: &str) -> IntCounter {
    must(IntCounter::new(name, help))
}

fn counter_vec(name: &str, help: &str, label: &str) -> IntCounterVec {
    must(IntCounterVec::new(Opts::new(name, help), &[label]))
}

fn histogram(name: &str, help: &str) -> Histogram {
    must(Histogram::with_opts(
        HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()),
    ))
}

/// The label of an incoming event: its name when it is one of ours, else
/// `unknown` (a client cannot grow the label set).
fn event_label(name: &str) -> &'static str {
    ClientEventName::parse(name).map_or("unknown", ClientEventName::as_str)
}

/// Wraps the gateway: counts and times every socket event.
pub struct Metered<H> {
    inner: H,
    metrics: Arc<Metrics>,
}

impl<H> Metered<H> {
    pub fn new(inner: H, metrics: Arc<Metrics>) -> Self {
        Metered { inner, metrics }
    }
}

impl<H: Handler> Handler for Metered<H> {
    type State = H::State;

    async fn connect(
        &self,
        socket: &SocketRef,
        info: ConnectInfo<'_>,
    ) -> Result<Self::State, ConnectError> {
        self.inner.connect(socket, info).await
    }

    async fn event(&self, socket: &Socket<Self::State>, event: Event, ack: Option<AckSender>) {
        let label = event_label(&event.name);
        self.metrics.events_in.with_label_values(&[label]).inc();
        let started = Instant::now();
        let _running = InFlight::new(&self.metrics.handlers_in_flight);
        self.inner.event(socket, event, ack).await;
        let took = started.elapsed().as_secs_f64();
        self.metrics
            .event_seconds
            .with_label_values(&[label])
            .observe(took);
        if matches!(
            ClientEventName::parse(label),
            Some(ClientEventName::MessageSend | ClientEventName::DmSend)
        ) {
            self.metrics.message_send_seconds.observe(took);
        }
    }

    async fn disconnect(&self, socket: &Socket<Self::State>, reason: DisconnectReason) {
        let _running = InFlight::new(&self.metrics.handlers_in_flight);
        self.inner.disconnect(socket, reason).await;
    }

    async fn invalid_event(
        &self,
        socket: &Socket<Self::State>,
        name: String,
        ack: Option<AckSender>,
    ) {
        self.metrics.events_in.with_label_values(&["invalid"]).inc();
        self.inner.invalid_event(socket, name, ack).await;
    }
}

/// Counts a running handler for as long as it lives (also if it panics).
struct InFlight<'a>(&'a IntGauge);

impl<'a> InFlight<'a> {
    fn new(g: &'a IntGauge) -> Self {
        g.inc();
        InFlight(g)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Wraps a fan-out: counts the ops this node issues ("events out").
pub struct MeteredFanout {
    inner: Arc<dyn Fanout>,
    metrics: Arc<Metrics>,
}

impl MeteredFanout {
    pub fn new(inner: Arc<dyn Fanout>, metrics: Arc<Metrics>) -> Self {
        MeteredFanout { inner, metrics }
    }
}

impl Fanout for MeteredFanout {
    fn publish(&self, op: &FanoutOp) {
        let action = match op.action {
            FanoutAction::Emit { .. } => "emit",
            FanoutAction::Join(_) => "join",
            FanoutAction::Leave(_) => "leave",
            FanoutAction::Disconnect => "disconnect",
        };
        self.metrics.events_out.with_label_values(&[action]).inc();
        self.inner.publish(op);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family() {
        let m = Metrics::new();
        let send = ClientEventName::MessageSend.as_str();
        m.events_in.with_label_values(&[send]).inc();
        m.dropped("queue_full");
        m.message_send_seconds.observe(0.003);
        let text = m.render();
        let counted = format!("natter_events_in_total{{event=\"{send}\"}} 1");
        for name in [
            "natter_connections",
            &counted,
            "natter_fanout_dropped_total{reason=\"queue_full\"} 1",
            "natter_message_send_seconds_bucket",
            "natter_redis_reconnects_total 0",
            "natter_store_ping_seconds_count 0",
        ] {
            assert!(text.contains(name), "{name} missing in\n{text}");
        }
    }

    #[test]
    fn unknown_events_share_one_label() {
        let send = ClientEventName::MessageSend.as_str();
        assert_eq!(event_label(send), send);
        assert_eq!(event_label("<script>"), "unknown");
    }
}
