//! The OpenAPI 3.1 document of the REST side, generated from the same descriptors as the routes:
//! every route with its parameters, request and response schemas (proto comments as
//! descriptions), the errors, the bearer scheme with each operation's scope from its `policy`
//! option, and the request examples beside the contract (`*.examples.json`, personas).
//!
//! Schemas follow the proto3 JSON mapping the edge speaks: lowerCamelCase properties, enums by
//! name, 64-bit integers as strings, well-known types in their JSON forms.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use prost_reflect::{
    DescriptorPool, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor,
};
use prost_types::FileDescriptorProto;
use serde_json::{Map, Value, json};

use crate::auth::DISCOVERY_PATH;
use crate::json_map::{Form, SCHEMAS, kind_schema};
use crate::policy::{MethodPolicy, POLICY_OPTION};
use crate::rest::routes::{RestRoute as Route, RestTable, Segment};

/// Where the edge serves the document.
pub const DOCUMENT_PATH: &str = "/openapi.json";
/// Where the edge serves the browsable API page.
pub const DOCS_PATH: &str = "/docs";
/// The single sign-on's token endpoint, under the same base URL as the document.
pub const TOKEN_PATH: &str = "/oidc/token";

/// The errors every operation documents, with what they mean here.
const ERRORS: [(&str, &str); 8] = [
    (
        "400",
        "The request is malformed: bad JSON, an unknown field, a wrong type or an invalid value. `details` has the ErrorInfo reason and a BadRequest naming the field.",
    ),
    (
        "401",
        "No access token, or one that is invalid or expired (`TOKEN_MISSING`, `TOKEN_INVALID`, `TOKEN_EXPIRED`).",
    ),
    (
        "403",
        "The token lacks the operation's scope (`SCOPE_MISSING`).",
    ),
    ("404", "Nothing is found for the request."),
    (
        "413",
        "The request is above the edge's size limit (`REQUEST_TOO_LARGE`).",
    ),
    (
        "429",
        "Too many calls or resources exhausted; retry after a pause.",
    ),
    (
        "503",
        "A service or its upstream is unavailable; retrying is safe.",
    ),
    ("504", "The call's deadline passed."),
];

/// One request example of an RPC, as the contract's example files give it.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    /// `package.Service`.
    pub service: String,
    /// `Method`.
    pub method: String,
    /// Short key, usually the persona's.
    pub name: String,
    /// One line on what it shows.
    pub summary: String,
    /// The request messages in the proto3 JSON mapping: one for a unary call, one per line for
    /// a client stream.
    pub requests: Vec<Value>,
    /// Top-level fields of the answer that differ from call to call (a token, new keys).
    pub varies: Vec<String>,
}

/// Errors in the contract's example files.
#[derive(Debug, thiserror::Error)]
#[error("request examples: {0}")]
pub struct ExampleError(String);

/// Every request example of the contract ([`sandbox06_proto::EXAMPLES`]).
pub fn examples() -> Result<Vec<Example>, ExampleError> {
    let mut all = Vec::new();
    for text in sandbox06_proto::EXAMPLES {
        let file: Map<String, Value> = serde_json::from_str(text)
            .map_err(|e| ExampleError(format!("a file is not a JSON object: {e}")))?;
        for (service, methods) in file {
            let methods = methods
                .as_object()
                .ok_or_else(|| ExampleError(format!("{service}: not an object of methods")))?;
            for (method, list) in methods {
                let list = list
                    .as_array()
                    .ok_or_else(|| ExampleError(format!("{service}.{method}: not a list")))?;
                for entry in list {
                    all.push(example(&service, method, entry)?);
                }
            }
        }
    }
    Ok(all)
}

fn example(service: &str, method: &str, entry: &Value) -> Result<Example, ExampleError> {
    let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_owned);
    let name = text("name")
        .ok_or_else(|| ExampleError(format!("{service}.{method}: an example has no name")))?;
    let requests = match (entry.get("request"), entry.get("requests")) {
        (Some(one @ Value::Object(_)), None) => vec![one.clone()],
        (None, Some(Value::Array(many))) if many.iter().all(Value::is_object) => many.clone(),
        _ => {
            return Err(ExampleError(format!(
                "{service}.{method} {name}: needs a \"request\" object or a \"requests\" list of objects"
            )));
        }
    };
    let varies = entry
        .get("varies")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(Example {
        service: service.to_owned(),
        method: method.to_owned(),
        summary: text("summary").unwrap_or_default(),
        name,
        requests,
        varies,
    })
}

/// The leading comment of the element at `path` in `file`, as Markdown: lines of a paragraph
/// joined, paragraphs kept.
fn comment(file: &FileDescriptorProto, path: &[i32]) -> Option<String> {
    let location = file
        .source_code_info
        .as_ref()?
        .location
        .iter()
        .find(|location| location.path == path)?;
    let raw = location.leading_comments.as_deref()?;
    let mut out = String::new();
    let mut blank = false;
    for line in raw.lines().map(str::trim) {
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push_str("\n\n");
            blank = false;
        } else if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(line);
    }
    (!out.is_empty()).then_some(out)
}

fn message_comment(message: &MessageDescriptor) -> Option<String> {
    comment(message.parent_file_descriptor_proto(), message.path())
}

fn field_comment(field: &FieldDescriptor) -> Option<String> {
    comment(field.parent_file().file_descriptor_proto(), field.path())
}

fn method_comment(method: &MethodDescriptor) -> Option<String> {
    comment(method.parent_file().file_descriptor_proto(), method.path())
}

/// The first sentence of `text`.
fn first_sentence(text: &str) -> String {
    let end = text
        .char_indices()
        .find(|(i, c)| {
            matches!(c, '.' | ':' | ';')
                && text[i + 1..].chars().next().is_none_or(char::is_whitespace)
        })
        .map_or(text.len(), |(i, _)| i);
    text[..end].to_owned()
}

/// The schema of `field` in a JSON body, with its comment: the proto3 JSON mapping takes `null`
/// for any field (its default).
fn field_schema(field: &FieldDescriptor) -> Value {
    let mut schema = nullable(value_schema(field));
    if let (Some(text), Value::Object(object)) = (field_comment(field), &mut schema) {
        object.insert("description".into(), Value::String(text));
    }
    schema
}

