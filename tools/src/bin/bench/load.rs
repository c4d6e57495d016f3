//! The load probe's cost: one AfterAllowTestTraffic invocation whose only
//! check sends 100 requests a second for 10 s to a green answering after the
//! bench's delay, and what the process spent on it: wall time, CPU time
//! (user and system) and peak memory. A load probe runs inside the hook, so
//! its CPU and memory are the Lambda's.
//!
//! Never fails the bench: a run that does not pass is recorded with what
//! went wrong, and the other figures stand.

use std::time::{Duration, Instant};

use greenlight_e2e::aws_front::AwsFront;
use greenlight_e2e::green::GreenService;
use greenlight_e2e::hook::{Build, HOOKS, HookProcess, sample_event};
use greenlight_e2e::runtime_api::{Answer, RuntimeApi};
use serde_json::{Value, json};

use super::{command_output, env, mib, round};

const RPS: u32 = 100;
const DURATION_S: u32 = 10;

fn spec(green: &str) -> String {
    json!({
        "target": {"url": green},
        "readiness": {"enabled": false},
        "alarms": {"deployment_group": false},
        "defaults": {"timeout_ms": 5000},
        "checks": [{
            "name": "load",
            "path": "/health",
            "assert": [{"status": 200}],
            "load": {"rps": RPS, "duration_s": DURATION_S, "latency_ms": {"p99": 1000}}
        }]
    })
    .to_string()
}

fn ms(duration: Duration) -> f64 {
    round(duration.as_secs_f64() * 1000.0)
}

/// Invocations measured; the report gives their medians.
const RUNS: usize = 5;

/// One invocation's figures: wall time, CPU user and system, peak RSS (KiB).
struct Figures {
    wall: Duration,
    user: Duration,
    system: Duration,
    rss_kib: Option<u64>,
}

/// One invocation in a fresh process, or what went wrong.
async fn one_run(slow: &GreenService, front: &AwsFront) -> Result<Figures, String> {
    let hook = HOOKS[0];
    let runtime = RuntimeApi::start().await;
    // Started first: the first start may build the binaries, which must not
    // eat into the invocation's time.
    let process = HookProcess::start(
        Build::Standard,
        hook,
        &runtime,
        front,
        &env(spec(&slow.url())),
    );
    // Room for the run and the report.
    let request_id = runtime.enqueue(sample_event(hook), Duration::from_secs(60));
    let started = Instant::now();
    let answer = runtime.answer(&request_id, Duration::from_secs(60)).await;
    let wall = started.elapsed();
    let cpu = process.cpu_time();
    let rss_kib = process.peak_rss_kib();
    process.stop().await;
    match (answer, cpu) {
        (Some(Answer::Response(body)), Some((user, system))) if body["reported"] == "Succeeded" => {
            Ok(Figures {
                wall,
                user,
                system,
                rss_kib,
            })
        }
        (answer, cpu) => Err(format!(
            "expected a reported Succeeded with the CPU time read, got {answer:?} (CPU time {cpu:?})"
        )),
    }
}

fn median_of(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The load probe's entry of the report: the medians of [`RUNS`]
/// invocations, or why there are none.
pub async fn measure(slow: &GreenService, front: &AwsFront) -> Value {
    let hook = HOOKS[0];
    let mut runs = Vec::new();
    for _ in 0..RUNS {
        match one_run(slow, front).await {
            Ok(figures) => runs.push(figures),
            Err(error) => {
                println!("load probe: not measured: {error}");
                return json!({"hook": hook, "rps": RPS, "duration_s": DURATION_S, "error": error});
            }
        }
    }
    let of = |f: fn(&Figures) -> f64| median_of(runs.iter().map(f).collect());
    let totals: Vec<f64> = runs.iter().map(|r| ms(r.user + r.system)).collect();
    let entry = json!({
        "hook": hook,
        "rps": RPS,
        "duration_s": DURATION_S,
        "runs": RUNS,
        // It may be measured alone (`--load-into`), after the rest.
        "measured": {
            "date": command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            "commit": command_output("git", &["rev-parse", "--short", "HEAD"]),
        },
        "wall_ms": round(of(|r| ms(r.wall))),
        "cpu_ms": {
            "user": round(of(|r| ms(r.user))),
            "system": round(of(|r| ms(r.system))),
            "total": round(median_of(totals.clone())),
            "min": totals.iter().copied().fold(f64::INFINITY, f64::min),
            "max": totals.iter().copied().fold(0.0, f64::max),
        },
        "peak_rss_mib": round(of(|r| r.rss_kib.map_or(0.0, mib))),
    });
    println!(
        "load probe {RPS} rps × {DURATION_S} s: CPU {} ms (median of {RUNS}), peak RSS {} MiB",
        entry["cpu_ms"]["total"], entry["peak_rss_mib"]
    );
    entry
}

/// Its section of BENCHMARKS.md.
pub fn markdown(report: &Value, delay_ms: u128) -> String {
    let l = &report["load"];
    if l.is_null() {
        return String::new();
    }
    let title = format!(
        "\n### Load probe {} rps × {} s (`{}`)\n\n",
        l["rps"],
        l["duration_s"],
        l["hook"].as_str().unwrap_or("")
    );
    if let Some(error) = l["error"].as_str() {
        return format!("{title}Not measured: {error}\n");
    }
    let cpu = l["cpu_ms"]["total"].as_f64().unwrap_or(0.0);
    let wall = l["wall_ms"].as_f64().unwrap_or(0.0);
    let share = if wall > 0.0 {
        format!("{:.1}%", 100.0 * cpu / wall)
    } else {
        "-".to_owned()
    };
    format!(
        "{title}An invocation whose only check is the load probe, green answering after {delay_ms} ms, \
         in a fresh release process; medians of {} runs (CPU total min {} ms, max {} ms), measured {} at commit {}. \
         CPU time of the whole process from `/proc/<pid>/stat` (10 ms ticks).\n\n\
         | wall | CPU user | CPU system | CPU total | CPU / wall | peak RSS |\n\
         |---:|---:|---:|---:|---:|---:|\n\
         | {} ms | {} ms | {} ms | {} ms | {share} | {} MiB |\n",
        l["runs"],
        l["cpu_ms"]["min"],
        l["cpu_ms"]["max"],
        l["measured"]["date"].as_str().unwrap_or("?"),
        l["measured"]["commit"].as_str().unwrap_or("?"),
        l["wall_ms"],
        l["cpu_ms"]["user"],
        l["cpu_ms"]["system"],
        l["cpu_ms"]["total"],
        l["peak_rss_mib"],
    )
}
