//! `make demo`: runs the three real hook binaries, in lifecycle order, against
//! a built-in sample green service and a local CodeDeploy stand-in, and prints
//! each verdict; then the `greenlight` command line once; then an ECS-native
//! deployment through the ECS lifecycle hook, stage by stage ([`ecs`]).
//! `SCENARIO=broken` makes green answer wrongly.

#![allow(clippy::print_stdout)]

#[path = "demo/ecs.rs"]
mod ecs;

use std::time::Duration;

use greenlight_e2e::codedeploy::CodeDeployStandIn;
use greenlight_e2e::green::{Behaviour, GreenService};
use greenlight_e2e::hook::{HOOKS, Invocation, workspace_root};
use greenlight_e2e::runtime_api::Answer;
use serde_json::Value;

/// Where `make local` serves green and the CodeDeploy stand-in, for `make watch`.
const LOCAL_GREEN: &str = "127.0.0.1:8080";
const LOCAL_CODEDEPLOY: &str = "127.0.0.1:4599";

#[tokio::main]
async fn main() -> Result<(), String> {
    let scenario = std::env::var("SCENARIO").unwrap_or_else(|_| "healthy".to_owned());
    let behaviour = match scenario.as_str() {
        "healthy" => Behaviour::Healthy,
        "broken" => Behaviour::WrongAnswer,
        "down" => Behaviour::Error500,
        "slow" => Behaviour::Slow(Duration::from_millis(1500)),
        other => {
            return Err(format!(
                "SCENARIO: expected healthy, broken, down or slow, got {other:?}"
            ));
        }
    };
    if std::env::args().nth(1).as_deref() == Some("serve") {
        serve(behaviour).await;
        return Ok(());
    }
    let verbose = std::env::var("VERBOSE").is_ok_and(|v| v == "1");
    let green = GreenService::start(behaviour).await;
    let spec_path = workspace_root().join("examples/local-spec.json");
    let mut spec: Value = serde_json::from_str(
        &std::fs::read_to_string(&spec_path)
            .map_err(|e| format!("read {}: {e}", spec_path.display()))?,
    )
    .map_err(|e| format!("{}: {e}", spec_path.display()))?;
    spec["target"]["url"] = Value::String(green.url());
    // No AWS here: no deployment to discover, so no readiness wait or group alarms.
    spec["readiness"] = serde_json::json!({"enabled": false});
    spec["alarms"] = serde_json::json!({"deployment_group": false});
    // Demo pace: the sample spec waits up to a minute for health to settle.
    spec["checks"][0]["retry"] =
        serde_json::json!({"attempts": 2, "interval_ms": 500, "consecutive_passes": 1});
    println!(
        "greenlight demo, scenario {scenario:?}: green plays {behaviour:?} at {}",
        green.url()
    );
    println!("spec: examples/local-spec.json (target.url set to the sample green service)\n");
    let mut failed = 0;
    for hook in HOOKS {
        let mut invocation = Invocation::new(hook, &spec.to_string());
        invocation.timeout = Duration::from_secs(30);
        let run = invocation.run().await;
        let calls: Vec<String> = run
            .calls
            .iter()
            .map(|c| format!("{} (HTTP {})", c.status, c.answered))
            .collect();
        match &run.answer {
            Some(Answer::Response(response)) => {
                let verdict = &response["verdict"];
                println!(
                    "▶ {}  [{hook}, events/{hook}.json]",
                    verdict["hook"].as_str().unwrap_or(hook)
                );
                for check in verdict["checks"].as_array().into_iter().flatten() {
                    print_check(check);
                }
                let status = verdict["status"].as_str().unwrap_or("?");
                if status != "Succeeded" {
                    failed += 1;
                }
                println!("  verdict: {status}");
                for reason in verdict["reasons"].as_array().into_iter().flatten() {
                    println!("    because {}", reason.as_str().unwrap_or_default());
                }
                println!("  reported to CodeDeploy: {}\n", calls.join(", "));
            }
            other => {
                failed += 1;
                println!("▶ {hook}: no verdict ({other:?}); status calls: {calls:?}\n");
            }
        }
        if verbose {
            run.logs.iter().for_each(|line| println!("    | {line}"));
        }
    }
    println!(
        "{} of 3 hooks succeeded. Logs as JSON: VERBOSE=1 make demo. Other scenarios: SCENARIO=broken|down|slow make demo\n",
        3 - failed
    );
    show_the_command_line(&spec, &green.url())?;
    println!();
    ecs::run(behaviour, verbose).await.map(|_| ())
}

