//! The schemas of the document: messages and enums with their comments, the suite's own rules
//! (ID numbers, QR payloads, dates) and the error body. Each field kind's schema is the proto3
//! JSON mapping's, from [`crate::json_map`].

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use prost_reflect::{EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor};
use prost_types::FileDescriptorProto;
use serde_json::{Map, Value, json};

use super::{Facts, controls};
use crate::json_map::{Form, kind_schema};

/// The leading comment of the element at `path` in `file`, as Markdown: lines of a paragraph
/// joined, paragraphs kept.
pub(super) fn comment(file: &FileDescriptorProto, path: &[i32]) -> Option<String> {
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

pub(super) fn message_comment(message: &MessageDescriptor) -> Option<String> {
    comment(message.parent_file_descriptor_proto(), message.path())
}

pub(super) fn field_comment(field: &FieldDescriptor) -> Option<String> {
    comment(field.parent_file().file_descriptor_proto(), field.path())
}

pub(super) fn method_comment(method: &MethodDescriptor) -> Option<String> {
    comment(method.parent_file().file_descriptor_proto(), method.path())
}

/// The first sentence of `text`.
pub(super) fn first_sentence(text: &str) -> String {
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
pub(super) fn field_schema(field: &FieldDescriptor) -> Value {
    let mut schema = nullable(value_schema(field));
    if let (Some(text), Value::Object(object)) = (field_comment(field), &mut schema) {
        object.insert("description".into(), Value::String(text));
    }
    schema
}

/// The schema of `field` as a whole request body (`body: "<field>"`): its value, not `null`
/// (the body is required), with its comment. Clients and importers take the schema itself, not
/// the first of an `anyOf`.
pub(super) fn body_field_schema(field: &FieldDescriptor) -> Value {
    let mut schema = value_schema(field);
    if let (Some(text), Value::Object(object)) = (field_comment(field), &mut schema) {
        object.insert("description".into(), Value::String(text));
    }
    schema
}

/// The schema of `field`'s value: a map, a list or one value.
pub(super) fn value_schema(field: &FieldDescriptor) -> Value {
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
pub(super) fn nullable(mut schema: Value) -> Value {
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
pub(super) fn is_required(field: &FieldDescriptor) -> bool {
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
pub(super) fn qr_pattern(reference_year: i32) -> String {
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
pub(super) const PLAIN_TEXT: &str =
    "^[^\\u0000-\\u001f\\u007f-\\u009f\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$";

/// The earliest and the latest time a bound of a range can be: what its absence means.
pub(super) const EARLIEST: &str = "1970-01-01T00:00:00Z";
pub(super) const LATEST: &str = "9999-12-31T23:59:59Z";

/// What the services check of a request field beyond its proto type, as JSON Schema keywords to
/// add to the field's schema: patterns, lengths, ranges, values. The OpenAPI tests send requests
/// at each of these bounds and check that none is refused.
pub(super) fn field_rules(message: &str, field: &str, facts: &Facts) -> Option<Value> {
    if message.starts_with(controls::PACKAGE) {
        return controls::field_rules(message, field, facts);
    }
    let reference = facts.reference;
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
        ("sandbox06.lgsp.v1.ExchangeRequest", "service_code") => json!({
            "pattern": "^[a-z0-9.-]{1,64}$",
            "description": "The data service's code, as ListDataServices lists them: `lgsp.citizen.verify`, `vss.health-insurance.check`, `moj.civil-status.marital`, `moj.civil-status.birth`, `moj.civil-status.death`, `moj.judicial-record.check`, `moh.health-book`, `gso.population.statistics`, `lgsp.lodging.daily-count`; the body sets the request field the service reads.",
        }),
        ("sandbox06.lgsp.v1.ExchangeRequest", "transaction_id") => json!({
            "pattern": "^[!-~]{1,128}$",
            "maxLength": 128,
            "description": "The consumer's id of this exchange, 1 to 128 printable ASCII characters without spaces: a retry with the same id answers the first answer.",
        }),
        ("sandbox06.lgsp.v1.ExchangeRequest", "purpose") => json!({
            "pattern": "^([!-~]{1,64})?$",
            "maxLength": 64,
            "description": "The purpose's code, as the consumer's agreement names it (`admission`, `notarization`, …); required for sensitive data, the agreement's purpose otherwise.",
        }),
        ("sandbox06.lgsp.v1.ListExchangesRequest", "citizen_id") => json!({
            "pattern": format!("^({})?$", citizen_id_pattern(reference_year).trim_start_matches('^').trim_end_matches('$')),
            "description": "Only the exchanges about this citizen (a personal ID number, 12 digits): who read their data.",
        }),
        ("sandbox06.lgsp.v1.ListExchangesRequest", "page_size") => controls::bounded(0, 500),
        ("sandbox06.lgsp.v1.ListExchangesRequest", "page_token") => json!({
            "pattern": "^([0-9]{1,18})?$",
            "description": "From a previous answer's `nextPageToken`, with the same filters; empty for the newest entries.",
        }),
        ("sandbox06.types.v1.PopulationStatisticsRequest", "province_code") => json!({
            "pattern": "^([0-9]{2})?$",
            "description": "Two-digit GSO code of a province of `era`'s units (`56` Khánh Hòa; `58` Ninh Thuận before 2025); empty for the whole country.",
        }),
        ("sandbox06.types.v1.PopulationStatisticsRequest", "band_years") => {
            controls::bounded(0, 25)
        }
        (
            "sandbox06.lodging.v1.ListFacilitiesRequest"
            | "sandbox06.lodging.v1.ListDeclarationsRequest",
            "page_size",
        ) => controls::bounded(0, 500),
        (
            "sandbox06.lodging.v1.ListFacilitiesRequest"
            | "sandbox06.lodging.v1.ListDeclarationsRequest",
            "page_token",
        ) => json!({
            "pattern": "^([0-9a-f]{2}){0,512}$",
            "description": "From a previous answer's `nextPageToken`, with the same filters; empty for the first page.",
        }),
        // A bound of a range of times: its absence is the earliest or the latest time there
        // is, given as `default` so that an importer sends that rather than a time it makes
        // up (a made-up one may be 31 November).
        ("sandbox06.lodging.v1.ListDeclarationsRequest", "arrival_after") => {
            json!({"default": EARLIEST})
        }
        ("sandbox06.lodging.v1.ListDeclarationsRequest", "arrival_before") => {
            json!({"default": LATEST})
        }
        ("sandbox06.lodging.v1.UpdateDeclarationRequest", "update_mask") => json!({
            "type": "string",
            "pattern": "^((guests|place|expectedDepartureTime)(,(guests|place|expectedDepartureTime))*)?$",
            "description": "Comma-separated fields to amend, of `guests`, `place` and `expectedDepartureTime`; when empty, those of them the body sets.",
        }),
        ("sandbox06.lodging.v1.WatchDeclarationEventsRequest", "event_types") => {
            // The types by name, the unspecified one left out: an importer that fakes a value
            // picks from the list (and does not read `not`).
            let types: Vec<String> = sandbox06_proto::DESCRIPTOR_POOL
                .get_enum_by_name("sandbox06.lodging.v1.DeclarationEventType")?
                .values()
                .filter(|v| v.number() != 0)
                .map(|v| v.name().to_owned())
                .collect();
            json!({
                "items": {"type": "string", "enum": types},
                "description": "Only events of these types (the parameter repeated); every type when absent.",
            })
        }
        ("sandbox06.lodging.v1.WatchDeclarationEventsRequest", "start_after_event_id") => json!({
            "pattern": "^[0-9]{0,19}$",
            "description": "Resume after this event (the last one received): an event id the suite still keeps; \"0\" for the oldest kept; from the next new event when empty.",
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
pub(super) fn with_rule(mut schema: Value, rule: Option<Value>) -> Value {
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
pub(super) fn date_schema(description: Option<String>) -> Value {
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
pub(super) fn message_rules(message: &MessageDescriptor, schema: &mut Value) {
    controls::message_rules(message.full_name(), schema);
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
        "sandbox06.lodging.v1.Declaration" => {
            schema["properties"]["guests"]["minItems"] = json!(1);
            schema["properties"]["guests"]["maxItems"] = json!(100);
            return;
        }
        "sandbox06.lodging.v1.Guest" => {
            return one_required(schema, &["citizen", "foreigner", "vneidShare"]);
        }
        "sandbox06.lodging.v1.Place" => {
            return one_required(schema, &["room", "coachTrip", "hospitalWard"]);
        }
        "sandbox06.lgsp.v1.ExchangeRequest" => {
            return one_required(
                schema,
                &[
                    "citizenVerify",
                    "healthInsuranceCheck",
                    "citizen",
                    "judicialRecord",
                    "populationStatistics",
                    "lodgingCount",
                ],
            );
        }
        _ => return,
    };
    let claims: Vec<Value> = fields
        .iter()
        .map(|(name, rule)| json!({"required": [name], "properties": {*name: rule}}))
        .collect();
    // Inside `allOf`: an importer that reads the first of a top-level `anyOf` as the whole
    // message (Postman's) would lose the other fields.
    controls::all_of(schema).push(json!({"anyOf": claims}));
}

/// One of `choices` (a oneof the service needs set) is present and not null.
fn one_required(schema: &mut Value, choices: &[&str]) {
    let choices: Vec<Value> = choices
        .iter()
        .map(|name| json!({"required": [name], "properties": {*name: {"not": {"type": "null"}}}}))
        .collect();
    controls::all_of(schema).push(json!({"anyOf": choices}));
}

/// The schema of a message: its fields but those in `skip`, no others (the proto3 JSON parser
/// refuses unknown fields), the required ones listed.
pub(super) fn message_schema(
    message: &MessageDescriptor,
    skip: &BTreeSet<String>,
    facts: &Facts,
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
            if let Kind::Enum(e) = field.kind()
                && !field.is_list()
                && let Some(zero) = e.get_value(0)
            {
                schema["not"] = json!({"enum": [zero.name(), 0]});
            }
            if let Some(text) = field_comment(&field) {
                schema["description"] = Value::String(text);
            }
        }
        let schema = with_rule(
            schema,
            field_rules(message.full_name(), field.name(), facts),
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
        let fields: Vec<String> = oneof.fields().map(|f| f.json_name().to_owned()).collect();
        let names: Vec<String> = fields.iter().map(|name| format!("`{name}`")).collect();
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        description.push_str(&format!("At most one of {} is set.", names.join(", ")));
        // The proto3 JSON parser refuses two members of one oneof.
        let pairs: Vec<Value> = fields
            .iter()
            .enumerate()
            .flat_map(|(i, a)| {
                fields[i + 1..]
                    .iter()
                    .map(move |b| json!({"required": [a, b]}))
            })
            .collect();
        if !pairs.is_empty() {
            controls::all_of(&mut schema).push(json!({"not": {"anyOf": pairs}}));
        }
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
pub(super) fn schemas(
    roots: impl IntoIterator<Item = MessageDescriptor>,
    facts: &Facts,
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
            message_schema(&message, &BTreeSet::new(), facts),
        );
    }
    out
}

/// The error body every failure answers with.
pub(super) fn status_schema() -> Value {
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
pub(super) fn field_at(message: &MessageDescriptor, path: &str) -> Option<FieldDescriptor> {
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
