//! The assertions on what a response carries besides its status, headers
//! and body text: green's TLS certificate, and the body's shape as a JSON
//! Schema. Kept apart from `spec.rs` so that each kind's wire format reads
//! as one piece.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An assertion on the leaf certificate green presented on the TLS
/// connection of the response (after redirects, the last response's). A
/// response over plain http fails it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateAssertSpec {
    /// The certificate is still valid this many days from now, at least
    /// (whole days, 1..=3650), e.g. 14: fail the deployment while there is
    /// still time to renew, not once clients reject it.
    #[schemars(range(min = 1, max = 3650))]
    pub expires_in_days_at_least: u32,
}

/// A JSON Schema the body, parsed as JSON, must be valid against: drafts 4,
/// 6, 7, 2019-09 and 2020-12 (by its `$schema`, 2020-12 when none is given).
/// Every `$ref` must point inside the schema: nothing is fetched from the
/// network or read from files. At most 64 KiB of schema text. Formats
/// (`"format": "email"`) are annotations only, as in drafts 2019-09 and
/// 2020-12: not checked.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct JsonSchemaAssertSpec(#[schemars(schema_with = "any_schema")] pub Value);

/// A JSON Schema is an object or a boolean.
fn any_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["object", "boolean"]})
}
