//! Runs a real, compiled hook binary as Lambda would: environment from a
//! Lambda function configuration, `AWS_LAMBDA_RUNTIME_API` pointing at the
//! local Runtime API, the AWS SDK pointed at local endpoints.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

pub use crate::binaries::{Build, HOOKS, use_cargo_binaries, workspace_root};

use crate::aws_front::{ApiCall, AwsFront, LambdaInvocation};
use crate::codedeploy::{Fault, StatusCall};
use crate::runtime_api::{Answer, RuntimeApi};

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

    /// The CPU time the process has used so far, user and system, from
    /// `/proc/<pid>/stat` (in clock ticks of 10 ms: Linux's `USER_HZ` is
    /// 100 on every architecture Lambda runs); `None` where `/proc` does
    /// not tell.
    pub fn cpu_time(&self) -> Option<(Duration, Duration)> {
        let pid = self.child.id()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name, in parentheses, may hold spaces: count fields
        // from after it, where the state (field 3) comes first.
        let (_, rest) = stat.rsplit_once(')')?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |at: usize| -> Option<Duration> {
            let ticks: u64 = fields.get(at)?.parse().ok()?;
            Some(Duration::from_millis(ticks * 10))
        };
        // utime and stime are fields 14 and 15.
        Some((ticks(11)?, ticks(12)?))
    }

    /// Whether the process has ended (e.g. aborted on a panic).
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
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
        // Lossy: a line that is not UTF-8 must not end the collection (and
        // hide what follows from the secret check).
        let mut reader = reader;
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line).await, Ok(n) if n > 0) {
            let text = String::from_utf8_lossy(&line);
            lines
                .lock()
                .expect("lock")
                .push(text.trim_end_matches(['\n', '\r']).to_owned());
            line.clear();
        }
    })
}

/// A secret header value that every scenario's checks send (see
/// [`with_canary`]). No output of any run may contain it: not the logs, not
/// the answer to Lambda, not what CodeDeploy or any AWS API receives.
pub const CANARY_SECRET: &str = "gl-canary-Zq8w3RtY51xK";
/// The token of the canary's `Authorization: Bearer` header.
pub const CANARY_TOKEN: &str = "gl-bearer-Pm4KxV0c77dN";

/// `spec` with two secret headers added to every check that does not set
/// them: `X-Canary-Token` marked secret, and an `Authorization` bearer token
/// (secret by name). Text that is not a spec object with a list of checks is
/// returned unchanged (the invalid-spec scenarios).
pub fn with_canary(spec: &str) -> String {
    let Ok(mut value) = serde_json::from_str::<Value>(spec) else {
        return spec.to_owned();
    };
    let Some(checks) = value.get_mut("checks").and_then(Value::as_array_mut) else {
        return spec.to_owned();
    };
    // A flow's requests are its steps: each gets the canary.
    let mut requests: Vec<&mut Value> = Vec::new();
    for check in checks.iter_mut() {
        if check.get("steps").is_some_and(Value::is_array) {
            if let Some(Value::Array(steps)) = check.get_mut("steps") {
                requests.extend(steps.iter_mut());
            }
        } else {
            requests.push(check);
        }
    }
    for check in requests {
        let Some(check) = check.as_object_mut() else {
            continue;
        };
        let headers = check
            .entry("headers")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        let Some(headers) = headers.as_object_mut() else {
            continue;
        };
        headers
            .entry("X-Canary-Token")
            .or_insert_with(|| serde_json::json!({"value": CANARY_SECRET, "secret": true}));
        if !headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("authorization"))
        {
            headers.insert(
                "Authorization".to_owned(),
                Value::String(format!("Bearer {CANARY_TOKEN}")),
            );
        }
    }
    value.to_string()
}

