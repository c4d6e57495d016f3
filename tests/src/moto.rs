//! moto's server (PyPI `moto[server]`), the maintained AWS emulator the
//! end-to-end tests run against: one process per test, for isolation, on a free
//! loopback port. `make test` installs it into `.venv`.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ecs::config::{Credentials, SharedCredentialsProvider};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

use crate::hook::workspace_root;

/// How long moto may take to answer its first request (it starts in 1–2 s).
const READY_WITHIN: Duration = Duration::from_secs(30);
/// How many of moto's last output lines are kept, for failure messages.
const KEPT_LINES: usize = 200;

/// A running moto server. Killed when dropped.
#[derive(Debug)]
pub struct MotoServer {
    url: String,
    lines: Arc<Mutex<VecDeque<String>>>,
    _child: Child,
}

impl MotoServer {
    /// Starts moto on a free loopback port and waits until it answers.
    ///
    /// Panics when moto is not installed or does not come up in time.
    pub async fn start() -> Self {
        let binary = binary();
        assert!(
            binary.exists(),
            "moto's server is not installed: run `make test` (it installs moto[server] into .venv); looked for {}",
            binary.display()
        );
        // The port is free when chosen but could be taken before moto binds
        // it; a second try with another port covers that race.
        let mut last_error = String::new();
        for _ in 0..3 {
            match Self::try_start(&binary).await {
                Ok(moto) => return moto,
                Err(error) => last_error = error,
            }
        }
        panic!("moto's server did not start: {last_error}");
    }

    async fn try_start(binary: &PathBuf) -> Result<Self, String> {
        let port = crate::closed_port().await.port();
        let mut child = Command::new(binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("start {}: {e}", binary.display()))?;
        let lines = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(stdout) = child.stdout.take() {
            keep_lines(stdout, lines.clone());
        }
        if let Some(stderr) = child.stderr.take() {
            keep_lines(stderr, lines.clone());
        }
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("HTTP client");
        let started = Instant::now();
        while started.elapsed() < READY_WITHIN {
            if let Ok(Some(status)) = child.try_wait() {
                let output = Vec::from(lines.lock().expect("lock").clone()).join("\n");
                return Err(format!("moto exited with {status}:\n{output}"));
            }
            if let Ok(response) = http.get(format!("{url}/moto-api/")).send().await
                && response.status().is_success()
            {
                return Ok(MotoServer {
                    url,
                    lines,
                    _child: child,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let output = Vec::from(lines.lock().expect("lock").clone()).join("\n");
        Err(format!(
            "moto did not answer on {url} within {READY_WITHIN:?}:\n{output}"
        ))
    }

    /// The endpoint URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// moto's last output lines (its request log and tracebacks), for
    /// assertion messages.
    pub fn logs(&self) -> Vec<String> {
        self.lines.lock().expect("lock").iter().cloned().collect()
    }
}

/// moto's server binary: `$GREENLIGHT_MOTO_SERVER`, else `.venv/bin/moto_server`
/// in the workspace.
pub fn binary() -> PathBuf {
    std::env::var_os("GREENLIGHT_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/moto_server"))
}

/// SDK configuration for test-side clients talking to `endpoint` (moto or the
/// front): us-east-1, static test credentials, no retries (a test wants the
/// first answer, not a retried one).
pub fn sdk_config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "greenlight-e2e",
        )))
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::disabled())
        .build()
}

fn keep_lines<R: AsyncRead + Unpin + Send + 'static>(
    reader: R,
    lines: Arc<Mutex<VecDeque<String>>>,
) {
    tokio::spawn(async move {
        let mut reader = BufReader::new(reader).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            let mut lines = lines.lock().expect("lock");
            if lines.len() == KEPT_LINES {
                lines.pop_front();
            }
            lines.push_back(line);
        }
    });
}
