//! The command line's one contact with the engine: read and validate a spec
//! into a plan, and judge one hook's checks against a URL, the verdict
//! redacted as the hooks redact theirs before logging or answering.
//!
//! Against a URL only the HTTP checks run: readiness, alarms and the bake
//! need a deployment to read. Against a deployment (`--deployment-id`)
//! every stage runs as in the hook, through the AWS adapters the hooks use.

use std::io::{self, Read};
use std::path::Path;
use std::time::Duration;

use greenlight::plan::MAX_SPEC_BYTES;
use greenlight::probe::ReqwestProbe;
use greenlight::{Context, Green, Hook, NoCloud, Plan, Ports, Progress, Verdict, judge};
use greenlight_aws::Clients;
use reqwest::Url;
use tokio::time::Instant;

use crate::error::CliError;

/// Reads the spec file (at most the engine's limit, plus one byte to tell a
/// file too large) and validates it, every problem with its path.
pub fn load_plan(path: &Path) -> Result<Plan, CliError> {
    let unreadable = |source: io::Error| CliError::ReadSpec {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(u64::try_from(MAX_SPEC_BYTES + 1).unwrap_or(u64::MAX))
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| unreadable(io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text")))?;
    Plan::from_json(&text).map_err(|error| CliError::InvalidSpec {
        path: path.to_owned(),
        problems: error.problems,
    })
}

/// How many checks each hook runs, in lifecycle order.
pub fn checks_per_hook(plan: &Plan) -> Vec<(Hook, usize)> {
    Hook::ALL
        .iter()
        .map(|hook| (*hook, plan.checks_for(*hook).len()))
        .collect()
}

/// Checks in the spec.
pub fn check_count(plan: &Plan) -> usize {
    plan.checks.len()
}

/// The stages `plan` has for `hook` that need a deployment to read, and so
/// do not run against a URL.
pub fn stages_needing_a_deployment(plan: &Plan, hook: Hook) -> Vec<&'static str> {
    let mut stages = Vec::new();
    if plan.readiness.is_some() {
        stages.push("readiness");
    }
    if plan.alarms.deployment_group || !plan.alarms.names.is_empty() {
        stages.push("alarms");
    }
    if plan.bake.as_ref().is_some_and(|bake| bake.hook == hook) {
        stages.push("bake");
    }
    stages
}

/// Runs the checks `plan` has for `hook` against `url` within `budget`, with
/// the engine's own judgement, and returns the verdict, redacted. The
/// stages that need a deployment are left out of the plan first (see
/// [`stages_needing_a_deployment`]): against a URL there is none to read.
pub async fn judge_url(
    plan: &Plan,
    hook: Hook,
    url: &Url,
    budget: Duration,
    progress: &impl Progress,
) -> Verdict {
    let mut plan = plan.clone();
    plan.readiness = None;
    plan.alarms.deployment_group = false;
    plan.alarms.names.clear();
    plan.bake = None;
    let context = Context {
        hook,
        green: Green::Url(url.clone()),
        stop_at: Instant::now() + budget,
        earlier: std::time::Duration::ZERO,
    };
    let probe = ReqwestProbe::new(plan.connection());
    let ports = Ports {
        http: &probe,
        cloud: &NoCloud,
        progress,
    };
    judge(&plan, &context, ports).await
}

/// Judges the deployment `id` for `hook` with the whole plan, as the hook
/// would, within `budget`: the AWS reads through `clients`, each stage told
/// to `progress`. Returns the verdict, redacted.
pub async fn judge_deployment(
    plan: &Plan,
    hook: Hook,
    id: &str,
    budget: Duration,
    clients: &Clients,
    progress: &impl Progress,
) -> Verdict {
    let context = Context {
        hook,
        green: Green::Deployment { id: id.to_owned() },
        stop_at: Instant::now() + budget,
        earlier: std::time::Duration::ZERO,
    };
    let probe = ReqwestProbe::new(plan.connection());
    let ports = Ports {
        http: &probe,
        cloud: &clients.cloud,
        progress,
    };
    judge(plan, &context, ports).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(json: &str) -> Plan {
        Plan::from_json(json).expect("valid spec")
    }

    const TWO_HOOKS: &str = r#"{"readiness":{"enabled":false},"alarms":{"deployment_group":false},"checks":[
        {"name":"a","assert":[{"status":200}]},
        {"name":"b","hooks":["AfterAllowTraffic"],"assert":[{"status":200}]}]}"#;

    #[test]
    fn counts_the_checks_of_each_hook() {
        let plan = plan(TWO_HOOKS);
        assert_eq!(check_count(&plan), 2);
        assert_eq!(
            checks_per_hook(&plan),
            vec![
                (Hook::AfterAllowTestTraffic, 1),
                (Hook::BeforeAllowTraffic, 1),
                (Hook::AfterAllowTraffic, 2),
            ]
        );
    }

    #[test]
    fn names_the_stages_a_url_cannot_run() {
        assert!(stages_needing_a_deployment(&plan(TWO_HOOKS), Hook::AfterAllowTraffic).is_empty());
        let gated = plan(
            r#"{"alarms":{"names":["errors"]},"bake":{"duration_ms":60000},"checks":[
            {"name":"a","assert":[{"status":200}]}]}"#,
        );
        assert_eq!(
            stages_needing_a_deployment(&gated, Hook::AfterAllowTraffic),
            vec!["readiness", "alarms", "bake"]
        );
        assert_eq!(
            stages_needing_a_deployment(&gated, Hook::BeforeAllowTraffic),
            vec!["readiness", "alarms"]
        );
    }

    #[tokio::test]
    async fn a_hook_with_no_check_fails_as_the_hooks_do() {
        let plan = plan(
            r#"{"readiness":{"enabled":false},"alarms":{"deployment_group":false},"checks":[
            {"name":"b","hooks":["AfterAllowTraffic"],"assert":[{"status":200}]}]}"#,
        );
        let url = Url::parse("http://127.0.0.1:9").expect("url");
        let verdict = judge_url(
            &plan,
            Hook::BeforeAllowTraffic,
            &url,
            Duration::from_secs(1),
            &greenlight::Silent,
        )
        .await;
        assert_eq!(verdict.status, greenlight::Status::Failed);
        assert!(verdict.checks.is_empty());
        assert!(verdict.reasons[0].contains("no check in the spec runs in BeforeAllowTraffic"));
    }

    #[test]
    fn a_missing_file_cannot_be_read() {
        let error = load_plan(Path::new("/nonexistent/spec.json")).expect_err("missing");
        assert!(matches!(error, CliError::ReadSpec { .. }));
    }
}