/// A secret as services echo it: as it is, JSON-escaped by serde, PHP
/// (`\/`) and Go (`\u0026`, `\u003c`, `\u003e`), percent-encoded (upper
/// and lower case hex), as a form value (`+` for a space), and in base64.
pub fn renderings(secret: &str) -> Vec<(&'static str, String)> {
    use base64::Engine as _;
    let json = serde_json::to_string(secret).expect("a string encodes");
    let json = json.trim_matches('"').to_owned();
    let percent = |upper: bool, space: &str| -> String {
        secret
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(b).to_string()
                }
                b' ' => space.to_owned(),
                other if upper => format!("%{other:02X}"),
                other => format!("%{other:02x}"),
            })
            .collect()
    };
    let mut all = vec![
        ("as it is", secret.to_owned()),
        ("JSON", json.clone()),
        ("PHP JSON", json.replace('/', "\\/")),
        (
            "Go JSON",
            json.replace('&', "\\u0026")
                .replace('<', "\\u003c")
                .replace('>', "\\u003e"),
        ),
        ("percent-encoded", percent(true, "%20")),
        ("percent-encoded, lower case", percent(false, "%20")),
        ("form-encoded", percent(true, "+")),
        (
            "base64",
            base64::engine::general_purpose::STANDARD.encode(secret),
        ),
    ];
    let mut seen = std::collections::HashSet::new();
    all.retain(|(_, text)| seen.insert(text.clone()));
    all
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
    /// When the process asked for its next invocation after answering this
    /// one, from the invocation's start: it had finished with this one.
    pub idle_after: Option<Duration>,
    /// The process's peak resident memory (KiB) when it answered.
    pub peak_rss_kib: Option<u64>,
    /// When the process ended by itself (an abort), from the invocation's start.
    pub exited_after: Option<Duration>,
    /// The answers to the deliveries before the last (see
    /// [`Invocation::deliveries`] and [`Invocation::hand_off_deliveries`]),
    /// each given before its deadline.
    pub earlier_answers: Vec<Option<Answer>>,
    /// Every asynchronous invocation the function made of itself (a
    /// hand-off), in order; each was delivered back to it as Lambda would.
    pub hand_offs: Vec<LambdaInvocation>,
    /// How many answers the function posted for the (last) invocation.
    pub answers_posted: usize,
    /// What the function posted to `/init/error`, if anything.
    pub init_error: Option<Value>,
    /// Which build ran.
    pub build: Build,
    /// Secrets besides the canary that no output may hold.
    pub secrets: Vec<String>,
}

impl Run {
    /// Asserts that no output of this run holds the canary secret or token,
    /// nor any secret the invocation named ([`Invocation::secret`]), in any
    /// of the encodings a service echoes them in ([`renderings`]): stdout and
    /// stderr, the answer to the Runtime API, the status calls.
    pub fn assert_no_secret(&self) {
        self.assert_no_secret_among(&[]);
    }

    /// [`Run::assert_no_secret`], for `more` secrets too (values a flow
    /// captured, which the test learns from the service).
    pub fn assert_no_secret_among(&self, more: &[String]) {
        let mut outputs = vec![("stdout/stderr", self.log_text())];
        if let Some(answer) = &self.answer {
            outputs.push(("answer to the Runtime API", format!("{answer:?}")));
            let (Answer::Response(value) | Answer::Error(value)) = answer;
            outputs.push(("answer to the Runtime API, as JSON", value.to_string()));
        }
        outputs.push((
            "earlier answers to the Runtime API",
            format!("{:?}", self.earlier_answers),
        ));
        outputs.push(("init error", format!("{:?}", self.init_error)));
        outputs.push(("status calls to CodeDeploy", format!("{:?}", self.calls)));
        outputs.push(("AWS API calls", format!("{:?}", self.api_calls)));
        let mut secrets = vec![CANARY_SECRET.to_owned(), CANARY_TOKEN.to_owned()];
        secrets.extend(self.secrets.iter().cloned());
        secrets.extend(more.iter().cloned());
        for (stream, text) in outputs {
            for secret in &secrets {
                for (how, rendering) in renderings(secret) {
                    // Any 10 characters of it: a secret cut in two still leaks.
                    for part in rendering.as_bytes().windows(10) {
                        let part = String::from_utf8_lossy(part);
                        assert!(
                            !text.contains(part.as_ref()),
                            "part {part:?} of the secret {secret} ({how}) leaked into {stream}:\n{text}"
                        );
                    }
                }
            }
        }
    }

    /// Asserts that the invocation was answered before its deadline and that
    /// the process then went back to waiting for the next one, also before the
    /// deadline: nothing of this invocation outlived it.
    pub fn assert_done_before_deadline(&self) {
        assert!(
            self.answers_posted <= 1,
            "the function answered {} times",
            self.answers_posted
        );
        if let Some(exited) = self.exited_after {
            // Only a build that aborts on panic may end by itself; then it is
            // gone before the deadline.
            assert_eq!(
                self.build,
                Build::AbortOnPanic,
                "the process exited:\n{}",
                self.log_text()
            );
            assert!(
                exited < self.timeout,
                "the process ended after the deadline"
            );
            return;
        }
        assert!(
            self.answer.is_some() && self.answered_after < self.timeout,
            "no answer before the {} ms deadline (answer {:?} after {} ms):\n{}",
            self.timeout.as_millis(),
            self.answer,
            self.answered_after.as_millis(),
            self.log_text()
        );
        let idle = self.idle_after.unwrap_or(Duration::MAX);
        assert!(
            idle < self.timeout,
            "the process did not go back to /next before the deadline ({:?}):\n{}",
            self.idle_after,
            self.log_text()
        );
        if let Some(last) = self.calls.last() {
            assert!(
                last.at.saturating_duration_since(self.started) < self.timeout,
                "a status call came after the deadline"
            );
        }
    }

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

