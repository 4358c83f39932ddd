//! Push in a cluster: no start without a VAPID key, and the focus a socket
//! reports is shared between nodes through Redis.

use natter_core::Id;
use natter_store::testing::TestDb;

use crate::common::serve_args;

#[tokio::test]
async fn cluster_mode_refuses_to_start_without_a_vapid_key() {
    let db = TestDb::postgres().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = serve_args(dir.path(), Some(db.url.clone()));
    cfg.redis_url = Some("redis://127.0.0.1:6379".into());
    let err = natter_server::build(cfg).await.err().unwrap().to_string();
    assert!(err.contains("NATTER_VAPID_PRIVATE_KEY"), "{err}");
    assert!(err.contains("cluster mode"), "{err}");
    assert!(
        !dir.path().join("vapid_private_key").exists(),
        "no key is generated for a cluster"
    );
}

/// In a cluster the node that stores a message (and pushes it) sees the focus a
/// socket on another node reported, through Redis.
#[tokio::test]
async fn focus_is_shared_between_nodes_through_redis() {
    use natter_server::cluster::{Cluster, ClusterOptions};
    use natter_server::push::focus::Focus;
    let url =
        std::env::var("NATTER_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let prefix = format!("natter-test-{:016x}", rand::random::<u64>());
    let node = || async {
        Cluster::connect(
            &ClusterOptions {
                url: url.clone(),
                prefix: prefix.clone(),
            },
            natter_server::metrics::Metrics::new(),
        )
        .await
        .unwrap()
    };
    let (a, b) = (
        Focus::new(Some(node().await)),
        Focus::new(Some(node().await)),
    );
    let (user, room, other) = (Id(7), Id(70), Id(71));
    assert!(!b.is_looking(user, room).await);
    a.set(user, "sock-on-a", Some(room)).await;
    assert!(
        b.is_looking(user, room).await,
        "node b sees node a's socket"
    );
    assert!(!b.is_looking(user, other).await);
    assert!(!b.is_looking(Id(8), room).await);
    a.set(user, "sock-on-a", Some(other)).await;
    assert!(!b.is_looking(user, room).await);
    assert!(b.is_looking(user, other).await);
    a.forget(user, "sock-on-a").await;
    assert!(!b.is_looking(user, other).await, "gone with the socket");
}
