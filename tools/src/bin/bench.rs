//! `make bench`: measures the release hook binaries as Lambda runs them and
//! writes the figures into BENCHMARKS.md (between its `measured` markers) and
//! BENCHMARKS.json.
//!
//! - cold start: exec of a fresh process, with an invocation already queued at
//!   the local Runtime API, to its answer (one check against a local green
//!   server, the report to a local CodeDeploy endpoint); SDK clients are built
//!   at init as in production;
//! - peak memory: the process's `VmHWM` after that invocation;
//! - time to verdict: a warm process, N checks against a green server that
//!   answers each request after a fixed delay, from queueing the invocation to
//!   its answer (verdict and report included);
//! - the ECS-native hook the same way (see `ecs`);
//! - a load probe, 100 rps for 10 s: the CPU time and peak memory it costs
//!   the hook (see `load`);
//! - artifact size: the arm64 bootstrap built by `cargo lambda build` and its
//!   zip, when present.
//!
//! Medians, with min and max; nothing here asserts a time.
//!
//!     greenlight-bench [--runs N] [--delay-ms D] [--out PREFIX] [--render JSON]
//!
//! `--render` rewrites BENCHMARKS.md from a BENCHMARKS.json without measuring;
//! `--load-into` measures the load probe alone and adds it to one.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "bench/ecs.rs"]
mod ecs;
#[path = "bench/load.rs"]
mod load;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use greenlight_e2e::aws_front::AwsFront;
use greenlight_e2e::green::{Behaviour, GreenService};
use greenlight_e2e::hook::{Build, HOOKS, HookProcess, sample_event, workspace_root};
use greenlight_e2e::runtime_api::{Answer, RuntimeApi};
use serde_json::{Value, json};

const CHECK_COUNTS: [usize; 3] = [1, 10, 100];
const START_MARK: &str = "<!-- measured:start (written by make bench) -->";
const END_MARK: &str = "<!-- measured:end -->";

struct Options {
    runs: usize,
    delay: Duration,
    out: PathBuf,
    /// Re-render BENCHMARKS.md from this JSON instead of measuring.
    render: Option<PathBuf>,
    /// Measure the load probe alone, into this BENCHMARKS.json's other figures.
    load_into: Option<PathBuf>,
}

fn options() -> Options {
    let mut options = Options {
        runs: 15,
        delay: Duration::from_millis(50),
        out: workspace_root().join("BENCHMARKS"),
        render: None,
        load_into: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_else(|| usage(arg));
        match arg.as_str() {
            "--runs" => options.runs = value.parse().unwrap_or_else(|_| usage(arg)),
            "--delay-ms" => {
                options.delay = Duration::from_millis(value.parse().unwrap_or_else(|_| usage(arg)));
            }
            "--out" => options.out = PathBuf::from(value),
            "--render" => options.render = Some(PathBuf::from(value)),
            "--load-into" => options.load_into = Some(PathBuf::from(value)),
            _ => usage(arg),
        }
    }
    options
}

fn usage(arg: &str) -> ! {
    eprintln!(
        "unexpected argument {arg:?}\nusage: greenlight-bench [--runs N] [--delay-ms D] [--out PREFIX] [--render JSON] [--load-into JSON]"
    );
    std::process::exit(2)
}

/// Median, min and max of some durations, in milliseconds.
fn summary(samples: &[Duration]) -> Value {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    json!({
        "median_ms": round(median(&ms)),
        "min_ms": round(ms.first().copied().unwrap_or(0.0)),
        "max_ms": round(ms.last().copied().unwrap_or(0.0)),
        "samples": ms.len(),
    })
}

fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn round(ms: f64) -> f64 {
    (ms * 10.0).round() / 10.0
}

fn spec(green: &str, checks: usize) -> String {
    let checks: Vec<Value> = (0..checks)
        .map(|i| {
            json!({
                "name": format!("health-{i}"),
                "path": "/health",
                "retry": {"attempts": 1},
                "assert": [{"status": 200}, {"json": {"path": "$.status", "equals": "ok"}}]
            })
        })
        .collect();
    // A URL and no AWS reads: discovery, readiness and alarms are measured by
    // the end-to-end tests, not here.
    json!({
        "target": {"url": green},
        "readiness": {"enabled": false},
        "alarms": {"deployment_group": false},
        "concurrency": checks.len().max(1),
        "defaults": {"timeout_ms": 5000},
        "checks": checks,
    })
    .to_string()
}

