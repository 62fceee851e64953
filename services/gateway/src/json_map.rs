//! The proto3 JSON mapping as the edge reads it, one field kind at a time: what a request may
//! give for each kind (the REST side's check, before a message is built) and the JSON Schema
//! that says the same in the API document, side by side so that they cannot drift apart.
//!
//! Per the proto3 JSON mapping: integers as numbers or decimal strings (never beyond their
//! range; no sign on an unsigned kind), floating point as numbers or their decimal strings, `NaN`
//! and `±Infinity`; enums by name or by int32 number (proto3 enums are open); bytes in base64
//! (standard or URL-safe, padded or not); `Timestamp` in RFC 3339, `Duration` as seconds with an
//! `s`, `FieldMask` as comma-separated lowerCamelCase paths; wrappers as the value they wrap;
//! `Struct` and `Empty` as objects (`Empty` with no member), `ListValue` as an array, `Value` as
//! anything, `Any` as an object naming its `@type`.

use prost_reflect::{EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor};
use sandbox06_runtime::error::quote;
use sandbox06_runtime::{ApiError, Reason};
use serde_json::{Value, json};

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

/// Prefix of a component schema reference.
pub(crate) const SCHEMAS: &str = "#/components/schemas/";

/// A decimal number as the mapping writes one in a string (or `NaN`, `Infinity`, `-Infinity`).
const FLOAT_PATTERN: &str = "^(-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?|NaN|-?Infinity)$";
/// Base64, standard or URL-safe alphabet, padded or not.
const BASE64_PATTERN: &str =
    "^([A-Za-z0-9+/_-]{4})*([A-Za-z0-9+/_-]{2}(==)?|[A-Za-z0-9+/_-]{3}=?)?$";
/// An RFC 3339 instant: a date, `T`, a time with up to nine fractional digits, `Z` or an offset.
const TIMESTAMP_PATTERN: &str = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";
/// Seconds with up to nine fractional digits and an `s`.
const DURATION_PATTERN: &str = "^-?[0-9]+(\\.[0-9]{1,9})?s$";
/// Comma-separated lowerCamelCase paths, or nothing.
const FIELD_MASK_PATTERN: &str =
    "^([a-z][A-Za-z0-9]*(\\.[a-z][A-Za-z0-9]*)*(,[a-z][A-Za-z0-9]*(\\.[a-z][A-Za-z0-9]*)*)*)?$";

/// How the mapping writes one value of a field kind.
#[derive(Clone, Debug)]
pub(crate) enum Form {
    Bool,
    String,
    Bytes,
    /// `float` or `double`.
    Float,
    /// An integer kind: its range, and the schema's `format`.
    Integer {
        low: i128,
        high: i128,
        format: &'static str,
    },
    Enum(EnumDescriptor),
    Timestamp,
    Duration,
    FieldMask,
    /// `google.protobuf.Struct`.
    Struct,
    /// `google.protobuf.Empty`.
    Empty,
    /// `google.protobuf.Value`: any JSON.
    AnyValue,
    /// `google.protobuf.ListValue`.
    List,
    /// `google.protobuf.Any`.
    Any,
    /// A message of the contract: an object of its fields.
    Message(MessageDescriptor),
}

