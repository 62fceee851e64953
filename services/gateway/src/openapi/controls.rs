//! What the sandbox's controls (`sandbox06.admin.v1`) take beyond their proto types, as JSON
//! Schema keywords: the components and methods a fault rule may name, the bounds of a share or
//! a status code, the shapes of rule ids, snapshot names and page tokens, and the fields a
//! rule or a verification cannot do without. The OpenAPI tests send requests at each of these
//! bounds and check that none is refused.

use serde_json::{Value, json};

use super::Facts;
use super::schema::citizen_id_pattern;
use crate::json_map::integer_pattern;

/// The package of the controls.
pub(super) use sandbox06_runtime::faults::CONTROLS_PACKAGE as PACKAGE;

/// Every service of the contract, and each of its methods, as a fault rule or a journal filter
/// names them (`package.Service`, `package.Service/Method`), the controls' own left out.
fn contract_methods() -> Vec<Value> {
    let mut names = vec![Value::String(String::new())];
    for service in sandbox06_proto::DESCRIPTOR_POOL.services() {
        let full = service.full_name();
        if full.starts_with(PACKAGE) {
            continue;
        }
        names.push(Value::String(full.to_owned()));
        names.extend(
            service
                .methods()
                .map(|method| Value::String(format!("{full}/{}", method.name()))),
        );
    }
    names
}

/// The rule of a field naming a component: one of those the controls reach (when known), or
/// `empty` too.
fn component(facts: &Facts, empty: bool, description: &str) -> Value {
    if facts.components.is_empty() {
        let pattern = if empty {
            "^([a-z][a-z0-9-]*)?$"
        } else {
            "^[a-z][a-z0-9-]*$"
        };
        return json!({"pattern": pattern, "description": description});
    }
    let mut names: Vec<Value> = Vec::new();
    if empty {
        names.push(Value::String(String::new()));
    }
    names.extend(facts.components.iter().cloned().map(Value::String));
    json!({"enum": names, "description": description})
}

/// An integer from `low` to `high`, as a number or (in a query) as its decimal text.
pub(super) fn bounded(low: i128, high: i128) -> Value {
    json!({"minimum": low, "maximum": high, "pattern": integer_pattern(low, high)})
}