fn env(spec: String) -> Vec<(&'static str, String)> {
    vec![
        ("GREENLIGHT_SPEC", spec),
        ("GREENLIGHT_REPORT_MARGIN_MS", "1000".to_owned()),
    ]
}

/// What is timed: a hook binary, the event it is sent, and the answer that
/// means it passed. A benchmark of a failing hook would measure the wrong
/// thing, so every timed answer is checked.
struct Subject {
    hook: &'static str,
    event: Value,
    /// What a passing answer looks like, for the panic message.
    expected: &'static str,
    passed: fn(&Value) -> bool,
}

impl Subject {
    /// A CodeDeploy hook with its sample event; it answers what it reported.
    fn codedeploy(hook: &'static str) -> Subject {
        Subject {
            hook,
            event: sample_event(hook),
            expected: "a reported Succeeded",
            passed: |body| body["reported"] == "Succeeded",
        }
    }
}

/// Waits for the answer and checks that it passed.
async fn answered(runtime: &RuntimeApi, request_id: &str, subject: &Subject) {
    match runtime.answer(request_id, Duration::from_secs(30)).await {
        Some(Answer::Response(body)) if (subject.passed)(&body) => {}
        other => panic!(
            "{}: expected {}, got {other:?}",
            subject.hook, subject.expected
        ),
    }
}

/// Cold starts of `runs` fresh processes: (durations, peak RSS in KiB).
async fn cold_starts(
    subject: &Subject,
    runs: usize,
    front: &AwsFront,
) -> (Vec<Duration>, Vec<u64>) {
    let green = GreenService::start(Behaviour::Healthy).await;
    let mut times = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..runs {
        let runtime = RuntimeApi::start().await;
        let request_id = runtime.enqueue(subject.event.clone(), Duration::from_secs(60));
        let started = Instant::now();
        let process = HookProcess::start(
            Build::Standard,
            subject.hook,
            &runtime,
            front,
            &env(spec(&green.url(), 1)),
        );
        answered(&runtime, &request_id, subject).await;
        times.push(started.elapsed());
        if let Some(kib) = process.peak_rss_kib() {
            rss.push(kib);
        }
        process.stop().await;
    }
    (times, rss)
}

/// Warm invocations of one process with `checks` checks against `green`.
async fn verdict_times(
    subject: &Subject,
    checks: usize,
    runs: usize,
    green: &GreenService,
    front: &AwsFront,
) -> Vec<Duration> {
    let runtime = RuntimeApi::start().await;
    let process = HookProcess::start(
        Build::Standard,
        subject.hook,
        &runtime,
        front,
        &env(spec(&green.url(), checks)),
    );
    // The first invocation opens the connections; it is not counted.
    let warm_up = runtime.enqueue(subject.event.clone(), Duration::from_secs(60));
    answered(&runtime, &warm_up, subject).await;
    let mut times = Vec::new();
    for _ in 0..runs {
        let request_id = runtime.enqueue(subject.event.clone(), Duration::from_secs(60));
        let started = Instant::now();
        answered(&runtime, &request_id, subject).await;
        times.push(started.elapsed());
    }
    process.stop().await;
    times
}

/// Warm invocations with no check for this hook: the report round trip plus
/// the runtime's own overhead, the floor under every verdict time.
async fn report_only(hook: &str, runs: usize, front: &AwsFront) -> Vec<Duration> {
    let green = GreenService::start(Behaviour::Healthy).await;
    let other = if hook == HOOKS[0] { HOOKS[1] } else { HOOKS[0] };
    let spec = json!({
        "target": {"url": green.url()},
        "readiness": {"enabled": false},
        "alarms": {"deployment_group": false},
        "checks": [{"name": "elsewhere", "hooks": [hook_event(other)], "assert": [{"status": 200}]}]
    })
    .to_string();
    let runtime = RuntimeApi::start().await;
    let process = HookProcess::start(Build::Standard, hook, &runtime, front, &env(spec));
    let mut times = Vec::new();
    for i in 0..=runs {
        let request_id = runtime.enqueue(sample_event(hook), Duration::from_secs(60));
        let started = Instant::now();
        match runtime.answer(&request_id, Duration::from_secs(30)).await {
            Some(Answer::Response(_)) => {}
            other => panic!("{hook}: no answer with no checks: {other:?}"),
        }
        if i > 0 {
            times.push(started.elapsed());
        }
    }
    process.stop().await;
    times
}