impl Form {
    /// The form of `kind`; a wrapper is the form of the value it wraps.
    pub(crate) fn of(kind: &Kind) -> Self {
        let integer = |low: i128, high: i128, format| Form::Integer { low, high, format };
        match kind {
            Kind::Bool => Form::Bool,
            Kind::String => Form::String,
            Kind::Bytes => Form::Bytes,
            Kind::Double | Kind::Float => Form::Float,
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
                integer(i32::MIN.into(), i32::MAX.into(), "int32")
            }
            Kind::Uint32 | Kind::Fixed32 => integer(0, u32::MAX.into(), "uint32"),
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
                integer(i64::MIN.into(), i64::MAX.into(), "int64")
            }
            Kind::Uint64 | Kind::Fixed64 => integer(0, u64::MAX.into(), "uint64"),
            Kind::Enum(e) => Form::Enum(e.clone()),
            Kind::Message(message) => Self::of_message(message),
        }
    }

    fn of_message(message: &MessageDescriptor) -> Self {
        match message.full_name() {
            "google.protobuf.Timestamp" => Form::Timestamp,
            "google.protobuf.Duration" => Form::Duration,
            "google.protobuf.FieldMask" => Form::FieldMask,
            "google.protobuf.Struct" => Form::Struct,
            "google.protobuf.Empty" => Form::Empty,
            "google.protobuf.Value" => Form::AnyValue,
            "google.protobuf.ListValue" => Form::List,
            "google.protobuf.Any" => Form::Any,
            name if name.starts_with("google.protobuf.") && name.ends_with("Value") => message
                .get_field_by_name("value")
                .map_or(Form::String, |value| Self::of(&value.kind())),
            _ => Form::Message(message.clone()),
        }
    }

    /// Whether the mapping writes the message as something other than an object of its fields
    /// (a well-known type).
    pub(crate) fn is_well_known(message: &MessageDescriptor) -> bool {
        !matches!(Self::of_message(message), Form::Message(_))
    }

    /// Whether `value` is this form, checked as the REST side checks a request: `Err` says why
    /// not, naming the field at `path`.
    pub(crate) fn check(&self, value: &Value, path: &str) -> Result<(), ApiError> {
        let text = value.as_str();
        let fits = match self {
            Form::Bool => value.is_boolean(),
            Form::String => value.is_string(),
            Form::Bytes => text.is_some_and(is_base64),
            Form::Float => value.is_number() || text.is_some_and(is_float_text),
            Form::Integer { low, high, .. } => {
                return match integer_of(value, *low >= 0) {
                    Some(n) if (*low..=*high).contains(&n) => Ok(()),
                    Some(_) => Err(bad_request(
                        path,
                        format!("{} is out of range: {low} to {high}", shown(value)),
                    )),
                    None => Err(self.invalid(value, path)),
                };
            }
            Form::Enum(e) => match value {
                Value::String(name) if e.get_value_by_name(name).is_none() => {
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
                Value::String(_) => true,
                // By number: one the enum declares. A proto3 parser keeps an unknown number,
                // but no service of the suite takes one, and the document lists the numbers.
                Value::Number(_) => {
                    match integer_of(value, false).and_then(|n| i32::try_from(n).ok()) {
                        Some(n) if e.get_value(n).is_none() => {
                            let numbers: Vec<String> =
                                e.values().map(|v| v.number().to_string()).collect();
                            return Err(bad_request(
                                path,
                                format!(
                                    "{n} is not a number of {}: one of {}",
                                    e.name(),
                                    numbers.join(", ")
                                ),
                            ));
                        }
                        found => found.is_some(),
                    }
                }
                _ => false,
            },
            Form::Timestamp => text.is_some_and(is_timestamp),
            Form::Duration => text.is_some_and(is_duration),
            Form::FieldMask => {
                if let Some(text) = text
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
                text.is_some()
            }
            Form::Struct => value.is_object(),
            Form::Empty => value.as_object().is_some_and(serde_json::Map::is_empty),
            Form::AnyValue => true,
            Form::List => value.is_array(),
            Form::Any => value.get("@type").is_some_and(Value::is_string),
            Form::Message(message) => return check_json(message, value, path),
        };
        if fits {
            Ok(())
        } else {
            Err(self.invalid(value, path))
        }
    }

    /// The JSON Schema of this form, as the API document gives it.
    pub(crate) fn schema(&self) -> Value {
        match self {
            Form::Bool => json!({"type": "boolean"}),
            Form::String => json!({"type": "string"}),
            Form::Bytes => {
                json!({"type": "string", "contentEncoding": "base64", "pattern": BASE64_PATTERN})
            }
            Form::Float => json!({"type": ["number", "string"], "pattern": FLOAT_PATTERN}),
            // Answers write 64-bit integers as strings and the others as numbers; requests may
            // give either. A number's range is its `format`'s (OpenAPI's int32, int64, uint64)
            // or its bounds; a string's is its pattern.
            Form::Integer { low, high, format } => {
                let pattern = integer_pattern(*low, *high);
                match *format {
                    "int32" => {
                        json!({"type": ["integer", "string"], "format": "int32", "pattern": pattern})
                    }
                    "uint32" => json!({
                        "type": ["integer", "string"],
                        "minimum": 0,
                        "maximum": u32::MAX,
                        "pattern": pattern
                    }),
                    "int64" => {
                        json!({"type": ["string", "integer"], "format": "int64", "pattern": pattern})
                    }
                    _ => {
                        json!({"type": ["string", "integer"], "format": "uint64", "pattern": pattern, "minimum": 0})
                    }
                }
            }
            // By name, as answers write it, or by number, as requests may give it.
            Form::Enum(e) => json!({"$ref": format!("{SCHEMAS}{}", e.full_name())}),
            Form::Timestamp => {
                json!({"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN})
            }
            Form::Duration => json!({
                "type": "string",
                "pattern": DURATION_PATTERN,
                "description": "Seconds with an `s` suffix, e.g. `1.5s`."
            }),
            Form::FieldMask => json!({
                "type": "string",
                "pattern": FIELD_MASK_PATTERN,
                "description": "Comma-separated field paths in lowerCamelCase, e.g. `fullName,card.expiryDate`."
            }),
            Form::Struct => json!({"type": "object"}),
            Form::Empty => json!({"type": "object", "additionalProperties": false}),
            Form::AnyValue => json!({}),
            Form::List => json!({"type": "array"}),
            Form::Any => json!({
                "type": "object",
                "properties": {"@type": {"type": "string"}},
                "required": ["@type"]
            }),
            Form::Message(message) => json!({"$ref": format!("{SCHEMAS}{}", message.full_name())}),
        }
    }

    /// The refusal of `value` at `path`, saying what the form is.
    fn invalid(&self, value: &Value, path: &str) -> ApiError {
        bad_request(
            path,
            format!("{} is not a valid {}", shown(value), self.name()),
        )
    }

    /// How the mapping writes a value of this form, for error messages.
    fn name(&self) -> &'static str {
        match self {
            Form::Bool => "boolean (true or false)",
            Form::String => "string",
            Form::Bytes => "base64 string",
            Form::Float => "number",
            Form::Integer { low, high, .. }
                if *high > i128::from(u32::MAX) || *low < i128::from(i32::MIN) =>
            {
                "integer (a number or a string of digits)"
            }
            Form::Integer { .. } => "integer",
            Form::Enum(_) => "enum name",
            Form::Timestamp => "timestamp (RFC 3339, e.g. \"2025-01-31T08:00:00Z\")",
            Form::Duration => "duration (seconds with an s, e.g. \"1.5s\")",
            Form::FieldMask => "field mask",
            Form::List => "JSON array",
            Form::AnyValue => "JSON value",
            Form::Empty => "empty JSON object",
            Form::Any => "JSON object with an @type",
            Form::Struct | Form::Message(_) => "JSON object",
        }
    }
}

/// The schema of one value of `kind`.
pub(crate) fn kind_schema(kind: &Kind) -> Value {
    Form::of(kind).schema()
}

/// Whether one JSON value fits a field of `kind` in the proto3 JSON mapping.
fn check_value(kind: &Kind, value: &Value, path: &str) -> Result<(), ApiError> {
    Form::of(kind).check(value, path)
}

/// The integer a JSON number or decimal string stands for, if it is one; an unsigned kind's
/// string has no sign.
fn integer_of(value: &Value, unsigned: bool) -> Option<i128> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| {
                // 1e3 is an integer too (beyond the 64-bit ranges, out of them all).
                n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i128)
            }),
        Value::String(text) => {
            let digits = match text.strip_prefix('-') {
                Some(_) if unsigned => return None,
                Some(digits) => digits,
                None => text,
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Leading zeros aside, more digits than any range has is out of range.
            let significant = digits.trim_start_matches('0');
            if significant.len() > 39 {
                return Some(if text.starts_with('-') {
                    i128::MIN
                } else {
                    i128::MAX
                });
            }
            text.parse::<i128>().ok()
        }
        _ => None,
    }
}

