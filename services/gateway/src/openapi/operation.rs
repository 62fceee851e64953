//! One operation of the document per REST route: its path, parameters, body, answers,
//! errors and scope.

use std::collections::BTreeSet;

use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor};
use serde_json::{Map, Value, json};

use super::examples::*;
use super::schema::*;
use super::*;
use crate::json_map::{Form, SCHEMAS, kind_schema};
use crate::policy::{MethodPolicy, POLICY_OPTION};
use crate::rest::routes::{RestRoute as Route, Segment};

/// The query parameters of a message's fields, flattened with dots (`a.b`), for fields that
/// take a text value: scalars, enums, repeated scalars and the text-like well-known types.
pub(super) fn query_fields(
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

pub(super) fn policy_of(method: &MethodDescriptor) -> Option<MethodPolicy> {
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
pub(super) fn field_paths(
    message: &MessageDescriptor,
    prefix: &str,
    depth: usize,
    out: &mut Vec<String>,
) {
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
pub(super) fn mask_schema(output: &MessageDescriptor) -> Value {
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

/// What an optional query parameter left out means, as its schema's `default`: the field's
/// proto3 default (an empty text or mask, false, 0, the enum's unspecified value), which is
/// what the service takes when the parameter is absent. Importers that fill every parameter in
/// from its schema (Postman's "Schema" resolution) send it rather than a placeholder. `None`
/// for a list, a field with presence (`optional`: its absence is not its default) or a message
/// such as a time, which have no one value to send.
pub(super) fn absent_value(field: &FieldDescriptor) -> Option<Value> {
    if field.is_list() || field.supports_presence() {
        return None;
    }
    Some(match field.kind() {
        Kind::String => json!(""),
        Kind::Bool => json!(false),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 | Kind::Uint32 | Kind::Fixed32 => json!(0),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 | Kind::Uint64 | Kind::Fixed64 => json!("0"),
        Kind::Enum(e) => json!(e.get_value(0)?.name()),
        Kind::Message(m) if m.full_name() == "google.protobuf.FieldMask" => json!(""),
        _ => return None,
    })
}

/// The route's path in OpenAPI's templating.
pub(super) fn openapi_path(route: &Route) -> String {
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

pub(super) fn operation(
    route: &Route,
    policy: Option<&MethodPolicy>,
    examples: &[&Example],
    facts: &Facts,
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
        .filter(|p| !p.scope.is_empty())
        .map(|p| p.scope.clone());
    match &scope {
        // The service decides: without a token by default, and a token it is given must
        // carry the scope (the admin surface, by `admin.access`).
        Some(scope) if public => text.push_str(&format!(
            "\n\nTakes calls without a token; a call with a token needs the scope `{scope}`."
        )),
        Some(scope) => text.push_str(&format!("\n\nNeeds a token with the scope `{scope}`.")),
        None => {}
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
                    field_rules(f.parent_message().full_name(), f.name(), facts),
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
                    with_rule(
                        mask_schema(&route.output),
                        field_rules(field.parent_message().full_name(), field.name(), facts),
                    )
                }
                _ => with_rule(
                    value_schema(&field),
                    field_rules(field.parent_message().full_name(), field.name(), facts),
                ),
            };
            let mut schema = schema;
            if !is_required(&field)
                && schema.get("default").is_none()
                && let Some(absent) = absent_value(&field)
            {
                schema["default"] = absent;
            }
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
                example_value(request, &route.input, &path).map(as_query_value)
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
            message_schema(&route.input, &top_bound, facts)
        } else {
            match field_at(&route.input, body) {
                // The message inline, so that its `default` (the first example) stays beside
                // it: an importer that resolves a `$ref` drops what is beside it.
                Some(f) => match f.kind() {
                    Kind::Message(resource) if !f.is_list() && !f.is_map() => {
                        let mut schema = message_schema(&resource, &BTreeSet::new(), facts);
                        // An update carries the fields its mask names: none is required on
                        // its own.
                        if route.method == http::Method::PATCH
                            && let Value::Object(object) = &mut schema
                        {
                            object.remove("required");
                        }
                        if let Some(text) = field_comment(&f) {
                            schema["description"] = Value::String(text);
                        }
                        schema
                    }
                    _ => body_field_schema(&f),
                },
                None => json!({}),
            }
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
