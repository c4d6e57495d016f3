//! End-to-end, with AWS: `greenlight check --deployment-id` discovers the
//! deployment staged in moto's server (behind the test front, as for the
//! hooks), runs every stage the hook would, and reports to CodeDeploy only
//! with `--report`.

use std::process::Output;

use greenlight_e2e::world::World;
use serde_json::{Value, json};

/// Runs the real `greenlight` binary with the AWS SDK pointed at `world`'s
/// front and the spec `spec`, plus `args`.
async fn greenlight(world: &World, spec: &Value, args: &[&str]) -> Output {
    let dir = std::env::temp_dir().join(format!(
        "greenlight-cli-deployment-{}-{}",
        std::process::id(),
        world.fixture.deployment_id
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("spec.json");
    std::fs::write(&path, spec.to_string()).expect("write the spec");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_greenlight"))
        .arg("check")
        .arg(&path)
        .args(["--deployment-id", &world.fixture.deployment_id])
        .args(args)
        .env_clear()
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(world.front.endpoint_env())
        .kill_on_drop(true)
        .output()
        .await
        .expect("run greenlight");
    let _ = std::fs::remove_dir_all(&dir);
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn a_deployment_is_discovered_and_judged_without_reporting() {
    // GIVEN a deployment in AfterAllowTestTraffic, green healthy on the test
    // listener
    let world = World::new(|s| s).await;
    world.stage_lifecycle_event("AfterAllowTestTraffic");
    // WHEN greenlight checks it without --report
    let run = greenlight(&world, &world.spec(json!({})), &["--format", "json"]).await;
    // THEN it probed green through the test listener, said Succeeded, each
    // stage on its own line (standard error is not a terminal), and
    // reported nothing to CodeDeploy
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{}{stderr}", text(&run.stdout));
    let verdict: Value = serde_json::from_slice(&run.stdout).expect("JSON verdict");
    assert_eq!(verdict["status"], "Succeeded");
    let names: Vec<&str> = verdict["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter_map(|check| check["name"].as_str())
        .collect();
    assert!(names.contains(&"readiness"), "{names:?}");
    assert!(names.contains(&"health"), "{names:?}");
    for stage in [
        "discovery: running",
        "readiness: running",
        "checks: running",
    ] {
        assert!(stderr.contains(stage), "{stage} missing from:\n{stderr}");
    }
    assert_eq!(world.test_green.requests(), 1);
    assert_eq!(world.prod_green.requests(), 0);
    assert!(world.front.status_calls().is_empty());
}

#[tokio::test]
async fn report_sends_the_verdict_once() {
    // GIVEN a deployment whose green fails the spec's check
    let world = World::new(|s| s).await;
    world.stage_lifecycle_event("AfterAllowTestTraffic");
    let spec = world.spec(json!({"checks": [{
        "name": "health",
        "path": "/health",
        "retry": {"attempts": 1},
        "assert": [{"json": {"path": "$.status", "equals": "degraded"}}]
    }]}));
    // WHEN greenlight checks it with --report
    let run = greenlight(&world, &spec, &["--report", "eyJ0ZXN0IjoxfQ"]).await;
    // THEN it exits 1 and CodeDeploy got Failed, once, for that execution
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{}{stderr}", text(&run.stdout));
    assert!(
        stderr.contains("reported to CodeDeploy: Failed"),
        "{stderr}"
    );
    let calls = world.front.status_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].status, "Failed");
    assert_eq!(calls[0].execution_id, "eyJ0ZXN0IjoxfQ");
    assert_eq!(calls[0].deployment_id, world.fixture.deployment_id);
}

#[tokio::test]
async fn a_deployment_in_another_lifecycle_event_fails_as_the_hook_would() {
    // GIVEN a deployment in BeforeAllowTraffic
    let world = World::new(|s| s).await;
    world.stage_lifecycle_event("BeforeAllowTraffic");
    // WHEN greenlight checks it for AfterAllowTestTraffic
    let run = greenlight(&world, &world.spec(json!({})), &[]).await;
    // THEN the verdict fails naming the lifecycle stage, nothing probed
    let stdout = text(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{stdout}{}", text(&run.stderr));
    assert!(stdout.contains("lifecycle"), "{stdout}");
    assert_eq!(world.test_green.requests(), 0);
    assert!(world.front.status_calls().is_empty());
}
