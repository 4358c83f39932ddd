//! Presence across nodes, in Redis.
//!
//! Keys (all under the hash tag `{prefix}`, so every script touches one slot):
//! - `{p}:nodes` — set of node ids that have joined;
//! - `{p}:hb:<node>` — the node's heartbeat, refreshed every [`HEARTBEAT`],
//!   expiring after [`HEARTBEAT_TTL`];
//! - `{p}:users:<node>` — set of user ids with at least one socket on that node;
//! - `{p}:last_seen` — hash user id → unix milliseconds of their last disconnect;
//! - `{p}:reap:<node>` — which node is taking a dead node's users offline.
//!
//! A user is online while a node with a live heartbeat lists them. Transitions
//! are decided atomically by a Lua script (add/remove this node's entry, then
//! count the other live nodes that list the user), so two nodes racing on the
//! same user agree on who announces `user:online` / `user:offline`.
//!
//! A node that dies (kill -9) stops its heartbeat; within [`HEARTBEAT_TTL`] +
//! [`HEARTBEAT`] some surviving node sees the expired key, claims the dead
//! node (`SET NX`), and reports each of its users who is on no live node as
//! offline. A Redis restart empties everything: each node notices (its
//! heartbeat key was gone) and writes its users back on its next beat.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fred::prelude::*;
use natter_core::Id;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::Cluster;

/// How often a node beats (and looks for dead nodes).
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// A node whose heartbeat is older than this is dead.
pub const HEARTBEAT_TTL: Duration = Duration::from_secs(15);
/// How long one node keeps its claim on reaping a dead one.
const REAP_CLAIM: Duration = Duration::from_secs(60);
const STRIPES: usize = 64;

/// Add (`add`) or remove (`rem`) this node's entry for a user, or only look
/// (`gone`); then count the other live nodes listing the user. `rem`/`gone`
/// with none left records the user's last-seen time.
const CHANGE: &str = r"
local p, me, u, op = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if op == 'add' then redis.call('SADD', KEYS[2], u) elseif op == 'rem' then redis.call('SREM', KEYS[2], u) end
local n = 0
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if node ~= me and redis.call('EXISTS', p .. 'hb:' .. node) == 1
     and redis.call('SISMEMBER', p .. 'users:' .. node, u) == 1 then n = n + 1 end
end
if op ~= 'add' and n == 0 then redis.call('HSET', KEYS[3], u, ARGV[5]) end
return n
";

/// For each user in ARGV[3..]: 1 if a live node other than ARGV[2] lists them.
const ONLINE: &str = r"
local p, me = ARGV[1], ARGV[2]
local res = {}
for i = 3, #ARGV do res[i - 2] = 0 end
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if node ~= me and redis.call('EXISTS', p .. 'hb:' .. node) == 1 then
    local key = p .. 'users:' .. node
    for i = 3, #ARGV do
      if res[i - 2] == 0 and redis.call('SISMEMBER', key, ARGV[i]) == 1 then res[i - 2] = 1 end
    end
  end
end
return res
";

/// Beat: returns 1 if the heartbeat key still existed (else Redis lost our
/// state, or we were taken for dead, and the caller writes it back).
const BEAT: &str = r"
local existed = redis.call('EXISTS', KEYS[2])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
redis.call('SADD', KEYS[1], ARGV[1])
return existed
";

