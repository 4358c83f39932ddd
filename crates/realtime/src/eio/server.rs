//! The Engine.IO endpoint: [`EioServer`] and its map of sessions, the axum
//! router, CORS, the query of a request, and opening polling sessions (the
//! websocket ones open in `upgrade`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::driver::drive;
use super::response::{bad, text_response};
use super::{read, write, CloseReason, Conn, EioConfig, EioHandler};

/// What the server and each of its sessions share.
pub(super) struct Inner<H: EioHandler> {
    pub(super) config: EioConfig,
    pub(super) handler: H,
    pub(super) conns: RwLock<HashMap<Arc<str>, Arc<Conn<H>>>>,
    /// Notified whenever a session is gone (shutdown waits on it).
    pub(super) gone: Notify,
}

/// An Engine.IO server. Cheap to clone.
pub struct EioServer<H: EioHandler> {
    pub(super) inner: Arc<Inner<H>>,
}

impl<H: EioHandler> Clone for EioServer<H> {
    fn clone(&self) -> Self {
        EioServer {
            inner: self.inner.clone(),
        }
    }
}

impl<H: EioHandler> EioServer<H> {
    pub fn new(config: EioConfig, handler: H) -> Self {
        EioServer {
            inner: Arc::new(Inner {
                config,
                handler,
                conns: RwLock::new(HashMap::new()),
                gone: Notify::new(),
            }),
        }
    }

    pub fn handler(&self) -> &H {
        &self.inner.handler
    }

    pub fn config(&self) -> &EioConfig {
        &self.inner.config
    }

    pub fn connection_count(&self) -> usize {
        read(&self.inner.conns).len()
    }

    pub fn conn(&self, sid: &str) -> Option<Arc<Conn<H>>> {
        read(&self.inner.conns).get(sid).cloned()
    }

    /// Closes every connection and waits (up to 5 s) for them to be gone.
    pub async fn shutdown(&self) {
        let conns: Vec<_> = read(&self.inner.conns).values().cloned().collect();
        for c in &conns {
            c.close(CloseReason::ServerShutdown);
        }
        drop(conns);
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            let gone = self.inner.gone.notified();
            if self.connection_count() == 0 {
                return;
            }
            if tokio::time::timeout_at(until, gone).await.is_err() {
                return;
            }
        }
    }

    /// An axum router serving `path` (with and without its trailing slash).
    pub fn router(&self, path: &str) -> axum::Router {
        let inner = self.inner.clone();
        let route = axum::routing::any(move |req: Request<Body>| {
            let inner = inner.clone();
            async move { inner.handle(req).await }
        });
        let mut router = axum::Router::new().route(path, route.clone());
        let trimmed = path.trim_end_matches('/');
        if !trimmed.is_empty() && trimmed != path {
            router = router.route(trimmed, route);
        }
        router
    }
}

impl<H: EioHandler> Inner<H> {
    async fn handle(self: Arc<Self>, req: Request<Body>) -> Response {
        let origin = req.headers().get(header::ORIGIN).cloned();
        let mut resp = self.route(req).await;
        self.cors(origin.as_ref(), resp.headers_mut());
        resp
    }