fn hook_event(binary: &str) -> &'static str {
    match binary {
        "after-allow-test-traffic" => "AfterAllowTestTraffic",
        "before-allow-traffic" => "BeforeAllowTraffic",
        _ => "AfterAllowTraffic",
    }
}

/// Sizes of the arm64 Lambda artifacts, if `make build` made them: the zip,
/// and the bootstrap inside it (cargo-lambda keeps only the zip).
fn artifact(hook: &str) -> Value {
    let zip = workspace_root()
        .join("target/lambda")
        .join(hook)
        .join("bootstrap.zip");
    let bytes = std::fs::read(&zip).ok();
    json!({
        "zip_bytes": bytes.as_ref().map(Vec::len),
        "bootstrap_bytes": bytes.as_deref().and_then(first_entry_size),
    })
}

/// The uncompressed size of a zip's first entry, from its central directory.
fn first_entry_size(zip: &[u8]) -> Option<u64> {
    let u32_at = |at: usize| -> Option<u32> {
        zip.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let end = (0..zip.len().saturating_sub(21))
        .rev()
        .find(|&at| u32_at(at) == Some(0x0605_4b50))?;
    let directory = usize::try_from(u32_at(end + 16)?).ok()?;
    (u32_at(directory)? == 0x0201_4b50).then_some(())?;
    u32_at(directory + 24).map(u64::from)
}

/// The criterion results under `target/criterion` (from `cargo bench`):
/// each benchmark's median time per iteration.
fn micro_benchmarks() -> Vec<Value> {
    let root = workspace_root().join("target/criterion");
    let mut found = Vec::new();
    let groups = std::fs::read_dir(&root).into_iter().flatten().flatten();
    for group in groups {
        for bench in std::fs::read_dir(group.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let new = bench.path().join("new");
            let read = |name: &str| -> Option<Value> {
                serde_json::from_str(&std::fs::read_to_string(new.join(name)).ok()?).ok()
            };
            if let (Some(id), Some(estimates)) = (read("benchmark.json"), read("estimates.json")) {
                found.push(json!({
                    "id": id["full_id"],
                    "median_us": round(estimates["median"]["point_estimate"].as_f64().unwrap_or(0.0) / 1000.0),
                    "throughput_bytes": id["throughput"]["Bytes"],
                }));
            }
        }
    }
    found.sort_by_key(|b| b["id"].as_str().unwrap_or_default().to_owned());
    found
}

fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .current_dir(workspace_root())
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    json!({
        "date": command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "cpu": cpu,
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "rustc": command_output("rustc", &["--version"]),
        "commit": command_output("git", &["rev-parse", "--short", "HEAD"]),
    })
}

fn mib(kib: u64) -> f64 {
    round(kib as f64 / 1024.0)
}

/// "met", or by how much a target was missed.
fn target(met: bool, by: String) -> String {
    if met {
        "met".to_owned()
    } else {
        format!("missed by {by}")
    }
}

