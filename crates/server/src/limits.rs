//! Rate limits, per user and per address (IPv4, or the /64 of IPv6; the
//! address is the client's, see `proxy.rs`). Every default is in
//! docs/SECURITY.md and the README. `NATTER_RATE_LIMITS=off` turns them off
//! (tests, benchmarks).
//!
//! Keys are kept by `governor` only while they matter: `prune` (every
//! minute) forgets keys whose bucket is full again.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use natter_core::{validate, Error, Id, Result};

use crate::proxy::limit_key;

/// What one user (or address) may do, per key. `(rate, per, burst)`.
pub mod defaults {
    /// Registrations per address per minute.
    pub const REGISTER_PER_MIN: u32 = 5;
    /// Login attempts per address per minute.
    pub const LOGIN_IP_PER_MIN: u32 = 30;
    /// Login attempts per login name per minute.
    pub const LOGIN_NAME_PER_MIN: u32 = 10;
    /// Password changes per user per minute.
    pub const PASSWORD_PER_MIN: u32 = 5;
    /// Sends (messages, DMs) per user per second, burst.
    pub const SEND_PER_SEC: (u32, u32) = (20, 40);
    /// Reaction toggles per user per second, burst.
    pub const REACT_PER_SEC: (u32, u32) = (5, 20);
    /// Edits per user per second, burst.
    pub const EDIT_PER_SEC: (u32, u32) = (2, 10);
    /// Deletes per user per second, burst.
    pub const DELETE_PER_SEC: (u32, u32) = (2, 10);
    /// Read receipts per user per second, burst.
    pub const READ_PER_SEC: (u32, u32) = (10, 30);
    /// Typing start/stop per user per second, burst.
    pub const TYPING_PER_SEC: (u32, u32) = (4, 10);
    /// `sync` calls per user per second, burst.
    pub const SYNC_PER_SEC: (u32, u32) = (2, 10);
    /// Rooms created per user per minute.
    pub const ROOMS_PER_MIN: u32 = 10;
    /// DM rooms opened (`POST /api/dms`) per user per minute.
    pub const DMS_PER_MIN: u32 = 30;
    /// Membership changes (join, leave, invite, remove, role) per user per minute.
    pub const MEMBERSHIP_PER_MIN: u32 = 60;
    /// The longest login name kept as a limiter key (longer ones are cut).
    pub const LOGIN_KEY_MAX: usize = 64;
}

use defaults::*;

pub struct RateLimits {
    enabled: bool,
    register: DefaultKeyedRateLimiter<IpAddr>,
    login_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_name: DefaultKeyedRateLimiter<String>,
    send_user: DefaultKeyedRateLimiter<Id>,
    password: DefaultKeyedRateLimiter<Id>,
    react: DefaultKeyedRateLimiter<Id>,
    edit: DefaultKeyedRateLimiter<Id>,
    delete: DefaultKeyedRateLimiter<Id>,
    read: DefaultKeyedRateLimiter<Id>,
    typing: DefaultKeyedRateLimiter<Id>,
    sync: DefaultKeyedRateLimiter<Id>,
    rooms: DefaultKeyedRateLimiter<Id>,
    dms: DefaultKeyedRateLimiter<Id>,
    membership: DefaultKeyedRateLimiter<Id>,
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(nz(n))
}

fn per_second((rate, burst): (u32, u32)) -> Quota {
    Quota::per_second(nz(rate)).allow_burst(nz(burst))
}

/// What a user can do that is limited per user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Send,
    Password,
    React,
    Edit,
    Delete,
    Read,
    Typing,
    Sync,
    CreateRoom,
    OpenDm,
    Membership,
}

impl RateLimits {
    pub fn new(enabled: bool) -> Self {
        RateLimits {
            enabled,
            register: RateLimiter::keyed(per_minute(REGISTER_PER_MIN)),
            login_ip: RateLimiter::keyed(per_minute(LOGIN_IP_PER_MIN)),
            login_name: RateLimiter::keyed(per_minute(LOGIN_NAME_PER_MIN)),
            send_user: RateLimiter::keyed(per_second(SEND_PER_SEC)),
            password: RateLimiter::keyed(per_minute(PASSWORD_PER_MIN)),
            react: RateLimiter::keyed(per_second(REACT_PER_SEC)),
            edit: RateLimiter::keyed(per_second(EDIT_PER_SEC)),
            delete: RateLimiter::keyed(per_second(DELETE_PER_SEC)),
            read: RateLimiter::keyed(per_second(READ_PER_SEC)),
            typing: RateLimiter::keyed(per_second(TYPING_PER_SEC)),
            sync: RateLimiter::keyed(per_second(SYNC_PER_SEC)),
            rooms: RateLimiter::keyed(per_minute(ROOMS_PER_MIN)),
            dms: RateLimiter::keyed(per_minute(DMS_PER_MIN)),
            membership: RateLimiter::keyed(per_minute(MEMBERSHIP_PER_MIN)),
        }
    }

