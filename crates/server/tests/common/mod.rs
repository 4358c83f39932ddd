//! `TestApp`: a real Natter node on a free loopback port, over a fresh store
//! (a temp SQLite file or a fresh PostgreSQL database), with helpers that talk
//! to it over real HTTP, and the macros that run a test on both stores (or
//! with its files in S3). `files` has the upload helpers, `s3` the S3 server.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod files;
pub mod s3;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use natter_server::app::AppState;
use natter_server::config::{FilesArgs, ServeArgs, StoreArgs};
use natter_store::testing::TestDb;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

pub struct TestApp {
    pub base: String,
    pub client: Client,
    /// The node's state (its store, file store, services).
    pub state: AppState,
    /// The node's clock (the real time until a test moves it on).
    pub clock: Arc<TestClock>,
    _db: TestDb,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A clock a test can move on: the real time plus how far it was advanced.
#[derive(Default)]
pub struct TestClock {
    ahead: std::sync::Mutex<time::Duration>,
}

impl TestClock {
    pub fn advance(&self, by: std::time::Duration) {
        let by = time::Duration::try_from(by).expect("a test's step fits");
        *self.ahead.lock().expect("clock") += by;
    }
}

impl natter_server::clock::Clock for TestClock {
    fn now(&self) -> time::OffsetDateTime {
        natter_store::now() + *self.ahead.lock().expect("clock")
    }
}

pub enum Backend {
    Sqlite,
    Postgres,
}

/// The configuration every test node starts from: loopback, a free port, this
/// data folder and database, rate limits off, everything else the default.
pub fn serve_args(data_dir: &Path, database_url: Option<String>) -> ServeArgs {
    ServeArgs {
        store: StoreArgs {
            data_dir: data_dir.to_path_buf(),
            database_url,
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
        push: Default::default(),
        files: FilesArgs::default(),
        security: Default::default(),
    }
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        TestApp::start_with(backend, FilesArgs::default(), None).await
    }

    /// A node with these upload settings (an S3 bucket, limits) and,
    /// if given, this file store instead of the configured one.
    pub async fn start_with(
        backend: Backend,
        files: FilesArgs,
        store: Option<Arc<dyn natter_server::files::Files>>,
    ) -> TestApp {
        TestApp::start_full(backend, files, store, |_| {}).await
    }

    /// Like `start`, with the configuration changed by `tweak` first.
    pub async fn start_tweaked(backend: Backend, tweak: impl FnOnce(&mut ServeArgs)) -> TestApp {
        TestApp::start_full(backend, FilesArgs::default(), None, tweak).await
    }

    pub async fn start_full(
        backend: Backend,
        files: FilesArgs,
        store: Option<Arc<dyn natter_server::files::Files>>,
        tweak: impl FnOnce(&mut ServeArgs),
    ) -> TestApp {
        TestApp::start_parts(backend, files, store, None, tweak).await
    }

    /// The most general start: also where pushes go (`None`: over HTTP).
    pub async fn start_parts(
        backend: Backend,
        files: FilesArgs,
        store: Option<Arc<dyn natter_server::files::Files>>,
        push: Option<Arc<dyn natter_server::push::sender::Deliver>>,
        tweak: impl FnOnce(&mut ServeArgs),
    ) -> TestApp {
        let db = match backend {
            Backend::Sqlite => TestDb::sqlite().await,
            Backend::Postgres => TestDb::postgres().await,
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = serve_args(dir.path(), Some(db.url.clone()));
        config.files = files;
        tweak(&mut config);
        let files = match store {
            Some(f) => f,
            None => natter_server::files::from_config(&config.files, &config.store.data_dir)
                .expect("file store"),
        };
        let clock = Arc::new(TestClock::default());
        let parts = natter_server::Parts {
            files,
            clock: clock.clone(),
            presence: None,
            push,
        };
        let (router, state) = natter_server::build_with(config, parts)
            .await
            .expect("build app");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        TestApp {
            base: format!("http://{addr}"),
            client: Client::new(),
            state,
            clock,
            _db: db,
            _dir: dir,
            server,
        }
    }

    /// The node's data folder (its SQLite file, secrets, local uploads).
    pub fn data_dir(&self) -> &Path {
        self._dir.path()
    }

    /// Any request; returns the status and the JSON body (Null when empty).
    pub async fn call(
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
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// `POST /api/auth/register` with this body, signed out.
    pub async fn register(&self, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, "/api/auth/register", None, Some(body))
            .await
    }

    /// `POST /api/auth/login` as `login` with `password`, signed out.
    pub async fn login(&self, login: &str, password: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"login": login, "password": password})),
        )
        .await
    }

    /// Registers `name` (email `name@example.com`, password `password123`) and
    /// returns (token, user id).
    pub async fn user(&self, name: &str) -> (String, String) {
        let (status, body) = self
            .register(json!({"email": format!("{name}@example.com"), "username": name, "name": name, "password": "password123"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "register {name}: {body}");
        (
            body["token"].as_str().unwrap().to_owned(),
            body["user"]["id"].as_str().unwrap().to_owned(),
        )
    }

    /// Creates a room as `token`; returns its id.
    pub async fn room(&self, token: &str, name: &str, private: bool) -> String {
        let (status, body) = self
            .post(
                "/api/rooms",
                token,
                json!({"name": name, "isPrivate": private}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["room"]["id"].as_str().unwrap().to_owned()
    }

    pub async fn send(&self, token: &str, room: &str, content: &str) -> Value {
        let (status, body) = self
            .post(
                "/api/messages",
                token,
                json!({"roomId": room, "content": content}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["message"].clone()
    }
}

/// The seqs of a page of messages (`{"messages": [...]}`), in its order.
pub fn page_seqs(page: &Value) -> Vec<i64> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect()
}

/// The error envelope's code, or `<no envelope>`.
pub fn err_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no envelope>")
}

/// A request with explicit headers (no Bearer unless given) and, if given, a
/// body of that content type; returns the status, the JSON body (Null when
/// not JSON) and the headers.
pub async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, String)>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut req = app.client.request(method, format!("{}{}", app.base, path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some((ct, b)) = body {
        req = req.header("content-type", ct).body(b);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let h = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        h,
    )
}

/// Runs each listed test against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::TestApp::start($crate::common::Backend::Sqlite).await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::TestApp::start($crate::common::Backend::Postgres).await).await
                }
            )*
        }
    };
}

/// Runs each listed test against SQLite and against PostgreSQL, handing it
/// the backend: for tests that start their own app (some change the config).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}

/// Runs each listed test (again) with the files in an S3 bucket: moto on
/// loopback, SQLite for the store (`mod s3`).
#[macro_export]
macro_rules! on_s3 {
    ($($name:ident),* $(,)?) => {
        mod s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (_s3, app) = $crate::common::s3::app().await;
                    super::$name(app).await;
                }
            )*
        }
    };
}
