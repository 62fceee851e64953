//! The check and the schema of every field kind give the same answers, and the mapping's own
//! reader takes what the check accepts.
#![allow(clippy::unwrap_used)]

use prost_reflect::{DescriptorPool, DynamicMessage};
use serde_json::json;

use super::*;

fn pool() -> &'static DescriptorPool {
    &sandbox06_proto::DESCRIPTOR_POOL
}

fn message(name: &str) -> MessageDescriptor {
    pool()
        .get_message_by_name(name)
        .unwrap_or_else(|| panic!("{name} is in the contract's pool"))
}

/// Whether `schema` allows `value`, as JSON Schema 2020-12 reads the keywords the mapping's
/// schemas use (`$ref` to an enum's schema, `anyOf`, `type`, `pattern`, bounds,
/// `properties`, `required`, `additionalProperties: false`).
fn allows(schema: &Value, value: &Value) -> bool {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.strip_prefix(SCHEMAS).unwrap();
        let e = pool().get_enum_by_name(name).unwrap();
        return allows(&crate::openapi::enum_schema(&e), value);
    }
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array)
        && !options.iter().any(|s| allows(s, value))
    {
        return false;
    }
    // Numbers are equal by value (`-0.0` is `0`).
    let same = |a: &Value, b: &Value| match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    };
    if let Some(names) = schema.get("enum").and_then(Value::as_array)
        && !names.iter().any(|name| same(name, value))
    {
        return false;
    }
    let fits = |kind: &str| match (kind, value) {
        ("boolean", Value::Bool(_))
        | ("string", Value::String(_))
        | ("object", Value::Object(_))
        | ("array", Value::Array(_))
        | ("number", Value::Number(_)) => true,
        // 2020-12: a number with a zero fractional part is an integer.
        ("integer", Value::Number(n)) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    };
    match schema.get("type") {
        Some(Value::String(kind)) if !fits(kind) => return false,
        Some(Value::Array(kinds)) if !kinds.iter().filter_map(Value::as_str).any(fits) => {
            return false;
        }
        _ => {}
    }
    match value {
        Value::String(text) => {
            if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
                && !regex::Regex::new(pattern).unwrap().is_match(text)
            {
                return false;
            }
        }
        Value::Number(n) => {
            // Exact comparisons: bounds at 2^63 and 2^64 are beyond an f64's integers.
            let n = n
                .as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from))
                .map_or_else(|| n.as_f64().unwrap(), |n| n as f64);
            let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
            if bound("minimum").is_some_and(|m| n < m) || bound("maximum").is_some_and(|m| n > m) {
                return false;
            }
            // OpenAPI's integer formats are ranges.
            let exact = value
                .as_i64()
                .map(i128::from)
                .or_else(|| value.as_u64().map(i128::from));
            let range = match schema.get("format").and_then(Value::as_str) {
                Some("int32") => Some((i128::from(i32::MIN), i128::from(i32::MAX))),
                Some("int64") => Some((i128::from(i64::MIN), i128::from(i64::MAX))),
                Some("uint64") => Some((0, i128::from(u64::MAX))),
                _ => None,
            };
            if let Some((low, high)) = range {
                let within = match exact {
                    Some(n) => (low..=high).contains(&n),
                    None => n >= low as f64 && n <= high as f64,
                };
                if !within {
                    return false;
                }
            }
        }
        Value::Object(object) => {
            for name in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !object.contains_key(name) {
                    return false;
                }
            }
            if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
                let properties = schema.get("properties").and_then(Value::as_object);
                if object
                    .keys()
                    .any(|key| !properties.is_some_and(|p| p.contains_key(key)))
                {
                    return false;
                }
            }
        }
        _ => {}
    }
    true
}

/// Values at and around every form's edges.
fn candidates() -> Vec<Value> {
    let mut values = vec![
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(1e3),
        json!(-0.0),
        json!({}),
        json!([]),
        // A type the reader knows: which types exist is not the schema's to say.
        json!({"@type": "type.googleapis.com/google.protobuf.SourceContext"}),
        json!({"a": 1}),
        json!([1, "a"]),
        json!(""),
        json!("0"),
        json!("-0"),
        json!("007"),
        json!("-007"),
        json!("+1"),
        json!("1e3"),
        json!("1.5"),
        json!("-1.5E-3"),
        json!(".5"),
        json!("5."),
        json!("01.5"),
        json!("NaN"),
        json!("Infinity"),
        json!("-Infinity"),
        json!("inf"),
        json!("nan"),
        json!("abc"),
        json!(" 1"),
        json!("1 "),
        json!("AAAA"),
        json!("AAA"),
        json!("AA=="),
        json!("AA="),
        json!("A"),
        json!("A==="),
        json!("-_8"),
        json!("+/8="),
        json!("a b"),
        json!("2025-01-31T08:00:00Z"),
        json!("2025-01-31T08:00:00.123456789+07:00"),
        json!("2025-01-31T08:00:00.1234567890Z"),
        json!("2025-01-31t08:00:00z"),
        json!("2025-13-01T00:00:00Z"),
        json!("2025-01-31T24:00:00Z"),
        json!("2025-01-31"),
        json!("2025-01-31T08:00:00"),
        json!("2025-01-31T08:00:00.Z"),
        json!("1.5s"),
        json!("-3s"),
        json!("1s"),
        json!("1.0000000001s"),
        json!("1.s"),
        json!("5m"),
        json!("s"),
        json!("fullName"),
        json!("fullName,card.expiryDate"),
        json!("FullName"),
        json!("full_name"),
        json!("a,,b"),
        json!("NOT_A_NAME"),
        json!("3"),
        json!(2),
        json!(99),
    ];
    for (low, high) in [
        (i128::from(i32::MIN), i128::from(i32::MAX)),
        (0, i128::from(u32::MAX)),
        (i128::from(i64::MIN), i128::from(i64::MAX)),
        (0, i128::from(u64::MAX)),
    ] {
        for n in [low - 1, low, high, high + 1] {
            values.push(json!(n.to_string()));
            if let Ok(n) = i64::try_from(n) {
                values.push(json!(n));
            } else if let Ok(n) = u64::try_from(n) {
                values.push(json!(n));
            }
        }
    }
    values.push(json!(1e19));
    values.push(json!("99999999999999999999999999999999999999999999"));
    values
}

