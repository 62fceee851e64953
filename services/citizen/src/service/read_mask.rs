//! `read_mask` of GetCitizen: validated against the contract, applied to the response.

use prost::Message;
use prost_reflect::{FieldDescriptor, MessageDescriptor};
use sandbox06_proto::{DESCRIPTOR_POOL, citizen::Citizen, population::RecordView};

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

/// A validated read mask, as the fields it keeps: by field number, each whole or reduced to the
/// fields of its own mask. Empty, it keeps everything.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Mask {
    fields: Vec<(u32, Option<Mask>)>,
}

/// The fields of Citizen the population database's identity view holds with the same values
/// as its full view (`RecordView` of the population database: number, name, date of birth,
/// sex, life status, date of death).
const IDENTITY_VIEW_FIELDS: &[&str] = &[
    "citizen_id",
    "full_name",
    "date_of_birth",
    "sex",
    "life_status",
    "date_of_death",
];

/// What the population database's basic view adds to the identity view.
const BASIC_VIEW_FIELDS: &[&str] = &["card", "vneid", "persona"];

/// What the population database's address view adds to the basic view.
const ADDRESS_VIEW_FIELD: &str = "permanent_address";

/// The narrowest view of the population database that holds the field `name`.
fn view_of(name: &str) -> RecordView {
    if IDENTITY_VIEW_FIELDS.contains(&name) {
        RecordView::Identity
    } else if BASIC_VIEW_FIELDS.contains(&name) {
        RecordView::Basic
    } else if name == ADDRESS_VIEW_FIELD {
        RecordView::Address
    } else {
        RecordView::Full
    }
}

/// Each view holds every narrower one's fields: identity, basic, address, full.
fn breadth(view: RecordView) -> u8 {
    match view {
        RecordView::Identity => 0,
        RecordView::Basic => 1,
        RecordView::Address => 2,
        RecordView::Full | RecordView::Unspecified => 3,
    }
}

impl Mask {
    /// Whether the mask keeps every field.
    pub fn keeps_all(&self) -> bool {
        self.fields.is_empty()
    }

    /// The narrowest view of the population database that holds what the mask keeps: the
    /// identity view for the fields records are matched on, the basic view when the card,
    /// account or persona is kept too, the address view when the permanent address is, the
    /// full record otherwise.
    pub fn view(&self) -> RecordView {
        let Some(root) = descriptor() else {
            return RecordView::Full;
        };
        if self.keeps_all() {
            return RecordView::Full;
        }
        self.fields
            .iter()
            .map(|(number, _)| {
                root.get_field(*number)
                    .map_or(RecordView::Full, |field| view_of(field.name()))
            })
            .max_by_key(|view| breadth(*view))
            .unwrap_or(RecordView::Full)
    }

    /// Adds the path of `numbers`: the last field whole, the others reduced to it.
    fn add(&mut self, numbers: &[u32]) {
        let Some((&first, rest)) = numbers.split_first() else {
            return;
        };
        let at = match self.fields.iter().position(|(n, _)| *n == first) {
            Some(at) => at,
            None => {
                let sub = (!rest.is_empty()).then(Mask::default);
                self.fields.push((first, sub));
                self.fields.len() - 1
            }
        };
        match (&mut self.fields[at].1, rest.is_empty()) {
            // Named whole: it stays whole, whatever else names its fields.
            (sub @ Some(_), true) => *sub = None,
            (Some(sub), false) => sub.add(rest),
            (None, _) => {}
        }
    }

    fn get(&self, number: u32) -> Option<&Option<Mask>> {
        self.fields
            .iter()
            .find_map(|(n, sub)| (*n == number).then_some(sub))
    }
}

/// Checks every path names a field of Citizen (nested with dots), before any upstream call:
/// the mask they make.
pub fn validate(paths: &[String]) -> Result<Mask, CitizenError> {
    let root =
        descriptor().ok_or_else(|| CitizenError::Internal("citizen descriptor missing".into()))?;
    let mut mask = Mask::default();
    for (i, path) in paths.iter().enumerate() {
        let mut message = root.clone();
        let mut numbers = Vec::new();
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
            numbers.push(field.number());
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
        mask.add(&numbers);
    }
    Ok(mask)
}

/// Copies to `out` the fields of the encoded message `bytes` that `mask` keeps, reducing the
/// nested ones to their own masks: the message as the mask leaves it, without decoding it.
fn filter(mut bytes: &[u8], mask: &Mask, out: &mut Vec<u8>) -> Result<(), &'static str> {
    use prost::encoding::encode_varint;
    let decode_varint =
        |bytes: &mut &[u8]| prost::encoding::decode_varint(bytes).map_err(|_| "a malformed varint");
    while !bytes.is_empty() {
        let field = bytes;
        let key = decode_varint(&mut bytes)?;
        let number = u32::try_from(key >> 3).map_err(|_| "a field number out of range")?;
        let (payload, len) = match key & 7 {
            0 => {
                decode_varint(&mut bytes)?;
                (None, 0)
            }
            1 => (None, 8),
            5 => (None, 4),
            2 => {
                let len = usize::try_from(decode_varint(&mut bytes)?)
                    .map_err(|_| "a length out of range")?;
                (Some(len), len)
            }
            _ => return Err("an unexpected wire type"),
        };
        if bytes.len() < len {
            return Err("a truncated field");
        }
        let (value, rest) = bytes.split_at(len);
        let whole = &field[..field.len() - rest.len()];
        bytes = rest;
        match (mask.get(number), payload) {
            (None, _) => {}
            (Some(Some(sub)), Some(_)) => {
                let mut reduced = Vec::with_capacity(value.len());
                filter(value, sub, &mut reduced)?;
                encode_varint(key, out);
                encode_varint(reduced.len() as u64, out);
                out.extend_from_slice(&reduced);
            }
            (Some(_), _) => out.extend_from_slice(whole),
        }
    }
    Ok(())
}

