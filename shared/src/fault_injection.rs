//! Test-only fault injection points. They act only in builds with the
//! `fault-injection` feature, which the end-to-end tests' builds carry and
//! release builds never do; elsewhere each is a constant `false`, and the
//! compiler drops the fault. (The panicking check is
//! [`crate::check::INJECTED_PANIC_CHECK`].)

/// In `fault-injection` builds, a cold start with this variable set to `1`
/// panics right after loading the AWS SDK configuration, inside the cold
/// start's guard.
pub const COLD_START_PANIC_VAR: &str = "GREENLIGHT_FAULT_INJECTION_COLD_START_PANIC";

/// Whether `fault-injection` is on in this build.
pub const ACTIVE: bool = cfg!(feature = "fault-injection");

/// Panics if this build injects faults and `var` asks for a cold-start panic.
pub fn cold_start_panic(var: impl Fn(&str) -> Option<String>) {
    if ACTIVE && var(COLD_START_PANIC_VAR).as_deref() == Some("1") {
        panic!("injected panic at cold start ({COLD_START_PANIC_VAR})");
    }
}

/// In `fault-injection` builds, the DNS lookup of a host under this domain
/// (as `target.host` pinning does it) is a resolver that answers nothing for
/// [`SLOW_DNS_DELAY`], then fails; no query leaves the machine.
pub const SLOW_DNS_SUFFIX: &str = ".slow-dns.greenlight.invalid";

/// How long the injected slow resolver keeps a lookup waiting.
pub const SLOW_DNS_DELAY: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether this build injects a slow resolver for `host`.
pub fn slow_dns(host: &str) -> bool {
    ACTIVE && host.ends_with(SLOW_DNS_SUFFIX)
}

/// In `fault-injection` builds, a hook whose checks include one with this
/// name panics in the runner, before any check runs: outside the engine's
/// per-check guard, so that only the runner's guard (or, in a build that
/// aborts on panic, the panic hook) stands between it and a lost report.
pub const RUNNER_PANIC_CHECK: &str = "greenlight-fault-injection-runner-panic";

/// Panics if this build injects faults and one of `names` asks for it.
pub fn runner_panic<'a>(mut names: impl Iterator<Item = &'a str>) {
    if ACTIVE && names.any(|name| name == RUNNER_PANIC_CHECK) {
        panic!("injected panic in the runner ({RUNNER_PANIC_CHECK})");
    }
}
