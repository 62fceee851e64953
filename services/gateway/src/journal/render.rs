//! Recorded calls as `JournalEntry` messages, rendered when the journal is read: the gRPC frames
//! kept are decoded with the method's types from the contract, written in the proto3 JSON
//! mapping and, unless bodies are kept in full, masked as the logs mask personal data.

use http::HeaderMap;
use prost_reflect::{DynamicMessage, MessageDescriptor, SerializeOptions};
use sandbox06_proto::admin as pb;
use sandbox06_runtime::error::reason_of;
use sandbox06_runtime::mask;
use serde_json::Value;

use super::{Bodies, Captured, Entry, Protocol};

/// What a masked value becomes.
const HIDDEN: &str = "***";

impl From<Protocol> for pb::Protocol {
    fn from(protocol: Protocol) -> Self {
        match protocol {
            Protocol::Grpc => pb::Protocol::Grpc,
            Protocol::GrpcWeb => pb::Protocol::GrpcWeb,
            Protocol::Rest => pb::Protocol::Rest,
        }
    }
}

/// `entry` as the journal answers it, bodies kept as `bodies` says.
pub(super) fn entry(entry: &Entry, bodies: Bodies) -> pb::JournalEntry {
    let facts = &entry.facts;
    let masked = bodies != Bodies::Full;
    let status = status_of(entry);
    let message = status
        .as_ref()
        .map(|s| s.message().to_owned())
        .unwrap_or_default();
    let reason = reason_with(entry, status.as_ref());
    let method = sandbox06_runtime::rpc::contract_method(&facts.method);
    let (request_body, response_body) = match (&method, bodies) {
        (Some(method), Bodies::Masked | Bodies::Full) => (
            json_of(
                &facts.request,
                &method.input(),
                method.is_client_streaming(),
                masked,
            ),
            json_of(
                &facts.response,
                &method.output(),
                method.is_server_streaming(),
                masked,
            ),
        ),
        _ => (String::new(), String::new()),
    };
    let subject = facts
        .subject
        .as_deref()
        .map_or_else(String::new, |subject| {
            if masked {
                sandbox06_runtime::mask::digits(subject)
            } else {
                subject.to_owned()
            }
        });
    pb::JournalEntry {
        sequence: entry.sequence,
        time: Some(prost_types::Timestamp::from(entry.time)),
        protocol: pb::Protocol::from(facts.protocol).into(),
        method: facts.method.clone(),
        http: facts.http.as_ref().map(|http| pb::HttpCall {
            method: http.method.to_string(),
            path_template: http.template.clone(),
            status: u32::from(http.status),
        }),
        client_id: facts.client_id.clone().unwrap_or_default(),
        subject,
        code: u32::try_from(entry.code()).unwrap_or(tonic::Code::Unknown as u32),
        reason,
        message: if masked {
            sandbox06_runtime::mask::digits(&message)
        } else {
            message
        },
        latency: prost_types::Duration::try_from(entry.latency).ok(),
        trace_id: facts
            .traceparent
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split('-').nth(1))
            .map(str::to_owned)
            .unwrap_or_default(),
        body_mode: match bodies {
            Bodies::Masked => pb::BodyMode::Masked,
            Bodies::Full => pb::BodyMode::Full,
            Bodies::None => pb::BodyMode::None,
        }
        .into(),
        request_body,
        response_body,
        request_messages: facts.request.counter.messages,
        response_messages: facts.response.counter.messages,
        request_truncated: facts.request.truncated,
        response_truncated: facts.response.truncated,
        tenant: facts
            .tenant
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_default(),
    }
}

/// The suite's reason of the call's failure; empty on success.
pub(super) fn reason(entry: &Entry) -> String {
    if entry.code() == 0 {
        return String::new();
    }
    reason_with(entry, status_of(entry).as_ref())
}

fn reason_with(entry: &Entry, status: Option<&tonic::Status>) -> String {
    entry
        .facts
        .reason
        .clone()
        .or_else(|| status.and_then(reason_of))
        .unwrap_or_default()
}