/// The schema of `field`'s value: a map, a list or one value.
fn value_schema(field: &FieldDescriptor) -> Value {
    if field.is_map() {
        let value = match field.kind() {
            Kind::Message(entry) => entry.map_entry_value_field().kind(),
            other => other,
        };
        json!({"type": "object", "additionalProperties": kind_schema(&value)})
    } else if field.is_list() {
        json!({"type": "array", "items": kind_schema(&field.kind())})
    } else {
        kind_schema(&field.kind())
    }
}

/// `schema`, or `null`.
fn nullable(mut schema: Value) -> Value {
    match schema.get("type").cloned() {
        Some(Value::String(kind)) => {
            schema["type"] = json!([kind, "null"]);
            schema
        }
        Some(Value::Array(mut kinds)) => {
            kinds.push(json!("null"));
            schema["type"] = Value::Array(kinds);
            schema
        }
        _ if schema.get("$ref").is_some() => json!({"anyOf": [schema, {"type": "null"}]}),
        _ => schema,
    }
}

/// Whether `field` is marked `(google.api.field_behavior) = REQUIRED`.
fn is_required(field: &FieldDescriptor) -> bool {
    const REQUIRED: i32 = 2;
    let Some(extension) = field
        .parent_pool()
        .get_extension_by_name("google.api.field_behavior")
    else {
        return false;
    };
    let options = field.options();
    if !options.has_extension(&extension) {
        return false;
    }
    options
        .get_extension(&extension)
        .as_list()
        .is_some_and(|list| list.iter().any(|v| v.as_enum_number() == Some(REQUIRED)))
}