/// A pattern of the decimal strings from `low` to `high` (leading zeros allowed, a `-` only
/// before a negative number).
fn integer_pattern(low: i128, high: i128) -> String {
    let positive = at_most(high.unsigned_abs());
    if low < 0 {
        let negative = at_most(low.unsigned_abs());
        format!("^(0*({positive})|-0*({negative}))$")
    } else {
        format!("^0*({positive})$")
    }
}

/// A pattern of the numbers from 0 to `max`, without leading zeros.
fn at_most(max: u128) -> String {
    let digits: Vec<u8> = max.to_string().bytes().map(|b| b - b'0').collect();
    let len = digits.len();
    let mut options = Vec::new();
    // Fewer digits.
    if len > 1 {
        options.push("[0-9]".to_owned());
    }
    if len > 2 {
        options.push(format!("[1-9][0-9]{{1,{}}}", len - 2));
    }
    // As many digits, smaller at one place and the same before it.
    for (i, digit) in digits.iter().enumerate() {
        let lowest = u8::from(i == 0 && len > 1);
        if *digit > lowest {
            let prefix: String = digits[..i].iter().map(|d| char::from(b'0' + d)).collect();
            let rest = len - i - 1;
            let place = if *digit - 1 == lowest {
                format!("{lowest}")
            } else {
                format!("[{lowest}-{}]", digit - 1)
            };
            options.push(if rest == 0 {
                format!("{prefix}{place}")
            } else {
                format!("{prefix}{place}[0-9]{{{rest}}}")
            });
        }
    }
    options.push(max.to_string());
    options.join("|")
}

