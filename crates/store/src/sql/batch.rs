//! Group commit for `post_message`: writer tasks that store every queued
//! message in one transaction and one commit (one fsync on SQLite, one WAL
//! flush on PostgreSQL), then answer each sender.
//!
//! A sender's call returns only after the transaction holding its message
//! committed, exactly as when it had a transaction of its own: nothing is
//! acknowledged before it is durable. A writer takes whatever is queued when
//! it is free (up to [`MAX_BATCH`]) and never waits for more, so at low load
//! a batch is one message and latency is unchanged; under load the queue
//! fills while the previous batch commits, and the commit cost is shared.
//!
//! Each room belongs to one writer (`room id % writers`), so a room's
//! messages are stored in the order they reached the writer and take the
//! room's seqs in commit order. SQLite has one writer task (it allows one
//! writer at a time); it takes the single write connection from the pool for
//! each batch and gives it back, so other writes (edits, reactions, members)
//! queue in the pool between batches and never deadlock with it. PostgreSQL
//! has several, each with its own pooled connection; they never touch the
//! same room (or its members' rows), so they never wait for each other.

use natter_core::{Error, Result};
use tokio::sync::{mpsc, oneshot};

use super::{post, Pools};
use crate::{NewMessage, OnStored, Posted};

/// The most messages stored by one commit. Content is at most a few KB
/// (validated by the caller), so a batch stays well under a few MB.
pub(super) const MAX_BATCH: usize = 256;

/// Messages queued per writer before senders wait (back pressure).
const QUEUE: usize = 4 * MAX_BATCH;

struct Job {
    msg: NewMessage,
    then: OnStored,
    reply: oneshot::Sender<Result<Posted>>,
}

/// The senders' side of the writer tasks. The tasks end when the last clone
/// of this is dropped (with the store).
#[derive(Debug, Clone)]
pub(crate) struct GroupWriter {
    queues: Vec<mpsc::Sender<Job>>,
}

impl GroupWriter {
    /// Starts `writers` writer tasks on the current Tokio runtime. Outside a
    /// runtime (or with zero writers) every post takes the direct path: one
    /// transaction per message.
    pub(crate) fn start(pools: &Pools, writers: usize) -> GroupWriter {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return GroupWriter { queues: Vec::new() };
        };
        let queues = (0..writers)
            .map(|_| {
                let (tx, rx) = mpsc::channel(QUEUE);
                rt.spawn(run(pools.clone(), rx));
                tx
            })
            .collect();
        GroupWriter { queues }
    }

    /// `Store::post_message_then`: a replay is answered from a reader;
    /// anything else goes to the room's writer, which runs `then` and
    /// answers after its commit.
    pub(crate) async fn post(&self, p: &Pools, msg: NewMessage, then: OnStored) -> Result<Posted> {
        if let Some(posted) = post::replay(p, &msg).await? {
            return Ok(posted);
        }
        let n = self.queues.len() as u64;
        let Some(queue) = (n > 0)
            .then(|| msg.room_id.0.unsigned_abs() % n)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.queues.get(i))
        else {
            return post::post(p, msg, then).await;
        };
        let (reply, answer) = oneshot::channel();
        match queue.send(Job { msg, then, reply }).await {
            Ok(()) => answer
                .await
                .map_err(|_| Error::internal("the message writer stopped before answering"))?,
            // The writer is gone (its runtime shut down): nothing of this
            // message was stored, so store it directly.
            Err(mpsc::error::SendError(job)) => post::post(p, job.msg, job.then).await,
        }
    }
}

/// One writer: waits for a message, takes everything else already queued
/// (no waiting for more), stores them with one commit, then in arrival
/// order (a room's commit order) runs each new message's hook and answers.
async fn run(pools: Pools, mut queue: mpsc::Receiver<Job>) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        // A sender that went away (its request was cancelled) is not stored.
        let (msgs, rest): (Vec<NewMessage>, Vec<_>) = jobs
            .drain(..)
            .filter(|j| !j.reply.is_closed())
            .map(|j| (j.msg, (j.then, j.reply)))
            .unzip();
        if msgs.is_empty() {
            continue;
        }
        let results = post::post_batch(&pools, &msgs).await;
        for ((then, reply), result) in rest.into_iter().zip(results) {
            if let Ok(Posted {
                message,
                created: true,
            }) = &result
            {
                then(message);
            }
            // The sender may have gone meanwhile; its message is stored
            // anyway, like any message whose ack is lost.
            let _ = reply.send(result);
        }
    }
}

