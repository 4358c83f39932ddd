//! Sessions as a service: checking a token against its session, starting and
//! ending sessions, and the sweeper that closes sockets whose token expired.

use super::sessions::*;
use crate::app::{App, AppState, NS};
use crate::auth::tokens::Session;
use natter_core::{Error, Id, Result};
use natter_store::NewSession;
use std::sync::Arc;
use std::time::Duration;

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
        let exp = self.clock.unix() + self.tokens.ttl().as_secs();
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
            let now = app.clock.unix();
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