fn markdown(report: &Value, options: &Options) -> String {
    let m = &report["machine"];
    let delay = options.delay.as_millis();
    let mut out = String::new();
    out.push_str(&format!(
        "Measured {} on {} cores ({}), {} {}, {}, commit {}. Release build of the \
         host ({}) for the timings; arm64 artifacts from `make build`.\n\n",
        m["date"].as_str().unwrap_or(""),
        m["cores"],
        m["cpu"].as_str().unwrap_or(""),
        m["os"].as_str().unwrap_or(""),
        m["arch"].as_str().unwrap_or(""),
        m["rustc"].as_str().unwrap_or(""),
        m["commit"].as_str().unwrap_or(""),
        m["arch"].as_str().unwrap_or(""),
    ));
    out.push_str(&format!(
        "### Cold start and memory ({} fresh processes per hook)\n\n\
         | Hook | cold start median | min | max | ≤ 25 ms | peak RSS median | max | ≤ 16 MB |\n\
         |------|------------------:|----:|----:|---------|----------------:|----:|---------|\n",
        options.runs
    ));
    for hook in &report["hooks"].as_array().cloned().unwrap_or_default() {
        let c = &hook["cold_start"];
        let cold = c["median_ms"].as_f64().unwrap_or(f64::MAX);
        let rss_mb = round(hook["peak_rss_mib"]["median"].as_f64().unwrap_or(f64::MAX) * 1.048_576);
        out.push_str(&format!(
            "| {} | {} ms | {} ms | {} ms | {} | {} MiB ({} MB) | {} MiB | {} |\n",
            hook["hook"].as_str().unwrap_or(""),
            c["median_ms"],
            c["min_ms"],
            c["max_ms"],
            target(cold <= 25.0, format!("{:.1} ms", cold - 25.0)),
            hook["peak_rss_mib"]["median"],
            rss_mb,
            hook["peak_rss_mib"]["max"],
            target(rss_mb <= 16.0, format!("{:.1} MB", rss_mb - 16.0)),
        ));
    }
    out.push_str(&format!(
        "\n### Time to verdict (warm, green answers after {delay} ms; medians of {} invocations)\n\n\
         The floor is an invocation with no check for the hook (report round trip and runtime).\n\
         \"Sequential\" is what the checks would take one after another.\n\n\
         | Hook | floor | 1 check | 10 checks | 100 checks | 100 sequential | 100 vs target (1.3 × {delay} ms + floor) |\n\
         |------|------:|--------:|----------:|-----------:|---------------:|----------------------------|\n",
        options.runs
    ));
    for hook in &report["hooks"].as_array().cloned().unwrap_or_default() {
        let v = &hook["time_to_verdict"];
        let floor = hook["report_floor"]["median_ms"].as_f64().unwrap_or(0.0);
        let hundred = v["100"]["median_ms"].as_f64().unwrap_or(0.0);
        let goal = 1.3 * delay as f64 + floor;
        out.push_str(&format!(
            "| {} | {} ms | {} ms | {} ms | {} ms | {} ms | {} ms vs {} ms: {} |\n",
            hook["hook"].as_str().unwrap_or(""),
            floor,
            v["1"]["median_ms"],
            v["10"]["median_ms"],
            hundred,
            100 * delay,
            hundred,
            round(goal),
            target(hundred <= goal, format!("{:.1} ms", hundred - goal)),
        ));
    }
    out.push_str(
        "\n### Artifact size (arm64, `cargo lambda build --release --arm64`)\n\n\
         | Hook | bootstrap | zipped | ≤ 5 MB zipped |\n|------|----------:|-------:|----|\n",
    );
    for hook in &report["hooks"].as_array().cloned().unwrap_or_default() {
        let a = &hook["artifact"];
        let text = |v: &Value| match v.as_u64() {
            Some(bytes) => format!("{:.2} MB ({bytes} bytes)", bytes as f64 / 1e6),
            None => "not built (run `make build`)".to_owned(),
        };
        let met = match a["zip_bytes"].as_u64() {
            Some(bytes) if bytes <= 5_000_000 => "met".to_owned(),
            Some(bytes) => format!("missed by {:.2} MB", (bytes as f64 - 5e6) / 1e6),
            None => "-".to_owned(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {met} |\n",
            hook["hook"].as_str().unwrap_or(""),
            text(&a["bootstrap_bytes"]),
            text(&a["zip_bytes"]),
        ));
    }
    out
}

fn micro_markdown(report: &Value) -> String {
    let benches = report["micro"].as_array().cloned().unwrap_or_default();
    if benches.is_empty() {
        return "\n### Assertion evaluator\n\nNo criterion results (run `cargo bench -p greenlight --no-default-features --bench assertions`).\n".to_owned();
    }
    let mut out = String::from(
        "\n### Assertion evaluator (criterion, `shared/benches/assertions.rs`)\n\n\
         Nine assertions (status, header, five JSONPath, body, duration) on one ~1 MB JSON body.\n\n\
         | Benchmark | median per response | throughput |\n|-----------|--------------------:|-----------:|\n",
    );
    for bench in &benches {
        let us = bench["median_us"].as_f64().unwrap_or(0.0);
        let throughput = bench["throughput_bytes"]
            .as_f64()
            .filter(|_| us > 0.0)
            .map(|bytes| format!("{:.0} MB/s", bytes / us))
            .unwrap_or_default();
        out.push_str(&format!(
            "| {} | {:.0} µs | {throughput} |\n",
            bench["id"].as_str().unwrap_or(""),
            us
        ));
    }
    out
}

