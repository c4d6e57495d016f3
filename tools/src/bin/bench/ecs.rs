//! The ECS-native hook's figures: cold start, peak memory and time to
//! answer, measured as for the CodeDeploy hooks (a URL, no AWS reads), with
//! an ECS `POST_TEST_TRAFFIC_SHIFT` event and its `SUCCEEDED` answer.

use greenlight_e2e::aws_front::AwsFront;
use greenlight_e2e::binaries::ECS_HOOK;
use greenlight_e2e::green::GreenService;
use serde_json::{Value, json};

use super::{
    CHECK_COUNTS, Subject, artifact, cold_starts, median, mib, round, summary, verdict_times,
};

fn event() -> Value {
    let green = "arn:aws:ecs:us-east-1:123456789012:service-revision/greenlight/web/2";
    let blue = "arn:aws:ecs:us-east-1:123456789012:service-revision/greenlight/web/1";
    json!({
        "executionId": "bench",
        "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
        "resourceArn": "arn:aws:ecs:us-east-1:123456789012:service-deployment/greenlight/web/bench",
        "executionDetails": {
            "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/greenlight/web",
            "targetServiceRevisionArn": green,
            "testTrafficWeights": {green: 100, blue: 0},
            "productionTrafficWeights": {green: 0, blue: 100}
        },
        "hookDetails": {}
    })
}

/// The ECS hook sent that event; it passes when it answers `SUCCEEDED`.
fn subject() -> Subject {
    Subject {
        hook: ECS_HOOK,
        event: event(),
        expected: "a SUCCEEDED answer",
        passed: |body| body["hookStatus"] == "SUCCEEDED",
    }
}

/// The ECS hook's entry of the report.
pub async fn measure(runs: usize, slow: &GreenService, front: &AwsFront) -> Value {
    let subject = subject();
    let (cold, rss) = cold_starts(&subject, runs, front).await;
    let mut answers = serde_json::Map::new();
    for checks in CHECK_COUNTS {
        let times = verdict_times(&subject, checks, runs, slow, front).await;
        answers.insert(checks.to_string(), summary(&times));
    }
    let mut rss_sorted: Vec<f64> = rss.iter().map(|kib| mib(*kib)).collect();
    rss_sorted.sort_by(f64::total_cmp);
    let entry = json!({
        "hook": ECS_HOOK,
        "cold_start": summary(&cold),
        "peak_rss_mib": {
            "median": round(median(&rss_sorted)),
            "max": rss_sorted.last().copied().unwrap_or(0.0),
        },
        "time_to_answer": answers,
        "artifact": artifact(ECS_HOOK),
    });
    println!(
        "{ECS_HOOK}: cold start {} ms (median), peak RSS {} MiB, answer for 100 checks {} ms",
        entry["cold_start"]["median_ms"],
        entry["peak_rss_mib"]["median"],
        entry["time_to_answer"]["100"]["median_ms"]
    );
    entry
}

/// Its section of BENCHMARKS.md.
pub fn markdown(report: &Value, runs: usize, delay_ms: u128) -> String {
    let e = &report["ecs"];
    if e.is_null() {
        return String::new();
    }
    let c = &e["cold_start"];
    let a = &e["time_to_answer"];
    let zip = e["artifact"]["zip_bytes"].as_u64().map_or_else(
        || "not built (run `make build`)".to_owned(),
        |b| format!("{:.2} MB", b as f64 / 1e6),
    );
    format!(
        "\n### ECS-native hook (`{ECS_HOOK}`, `POST_TEST_TRAFFIC_SHIFT`)\n\n\
         Cold start and peak RSS over {runs} fresh processes; time to answer warm, green answering after {delay_ms} ms, medians of {runs} invocations.\n\n\
         | cold start median | min | max | peak RSS median | max | answer, 1 check | 10 checks | 100 checks | zipped (arm64) |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|\n\
         | {} ms | {} ms | {} ms | {} MiB | {} MiB | {} ms | {} ms | {} ms | {zip} |\n",
        c["median_ms"],
        c["min_ms"],
        c["max_ms"],
        e["peak_rss_mib"]["median"],
        e["peak_rss_mib"]["max"],
        a["1"]["median_ms"],
        a["10"]["median_ms"],
        a["100"]["median_ms"],
    )
}
