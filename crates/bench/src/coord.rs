//! The coordinator's side of the generator processes: spawn them (each holds at
//! most `per_worker` connections, since one process may open at most
//! RLIMIT_NOFILE sockets), wait until all are connected, run phases in lock
//! step, merge their results. Children are killed if the coordinator drops them.

use std::process::Stdio;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use hdrhistogram::Histogram;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::stats::{self, hist, now_ns};
use crate::worker::{ConnSpec, Phase, Ready, StepResult, WorkerSpec};

pub struct Options {
    pub url: String,
    pub per_worker: usize,
    pub connect_concurrency: usize,
    pub source_ips: bool,
    pub track: bool,
    pub join_rooms: bool,
    /// Run each generator under `taskset -c <cpus>`.
    pub pin: Option<String>,
    pub deadline_ns: u64,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

pub struct Fleet {
    workers: Vec<Worker>,
    next_step: u32,
    spec_files: Vec<std::path::PathBuf>,
}

/// Everything the workers said when they were all connected.
pub struct Connected {
    pub connected: u64,
    pub failed: u64,
    pub first_error: Option<String>,
    pub handshakes_per_s: f64,
    pub handshake: Histogram<u64>,
    pub wall_s: f64,
}

/// Results of one phase, merged over workers.
#[derive(Default)]
pub struct Merged {
    pub parts: Vec<StepResult>,
    pub deliver: Option<Histogram<u64>>,
    pub ack: Option<Histogram<u64>>,
    pub sync: Option<Histogram<u64>>,
    pub recover: Option<Histogram<u64>>,
}

impl Merged {
    pub fn sum(&self, f: impl Fn(&StepResult) -> u64) -> u64 {
        self.parts.iter().map(f).sum()
    }
    pub fn generator_cpu_s(&self) -> f64 {
        self.parts.iter().map(|p| p.generator_cpu_s).sum()
    }
    pub fn first_error(&self) -> Option<String> {
        self.parts.iter().find_map(|p| p.first_ack_error.clone())
    }
}

fn merge(into: &mut Option<Histogram<u64>>, hex: &str) -> Result<()> {
    let h = stats::from_hex(hex)?;
    match into {
        Some(acc) => acc.add(&h).map_err(|e| anyhow!("merge: {e:?}"))?,
        None => *into = Some(h),
    }
    Ok(())
}

async fn read_tagged(w: &mut Worker, tag: &str, within: Duration) -> Result<String> {
    let fut = async {
        loop {
            let line = w
                .lines
                .next_line()
                .await?
                .ok_or_else(|| anyhow!("a generator process ended early"))?;
            if let Some(rest) = line.strip_prefix(tag) {
                return Ok::<_, anyhow::Error>(rest.trim_start().to_owned());
            }
        }
    };
    tokio::time::timeout(within, fut)
        .await
        .map_err(|_| anyhow!("no {tag} from a generator within {within:?}"))?
}

impl Fleet {
    pub async fn start(opts: &Options, conns: Vec<ConnSpec>) -> Result<(Fleet, Connected)> {
        let n = conns.len();
        let of = n.div_ceil(opts.per_worker.max(1)).max(1);
        let mut shards: Vec<Vec<ConnSpec>> = vec![Vec::new(); of];
        for c in conns {
            let k = c.id % of;
            shards[k].push(c);
        }
        let exe = std::env::current_exe()?;
        let mut workers = Vec::new();
        let mut spec_files = Vec::new();
        let started = now_ns();
        for (index, shard) in shards.into_iter().enumerate() {
            let spec = WorkerSpec {
                url: opts.url.clone(),
                index,
                of,
                conns: shard,
                connect_concurrency: opts.connect_concurrency,
                source_ips: opts.source_ips,
                track: opts.track,
                join_rooms: opts.join_rooms,
                deadline_ns: opts.deadline_ns,
            };
            let path = std::env::temp_dir()
                .join(format!("natter-bench-{}-{index}.json", std::process::id()));
            std::fs::write(&path, serde_json::to_vec(&spec)?)?;
            let mut cmd = match &opts.pin {
                Some(cpus) => {
                    let mut c = Command::new("taskset");
                    c.arg("-c").arg(cpus).arg(&exe);
                    c
                }
                None => Command::new(&exe),
            };
            cmd.arg("worker")
                .arg("--spec")
                .arg(&path)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true);
            let mut child = cmd.spawn().context("spawning a generator process")?;
            let stdin = child.stdin.take().ok_or_else(|| anyhow!("no stdin"))?;
            let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
            workers.push(Worker {
                child,
                stdin,
                lines: BufReader::new(stdout).lines(),
            });
            spec_files.push(path);
        }
        let mut fleet = Fleet {
            workers,
            next_step: 1,
            spec_files,
        };
        let mut c = Connected {
            connected: 0,
            failed: 0,
            first_error: None,
            handshakes_per_s: 0.0,
            handshake: hist(),
            wall_s: 0.0,
        };
        let (mut t_start, mut t_end) = (u64::MAX, 0u64);
        for w in &mut fleet.workers {
            let line = read_tagged(w, "READY", Duration::from_secs(900)).await?;
            let r: Ready = serde_json::from_str(&line)?;
            c.connected += r.connected;
            c.failed += r.failed;
            if c.first_error.is_none() {
                c.first_error = r.first_error;
            }
            c.handshake
                .add(stats::from_hex(&r.handshake_hist)?)
                .map_err(|e| anyhow!("{e:?}"))?;
            t_start = t_start.min(r.connect_start_ns);
            t_end = t_end.max(r.connect_end_ns);
        }
        let span = (t_end.saturating_sub(t_start)) as f64 / 1e9;
        c.handshakes_per_s = if span > 0.0 {
            c.connected as f64 / span
        } else {
            0.0
        };
        c.wall_s = (now_ns() - started) as f64 / 1e9;
        for f in &fleet.spec_files {
            let _ = std::fs::remove_file(f);
        }
        Ok((fleet, c))
    }