/// The reference year the document describes ID numbers for: this year in Vietnam (UTC+7), the
/// year of the suite's default reference date.
pub(crate) fn today_in_vietnam() -> time::Date {
    let offset = time::UtcOffset::from_hms(7, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::now_utc().to_offset(offset).date()
}

/// The pattern of a personal ID number the services take as of `reference_year`: 12 digits, a
/// province code that exists (or a country code above 096), a century digit of a birth year
/// that is not after the reference year.
pub fn citizen_id_pattern(reference_year: i32) -> String {
    let valid = |code: u16| {
        sandbox06_vn::CitizenId::parse_field(&format!("{code:03}000000001"), "id").is_ok()
    };
    let mut provinces: Vec<String> = (1..=96u16)
        .filter(|code| valid(*code))
        .map(|code| format!("{code:03}"))
        .collect();
    // Codes above the provinces' stand for countries of birth registration abroad.
    if (97..=999u16).all(valid) {
        provinces.push("09[7-9]|[1-9][0-9]{2}".to_owned());
    } else {
        provinces.extend(
            (97..=999u16)
                .filter(|code| valid(*code))
                .map(|code| format!("{code:03}")),
        );
    }
    // Birth years by century digit pair: 0/1 1900s, 2/3 2000s, 4/5 2100s; only those up to the
    // reference year.
    let mut years = Vec::new();
    for (digits, century) in [("[01]", 1900), ("[23]", 2000), ("[45]", 2100)] {
        let last = reference_year - century;
        if last < 0 {
            continue;
        }
        if last >= 99 {
            years.push(format!("{digits}[0-9]{{2}}"));
            continue;
        }
        let (tens, units) = (last / 10, last % 10);
        let mut forms = Vec::new();
        if tens > 0 {
            forms.push(format!("[0-{}][0-9]", tens - 1));
        }
        forms.push(format!("{tens}[0-{units}]"));
        years.push(format!("{digits}({})", forms.join("|")));
    }
    format!("^({})({})[0-9]{{6}}$", provinces.join("|"), years.join("|"))
}

/// The shape of a card's QR payload the services take: 7 fields (a chip CCCD) or 11 whose last
/// four are empty (a Căn cước), each trimmed: an ID number, an empty or 9-digit old number, a
/// name, a ddMMyyyy date of birth, `Nam` or `Nữ`, an address, a ddMMyyyy issue date; an optional
/// CR and/or LF at the end. (The services also take the ID number again as the old number, as a
/// 12-digit CMND's card printed it; the document leaves that form out.)
fn qr_pattern(reference_year: i32) -> String {
    let id = citizen_id_pattern(reference_year);
    let id = id.trim_start_matches('^').trim_end_matches('$');
    let plain = "[^|\\u0000-\\u001f\\u007f-\\u009f\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]";
    let date = "(0[1-9]|[12][0-9]|3[01])(0[1-9]|1[0-2])(19[0-9]{2}|2[01][0-9]{2})";
    let blank = "[ \\t]*";
    format!(
        "^{blank}{id}{blank}\\|{blank}([0-9]{{9}})?{blank}\\|{blank}{plain}*[^|\\s\\u0000-\\u001f\\u007f-\\u009f]{plain}*\\|{blank}{date}{blank}\\|{blank}(Nam|Nữ){blank}\\|{plain}*\\|{blank}{date}{blank}(\\|{blank}\\|{blank}\\|{blank}\\|{blank})?\\r?\\n?$"
    )
}

/// Text the services take in a claimed name or address: no control or bidirectional-override
/// characters (`sandbox06_vn::forbidden_char`).
const PLAIN_TEXT: &str =
    "^[^\\u0000-\\u001f\\u007f-\\u009f\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$";

/// What the services check of a request field beyond its proto type, as JSON Schema keywords to
/// add to the field's schema: patterns, lengths, ranges, values. The OpenAPI tests send requests
/// at each of these bounds and check that none is refused.
fn field_rules(message: &str, field: &str, reference: time::Date) -> Option<Value> {
    let reference_year = reference.year();
    let rule = match (message, field) {
        (
            "sandbox06.citizen.v1.GetCitizenRequest"
            | "sandbox06.citizen.v1.VerifyCitizenRequest"
            | "sandbox06.citizen.v1.MatchCitizensRequest",
            "citizen_id",
        ) => json!({
            "pattern": citizen_id_pattern(reference_year),
            "minLength": 12,
            "maxLength": 12,
            "description": "Personal ID number, 12 digits: a province code of birth registration (001–096 as they exist, or above for a country), the century and sex digit, the birth year's last two digits (not after this year), and a serial.",
        }),
        (
            "sandbox06.citizen.v1.VerifyCitizenRequest"
            | "sandbox06.citizen.v1.MatchCitizensRequest",
            "full_name",
        ) => json!({"maxLength": 200, "pattern": PLAIN_TEXT}),
        (
            "sandbox06.citizen.v1.VerifyCitizenRequest"
            | "sandbox06.citizen.v1.MatchCitizensRequest",
            "date_of_birth",
        ) => {
            // Not after the reference date: an earlier year, or an earlier month of its year,
            // or an earlier day of its month (a null date claims nothing).
            let (year, month, day) = (
                reference.year(),
                u8::from(reference.month()),
                reference.day(),
            );
            json!({"allOf": [{"anyOf": [
                {"properties": {"year": {"maximum": year - 1}}},
                {"properties": {"year": {"enum": [year]}, "month": {"maximum": month - 1}}},
                {"properties": {"year": {"enum": [year]}, "month": {"enum": [month]}, "day": {"maximum": day}}},
            ]}]})
        }
        ("sandbox06.citizen.v1.VerifyCitizenRequest", "address") => {
            json!({"maxLength": 500, "pattern": PLAIN_TEXT})
        }
        ("sandbox06.citizen.v1.VerifyCitizenRequest", "old_id_number") => {
            json!({"pattern": "^\\s*([0-9]{9})?\\s*$", "examples": ["264123456"], "description": "The old 9-digit CMND number, when the document shows one; empty when it shows none."})
        }
        ("sandbox06.citizen.v1.VerifyCardQrRequest", "payload") => json!({
            "maxLength": 1024,
            "pattern": qr_pattern(reference_year),
            "description": "The QR text exactly as scanned: 7 fields separated by \"|\" (chip CCCD), or the same 7 followed by four empty ones, 11 fields (Căn cước); a trailing CR and/or LF is ignored. Beyond the pattern, the fields must agree: the dates are days that exist, the date of birth's year and the sex are the ones the ID number encodes, and the card is not issued before the birth.",
        }),
        ("sandbox06.sso.v1.IssueTokenRequest", "alg") => {
            json!({"enum": ["", "RS256", "ES256"], "description": "The signing algorithm: RS256 (the default, when empty) or ES256."})
        }
        ("sandbox06.sso.v1.IssueTokenRequest", "lifetime_seconds") => json!({
            "type": ["integer", "string", "null"],
            "minimum": -86400,
            "maximum": 86400,
            "pattern": "^-?([0-9]{1,4}|[1-7][0-9]{4}|8[0-5][0-9]{3}|86[0-3][0-9]{2}|86400)$",
            "description": "Lifetime in seconds, at most a day either way; negative: already expired; 0 or absent: the provider's default.",
        }),
        _ => return None,
    };
    Some(rule)
}

/// Merges `rule`'s keywords into `schema` (a `description` of the rule replaces the field's).
fn with_rule(mut schema: Value, rule: Option<Value>) -> Value {
    let (Some(Value::Object(rule)), Value::Object(object)) = (rule, &mut schema) else {
        return schema;
    };
    if rule.contains_key("type") {
        object.remove("format");
    }
    for (key, value) in rule {
        object.insert(key, value);
    }
    schema
}

/// The Date message in requests and answers: a real calendar day (checked against the month),
/// the three parts given.
fn date_schema(description: Option<String>) -> Value {
    let leap_years: Vec<i32> = (1900..=2199)
        .filter(|y| y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
        .collect();
    let mut schema = json!({
        // A day that exists: 31 days in some months, 30 in others, 29 February in leap years.
        "allOf": [{"anyOf": [
            {"properties": {"month": {"enum": [1, 3, 5, 7, 8, 10, 12]}}},
            {"properties": {"month": {"enum": [4, 6, 9, 11]}, "day": {"maximum": 30}}},
            {"properties": {"month": {"enum": [2]}, "day": {"maximum": 28}}},
            {"properties": {"month": {"enum": [2]}, "day": {"enum": [29]}, "year": {"enum": leap_years}}},
        ]}],
        "type": "object",
        "properties": {
            "year": {"type": "integer", "minimum": 1900, "maximum": 2199, "description": "Year, 1900–2199."},
            "month": {"type": "integer", "minimum": 1, "maximum": 12, "description": "Month of year, 1–12."},
            "day": {"type": "integer", "minimum": 1, "maximum": 31, "description": "Day of month, 1–31 (checked against the month)."},
        },
        "required": ["year", "month", "day"],
        "additionalProperties": false,
    });
    let mut text = description.unwrap_or_default();
    text.push_str("\n\nA day that exists: 31 April or 29 February of a common year is refused.");
    schema["description"] = Value::String(text.trim_start().to_owned());
    schema
}

/// What a message demands as a whole: VerifyCitizen, and each record of MatchCitizens, claims at
/// least one field besides the ID number (a blank name or `SEX_UNSPECIFIED` claims nothing).
fn message_rules(message: &MessageDescriptor, schema: &mut Value) {
    let text = json!({"type": "string", "pattern": "\\S"});
    let date = json!({"type": "object"});
    let sex = json!({"not": {"enum": ["SEX_UNSPECIFIED", 0]}, "type": ["string", "integer"]});
    let fields: &[(&str, &Value)] = match message.full_name() {
        "sandbox06.citizen.v1.VerifyCitizenRequest" => &[
            ("fullName", &text),
            ("dateOfBirth", &date),
            ("sex", &sex),
            ("address", &text),
            ("cardIssueDate", &date),
            ("oldIdNumber", &text),
        ],
        // Each record of a bulk match: the number, and at least one field to compare.
        "sandbox06.citizen.v1.MatchCitizensRequest" => {
            schema["required"] = json!(["citizenId"]);
            schema["properties"]["citizenId"]["type"] = json!("string");
            &[("fullName", &text), ("dateOfBirth", &date), ("sex", &sex)]
        }
        _ => return,
    };
    let claims: Vec<Value> = fields
        .iter()
        .map(|(name, rule)| json!({"required": [name], "properties": {*name: rule}}))
        .collect();
    // Inside `allOf`: an importer that reads the first of a top-level `anyOf` as the whole
    // message (Postman's) would lose the other fields.
    schema["allOf"] = json!([{"anyOf": claims}]);
}

/// The schema of a message: its fields but those in `skip`, no others (the proto3 JSON parser
/// refuses unknown fields), the required ones listed.
fn message_schema(
    message: &MessageDescriptor,
    skip: &BTreeSet<String>,
    reference: time::Date,
) -> Value {
    if message.full_name() == "sandbox06.types.v1.Date" {
        return date_schema(message_comment(message));
    }
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in message.fields() {
        if skip.contains(field.name()) {
            continue;
        }
        let mut schema = field_schema(&field);
        if is_required(&field) {
            // Set, and not to its default.
            required.push(Value::String(field.json_name().to_owned()));
            schema = value_schema(&field);
            if field.kind() == Kind::String && !field.is_list() {
                schema["minLength"] = json!(1);
            }
            if let Some(text) = field_comment(&field) {
                schema["description"] = Value::String(text);
            }
        }
        let schema = with_rule(
            schema,
            field_rules(message.full_name(), field.name(), reference),
        );
        properties.insert(field.json_name().to_owned(), schema);
    }
    let mut schema =
        json!({"type": "object", "properties": properties, "additionalProperties": false});
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    let mut description = message_comment(message).unwrap_or_default();
    for oneof in message.oneofs().filter(|o| !o.is_synthetic()) {
        let names: Vec<String> = oneof
            .fields()
            .map(|f| format!("`{}`", f.json_name()))
            .collect();
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        description.push_str(&format!("At most one of {} is set.", names.join(", ")));
    }
    if !description.is_empty() {
        schema["description"] = Value::String(description);
    }
    message_rules(message, &mut schema);
    schema
}

pub(crate) fn enum_schema(e: &EnumDescriptor) -> Value {
    let names: Vec<Value> = e
        .values()
        .map(|v| Value::String(v.name().to_owned()))
        .collect();
    let mut description = comment(e.parent_file_descriptor_proto(), e.path()).unwrap_or_default();
    for value in e.values() {
        let text =
            comment(value.parent_file().file_descriptor_proto(), value.path()).unwrap_or_default();
        if !description.is_empty() {
            description.push('\n');
        }
        description.push_str(&format!("- `{}`: {text}", value.name()));
    }
    let numbers: Vec<Value> = e.values().map(|v| json!(v.number())).collect();
    // By name, as answers write it, or by number, as requests may give it.
    json!({
        "anyOf": [
            {"type": "string", "enum": names},
            {"type": "integer", "enum": numbers},
        ],
        "description": description,
    })
}

/// Every message and enum reachable from `roots`, schemas included, by full name.
fn schemas(
    roots: impl IntoIterator<Item = MessageDescriptor>,
    reference: time::Date,
) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut queue: VecDeque<MessageDescriptor> = roots.into_iter().collect();
    let mut seen = HashSet::new();
    while let Some(message) = queue.pop_front() {
        if !seen.insert(message.full_name().to_owned()) || Form::is_well_known(&message) {
            continue;
        }
        for field in message.fields() {
            let kind = match field.kind() {
                Kind::Message(entry) if field.is_map() => entry.map_entry_value_field().kind(),
                other => other,
            };
            match kind {
                Kind::Message(inner) => queue.push_back(inner),
                Kind::Enum(e) => {
                    out.entry(e.full_name().to_owned())
                        .or_insert_with(|| enum_schema(&e));
                }
                _ => {}
            }
        }
        out.insert(
            message.full_name().to_owned(),
            message_schema(&message, &BTreeSet::new(), reference),
        );
    }
    out
}

/// The error body every failure answers with.
fn status_schema() -> Value {
    json!({
        "type": "object",
        "description": "A failed call: the google.rpc.Status in the Google API error shape, the same as the gRPC status of the call.",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "integer", "description": "The HTTP status."},
                    "status": {"type": "string", "description": "The gRPC code's name, e.g. `INVALID_ARGUMENT`."},
                    "message": {"type": "string", "description": "What is wrong and how to fix it."},
                    "details": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "@type": {"type": "string"},
                                "reason": {"type": "string", "description": "ErrorInfo: the stable reason, e.g. `CITIZEN_NOT_FOUND`."},
                                "domain": {"type": "string"},
                                "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                                "fieldViolations": {
                                    "type": "array",
                                    "description": "BadRequest: the offending fields.",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "field": {"type": "string"},
                                            "description": {"type": "string"},
                                            "reason": {"type": "string"}
                                        }
                                    }
                                }
                            },
                            "required": ["@type"]
                        }
                    }
                },
                "required": ["code", "status", "message"]
            }
        },
        "required": ["error"]
    })
}