/// `post_batch` on one hand-made batch (concurrent posts only make batches
/// likely; this makes one for sure). Compiled once per backend.
#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use natter_core::{Error, Id, Role};

    use super::super::fixtures::{msg, rooms, store, users, NEW};
    use super::post;
    use crate::{Catchup, Store};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_batch_fails_only_its_bad_posts() {
        let (_db, s) = store().await;
        let users = users(&s, &["alice", "bob"]).await;
        let (alice, bob) = (users[0], users[1]);
        let rooms = rooms(&s, &["general", "other"], alice).await;
        let (r, o) = (rooms[0], rooms[1]);
        s.add_member(r, bob, Role::Member).await.unwrap();
        let first = s.post_message(msg(r, alice, "first")).await.unwrap();

        let mut a = msg(r, bob, "a @alice");
        a.client_id = Some("x".into());
        a.mentions = vec![alice];
        let mut bad_reply = msg(r, bob, "bad reply");
        bad_reply.reply_to_id = Some(Id(999_999));
        let mut dup = msg(r, bob, "a again");
        dup.client_id = Some("x".into());
        let unknown_room = msg(Id(999_999), bob, "nowhere");
        let mut reply = msg(r, bob, "reply");
        reply.reply_to_id = Some(first.message.id);
        let elsewhere = msg(o, alice, "elsewhere");
        let batch = [unknown_room, a, bad_reply, dup, elsewhere, reply];
        let mut results = post::post_batch(&s.pools, &batch).await.into_iter();
        let mut next = || results.next().unwrap();

        assert!(matches!(next(), Err(Error::NotFound(_))));
        let a = next().unwrap();
        assert!(a.created);
        assert_eq!(
            (a.message.seq, a.message.mentions.clone()),
            (2, vec![alice])
        );
        assert!(matches!(next(), Err(Error::Invalid(_))));
        let dup = next().unwrap();
        assert!(!dup.created, "the same clientId in the same batch");
        assert_eq!(dup.message, a.message);
        let elsewhere = next().unwrap();
        assert_eq!(elsewhere.message.seq, 1, "seqs are per room");
        let reply = next().unwrap();
        assert_eq!(reply.message.seq, 3, "failures and replays take no seq");
        assert_eq!(reply.message.reply_to.unwrap().id, first.message.id);

        // Stored as acknowledged: seqs 1..3 and their events, cursor moved.
        let room = s.room(r, bob).await.unwrap().unwrap();
        assert_eq!(room.last_seq, 3);
        let Catchup::Events(log) = s.events_after(r, 0, 100).await.unwrap() else {
            panic!("expected events");
        };
        let logged: Vec<(i64, &str)> = log.iter().map(|e| (e.event_seq, e.name())).collect();
        assert_eq!(logged, [(1, NEW), (2, NEW), (3, NEW)]);
        let live = natter_core::events::payload::MessageChange {
            message: a.message.clone(),
            event_seq: 2,
        };
        assert_eq!(log[1].data(), serde_json::to_value(live).unwrap());
        let members = s.members(r).await.unwrap();
        let cursor = members.iter().find(|m| m.user.id == bob).unwrap();
        assert_eq!(cursor.last_read_seq, 3);
        assert_eq!(s.message(a.message.id).await.unwrap(), Some(a.message));

        // Refusals alone (nothing to undo) keep the batch without savepoints.
        let mut bad = msg(r, bob, "bad");
        bad.reply_to_id = Some(elsewhere.message.id);
        let mut nowhere = msg(Id(999_999), bob, "nowhere");
        nowhere.reply_to_id = Some(first.message.id);
        let mut with_cid = msg(r, alice, "new");
        with_cid.client_id = Some("y".into());
        let mut replay = msg(r, bob, "replayed");
        replay.client_id = Some("x".into());
        let batch = [bad, with_cid, nowhere, replay];
        let results = post::post_batch(&s.pools, &batch).await;
        assert!(matches!(results[0], Err(Error::Invalid(_))), "{results:?}");
        assert_eq!(results[1].as_ref().unwrap().message.seq, 4);
        assert!(matches!(results[2], Err(Error::NotFound(_))), "{results:?}");
        let replayed = results[3].as_ref().unwrap();
        assert!(!replayed.created);
        assert_eq!(replayed.message.content, "a @alice");
        assert_eq!(s.room(r, bob).await.unwrap().unwrap().last_seq, 4);
        let all_refused = [msg(Id(999_999), bob, "nowhere")];
        let results = post::post_batch(&s.pools, &all_refused).await;
        assert!(matches!(results[0], Err(Error::NotFound(_))));
    }
}
