//! Delivery of one push to one subscription (RFC 8030 §5): encrypt the
//! payload for that browser (RFC 8291 `aes128gcm`, by `web-push-native`),
//! sign with VAPID, POST, and act on the answer:
//! - 2xx: sent;
//! - 404 / 410: the subscription is gone: delete it (pruned);
//! - 429 / 5xx / a network error or timeout: retried with back-off
//!   (`Retry-After` honoured up to a cap), at most [`MAX_ATTEMPTS`] tries;
//! - anything else (400, 401/403, 413): failed, not retried.
//!
//! The HTTP client never follows redirects, has connect and total timeouts,
//! speaks TLS through rustls, and resolves names through [`PublicOnly`], so
//! even a name that resolved to a public address at subscribe time and
//! points at the LAN now is never reached.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use natter_core::Id;
use natter_store::{PushSubscription, Store};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{StatusCode, Url};
use web_push_native::p256::PublicKey;
use web_push_native::Auth;

use super::validate::{self, is_public};
use super::vapid::Vapid;
use super::PushMetrics;

/// Tries per push, the first included.
pub const MAX_ATTEMPTS: u32 = 3;
/// Back-off before the second try; doubled for each later one.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest wait a push service's `Retry-After` may ask for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// `Urgency` (RFC 8030 §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Normal,
    High,
}

impl Urgency {
    fn as_str(self) -> &'static str {
        match self {
            Urgency::Normal => "normal",
            Urgency::High => "high",
        }
    }
}

/// One push to one subscription.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub subscription: PushSubscription,
    /// The JSON payload, before encryption.
    pub payload: Arc<Vec<u8>>,
    pub urgency: Urgency,
    /// Seconds the push service keeps it for an offline browser.
    pub ttl: u32,
    /// Pushes with one topic replace each other while undelivered (one per room).
    pub topic: String,
}

/// Where pushes go: the push services over HTTP ([`Sender`]), or whatever a
/// test puts there. Best effort: a delivery never fails its caller.
#[async_trait::async_trait]
pub trait Deliver: Send + Sync + 'static {
    async fn deliver(&self, d: Delivery);
}

pub struct Sender {
    client: reqwest::Client,
    vapid: Arc<Vapid>,
    store: Arc<dyn Store>,
    metrics: PushMetrics,
    allow_private: bool,
}

/// The topic of a room's pushes (RFC 8030 §5.4: ≤ 32 base64url characters).
pub fn topic(room: Id) -> String {
    format!("room-{room}")
}

enum Outcome {
    Sent,
    Gone,
    Retry(Option<Duration>),
    Failed(String),
}

impl Sender {
    pub fn new(
        vapid: Arc<Vapid>,
        store: Arc<dyn Store>,
        metrics: PushMetrics,
        allow_private: bool,
    ) -> anyhow::Result<Sender> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .https_only(!allow_private)
            .dns_resolver(Arc::new(PublicOnly { allow_private }))
            .user_agent(concat!("natter/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Sender {
            client,
            vapid,
            store,
            metrics,
            allow_private,
        })
    }

    /// Delivers (with retries), then counts the outcome. Never fails: a push
    /// is best effort.
    pub async fn deliver_now(&self, d: Delivery) {
        let endpoint = d.subscription.endpoint.clone();
        match self.try_deliver(d).await {
            Ok(()) => {}
            Err(reason) => {
                self.metrics.failed.inc();
                tracing::info!(endpoint = %origin_of(&endpoint), %reason, "push not delivered");
            }
        }
    }

    async fn try_deliver(&self, d: Delivery) -> Result<(), String> {
        let url = validate::endpoint_url(&d.subscription.endpoint, self.allow_private)
            .map_err(|e| e.to_string())?;
        if let Some(ip) = url.host_str().and_then(ip_literal) {
            if !self.allow_private && !is_public(ip) {
                return Err(format!("{ip} is not a public address"));
            }
        }
        let body = self.encrypt(&d).await?;
        let auth = self
            .vapid
            .authorization(&url)
            .map_err(|e| format!("VAPID: {e}"))?;
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=MAX_ATTEMPTS {
            let outcome = self.post(&url, &auth, &d, body.clone()).await;
            let wait = match outcome {
                Outcome::Sent => {
                    self.metrics.sent.inc();
                    return Ok(());
                }
                Outcome::Gone => {
                    match self
                        .store
                        .prune_push_subscription(&d.subscription.endpoint)
                        .await
                    {
                        Ok(_) => self.metrics.pruned.inc(),
                        Err(e) => tracing::warn!(error = %e, "could not prune a push subscription"),
                    }
                    return Ok(());
                }
                Outcome::Failed(reason) => return Err(reason),
                Outcome::Retry(after) if attempt < MAX_ATTEMPTS => {
                    after.unwrap_or(backoff).min(MAX_RETRY_AFTER)
                }
                Outcome::Retry(_) => break,
            };
            self.metrics.retries.inc();
            tokio::time::sleep(wait).await;
            backoff *= 2;
        }
        Err(format!("gave up after {MAX_ATTEMPTS} tries"))
    }

    /// ECDH + HKDF + AES-GCM: CPU work, so on the blocking pool.
    async fn encrypt(&self, d: &Delivery) -> Result<Vec<u8>, String> {
        let key = validate::decode(&d.subscription.p256dh)
            .and_then(|k| PublicKey::from_sec1_bytes(&k).ok())
            .ok_or("the subscription's p256dh is not a P-256 key")?;
        let secret = validate::decode(&d.subscription.auth)
            .filter(|a| a.len() == 16)
            .ok_or("the subscription's auth secret is not 16 bytes")?;
        let auth = Auth::clone_from_slice(&secret);
        let payload = d.payload.clone();
        tokio::task::spawn_blocking(move || {
            web_push_native::encrypt(payload.to_vec(), &key, &auth).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| format!("encryption task: {e}"))?
    }

    async fn post(&self, url: &Url, auth: &str, d: &Delivery, body: Vec<u8>) -> Outcome {
        let sent = self
            .client
            .post(url.clone())
            .header("TTL", d.ttl.to_string())
            .header("Urgency", d.urgency.as_str())
            .header("Topic", &d.topic)
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("Authorization", auth)
            .body(body)
            .send()
            .await;
        let res = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() || e.is_connect() || e.is_request() => {
                return Outcome::Retry(None)
            }
            Err(e) => return Outcome::Failed(format!("request: {e}")),
        };
        let status = res.status();
        if status.is_success() {
            return Outcome::Sent;
        }
        match status {
            StatusCode::NOT_FOUND | StatusCode::GONE => Outcome::Gone,
            StatusCode::TOO_MANY_REQUESTS => Outcome::Retry(retry_after(&res)),
            s if s.is_server_error() => Outcome::Retry(retry_after(&res)),
            s => Outcome::Failed(format!("push service answered {s}")),
        }
    }
}

fn retry_after(res: &reqwest::Response) -> Option<Duration> {
    res.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

fn ip_literal(host: &str) -> Option<std::net::IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// For logs: the push service, not the user's secret endpoint path.
fn origin_of(endpoint: &str) -> String {
    Url::parse(endpoint)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| "(unparsable endpoint)".into())
}

/// Resolves like the system does, then keeps only public addresses (unless
/// private ones are allowed): the connection-time half of the address rule.
struct PublicOnly {
    allow_private: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let addrs: Vec<SocketAddr> = found
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[async_trait::async_trait]
impl Deliver for Sender {
    async fn deliver(&self, d: Delivery) {
        self.deliver_now(d).await;
    }
}
