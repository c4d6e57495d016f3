//! Runs a real, compiled hook binary as Lambda would: environment from a
//! Lambda function configuration, `AWS_LAMBDA_RUNTIME_API` pointing at the
//! local Runtime API, the AWS SDK pointed at local endpoints.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use crate::aws_front::{ApiCall, AwsFront};
use crate::codedeploy::{Fault, StatusCall};
use crate::runtime_api::{Answer, RuntimeApi};

/// The hook binaries, in lifecycle order.
pub const HOOKS: [&str; 3] = [
    "after-allow-test-traffic",
    "before-allow-traffic",
    "after-allow-traffic",
];

/// Which build of the hook binaries to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// The binaries of the current profile, as `cargo build` makes them.
    Standard,
    /// Built with `panic = "abort"` and the `fault-injection` feature (profile
    /// `e2e-abort`): a panic kills the process, as in a build tool's release
    /// build that aborts on panic.
    AbortOnPanic,
}

impl Build {
    /// The folder holding these binaries, built (or brought up to date) once
    /// per test process: `cargo test` alone does not rebuild other packages'
    /// binaries.
    pub fn dir(self) -> &'static Path {
        static STANDARD: OnceLock<PathBuf> = OnceLock::new();
        static ABORT: OnceLock<PathBuf> = OnceLock::new();
        match self {
            Build::Standard => STANDARD.get_or_init(|| {
                // `GREENLIGHT_HOOK_PROFILE=release` runs the release binaries
                // from a harness built in another profile (the benchmarks).
                match std::env::var("GREENLIGHT_HOOK_PROFILE").as_deref() {
                    Ok("release") => {
                        build_hooks("release", &[]);
                        profile_dir()
                            .parent()
                            .expect("target folder")
                            .join("release")
                    }
                    _ => {
                        let dir = profile_dir();
                        let profile = if dir.ends_with("release") {
                            "release"
                        } else {
                            "dev"
                        };
                        build_hooks(profile, &[]);
                        dir
                    }
                }
            }),
            Build::AbortOnPanic => ABORT.get_or_init(|| {
                build_hooks("e2e-abort", &["--features", "greenlight/fault-injection"]);
                profile_dir()
                    .parent()
                    .expect("target folder")
                    .join("e2e-abort")
            }),
        }
    }
}

/// The folder of the running binary's profile (e.g. `target/debug`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let mut dir = exe.parent().expect("exe folder").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

fn build_hooks(profile: &str, extra: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = std::process::Command::new(cargo);
    build
        .args(["build", "--quiet", "--profile", profile])
        .args(extra)
        .current_dir(workspace_root());
    for hook in HOOKS {
        build.args(["-p", hook]);
    }
    let status = build
        .status()
        .expect("run cargo build for the hook binaries");
    assert!(
        status.success(),
        "cargo build of the hook binaries (profile {profile}) failed"
    );
}

/// The workspace root (where `events/` lives).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// A sample event from `events/`.
pub fn sample_event(hook: &str) -> Value {
    let path = workspace_root().join("events").join(format!("{hook}.json"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("sample event is JSON")
}

/// A running hook process. Killed when dropped.
#[derive(Debug)]
pub struct HookProcess {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    readers: Vec<JoinHandle<()>>,
}

impl HookProcess {
    /// Starts `hook` (a name from [`HOOKS`]) with the Lambda environment, every
    /// AWS endpoint pointed at `front`, plus `env`; nothing from the test's own
    /// environment leaks in.
    pub fn start(
        build: Build,
        hook: &str,
        runtime: &RuntimeApi,
        front: &AwsFront,
        env: &[(&str, String)],
    ) -> Self {
        let binary = build.dir().join(hook);
        let mut command = Command::new(&binary);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", runtime.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", format!("CodeDeployHook_{hook}"))
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(front.endpoint_env())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            readers.push(collect(BufReader::new(stdout), lines.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(collect(BufReader::new(stderr), lines.clone()));
        }
        HookProcess {
            child,
            lines,
            readers,
        }
    }

    /// The process's peak resident memory so far (`VmHWM`), in KiB; `None`
    /// where `/proc` does not tell (not Linux, or the process is gone).
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Stops the process and returns everything it printed.
    pub async fn stop(mut self) -> Vec<String> {
        self.child.kill().await.ok();
        for reader in self.readers.drain(..) {
            tokio::time::timeout(Duration::from_secs(5), reader)
                .await
                .ok();
        }
        self.lines.lock().expect("lock").clone()
    }
}

fn collect<R: tokio::io::AsyncRead + Unpin + Send + 'static>(
    reader: BufReader<R>,
    lines: Arc<Mutex<Vec<String>>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut reader = reader.lines();
        while let Ok(Some(line)) = reader.next_line().await {
            lines.lock().expect("lock").push(line);
        }
    })
}