/// The field at dotted `path` of `message`.
fn field_at(message: &MessageDescriptor, path: &str) -> Option<FieldDescriptor> {
    let mut current = message.clone();
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let field = current
            .get_field_by_name(part)
            .or_else(|| current.get_field_by_json_name(part))?;
        if parts.peek().is_none() {
            return Some(field);
        }
        current = match field.kind() {
            Kind::Message(inner) => inner,
            _ => return None,
        };
    }
    None
}

/// The value at dotted `path` (proto or JSON names) of an example request.
fn example_value<'a>(
    request: &'a Value,
    message: &MessageDescriptor,
    path: &str,
) -> Option<&'a Value> {
    let mut value = request;
    let mut current = message.clone();
    for part in path.split('.') {
        let field = current
            .get_field_by_name(part)
            .or_else(|| current.get_field_by_json_name(part))?;
        value = value
            .get(field.json_name())
            .or_else(|| value.get(field.name()))?;
        if let Kind::Message(inner) = field.kind() {
            current = inner;
        }
    }
    Some(value)
}

/// The text of an example value in a path or query.
fn as_text(value: &Value) -> Value {
    match value {
        Value::String(_) | Value::Array(_) => value.clone(),
        other => Value::String(other.to_string()),
    }
}

/// The query parameters of a message's fields, flattened with dots (`a.b`), for fields that
/// take a text value: scalars, enums, repeated scalars and the text-like well-known types.
fn query_fields(
    message: &MessageDescriptor,
    prefix: &str,
    bound: &BTreeSet<String>,
    depth: usize,
    out: &mut Vec<(String, FieldDescriptor)>,
) {
    for field in message.fields() {
        let path = format!("{prefix}{}", field.name());
        if bound.contains(&path) || field.is_map() {
            continue;
        }
        match field.kind() {
            Kind::Message(inner) if !Form::is_well_known(&inner) => {
                if !field.is_list() && depth < 3 {
                    query_fields(&inner, &format!("{path}."), bound, depth + 1, out);
                }
            }
            _ => out.push((path, field)),
        }
    }
}

