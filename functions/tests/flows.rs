//! End-to-end, flows: the real hook binaries against blue and green
//! releases of one application ([`greenlight_e2e::app`]) that share a
//! session store and a database, behind the deployment's production and
//! test listeners (moto and the front play AWS). A flow logs in on blue and
//! carries the session to green; a chain of requests passes a captured
//! token along; blue's own check guards the database green migrates; and a
//! comparison sends one request to both colours.

use std::sync::Arc;

use greenlight_e2e::app::{Release, Shared, routes};
use greenlight_e2e::green::GreenService;
use greenlight_e2e::hook::Run;
use greenlight_e2e::world::World;
use serde_json::{Value, json};

/// Blue behind production and `green` behind the test listener, sharing
/// one store and database; green starts (and migrates) after blue.
async fn world(green: Release) -> (World, Arc<Shared>) {
    let shared = Shared::new();
    let blue = GreenService::with_app(routes(Release::blue(), shared.clone())).await;
    let green = GreenService::with_app(routes(green, shared.clone())).await;
    (World::around(green, blue, |s| s).await, shared)
}

/// The example spec of session continuity and the schema guard, aimed at
/// the world's load balancer.
fn example(world: &World) -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/session-and-schema-guard-spec.json"
    ))
    .expect("the example spec");
    let mut spec: Value = serde_json::from_str(&text).expect("JSON");
    spec["target"] = world.spec(json!({}))["target"].clone();
    spec["readiness"] = json!({"timeout_ms": 3000, "interval_ms": 500});
    spec["defaults"]["retry"] = json!({"attempts": 1});
    spec
}

/// The structured line of check `name`.
fn check_line(run: &Run, name: &str) -> Value {
    run.json_logs()
        .into_iter()
        .find(|l| l["fields"]["check"] == name)
        .map(|l| l["fields"].clone())
        .unwrap_or_else(|| panic!("no line for check {name}:\n{}", run.log_text()))
}

#[tokio::test]
async fn green_that_accepts_blues_session_and_leaves_blue_its_database_succeeds() {
    greenlight_e2e::cargo_hooks!();
    // GIVEN a green that shares blue's sessions and reads blue's schema
    let (world, shared) = world(Release::good_green()).await;
    // WHEN AfterAllowTestTraffic runs the example spec
    let run = world
        .run("after-allow-test-traffic", &example(&world))
        .await;
    // THEN it succeeded, having logged in on blue and been recognised by green
    run.assert_reported_once("Succeeded");
    let session = check_line(&run, "session continuity");
    let steps = session["steps"].as_str().unwrap_or_default();
    assert!(
        steps.contains("\"log in on blue\" (production listener, blue): pass 200")
            && steps.contains("\"green knows blue's session\" (test listener, green): pass 200"),
        "{session}"
    );
    // The checks run at once: the login and the database read in any order.
    let mut blue = shared.served_by("blue");
    blue.sort();
    assert_eq!(
        blue,
        ["/db/orders", "/login"],
        "login and the database, on blue"
    );
    assert_eq!(shared.served_by("green"), ["/me"]);
    assert_eq!(shared.schema(), 1);
    // AND the session cookie, a secret, is in no output
    let mut secrets = shared.tokens();
    secrets.push("5f2b9c1e7a".to_owned());
    run.assert_no_secret_among(&secrets);
}

#[tokio::test]
async fn green_that_does_not_know_blues_sessions_fails_naming_the_step() {
    greenlight_e2e::cargo_hooks!();
    // GIVEN a green that keeps sessions in its own memory
    let (world, _) = world(Release {
        shared_sessions: false,
        ..Release::good_green()
    })
    .await;
    let run = world
        .run("after-allow-test-traffic", &example(&world))
        .await;
    // THEN it failed at green's step, on the test listener, with the
    // session captured so far redacted
    run.assert_reported_once("Failed");
    let reasons = run.reasons();
    assert!(
        reasons.contains(
            "session continuity: step 2 \"green knows blue's session\" (test listener, green): expected status == 200, got 401"
        ),
        "{reasons}"
    );
    assert!(
        reasons.contains("captured: session=<redacted>, user=alice"),
        "{reasons}"
    );
}

#[tokio::test]
async fn green_whose_migration_breaks_blue_fails_with_blues_check_named() {
    greenlight_e2e::cargo_hooks!();
    // GIVEN a green that migrates the shared database to a schema blue cannot read
    let (world, shared) = world(Release {
        reads_schema: vec![2],
        migrates_to: Some(2),
        ..Release::good_green()
    })
    .await;
    assert_eq!(shared.schema(), 2);
    for hook in ["after-allow-test-traffic", "before-allow-traffic"] {
        // WHEN the hook runs the example spec
        let run = world.run(hook, &example(&world)).await;
        // THEN blue's own check failed, on production
        run.assert_reported_once("Failed");
        let reasons = run.reasons();
        assert!(
            reasons.contains("blue still reads the database: step 1 \"blue still reads the database\" (production listener, blue): expected status == 200, got 500"),
            "{hook}: {reasons}"
        );
        let line = check_line(&run, "blue still reads the database");
        assert_eq!(line["outcome"], "fail", "{line}");
    }
}

