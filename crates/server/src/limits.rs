//! Rate limits on registration, login and sends, per user and per address.
//! Defaults (per key): register 5/min, login 10/min, sends 20/s with bursts of 40.
//! `NATTER_RATE_LIMITS=off` turns them off (tests, benchmarks).

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use natter_core::{Error, Id, Result};

pub struct RateLimits {
    enabled: bool,
    register: DefaultKeyedRateLimiter<IpAddr>,
    login_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_name: DefaultKeyedRateLimiter<String>,
    send_user: DefaultKeyedRateLimiter<Id>,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl RateLimits {
    pub fn new(enabled: bool) -> Self {
        let burst = NonZeroU32::new(40).unwrap_or(NonZeroU32::MIN);
        let rate = NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN);
        RateLimits {
            enabled,
            register: RateLimiter::keyed(per_minute(5)),
            login_ip: RateLimiter::keyed(per_minute(30)),
            login_name: RateLimiter::keyed(per_minute(10)),
            send_user: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
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
        self.check(&self.register, &ip)
    }

    pub fn login(&self, ip: IpAddr, login: &str) -> Result<()> {
        self.check(&self.login_ip, &ip)?;
        self.check(&self.login_name, &login.to_lowercase())
    }

    pub fn send(&self, user: Id) -> Result<()> {
        self.check(&self.send_user, &user)
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
}