/// Everything one invocation produced.
#[derive(Debug)]
pub struct Run {
    /// The function's answer to the Runtime API, if it gave one in time.
    pub answer: Option<Answer>,
    /// When the answer was seen, from the invocation's start.
    pub answered_after: Duration,
    /// The invocation's timeout (deadline minus start).
    pub timeout: Duration,
    /// Every status call CodeDeploy received during this run.
    pub calls: Vec<StatusCall>,
    /// Every AWS API call the front received during this run, in order.
    pub api_calls: Vec<ApiCall>,
    /// When the invocation started.
    pub started: Instant,
    /// Every line the process printed.
    pub logs: Vec<String>,
}

impl Run {
    /// The process output, for assertion messages.
    pub fn log_text(&self) -> String {
        self.logs.join("\n")
    }

    /// The structured (JSON) log lines.
    pub fn json_logs(&self) -> Vec<Value> {
        self.logs
            .iter()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// The `fields` of every JSON log line whose message is `message`.
    pub fn log_fields(&self, message: &str) -> Vec<Value> {
        self.json_logs()
            .into_iter()
            .filter(|line| {
                line["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with(message))
            })
            .map(|line| line["fields"].clone())
            .collect()
    }

    /// Asserts that CodeDeploy received exactly one status call, and took it
    /// with `status`.
    pub fn assert_reported_once(&self, status: &str) {
        assert_eq!(
            self.calls.len(),
            1,
            "status calls: {:?}\n{}",
            self.calls,
            self.log_text()
        );
        assert_eq!(
            self.accepted_statuses(),
            vec![status.to_owned()],
            "{}",
            self.log_text()
        );
    }

    /// The fields of the one verdict line.
    pub fn verdict(&self) -> Value {
        let lines = self.log_fields("verdict");
        assert_eq!(
            lines.len(),
            1,
            "one verdict line expected:\n{}",
            self.log_text()
        );
        lines[0].clone()
    }

    /// The accepted status calls' statuses.
    pub fn accepted_statuses(&self) -> Vec<String> {
        self.calls
            .iter()
            .filter(|c| c.accepted())
            .map(|c| c.status.clone())
            .collect()
    }
}

/// One invocation of a hook binary, described before it runs.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// Which binary.
    pub hook: String,
    /// The event payload.
    pub event: Value,
    /// The function timeout: the deadline handed out with the event.
    pub timeout: Duration,
    /// Extra environment (the spec, dry run, margin…).
    pub env: Vec<(&'static str, String)>,
    /// Faults CodeDeploy answers with first.
    pub faults: Vec<Fault>,
    /// Which build of the binary.
    pub build: Build,
    /// The AWS endpoint (with moto and a staged deployment behind it); `None`
    /// starts a front without moto, which serves status calls alone.
    pub front: Option<Arc<AwsFront>>,
}

impl Invocation {
    /// `hook` with its sample event, a 10 s timeout and `spec` inline.
    pub fn new(hook: &str, spec: &str) -> Self {
        Invocation {
            hook: hook.to_owned(),
            event: sample_event(hook),
            timeout: Duration::from_secs(10),
            env: vec![
                ("GREENLIGHT_SPEC", spec.to_owned()),
                ("GREENLIGHT_REPORT_MARGIN_MS", "1000".to_owned()),
            ],
            faults: Vec::new(),
            build: Build::Standard,
            front: None,
        }
    }

    /// Points the hook's AWS SDK at `front`.
    pub fn with_front(mut self, front: Arc<AwsFront>) -> Self {
        self.front = Some(front);
        self
    }

    /// Sets an environment variable for the hook.
    pub fn env(mut self, name: &'static str, value: &str) -> Self {
        self.env.retain(|(n, _)| *n != name);
        self.env.push((name, value.to_owned()));
        self
    }

    /// Removes an environment variable.
    pub fn without_env(mut self, name: &'static str) -> Self {
        self.env.retain(|(n, _)| *n != name);
        self
    }

    /// Runs the binary for this one invocation and collects what it did. Waits
    /// for the answer until 5 s past the deadline, then gives up (a hook that
    /// has not answered by then never will in Lambda either).
    pub async fn run(self) -> Run {
        let runtime = RuntimeApi::start().await;
        let front = match self.front {
            Some(front) => front,
            None => Arc::new(AwsFront::start(None).await),
        };
        front.inject(&self.faults);
        // A shared front has calls from earlier runs: report this run's only.
        let (statuses_before, calls_before) = (front.status_calls().len(), front.api_calls().len());
        let process = HookProcess::start(self.build, &self.hook, &runtime, &front, &self.env);
        let started = Instant::now();
        let request_id = runtime.enqueue(self.event, self.timeout);
        let answer = runtime
            .answer(&request_id, self.timeout + Duration::from_secs(5))
            .await;
        let answered_after = started.elapsed();
        let logs = process.stop().await;
        Run {
            answer,
            answered_after,
            timeout: self.timeout,
            calls: front.status_calls().split_off(statuses_before),
            api_calls: front.api_calls().split_off(calls_before),
            started,
            logs,
        }
    }
}