/// Keeps only the fields `mask` names (all of them when it names none), in one pass over the
/// encoded record.
pub fn apply(citizen: Citizen, mask: &Mask) -> Result<Citizen, CitizenError> {
    if mask.keeps_all() {
        return Ok(citizen);
    }
    let encoded = citizen.encode_to_vec();
    let mut kept = Vec::with_capacity(encoded.len());
    filter(&encoded, mask, &mut kept).map_err(internal)?;
    Citizen::decode(kept.as_slice()).map_err(internal)
}

/// A read mask that could not be applied: a bug, logged with the library's text; the caller
/// reads the service's own words.
fn internal(error: impl std::fmt::Display) -> CitizenError {
    tracing::warn!(error = %error, "a read mask could not be applied");
    CitizenError::Internal(
        "the read mask could not be applied: an internal error of the citizen service".to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use sandbox06_proto::types;

    use super::*;

    fn paths(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| (*s).to_owned()).collect()
    }

    fn citizen() -> Citizen {
        let place = |text: &str| types::AdministrativeAddress {
            text: text.into(),
            province_code: "01".into(),
            ..Default::default()
        };
        Citizen {
            citizen_id: "001090012345".into(),
            full_name: "Nguyễn Văn An".into(),
            sex: types::Sex::Male as i32,
            permanent_address: Some(types::Address {
                pre_2025: Some(place("old")),
                current: Some(place("new")),
            }),
            previous_addresses: vec![types::Address {
                pre_2025: None,
                current: Some(place("before")),
            }],
            card: Some(types::IdentityCard {
                number: "001090012345".into(),
                expiry_date: Some(types::Date {
                    year: 2030,
                    month: 1,
                    day: 1,
                }),
                status: types::CardStatus::Valid as i32,
                ..Default::default()
            }),
            persona: "plain".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_mask_keeps_what_it_names_whole_or_in_part() {
        let mask = validate(&paths(&[
            "full_name",
            "card.expiry_date",
            "permanent_address.current.text",
            "previous_addresses",
        ]))
        .unwrap();
        let kept = apply(citizen(), &mask).unwrap();
        let full = citizen();
        assert_eq!(
            kept,
            Citizen {
                full_name: full.full_name,
                card: Some(types::IdentityCard {
                    expiry_date: full.card.unwrap().expiry_date,
                    ..Default::default()
                }),
                permanent_address: Some(types::Address {
                    pre_2025: None,
                    current: Some(types::AdministrativeAddress {
                        text: "new".into(),
                        ..Default::default()
                    }),
                }),
                previous_addresses: full.previous_addresses,
                ..Default::default()
            }
        );
    }

    #[test]
    fn a_field_named_whole_stays_whole_whatever_names_its_parts() {
        for order in [["card", "card.status"], ["card.status", "card"]] {
            let mask = validate(&paths(&order)).unwrap();
            assert_eq!(apply(citizen(), &mask).unwrap().card, citizen().card);
        }
        // A part of an unset message leaves it unset.
        let mask = validate(&paths(&["household.members", "sex"])).unwrap();
        let kept = apply(citizen(), &mask).unwrap();
        assert_eq!(kept.household, None);
        assert_eq!(kept.sex, types::Sex::Male as i32);
    }

    #[test]
    fn no_mask_keeps_everything() {
        let mask = validate(&[]).unwrap();
        assert!(mask.keeps_all());
        assert_eq!(apply(citizen(), &mask).unwrap(), citizen());
    }

    #[test]
    fn a_mask_is_read_from_the_narrowest_view_that_holds_it() {
        for identity in [
            &["full_name"][..],
            &["citizen_id", "date_of_birth", "sex", "life_status"],
            &["date_of_death"],
        ] {
            assert_eq!(
                validate(&paths(identity)).unwrap().view(),
                RecordView::Identity,
                "{identity:?}"
            );
        }
        for basic in [
            &["card.expiry_date", "vneid", "date_of_death"][..],
            &["persona"],
            &["full_name", "card"],
        ] {
            assert_eq!(
                validate(&paths(basic)).unwrap().view(),
                RecordView::Basic,
                "{basic:?}"
            );
        }
        for address in [
            &["permanent_address.current"][..],
            &["full_name", "permanent_address"],
        ] {
            assert_eq!(
                validate(&paths(address)).unwrap().view(),
                RecordView::Address,
                "{address:?}"
            );
        }
        for full in [
            &[][..],
            &["full_name", "household"],
            &["permanent_address", "previous_addresses"],
            &["previous_cards"],
            &["ethnicity"],
        ] {
            assert_eq!(
                validate(&paths(full)).unwrap().view(),
                RecordView::Full,
                "{full:?}"
            );
        }
    }
}
