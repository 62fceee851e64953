//! The proto3 JSON mapping as the edge reads it, one field kind at a time: what a request may
//! give for each kind (the REST side's check, before a message is built) and the JSON Schema
//! that says the same in the API document, side by side so that they cannot drift apart.

use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use sandbox06_runtime::error::quote;
use sandbox06_runtime::{ApiError, Reason};
use serde_json::Value;

/// A JSON value as an error quotes it: a string as [`quote`] shows it, anything else as its
/// JSON, cut as long strings are.
pub(crate) fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => quote(text).to_string(),
        other => {
            let text = other.to_string();
            if text.len() <= sandbox06_runtime::error::MAX_QUOTE_CHARS {
                text
            } else {
                quote(&text).to_string()
            }
        }
    }
}

pub(crate) fn bad_request(field: &str, description: impl Into<String>) -> ApiError {
    ApiError::invalid_field(Reason::InvalidArgument, field, description)
}

/// The field named `name` (proto or JSON name) of `message`.
pub(crate) fn field_of(message: &MessageDescriptor, name: &str) -> Option<FieldDescriptor> {
    message
        .get_field_by_name(name)
        .or_else(|| message.get_field_by_json_name(name))
}

/// What is wrong with `value` as the proto3 JSON of `message`, naming the field (`a.b[2].c`):
/// an unknown field, a value of the wrong type, an enum name that does not exist.
pub(crate) fn check_json(
    message: &MessageDescriptor,
    value: &Value,
    at: &str,
) -> Result<(), ApiError> {
    let Value::Object(object) = value else {
        return Err(bad_request(
            if at.is_empty() { "body" } else { at },
            "must be a JSON object",
        ));
    };
    for (key, item) in object {
        let path = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        let Some(field) = field_of(message, key) else {
            return Err(bad_request(
                &path,
                format!("{} has no field {}", message.name(), quote(key)),
            ));
        };
        if item.is_null() {
            continue;
        }
        if field.is_map() {
            let Value::Object(entries) = item else {
                return Err(bad_request(&path, "must be a JSON object (a map)"));
            };
            if let Kind::Message(entry) = field.kind() {
                let value_field = entry.map_entry_value_field();
                for (name, entry_value) in entries {
                    check_value(&value_field.kind(), entry_value, &format!("{path}.{name}"))?;
                }
            }
        } else if field.is_list() {
            let Value::Array(items) = item else {
                return Err(bad_request(&path, "must be a JSON array"));
            };
            for (i, entry) in items.iter().enumerate() {
                check_value(&field.kind(), entry, &format!("{path}[{i}]"))?;
            }
        } else {
            check_value(&field.kind(), item, &path)?;
        }
    }
    Ok(())
}

/// The integer a JSON number or string of digits stands for, if it is one.
fn integer_of(value: &Value) -> Option<i128> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| {
                // 1e3 is an integer too; beyond 2^63 a float is not exact, and out of range.
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                    .map(|f| f as i128)
            }),
        Value::String(text) => {
            let digits = text.strip_prefix('-').unwrap_or(text);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            text.parse::<i128>().ok()
        }
        _ => None,
    }
}

/// The range of an integer kind.
fn integer_range(kind: &Kind) -> Option<(i128, i128)> {
    Some(match kind {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => (i32::MIN.into(), i32::MAX.into()),
        Kind::Uint32 | Kind::Fixed32 => (0, u32::MAX.into()),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => (i64::MIN.into(), i64::MAX.into()),
        Kind::Uint64 | Kind::Fixed64 => (0, u64::MAX.into()),
        _ => return None,
    })
}

/// Whether `text` is a field mask in the JSON form: lowerCamelCase paths, comma-separated.
fn is_field_mask(text: &str) -> bool {
    text.is_empty()
        || text.split(',').all(|path| {
            path.split('.').all(|name| {
                name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && name.chars().all(|c| c.is_ascii_alphanumeric())
            })
        })
}

/// Whether one JSON value fits a field of `kind` in the proto3 JSON mapping.
fn check_value(kind: &Kind, value: &Value, path: &str) -> Result<(), ApiError> {
    if let Some((low, high)) = integer_range(kind) {
        return match integer_of(value) {
            Some(n) if (low..=high).contains(&n) => Ok(()),
            Some(_) => Err(bad_request(
                path,
                format!("{} is out of range: {low} to {high}", shown(value)),
            )),
            None => Err(bad_request(
                path,
                format!("{} is not a valid {}", shown(value), kind_name(kind)),
            )),
        };
    }
    let fits = match kind {
        Kind::Bool => value.is_boolean(),
        Kind::String | Kind::Bytes => value.is_string(),
        Kind::Double | Kind::Float => {
            value.is_number()
                || value.as_str().is_some_and(|text| {
                    matches!(text, "NaN" | "Infinity" | "-Infinity") || text.parse::<f64>().is_ok()
                })
        }
        Kind::Enum(e) => match value {
            Value::String(name) => {
                if e.get_value_by_name(name).is_none() {
                    let names: Vec<String> = e.values().map(|v| v.name().to_owned()).collect();
                    return Err(bad_request(
                        path,
                        format!(
                            "{} is not a {}: one of {}",
                            quote(name),
                            e.name(),
                            names.join(", ")
                        ),
                    ));
                }
                true
            }
            other => integer_of(other).is_some_and(|n| i32::try_from(n).is_ok()),
        },
        Kind::Message(inner) => match inner.full_name() {
            "google.protobuf.FieldMask" => {
                if let Some(text) = value.as_str()
                    && !is_field_mask(text)
                {
                    return Err(bad_request(
                        path,
                        format!(
                            "{} is not a field mask: comma-separated lowerCamelCase paths such as \"fullName,card.expiryDate\"",
                            quote(text)
                        ),
                    ));
                }
                value.is_string()
            }
            "google.protobuf.Timestamp" | "google.protobuf.Duration" => value.is_string(),
            "google.protobuf.Value" => true,
            "google.protobuf.Struct" | "google.protobuf.Any" | "google.protobuf.Empty" => {
                value.is_object()
            }
            "google.protobuf.ListValue" => value.is_array(),
            name if name.starts_with("google.protobuf.") && name.ends_with("Value") => {
                let inner_kind = inner
                    .get_field_by_name("value")
                    .map(|f| f.kind())
                    .unwrap_or(Kind::String);
                return check_value(&inner_kind, value, path);
            }
            _ => return check_json(inner, value, path),
        },
        _ => true,
    };
    if fits {
        Ok(())
    } else {
        Err(bad_request(
            path,
            format!("{} is not a valid {}", shown(value), kind_name(kind)),
        ))
    }
}

/// How the proto3 JSON mapping writes a value of `kind`, for error messages.
fn kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Bool => "boolean (true or false)",
        Kind::String => "string",
        Kind::Bytes => "base64 string",
        Kind::Double | Kind::Float => "number",
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 | Kind::Uint64 | Kind::Fixed64 => {
            "integer (a number or a string of digits)"
        }
        Kind::Enum(_) => "enum name",
        Kind::Message(_) => "JSON object",
        _ => "integer",
    }
}
