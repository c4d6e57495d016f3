//! Any response (status, a header, a body, a duration, all from the input)
//! judged by a fixed set of assertions that covers every query and predicate
//! kind: never a panic, the shared JSON parse agrees with a fresh one, the
//! predicates are consistent, and redaction leaves no secret in the results.

#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use greenlight::assertion::{
    Actual, Assertion, AssertionResult, Disclosure, Evaluated, MAX_SHOWN_CHARS, Predicate,
};
use greenlight::plan::Plan;
use greenlight::probe::ProbeResponse;
use greenlight::redaction::Redactor;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The secret header values of the spec below, and the forms in which they
/// may appear: the redacted results must contain none of them.
const SECRETS: [&str; 4] = [
    "Bearer s3cr3t-t0ken",
    "s3cr3t-t0ken",
    r#"p"a\ss-w0rd"#,
    r#"p\"a\\ss-w0rd"#,
];

/// One check per query kind, with every predicate kind the spec can express.
const SPEC: &str = r#"{
  "target": {"url": "http://127.0.0.1:9"},
  "checks": [
    {
      "name": "status",
      "headers": {
        "Authorization": "Bearer s3cr3t-t0ken",
        "X-Custom": {"value": "p\"a\\ss-w0rd", "secret": true}
      },
      "assert": [
        {"status": 200},
        {"status": [200, 204, 503]},
        {"status": {"min": 200, "max": 299}}
      ]
    },
    {
      "name": "header",
      "assert": [
        {"header": {"name": "content-type", "exists": true}},
        {"header": {"name": "X-Fuzz", "exists": false}},
        {"header": {"name": "x-fuzz", "equals": "ok"}},
        {"header": {"name": "x-fuzz", "contains": "s3cr3t"}},
        {"header": {"name": "x-fuzz", "matches": "^[a-z]+=\\d+$"}},
        {"header": {"name": "content-type", "matches": "(?i)^application/(\\w+\\+)?json"}}
      ]
    },
    {
      "name": "body",
      "assert": [
        {"body": {"equals": "ok"}},
        {"body": {"contains": "healthy"}},
        {"body": {"matches": "(?i)status:\\s*(ok|up)"}},
        {"body": {"matches": "^\\p{L}+$"}}
      ]
    },
    {
      "name": "json",
      "assert": [
        {"json": {"path": "$", "exists": true}},
        {"json": {"path": "$.status", "equals": "ok"}},
        {"json": {"path": "$.status", "equals": null}},
        {"json": {"path": "$.count", "equals": 2}},
        {"json": {"path": "$.obj", "equals": {"a": [1, 2.0, "x", null, true]}}},
        {"json": {"path": "$.version", "exists": true}},
        {"json": {"path": "$.missing", "exists": false}},
        {"json": {"path": "$.status", "one_of": ["ok", "up", 1, null, [], {}]}},
        {"json": {"path": "$.tags", "contains": "blue"}},
        {"json": {"path": "$.status", "contains": "o"}},
        {"json": {"path": "$.items", "contains": {"id": 1}}},
        {"json": {"path": "$.version", "matches": "^\\d+\\.\\d+\\.\\d+$"}},
        {"json": {"path": "$.latency_ms", "less_than": 100}},
        {"json": {"path": "$.latency_ms", "at_most": 100.5}},
        {"json": {"path": "$.latency_ms", "greater_than": -1e308}},
        {"json": {"path": "$.latency_ms", "at_least": 0}},
        {"json": {"path": "$..id", "exists": true}},
        {"json": {"path": "$.items[*].id", "one_of": [1, 2, 3]}},
        {"json": {"path": "$.items[-1]", "exists": true}},
        {"json": {"path": "$.items[0:2]", "contains": {"id": 2}}},
        {"json": {"path": "$.items[::-1]", "exists": true}},
        {"json": {"path": "$[?@.ok == true]", "exists": true}},
        {"json": {"path": "$.items[?@.id > 1 && @.id <= 3]", "exists": true}},
        {"json": {"path": "$.items[?length(@.name) > 3]", "exists": true}},
        {"json": {"path": "$.items[?match(@.name, 'a.*')]", "exists": true}},
        {"json": {"path": "$.items[?search(@.name, '[bc]')]", "exists": true}},
        {"json": {"path": "$[?count(@.*) > 1]", "exists": true}},
        {"json": {"path": "$.items[?value(@..id) == 2]", "exists": true}},
        {"json": {"path": "$['weird key', 'status']", "exists": true}},
        {"json": {"path": "$.*", "contains": "ok"}},
        {"json": {"path": "$..*", "exists": true}}
      ]
    },
    {
      "name": "duration",
      "assert": [
        {"duration_ms": {"less_than": 1000}}
      ]
    }
  ]
}"#;

