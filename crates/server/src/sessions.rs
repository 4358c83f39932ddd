//! Revocable sessions. Every token names its session (`sid`); a session is a
//! row of the store's `sessions` table, and revoking deletes it.
//!
//! A REST request or socket handshake checks the row, cached for at most
//! [`FRESH`]: revoking on this node forgets the cache entry at once, and
//! other nodes' entries are stale within `FRESH`, so a revoked token stops
//! working everywhere within a second without a query per request. Sockets
//! are in the engine room `session:<sid>`; revoking disconnects that room on
//! every node (the engine's fan-out), and each node closes its sockets when
//! their token expires.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use natter_core::{Error, Id, Result};
use natter_store::NewSession;

use crate::app::{App, AppState, NS};
use crate::auth::{unix_now, Session};

/// How long a checked session is believed without asking the store again.
pub const FRESH: Duration = Duration::from_secs(1);

/// The engine room of every socket of one session.
pub fn session_channel(sid: &str) -> String {
    format!("session:{sid}")
}

#[derive(Default)]
pub struct SessionCache {
    /// sid → (user, when the store last said it is live).
    checked: Mutex<HashMap<String, (Id, Instant)>>,
    /// (exp, sid) of sessions with sockets on this node, soonest first.
    expiries: Mutex<BTreeSet<(u64, String)>>,
}

impl SessionCache {
    fn fresh(&self, sid: &str, user: Id) -> bool {
        self.checked
            .lock()
            .ok()
            .and_then(|m| m.get(sid).copied())
            .is_some_and(|(u, at)| u == user && at.elapsed() < FRESH)
    }

    fn remember(&self, sid: &str, user: Id) {
        if let Ok(mut m) = self.checked.lock() {
            m.insert(sid.to_owned(), (user, Instant::now()));
        }
    }

    fn forget(&self, sid: &str) {
        if let Ok(mut m) = self.checked.lock() {
            m.remove(sid);
        }
    }

    /// Closes this session's sockets on this node at `exp`.
    pub fn expire_at(&self, sid: &str, exp: u64) {
        if let Ok(mut e) = self.expiries.lock() {
            e.insert((exp, sid.to_owned()));
        }
    }

    /// Drops stale cache entries; returns the sessions whose time is up.
    fn sweep(&self, now: u64) -> Vec<String> {
        if let Ok(mut m) = self.checked.lock() {
            m.retain(|_, (_, at)| at.elapsed() < FRESH);
        }
        let Ok(mut e) = self.expiries.lock() else {
            return Vec::new();
        };
        let mut due = Vec::new();
        while let Some(first) = e.first() {
            if first.0 > now {
                break;
            }
            if let Some((_, sid)) = e.pop_first() {
                due.push(sid);
            }
        }
        due
    }
}

/// A new random session id (128 bits, hex).
fn new_sid() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl App {
    /// The session of a token: well signed, unexpired and not revoked.
    pub async fn authenticate(&self, token: &str) -> Result<Session> {
        let session = self.tokens.verify(token)?;
        if self.sessions.fresh(&session.sid, session.user_id) {
            return Ok(session);
        }
        match self.store.session(&session.sid).await? {
            Some(row) if row.user_id == session.user_id => {
                self.sessions.remember(&session.sid, session.user_id);
                Ok(session)
            }
            _ => Err(Error::Unauthenticated("Invalid token".into())),
        }
    }

    /// Stores a new session for `user` and returns its token.
    pub async fn start_session(&self, user: Id, username: &str) -> Result<String> {
        let sid = new_sid();
        let exp = unix_now() + self.tokens.ttl().as_secs();
        self.store
            .create_session(NewSession {
                id: sid.clone(),
                user_id: user,
                expires_at: i64::try_from(exp).unwrap_or(i64::MAX),
            })
            .await?;
        self.tokens.issue(user, username, &sid, exp)
    }

    /// After the store revoked `sids`: forgets them here and disconnects
    /// their sockets on every node.
    pub fn sessions_ended(&self, sids: &[String]) {
        for sid in sids {
            self.sessions.forget(sid);
            self.engine.to(NS, &session_channel(sid)).disconnect();
        }
    }

    pub async fn end_session(&self, sid: &str) -> Result<()> {
        self.store.revoke_session(sid).await?;
        self.sessions_ended(&[sid.to_owned()]);
        Ok(())
    }
}

/// Every second: closes sockets whose token expired and drops stale cache
/// entries; every hour (and at start): prunes expired session rows.
pub fn start_sweeper(app: &AppState) {
    let weak = Arc::downgrade(&app.0);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            let Some(app) = weak.upgrade() else { break };
            let now = unix_now();
            for sid in app.sessions.sweep(now) {
                app.engine.to(NS, &session_channel(&sid)).disconnect();
            }
            if n.is_multiple_of(60) {
                app.limits.prune();
            }
            if n.is_multiple_of(3600) {
                let now = i64::try_from(now).unwrap_or(i64::MAX);
                if let Err(e) = app.store.prune_sessions(now).await {
                    tracing::warn!(error = %e, "could not prune expired sessions");
                }
            }
            n = n.wrapping_add(1);
        }
    });
}