/// The document's content, generated once per set of routes; [`ApiDocument::for_server`] places
/// it at a base URL.
#[derive(Clone, Debug)]
pub struct ApiDocument {
    document: Value,
    single_sign_on: bool,
    table: RestTable,
    reference: time::Date,
}

impl ApiDocument {
    /// The document of every REST route of `services` in `pool`; `single_sign_on` says whether
    /// the provider's discovery document is served at the same base URL.
    pub fn new(pool: &DescriptorPool, services: &HashSet<String>, single_sign_on: bool) -> Self {
        Self::from_table(
            &RestTable::from_pool(pool, services),
            single_sign_on,
            today_in_vietnam(),
        )
    }

    /// The document for a suite whose reference date is `reference` (what ID numbers and
    /// dates of birth it takes depend on it).
    pub fn at(mut self, reference: time::Date) -> Self {
        if reference != self.reference {
            self = Self::from_table(&self.table, self.single_sign_on, reference);
        }
        self
    }

    pub(crate) fn from_table(
        table: &RestTable,
        single_sign_on: bool,
        reference: time::Date,
    ) -> Self {
        let examples = examples().unwrap_or_else(|error| {
            tracing::warn!(%error, "request examples left out of the API document");
            Vec::new()
        });
        let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
        let mut tags: BTreeMap<String, Value> = BTreeMap::new();
        let mut roots = Vec::new();
        let mut scopes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for route in table.routes() {
            let method = &route.descriptor;
            let service = method.parent_service();
            let tag = service.name().to_owned();
            tags.entry(tag.clone()).or_insert_with(|| {
                let mut entry = json!({"name": tag, "x-grpc-service": service.full_name()});
                if let Some(text) = comment(service.parent_file_descriptor_proto(), service.path())
                {
                    entry["description"] = Value::String(text);
                }
                entry
            });
            roots.push(route.input.clone());
            roots.push(route.output.clone());
            let policy = policy_of(method);
            if let Some(scope) = policy
                .as_ref()
                .filter(|p| !p.public && !p.scope.is_empty())
                .map(|p| p.scope.clone())
            {
                scopes.entry(scope).or_default().push(format!(
                    "{}.{}",
                    service.name(),
                    method.name()
                ));
            }
            let mine: Vec<&Example> = examples
                .iter()
                .filter(|e| e.service == service.full_name() && e.method == method.name())
                .collect();
            let operation = operation(route, policy.as_ref(), &mine, reference);
            paths
                .entry(openapi_path(route))
                .or_default()
                .insert(route.method.as_str().to_ascii_lowercase(), operation);
        }
        let mut components = schemas(roots, reference);
        components.insert("google.rpc.Status".to_owned(), status_schema());
        let mut responses = Map::new();
        for (code, text) in ERRORS {
            responses.insert(
                format!("Error{code}"),
                json!({
                    "description": text,
                    "content": {"application/json": {"schema": {"$ref": format!("{SCHEMAS}google.rpc.Status")}}}
                }),
            );
        }
        let scope_text: Map<String, Value> = scopes
            .iter()
            .map(|(scope, methods)| {
                (
                    scope.clone(),
                    Value::String(format!("Calls {}", methods.join(", "))),
                )
            })
            .collect();
        let mut security = vec![json!({"bearer": []})];
        let mut security_schemes = json!({
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "An access token of the single sign-on: `sandbox06 token --client demo-hospital`, or any OAuth 2.0 flow of a registered client. Each operation names the scope it needs.",
            }
        });
        if single_sign_on {
            // First, as importers take the first scheme they can use: Postman gets a token with
            // it ("Get New Access Token"), Swagger UI too.
            security.insert(0, json!({"oauth2": []}));
            security.push(json!({"sso": []}));
            security_schemes["oauth2"] = json!({
                "type": "oauth2",
                "description": "The single sign-on's client-credentials grant, for a system: client `sandbox06-admin` (secret `sandbox06-admin-secret`) may have every scope listed; a demo client only its own (`demo-hospital`: `citizen.read citizen.verify citizen.match`).",
                "flows": {
                    "clientCredentials": {
                        "tokenUrl": TOKEN_PATH,
                        "scopes": scope_text.clone(),
                    },
                },
            });
            security_schemes["sso"] = json!({
                "type": "openIdConnect",
                "openIdConnectUrl": DISCOVERY_PATH,
                "description": "The suite's OpenID Connect provider (VNeID single sign-on): authorization code with PKCE for a person, client credentials for a system.",
            });
        }
        let document = json!({
            "openapi": "3.1.0",
            "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
            "info": {
                "title": "sandbox06",
                "version": env!("CARGO_PKG_VERSION"),
                "summary": "Local sandbox of Vietnam's Project 06 identity integrations, with synthetic citizens.",
                "description": INFO,
                "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
            },
            "servers": [{"url": "http://127.0.0.1:4606"}],
            "tags": tags.into_values().collect::<Vec<_>>(),
            "security": security,
            "paths": paths,
            "components": {
                "schemas": components,
                "responses": responses,
                "securitySchemes": security_schemes,
                "x-scopes": scope_text,
            },
        });
        Self {
            document,
            single_sign_on,
            table: table.clone(),
            reference,
        }
    }

    /// The document with `base` (such as `http://127.0.0.1:4606`) as its server, and the
    /// discovery URL of the single sign-on under it.
    pub fn for_server(&self, base: &str) -> Value {
        let base = base.trim_end_matches('/');
        let mut document = self.document.clone();
        document["servers"] = json!([{"url": base, "description": "the sandbox06 edge"}]);
        if self.single_sign_on {
            document["components"]["securitySchemes"]["sso"]["openIdConnectUrl"] =
                Value::String(format!("{base}{DISCOVERY_PATH}"));
            document["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] =
                Value::String(format!("{base}{TOKEN_PATH}"));
        }
        document
    }
}

