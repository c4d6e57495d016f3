//! The command line's one contact with the engine: read and validate a spec
//! into a plan, and judge one hook's checks against a URL, the verdict
//! redacted as the hooks redact theirs before logging or answering.
//!
//! Against a URL only the HTTP checks run: readiness, alarms and the bake
//! need a deployment to read, which this front door does not discover yet.

use std::io::{self, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use greenlight::engine::run_checks;
use greenlight::plan::{Check, MAX_SPEC_BYTES};
use greenlight::probe::{HttpProbe, ReqwestProbe};
use greenlight::{Hook, Plan, Verdict};
use reqwest::Url;
use tokio::time::Instant;

use crate::error::CliError;

/// Longest wait for the address of the URL's host when `target.host` must be
/// spoken to there (as the hooks wait).
const DNS_TIMEOUT: Duration = Duration::from_secs(3);

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
    if hook == Hook::AfterAllowTraffic && plan.bake.is_some() {
        stages.push("bake");
    }
    stages
}

/// Runs the checks `plan` has for `hook` against `url` within `budget`, and
/// returns the verdict, redacted.
pub async fn judge_url(plan: &Plan, hook: Hook, url: &Url, budget: Duration) -> Verdict {
    let stop_at = Instant::now() + budget;
    let verdict = checks_against(plan, hook, url, stop_at).await;
    verdict.redacted(&plan.redactor)
}

async fn checks_against(plan: &Plan, hook: Hook, url: &Url, stop_at: Instant) -> Verdict {
    let checks = plan.checks_for(hook);
    if checks.is_empty() {
        return Verdict::from_checks(hook, Vec::new());
    }
    let probe = ReqwestProbe::new(plan.connection());
    let (base, pinned) = match aim(&probe, plan, url, stop_at).await {
        Ok(aimed) => aimed,
        Err(problem) => return Verdict::failed(hook, format!("target: {problem}")),
    };
    let rebased: Result<Vec<Check>, String> = checks.iter().map(|c| c.rebased(&base)).collect();
    let rebased = match rebased {
        Ok(rebased) => rebased,
        Err(problem) => return Verdict::failed(hook, format!("target: {problem}")),
    };
    let rebased: Vec<&Check> = rebased.iter().collect();
    let probe = pinned.as_ref().unwrap_or(&probe);
    let results = run_checks(&rebased, probe, plan.concurrency, stop_at, &plan.redactor).await;
    Verdict::from_checks(hook, results)
}

/// The base URL of the checks and, when the spec's `target.host` must be
/// spoken to at the URL's address, a probe pinned to that address (the
/// spec's `target.resolve` first, else a DNS lookup), as the hooks aim.
async fn aim(
    probe: &ReqwestProbe,
    plan: &Plan,
    url: &Url,
    stop_at: Instant,
) -> Result<(Url, Option<ReqwestProbe>), String> {
    let Some(host) = &plan.target.host else {
        return Ok((url.clone(), None));
    };
    let mut base = url.clone();
    let address_of = base.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = base.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match plan
        .target
        .resolve
        .iter()
        .find(|(name, _)| *name == address_of)
    {
        Some((_, ip)) => vec![SocketAddr::new(*ip, port)],
        None => {
            let until = stop_at.min(Instant::now() + DNS_TIMEOUT);
            let name = address_of.trim_start_matches('[').trim_end_matches(']');
            let found = tokio::time::timeout_at(until, tokio::net::lookup_host((name, port)))
                .await
                .map_err(|_| format!("cannot resolve {address_of}: no answer in time"))?
                .map_err(|error| format!("cannot resolve {address_of}: {error}"))?;
            let found: Vec<SocketAddr> = found.collect();
            if found.is_empty() {
                return Err(format!("cannot resolve {address_of}: no address"));
            }
            found
        }
    };
    base.set_host(Some(host))
        .map_err(|error| format!("target.host {host:?}: {error}"))?;
    let pinned = probe.pinned(host, &addrs)?;
    Ok((base, Some(pinned)))
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
