//! The cluster module against a real Redis: fan-out between two nodes in one
//! process, presence across nodes, reaping a dead node, and delivery resuming
//! after a Redis restart by itself.
//!
//! Needs Redis at `NATTER_TEST_REDIS` (default `redis://127.0.0.1:6379`); every
//! test works under its own key/channel prefix and removes its keys. The
//! restart test starts its own `redis-server` on a free port (so restarting it
//! disturbs nobody).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use fred::prelude::*;
use natter_core::Id;
use natter_realtime::{Fanout, FanoutAction, FanoutOp};
use natter_server::cluster::fanout::{self, RedisFanout};
use natter_server::cluster::presence::RedisPresence;
use natter_server::cluster::{Cluster, ClusterOptions};
use natter_server::metrics::Metrics;
use tokio::sync::mpsc;
use tokio::time::timeout;

fn redis_url() -> String {
    std::env::var("NATTER_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn test_prefix() -> String {
    format!("natter-test-{:016x}", rand::random::<u64>())
}

async fn node(url: &str, prefix: &str) -> Arc<Cluster> {
    Cluster::connect(
        &ClusterOptions {
            url: url.into(),
            prefix: prefix.into(),
        },
        Metrics::new(),
    )
    .await
    .expect("connect to Redis")
}

/// A node whose received ops land in a channel.
async fn listening(url: &str, prefix: &str) -> (Arc<Cluster>, mpsc::UnboundedReceiver<FanoutOp>) {
    let c = node(url, prefix).await;
    let (tx, rx) = mpsc::unbounded_channel();
    fanout::subscribe(c.clone(), move |op| {
        let _ = tx.send(op);
    })
    .await
    .expect("subscribe");
    (c, rx)
}

fn emit_op(n: u32) -> FanoutOp {
    FanoutOp {
        namespace: "/".into(),
        rooms: vec!["room:1".into(), "room:2".into()],
        except_rooms: vec!["user:9".into()],
        except_sockets: vec![],
        action: FanoutAction::Emit {
            packet: Bytes::from(format!("42[\"message:new\",{{\"seq\":{n}}}]")),
            attachments: vec![Bytes::from_static(&[0, 1, 2])],
        },
    }
}

/// Removes every key of a test prefix.
async fn cleanup(url: &str, prefix: &str) {
    let client = Builder::from_config(Config::from_url(url).unwrap())
        .build()
        .unwrap();
    client.init().await.unwrap();
    let _: i64 = client
        .eval(
            "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) n = n + 1 end return n",
            Vec::<String>::new(),
            vec![format!("{{{prefix}}}:*")],
        )
        .await
        .unwrap();
    let _ = client.quit().await;
}

async fn recv(rx: &mut mpsc::UnboundedReceiver<FanoutOp>) -> Option<FanoutOp> {
    timeout(Duration::from_secs(5), rx.recv())
        .await
        .ok()
        .flatten()
}

#[tokio::test]
async fn an_op_published_on_one_node_reaches_the_other_once_and_not_itself() {
    let url = redis_url();
    let prefix = test_prefix();
    let (a, mut a_rx) = listening(&url, &prefix).await;
    let (b, mut b_rx) = listening(&url, &prefix).await;
    let (_c, mut c_rx) = listening(&url, &test_prefix()).await; // another deployment
    let fan = RedisFanout::start(a.clone());

    for n in 0..50 {
        fan.publish(&emit_op(n));
    }
    for n in 0..50 {
        assert_eq!(recv(&mut b_rx).await, Some(emit_op(n)), "op {n}, in order");
    }
    let join = FanoutOp {
        action: FanoutAction::Join(vec!["room:3".into()]),
        ..emit_op(0)
    };
    fan.publish(&join);
    assert_eq!(recv(&mut b_rx).await, Some(join));

    // one PUBLISH per op, whatever the rooms; none back to the sender, none to
    // another prefix
    assert_eq!(a.metrics().fanout_published.get(), 51);
    assert_eq!(b.metrics().fanout_received.get(), 51);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(a_rx.try_recv().is_err(), "a node ignores its own ops");
    assert!(c_rx.try_recv().is_err(), "other prefixes hear nothing");
    assert_eq!(
        a.metrics()
            .fanout_dropped
            .with_label_values(&["queue_full"])
            .get(),
        0
    );

    a.leave().await;
    b.leave().await;
    cleanup(&url, &prefix).await;
}

#[tokio::test]
async fn a_user_is_online_while_any_node_has_a_socket() {
    let url = redis_url();
    let prefix = test_prefix();
    let (a, b) = (node(&url, &prefix).await, node(&url, &prefix).await);
    let (pa, pb) = (RedisPresence::new(a.clone()), RedisPresence::new(b.clone()));
    pa.beat().await.unwrap();
    pb.beat().await.unwrap();
    let (u, other) = (Id(41), Id(42));

    assert!(pa.connected(u).await, "first socket anywhere: online");
    assert!(!pa.connected(u).await, "second tab on the same node");
    assert!(!pb.connected(u).await, "a socket on another node");
    assert_eq!(pb.online(&[u, other]).await, vec![true, false]);

    assert!(!pa.disconnected(u, time::OffsetDateTime::now_utc()).await);
    assert!(
        !pa.disconnected(u, time::OffsetDateTime::now_utc()).await,
        "still on b"
    );
    assert_eq!(pa.online(&[u]).await, vec![true], "a sees b's socket");
    let at = time::OffsetDateTime::now_utc();
    assert!(
        pb.disconnected(u, at).await,
        "last socket anywhere: offline"
    );
    assert_eq!(pa.online(&[u]).await, vec![false]);
    let seen = pa.last_seen(&[u, other]).await;
    assert!(seen[0].is_some_and(|t| (t - at).abs() < time::Duration::seconds(1)));
    assert_eq!(seen[1], None);

    a.leave().await;
    b.leave().await;
    cleanup(&url, &prefix).await;
}

#[tokio::test]
async fn a_dead_nodes_users_go_offline_unless_online_elsewhere() {
    let url = redis_url();
    let prefix = test_prefix();
    let (a, b) = (node(&url, &prefix).await, node(&url, &prefix).await);
    let (pa, pb) = (RedisPresence::new(a.clone()), RedisPresence::new(b.clone()));
    pa.beat().await.unwrap();
    pb.beat().await.unwrap();
    let (only_a, both, only_b) = (Id(1), Id(2), Id(3));
    pa.connected(only_a).await;
    pa.connected(both).await;
    pb.connected(both).await;
    pb.connected(only_b).await;

    // a alive: nothing to reap
    let (tx, mut rx) = mpsc::channel(16);
    pb.reap(&tx).await.unwrap();
    assert!(rx.try_recv().is_err());

    // a "dies": its heartbeat expires (as after kill -9, without waiting 15 s)
    let raw = Builder::from_config(Config::from_url(&url).unwrap())
        .build()
        .unwrap();
    raw.init().await.unwrap();
    let _: i64 = raw
        .del(format!("{{{prefix}}}:hb:{}", a.node_id()))
        .await
        .unwrap();
    pb.reap(&tx).await.unwrap();
    let (user, _) = timeout(Duration::from_secs(2), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user, only_a);
    assert!(rx.try_recv().is_err(), "`both` is still on b");
    assert_eq!(
        pb.online(&[only_a, both, only_b]).await,
        vec![false, true, true]
    );
    assert_eq!(b.metrics().presence_nodes_reaped.get(), 1);

    // reaped once: a second pass finds nothing
    pb.reap(&tx).await.unwrap();
    assert!(rx.try_recv().is_err());

    let _ = raw.quit().await;
    b.leave().await;
    cleanup(&url, &prefix).await;
}

/// A `redis-server` of our own on a free port, restartable.
struct OwnRedis {
    port: u16,
    child: Option<std::process::Child>,
    dir: tempfile::TempDir,
}

impl OwnRedis {
    fn start() -> OwnRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut r = OwnRedis {
            port,
            child: None,
            dir: tempfile::tempdir().unwrap(),
        };
        r.spawn();
        r
    }

    fn spawn(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed (apt-get install redis-server)");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test]
async fn delivery_resumes_by_itself_after_a_redis_restart() {
    let mut redis = OwnRedis::start();
    let url = redis.url();
    let prefix = test_prefix();
    let (a, _a_rx) = listening(&url, &prefix).await;
    let (b, mut b_rx) = listening(&url, &prefix).await;
    let pa = RedisPresence::new(a.clone());
    pa.beat().await.unwrap();
    pa.connected(Id(5)).await;
    let fan = RedisFanout::start(a.clone());
    fan.publish(&emit_op(1));
    assert_eq!(recv(&mut b_rx).await, Some(emit_op(1)));

    redis.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    fan.publish(&emit_op(2)); // Redis away: dropped and counted, never blocks
    redis.spawn();

    // no restart of either node: both clients reconnect, b re-subscribes
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut n = 100;
    let got = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "cross-node delivery did not resume after the Redis restart"
        );
        n += 1;
        fan.publish(&emit_op(n));
        match timeout(Duration::from_millis(300), b_rx.recv()).await {
            Ok(Some(op)) => break op,
            _ => continue,
        }
    };
    assert!(matches!(got.action, FanoutAction::Emit { .. }));
    assert!(a.metrics().redis_reconnects.get() >= 1);
    assert!(b.metrics().redis_reconnects.get() >= 1);

    // presence written back on the next beat (Redis lost everything)
    let pb = RedisPresence::new(b.clone());
    pa.beat().await.unwrap();
    pb.beat().await.unwrap();
    assert_eq!(pb.online(&[Id(5)]).await, vec![true]);
    // each node's subscriber reconnects on its own schedule: both are back soon
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !(a.ping().await.is_ok() && b.ping().await.is_ok()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a node's Redis clients did not reconnect: a {:?}, b {:?}",
            a.ping().await,
            b.ping().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    drop(redis);
}