const INFO: &str = "Every RPC of the suite as REST/JSON, at the route its proto declares (`google.api.http`), on the same port as gRPC, with the same tokens, policies, limits and errors.\n\n\
- **Tokens**: `Authorization: Bearer <access token>` of the single sign-on; each operation names its scope. `sandbox06 token --client demo-hospital` prints one.\n\
- **JSON**: the canonical proto3 JSON mapping: lowerCamelCase fields (snake_case is accepted too), enums by name, 64-bit integers as strings, `read_mask` as a comma-separated query parameter.\n\
- **Errors**: the `google.rpc.Status` as JSON with the HTTP status of its code; `details` carry the ErrorInfo reason and, for bad input, the offending field.\n\
- **Streams**: client-streaming RPCs take NDJSON (`application/x-ndjson`, one request per line) and answer NDJSON, one result per line, in order.\n\
- **Personas**: the examples use the hand-written personas (`sandbox06 personas`).\n\n\
The same API is served over gRPC (with reflection) and gRPC-Web on this port.";

fn policy_of(method: &MethodDescriptor) -> Option<MethodPolicy> {
    let extension = method.parent_pool().get_extension_by_name(POLICY_OPTION)?;
    let options = method.options();
    if !options.has_extension(&extension) {
        return None;
    }
    let value = options.get_extension(&extension);
    let message = value.as_message()?;
    message.transcode_to::<MethodPolicy>().ok()
}

/// The JSON paths of `message`'s fields, nested through single message fields (`card.expiryDate`),
/// as a read mask names them.
fn field_paths(message: &MessageDescriptor, prefix: &str, depth: usize, out: &mut Vec<String>) {
    // Every field, `pre2025` too: the service takes a field mask's JSON form of a name that
    // does not survive the lowerCamelCase round trip (`pre_2025`).
    for field in message.fields() {
        let path = format!("{prefix}{}", field.json_name());
        out.push(path.clone());
        if let Kind::Message(inner) = field.kind()
            && !field.is_list()
            && !field.is_map()
            && depth < 4
        {
            field_paths(&inner, &format!("{path}."), depth + 1, out);
        }
    }
}

/// The schema of a read mask of `output`'s record (its one message field, or itself): paths of
/// its fields only, comma-separated, each at most once.
fn mask_schema(output: &MessageDescriptor) -> Value {
    let mut fields = output.fields();
    let record = match (fields.next().map(|f| f.kind()), fields.next()) {
        (Some(Kind::Message(inner)), None) => inner,
        _ => output.clone(),
    };
    let mut paths = Vec::new();
    field_paths(&record, "", 0, &mut paths);
    // Longest first, so that `card` does not stop a match of `card.expiryDate`.
    paths.sort_by_key(|p| std::cmp::Reverse(p.len()));
    let one = paths
        .iter()
        .map(|p| p.replace('.', "\\."))
        .collect::<Vec<_>>()
        .join("|");
    json!({
        "type": "string",
        "pattern": format!("^(({one})(,({one}))*)?$"),
        "description": format!("Comma-separated paths of {} fields in lowerCamelCase, e.g. `fullName,card.expiryDate`; every field when empty.", record.name()),
    })
}

/// The route's path in OpenAPI's templating.
fn openapi_path(route: &Route) -> String {
    let mut path = String::new();
    for segment in &route.segments {
        path.push('/');
        match segment {
            Segment::Literal(text) => path.push_str(text),
            Segment::Variable(field) | Segment::Rest(field) => {
                path.push('{');
                path.push_str(field);
                path.push('}');
            }
        }
    }
    if let Some(verb) = &route.verb {
        path.push(':');
        path.push_str(verb);
    }
    path
}