/// Replaces this node's user set with ARGV.
const RESYNC: &str = r"
redis.call('DEL', KEYS[1])
for i = 1, #ARGV, 1000 do
  redis.call('SADD', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
return #ARGV
";

/// Joined nodes whose heartbeat expired (never ARGV[2], the caller).
const DEAD: &str = r"
local p, me = ARGV[1], ARGV[2]
local dead = {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if node ~= me and redis.call('EXISTS', p .. 'hb:' .. node) == 0 then dead[#dead + 1] = node end
end
return dead
";

const FORGET: &str = r"
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('SREM', KEYS[1], ARGV[1])
return 1
";

/// Presence of this node's users, shared through Redis.
pub struct RedisPresence {
    cluster: Arc<Cluster>,
    /// Sockets per user on this node.
    local: Mutex<HashMap<Id, usize>>,
    /// Serialises one user's transitions on this node (by id modulo).
    stripes: Vec<tokio::sync::Mutex<()>>,
    /// Our entries in Redis may be wrong (a write failed): rewrite on the next beat.
    dirty: AtomicBool,
}

impl RedisPresence {
    pub fn new(cluster: Arc<Cluster>) -> Arc<Self> {
        Arc::new(RedisPresence {
            cluster,
            local: Mutex::new(HashMap::new()),
            stripes: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
            dirty: AtomicBool::new(true),
        })
    }

    fn stripe(&self, user: Id) -> &tokio::sync::Mutex<()> {
        let i = usize::try_from(user.0.rem_euclid(STRIPES as i64)).unwrap_or(0);
        &self.stripes[i % STRIPES]
    }

    fn local_count(&self, user: Id) -> usize {
        self.local
            .lock()
            .map(|m| m.get(&user).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// A socket of `user` opened here. `true` when the user just came online
    /// (no socket anywhere before).
    pub async fn connected(&self, user: Id) -> bool {
        let _g = self.stripe(user).lock().await;
        let before = match self.local.lock() {
            Ok(mut m) => {
                let c = m.entry(user).or_insert(0);
                *c += 1;
                *c - 1
            }
            Err(_) => return false,
        };
        if before > 0 {
            return false;
        }
        match self.change(user, "add", OffsetDateTime::now_utc()).await {
            Some(others) => others == 0,
            // Redis away: decide from what this node knows
            None => true,
        }
    }

    /// A socket of `user` closed here. `true` when the user just went offline
    /// (no socket left on any live node).
    pub async fn disconnected(&self, user: Id, at: OffsetDateTime) -> bool {
        let _g = self.stripe(user).lock().await;
        let left = match self.local.lock() {
            Ok(mut m) => match m.get_mut(&user) {
                Some(c) if *c > 1 => {
                    *c -= 1;
                    *c
                }
                Some(_) => {
                    m.remove(&user);
                    0
                }
                None => 0,
            },
            Err(_) => return false,
        };
        if left > 0 {
            return false;
        }
        self.change(user, "rem", at)
            .await
            .is_none_or(|others| others == 0)
    }

    /// Runs [`CHANGE`]; the number of other live nodes listing the user, or
    /// `None` if Redis could not be asked (the next beat rewrites our set).
    async fn change(&self, user: Id, op: &str, at: OffsetDateTime) -> Option<i64> {
        let c = &self.cluster;
        if !c.client().is_connected() {
            self.dirty.store(true, Ordering::Relaxed);
            return None;
        }
        let keys = vec![
            c.key("nodes"),
            c.key(&format!("users:{}", c.node_id())),
            c.key("last_seen"),
        ];
        let args = vec![
            c.key(""),
            c.node_id().to_owned(),
            user.to_string(),
            op.to_owned(),
            to_ms(at).to_string(),
        ];
        match c.client().eval::<i64, _, _, _>(CHANGE, keys, args).await {
            Ok(n) => Some(n),
            Err(e) => {
                tracing::warn!(error = %e, "presence: Redis write failed");
                self.dirty.store(true, Ordering::Relaxed);
                None
            }
        }
    }

    /// Online or not, for each user (local sockets, or a live node listing them).
    pub async fn online(&self, users: &[Id]) -> Vec<bool> {
        let mut out: Vec<bool> = users.iter().map(|u| self.local_count(*u) > 0).collect();
        let ask: Vec<Id> = users
            .iter()
            .zip(&out)
            .filter(|(_, on)| !**on)
            .map(|(u, _)| *u)
            .collect();
        if ask.is_empty() || !self.cluster.client().is_connected() {
            return out;
        }
        let c = &self.cluster;
        let mut args = vec![c.key(""), c.node_id().to_owned()];
        args.extend(ask.iter().map(Id::to_string));
        match c
            .client()
            .eval::<Vec<i64>, _, _, _>(ONLINE, vec![c.key("nodes")], args)
            .await
        {
            Ok(flags) => {
                let remote: HashMap<Id, bool> = ask
                    .iter()
                    .copied()
                    .zip(flags.iter().map(|f| *f == 1))
                    .collect();
                for (u, on) in users.iter().zip(out.iter_mut()) {
                    *on = *on || remote.get(u).copied().unwrap_or(false);
                }
            }
            Err(e) => tracing::warn!(error = %e, "presence: could not read who is online"),
        }
        out
    }

    /// When each user was last seen going offline (any node), if known.
    pub async fn last_seen(&self, users: &[Id]) -> Vec<Option<OffsetDateTime>> {
        if users.is_empty() || !self.cluster.client().is_connected() {
            return vec![None; users.len()];
        }
        let fields: Vec<String> = users.iter().map(Id::to_string).collect();
        match self
            .cluster
            .client()
            .hmget::<Vec<Option<i64>>, _, _>(self.cluster.key("last_seen"), fields)
            .await
        {
            Ok(v) if v.len() == users.len() => {
                v.into_iter().map(|ms| ms.and_then(from_ms)).collect()
            }
            Ok(_) => vec![None; users.len()],
            Err(e) => {
                tracing::warn!(error = %e, "presence: could not read last-seen times");
                vec![None; users.len()]
            }
        }
    }

    /// Beats every [`HEARTBEAT`] until the process ends, writing our user set
    /// back when Redis lost it, and reaping dead nodes: each of their users
    /// found on no live node is sent to `offline` (with the time).
    pub fn start_heartbeat(self: &Arc<Self>, offline: mpsc::Sender<(Id, OffsetDateTime)>) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(HEARTBEAT);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = me.beat().await {
                    tracing::warn!(error = %e, "presence: heartbeat failed");
                    me.dirty.store(true, Ordering::Relaxed);
                    continue;
                }
                if let Err(e) = me.reap(&offline).await {
                    tracing::warn!(error = %e, "presence: could not reap dead nodes");
                }
            }
        });
    }

    /// One heartbeat (and a rewrite of our user set when needed).
    pub async fn beat(&self) -> Result<(), Error> {
        let c = &self.cluster;
        let existed: i64 = c
            .client()
            .eval(
                BEAT,
                vec![c.key("nodes"), c.key(&format!("hb:{}", c.node_id()))],
                vec![
                    c.node_id().to_owned(),
                    HEARTBEAT_TTL.as_millis().to_string(),
                ],
            )
            .await?;
        if existed == 0 || self.dirty.swap(false, Ordering::Relaxed) {
            if existed == 0 {
                tracing::info!(
                    "presence: heartbeat was gone (Redis restarted?): writing our users back"
                );
            }
            // hold every stripe so no transition interleaves with the rewrite
            let mut guards = Vec::with_capacity(STRIPES);
            for s in &self.stripes {
                guards.push(s.lock().await);
            }
            let users: Vec<String> = self
                .local
                .lock()
                .map(|m| m.keys().map(Id::to_string).collect())
                .unwrap_or_default();
            let key = c.key(&format!("users:{}", c.node_id()));
            if let Err(e) = c
                .client()
                .eval::<i64, _, _, _>(RESYNC, vec![key], users)
                .await
            {
                self.dirty.store(true, Ordering::Relaxed);
                return Err(e);
            }
            drop(guards);
        }
        Ok(())
    }

    /// Takes the users of nodes with an expired heartbeat offline.
    pub async fn reap(&self, offline: &mpsc::Sender<(Id, OffsetDateTime)>) -> Result<(), Error> {
        let c = &self.cluster;
        let dead: Vec<String> = c
            .client()
            .eval(
                DEAD,
                vec![c.key("nodes")],
                vec![c.key(""), c.node_id().to_owned()],
            )
            .await?;
        for node in dead {
            let claimed: Option<String> = c
                .client()
                .set(
                    c.key(&format!("reap:{node}")),
                    c.node_id(),
                    Some(Expiration::PX(REAP_CLAIM.as_millis() as i64)),
                    Some(SetOptions::NX),
                    false,
                )
                .await?;
            if claimed.is_none() {
                continue; // another node is on it
            }
            let users: Vec<String> = c.client().smembers(c.key(&format!("users:{node}"))).await?;
            tracing::info!(node = %node, users = users.len(), "presence: node died; taking its users offline");
            for user in users.iter().filter_map(|u| u.parse::<i64>().ok()).map(Id) {
                let _g = self.stripe(user).lock().await;
                if self.local_count(user) > 0 {
                    continue;
                }
                let at = OffsetDateTime::now_utc();
                if self.change(user, "gone", at).await == Some(0)
                    && offline.send((user, at)).await.is_err()
                {
                    return Ok(());
                }
            }
            forget_node(c, &node).await?;
            c.metrics().presence_nodes_reaped.inc();
        }
        Ok(())
    }
}

/// Removes a node from the cluster's presence (its heartbeat and user set).
pub(crate) async fn forget_node(c: &Cluster, node: &str) -> Result<(), Error> {
    c.client()
        .eval::<i64, _, _, _>(
            FORGET,
            vec![
                c.key("nodes"),
                c.key(&format!("users:{node}")),
                c.key(&format!("hb:{node}")),
            ],
            vec![node.to_owned()],
        )
        .await
        .map(|_| ())
}

fn to_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn from_ms(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}
