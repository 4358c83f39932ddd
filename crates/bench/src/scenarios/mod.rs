//! The scenarios (S1, S3, S4, S6, S8; S7 is `crate::search`): what every one
//! gets (its budget: options, deadline, the watched server) and how its
//! report is finished and written. Each scenario is a module of its own.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use serde_json::{json, Value};

use crate::api::{self, Layout, Provision};
use crate::coord::Options;
use crate::stats::{now_ns, Watched};
use crate::Common;

mod s1;
mod s3;
mod s4;
mod s6;
mod s8;
mod shared;

pub use s1::S1;
pub use s3::S3;
pub use s4::S4;
pub use s6::S6;
pub use s8::S8;
pub(crate) use shared::time_requests;

/// What a scenario gets: its common options, its deadline, the watched server.
pub struct Budget {
    pub common: Common,
    pub deadline: Instant,
    pub server: Watched,
}

impl Budget {
    pub fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    fn options(&self, track: bool) -> Options {
        Options {
            url: self.common.url.clone(),
            per_worker: self.common.per_worker,
            connect_concurrency: self.common.connect_concurrency,
            source_ips: !self.common.no_source_ips,
            track,
            join_rooms: self.common.join_rooms,
            pin: self.common.pin.clone(),
            deadline_ns: now_ns() + self.left().as_nanos() as u64 + 5_000_000_000,
        }
    }

    pub(crate) async fn provision(&self, layout: &Layout) -> Result<Provision> {
        let p = api::obtain(
            &self.common.url,
            layout,
            self.common.provision_file.as_deref(),
            self.common.save_provision.as_deref(),
            self.common.reuse_users.as_deref(),
            self.common.provision_concurrency,
        )
        .await?;
        if self.common.provision_only {
            return Err(anyhow!(ProvisionedOnly));
        }
        Ok(p)
    }
}

/// The early exit of `--provision-only`.
#[derive(Debug)]
pub struct ProvisionedOnly;

impl std::fmt::Display for ProvisionedOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("provisioned only")
    }
}

impl std::error::Error for ProvisionedOnly {}

/// Runs a scenario within its time limit, prints and saves its report.
pub async fn run<F, Fut>(common: Common, name: &str, f: F) -> Result<bool>
where
    F: FnOnce(Budget) -> Fut,
    Fut: Future<Output = Result<(Value, bool)>>,
{
    let limit = Duration::from_secs(common.duration);
    let budget = Budget {
        common: common.clone(),
        deadline: Instant::now() + limit,
        server: Watched(common.server_pid),
    };
    let started = now_ns();
    let (mut report, ok) =
        match tokio::time::timeout(limit + Duration::from_secs(10), f(budget)).await {
            Ok(Err(e)) if e.is::<ProvisionedOnly>() => {
                eprintln!("{name}: provisioned only (--provision-only)");
                return Ok(true);
            }
            Ok(r) => r?,
            Err(_) => bail!(
                "{name} did not finish within --duration {}s; stopped",
                common.duration
            ),
        };
    if let Value::Object(m) = &mut report {
        m.insert("scenario".into(), json!(name));
        m.insert("label".into(), json!(common.label));
        m.insert("smoke".into(), json!(common.smoke));
        m.insert("ok".into(), json!(ok));
        m.insert("started_unix_ns".into(), json!(started));
        m.insert("machine".into(), machine());
    }
    let text = serde_json::to_string_pretty(&report)?;
    println!("{text}");
    if let Some(out) = &common.out {
        std::fs::write(out, &text)?;
    }
    Ok(ok)
}

fn machine() -> Value {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| {
                    v.split_whitespace()
                        .next()
                        .and_then(|n| n.parse::<u64>().ok())
                })
        })
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    json!({"cpus": cpus, "mem_gib": (mem_kib as f64 / 1048576.0 * 10.0).round() / 10.0, "kernel": kernel.trim()})
}
