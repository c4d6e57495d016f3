//! Any text, read as a check spec and validated into a plan: never a panic;
//! a rejected spec says what is wrong, and a plan that is accepted keeps the
//! promises the engine relies on.

#![no_main]

use std::time::Duration;

use greenlight::Hook;
use greenlight::assertion::Evaluated;
use greenlight::plan::Plan;
use greenlight::probe::ProbeResponse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let plan = match Plan::from_json(text) {
        Ok(plan) => plan,
        Err(error) => {
            assert!(!error.problems.is_empty());
            assert!(error.to_string().starts_with("invalid spec: "));
            return;
        }
    };
    assert!((1..=128).contains(&plan.concurrency));
    assert!(!plan.checks.is_empty());
    let mut run = 0;
    for hook in Hook::ALL {
        let checks = plan.checks_for(hook);
        assert!(checks.iter().all(|check| check.hooks.contains(&hook)));
        run += checks.len();
        let _ = plan.needs_discovery(hook);
    }
    // Every check names at least one hook, so some hook runs it.
    assert!(run >= plan.checks.len());
    let connection = plan.connection();
    assert_eq!(connection.resolve.len(), plan.target.resolve.len());
    for check in &plan.checks {
        assert!(!check.name.trim().is_empty());
        assert!(!check.assertions.is_empty());
        assert!(check.path.starts_with('/'));
        let retry = check.retry;
        assert!(retry.consecutive_passes >= 1);
        if let Some(attempts) = retry.attempts {
            assert!(retry.consecutive_passes <= attempts);
        } else {
            // Unlimited attempts only inside a window, and never a hot loop.
            assert!(retry.within.is_some());
            assert!(retry.interval >= Duration::from_millis(100));
        }
        assert!(check.timeout > Duration::ZERO);
    }
    // The assertions that validated also run, on a typical response.
    let response = ProbeResponse {
        status: 200,
        headers: Default::default(),
        body: r#"{"status":"ok","items":[{"id":1},{"id":2}],"count":2,"version":"1.4.2"}"#
            .to_owned(),
        truncated: false,
        duration: Duration::from_millis(42),
        certificate: None,
    };
    let evaluated = Evaluated::new(&response);
    for check in &plan.checks {
        for assertion in &check.assertions {
            let result = assertion.evaluate_on(&evaluated);
            let _ = plan.redactor.redact(&result.actual);
        }
    }
});