fn operation(
    route: &Route,
    policy: Option<&MethodPolicy>,
    examples: &[&Example],
    reference: time::Date,
) -> Value {
    let method = &route.descriptor;
    let service = method.parent_service();
    let description = method_comment(method).unwrap_or_default();
    let mut op = Map::new();
    op.insert("tags".into(), json!([service.name()]));
    op.insert(
        "operationId".into(),
        Value::String(format!("{}_{}", service.name(), method.name())),
    );
    op.insert(
        "summary".into(),
        Value::String(if description.is_empty() {
            method.name().to_owned()
        } else {
            first_sentence(&description)
        }),
    );
    let mut text = description.clone();
    let public = policy.is_some_and(|p| p.public);
    let scope = policy
        .filter(|p| !p.public && !p.scope.is_empty())
        .map(|p| p.scope.clone());
    if let Some(scope) = &scope {
        text.push_str(&format!("\n\nNeeds a token with the scope `{scope}`."));
    }
    if policy.is_some_and(|p| p.personal_data) {
        text.push_str(
            "\n\nThe answer carries personal data (Decree 13/2023): released only to an authorised caller, masked in logs and traces.",
        );
    }
    text.push_str(&format!(
        "\n\ngRPC: `{}`.",
        route.grpc_path.trim_start_matches('/')
    ));
    op.insert("description".into(), Value::String(text));
    op.insert(
        "x-grpc-method".into(),
        Value::String(route.grpc_path.clone()),
    );
    if let Some(scope) = &scope {
        op.insert("x-sandbox06-scope".into(), Value::String(scope.clone()));
    }
    // Every other operation takes the document's security (a token of the single sign-on),
    // which importers such as Postman set once on the collection; the scope each operation needs
    // is in its description and `x-sandbox06-scope`.
    if public {
        op.insert("security".into(), json!([]));
    }

    // Parameters: the path's variables, then (without a whole-message body) the query.
    let mut bound = BTreeSet::new();
    let mut parameters = Vec::new();
    for segment in &route.segments {
        let (Segment::Variable(path) | Segment::Rest(path)) = segment else {
            continue;
        };
        bound.insert(path.clone());
        let field = field_at(&route.input, path);
        let mut schema = field.as_ref().map_or_else(
            || json!({"type": "string"}),
            |f| {
                let mut schema = kind_schema(&f.kind());
                if f.kind() == Kind::String {
                    schema["minLength"] = json!(1);
                }
                with_rule(
                    schema,
                    field_rules(f.parent_message().full_name(), f.name(), reference),
                )
            },
        );
        let mut parameter = json!({
            "name": path,
            "in": "path",
            "required": true,
        });
        if let Some(text) = field.as_ref().and_then(field_comment) {
            parameter["description"] = Value::String(text);
        }
        add_examples(&mut parameter, examples, |request| {
            example_value(request, &route.input, path).map(as_text)
        });
        // The first example is the value an importer fills in (Postman makes a variable of a
        // path parameter inside a segment, `{citizen_id}:verify`, and gives it this value).
        if let Some(first) = parameter["examples"]
            .as_object()
            .and_then(|all| all.values().next())
            .map(|example| example["value"].clone())
        {
            schema["default"] = first.clone();
            schema["examples"] = json!([first]);
        }
        if let Value::Object(object) = &mut schema {
            object.remove("description");
        }
        parameter["schema"] = schema;
        parameters.push(parameter);
    }
    if let Some(body) = &route.body
        && body != "*"
    {
        bound.insert(body.clone());
    }
    if route.body.as_deref() != Some("*") && !method.is_client_streaming() {
        let mut fields = Vec::new();
        query_fields(&route.input, "", &bound, 0, &mut fields);
        for (path, field) in fields {
            let schema = match field.kind() {
                // A read mask selects fields of what the call answers: only their paths.
                Kind::Message(mask) if mask.full_name() == "google.protobuf.FieldMask" => {
                    mask_schema(&route.output)
                }
                _ => with_rule(
                    value_schema(&field),
                    field_rules(field.parent_message().full_name(), field.name(), reference),
                ),
            };
            let mut parameter = json!({
                "name": path,
                "in": "query",
                "schema": schema,
            });
            if is_required(&field) {
                parameter["required"] = Value::Bool(true);
            }
            if field.is_list() {
                parameter["explode"] = Value::Bool(true);
            }
            if let Some(text) = field_comment(&field) {
                parameter["description"] = Value::String(text);
            }
            add_examples(&mut parameter, examples, |request| {
                example_value(request, &route.input, &path).map(as_text)
            });
            parameters.push(parameter);
        }
    }
    if !parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(parameters));
    }

    // The body.
    let top_bound: BTreeSet<String> = bound.iter().filter(|p| !p.contains('.')).cloned().collect();
    if method.is_client_streaming() {
        let mut content = json!({
            "schema": {"type": "string", "contentMediaType": "application/x-ndjson", "description": format!("NDJSON: one {} per line.", route.input.name())},
            "x-line-schema": {"$ref": format!("{SCHEMAS}{}", route.input.full_name())},
        });
        let lines: Map<String, Value> = examples
            .iter()
            .map(|e| {
                let text: Vec<String> = e.requests.iter().map(Value::to_string).collect();
                (
                    e.name.clone(),
                    json!({"summary": e.summary, "value": text.join("\n") + "\n"}),
                )
            })
            .collect();
        if !lines.is_empty() {
            content["examples"] = Value::Object(lines);
        }
        default_from_example(&mut content);
        op.insert(
            "requestBody".into(),
            json!({"required": false, "content": {"application/x-ndjson": content}}),
        );
    } else if let Some(body) = &route.body {
        let schema = if body == "*" {
            message_schema(&route.input, &top_bound, reference)
        } else {
            field_at(&route.input, body).map_or_else(|| json!({}), |f| field_schema(&f))
        };
        let demands_content = schema.get("allOf").is_some();
        let mut content = json!({"schema": schema});
        add_examples(&mut content, examples, |request| {
            if body == "*" {
                let mut value = request.clone();
                if let Value::Object(object) = &mut value {
                    for path in &top_bound {
                        if let Some(field) = route.input.get_field_by_name(path) {
                            object.remove(field.json_name());
                            object.remove(field.name());
                        }
                    }
                }
                Some(value)
            } else {
                example_value(request, &route.input, body).cloned()
            }
        });
        default_from_example(&mut content);
        // An empty body is the message with every field at its default: needed only when a
        // field the body carries is required, or the message demands one of its fields.
        let needed = body != "*"
            || demands_content
            || route
                .input
                .fields()
                .any(|f| is_required(&f) && !top_bound.contains(f.name()));
        op.insert(
            "requestBody".into(),
            json!({"required": needed, "content": {"application/json": content}}),
        );
    }

    // The answers.
    let output = json!({"$ref": format!("{SCHEMAS}{}", route.output.full_name())});
    let ok = if method.is_server_streaming() {
        json!({
            "description": format!("One {} per line, in order, as they come; an error after the first line is the last line, as the Status. With `Accept: text/event-stream`, Server-Sent Events instead: one `data:` event per answer, with its position as `id:`, and a `status` event with the Status.", route.output.name()),
            "content": {
                "application/x-ndjson": {
                    "schema": {"type": "string", "contentMediaType": "application/x-ndjson"},
                    "x-line-schema": output,
                },
                "text/event-stream": {
                    "schema": {"type": "string", "contentMediaType": "text/event-stream"},
                    "x-line-schema": output,
                },
            },
        })
    } else {
        json!({
            "description": format!("The {}.", route.output.name()),
            "content": {"application/json": {"schema": output}},
        })
    };
    let mut responses = Map::new();
    responses.insert("200".into(), ok);
    for (code, _) in ERRORS {
        if public && matches!(code, "401" | "403") {
            continue;
        }
        responses.insert(
            code.into(),
            json!({"$ref": format!("#/components/responses/Error{code}")}),
        );
    }
    responses.insert(
        "default".into(),
        json!({
            "description": "Any other error, as the Status.",
            "content": {"application/json": {"schema": {"$ref": format!("{SCHEMAS}google.rpc.Status")}}},
        }),
    );
    op.insert("responses".into(), Value::Object(responses));
    Value::Object(op)
}

/// Gives `content`'s schema its first example as `default`: the value an importer fills in when it
/// builds a request from the schema (Postman's "Schema" parameter generation fakes one
/// otherwise, and a faked QR payload or date is refused).
fn default_from_example(content: &mut Value) {
    let first = content["examples"]
        .as_object()
        .and_then(|all| all.values().next())
        .map(|example| example["value"].clone());
    if let (Some(first), Some(schema)) = (first, content.get_mut("schema"))
        && schema.is_object()
    {
        schema["default"] = first;
    }
}