    fn cors(&self, origin: Option<&HeaderValue>, h: &mut HeaderMap) {
        match self.config.cors_origin.as_deref() {
            None => {}
            Some("*") => {
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    HeaderValue::from_static("*"),
                );
            }
            Some(allowed) => {
                if let Some(o) = origin.filter(|o| o.as_bytes() == allowed.as_bytes()) {
                    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o.clone());
                    h.insert(
                        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                        HeaderValue::from_static("true"),
                    );
                }
                h.append(header::VARY, HeaderValue::from_static("Origin"));
            }
        }
    }

    async fn route(self: &Arc<Self>, mut req: Request<Body>) -> Response {
        if req.method() == Method::OPTIONS {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::NO_CONTENT;
            let h = r.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            );
            let allow = req
                .headers()
                .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
                .cloned()
                .unwrap_or(HeaderValue::from_static("content-type"));
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allow);
            return r;
        }
        let uri = req.uri().clone();
        let q = parse_query(uri.query());
        if q.eio != Some("4") {
            return bad(5);
        }
        match q.transport {
            Some("polling") => {}
            Some("websocket") => return self.websocket(&mut req, q.sid),
            _ => return bad(0),
        }
        let Some(sid) = q.sid else {
            if req.method() != Method::GET {
                return bad(2);
            }
            return self.open_polling(&req);
        };
        let Some(conn) = read(&self.conns).get(sid).cloned() else {
            return bad(1);
        };
        match *req.method() {
            Method::GET => conn.poll().await,
            Method::POST => conn.post(req).await,
            _ => bad(2),
        }
    }

    /// A new session, in the map of sessions.
    pub(super) fn new_conn(
        self: &Arc<Self>,
        headers: &HeaderMap,
        remote: Option<SocketAddr>,
        ws: bool,
    ) -> Arc<Conn<H>> {
        let data = self.handler.create(headers, remote);
        let conn = Arc::new(Conn::new(self.clone(), new_id(), data, ws));
        write(&self.conns).insert(conn.sid.clone(), conn.clone());
        conn
    }

    pub(super) fn remote(req: &Request<Body>) -> Option<SocketAddr> {
        req.extensions()
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
    }

    fn open_polling(self: &Arc<Self>, req: &Request<Body>) -> Response {
        let conn = self.new_conn(req.headers(), Self::remote(req), false);
        let open = self.config.open_packet(&conn.sid, true);
        self.handler.on_open(&conn);
        tokio::spawn(drive(conn, None, None));
        text_response(open)
    }
}

/// Parsed query parameters that matter.
#[derive(Default)]
struct Query<'a> {
    eio: Option<&'a str>,
    transport: Option<&'a str>,
    sid: Option<&'a str>,
}

fn parse_query(q: Option<&str>) -> Query<'_> {
    let mut out = Query::default();
    for pair in q.unwrap_or("").split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "EIO" => out.eio = Some(v),
            "transport" => out.transport = Some(v),
            "sid" => out.sid = Some(v),
            _ => {}
        }
    }
    out
}