/// Every field kind, each well-known type and an enum of the contract.
fn kinds() -> Vec<Kind> {
    let mut kinds = vec![
        Kind::Bool,
        Kind::String,
        Kind::Bytes,
        Kind::Double,
        Kind::Float,
        Kind::Int32,
        Kind::Sint32,
        Kind::Sfixed32,
        Kind::Uint32,
        Kind::Fixed32,
        Kind::Int64,
        Kind::Sint64,
        Kind::Sfixed64,
        Kind::Uint64,
        Kind::Fixed64,
    ];
    for name in [
        "google.protobuf.Timestamp",
        "google.protobuf.Duration",
        "google.protobuf.FieldMask",
        "google.protobuf.Struct",
        "google.protobuf.Empty",
        "google.protobuf.Value",
        "google.protobuf.ListValue",
        "google.protobuf.Any",
        "google.protobuf.Int32Value",
        "google.protobuf.UInt32Value",
        "google.protobuf.Int64Value",
        "google.protobuf.UInt64Value",
        "google.protobuf.DoubleValue",
        "google.protobuf.FloatValue",
        "google.protobuf.BoolValue",
        "google.protobuf.StringValue",
        "google.protobuf.BytesValue",
    ] {
        // The contract's pool has those it uses; prost-reflect's own has them all.
        let found = pool()
            .get_message_by_name(name)
            .or_else(|| DescriptorPool::global().get_message_by_name(name))
            .unwrap_or_else(|| panic!("{name} is a well-known type"));
        kinds.push(Kind::Message(found));
    }
    let with_enum = pool()
        .all_enums()
        .find(|e| e.full_name().starts_with("sandbox06."))
        .unwrap();
    kinds.push(Kind::Enum(with_enum));
    kinds
}

#[test]
fn the_schema_allows_exactly_what_the_check_accepts() {
    let mut disagreements = Vec::new();
    for kind in kinds() {
        let schema = kind_schema(&kind);
        let mut values = candidates();
        if let Kind::Enum(e) = &kind {
            values.extend(e.values().map(|v| json!(v.name())));
        }
        for value in values {
            let checked = check_value(&kind, &value, "f").is_ok();
            if allows(&schema, &value) != checked {
                disagreements.push(format!(
                    "{kind:?}: {value} is {} by the check",
                    if checked { "accepted" } else { "refused" }
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

#[test]
fn what_the_check_accepts_the_mapping_reads() {
    // The wrappers and well-known types read their value alone, as a field of their kind.
    let mut refused = Vec::new();
    for kind in kinds() {
        let Kind::Message(wrapper) = &kind else {
            continue;
        };
        for value in candidates() {
            if value.is_null() || check_value(&kind, &value, "f").is_err() {
                continue;
            }
            if let Err(error) = DynamicMessage::deserialize(wrapper.clone(), value.clone()) {
                refused.push(format!("{}: {value}: {error}", wrapper.full_name()));
            }
        }
    }
    assert!(refused.is_empty(), "accepted but unreadable: {refused:#?}");
}

#[test]
fn integer_patterns_stop_at_the_range() {
    let pattern = regex::Regex::new(&integer_pattern(i32::MIN.into(), i32::MAX.into())).unwrap();
    for ok in [
        "0",
        "-0",
        "2147483647",
        "-2147483648",
        "0002147483647",
        "1999999999",
        "999",
    ] {
        assert!(pattern.is_match(ok), "{ok}");
    }
    for bad in ["2147483648", "-2147483649", "9999999999", "+1", "", "-"] {
        assert!(!pattern.is_match(bad), "{bad}");
    }
    let unsigned = regex::Regex::new(&integer_pattern(0, u64::MAX.into())).unwrap();
    assert!(unsigned.is_match("18446744073709551615"));
    assert!(!unsigned.is_match("18446744073709551616"));
    assert!(!unsigned.is_match("-1"));
    assert_eq!(message("google.protobuf.FieldMask").name(), "FieldMask");
}