    fn check<K: Clone + Hash + Eq>(
        &self,
        limiter: &DefaultKeyedRateLimiter<K>,
        key: &K,
    ) -> Result<()> {
        if !self.enabled {
            return Ok(());
        }
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Error::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }
        })
    }

    pub fn register(&self, ip: IpAddr) -> Result<()> {
        self.check(&self.register, &limit_key(ip))
    }

    /// Per address and per login name, the name normalised as the lookup
    /// normalises it (so `" Alice"` counts against `alice`).
    pub fn login(&self, ip: IpAddr, login: &str) -> Result<()> {
        self.check(&self.login_ip, &limit_key(ip))?;
        let mut key = validate::login_key(login);
        if key.len() > LOGIN_KEY_MAX {
            let mut end = LOGIN_KEY_MAX;
            while !key.is_char_boundary(end) {
                end -= 1;
            }
            key.truncate(end);
        }
        self.check(&self.login_name, &key)
    }

    pub fn send(&self, user: Id) -> Result<()> {
        self.check(&self.send_user, &user)
    }

    /// One per-user action.
    pub fn user(&self, action: Action, user: Id) -> Result<()> {
        let limiter = match action {
            Action::Send => &self.send_user,
            Action::Password => &self.password,
            Action::React => &self.react,
            Action::Edit => &self.edit,
            Action::Delete => &self.delete,
            Action::Read => &self.read,
            Action::Typing => &self.typing,
            Action::Sync => &self.sync,
            Action::CreateRoom => &self.rooms,
            Action::OpenDm => &self.dms,
            Action::Membership => &self.membership,
        };
        self.check(limiter, &user)
    }

    /// Forgets keys whose buckets are full again (they would allow a burst
    /// anyway), so one-off keys do not pile up.
    pub fn prune(&self) {
        self.register.retain_recent();
        self.login_ip.retain_recent();
        self.login_name.retain_recent();
        for l in [
            &self.send_user,
            &self.password,
            &self.react,
            &self.edit,
            &self.delete,
            &self.read,
            &self.typing,
            &self.sync,
            &self.rooms,
            &self.dms,
            &self.membership,
        ] {
            l.retain_recent();
        }
        self.login_name.shrink_to_fit();
    }

    /// How many login-name keys are held (for tests).
    pub fn login_keys(&self) -> usize {
        self.login_name.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_bite_and_can_be_off() {
        let on = RateLimits::new(true);
        let ip: IpAddr = [127, 0, 0, 1].into();
        let results: Vec<bool> = (0..6).map(|_| on.register(ip).is_ok()).collect();
        assert_eq!(results, vec![true, true, true, true, true, false]);
        assert!(matches!(on.register(ip), Err(Error::RateLimited { .. })));
        let off = RateLimits::new(false);
        assert!((0..100).all(|_| off.register(ip).is_ok()));
    }

    #[test]
    fn login_names_are_keyed_like_the_lookup() {
        let on = RateLimits::new(true);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let ip2: IpAddr = [10, 0, 0, 2].into();
        for i in 0..LOGIN_NAME_PER_MIN {
            let variant = ["alice", " alice", "ALICE ", "ａｌｉｃｅ"][i as usize % 4];
            let from = if i % 2 == 0 { ip } else { ip2 };
            assert!(on.login(from, variant).is_ok(), "attempt {i}");
        }
        assert!(on.login([10, 0, 0, 3].into(), "\tAlice").is_err());
        // a huge name is one capped key, and pruning keeps only live keys
        let long = "x".repeat(10_000);
        let _ = on.login([10, 0, 0, 4].into(), &long);
        assert!(on.login_keys() <= 2);
    }
}
