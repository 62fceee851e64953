//! The request examples beside the contract (`*.examples.json`), and how the document uses them.

use prost_reflect::{Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

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

pub(super) fn example(service: &str, method: &str, entry: &Value) -> Result<Example, ExampleError> {
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

/// The value at dotted `path` (proto or JSON names) of an example request.
pub(super) fn example_value<'a>(
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

/// An example value of a query parameter: a boolean as itself (its schema's type), anything
/// else as text.
pub(super) fn as_query_value(value: &Value) -> Value {
    match value {
        Value::Bool(_) => value.clone(),
        other => as_text(other),
    }
}

/// The text of an example value in a path or query.
pub(super) fn as_text(value: &Value) -> Value {
    match value {
        Value::String(_) | Value::Array(_) => value.clone(),
        other => Value::String(other.to_string()),
    }
}

/// Gives `content`'s schema its first example as `default`: the value an importer fills in when it
/// builds a request from the schema (Postman's "Schema" parameter generation fakes one
/// otherwise, and a faked QR payload or date is refused).
pub(super) fn default_from_example(content: &mut Value) {
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
pub(super) fn add_examples(
    target: &mut Value,
    examples: &[&Example],
    pick: impl Fn(&Value) -> Option<Value>,
) {
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
