//! The time as the server sees it, behind a trait so a test can set it (the
//! sweepers and quotas ask it; the realtime engine keeps its own timers).

use time::OffsetDateTime;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;

    /// Seconds since the Unix epoch (token expiries).
    fn unix(&self) -> u64 {
        u64::try_from(self.now().unix_timestamp()).unwrap_or(0)
    }
}

/// The system's clock, at the store's precision (what it keeps in rows).
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        natter_store::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(OffsetDateTime);

    impl Clock for Fixed {
        fn now(&self) -> OffsetDateTime {
            self.0
        }
    }

    #[test]
    fn unix_seconds_follow_now() {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(Fixed(at).unix(), 1_700_000_000);
        let before = Fixed(OffsetDateTime::UNIX_EPOCH - time::Duration::seconds(5));
        assert_eq!(before.unix(), 0, "before the epoch is 0, not a wrap");
        let now = SystemClock.unix();
        assert!(now > 1_700_000_000, "the system clock is the real time");
    }
}
