//! `read_mask` of GetCitizen: validated against the contract, applied to the response.

use prost::Message;
use prost_reflect::{DynamicMessage, FieldDescriptor, MessageDescriptor, ReflectMessage};
use sandbox06_proto::{DESCRIPTOR_POOL, citizen::Citizen};

use sandbox06_runtime::error::quote;

use crate::error::CitizenError;

const CITIZEN: &str = "sandbox06.citizen.v1.Citizen";

fn descriptor() -> Option<MessageDescriptor> {
    DESCRIPTOR_POOL.get_message_by_name(CITIZEN)
}

/// A field mask's JSON form writes paths in lowerCamelCase, which the REST edge (as every proto3
/// JSON parser) turns back into snake_case by putting `_` before each capital. A field whose
/// name does not survive the round trip (`pre_2025` ↔ `pre2025`) is then named by that form.
fn json_form_path(json_name: &str) -> String {
    let mut path = String::with_capacity(json_name.len() + 4);
    for c in json_name.chars() {
        if c.is_ascii_uppercase() {
            path.push('_');
            path.push(c.to_ascii_lowercase());
        } else {
            path.push(c);
        }
    }
    path
}

/// Whether a path segment names `field`: by its proto name, or by the form its JSON name takes
/// back from a field mask's JSON form.
fn names(field: &FieldDescriptor, segment: &str) -> bool {
    field.name() == segment || json_form_path(field.json_name()) == segment
}

/// The field of `message` a path segment names.
fn field_named(message: &MessageDescriptor, segment: &str) -> Option<FieldDescriptor> {
    message
        .get_field_by_name(segment)
        .or_else(|| message.fields().find(|field| names(field, segment)))
}

fn bad_path(index: usize, description: String) -> CitizenError {
    CitizenError::FieldMask {
        field: format!("read_mask.paths[{index}]"),
        description,
    }
}

/// Checks every path names a field of Citizen (nested with dots), before any upstream call.
pub fn validate(paths: &[String]) -> Result<(), CitizenError> {
    let root =
        descriptor().ok_or_else(|| CitizenError::Internal("citizen descriptor missing".into()))?;
    for (i, path) in paths.iter().enumerate() {
        let mut message = root.clone();
        let mut segments = path.split('.').peekable();
        while let Some(segment) = segments.next() {
            let field = field_named(&message, segment).ok_or_else(|| {
                bad_path(
                    i,
                    format!(
                        "{} is not a field of Citizen (e.g. \"full_name\", \"card.expiry_date\")",
                        quote(path)
                    ),
                )
            })?;
            match (field.kind().as_message(), segments.peek()) {
                (Some(m), Some(_)) if !field.is_list() => message = m.clone(),
                (_, Some(_)) => {
                    return Err(bad_path(
                        i,
                        format!(
                            "{}: field {} has no subfields to select",
                            quote(path),
                            quote(segment)
                        ),
                    ));
                }
                (_, None) => {}
            }
        }
    }
    Ok(())
}

fn retain(message: &mut DynamicMessage, paths: &[Vec<&str>]) {
    let fields: Vec<_> = message.descriptor().fields().collect();
    for field in fields {
        let selected: Vec<Vec<&str>> = paths
            .iter()
            .filter(|p| p.first().is_some_and(|segment| names(&field, segment)))
            .map(|p| p[1..].to_vec())
            .collect();
        if selected.is_empty() {
            message.clear_field(&field);
        } else if selected.iter().all(|rest| !rest.is_empty())
            && message.has_field(&field)
            && let prost_reflect::Value::Message(child) = message.get_field_mut(&field)
        {
            retain(child, &selected);
        }
    }
}

/// Keeps only the fields named by `paths` (all of them when empty).
pub fn apply(citizen: Citizen, paths: &[String]) -> Result<Citizen, CitizenError> {
    if paths.is_empty() {
        return Ok(citizen);
    }
    let descriptor = descriptor().ok_or_else(|| internal("the citizen descriptor is missing"))?;
    let mut dynamic =
        DynamicMessage::decode(descriptor, citizen.encode_to_vec().as_slice()).map_err(internal)?;
    let split: Vec<Vec<&str>> = paths.iter().map(|p| p.split('.').collect()).collect();
    retain(&mut dynamic, &split);
    Citizen::decode(dynamic.encode_to_vec().as_slice()).map_err(internal)
}

/// A read mask that could not be applied: a bug, logged with the library's text; the caller
/// reads the service's own words.
fn internal(error: impl std::fmt::Display) -> CitizenError {
    tracing::warn!(error = %error, "a read mask could not be applied");
    CitizenError::Internal(
        "the read mask could not be applied: an internal error of the citizen service".to_owned(),
    )
}
