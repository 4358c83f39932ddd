//! Web Push REST API (issue 11) on both stores: the VAPID key, subscriptions
//! (idempotent, moving, capped, validated — every bad one `invalid` with
//! nothing stored), notification levels, and the start-up rules of the key.
//! Delivery itself (encryption, VAPID signature, levels, focus, pruning) is
//! checked end to end by tests/node/push/ with an independent receiver.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;

use base64ct::{Base64UrlUnpadded, Encoding};
use common::Backend;
use natter_core::{Id, NotificationLevel};
use natter_server::app::AppState;
use natter_server::config::{PushArgs, ServeArgs, StoreArgs};
use natter_store::testing::TestDb;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;

struct PushApp {
    base: String,
    client: Client,
    state: AppState,
    _db: TestDb,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for PushApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn config(db: &TestDb, dir: &tempfile::TempDir, push: PushArgs) -> ServeArgs {
    ServeArgs {
        store: StoreArgs {
            data_dir: dir.path().to_path_buf(),
            database_url: Some(db.url.clone()),
        },
        port: 0,
        bind: [127, 0, 0, 1].into(),
        redis_url: None,
        jwt_secret: Some("test-secret-test-secret-test-secret".into()),
        frontend_url: None,
        token_ttl_hours: 1,
        rate_limits: "off".into(),
        secure_cookie: false,
        conn_limits: Default::default(),
        push,
        files: Default::default(),
        security: Default::default(),
    }
}

async fn db(backend: &Backend) -> TestDb {
    match backend {
        Backend::Sqlite => TestDb::sqlite().await,
        Backend::Postgres => TestDb::postgres().await,
    }
}

impl PushApp {
    async fn start(backend: Backend, push: PushArgs) -> PushApp {
        let db = db(&backend).await;
        let dir = tempfile::tempdir().unwrap();
        let (router, state) = natter_server::build(config(&db, &dir, push)).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        PushApp {
            base: format!("http://{addr}"),
            client: Client::new(),
            state,
            _db: db,
            _dir: dir,
            server,
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn user(&self, name: &str) -> (String, Id) {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/auth/register",
                None,
                Some(json!({"email": format!("{name}@example.com"), "username": name, "name": name, "password": "password123"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["user"]["id"].as_str().unwrap().parse().unwrap();
        (body["token"].as_str().unwrap().to_owned(), id)
    }

    async fn subscribe(&self, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/api/push/subscriptions",
            Some(token),
            Some(body),
        )
        .await
    }

    async fn stored(&self, user: Id) -> Vec<natter_store::PushSubscription> {
        self.state
            .store
            .push_subscriptions_of(&[user])
            .await
            .unwrap()
    }
}

/// A browser's keys: a fresh P-256 public key and a 16-byte auth secret.
fn keys() -> (String, String) {
    let secret = web_push_native::p256::SecretKey::random(&mut rand::rngs::OsRng);
    let public = secret.public_key().to_encoded_point(false);
    (
        Base64UrlUnpadded::encode_string(public.as_bytes()),
        Base64UrlUnpadded::encode_string(&[7u8; 16]),
    )
}

fn sub(endpoint: &str) -> Value {
    let (p256dh, auth) = keys();
    json!({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}})
}

macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Postgres).await
                }
            )*
        }
    };
}

both_stores!(
    vapid_public_key_is_an_uncompressed_p256_point,
    subscriptions_are_idempotent_and_move_to_the_newest_user,
    bad_subscriptions_are_invalid_and_store_nothing,
    at_most_twenty_subscriptions_per_user,
    private_endpoints_need_the_setting,
    notification_levels_per_member_and_room,
);

