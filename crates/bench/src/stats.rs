//! HDR histograms (microseconds, shipped between processes as hex), clocks, and
//! what `/proc` says about a process (RSS, CPU time).

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context, Result};
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Microsecond histogram up to 10 minutes, 3 significant figures.
pub fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()))
}

pub fn record(h: &mut Histogram<u64>, micros: u64) {
    let _ = h.record(micros.clamp(1, 600_000_000));
}

pub fn to_hex(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    if V2Serializer::new().serialize(h, &mut buf).is_err() {
        return String::new();
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex(s: &str) -> Result<Histogram<u64>> {
    if s.is_empty() {
        return Ok(hist());
    }
    let bytes: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap_or("00"), 16))
        .collect::<std::result::Result<_, _>>()?;
    let h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| anyhow!("histogram: {e:?}"))?;
    Ok(h)
}

/// Percentiles of a histogram in milliseconds, for reports.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Pcts {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

pub fn pcts(h: &Histogram<u64>) -> Pcts {
    if h.is_empty() {
        return Pcts::default();
    }
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    Pcts {
        count: h.len(),
        p50_ms: ms(0.5),
        p90_ms: ms(0.9),
        p99_ms: ms(0.99),
        p999_ms: ms(0.999),
        max_ms: h.max() as f64 / 1000.0,
    }
}

pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// A unix-nanosecond instant as a tokio instant (same machine, same clock).
pub fn instant_at(t_ns: u64) -> tokio::time::Instant {
    let now = now_ns();
    let base = tokio::time::Instant::now();
    if t_ns >= now {
        base + std::time::Duration::from_nanos(t_ns - now)
    } else {
        base.checked_sub(std::time::Duration::from_nanos(now - t_ns))
            .unwrap_or(base)
    }
}

/// Clock ticks per second of /proc/<pid>/stat times.
pub fn clk_tck() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0)
}

/// utime + stime of a process, in seconds.
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces: fields are counted after the last ')'.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // after ')' the first field is #3 (state); utime is #14, stime #15.
    let utime: f64 = fields.get(11).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    let stime: f64 = fields.get(12).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    Ok((utime + stime) / clk_tck())
}

/// VmRSS of a process, in KiB.
pub fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS for pid {pid}"))
}

/// An optional server process to watch.
#[derive(Debug, Clone, Copy)]
pub struct Watched(pub Option<u32>);

impl Watched {
    pub fn cpu(&self) -> Option<f64> {
        self.0.and_then(|p| cpu_seconds(p).ok())
    }
    pub fn rss(&self) -> Option<u64> {
        self.0.and_then(|p| rss_kib(p).ok())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn histograms_survive_the_trip_between_processes() {
        let mut h = hist();
        for v in [10, 20, 3000, 50_000] {
            record(&mut h, v);
        }
        let back = from_hex(&to_hex(&h)).unwrap();
        assert_eq!(back.len(), 4);
        assert_eq!(back.max(), h.max());
    }

    #[test]
    fn reads_its_own_process() {
        let me = std::process::id();
        assert!(rss_kib(me).unwrap() > 0);
        assert!(cpu_seconds(me).unwrap() >= 0.0);
    }
}
