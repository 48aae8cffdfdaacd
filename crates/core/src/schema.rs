//! Tool schemas every JSON Schema validator accepts.
//!
//! schemars describes Rust integer and float types with `format` values
//! that are not JSON Schema formats (`uint32`, `int64`, `double`, …); Ajv
//! and other strict validators warn about each one. [`standard_schemas`]
//! rewrites a server's tool schemas once, when the server is built: such a
//! `format` is dropped and what it meant for integers becomes `minimum` /
//! `maximum` (where the bound is a safe JSON number). Written by hand: it is
//! a small walk over JSON values, and schemars offers no switch for it.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use serde_json::{Map, Value};

/// The `format` values JSON Schema 2020-12 defines.
pub const STANDARD_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

/// Largest integer a JSON number carries exactly (2^53 - 1).
const MAX_SAFE: i64 = 9_007_199_254_740_991;

/// Rewrites every tool's input and output schema (see the module docs).
pub fn standard_schemas<S>(mut router: ToolRouter<S>) -> ToolRouter<S> {
    for route in router.map.values_mut() {
        let tool = &mut route.attr;
        tool.input_schema = Arc::new(standardised(&tool.input_schema));
        if let Some(output) = &tool.output_schema {
            tool.output_schema = Some(Arc::new(standardised(output)));
        }
    }
    router
}

/// A copy of `schema` without non-standard formats.
pub fn standardised(schema: &Map<String, Value>) -> Map<String, Value> {
    let mut value = Value::Object(schema.clone());
    walk(&mut value);
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn walk(value: &mut Value) {
    match value {
        Value::Object(map) => {
            fix_format(map);
            // Values (defaults, examples, constants) are data, not schemas.
            for (key, child) in map.iter_mut() {
                if !matches!(key.as_str(), "default" | "examples" | "const" | "enum") {
                    walk(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(walk),
        _ => {}
    }
}

fn fix_format(map: &mut Map<String, Value>) {
    let Some(format) = map.get("format").and_then(Value::as_str) else {
        return;
    };
    if STANDARD_FORMATS.contains(&format) {
        return;
    }
    let bounds: Option<(i64, Option<i64>)> = match format {
        "uint8" => Some((0, Some(255))),
        "uint16" => Some((0, Some(65_535))),
        "uint32" => Some((0, Some(4_294_967_295))),
        "uint" | "uint64" | "uint128" | "usize" => Some((0, Some(MAX_SAFE))),
        "int8" => Some((-128, Some(127))),
        "int16" => Some((-32_768, Some(32_767))),
        "int32" => Some((-2_147_483_648, Some(2_147_483_647))),
        "int" | "int64" | "int128" | "isize" => Some((-MAX_SAFE, Some(MAX_SAFE))),
        _ => None,
    };
    map.remove("format");
    if let Some((min, max)) = bounds {
        map.entry("minimum").or_insert_with(|| Value::from(min));
        if let Some(max) = max {
            map.entry("maximum").or_insert_with(|| Value::from(max));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn non_standard_formats_become_bounds() {
        let schema = json!({
            "type": "object",
            "properties": {
                "pages": {"type": "integer", "format": "uint32", "minimum": 1},
                "offset": {"type": ["integer", "null"], "format": "uint"},
                "delta": {"type": "integer", "format": "int64"},
                "score": {"type": "number", "format": "double"},
                "when": {"type": "string", "format": "date-time"},
                "list": {"type": "array", "items": {"type": "integer", "format": "uint8"}}
            }
        });
        let Value::Object(map) = schema else {
            unreachable!()
        };
        let out = Value::Object(standardised(&map));
        let p = &out["properties"];
        assert_eq!(
            p["pages"],
            json!({"type": "integer", "minimum": 1, "maximum": 4_294_967_295u64})
        );
        assert_eq!(
            p["offset"],
            json!({"type": ["integer", "null"], "minimum": 0, "maximum": MAX_SAFE})
        );
        assert_eq!(
            p["delta"],
            json!({"type": "integer", "minimum": -MAX_SAFE, "maximum": MAX_SAFE})
        );
        assert_eq!(p["score"], json!({"type": "number"}));
        assert_eq!(p["when"], json!({"type": "string", "format": "date-time"}));
        assert_eq!(
            p["list"]["items"],
            json!({"type": "integer", "minimum": 0, "maximum": 255})
        );
    }
}
