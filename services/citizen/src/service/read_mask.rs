//! `read_mask` of GetCitizen: validated against the contract, applied to the response.

use prost::Message;
use prost_reflect::{DynamicMessage, MessageDescriptor, ReflectMessage};
use sandbox06_proto::{DESCRIPTOR_POOL, citizen::Citizen};

use sandbox06_runtime::error::quote;

use crate::error::CitizenError;

const CITIZEN: &str = "sandbox06.citizen.v1.Citizen";

fn descriptor() -> Option<MessageDescriptor> {
    DESCRIPTOR_POOL.get_message_by_name(CITIZEN)
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
            let field = message.get_field_by_name(segment).ok_or_else(|| {
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
        let name = field.name();
        let selected: Vec<Vec<&str>> = paths
            .iter()
            .filter(|p| p.first() == Some(&name))
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
    let internal = |e: String| CitizenError::Internal(format!("read mask: {e}"));
    let descriptor = descriptor().ok_or_else(|| internal("citizen descriptor missing".into()))?;
    let mut dynamic = DynamicMessage::decode(descriptor, citizen.encode_to_vec().as_slice())
        .map_err(|e| internal(e.to_string()))?;
    let split: Vec<Vec<&str>> = paths.iter().map(|p| p.split('.').collect()).collect();
    retain(&mut dynamic, &split);
    Citizen::decode(dynamic.encode_to_vec().as_slice()).map_err(|e| internal(e.to_string()))
}