/// The keywords `field` of `message` (a message of the controls) takes.
pub(super) fn field_rules(message: &str, field: &str, facts: &Facts) -> Option<Value> {
    let message = message.strip_prefix(PACKAGE)?;
    let id = citizen_id_pattern(facts.reference.year());
    let id = id.trim_start_matches('^').trim_end_matches('$');
    let rule = match (message, field) {
        ("FaultRule", "component") => component(
            facts,
            false,
            "The component the rule applies to, as `sandbox06 serve` names it.",
        ),
        ("ResetSandboxRequest", "component") => component(
            facts,
            true,
            "The one component to reset; every component when empty.",
        ),
        ("FaultRule", "method") => json!({
            "enum": contract_methods(),
            "description": "Which calls: a full method (`sandbox06.upstream.population.v1.PopulationService/GetCitizen`), a service for all its methods, or empty for every method. Health (`grpc.health.v1.Health/Check`) may be named too; the controls themselves never are.",
        }),
        ("CallFilter", "method") => json!({
            "enum": contract_methods(),
            "description": "Only calls of this full method (`sandbox06.citizen.v1.CitizenService/GetCitizen`) or of this service's methods; empty for every method.",
        }),
        ("FaultRule", "citizen_id") => json!({
            "pattern": format!("^({id})?$"),
            "description": "Only calls whose request carries this personal ID number (a `citizen_id` field, at any depth); every call when empty.",
        }),
        ("FaultRule", "share") => json!({
            "minimum": 1e-9,
            "maximum": 1,
            "description": "The share of matching calls the rule applies to: more than 0, at most 1; every matching call when unset.",
        }),
        ("StatusFault", "code") => json!({
            "minimum": 1,
            "maximum": 16,
            "pattern": integer_pattern(1, 16),
            "description": "The gRPC status code, 1 (CANCELLED) to 16 (UNAUTHENTICATED); with a reason, the reason's own code (or none).",
        }),
        ("StatusFault", "reason") => json!({
            "pattern": "^([A-Z][A-Z0-9_]*)?$",
            "description": "One of the component's own reasons (docs/ERRORS.md), or a generic one; the first reason of the component returned with the code when empty.",
        }),
        ("DeleteFaultRuleRequest", "id") => {
            let components = if facts.components.is_empty() {
                "[a-z][a-z0-9-]*".to_owned()
            } else {
                facts.components.join("|")
            };
            json!({
                "pattern": format!("^({components})\\.[^/]+$"),
                "description": "The rule's id as the admin surface gives it: `<component>.<id>`, e.g. `population-db.f-1`.",
            })
        }
        ("SaveSnapshotRequest" | "RestoreSnapshotRequest" | "DeleteSnapshotRequest", "name") => {
            json!({
                "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
                "description": "1 to 64 of `A-Z a-z 0-9 . _ -`, beginning with a letter or a digit.",
            })
        }
        ("CallFilter", "tenant") => json!({
            "pattern": "^([A-Za-z0-9._-]{1,64})?$",
            "maxLength": 64,
            "description": "Only calls of this tenant (the `x-sandbox06-tenant` they carried): 1 to 64 of `a-z A-Z 0-9 - _ .`; every tenant's when empty. A caller naming a tenant in the header sees only its own calls.",
        }),
        ("CallFilter", "code") => bounded(0, 16),
        ("ListJournalRequest", "page_size") => bounded(0, 1000),
        ("ListJournalRequest", "page_token") => json!({
            "pattern": "^([0-9]{1,19})?$",
            "description": "From a previous answer's `nextPageToken`; empty for the newest calls.",
        }),
        ("VerifyJournalRequest", "comparison") => json!({
            "not": {"enum": ["COMPARISON_UNSPECIFIED", 0]},
            "description": "How the count of matching calls compares with `expectedCount`.",
        }),
        ("CitizenFilter", "province_code" | "province_2025_code") => json!({
            "pattern": "^([0-9]{2,3})?$",
            "description": if field == "province_code" {
                "A GSO code of one of the 63 provinces before 1 July 2025, two digits (`58`, Ninh Thuận) or the three-digit prefix of an ID number (`058`)."
            } else {
                "A GSO code of one of the 34 provinces from 1 July 2025 (`56`, Khánh Hòa, or `056`), covering the provinces merged into it."
            },
        }),
        ("CitizenFilter", "min_age" | "max_age") => bounded(0, 150),
        ("CitizenFilter", "ethnicity") => {
            let mut names = vec![Value::String(String::new())];
            for (code, name) in sandbox06_vn::admin::ethnic_groups() {
                names.push(Value::String(code.to_owned()));
                names.push(Value::String(name.to_owned()));
            }
            json!({
                "enum": names,
                "description": "One of the 54 ethnic groups, by name as records write it or by its two-digit GSO code (any letter case and Unicode form is taken too).",
            })
        }
        ("CitizenFilter", "insurance_group") => json!({
            "pattern": "^([A-Z]{2})?$",
            "description": "The two capital letters that begin a legacy health insurance card code (`DN`, `HT`, `TE`, …).",
        }),
        ("FindCitizensRequest", "page_size") => bounded(0, 1000),
        (
            "CreateLifeEventRequest"
            | "UnlockAccountRequest"
            | "IssueVneidShareCodeRequest"
            | "GiveVneidConsentRequest"
            | "WithdrawVneidConsentRequest",
            "citizen_id",
        ) => json!({
            "pattern": format!("^{id}$"),
            "minLength": 12,
            "maxLength": 12,
            "description": if message == "CreateLifeEventRequest" {
                "Whose record changes: a personal ID number, 12 digits."
            } else {
                "The account number: the holder's personal ID number, 12 digits."
            },
        }),
        ("GiveVneidConsentRequest", "recipient" | "service_code" | "purpose") => json!({
            "pattern": "^[!-~]{1,64}$",
            "maxLength": 64,
            "description": match field {
                "recipient" => "Who may receive the data: a consumer system of the data-sharing platform (`bvdk-his`); 1 to 64 printable ASCII characters without spaces.",
                "service_code" => "The data service (`moj.civil-status.birth`); 1 to 64 printable ASCII characters without spaces.",
                _ => "The purpose's code (`medical-record`); 1 to 64 printable ASCII characters without spaces.",
            },
        }),
        ("GiveVneidConsentRequest", "valid_until") => {
            // From today to five years ahead: a later year up to the fourth, whatever the day.
            let year = facts.reference.year();
            json!({
                "allOf": [{"anyOf": [
                    {"type": "null"},
                    {"properties": {"year": {"minimum": year + 1, "maximum": year + 4}}},
                ]}],
                "description": "The last day in force: today to five years ahead; a year from today when unset.",
            })
        }
        ("WithdrawVneidConsentRequest", "consent_id") => json!({
            "pattern": "^[!-~]{1,64}$",
            "description": "The consent's id, as GiveVneidConsent answered it (`CS-` and 12 hexadecimal digits).",
        }),
        ("IssueVneidShareCodeRequest", "facility") => json!({
            "pattern": "^facilities/[A-Za-z0-9._-]{1,64}$",
            "description": "The facility the code is for, `facilities/{facility_id}` (the id 1 to 64 letters, digits, `-`, `_` or `.`); only that facility redeems it.",
        }),
        ("IssueVneidShareCodeRequest", "ttl_seconds") => json!({
            "anyOf": [{"enum": [0, "0"]}, bounded(30, 600)],
            "description": "Seconds the code is good for, 30 to 600; 0 means 120.",
        }),
        ("CreateLifeEventRequest", "request_id") => json!({
            "pattern": "^([!-~]{1,128})?$",
            "maxLength": 128,
            "description": "Optional idempotency key, 1 to 128 printable ASCII characters without spaces (a UUID, say): a retry with the same key, citizen and event answers the record without recording the event again; the same key with another citizen or event is refused (`REQUEST_ID_REUSED`).",
        }),
        ("LifeEvent", "effective_date") => {
            // Not after the reference date: an earlier year, or an earlier month of its year,
            // or an earlier day of its month (a null date is the reference date).
            let reference = facts.reference;
            let (year, month, day) = (
                reference.year(),
                u8::from(reference.month()),
                reference.day(),
            );
            json!({
                "allOf": [{"anyOf": [
                    {"type": "null"},
                    {"properties": {"year": {"maximum": year - 1}}},
                    {"properties": {"year": {"enum": [year]}, "month": {"maximum": month - 1}}},
                    {"properties": {"year": {"enum": [year]}, "month": {"enum": [month]}, "day": {"maximum": day}}},
                ]}],
                "description": "Date the change took effect, the reference date when unset: not before the citizen's birth nor the latest change recorded for them (or for a spouse), not after the reference date.",
            })
        }
        ("LifeEventMoved", "commune_code") => json!({
            "pattern": "^[0-9]{5}$",
            "description": "The 5-digit GSO code of a commune that exists, in the units from 1 July 2025 (`22366`, Phường Nha Trang) or before.",
        }),
        ("LifeEventMoved", "street") => json!({
            "minLength": 1,
            "maxLength": 200,
            "pattern": "^[^|\\u0000-\\u001f\\u007f-\\u009f]*[^|\\s\\u0000-\\u001f\\u007f-\\u009f][^|\\u0000-\\u001f\\u007f-\\u009f]*$",
            "description": "House number and street (or hamlet): one line of at most 200 characters, not blank, without `|` (it separates the fields of the card's QR code).",
        }),
        ("LifeEventMarried", "spouse_citizen_id") => json!({
            "pattern": format!("^{id}$"),
            "description": "The spouse's personal ID number: another living, unmarried citizen of the other sex, of marriageable age, of no shared blood.",
        }),
        ("LifeEventVneidChanged", "level") => json!({
            "not": {"enum": ["VNEID_LEVEL_UNSPECIFIED", 0]},
            "description": "The new level: VNEID_LEVEL_NONE (the account is closed), VNEID_LEVEL_1 or VNEID_LEVEL_2 (from 14).",
        }),
        // Bounds of a range of times, as for the lodging's arrivals.
        ("CallFilter", "since") => json!({"default": super::schema::EARLIEST}),
        ("CallFilter", "until") => json!({"default": super::schema::LATEST}),
        ("FindCitizensRequest", "page_token") => json!({
            "pattern": "^([0-9]+\\.[0-9a-f]{16})?$",
            "description": "From a previous answer's `nextPageToken`, with the same filter; empty for the first page.",
        }),
        _ => return None,
    };
    Some(rule)
}

