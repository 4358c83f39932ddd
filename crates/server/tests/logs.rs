//! The `natter` binary's logs: one JSON object per line with
//! `NATTER_LOG_FORMAT=json`, and no ANSI colour codes when stdout is not a terminal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Starts `natter serve` with stdout piped, returns its lines up to and
/// including the "listening" one (bounded wait), then stops it.
fn start_and_read_logs(format: Option<&str>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_natter"));
    cmd.arg("serve")
        .env("NATTER_DATA_DIR", dir.path())
        .env("PORT", port.to_string())
        .env("NATTER_BIND", "127.0.0.1")
        .env("RUST_LOG", "info")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("JWT_SECRET")
        .env_remove("NATTER_LOG_FORMAT")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(f) = format {
        cmd.env("NATTER_LOG_FORMAT", f);
    }
    let mut child = cmd.spawn().expect("starting natter");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lines = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let done = line.contains("listening");
                lines.push(line);
                if done {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        lines.iter().any(|l| l.contains("listening")),
        "natter never said it was listening; its output: {lines:#?}"
    );
    lines
}

#[test]
fn json_format_is_one_object_per_line() {
    let lines = start_and_read_logs(Some("json"));
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON object ({e}): {line:?}"));
        assert!(v["level"].is_string(), "no level: {line}");
        assert!(v["timestamp"].is_string(), "no timestamp: {line}");
        assert!(v["message"].is_string(), "no message: {line}");
    }
    assert!(lines.len() >= 2, "{lines:#?}");
}

#[test]
fn text_logs_have_no_colour_codes_when_piped() {
    let lines = start_and_read_logs(None);
    for line in &lines {
        assert!(
            !line.contains('\u{1b}'),
            "ANSI escape in piped logs: {line:?}"
        );
        assert!(serde_json::from_str::<serde_json::Value>(line).is_err());
    }
}