    /// The verdict's reasons, as one string.
    pub fn reasons(&self) -> String {
        self.verdict()["reasons"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
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

/// The most hand-offs one run follows: a chain that goes on longer is a bug.
const MAX_HAND_OFFS: usize = 20;

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
    /// How many times the event is delivered to the same process, one after
    /// the other (as Lambda may redeliver); 1 by default. The run describes
    /// the last delivery; every delivery must be answered before its deadline.
    pub deliveries: usize,
    /// How many times each asynchronous invocation the function makes of
    /// itself is delivered back to it, after the invocation that made it
    /// (Lambda delivers at least once); 1 by default.
    pub hand_off_deliveries: usize,
    /// Secrets besides the canary that the spec sends and that no output may
    /// hold, in any encoding.
    pub secrets: Vec<String>,
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
            deliveries: 1,
            hand_off_deliveries: 1,
            secrets: Vec::new(),
        }
    }

    /// Adds a secret that no output of the run may hold, in any encoding.
    pub fn secret(mut self, secret: &str) -> Self {
        self.secrets.push(secret.to_owned());
        self
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
    /// has not answered by then never will in Lambda either). Every check of
    /// the spec sends the canary secret ([`with_canary`]); before the run is
    /// returned, it is checked that no output holds that secret and that the
    /// invocation ended before its deadline.
    pub async fn run(mut self) -> Run {
        for (name, value) in &mut self.env {
            if *name == "GREENLIGHT_SPEC" {
                *value = with_canary(value);
            }
        }
        let runtime = RuntimeApi::start().await;
        let front = match self.front {
            Some(front) => front,
            None => Arc::new(AwsFront::start(None).await),
        };
        front.inject(&self.faults);
        // A shared front has calls from earlier runs: report this run's only.
        let (statuses_before, calls_before) = (front.status_calls().len(), front.api_calls().len());
        let mut process = HookProcess::start(self.build, &self.hook, &runtime, &front, &self.env);
        let mut earlier = Vec::new();
        let mut delivery = 0;
        let mut events: std::collections::VecDeque<Value> =
            std::iter::repeat_n(self.event.clone(), self.deliveries.max(1)).collect();
        let mut hand_offs = Vec::new();
        front.take_invocations();
        let (started, request_id, answer, answered_after, exited_after) = loop {
            delivery += 1;
            let started = Instant::now();
            let event = events.pop_front().expect("an event to deliver");
            let request_id = runtime.enqueue(event, self.timeout);
            let give_up = started + self.timeout + Duration::from_secs(5);
            let mut exited_after = None;
            let answer = loop {
                let answer = runtime.answer(&request_id, Duration::from_millis(50)).await;
                if answer.is_some() || Instant::now() >= give_up {
                    break answer;
                }
                if process.exited() {
                    exited_after = Some(started.elapsed());
                    // What it posted just before dying, if anything.
                    break runtime
                        .answer(&request_id, Duration::from_millis(100))
                        .await;
                }
            };
            let answered_after = started.elapsed();
            // Lambda runs what the function invoked of itself, after it.
            for invocation in front.take_invocations() {
                if invocation.invocation_type == "Event" && hand_offs.len() < MAX_HAND_OFFS {
                    for _ in 0..self.hand_off_deliveries {
                        events.push_back(invocation.payload.clone());
                    }
                    hand_offs.push(invocation);
                }
            }
            if events.is_empty() || exited_after.is_some() {
                break (started, request_id, answer, answered_after, exited_after);
            }
            assert!(
                answer.is_some() && answered_after < self.timeout,
                "delivery {delivery}: no answer before its deadline"
            );
            earlier.push(answer);
        };
        let idle_after = if answer.is_some() && exited_after.is_none() {
            let left = self.timeout.saturating_sub(started.elapsed()) + Duration::from_secs(1);
            let idle = runtime
                .nth_poll(delivery + 1, left)
                .await
                .map(|at| at.saturating_duration_since(started));
            // Linger a little: a second report or a stray call sent after the
            // answer is then counted too.
            tokio::time::sleep(Duration::from_millis(300)).await;
            idle
        } else {
            None
        };
        let answers_posted = runtime.answers_posted(&request_id);
        let init_error = runtime.init_error();
        let peak_rss_kib = process.peak_rss_kib();
        let logs = process.stop().await;
        let run = Run {
            answer,
            answered_after,
            timeout: self.timeout,
            calls: front.status_calls().split_off(statuses_before),
            api_calls: front.api_calls().split_off(calls_before),
            started,
            logs,
            idle_after,
            peak_rss_kib,
            exited_after,
            earlier_answers: earlier,
            hand_offs,
            answers_posted,
            init_error,
            build: self.build,
            secrets: self.secrets,
        };
        run.assert_no_secret();
        run.assert_done_before_deadline();
        run
    }
}
