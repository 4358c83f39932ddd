//! A real S3-compatible server for tests: moto's server mode
//! (`tests/s3/server.py`) on 127.0.0.1 and a free port, one per test
//! process, and a fresh bucket per test. A test that needs it FAILS when it
//! cannot start: scripts/test.sh installs `tests/s3/requirements.txt` into
//! its venv and sets `NATTER_TEST_S3_PYTHON` to that venv's python.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use natter_server::config::FilesArgs;

use super::{Backend, TestApp};

pub struct S3Server {
    child: Child,
    pub endpoint: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl S3Server {
    pub fn start() -> S3Server {
        let python =
            std::env::var("NATTER_TEST_S3_PYTHON").unwrap_or_else(|_| "python3".to_owned());
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/s3/server.py");
        let help = "the S3 tests need moto's server: run scripts/test.sh, or \
                    `python3 -m venv V && V/bin/pip install -r tests/s3/requirements.txt` \
                    and set NATTER_TEST_S3_PYTHON=V/bin/python";
        let mut child = Command::new(&python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("could not run {python}: {e}; {help}"));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        let Some(port) = line.trim().strip_prefix("PORT ") else {
            let _ = child.kill();
            panic!("the S3 test server did not start (said {line:?}); {help}");
        };
        S3Server {
            endpoint: format!("http://127.0.0.1:{port}"),
            child,
        }
    }

    /// Creates a fresh bucket and returns the configuration that uses it.
    pub async fn bucket(&self) -> FilesArgs {
        let name = format!("natter-test-{:016x}", rand::random::<u64>());
        let res = reqwest::Client::new()
            .put(format!("{}/{name}", self.endpoint))
            .send()
            .await
            .expect("create bucket");
        assert!(res.status().is_success(), "create bucket: {}", res.status());
        FilesArgs {
            s3_bucket: Some(name),
            s3_endpoint: Some(self.endpoint.clone()),
            s3_region: Some("us-east-1".into()),
            s3_access_key_id: Some("test".into()),
            s3_secret_access_key: Some("test".into()),
            ..FilesArgs::default()
        }
    }
}

/// A node (on SQLite) whose files are in a fresh bucket of a server of its
/// own; keep the server for as long as the node.
pub async fn app() -> (S3Server, TestApp) {
    let server = S3Server::start();
    let args = server.bucket().await;
    (
        server,
        TestApp::start_with(Backend::Sqlite, args, None).await,
    )
}
