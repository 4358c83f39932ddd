//! `natter-bench`: Natter's load generator and benchmark scenarios.
//!
//! Each scenario is one subcommand; `natter-bench <scenario> --help` lists its
//! knobs, `--smoke` makes it a few-second correctness run. The JSON report goes
//! to stdout (and `--out`), a human summary to stderr. See docs/BENCHMARKS.md.

mod api;
mod bulk;
mod coord;
mod proto;
mod scenarios;
mod search;
mod stats;
mod worker;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "natter-bench",
    version,
    about = "Load generator and benchmark scenarios for Natter"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Base URL of the server under test (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:3000", global = true)]
    pub url: String,
    /// PID of the server process: its RSS (VmRSS) and CPU time (utime+stime) are read from /proc.
    #[arg(long, global = true)]
    pub server_pid: Option<u32>,
    /// Use the users and rooms of this provision file instead of provisioning through the REST API.
    #[arg(long, global = true)]
    pub provision_file: Option<PathBuf>,
    /// Save the provision (tokens, room ids) to this file, to drive the same layout again.
    #[arg(long, global = true)]
    pub save_provision: Option<PathBuf>,
    /// Take the users (tokens) of this provision file instead of registering new
    /// ones (registration hashes a password: slow by design); rooms are still
    /// created through the API.
    #[arg(long, global = true)]
    pub reuse_users: Option<PathBuf>,
    /// Provision (and save with --save-provision), then exit: lets a server be
    /// restarted between provisioning and measuring (S1's RSS baseline).
    #[arg(long, global = true)]
    pub provision_only: bool,
    /// REST calls in flight while provisioning.
    #[arg(long, default_value_t = 32, global = true)]
    pub provision_concurrency: usize,
    /// At most this many connections per generator process (one process is bound by RLIMIT_NOFILE).
    #[arg(long, default_value_t = 15_000, global = true)]
    pub per_worker: usize,
    /// Handshakes in flight per generator process during the ramp.
    #[arg(long, default_value_t = 128, global = true)]
    pub connect_concurrency: usize,
    /// Connect from 127.0.0.1 only instead of spreading over 127.0.0.2–250.
    #[arg(long, global = true)]
    pub no_source_ips: bool,
    /// Also send `room:join` for each room after connecting (for servers that do not
    /// subscribe members on connect).
    #[arg(long, global = true)]
    pub join_rooms: bool,
    /// Pin the generator processes to these CPUs (`taskset -c`), e.g. `1`.
    #[arg(long, global = true)]
    pub pin: Option<String>,
    /// Hard limit on the whole run in seconds: it stops by itself after this.
    #[arg(long, default_value_t = 900, global = true)]
    pub duration: u64,
    /// A few-second correctness run with tiny sizes (for CI).
    #[arg(long, global = true)]
    pub smoke: bool,
    /// Also write the JSON report to this file.
    #[arg(long, global = true)]
    pub out: Option<PathBuf>,
    /// Name of the implementation under test, kept in the report (`natter`, `node-socketio`…).
    #[arg(long, default_value = "natter", global = true)]
    pub label: String,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// S1: ramp to N idle connections (each subscribed to its personal channel and a
    /// group room); server RSS per connection, handshakes/s.
    S1Idle(scenarios::S1),
    /// S3: fan-out into rooms of 10/100/1000 members at stepped rates; the
    /// deliveries/s at which p99 stays under the bound, p50/p99 at half that.
    S3Fanout(scenarios::S3),
    /// S4: senders into rooms of 10 with ack after commit; send→ack and
    /// send→deliver percentiles, highest sustained acked messages/s.
    S4Durable(scenarios::S4),
    /// S6: bulk-load messages straight into the database, then time the newest
    /// page and a keyset page of GET /api/messages, warm and cold.
    S6History(scenarios::S6),
    /// S7: bulk-load messages of varied text, then time GET /api/search per
    /// query kind (word, phrase, CJK, from:, has:link…) as a member of a few rooms.
    S7Search(search::S7),
    /// S8: clients force-closed every period while messages flow; each reconnects,
    /// calls `sync` and applies; share of messages every member ends up with.
    S8Jitter(scenarios::S8),
    /// Internal: one generator process (spawned by the scenarios).
    #[command(hide = true)]
    Worker {
        #[arg(long)]
        spec: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("natter-bench: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        match cli.command {
            Cmd::Worker { spec } => worker::run(&spec).await.map(|()| true),
            Cmd::S1Idle(s) => scenarios::run(s.common.clone(), "s1-idle", |b| s.run(b)).await,
            Cmd::S3Fanout(s) => scenarios::run(s.common.clone(), "s3-fanout", |b| s.run(b)).await,
            Cmd::S4Durable(s) => scenarios::run(s.common.clone(), "s4-durable", |b| s.run(b)).await,
            Cmd::S6History(s) => scenarios::run(s.common.clone(), "s6-history", |b| s.run(b)).await,
            Cmd::S7Search(s) => scenarios::run(s.common.clone(), "s7-search", |b| s.run(b)).await,
            Cmd::S8Jitter(s) => scenarios::run(s.common.clone(), "s8-jitter", |b| s.run(b)).await,
        }
    });
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("natter-bench: correctness check failed (see the report)");
            std::process::ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("natter-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