static PLAN: LazyLock<(Vec<Assertion>, Redactor)> = LazyLock::new(|| {
    let plan = Plan::from_json(SPEC).unwrap_or_else(|error| panic!("fuzz spec: {error}"));
    let assertions = plan
        .checks
        .iter()
        .flat_map(|check| check.assertions.iter().cloned())
        .collect();
    (assertions, plan.redactor)
});

/// Input: 2 bytes status, 2 bytes duration (ms), 1 byte flags, 1 byte header
/// length, the header value, then the body.
fn response(data: &[u8]) -> ProbeResponse {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let status = u16::from_be_bytes([byte(0), byte(1)]);
    let duration = Duration::from_millis(u64::from(u16::from_be_bytes([byte(2), byte(3)])));
    let flags = byte(4);
    let header_len = usize::from(byte(5) % 64);
    let rest = data.get(6..).unwrap_or_default();
    let (header, body) = rest.split_at(header_len.min(rest.len()));
    let mut response = ProbeResponse {
        status,
        headers: Default::default(),
        body: String::from_utf8_lossy(body).into_owned(),
        truncated: flags & 1 != 0,
        duration,
        certificate: None,
    };
    if flags & 2 != 0 {
        response.headers.insert(
            "content-type",
            "application/json".try_into().expect("valid"),
        );
    }
    if let Ok(value) = header.try_into() {
        response.headers.insert("x-fuzz", value);
        if flags & 4 != 0 {
            // The header twice: the first value is the one asserted on.
            if let Ok(again) = header.try_into() {
                response.headers.append("x-fuzz", again);
            }
        }
    }
    response
}

fn assert_redacted(redactor: &Redactor, text: &str) {
    let redacted = redactor.redact(text);
    for secret in SECRETS {
        assert!(
            !redacted.contains(secret),
            "{secret:?} left in {redacted:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let (assertions, redactor) = &*PLAN;
    let response = response(data);
    let disclosure = Disclosure {
        redactor: redactor.clone(),
        sends_secrets: data.first().is_some_and(|b| b & 1 == 1),
    };
    let evaluated = Evaluated::disclosing(&response, disclosure.clone());
    let results: Vec<AssertionResult> = assertions
        .iter()
        .map(|assertion| assertion.evaluate_on(&evaluated))
        .collect();
    // The body is parsed once and shared: the results do not depend on which
    // assertion parsed it first.
    let fresh = Evaluated::disclosing(&response, disclosure);
    for (assertion, result) in assertions.iter().zip(&results).rev() {
        assert_eq!(result, &assertion.evaluate_on(&fresh));
    }
    for (assertion, result) in assertions.iter().zip(&results) {
        assert_redacted(redactor, &result.expected);
        assert_redacted(redactor, &result.actual);
        // Shown within bounds, whatever the body.
        assert!(result.actual.chars().count() <= MAX_SHOWN_CHARS + 40);

        let actual = assertion.query.select(&evaluated);
        assert_eq!(result.passed, assertion.predicate.holds(&actual));
        let present = Predicate::Exists(true).holds(&actual);
        let absent = Predicate::Exists(false).holds(&actual);
        match &actual {
            Actual::Missing => assert!(!present && absent),
            Actual::Error(_) => assert!(!present && !absent),
            _ => assert!(present && !absent),
        }
        if let Actual::Value(Value::Number(_)) | Actual::Node(Value::Number(_)) = &actual {
            for limit in [0.0, 1.5, 200.0, -1e308, 9_007_199_254_740_992.0] {
                let below = Predicate::LessThan(limit).holds(&actual);
                let at_least = Predicate::AtLeast(limit).holds(&actual);
                let above = Predicate::GreaterThan(limit).holds(&actual);
                let at_most = Predicate::AtMost(limit).holds(&actual);
                assert!(below != at_least, "{actual:?} vs {limit}");
                assert!(above != at_most, "{actual:?} vs {limit}");
            }
        }
    }
});
