//! A check's assertions: each kind, its one key, and the problems with their paths.

use serde_json::json;

use crate::assertion::Assertion;
use crate::plan::tests::{check, plan, problems, spec};

#[test]
fn a_deeply_nested_json_path_is_refused_without_parsing_it() {
    // GIVEN a filter nested 100000 deep (the parser recurses per level)
    let deep = format!("$[?{}@.a{}]", "(".repeat(100_000), ")".repeat(100_000));
    let mut nested = check("nested");
    nested["assert"] = json!([{"json": {"path": deep, "exists": true}}]);
    let mut fine = check("fine");
    fine["assert"] = json!([{"json": {"path": "$.a[?(@.b == 1)].c[0]", "exists": true}}]);
    // THEN it is a problem named at the field, and a normal path is not
    let found = problems(&spec(vec![nested, fine]));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("checks[0].assert[0].json.path: invalid JSONPath"),
        "{found:?}"
    );
    assert!(found[0].contains("at most 1024 bytes and 32 nested brackets"));
}

#[test]
fn json_paths_that_multiply_work_on_a_large_body_are_refused() {
    // GIVEN paths with two descendant segments, and unions that multiply
    // the nodes found by 6
    let mut spec = spec(vec![check("a")]);
    spec["checks"][0]["assert"] = json!([
        {"json": {"path": "$..a..b", "exists": true}},
        {"json": {"path": "$[0,1,2]['a','b']", "exists": true}},
        {"json": {"path": "$..error", "exists": false}},
        {"json": {"path": "$[?@.a == 'x..y,z']['p','q'][0,1]", "exists": true}}
    ]);
    // WHEN it is validated
    let problems = problems(&spec);
    // THEN the first two are refused with the reason, the others (one
    // descendant; a product of 4, dots and commas in a string) are not
    assert_eq!(
        problems,
        vec![
            "checks[0].assert[0].json.path: invalid JSONPath (RFC 9535, e.g. $.status): expected at most 1 descendant segment (..), got 2: each one more can multiply the work on a large body by its size",
            "checks[0].assert[1].json.path: invalid JSONPath (RFC 9535, e.g. $.status): expected unions that multiply the nodes found by at most 4 in all (the product of the selectors per bracket), got 6",
        ]
    );
}

#[test]
fn every_kind_of_assertion_validates() {
    // GIVEN one check with every assertion kind
    let spec = spec(vec![json!({
        "name": "all",
        "assert": [
            {"status": [200, 204]},
            {"status": {"min": 200, "max": 299}},
            {"header": {"name": "Content-Type", "contains": "json"}},
            {"header": {"name": "x-none", "exists": false}},
            {"body": {"matches": "^ok"}},
            {"json": {"path": "$.db.latency_ms", "less_than": 50}},
            {"json": {"path": "$.features", "contains": "b"}},
            {"duration_ms": {"less_than": 500}}
        ]
    })]);
    // WHEN it is validated
    let plan = plan(&spec);
    // THEN each assertion says what it expects
    let described: Vec<String> = plan.checks[0].steps[0]
        .assertions
        .iter()
        .map(Assertion::describe)
        .collect();
    assert_eq!(
        described,
        [
            "status in [200, 204]",
            "status in 200..=299",
            "header content-type contains \"json\"",
            "header x-none does not exist",
            "body matches /^ok/",
            "json $.db.latency_ms < 50",
            "json $.features contains \"b\"",
            "duration_ms < 500",
        ]
    );
}

#[test]
fn a_status_out_of_range_names_the_check_and_the_assertion() {
    // GIVEN three checks, the third asserting an impossible status
    let mut spec = spec(vec![check("a"), check("b"), check("c")]);
    spec["checks"][2]["assert"][0]["status"] = json!(9999);
    // WHEN it is validated
    // THEN exactly that problem is reported, with its path
    assert_eq!(
        problems(&spec),
        ["checks[2].assert[0].status: expected a number 100..599, got 9999"]
    );
}