#[tokio::test]
async fn a_chain_of_three_steps_passes_a_secret_token_along_and_never_shows_it() {
    greenlight_e2e::cargo_hooks!();
    let (world, shared) = world(Release::good_green()).await;
    // GIVEN a flow on green: log in (a secret token), list orders with it,
    // then fetch the first order by its captured ID
    let spec = world.spec(json!({"checks": [{
        "name": "orders",
        "retry": {"attempts": 1},
        "steps": [
            {"name": "log in", "method": "POST", "path": "/login", "body": "{\"user\": \"alice\"}",
             "capture": {"token": {"json": "$.token", "secret": true}},
             "assert": [{"status": 200}]},
            {"name": "list", "path": "/api/orders",
             "headers": {"Authorization": "Bearer {{token}}"},
             "capture": {"order": {"json": "$.orders[0].id"}},
             "assert": [{"status": 200}]},
            {"name": "fetch", "path": "/api/orders/{{order}}",
             "headers": {"Authorization": "Bearer {{token}}", "X-Echo": "{{token}}"},
             "assert": [{"status": 200}, {"json": {"path": "$.id", "equals": "o-17"}}]}
        ]
    }]}));
    let run = world.run("after-allow-test-traffic", &spec).await;
    // THEN every step passed on green
    run.assert_reported_once("Succeeded");
    let line = check_line(&run, "orders");
    let steps = line["steps"].as_str().unwrap_or_default();
    assert_eq!(
        steps.matches(": pass 200").count(),
        3,
        "three steps passed: {line}"
    );
    // AND the token green handed out is in no output, in any encoding
    let tokens = shared.tokens();
    assert_eq!(tokens.len(), 1);
    run.assert_no_secret_among(&tokens);
}

#[tokio::test]
async fn a_failing_step_after_a_secret_capture_shows_it_redacted_only() {
    greenlight_e2e::cargo_hooks!();
    let (world, shared) = world(Release::good_green()).await;
    // GIVEN a chain whose last step expects what green never answers
    let spec = world.spec(json!({"checks": [{
        "name": "orders",
        "retry": {"attempts": 2, "interval_ms": 100},
        "steps": [
            {"method": "POST", "path": "/login", "body": "{}",
             "capture": {"token": {"json": "$.token", "secret": true}},
             "assert": [{"status": 200}]},
            {"path": "/api/orders/nope-{{token}}",
             "headers": {"Authorization": "Bearer {{token}}"},
             "assert": [{"status": 200}]}
        ]
    }]}));
    let run = world.run("after-allow-test-traffic", &spec).await;
    // THEN the whole flow was tried twice, the step is named, and neither
    // token (one per attempt) shows anywhere
    run.assert_reported_once("Failed");
    let reasons = run.reasons();
    assert!(
        reasons.contains(
            "orders: step 2 \"step 2\" (test listener, green): expected status == 200, got 404"
        ) && reasons.contains("captured: token=<redacted>"),
        "{reasons}"
    );
    assert_eq!(check_line(&run, "orders")["attempts"], 2);
    assert_eq!(shared.tokens().len(), 2);
    run.assert_no_secret_among(&shared.tokens());
}

#[tokio::test]
async fn a_comparison_fails_on_a_changed_type_and_passes_a_new_field() {
    greenlight_e2e::cargo_hooks!();
    let compare = |world: &World| {
        world.spec(json!({"checks": [{
            "name": "items compatible",
            "hooks": ["AfterAllowTestTraffic"],
            "path": "/api/items",
            "compare": "blue",
            "retry": {"attempts": 1},
            "assert": [{"status": 200}]
        }]}))
    };
    // GIVEN a green that sends each price as a string
    let (world, shared) = world(Release {
        price_as_string: true,
        ..Release::good_green()
    })
    .await;
    let run = world
        .run("after-allow-test-traffic", &compare(&world))
        .await;
    // THEN it failed, naming the field and both types
    run.assert_reported_once("Failed");
    let reasons = run.reasons();
    assert!(
        reasons.contains("$.items[0].price: blue number, green string"),
        "{reasons}"
    );
    assert_eq!(
        shared.served_by("blue"),
        ["/api/items"],
        "blue was asked once"
    );
    assert_eq!(shared.served_by("green"), ["/api/items"]);
    // AND a green that only adds a field passes
    let (world, _) = world_with_new_field().await;
    let run = world
        .run("after-allow-test-traffic", &compare(&world))
        .await;
    run.assert_reported_once("Succeeded");
}

async fn world_with_new_field() -> (World, Arc<Shared>) {
    world(Release {
        new_field: true,
        ..Release::good_green()
    })
    .await
}