/// The call's gRPC status, from the headers kept.
fn status_of(entry: &Entry) -> Option<tonic::Status> {
    let facts = &entry.facts;
    let mut headers = HeaderMap::new();
    headers.insert("grpc-status", entry.code().into());
    if let Some(message) = &facts.message {
        headers.insert("grpc-message", message.clone());
    }
    if let Some(details) = &facts.details {
        headers.insert("grpc-status-details-bin", details.clone());
    }
    tonic::Status::from_header_map(&headers)
}

/// The messages of `captured` in JSON: one object, or an array for a stream (or when a unary
/// side holds other than one message); empty when nothing decodes.
fn json_of(
    captured: &Captured,
    descriptor: &MessageDescriptor,
    stream: bool,
    masked: bool,
) -> String {
    let mut rest = captured.bytes.as_slice();
    let options = SerializeOptions::new().skip_default_fields(true);
    let mut messages = Vec::new();
    while rest.len() >= 5 {
        let compressed = rest[0] != 0;
        let length = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        let Some(payload) = rest.get(5..5 + length) else {
            break;
        };
        rest = &rest[5 + length..];
        let value = if compressed {
            Value::String("(compressed message)".to_owned())
        } else {
            DynamicMessage::decode(descriptor.clone(), payload)
                .ok()
                .and_then(|message| {
                    message
                        .serialize_with_options(serde_json::value::Serializer, &options)
                        .ok()
                })
                .unwrap_or_else(|| Value::String("(message does not decode)".to_owned()))
        };
        messages.push(value);
    }
    let mut value = match messages.len() {
        0 => return String::new(),
        1 if !stream => messages.pop().unwrap_or_default(),
        _ => Value::Array(messages),
    };
    if masked {
        mask_json(None, &mut value);
    }
    value.to_string()
}

/// How a field's value is masked, by its JSON name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Replaced whole: addresses, dates of birth and death, QR payloads, identifying marks,
    /// documents' numbers that are not all digits (passports, visas), VNeID share codes
    /// (they carry the holder's data), and sensitive data (ethnicity, religion, criminal
    /// records, health visits and health books).
    Hidden,
    /// A person's name: initials.
    Name,
    /// Anything else: digit runs of 9 or more masked.
    Other,
}

/// Sensitive data (Decree 13/2023): beliefs and origin, criminal records, health records. A
/// flag among them is hidden too (a clean criminal record), unlike other flags.
fn sensitive(normalized_key: &str) -> bool {
    matches!(
        normalized_key,
        "ethnicity"
            | "religion"
            | "convictions"
            | "clean"
            | "recentvisits"
            | "healthbook"
            | "bloodgroup"
            | "allergies"
            | "chronicconditions"
            | "vaccinations"
            | "encounters"
    )
}

fn kind(key: &str) -> Kind {
    let key = key.to_ascii_lowercase().replace('_', "");
    if key.contains("address")
        || matches!(
            key.as_str(),
            "hometown"
                | "birthregistrationplace"
                | "dateofbirth"
                | "dateofdeath"
                | "birthyear"
                | "payload"
                | "identifyingmarks"
                | "passportnumber"
                | "visanumber"
                | "documentnumber"
                | "sharecode"
        )
        || sensitive(&key)
    {
        Kind::Hidden
    } else if key.ends_with("name")
        && !matches!(
            key.as_str(),
            "provincename" | "districtname" | "communename"
        )
    {
        Kind::Name
    } else {
        Kind::Other
    }
}

