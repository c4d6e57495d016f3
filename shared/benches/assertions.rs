//! The assertion evaluator on a large JSON body (about 1 MB, the most a probe
//! reads): the hot path of every check attempt. `shared body` is how checks
//! evaluate a response (the body parsed once for all its JSON assertions);
//! `parse per assertion` is the earlier way, kept as the baseline.
//!
//!     cargo bench -p greenlight --bench assertions

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use greenlight::Plan;
use greenlight::assertion::Evaluated;
use greenlight::probe::ProbeResponse;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::json;

/// A catalogue page of `items` products, as a web API answers.
fn body(items: usize) -> String {
    let items: Vec<_> = (0..items)
        .map(|i| {
            json!({
                "id": i,
                "sku": format!("SKU-{i:06}"),
                "name": format!("Product number {i}, in a reasonably long name"),
                "price": (i % 997) as f64 / 10.0,
                "tags": ["catalogue", "green", "bench"],
                "stock": {"warehouse": "eu-west-1a", "count": i % 50}
            })
        })
        .collect();
    json!({"status": "ok", "version": "1.4.2", "count": items.len(), "items": items}).to_string()
}

fn response(body: String) -> ProbeResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    ProbeResponse {
        status: 200,
        headers,
        body,
        truncated: false,
        duration: Duration::from_millis(42),
        certificate: None,
    }
}

fn assertions(c: &mut Criterion) {
    let spec = json!({
        "target": {"url": "http://127.0.0.1:8080"},
        "readiness": {"enabled": false},
        "alarms": {"deployment_group": false},
        "checks": [{
            "name": "catalogue",
            "path": "/api/items",
            "assert": [
                {"status": 200},
                {"header": {"name": "content-type", "contains": "application/json"}},
                {"json": {"path": "$.status", "equals": "ok"}},
                {"json": {"path": "$.version", "matches": "^1\\."}},
                {"json": {"path": "$.count", "at_least": 1000}},
                {"json": {"path": "$.items[0].sku", "exists": true}},
                {"json": {"path": "$.items[4999].stock.count", "less_than": 50}},
                {"body": {"contains": "SKU-004999"}},
                {"duration_ms": {"less_than": 1000}}
            ]
        }]
    });
    let plan = Plan::from_json(&spec.to_string()).expect("bench spec is valid");
    let check = &plan.checks[0];
    let response = response(body(5000));
    let mut group = c.benchmark_group("assertions on a ~1 MB JSON body");
    group.throughput(Throughput::Bytes(response.body.len() as u64));
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("shared body (as checks run)", |b| {
        b.iter(|| {
            let evaluated = Evaluated::new(black_box(&response));
            let passed = check.steps[0]
                .assertions
                .iter()
                .filter(|a| a.evaluate_on(&evaluated).passed)
                .count();
            assert_eq!(passed, check.steps[0].assertions.len());
        });
    });
    group.bench_function("parse per assertion (baseline)", |b| {
        b.iter(|| {
            let passed = check.steps[0]
                .assertions
                .iter()
                .filter(|a| a.evaluate(black_box(&response)).passed)
                .count();
            assert_eq!(passed, check.steps[0].assertions.len());
        });
    });
    group.finish();
}

criterion_group!(benches, assertions);
criterion_main!(benches);