/// What a message of the controls demands as a whole: the fields it cannot do without, and
/// the one of a choice that must be made.
pub(super) fn message_rules(message: &str, schema: &mut Value) {
    let Some(message) = message.strip_prefix(PACKAGE) else {
        return;
    };
    let (required, one_of): (&[&str], &[&str]) = match message {
        "CreateFaultRuleRequest" => (&["rule"], &[]),
        "FaultRule" => (&["component"], &["status", "latency", "drop", "down"]),
        "LatencyFault" => (&[], &["fixed", "uniform", "normal"]),
        "StatusFault" => (&[], &["code", "reason"]),
        "UniformDelay" => (&["min", "max"], &[]),
        "NormalDelay" => (&["mean", "stddev"], &[]),
        "VerifyJournalRequest" => (&["comparison"], &[]),
        "SetClockRequest" => (&["time"], &[]),
        "AdvanceClockRequest" => (&["by"], &[]),
        "CreateLifeEventRequest" => (&["citizenId", "event"], &[]),
        "IssueVneidShareCodeRequest" => (&["citizenId", "facility"], &[]),
        "GiveVneidConsentRequest" => (&["citizenId", "recipient", "serviceCode", "purpose"], &[]),
        "WithdrawVneidConsentRequest" => (&["citizenId"], &[]),
        "LifeEvent" => (
            &[],
            &["moved", "married", "cardReplaced", "died", "vneidChanged"],
        ),
        "LifeEventMoved" => (&["communeCode", "street"], &[]),
        "LifeEventMarried" => (&["spouseCitizenId"], &[]),
        "LifeEventVneidChanged" => (&["level"], &[]),
        _ => return,
    };
    if !required.is_empty() {
        schema["required"] = json!(required);
        // Present and not null: proto3 JSON reads a null as the field left unset.
        for name in required {
            all_of(schema).push(json!({"properties": {*name: {"not": {"type": "null"}}}}));
        }
    }
    if !one_of.is_empty() {
        let choices: Vec<Value> = one_of
            .iter()
            // Present and not null: proto3 JSON reads a null as the field left unset.
            .map(|name| json!({"required": [name], "properties": {*name: {"not": {"type": "null"}}}}))
            .collect();
        all_of(schema).push(json!({"anyOf": choices}));
    }
}

/// The `allOf` list of `schema`, made when absent.
pub(super) fn all_of(schema: &mut Value) -> &mut Vec<Value> {
    if !schema["allOf"].is_array() {
        schema["allOf"] = json!([]);
    }
    match schema["allOf"].as_array_mut() {
        Some(list) => list,
        None => unreachable!("allOf was just made an array"),
    }
}
