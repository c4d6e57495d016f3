//! Where the hook binaries come from: Cargo's own build of them for the
//! test that runs them (`CARGO_BIN_EXE_<name>`, see [`cargo_hooks!`]), a
//! build of the abort-on-panic profile for the rows that need it, and a
//! build of the current profile for the demo and the benchmarks, which are
//! not tests.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The hook binaries, in lifecycle order.
pub const HOOKS: [&str; 3] = [
    "after-allow-test-traffic",
    "before-allow-traffic",
    "after-allow-traffic",
];

/// The ECS-native lifecycle hook binary (package `greenlight-ecs`).
pub const ECS_HOOK: &str = "ecs-lifecycle-hook";

/// The ECS-native hook binary Cargo built for the calling integration test
/// (of the `greenlight-ecs` package): its folder handed to the harness, as
/// [`cargo_hooks!`] does for the CodeDeploy hooks.
#[macro_export]
macro_rules! cargo_ecs_hook {
    () => {
        $crate::binaries::use_cargo_binary(
            env!("CARGO_BIN_EXE_ecs-lifecycle-hook"),
            $crate::binaries::ECS_HOOK,
        )
    };
}

/// Records the folder of one binary Cargo built, `name` at `path`.
pub fn use_cargo_binary(path: &str, name: &str) {
    let path = Path::new(path);
    assert!(path.ends_with(name), "{} is not {name}", path.display());
    CARGO_BINARIES.get_or_init(|| path.parent().expect("binary folder").to_path_buf());
}

/// Which build of the hook binaries to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// The binaries of the current profile, unwinding on panic as the
    /// release build does (in the test profile with the `fault-injection`
    /// feature).
    Standard,
    /// Built with `panic = "abort"` and the `fault-injection` feature (profile
    /// `e2e-abort`): a panic kills the process, as in a build tool's release
    /// build that aborts on panic.
    AbortOnPanic,
}

/// The hook binaries Cargo built for the calling integration test (of the
/// `greenlight-codedeploy` package, whose binaries they are): their paths
/// from `CARGO_BIN_EXE_<name>`, handed to the harness. Call it first in every
/// test that runs a hook; the harness then never builds them itself.
#[macro_export]
macro_rules! cargo_hooks {
    () => {
        $crate::binaries::use_cargo_binaries([
            env!("CARGO_BIN_EXE_after-allow-test-traffic"),
            env!("CARGO_BIN_EXE_before-allow-traffic"),
            env!("CARGO_BIN_EXE_after-allow-traffic"),
        ])
    };
}

/// Where Cargo put the hook binaries of this test (see [`cargo_hooks!`]).
static CARGO_BINARIES: OnceLock<PathBuf> = OnceLock::new();

/// Records the folder of the hook binaries Cargo built, given in the order
/// of [`HOOKS`]. They are one folder's, the test profile's.
pub fn use_cargo_binaries(paths: [&str; 3]) {
    CARGO_BINARIES.get_or_init(|| {
        let dirs: Vec<&Path> = paths
            .iter()
            .zip(HOOKS)
            .map(|(path, hook)| {
                let path = Path::new(path);
                assert!(path.ends_with(hook), "{} is not {hook}", path.display());
                path.parent().expect("binary folder")
            })
            .collect();
        assert!(
            dirs.iter().all(|dir| *dir == dirs[0]),
            "the hook binaries are in different folders: {dirs:?}"
        );
        dirs[0].to_path_buf()
    });
}

impl Build {
    /// The folder holding these binaries. Under a test, the standard ones are
    /// Cargo's (see [`cargo_hooks!`]); the abort-on-panic ones, and the
    /// binaries of the demo and the benchmarks, are built (or brought up to
    /// date) once per process: nothing else builds them.
    pub fn dir(self) -> &'static Path {
        static STANDARD: OnceLock<PathBuf> = OnceLock::new();
        static ABORT: OnceLock<PathBuf> = OnceLock::new();
        match self {
            Build::Standard => STANDARD.get_or_init(|| {
                // `GREENLIGHT_HOOK_PROFILE=release` runs the release binaries
                // from a harness built in another profile (the benchmarks).
                match std::env::var("GREENLIGHT_HOOK_PROFILE").as_deref() {
                    Ok("release") => {
                        build_hooks("release", &[]);
                        profile_dir()
                            .parent()
                            .expect("target folder")
                            .join("release")
                    }
                    _ => {
                        if let Some(dir) = CARGO_BINARIES.get() {
                            return dir.clone();
                        }
                        assert!(
                            !under_test_harness(),
                            "a test that runs a hook calls greenlight_e2e::cargo_hooks!() first"
                        );
                        let dir = profile_dir();
                        if dir.ends_with("release") {
                            build_hooks("release", &[]);
                        } else {
                            build_hooks("dev", &[]);
                        }
                        dir
                    }
                }
            }),
            Build::AbortOnPanic => ABORT.get_or_init(|| {
                build_hooks(
                    "e2e-abort",
                    &["--features", "greenlight-codedeploy/fault-injection"],
                );
                profile_dir()
                    .parent()
                    .expect("target folder")
                    .join("e2e-abort")
            }),
        }
    }
}

/// The folder of the running binary's profile (e.g. `target/debug`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let mut dir = exe.parent().expect("exe folder").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

/// Whether this process is a test harness (`target/<profile>/deps/…`), not
/// the demo or the benchmarks.
fn under_test_harness() -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.ends_with("deps")))
        .unwrap_or(false)
}

fn build_hooks(profile: &str, extra: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = std::process::Command::new(cargo);
    build
        .args(["build", "--locked", "--quiet", "--profile", profile])
        .args(extra)
        .current_dir(workspace_root());
    build.args(["-p", "greenlight-codedeploy"]);
    // The demo and the benchmarks run the ECS-native hook too; the
    // abort-on-panic rows are the CodeDeploy hooks' alone.
    if profile != "e2e-abort" {
        build.args(["-p", "greenlight-ecs"]);
    }
    // Once: cargo refuses `--bins` given twice.
    build.arg("--bins");
    let status = build
        .status()
        .expect("run cargo build for the hook binaries");
    assert!(
        status.success(),
        "cargo build of the hook binaries (profile {profile}) failed"
    );
}

/// The workspace root (where `events/` lives).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}