async fn vapid_public_key_is_an_uncompressed_p256_point(backend: Backend) {
    let app = PushApp::start(backend, PushArgs::default()).await;
    let (status, body) = app
        .call(Method::GET, "/api/push/vapid-public-key", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let key = Base64UrlUnpadded::decode_vec(body["key"].as_str().unwrap()).unwrap();
    assert_eq!(key.len(), 65);
    assert_eq!(key[0], 4, "uncompressed");
    assert!(web_push_native::p256::PublicKey::from_sec1_bytes(&key).is_ok());
    // generated once into the data dir, 0600
    let path = app._dir.path().join("vapid_private_key");
    assert!(path.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

async fn subscriptions_are_idempotent_and_move_to_the_newest_user(backend: Backend) {
    let app = PushApp::start(backend, PushArgs::default()).await;
    let (ana, ana_id) = app.user("ana").await;
    let (bob, bob_id) = app.user("bob").await;
    // an IP literal: a public address that needs no DNS on the test machine
    let endpoint = "https://8.8.8.8/push/v2/abc";
    let body = sub(endpoint);
    let (status, first) = app.subscribe(&ana, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["subscription"]["endpoint"], endpoint);
    let (status, again) = app.subscribe(&ana, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["subscription"]["id"], first["subscription"]["id"]);
    assert_eq!(app.stored(ana_id).await.len(), 1);

    let (status, moved) = app.subscribe(&bob, sub(endpoint)).await;
    assert_eq!(status, StatusCode::CREATED, "{moved}");
    assert_eq!(moved["subscription"]["id"], first["subscription"]["id"]);
    assert!(app.stored(ana_id).await.is_empty(), "moved away from ana");
    assert_eq!(app.stored(bob_id).await.len(), 1);

    // ana cannot delete bob's; bob can delete his, twice (204 both times)
    let del = |t: String| {
        let app = &app;
        async move {
            app.call(
                Method::DELETE,
                "/api/push/subscriptions",
                Some(&t),
                Some(json!({ "endpoint": endpoint })),
            )
            .await
            .0
        }
    };
    assert_eq!(del(ana.clone()).await, StatusCode::NO_CONTENT);
    assert_eq!(app.stored(bob_id).await.len(), 1);
    assert_eq!(del(bob.clone()).await, StatusCode::NO_CONTENT);
    assert!(app.stored(bob_id).await.is_empty());
    assert_eq!(del(bob).await, StatusCode::NO_CONTENT);
    // signed out: 401
    let (status, _) = app
        .call(
            Method::POST,
            "/api/push/subscriptions",
            None,
            Some(sub(endpoint)),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn bad_subscriptions_are_invalid_and_store_nothing(backend: Backend) {
    let app = PushApp::start(backend, PushArgs::default()).await;
    let (ana, ana_id) = app.user("ana").await;
    let (p256dh, auth) = keys();
    let with = |endpoint: &str, p: &str, a: &str| json!({"endpoint": endpoint, "keys": {"p256dh": p, "auth": a}});
    let ok = "https://8.8.8.8/push/ok";
    let raw = Base64UrlUnpadded::decode_vec(&p256dh).unwrap();
    let mut off_curve = raw.clone();
    off_curve[64] ^= 1;
    let compressed = {
        let pk = web_push_native::p256::PublicKey::from_sec1_bytes(&raw).unwrap();
        Base64UrlUnpadded::encode_string(pk.to_encoded_point(true).as_bytes())
    };
    let long = format!("https://8.8.8.8/{}", "a".repeat(2100));
    let cases: Vec<(&str, Value)> = vec![
        ("plain http", with("http://8.8.8.8/push", &p256dh, &auth)),
        ("another scheme", with("ftp://8.8.8.8/push", &p256dh, &auth)),
        ("not a URL", with("push me", &p256dh, &auth)),
        ("empty endpoint", with("", &p256dh, &auth)),
        (
            "user info",
            with("https://user:pw@8.8.8.8/push", &p256dh, &auth),
        ),
        (
            "user name",
            with("https://user@8.8.8.8/push", &p256dh, &auth),
        ),
        (
            "loopback v4",
            with("https://127.0.0.1/push", &p256dh, &auth),
        ),
        ("loopback v6", with("https://[::1]/push", &p256dh, &auth)),
        (
            "localhost",
            with("https://localhost:8443/push", &p256dh, &auth),
        ),
        (
            "private 10/8",
            with("https://10.1.2.3/push", &p256dh, &auth),
        ),
        (
            "private 192.168/16",
            with("https://192.168.0.10/push", &p256dh, &auth),
        ),
        (
            "private 172.16/12",
            with("https://172.20.0.1/push", &p256dh, &auth),
        ),
        (
            "unique local v6",
            with("https://[fd00::1]/push", &p256dh, &auth),
        ),
        (
            "link-local metadata",
            with("https://169.254.169.254/latest", &p256dh, &auth),
        ),
        (
            "link-local v6",
            with("https://[fe80::1]/push", &p256dh, &auth),
        ),
        (
            "multicast",
            with("https://224.0.0.251/push", &p256dh, &auth),
        ),
        (
            "IPv4-mapped loopback",
            with("https://[::ffff:127.0.0.1]/push", &p256dh, &auth),
        ),
        ("unspecified", with("https://0.0.0.0/push", &p256dh, &auth)),
        (
            "a host that does not resolve",
            with("https://nowhere.invalid/push", &p256dh, &auth),
        ),
        ("endpoint over 2 KB", with(&long, &p256dh, &auth)),
        ("p256dh not base64url", with(ok, "not*base64!", &auth)),
        (
            "p256dh too short",
            with(ok, &Base64UrlUnpadded::encode_string(&raw[..64]), &auth),
        ),
        ("p256dh compressed", with(ok, &compressed, &auth)),
        (
            "p256dh off the curve",
            with(ok, &Base64UrlUnpadded::encode_string(&off_curve), &auth),
        ),
        ("p256dh empty", with(ok, "", &auth)),
        (
            "auth too short",
            with(ok, &p256dh, &Base64UrlUnpadded::encode_string(&[1u8; 8])),
        ),
        (
            "auth too long",
            with(ok, &p256dh, &Base64UrlUnpadded::encode_string(&[1u8; 17])),
        ),
        ("auth not base64url", with(ok, &p256dh, "%%%")),
        ("no keys", json!({"endpoint": ok})),
        (
            "keys not strings",
            json!({"endpoint": ok, "keys": {"p256dh": 5, "auth": true}}),
        ),
        (
            "endpoint not a string",
            json!({"endpoint": 42, "keys": {"p256dh": p256dh, "auth": auth}}),
        ),
        ("not an object", json!([ok])),
    ];
    for (what, body) in cases {
        let (status, res) = app.subscribe(&ana, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {res}");
        assert_eq!(res["error"]["code"], "invalid", "{what}: {res}");
        assert!(
            !res["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "{what}: a reason"
        );
        assert!(
            app.stored(ana_id).await.is_empty(),
            "{what}: nothing stored"
        );
    }
    // and the same keys on a good endpoint are fine
    let (status, res) = app.subscribe(&ana, with(ok, &p256dh, &auth)).await;
    assert_eq!(status, StatusCode::CREATED, "{res}");
    // padded base64url is tolerated (some browsers pad)
    let padded = format!("{p256dh}=");
    let (status, res) = app
        .subscribe(
            &ana,
            with("https://8.8.8.8/push/padded", &padded, &format!("{auth}==")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{res}");
}

async fn at_most_twenty_subscriptions_per_user(backend: Backend) {
    let app = PushApp::start(backend, PushArgs::default()).await;
    let (ana, ana_id) = app.user("ana").await;
    for i in 0..20 {
        let (status, res) = app
            .subscribe(&ana, sub(&format!("https://8.8.8.8/push/{i}")))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{i}: {res}");
    }
    let (status, res) = app.subscribe(&ana, sub("https://8.8.8.8/push/20")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{res}");
    assert_eq!(res["error"]["code"], "invalid");
    assert!(res["error"]["message"].as_str().unwrap().contains("20"));
    assert_eq!(app.stored(ana_id).await.len(), 20);
    // re-registering one of the twenty is still fine
    let (status, _) = app.subscribe(&ana, sub("https://8.8.8.8/push/3")).await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn private_endpoints_need_the_setting(backend: Backend) {
    let app = PushApp::start(
        backend,
        PushArgs {
            push_allow_private: true,
            ..PushArgs::default()
        },
    )
    .await;
    let (ana, ana_id) = app.user("ana").await;
    for endpoint in [
        "http://127.0.0.1:9/push",
        "https://localhost/push",
        "http://10.0.0.7/push",
    ] {
        let (status, res) = app.subscribe(&ana, sub(endpoint)).await;
        assert_eq!(status, StatusCode::CREATED, "{endpoint}: {res}");
    }
    assert_eq!(app.stored(ana_id).await.len(), 3);
    // user info and bad keys stay refused even then
    let (status, _) = app
        .subscribe(&ana, sub("http://u:p@127.0.0.1:9/push"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app
        .subscribe(
            &ana,
            json!({"endpoint": "http://127.0.0.1:9/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(app.stored(ana_id).await.len(), 3);
}

async fn notification_levels_per_member_and_room(backend: Backend) {
    let app = PushApp::start(backend, PushArgs::default()).await;
    let (ana, _) = app.user("ana").await;
    let (bob, bob_id) = app.user("bob").await;
    let (cy, _) = app.user("cyd").await;
    let (_, room) = app
        .call(
            Method::POST,
            "/api/rooms",
            Some(&ana),
            Some(json!({"name": "general"})),
        )
        .await;
    let room_id = room["room"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        room["room"]["notifications"], "mentions",
        "rooms default to mentions"
    );
    let (_, dm) = app
        .call(
            Method::POST,
            "/api/dms",
            Some(&ana),
            Some(json!({"userId": bob_id.to_string()})),
        )
        .await;
    assert_eq!(dm["room"]["notifications"], "all", "DMs default to all");

    let path = format!("/api/rooms/{room_id}/notifications");
    for level in ["all", "none", "mentions", "none"] {
        let (status, res) = app
            .call(
                Method::PATCH,
                &path,
                Some(&ana),
                Some(json!({ "level": level })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{res}");
        assert_eq!(res["room"]["notifications"], level);
        assert_eq!(res["room"]["id"], room_id.as_str());
    }
    let (_, mine) = app.call(Method::GET, "/api/rooms", Some(&ana), None).await;
    let listed = mine["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == room_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["notifications"], "none", "the room list carries it");
    let (_, one) = app
        .call(
            Method::GET,
            &format!("/api/rooms/{room_id}"),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(one["room"]["notifications"], "none");

    // bob joins: his level is his own default
    let (_, joined) = app
        .call(
            Method::POST,
            &format!("/api/rooms/{room_id}/join"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(joined["room"]["notifications"], "mentions");

    for (what, token, p, body, want) in [
        (
            "bad level",
            &ana,
            path.clone(),
            json!({"level": "loud"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "no level",
            &ana,
            path.clone(),
            json!({}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "not a member",
            &cy,
            path.clone(),
            json!({"level": "all"}),
            StatusCode::FORBIDDEN,
        ),
        (
            "no such room",
            &ana,
            "/api/rooms/987654/notifications".to_owned(),
            json!({"level": "all"}),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, res) = app.call(Method::PATCH, &p, Some(token), Some(body)).await;
        assert_eq!(status, want, "{what}: {res}");
    }
    let levels = app
        .state
        .store
        .notification_levels(room_id.parse().unwrap(), &[bob_id])
        .await
        .unwrap();
    assert_eq!(levels, vec![(bob_id, NotificationLevel::Mentions)]);
}

#[tokio::test]
async fn cluster_mode_refuses_to_start_without_a_vapid_key() {
    let db = TestDb::postgres().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&db, &dir, PushArgs::default());
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