#[test]
fn status_lists_and_ranges_are_checked_too() {
    // GIVEN bad codes in a list, an empty list and a reversed range
    let spec = spec(vec![json!({
        "name": "a",
        "assert": [
            {"status": [200, 42, 700]},
            {"status": []},
            {"status": {"min": 299, "max": 200}}
        ]
    })]);
    // WHEN it is validated
    // THEN each is reported at its own assertion
    assert_eq!(
        problems(&spec),
        [
            "checks[0].assert[0].status: expected a number 100..599, got 42, 700",
            "checks[0].assert[1].status: expected at least one status code",
            "checks[0].assert[2].status: min (299) is greater than max (200)",
        ]
    );
}

#[test]
fn an_invalid_regex_is_reported_at_matches() {
    // GIVEN an unclosed group in a body and a header regex
    let spec = spec(vec![json!({
        "name": "a",
        "assert": [
            {"body": {"matches": "ok("}},
            {"header": {"name": "server", "matches": "[a-"}}
        ]
    })]);
    // WHEN it is validated
    let problems = problems(&spec);
    // THEN both are reported at their `matches`, with the regex error
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with("checks[0].assert[0].body.matches: invalid regular expression: "),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with("checks[0].assert[1].header.matches: invalid regular expression: "),
        "{problems:?}"
    );
}

#[test]
fn an_invalid_jsonpath_is_reported_at_path() {
    // GIVEN a JSONPath without the root `$`, and a JSON regex that is bad
    let spec = spec(vec![json!({
        "name": "a",
        "assert": [
            {"json": {"path": "status", "equals": "ok"}},
            {"json": {"path": "$.version", "matches": "("}}
        ]
    })]);
    // WHEN it is validated
    let problems = problems(&spec);
    // THEN both are reported, each at its field
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with(
            "checks[0].assert[0].json.path: invalid JSONPath (RFC 9535, e.g. $.status): "
        ),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with("checks[0].assert[1].json.matches: invalid regular expression: "),
        "{problems:?}"
    );
}

#[test]
fn a_json_assertion_needs_exactly_one_predicate() {
    // GIVEN json assertions with none, two predicates and an empty one_of
    let spec = spec(vec![json!({
        "name": "a",
        "assert": [
            {"json": {"path": "$.status"}},
            {"json": {"path": "$.n", "less_than": 5, "at_least": 1}},
            {"json": {"path": "$.status", "one_of": []}}
        ]
    })]);
    // WHEN it is validated
    // THEN each says what it expects
    assert_eq!(
        problems(&spec),
        [
            "checks[0].assert[0].json: expected one of equals, exists, one_of, contains, matches, less_than, at_most, greater_than, at_least",
            "checks[0].assert[1].json: expected exactly one of equals, exists, one_of, contains, matches, less_than, at_most, greater_than, at_least, got less_than and at_least",
            "checks[0].assert[2].json.one_of: expected at least one value",
        ]
    );
}

#[test]
fn a_header_assertion_with_two_predicates_says_expected_exactly_one() {
    // GIVEN header assertions with two predicates, with and without
    // `exists`, and with none
    let spec = spec(vec![json!({
        "name": "a",
        "assert": [
            {"header": {"name": "content-type", "equals": "text/plain", "contains": "json"}},
            {"header": {"name": "content-type", "exists": true, "equals": "text/plain"}},
            {"header": {"name": "content-type"}}
        ]
    })]);
    // WHEN it is validated
    // THEN every message lists all four predicates, and which were given
    assert_eq!(
        problems(&spec),
        [
            "checks[0].assert[0].header: expected exactly one of exists, equals, contains, matches, got equals and contains",
            "checks[0].assert[1].header: expected exactly one of exists, equals, contains, matches, got exists and equals",
            "checks[0].assert[2].header: expected one of exists, equals, contains, matches",
        ]
    );
}

#[test]
fn a_body_assertion_with_two_predicates_says_expected_exactly_one() {
    // GIVEN a body assertion with two predicates
    let spec = spec(vec![json!({
        "name": "a",
        "assert": [{"body": {"equals": "ok", "contains": "o"}}]
    })]);
    // WHEN it is validated
    // THEN the predicates given are named
    assert_eq!(
        problems(&spec),
        [
            "checks[0].assert[0].body: expected exactly one of equals, contains, matches, got equals and contains"
        ]
    );
}

