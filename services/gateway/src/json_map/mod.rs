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
pub(crate) fn integer_pattern(low: i128, high: i128) -> String {
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
mod tests;