/// Whether `text` is a number as the mapping writes one in a string.
fn is_float_text(text: &str) -> bool {
    if matches!(text, "NaN" | "Infinity" | "-Infinity") {
        return true;
    }
    let rest = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole)
        && (whole == "0" || !whole.starts_with('0'))
        && fraction.is_none_or(digits)
        && exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
}

/// Whether `text` is base64, standard or URL-safe, padded or not.
fn is_base64(text: &str) -> bool {
    let body = text.trim_end_matches('=');
    let padding = text.len() - body.len();
    body.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'))
        && match body.len() % 4 {
            0 => padding == 0,
            2 => padding == 0 || padding == 2,
            3 => padding <= 1,
            _ => false,
        }
}

/// Whether `text` is an RFC 3339 instant of the form the mapping takes: `T` and `Z` in capitals,
/// at most nine fractional digits, a day that exists, year 1 to 9999.
fn is_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    let fraction = match bytes.get(19) {
        Some(b'.') => bytes[20..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count(),
        _ => 0,
    };
    let zone = if fraction > 0 { 20 + fraction } else { 19 };
    let zone_ok = match &text.get(zone..) {
        Some("Z") => true,
        Some(offset) => {
            offset.len() == 6
                && matches!(offset.as_bytes()[0], b'+' | b'-')
                && offset.as_bytes()[3] == b':'
                && offset[1..3].parse::<u8>().is_ok_and(|h| h < 24)
                && offset[4..6].parse::<u8>().is_ok_and(|m| m < 60)
                && offset[1..3]
                    .bytes()
                    .chain(offset[4..6].bytes())
                    .all(|b| b.is_ascii_digit())
        }
        None => false,
    };
    fraction <= 9
        && (bytes.get(19) != Some(&b'.') || fraction > 0)
        && zone_ok
        && bytes.len() >= 20
        && bytes[..19].iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            10 => *b == b'T',
            13 | 16 => *b == b':',
            _ => b.is_ascii_digit(),
        })
        && bytes[..4] != *b"0000"
        && time::PrimitiveDateTime::parse(
            &text[..19],
            &time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        )
        .is_ok()
}

/// Whether `text` is a duration as the mapping writes one: seconds, up to nine fractional
/// digits, `s`.
fn is_duration(text: &str) -> bool {
    let Some(number) = text.strip_suffix('s') else {
        return false;
    };
    let number = number.strip_prefix('-').unwrap_or(number);
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (number, None),
    };
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction
            .is_none_or(|f| (1..=9).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()))
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
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
                if bound("minimum").is_some_and(|m| n < m)
                    || bound("maximum").is_some_and(|m| n > m)
                {
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
            json!({"@type": "type.googleapis.com/x.Y"}),
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
            if let Some(found) = pool().get_message_by_name(name) {
                kinds.push(Kind::Message(found));
            }
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
                if DynamicMessage::deserialize(wrapper.clone(), value.clone()).is_err() {
                    refused.push(format!("{}: {value}", wrapper.full_name()));
                }
            }
        }
        assert!(refused.is_empty(), "accepted but unreadable: {refused:#?}");
    }

    #[test]
    fn integer_patterns_stop_at_the_range() {
        let pattern =
            regex::Regex::new(&integer_pattern(i32::MIN.into(), i32::MAX.into())).unwrap();
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
}