/// Adds the examples' values (as `pick` finds them in each example's first request) to
/// `target` as its `examples`.
fn add_examples(target: &mut Value, examples: &[&Example], pick: impl Fn(&Value) -> Option<Value>) {
    let mut found = Map::new();
    for example in examples {
        let Some(request) = example.requests.first() else {
            continue;
        };
        if let Some(value) = pick(request) {
            found.insert(
                example.name.clone(),
                json!({"summary": example.summary, "value": value}),
            );
        }
    }
    if !found.is_empty() {
        target["examples"] = Value::Object(found);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn document() -> Value {
        let services = sandbox06_proto::PUBLIC_SERVICES
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        ApiDocument::new(&sandbox06_proto::DESCRIPTOR_POOL, &services, true)
            .for_server("http://127.0.0.1:4606/")
    }

    #[test]
    fn every_route_is_an_operation_with_its_scope_and_comment() {
        let doc = document();
        let get = &doc["paths"]["/v1/citizens/{citizen_id}"]["get"];
        assert_eq!(get["operationId"], "CitizenService_GetCitizen");
        assert_eq!(get["x-sandbox06-scope"], "citizen.read");
        assert!(
            get.get("security").is_none(),
            "the document's security: {get}"
        );
        assert!(
            get["summary"]
                .as_str()
                .unwrap()
                .starts_with("Reads a citizen by ID number")
        );
        let params = get["parameters"].as_array().unwrap();
        assert_eq!(params[0]["name"], "citizen_id");
        assert_eq!(params[0]["in"], "path");
        assert_eq!(params[0]["examples"]["happy-path"]["value"], "001091012345");
        let mask = params.iter().find(|p| p["name"] == "read_mask").unwrap();
        assert_eq!(mask["in"], "query");
        assert_eq!(mask["schema"]["type"], "string");
        let verify = &doc["paths"]["/v1/citizens/{citizen_id}:verify"]["post"];
        let body = &verify["requestBody"]["content"]["application/json"];
        assert!(
            body["schema"]["properties"].get("citizenId").is_none(),
            "{body}"
        );
        assert!(body["schema"]["properties"].get("fullName").is_some());
        assert!(
            body["examples"]["happy-path"]["value"]
                .get("citizenId")
                .is_none()
        );
        let matching = &doc["paths"]["/v1/citizens:match"]["post"];
        assert!(matching["requestBody"]["content"]["application/x-ndjson"].is_object());
        assert_eq!(doc["servers"][0]["url"], "http://127.0.0.1:4606");
        assert_eq!(
            doc["components"]["securitySchemes"]["sso"]["openIdConnectUrl"],
            "http://127.0.0.1:4606/.well-known/openid-configuration"
        );
        assert_eq!(doc["paths"].as_object().unwrap().len(), 8);
    }

    #[test]
    fn the_first_security_scheme_gets_a_token_by_client_credentials_at_an_absolute_url() {
        let doc = document();
        assert_eq!(doc["security"][0], json!({"oauth2": []}));
        let flow = &doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"];
        assert_eq!(flow["tokenUrl"], "http://127.0.0.1:4606/oidc/token");
        let scopes = flow["scopes"].as_object().unwrap();
        for scope in [
            "citizen.read",
            "citizen.verify",
            "citizen.match",
            "sso.admin",
        ] {
            assert!(scopes.contains_key(scope), "{scope}: {scopes:?}");
        }
    }

    #[test]
    fn the_citizen_id_pattern_takes_every_persona_and_refuses_what_the_services_refuse() {
        let pattern = citizen_id_pattern(2026);
        let body = pattern
            .strip_prefix("^(")
            .and_then(|p| p.strip_suffix("[0-9]{6}$"))
            .unwrap();
        let (provinces, years) = body.split_once(")(").unwrap();
        let years = years.strip_suffix(')').unwrap();
        let matches = |id: &str| {
            let (province, rest) = id.split_at(3);
            let (year, _) = rest.split_at(3);
            let in_list = provinces.split('|').any(|p| {
                p == province
                    || (p == "09[7-9]" && ("097"..="099").contains(&province))
                    || (p == "[1-9][0-9]{2}" && province >= "100")
            });
            let century = year.as_bytes()[0] - b'0';
            let yy: i32 = year[1..].parse().unwrap();
            let birth = 1900 + 100 * i32::from(century / 2) + yy;
            in_list
                && century <= 5
                && birth <= 2026
                && years.contains(&format!("[{}", century / 2 * 2))
        };
        for id in [
            "001091012345",
            "058091001234",
            "001219216789",
            "099226000001",
            "100026000001",
        ] {
            assert!(matches(id), "{id}");
            assert!(
                sandbox06_vn::CitizenId::parse_at(id, "id", 2026).is_ok(),
                "{id}"
            );
        }
        // 000 and 003 are no province; 2027 is after the year; digit 6 is no century.
        for id in [
            "000091012345",
            "003091012345",
            "001227012345",
            "001691012345",
        ] {
            assert!(
                sandbox06_vn::CitizenId::parse_at(id, "id", 2026).is_err(),
                "{id}"
            );
            assert!(!matches(id), "{id}");
        }
        assert!(years.contains("[23]([0-1][0-9]|2[0-6])"), "{years}");
    }

    #[test]
    fn schemas_follow_the_proto3_json_mapping() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        let citizen = &schemas["sandbox06.citizen.v1.Citizen"]["properties"];
        assert_eq!(citizen["fullName"]["type"], json!(["string", "null"]));
        assert_eq!(
            citizen["dateOfBirth"]["anyOf"][0]["$ref"],
            "#/components/schemas/sandbox06.types.v1.Date"
        );
        let sex = &schemas["sandbox06.types.v1.Sex"];
        assert!(
            sex["anyOf"][0]["enum"]
                .as_array()
                .unwrap()
                .contains(&json!("SEX_MALE"))
        );
        assert!(
            sex["anyOf"][1]["enum"]
                .as_array()
                .unwrap()
                .contains(&json!(1))
        );
        let index = &schemas["sandbox06.citizen.v1.MatchCitizensResponse"]["properties"]["index"];
        assert_eq!(index["type"], json!(["string", "integer", "null"]));
        assert_eq!(index["format"], "int64");
        // Every reference resolves.
        let text = doc.to_string();
        for part in text.split("\"$ref\":\"").skip(1) {
            let target = &part[..part.find('"').unwrap()];
            let pointer = target.trim_start_matches('#');
            assert!(doc.pointer(pointer).is_some(), "{target} does not resolve");
        }
    }

    #[test]
    fn every_example_names_a_method_of_the_contract() {
        let all = examples().unwrap();
        assert!(!all.is_empty());
        for example in all {
            let service = sandbox06_proto::DESCRIPTOR_POOL
                .get_service_by_name(&example.service)
                .unwrap_or_else(|| panic!("{} is not a service", example.service));
            assert!(
                service.methods().any(|m| m.name() == example.method),
                "{}.{} is not a method",
                example.service,
                example.method
            );
        }
    }
}