/// A random session (or socket) id: 120 bits, URL-safe base64.
pub(crate) fn new_id() -> Arc<str> {
    use base64::Engine as _;
    let raw: [u8; 15] = rand::random();
    Arc::from(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eio::testing::{recorder, seen, session};

    fn req(method: &str, uri: &str) -> Request<Body> {
        Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn body(r: Response) -> String {
        let b = axum::body::to_bytes(r.into_body(), 1 << 16)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&b).into_owned()
    }

    fn code(text: &str) -> i64 {
        let v: serde_json::Value =
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        v["code"].as_i64().unwrap_or(-1)
    }

    #[test]
    fn parses_the_query_it_needs() {
        let q = parse_query(Some("EIO=4&transport=polling&t=Nx&sid=abc"));
        assert_eq!(
            (q.eio, q.transport, q.sid),
            (Some("4"), Some("polling"), Some("abc"))
        );
        let q = parse_query(Some("EIO&sid="));
        assert_eq!((q.eio, q.transport, q.sid), (Some(""), None, Some("")));
        let q = parse_query(None);
        assert_eq!((q.eio, q.transport, q.sid), (None, None, None));
    }

    #[test]
    fn ids_are_random_url_safe_and_20_chars() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 20);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }

    #[test]
    fn cors_allows_the_configured_origin_only() {
        let with = |origin: Option<&str>| {
            recorder(EioConfig {
                cors_origin: origin.map(str::to_owned),
                ..EioConfig::default()
            })
        };
        let good = HeaderValue::from_static("https://chat.example");
        let evil = HeaderValue::from_static("https://evil.example");
        let mut h = HeaderMap::new();
        with(None).inner.cors(Some(&good), &mut h);
        assert!(h.is_empty());
        with(Some("*")).inner.cors(Some(&good), &mut h);
        assert_eq!(
            h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN),
            Some(&HeaderValue::from_static("*"))
        );
        assert!(h.get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none());
        let exact = with(Some("https://chat.example"));
        let mut h = HeaderMap::new();
        exact.inner.cors(Some(&good), &mut h);
        assert_eq!(h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN), Some(&good));
        assert!(h.get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).is_some());
        let mut h = HeaderMap::new();
        exact.inner.cors(Some(&evil), &mut h);
        assert!(h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        assert!(h.get(header::VARY).is_some(), "caches must key on Origin");
    }

    #[tokio::test]
    async fn refuses_what_is_not_engine_io_4() {
        let srv = recorder(EioConfig::default());
        let inner = srv.inner.clone();
        let cases = [
            ("GET", "/?EIO=3&transport=polling", 5),
            ("GET", "/?transport=polling", 5),
            ("GET", "/?EIO=4&transport=carrier-pigeon", 0),
            ("POST", "/?EIO=4&transport=polling", 2),
            ("GET", "/?EIO=4&transport=polling&sid=nope", 1),
            ("POST", "/?EIO=4&transport=websocket", 2),
            ("GET", "/?EIO=4&transport=websocket", 3),
        ];
        for (method, uri, want) in cases {
            let r = inner.clone().handle(req(method, uri)).await;
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{method} {uri}");
            assert_eq!(code(&body(r).await), want, "{method} {uri}");
        }
        assert_eq!(srv.connection_count(), 0);
    }

    #[tokio::test]
    async fn answers_preflight_requests() {
        let srv = recorder(EioConfig::default());
        let mut r = req("OPTIONS", "/");
        r.headers_mut().insert(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            HeaderValue::from_static("x-custom"),
        );
        let r = srv.inner.clone().handle(r).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            r.headers().get(header::ACCESS_CONTROL_ALLOW_HEADERS),
            Some(&HeaderValue::from_static("x-custom"))
        );
    }

    #[tokio::test]
    async fn a_polling_handshake_opens_a_session() {
        let srv = recorder(EioConfig::default());
        let r = srv
            .inner
            .clone()
            .handle(req("GET", "/?EIO=4&transport=polling"))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let text = body(r).await;
        let open: serde_json::Value = serde_json::from_str(text.trim_start_matches('0'))
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        let sid = open["sid"].as_str().unwrap_or_default();
        assert_eq!(open["upgrades"], serde_json::json!(["websocket"]));
        let conn = srv.conn(sid).unwrap_or_else(|| panic!("no session {sid}"));
        assert_eq!(conn.transport(), "polling");
        assert_eq!(srv.connection_count(), 1);
        assert_eq!(seen(&srv), ["open"]);
    }

    #[tokio::test]
    async fn shutdown_closes_every_session() {
        let srv = recorder(EioConfig::default());
        let conns = [session(&srv, true), session(&srv, false)];
        // no driver runs these: they are gone once closed and finished by hand
        let finisher = {
            let conns = conns.clone();
            tokio::spawn(async move {
                for c in &conns {
                    while !c.is_closed() {
                        tokio::task::yield_now().await;
                    }
                    crate::eio::driver::finish(c);
                }
            })
        };
        srv.shutdown().await;
        assert_eq!(srv.connection_count(), 0);
        finisher.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            seen(&srv),
            ["close server shutting down", "close server shutting down"]
        );
    }

    #[test]
    fn router_serves_the_path_with_and_without_its_slash() {
        // building the router must not panic on a duplicate route
        let srv = recorder(EioConfig::default());
        let _ = srv.router("/socket.io/");
        let _ = srv.router("/");
        let _ = srv.router("/eio");
    }
}