    /// Runs one phase on every worker; `t0` is set a little ahead so all start together.
    pub async fn phase(&mut self, mut p: Phase) -> Result<Merged> {
        p.step = self.next_step;
        self.next_step += 1;
        p.t0_ns = now_ns() + 200_000_000;
        let line = format!("GO {}\n", serde_json::to_string(&p)?);
        for w in &mut self.workers {
            w.stdin.write_all(line.as_bytes()).await?;
            w.stdin.flush().await?;
        }
        let within = Duration::from_millis(p.duration_ms + p.drain_ms + 30_000);
        let mut m = Merged::default();
        for w in &mut self.workers {
            let line = read_tagged(w, "RESULT", within).await?;
            let r: StepResult = serde_json::from_str(&line)?;
            if r.step != p.step {
                bail!("a generator answered step {} for step {}", r.step, p.step);
            }
            merge(&mut m.deliver, &r.deliver_hist)?;
            merge(&mut m.ack, &r.ack_hist)?;
            merge(&mut m.sync, &r.sync_hist)?;
            merge(&mut m.recover, &r.recover_hist)?;
            m.parts.push(r);
        }
        Ok(m)
    }

    pub async fn finish(mut self) -> Result<()> {
        for w in &mut self.workers {
            let _ = w.stdin.write_all(b"EXIT\n").await;
            let _ = w.stdin.flush().await;
        }
        for w in &mut self.workers {
            match tokio::time::timeout(Duration::from_secs(10), w.child.wait()).await {
                Ok(_) => {}
                Err(_) => {
                    let _ = w.child.kill().await;
                }
            }
        }
        Ok(())
    }
}

pub fn pct(h: &Option<Histogram<u64>>) -> stats::Pcts {
    h.as_ref().map(stats::pcts).unwrap_or_default()
}
