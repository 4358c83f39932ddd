//! Web Push notifications, sent by Natter itself with no vendor relay:
//! RFC 8030 delivery, RFC 8291 `aes128gcm` payload encryption, RFC 8292
//! VAPID. Also the per-room notification levels they follow.
//!
//! How a push happens: after a message is committed and broadcast,
//! `send_message` calls [`Push::message_stored`], which only puts the message
//! on a bounded queue (full → the push is dropped and counted; a send never
//! waits for push). A few dispatcher tasks take messages off the queue, find
//! whom they notify ([`Store::notify_targets`]: level `all`, or `mentions`
//! and mentioned; never the author), leave out whoever is looking at that
//! room right now ([`focus`]), and hand one [`sender::Delivery`] per
//! subscription to the sender, at most [`MAX_DELIVERIES`] at once. In a
//! cluster only the node that stored the message does this, so each push is
//! sent once.

pub mod focus;
pub mod http;
pub mod payload;
pub mod sender;
pub mod service;
pub mod socket;
pub mod validate;
pub mod vapid;

use std::sync::Arc;

use natter_core::{Error, Id, Message, Result, Room};
use natter_store::{Notified, PushSubscription, Store};
use prometheus::IntCounter;
use tokio::sync::{mpsc, Mutex, Semaphore};

use crate::config::PushArgs;
use crate::metrics::Metrics;
use focus::Focus;
use sender::{Deliver, Delivery, Sender, Urgency};
use vapid::Vapid;

/// Messages waiting for their pushes to be worked out.
pub const QUEUE: usize = 1024;
/// Tasks taking messages off the queue.
const DISPATCHERS: usize = 2;
/// Messages a dispatcher works out together (whatever is queued, up to this).
const BATCH: usize = 64;
/// Pushes being delivered at once (each with its retries).
pub const MAX_DELIVERIES: usize = 32;
/// `TTL` of a DM or mention push: kept a day for a browser that is offline.
const TTL_HIGH: u32 = 24 * 3600;
/// `TTL` of any other message's push.
const TTL_NORMAL: u32 = 3600;

/// The counters `/metrics` shows.
#[derive(Clone)]
pub struct PushMetrics {
    pub sent: IntCounter,
    pub failed: IntCounter,
    pub pruned: IntCounter,
    pub dropped: IntCounter,
    pub retries: IntCounter,
    /// Messages taken off the queue and worked out (whom they notify).
    pub messages: IntCounter,
}

impl PushMetrics {
    fn new(metrics: &Metrics) -> PushMetrics {
        let c = |name: &str, help: &str| metrics.register_counter(name, help);
        PushMetrics {
            sent: c(
                "natter_push_sent_total",
                "Pushes accepted by a push service (2xx)",
            ),
            failed: c(
                "natter_push_failed_total",
                "Pushes not delivered: refused by the push service, or still failing after the retries",
            ),
            pruned: c(
                "natter_push_pruned_total",
                "Subscriptions deleted because their push service answered 404 or 410",
            ),
            dropped: c(
                "natter_push_dropped_total",
                "Messages whose pushes were not attempted because the push queue was full",
            ),
            retries: c(
                "natter_push_retries_total",
                "Push attempts retried after a 429, a 5xx or a network error",
            ),
            messages: c(
                "natter_push_messages_total",
                "Stored messages whose pushes were worked out (levels, focus, subscriptions)",
            ),
        }
    }
}

struct Job {
    message: Message,
}

pub struct Push {
    vapid: Arc<Vapid>,
    pub focus: Arc<Focus>,
    queue: mpsc::Sender<Job>,
    pub allow_private: bool,
    pub metrics: PushMetrics,
}