/// Runs the `greenlight` command line once, with the demo's spec, against
/// the same sample green (as a CI job would before a deployment), and prints
/// what it printed and its exit code.
fn show_the_command_line(spec: &Value, url: &str) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| format!("current exe: {e}"))?;
    let cli = exe.with_file_name("greenlight");
    if !cli.exists() {
        return Err(format!(
            "{} not built: cargo build -p greenlight-cli",
            cli.display()
        ));
    }
    let dir = std::env::temp_dir().join(format!("greenlight-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let spec_path = dir.join("spec.json");
    std::fs::write(&spec_path, spec.to_string())
        .map_err(|e| format!("{}: {e}", spec_path.display()))?;
    println!("The same checks from the command line (greenlight check, the demo's spec):");
    println!("$ greenlight check spec.json --url {url} --hook AfterAllowTestTraffic");
    let output = std::process::Command::new(&cli)
        .arg("check")
        .arg(&spec_path)
        .args(["--url", url, "--hook", "AfterAllowTestTraffic"])
        .output()
        .map_err(|e| format!("run {}: {e}", cli.display()));
    let _ = std::fs::remove_dir_all(&dir);
    let output = output?;
    for line in String::from_utf8_lossy(&output.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&output.stderr).lines())
    {
        println!("  {line}");
    }
    println!(
        "exit code {} (0: all checks passed; 1: one failed). More: docs/cli.md",
        output.status.code().unwrap_or(-1)
    );
    Ok(())
}

fn print_check(check: &Value) {
    let passed = check["outcome"] == "pass";
    let mark = if passed { "✔" } else { "✘" };
    println!(
        "  {mark} {:<22} {} attempt(s), {} ms",
        check["name"].as_str().unwrap_or_default(),
        check["attempts"],
        check["duration_ms"]
    );
    if let Some(error) = check["error"].as_str() {
        println!("      error: {error}");
    }
    for assertion in check["assertions"].as_array().into_iter().flatten() {
        let ok = assertion["passed"] == true;
        if !passed && ok {
            continue;
        }
        println!(
            "      {} expected {}, got {}",
            if ok { "·" } else { "✘" },
            assertion["expected"].as_str().unwrap_or_default(),
            assertion["actual"].as_str().unwrap_or_default()
        );
    }
    if let Some(reason) = check["reason"].as_str() {
        println!("      {reason}");
    }
}

/// Serves the sample green and the CodeDeploy stand-in on fixed ports until
/// interrupted, printing each status call as CodeDeploy would receive it.
async fn serve(behaviour: Behaviour) {
    let green = GreenService::start_on(LOCAL_GREEN, behaviour).await;
    let codedeploy = CodeDeployStandIn::start_on(LOCAL_CODEDEPLOY).await;
    println!("sample green ({behaviour:?}) on {}", green.url());
    println!(
        "CodeDeploy stand-in on {} (AWS_ENDPOINT_URL_CODEDEPLOY)",
        codedeploy.url()
    );
    println!(
        "now: `make watch` in a second terminal, `make invoke HOOK=...` in a third (the ECS hook: HOOK=ecs-lifecycle-hook EVENT=ecs-post-test-traffic-shift). Ctrl-C stops."
    );
    let mut shown = 0;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return,
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
        let calls = codedeploy.calls();
        for call in &calls[shown..] {
            println!(
                "CodeDeploy got PutLifecycleEventHookExecutionStatus: deployment {} status {} (answered HTTP {})",
                call.deployment_id, call.status, call.answered
            );
        }
        shown = calls.len();
    }
}
