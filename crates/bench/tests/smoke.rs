//! Smoke runs of every scenario against the real `natter` binary (path in
//! `NATTER_BIN`) on a temp SQLite database: a few seconds each, asserting only
//! correctness (every message delivered, no error) — never a timing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn natter_bin() -> PathBuf {
    let path = std::env::var_os("NATTER_BIN").unwrap_or_else(|| {
        panic!(
            "NATTER_BIN is not set: build the server (cargo build -p natter-server) and set \
             NATTER_BIN to the `natter` binary to run natter-bench's smoke tests"
        )
    });
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "NATTER_BIN={} is not a file",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start() -> Server {
    let bin = natter_bin();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(bin)
        .arg("serve")
        .env("NATTER_DATA_DIR", dir.path().join("data"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("data/natter.db").display()),
        )
        .env("PORT", port.to_string())
        .env("NATTER_BIND", "127.0.0.1")
        .env("NATTER_RATE_LIMITS", "off")
        .env("JWT_SECRET", "bench-smoke-secret-bench-smoke-secret")
        .env("RUST_LOG", "warn")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting natter");
    let server = Server { child, port, dir };
    let until = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < until,
            "natter did not listen on port {port} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// Runs `natter-bench <scenario> --smoke` against the server; returns its report.
fn smoke(server: &Server, scenario: &str, extra: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_natter-bench"))
        .arg(scenario)
        .arg("--smoke")
        .arg("--url")
        .arg(format!("http://127.0.0.1:{}", server.port))
        .arg("--server-pid")
        .arg(server.child.id().to_string())
        .arg("--duration")
        .arg("120")
        .args(extra)
        .stderr(Stdio::inherit())
        .output()
        .expect("running natter-bench");
    let text = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{scenario}: no JSON report ({e}): {text}"));
    assert!(
        out.status.success(),
        "{scenario} failed ({}): {report:#}",
        out.status
    );
    assert_eq!(report["ok"], true, "{scenario}: {report:#}");
    report
}

#[test]
fn s1_idle_smoke() {
    let s = start();
    let r = smoke(&s, "s1-idle", &[]);
    assert_eq!(r["connect"]["failed"], 0);
    assert_eq!(r["probe"]["delivered"], r["probe"]["expected"]);
    assert!(
        r["server_rss_kib"]["after_ramp"].as_u64().is_some(),
        "{r:#}"
    );
}

#[test]
fn s3_fanout_smoke() {
    let s = start();
    let r = smoke(&s, "s3-fanout", &[]);
    for size in r["sizes"].as_array().unwrap() {
        for step in size["steps"].as_array().unwrap() {
            assert_eq!(step["delivered"], step["expected"], "{step:#}");
            assert_eq!(step["errors"], 0, "{step:#}");
            assert!(step["sent"].as_u64().unwrap() > 0);
        }
    }
}

#[test]
fn s4_durable_smoke() {
    let s = start();
    let r = smoke(&s, "s4-durable", &[]);
    for step in r["steps"].as_array().unwrap() {
        assert_eq!(step["acked"], step["sent"], "{step:#}");
        assert_eq!(step["delivered"], step["expected_deliveries"], "{step:#}");
        assert_eq!(step["errors"], 0, "{step:#}");
    }
}

#[test]
fn s6_history_smoke() {
    let s = start();
    let db = format!("sqlite://{}", s.dir.path().join("data/natter.db").display());
    let r = smoke(&s, "s6-history", &["--database-url", &db]);
    assert_eq!(r["errors"], 0);
    assert!(r["warm_newest"]["n"].as_u64().unwrap() > 0);
}

#[test]
fn s8_jitter_smoke() {
    let s = start();
    let r = smoke(&s, "s8-jitter", &[]);
    assert_eq!(
        r["member_messages_had"], r["member_messages_expected"],
        "{r:#}"
    );
    assert!(r["force_closes"].as_u64().unwrap() > 0);
    assert_eq!(r["members_complete"], r["members"]);
}

/// `bench/run.sh` itself, with every scenario in `--smoke` size, on Natter and
/// the Node baseline: each scenario must leave an `ok` report (a preset whose
/// provisioning one scenario cannot reuse used to fail only in the script).
#[test]
fn run_sh_smoke_runs_every_scenario_on_both_servers() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = tempfile::tempdir().unwrap();
    let status = Command::new("bash")
        .arg(root.join("bench/run.sh"))
        .arg(out.path())
        .env("SMOKE", "1")
        .env("NATTER_BIN", natter_bin())
        .env("NATTER_BENCH_BIN", env!("CARGO_BIN_EXE_natter-bench"))
        .env("PORT_NATTER", free_port().to_string())
        .env("PORT_NODE", free_port().to_string())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .status()
        .expect("running bench/run.sh");
    assert!(status.success(), "bench/run.sh failed: {status}");
    let natter = [
        "s1-idle",
        "s3-fanout",
        "s4-durable",
        "s8-jitter",
        "s6-history",
    ];
    let node = ["s1-idle", "s3-fanout", "s4-durable", "s8-jitter"];
    let reports = natter
        .iter()
        .map(|s| format!("natter-{s}.json"))
        .chain(node.iter().map(|s| format!("node-socketio-{s}.json")));
    for name in reports {
        let path = out.path().join(&name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{name}: no report from bench/run.sh ({e})"));
        let report: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(report["ok"], true, "{name}: {report:#}");
    }
}

#[test]
fn s7_search_smoke() {
    let s = start();
    let db = format!("sqlite://{}", s.dir.path().join("data/natter.db").display());
    let r = smoke(&s, "s7-search", &["--database-url", &db]);
    for kind in ["word", "phrase", "cjk", "from", "has_link"] {
        let q = &r["queries"][kind];
        assert!(q["first_page"].as_u64().unwrap() > 0, "{kind}: {r:#}");
        assert_eq!(q["errors"], 0, "{kind}: {r:#}");
    }
    assert_eq!(r["searcher_rooms"], 5);
}
