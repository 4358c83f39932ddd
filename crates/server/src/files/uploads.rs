//! The node's upload limits (size, per-user rate and quota) and its image
//! decode gate.

use crate::config::FilesArgs;
use crate::files::images::DecodeGate;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
pub use natter_core::files::{file_url, thumbnail_url};
use natter_core::{Error, Id, Result};
use std::num::NonZeroU32;

/// Uploads per user: 60 a minute, bursts of 20 (`rate_limited`).
pub(crate) const UPLOADS_PER_MINUTE: u32 = 60;
pub(crate) const UPLOAD_BURST: u32 = 20;

/// The node's upload limits and decode gate.
pub struct Uploads {
    pub max_bytes: usize,
    pub quota_bytes: i64,
    pub gate: DecodeGate,
    rate_on: bool,
    rate: DefaultKeyedRateLimiter<Id>,
}

impl Uploads {
    pub fn new(args: &FilesArgs, rate_limits_on: bool) -> Uploads {
        let mb = |n: u64| n.saturating_mul(1024 * 1024);
        let per_minute = NonZeroU32::new(UPLOADS_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(UPLOAD_BURST).unwrap_or(NonZeroU32::MIN);
        Uploads {
            max_bytes: usize::try_from(mb(args.max_upload_mb.max(1))).unwrap_or(usize::MAX),
            quota_bytes: i64::try_from(mb(args.upload_quota_mb)).unwrap_or(i64::MAX),
            gate: DecodeGate::per_core(),
            rate_on: rate_limits_on,
            rate: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
        }
    }

    pub(crate) fn check_rate(&self, user: Id) -> Result<()> {
        if !self.rate_on {
            return Ok(());
        }
        self.rate.check_key(&user).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Error::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            }
        })
    }

    pub fn too_large(&self) -> Error {
        Error::TooLarge(format!("file: at most {} MB", self.max_bytes / 1024 / 1024))
    }
}

/// A new random storage key: bytes are written before their row exists.
pub(crate) fn new_key() -> String {
    format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

pub(crate) fn thumb_key(key: &str) -> String {
    format!("{key}.thumb")
}