fn write_outputs(report: &Value, options: &Options) {
    let json_path = options.out.with_extension("json");
    let text = serde_json::to_string_pretty(report).expect("report JSON");
    std::fs::write(&json_path, text + "\n").expect("write BENCHMARKS.json");
    let md_path = options.out.with_extension("md");
    let measured = format!(
        "{START_MARK}\n{}{}{}{}{END_MARK}",
        markdown(report, options),
        ecs::markdown(report, options.runs, options.delay.as_millis()),
        load::markdown(report, options.delay.as_millis()),
        micro_markdown(report)
    );
    let existing = std::fs::read_to_string(&md_path).unwrap_or_default();
    let updated = match (existing.find(START_MARK), existing.find(END_MARK)) {
        (Some(start), Some(end)) if start < end => format!(
            "{}{measured}{}",
            &existing[..start],
            &existing[end + END_MARK.len()..]
        ),
        _ => format!("# Benchmarks\n\n{measured}\n"),
    };
    std::fs::write(&md_path, updated).expect("write BENCHMARKS.md");
    println!("wrote {} and {}", md_path.display(), json_path.display());
}

#[tokio::main]
async fn main() {
    let mut options = options();
    if let Some(path) = options.render.clone() {
        let text = std::fs::read_to_string(&path).expect("read the JSON to render");
        let report: Value = serde_json::from_str(&text).expect("a BENCHMARKS.json");
        if let Some(runs) = report["method"]["runs"].as_u64() {
            options.runs = usize::try_from(runs).unwrap_or(options.runs);
        }
        if let Some(delay) = report["method"]["green_delay_ms"].as_u64() {
            options.delay = Duration::from_millis(delay);
        }
        write_outputs(&report, &options);
        return;
    }
    if let Some(path) = options.load_into.clone() {
        // The load probe's figures alone, the others kept as measured.
        let text = std::fs::read_to_string(&path).expect("read the JSON to add to");
        let mut report: Value = serde_json::from_str(&text).expect("a BENCHMARKS.json");
        if let Some(delay) = report["method"]["green_delay_ms"].as_u64() {
            options.delay = Duration::from_millis(delay);
        }
        if let Some(runs) = report["method"]["runs"].as_u64() {
            options.runs = usize::try_from(runs).unwrap_or(options.runs);
        }
        let front = AwsFront::start(None).await;
        let slow = GreenService::start(Behaviour::Slow(options.delay)).await;
        report["load"] = load::measure(&slow, &front).await;
        write_outputs(&report, &options);
        return;
    }
    // Build (or bring up to date) the hooks before any clock starts.
    let binaries = Build::Standard.dir();
    println!("measuring the hooks in {}", binaries.display());
    let front = AwsFront::start(None).await;
    let slow = GreenService::start(Behaviour::Slow(options.delay)).await;
    let mut hooks = Vec::new();
    for hook in HOOKS {
        let subject = Subject::codedeploy(hook);
        let (cold, rss) = cold_starts(&subject, options.runs, &front).await;
        let floor = report_only(hook, options.runs, &front).await;
        let mut verdicts = serde_json::Map::new();
        for checks in CHECK_COUNTS {
            let times = verdict_times(&subject, checks, options.runs, &slow, &front).await;
            verdicts.insert(checks.to_string(), summary(&times));
        }
        let mut rss_sorted: Vec<f64> = rss.iter().map(|kib| mib(*kib)).collect();
        rss_sorted.sort_by(f64::total_cmp);
        let entry = json!({
            "hook": hook,
            "cold_start": summary(&cold),
            "peak_rss_mib": {
                "median": round(median(&rss_sorted)),
                "max": rss_sorted.last().copied().unwrap_or(0.0),
            },
            "report_floor": summary(&floor),
            "time_to_verdict": verdicts,
            "artifact": artifact(hook),
        });
        println!(
            "{hook}: cold start {} ms (median), peak RSS {} MiB, verdict for 100 checks {} ms",
            entry["cold_start"]["median_ms"],
            entry["peak_rss_mib"]["median"],
            entry["time_to_verdict"]["100"]["median_ms"]
        );
        hooks.push(entry);
    }
    let ecs = ecs::measure(options.runs, &slow, &front).await;
    let load = load::measure(&slow, &front).await;
    let report = json!({
        "machine": machine(),
        "method": {
            "runs": options.runs,
            "green_delay_ms": u64::try_from(options.delay.as_millis()).unwrap_or(u64::MAX),
            "check_counts": CHECK_COUNTS,
        },
        "hooks": hooks,
        "ecs": ecs,
        "load": load,
        "micro": micro_benchmarks(),
    });
    write_outputs(&report, &options);
}