#[test]
fn a_bad_header_name_or_duration_in_an_assertion_is_reported() {
    // GIVEN a header name with a space and a zero duration limit
    let spec = spec(vec![json!({
        "name": "a",
        "assert": [
            {"header": {"name": "content type", "exists": true}},
            {"duration_ms": {"less_than": 0}}
        ]
    })]);
    // WHEN it is validated
    // THEN both are reported at their fields
    assert_eq!(
        problems(&spec),
        [
            "checks[0].assert[0].header.name: not a valid HTTP header name (the value is not shown)",
            "checks[0].assert[1].duration_ms.less_than: expected a positive number of milliseconds",
        ]
    );
}

#[test]
fn a_certificate_assertion_reads_the_certificate_of_its_check_only() {
    // GIVEN one check asserting on the certificate, and one that does not
    let mut tls = check("tls");
    tls["assert"] = json!([{"status": 200}, {"certificate": {"expires_in_days_at_least": 14}}]);
    let plan = plan(&spec(vec![tls, check("plain")]));
    // THEN the first says what it expects in days, and only its requests
    // read the certificate
    assert_eq!(
        plan.checks[0].steps[0].assertions[1].describe(),
        "certificate expires in >= 14 days"
    );
    assert!(plan.checks[0].steps[0].request.read_certificate);
    assert!(!plan.checks[1].steps[0].request.read_certificate);
}

#[test]
fn a_certificate_assertion_needs_days_within_ten_years() {
    // GIVEN no days, too many days, and an unknown key
    let spec = spec(vec![json!({
        "name": "a",
        "assert": [
            {"certificate": {"expires_in_days_at_least": 0}},
            {"certificate": {"expires_in_days_at_least": 3651}}
        ]
    })]);
    // WHEN it is validated
    // THEN each is reported at its field
    assert_eq!(
        problems(&spec),
        [
            "checks[0].assert[0].certificate.expires_in_days_at_least: expected a number of days 1..=3650, got 0",
            "checks[0].assert[1].certificate.expires_in_days_at_least: expected a number of days 1..=3650, got 3651",
        ]
    );
}

#[test]
fn a_json_schema_is_compiled_when_the_spec_is_validated() {
    // GIVEN a valid schema
    let mut valid = check("valid");
    valid["assert"] = json!([{"json_schema": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"enum": ["ok"]}}
    }}]);
    // WHEN it is validated
    let plan = plan(&spec(vec![valid]));
    // THEN it judges the whole document, and says so with the schema's head
    assert_eq!(
        plan.checks[0].steps[0].assertions[0].describe(),
        r#"json $ is valid against the schema {"properties":{"status":{"enum":["ok"]}},"required":["status…"#
    );
}

#[test]
fn an_invalid_json_schema_is_a_problem_at_its_field() {
    // GIVEN a schema with a wrong keyword value, one whose `$ref` leads to
    // the network, one to a file, and one over 64 KiB
    let large: Vec<String> = (0..7000).map(|i| format!("field_{i}")).collect();
    let spec = spec(vec![json!({
        "name": "a",
        "assert": [
            {"status": 200},
            {"json_schema": {"type": 12}},
            {"json_schema": {"$ref": "https://schemas.example.com/health.json"}},
            {"json_schema": {"$ref": "file:///etc/passwd"}},
            {"json_schema": {"required": large}}
        ]
    })]);
    // WHEN it is validated
    let problems = problems(&spec);
    // THEN each is a problem at its assertion, nothing was fetched, and the
    // large one is refused for its size
    assert_eq!(
        problems[..3],
        [
            "checks[0].assert[1].json_schema: invalid JSON Schema: at /type: value is not valid under any of the schemas listed in the 'anyOf' keyword",
            "checks[0].assert[2].json_schema: invalid JSON Schema: a $ref leads outside the schema (only references within it are followed, nothing is fetched)",
            "checks[0].assert[3].json_schema: invalid JSON Schema: a $ref leads outside the schema (only references within it are followed, nothing is fetched)",
        ],
        "{problems:?}"
    );
    assert!(
        problems[3].starts_with(
            "checks[0].assert[4].json_schema: expected a schema of at most 65536 bytes as JSON text, got "
        ),
        "{problems:?}"
    );
}