impl Push {
    /// Starts the dispatchers, signing with `vapid` (see [`Vapid::load`]).
    pub fn start(
        vapid: Vapid,
        args: &PushArgs,
        store: Arc<dyn Store>,
        metrics: &Metrics,
        cluster: Option<Arc<crate::cluster::Cluster>>,
        deliver: Option<Arc<dyn Deliver>>,
    ) -> anyhow::Result<Arc<Push>> {
        let vapid = Arc::new(vapid);
        let metrics = PushMetrics::new(metrics);
        let sender: Arc<dyn Deliver> = match deliver {
            Some(d) => d,
            None => Arc::new(Sender::new(
                vapid.clone(),
                store.clone(),
                metrics.clone(),
                args.push_allow_private,
            )?),
        };
        let focus = Arc::new(Focus::new(cluster));
        let (tx, rx) = mpsc::channel::<Job>(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        let deliveries = Arc::new(Semaphore::new(MAX_DELIVERIES));
        for _ in 0..DISPATCHERS {
            let d = Dispatcher {
                store: store.clone(),
                focus: focus.clone(),
                sender: sender.clone(),
                deliveries: deliveries.clone(),
                preview: args.push_preview,
                messages: metrics.messages.clone(),
            };
            let rx = rx.clone();
            tokio::spawn(async move {
                let mut jobs = Vec::with_capacity(BATCH);
                loop {
                    // the lock is held only while waiting for jobs; whatever
                    // is queued (up to BATCH) is worked out together
                    if rx.lock().await.recv_many(&mut jobs, BATCH).await == 0 {
                        break;
                    }
                    let messages: Vec<Message> = jobs.drain(..).map(|j| j.message).collect();
                    if let Err(e) = d.dispatch(&messages).await {
                        tracing::warn!(error = %e, "push: could not work out messages' pushes");
                    }
                    d.messages.inc_by(messages.len() as u64);
                }
            });
        }
        Ok(Arc::new(Push {
            vapid,
            focus,
            queue: tx,
            allow_private: args.push_allow_private,
            metrics,
        }))
    }

    pub fn public_key(&self) -> &str {
        self.vapid.public_key()
    }

    /// After a message is committed (and broadcast): queue its pushes.
    /// Never waits; a full queue drops them (counted).
    pub fn message_stored(&self, message: &Message) {
        let job = Job {
            message: message.clone(),
        };
        if self.queue.try_send(job).is_err() {
            self.metrics.dropped.inc();
        }
    }
}

struct Dispatcher {
    store: Arc<dyn Store>,
    focus: Arc<Focus>,
    sender: Arc<dyn Deliver>,
    deliveries: Arc<Semaphore>,
    preview: bool,
    messages: IntCounter,
}

impl Dispatcher {
    /// Works out the pushes of a batch of messages: whom they notify in one
    /// query for the batch (most messages notify no one), then per message.
    async fn dispatch(&self, messages: &[Message]) -> Result<()> {
        let asked: Vec<Notified<'_>> = messages
            .iter()
            .map(|m| Notified {
                room: m.room_id,
                author: m.user_id,
                mentioned: &m.mentions,
            })
            .collect();
        let targets = self.store.notify_targets_many(&asked).await?;
        for (m, targets) in messages.iter().zip(targets) {
            if targets.is_empty() {
                continue;
            }
            if let Err(e) = self.dispatch_one(m, targets).await {
                tracing::warn!(error = %e, "push: could not work out a message's pushes");
            }
        }
        Ok(())
    }

    /// One message's pushes to `targets`: those not looking at its room, with
    /// a subscription (the room is read only for a message that is pushed).
    async fn dispatch_one(&self, m: &Message, targets: Vec<Id>) -> Result<()> {
        let mut recipients = Vec::with_capacity(targets.len());
        for user in targets {
            if !self.focus.is_looking(user, m.room_id).await {
                recipients.push(user);
            }
        }
        if recipients.is_empty() {
            return Ok(());
        }
        let subscriptions = self.store.push_subscriptions_of(&recipients).await?;
        if subscriptions.is_empty() {
            return Ok(());
        }
        let Some(room) = self.store.room(m.room_id, m.user_id).await? else {
            return Ok(());
        };
        let payload = payload::build(&room, m, self.preview);
        let json = Arc::new(serde_json::to_vec(&payload).map_err(Error::internal)?);
        for subscription in subscriptions {
            let urgent = room.is_direct || m.mentions.contains(&subscription.user_id);
            let delivery = delivery(&room, subscription, json.clone(), urgent);
            // waits when MAX_DELIVERIES are under way: the queue fills instead
            let Ok(permit) = self.deliveries.clone().acquire_owned().await else {
                break;
            };
            let sender = self.sender.clone();
            tokio::spawn(async move {
                sender.deliver(delivery).await;
                drop(permit);
            });
        }
        Ok(())
    }
}

fn delivery(
    room: &Room,
    subscription: PushSubscription,
    payload: Arc<Vec<u8>>,
    urgent: bool,
) -> Delivery {
    Delivery {
        subscription,
        payload,
        urgency: if urgent {
            Urgency::High
        } else {
            Urgency::Normal
        },
        ttl: if urgent { TTL_HIGH } else { TTL_NORMAL },
        topic: sender::topic(room.id),
    }
}

/// `natter vapid-key`: a new key pair to configure a cluster with.
pub fn print_new_key() -> anyhow::Result<()> {
    let private = vapid::generate_key();
    let v = Vapid::new(
        web_push_native::jwt_simple::algorithms::ES256KeyPair::from_bytes(
            &validate::decode(&private).unwrap_or_default(),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?,
        vapid::DEFAULT_SUBJECT,
    );
    println!("NATTER_VAPID_PRIVATE_KEY={private}");
    println!(
        "# public key (GET /api/push/vapid-public-key): {}",
        v.public_key()
    );
    Ok(())
}