/// Masks personal data in `value`, the value of the field `key`.
pub(super) fn mask_json(key: Option<&str>, value: &mut Value) {
    let kind = key.map_or(Kind::Other, kind);
    match value {
        Value::Null => {}
        Value::Bool(_)
            if !key.is_some_and(|k| sensitive(&k.to_ascii_lowercase().replace('_', ""))) => {}
        _ if kind == Kind::Hidden => *value = Value::String(HIDDEN.to_owned()),
        Value::Bool(_) => {}
        Value::String(text) if kind == Kind::Name => *text = mask::name(text),
        Value::String(text) => *text = sandbox06_runtime::mask::digits(text),
        Value::Number(_) => {}
        Value::Array(items) => items.iter_mut().for_each(|item| mask_json(key, item)),
        Value::Object(fields) => fields
            .iter_mut()
            .for_each(|(name, field)| mask_json(Some(name), field)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn digit_runs_of_nine_or_more_are_masked() {
        assert_eq!(
            sandbox06_runtime::mask::digits("058091001234"),
            "058*******34"
        );
        assert_eq!(
            sandbox06_runtime::mask::digits("id 264123456, page 12345678"),
            "id 264****56, page 12345678"
        );
        assert_eq!(
            sandbox06_runtime::mask::digits("Nguyễn 0580910012345ễ"),
            "Nguyễn 058********45ễ"
        );
        assert_eq!(sandbox06_runtime::mask::digits(""), "");
    }

    #[test]
    fn personal_fields_are_masked() {
        let mut value = json!({
            "citizen": {
                "citizenId": "058091001234",
                "fullName": "Nguyễn Văn An",
                "dateOfBirth": {"year": 1991, "month": 1, "day": 1},
                "permanentAddress": {"current": {"line": "Số 12 đường Lê Lợi"}},
                "previousAddresses": [{"current": {"line": "Thôn 3"}}],
                "father": {"fullName": "Nguyễn Văn Bình", "birthYear": 1960},
                "sex": "SEX_MALE",
                "addressStale": true
            },
            "verdicts": [{"field": "full_name", "verdict": "FIELD_VERDICT_MATCH"}],
            "guests": [{
                "foreigner": {"passportNumber": "X1234567", "visaNumber": "EV123456", "nationality": "USA"},
                "vneidShare": {"shareCode": "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIwNTgifQ.c2ln"}
            }],
            "documentNumber": "C1234567",
            "record": {"ethnicity": "Chăm", "religion": "Bà-la-môn"},
            "judicialRecord": {"clean": false, "convictions": 2},
            "healthInsuranceCheck": {
                "card": {"cardCode": "DN4565600000123", "socialInsuranceNumber": "5600000123"},
                "recentVisits": [{"facilityCode": "56001"}]
            },
            "healthBook": {"citizenId": "058090000234", "bloodGroup": "O+"},
            "book": {
                "bloodGroup": "B+",
                "allergies": ["Penicillin"],
                "chronicConditions": [{"icd10Code": "I10"}],
                "vaccinations": [{"vaccine": "BCG"}],
                "encounters": [{"diagnosis": {"icd10Code": "J06.9"}}]
            }
        });
        mask_json(None, &mut value);
        assert_eq!(
            value,
            json!({
                "citizen": {
                    "citizenId": "058*******34",
                    "fullName": "N. V. A.",
                    "dateOfBirth": "***",
                    "permanentAddress": "***",
                    "previousAddresses": "***",
                    "father": {"fullName": "N. V. B.", "birthYear": "***"},
                    "sex": "SEX_MALE",
                    "addressStale": true
                },
                "verdicts": [{"field": "full_name", "verdict": "FIELD_VERDICT_MATCH"}],
                "guests": [{
                    "foreigner": {"passportNumber": "***", "visaNumber": "***", "nationality": "USA"},
                    "vneidShare": {"shareCode": "***"}
                }],
                "documentNumber": "***",
                "record": {"ethnicity": "***", "religion": "***"},
                "judicialRecord": {"clean": "***", "convictions": "***"},
                "healthInsuranceCheck": {
                    "card": {"cardCode": "DN456********23", "socialInsuranceNumber": "560*****23"},
                    "recentVisits": "***"
                },
                "healthBook": "***",
                "book": {
                    "bloodGroup": "***",
                    "allergies": "***",
                    "chronicConditions": "***",
                    "vaccinations": "***",
                    "encounters": "***"
                }
            })
        );
    }
}
