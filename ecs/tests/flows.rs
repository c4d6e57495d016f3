//! The ECS-native hook runs flows as the CodeDeploy hooks do: at
//! POST_TEST_TRAFFIC_SHIFT, a login on blue (production) whose session green
//! (test listener) must accept, against blue and green releases that share
//! a session store ([`greenlight_e2e::app`]).

use std::time::Duration;

use greenlight_e2e::app::{Release, Shared, routes};
use greenlight_e2e::cargo_ecs_hook;
use greenlight_e2e::ecs_native::{EcsNative, answer_reasons};
use greenlight_e2e::green::GreenService;
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(15);

fn session_flow() -> Value {
    json!({"checks": [{
        "name": "session continuity",
        "hooks": ["POST_TEST_TRAFFIC_SHIFT"],
        "retry": {"attempts": 1},
        "steps": [
            {"name": "log in on blue", "listener": "production", "expect": "blue",
             "method": "POST", "path": "/login", "body": "{\"user\": \"alice\"}",
             "capture": {"session": {"cookie": "sid"}}, "assert": [{"status": 200}]},
            {"name": "green knows blue's session", "listener": "test", "path": "/me",
             "assert": [{"status": 200}]}
        ]
    }]})
}

/// The hook's answer at POST_TEST_TRAFFIC_SHIFT with `green`, its answer's
/// reasons, and what green served.
async fn post_test_traffic_shift(green: Release) -> (Value, String, Vec<String>) {
    let shared = Shared::new();
    let blue = GreenService::with_app(routes(Release::blue(), shared.clone())).await;
    let green = GreenService::with_app(routes(green, shared.clone())).await;
    let world = EcsNative::around(green, blue).await;
    let hook = world.start(&world.spec(session_flow()), &[]).await;
    let answer = hook
        .invoke(
            world.event("POST_TEST_TRAFFIC_SHIFT", json!({}), false),
            TIMEOUT,
        )
        .await;
    let logs = hook.stop().await;
    assert_eq!(
        shared.served_by("blue"),
        ["/login"],
        "blue was logged in to"
    );
    let reasons = answer_reasons(&logs);
    (answer, reasons.join("\n"), shared.served_by("green"))
}

#[tokio::test]
async fn green_accepting_blues_session_succeeds_at_post_test_traffic_shift() {
    cargo_ecs_hook!();
    let (answer, _, green) = post_test_traffic_shift(Release::good_green()).await;
    assert_eq!(answer["hookStatus"], "SUCCEEDED", "{answer}");
    assert_eq!(green, ["/me"]);
}

#[tokio::test]
async fn green_not_knowing_blues_session_fails_naming_the_step() {
    cargo_ecs_hook!();
    let (answer, reasons, green) = post_test_traffic_shift(Release {
        shared_sessions: false,
        ..Release::good_green()
    })
    .await;
    assert_eq!(answer["hookStatus"], "FAILED", "{answer}");
    assert_eq!(green, ["/me"]);
    assert!(
        reasons.contains(
            "step 2 \"green knows blue's session\" (test listener, green): expected status == 200, got 401"
        ),
        "{reasons}"
    );
}
