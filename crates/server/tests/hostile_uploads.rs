//! Hostile uploads against a real `natter` process: 20 parallel PNGs of
//! 8192 × 8192 pixels (small on the wire, 200+ MB each if decoded) must be
//! refused from their headers, leave the node up, and keep its peak RSS
//! (VmHWM, read from /proc) under 300 MB; then 4 parallel 36 MP PNGs (under
//! the limit) are decoded within the decode memory budget, under it too.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The peak resident memory the node may reach.
const MAX_PEAK_RSS_KB: u64 = 300 * 1024;

struct Node {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Node {
    fn start() -> Node {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_natter"))
            .arg("serve")
            .env("NATTER_DATA_DIR", dir.path())
            .env("PORT", "0")
            .env("NATTER_BIND", "127.0.0.1")
            .env("NATTER_RATE_LIMITS", "off")
            .env("RUST_LOG", "info")
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .env_remove("AWS_S3_BUCKET")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start natter");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(at) = line.find("natter listening on http://") {
                        let addr = line[at + "natter listening on http://".len()..]
                            .trim()
                            .to_owned();
                        let _ = tx.send(addr);
                        sent = true;
                    }
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("natter said where it listens");
        Node {
            child,
            base: format!("http://{addr}"),
            _dir: dir,
        }
    }

    /// Peak resident set size so far, in kB.
    fn peak_rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/<pid>/status")
    }
}

/// A real 8192 × 8192 grey PNG: every row zero, so it compresses to a few
/// hundred KB while decoding it would take 64 MB (grey) to 256 MB (RGBA).
fn huge_png() -> Vec<u8> {
    png_of(8192, 8192)
}

fn png_of(w: u32, h: u32) -> Vec<u8> {
    let img = image::GrayImage::new(w, h);
    let mut out = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::NoFilter,
    );
    img.write_with_encoder(encoder).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_parallel_huge_pngs_leave_the_node_up_and_small() {
    let node = Node::start();
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{}/api/auth/register", node.base))
        .json(&json!({"email": "ana@example.com", "username": "ana", "name": "Ana", "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = client
        .post(format!("{}/api/rooms", node.base))
        .bearer_auth(&token)
        .json(&json!({"name": "bombs"}))
        .send()
        .await
        .unwrap();
    let room = res.json::<Value>().await.unwrap()["room"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = node.peak_rss_kb();

    let png = huge_png();
    assert!(
        png.len() < 10 * 1024 * 1024,
        "{} bytes on the wire",
        png.len()
    );
    let uploads = (0..20).map(|i| {
        let form = Form::new().text("roomId", room.clone()).part(
            "file",
            Part::bytes(png.clone()).file_name(format!("bomb{i}.png")),
        );
        client
            .post(format!("{}/api/upload", node.base))
            .bearer_auth(&token)
            .multipart(form)
            .send()
    });
    let answers = futures_util::future::join_all(uploads).await;
    for answer in answers {
        let res = answer.expect("an answer, not a dropped connection");
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "too_large", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("megapixels"),
            "{body}"
        );
    }

    // Still up, and still takes a normal image.
    let res = client
        .get(format!("{}/healthz", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut small = Vec::new();
    image::DynamicImage::new_rgb8(640, 480)
        .write_to(
            &mut std::io::Cursor::new(&mut small),
            image::ImageFormat::Png,
        )
        .unwrap();
    let form = Form::new()
        .text("roomId", room.clone())
        .part("file", Part::bytes(small).file_name("ok.png"));
    let res = client
        .post(format!("{}/api/upload", node.base))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    // Images under the limit are decoded, within the decode memory budget:
    // several 36 MP ones at once are decoded one after the other.
    let big = png_of(6000, 6000);
    let uploads = (0..4).map(|i| {
        let form = Form::new().text("roomId", room.clone()).part(
            "file",
            Part::bytes(big.clone()).file_name(format!("big{i}.png")),
        );
        client
            .post(format!("{}/api/upload", node.base))
            .bearer_auth(&token)
            .multipart(form)
            .send()
    });
    for answer in futures_util::future::join_all(uploads).await {
        let res = answer.expect("an answer");
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["file"]["width"], 6000, "{body}");
    }

    let peak = node.peak_rss_kb();
    eprintln!(
        "peak RSS: {before} kB before the uploads, {peak} kB after ({} bytes per PNG)",
        png.len()
    );
    assert!(
        peak < MAX_PEAK_RSS_KB,
        "peak RSS {peak} kB is over {MAX_PEAK_RSS_KB} kB"
    );
}
