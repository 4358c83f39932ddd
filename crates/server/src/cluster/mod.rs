//! Cluster mode: many nodes sharing PostgreSQL and Redis (`REDIS_URL` set).
//!
//! Redis carries two things between nodes, and neither is a source of truth
//! (the database is; clients catch up with `sync`):
//! - the engine's fan-out ops ([`fanout`]): one PUBLISH per broadcast, the
//!   packet encoded once by the sending node and delivered by each node to its
//!   own sockets;
//! - presence ([`presence`]): which node has which users, node heartbeats, and
//!   the reaping of nodes that died without saying goodbye.
//!
//! Both Redis clients (`fred`) reconnect by themselves with a capped
//! exponential back-off; the subscriber re-subscribes after every reconnect
//! (`manage_subscriptions`), so a Redis restart interrupts delivery between
//! nodes only while Redis is away.

pub mod fanout;
pub mod presence;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use fred::clients::SubscriberClient;
use fred::prelude::*;

use crate::metrics::Metrics;

/// How long one Redis command may take before it counts as failed.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// Where a cluster lives in Redis.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// `redis://[:password@]host:port[/db]` (also `rediss://` is refused: no TLS build).
    pub url: String,
    /// Namespace of every key and channel, so several deployments (or tests)
    /// can share one Redis. Pub/sub channels ignore the database number, so
    /// [`prefix_for_url`] folds it into the prefix.
    pub prefix: String,
}

/// `natter`, or `natter:db<n>` for a URL that selects database `n` > 0.
pub fn prefix_for_url(url: &str) -> String {
    let db = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(_, path)| path.split(['?', '#']).next().unwrap_or_default().to_owned())
        .and_then(|d| d.parse::<u32>().ok())
        .unwrap_or(0);
    if db == 0 {
        "natter".to_owned()
    } else {
        format!("natter:db{db}")
    }
}

/// This node's connection to the cluster: a command client (also used to
/// publish) and a subscriber client.
pub struct Cluster {
    node_id: String,
    prefix: String,
    client: Client,
    subscriber: SubscriberClient,
    metrics: Arc<Metrics>,
}

impl Cluster {
    /// Connects both clients (failing fast if Redis is unreachable at start),
    /// then keeps them connected for the life of the process.
    pub async fn connect(
        opts: &ClusterOptions,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Arc<Self>> {
        let config = Config::from_url(&opts.url).context("REDIS_URL is not a valid Redis URL")?;
        let mut builder = Builder::from_config(config);
        builder
            // retry forever: 100 ms, 200 ms, … capped at 2 s
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
            .with_connection_config(|c| {
                c.connection_timeout = COMMAND_TIMEOUT;
                c.internal_command_timeout = COMMAND_TIMEOUT;
                c.max_command_attempts = 1;
                c.unresponsive.max_timeout = Some(Duration::from_secs(10));
                c.unresponsive.interval = Duration::from_secs(1);
            })
            .with_performance_config(|p| {
                p.default_command_timeout = COMMAND_TIMEOUT;
                // the subscriber's message stream: a slow reader loses the oldest
                // messages beyond this (counted as `lagged` drops)
                p.broadcast_channel_capacity = 16_384;
            });
        let client = builder
            .build()
            .context("could not configure the Redis client")?;
        let subscriber = builder
            .build_subscriber_client()
            .context("could not configure the Redis subscriber")?;
        let init = async {
            client.init().await?;
            subscriber.init().await?;
            Ok::<_, fred::error::Error>(())
        };
        tokio::time::timeout(Duration::from_secs(10), init)
            .await
            .map_err(|_| anyhow::anyhow!("timed out"))
            .and_then(|r| r.map_err(anyhow::Error::from))
            .with_context(|| {
                format!(
                    "could not connect to Redis at {}",
                    crate::setup::redact(&opts.url)
                )
            })?;
        // re-subscribe after every reconnect, by itself
        // (the task lives as long as the client; its handle is not needed)
        drop(subscriber.manage_subscriptions());
        let cluster = Arc::new(Cluster {
            node_id: new_node_id(),
            prefix: opts.prefix.clone(),
            client,
            subscriber,
            metrics,
        });
        cluster.watch_connections();
        tracing::info!(node = %cluster.node_id, prefix = %cluster.prefix, "joined the cluster");
        Ok(cluster)
    }

    /// This process's id in the cluster (new at every start).
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn subscriber(&self) -> &SubscriberClient {
        &self.subscriber
    }

    /// A presence key: every one shares the hash tag `{prefix}`, so the
    /// presence scripts touch one hash slot (valid on a Redis Cluster too).
    pub(crate) fn key(&self, name: &str) -> String {
        format!("{{{}}}:{name}", self.prefix)
    }

    /// The pub/sub channel of the fan-out.
    pub(crate) fn channel(&self) -> String {
        format!("{}:fanout", self.prefix)
    }

    /// Both clients connected and Redis answering a PING.
    pub async fn ping(&self) -> Result<(), String> {
        if !self.subscriber.is_connected() {
            return Err("subscriber disconnected".into());
        }
        match tokio::time::timeout(COMMAND_TIMEOUT, self.client.ping::<String>(None)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("timed out".into()),
        }
    }

    /// Whether both clients are connected right now (no round trip).
    pub fn is_connected(&self) -> bool {
        self.client.is_connected() && self.subscriber.is_connected()
    }

    /// Counts reconnects and logs connection errors of both clients.
    fn watch_connections(self: &Arc<Self>) {
        for (name, mut reconnects, mut errors) in [
            (
                "publisher",
                self.client.reconnect_rx(),
                self.client.error_rx(),
            ),
            (
                "subscriber",
                self.subscriber.reconnect_rx(),
                self.subscriber.error_rx(),
            ),
        ] {
            let metrics = self.metrics.clone();
            tokio::spawn(async move {
                while let Ok(server) = reconnects.recv().await {
                    metrics.redis_reconnects.inc();
                    tracing::info!(client = name, %server, "reconnected to Redis");
                }
            });
            tokio::spawn(async move {
                loop {
                    match errors.recv().await {
                        Ok((e, _)) => {
                            tracing::warn!(client = name, error = %e, "Redis connection error")
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    }
                }
            });
        }
    }

    /// Leaves cleanly on shutdown: stops the heartbeat so others need not wait
    /// for it to expire, then closes the clients.
    pub async fn leave(&self) {
        let _ =
            tokio::time::timeout(COMMAND_TIMEOUT, presence::forget_node(self, &self.node_id)).await;
        let _ = tokio::time::timeout(COMMAND_TIMEOUT, self.subscriber.quit()).await;
        let _ = tokio::time::timeout(COMMAND_TIMEOUT, self.client.quit()).await;
    }
}

/// 16 lowercase hex digits.
fn new_node_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_follows_the_database_number() {
        assert_eq!(prefix_for_url("redis://127.0.0.1:6379"), "natter");
        assert_eq!(prefix_for_url("redis://127.0.0.1:6379/"), "natter");
        assert_eq!(prefix_for_url("redis://127.0.0.1:6379/0"), "natter");
        assert_eq!(prefix_for_url("redis://:pw@h:1/3?x=1"), "natter:db3");
    }

    #[test]
    fn node_ids_are_16_hex_digits_and_differ() {
        let a = new_node_id();
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, new_node_id());
    }
}
