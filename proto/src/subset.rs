//! A part of the descriptor set: the files that declare some services, with everything they
//! import, as the compiler encoded them (so custom options survive).

use std::collections::{BTreeMap, BTreeSet};

use prost::Message as _;
use prost::bytes::Buf as _;
use prost::encoding::{WireType, decode_key, decode_varint, encode_key, encode_varint};

use crate::FILE_DESCRIPTOR_SET;

/// One file of the set: its encoded bytes and what reflection needs to know of it.
struct File<'a> {
    encoded: &'a [u8],
    dependencies: Vec<String>,
    services: Vec<String>,
}

/// The files of the encoded set, by name, or `None` when it does not parse.
fn files(set: &[u8]) -> Option<BTreeMap<String, File<'_>>> {
    let mut rest = set;
    let mut files = BTreeMap::new();
    while !rest.is_empty() {
        let (tag, wire_type) = decode_key(&mut rest).ok()?;
        if tag != 1 || wire_type != WireType::LengthDelimited {
            return None;
        }
        let len = usize::try_from(decode_varint(&mut rest).ok()?).ok()?;
        let encoded = rest.get(..len)?;
        rest.advance(len);
        let proto = prost_types::FileDescriptorProto::decode(encoded).ok()?;
        let package = proto.package();
        let services = proto
            .service
            .iter()
            .map(|service| format!("{package}.{}", service.name()))
            .collect();
        files.insert(
            proto.name().to_owned(),
            File {
                encoded,
                dependencies: proto.dependency,
                services,
            },
        );
    }
    Some(files)
}

/// The encoded `FileDescriptorSet` of the files declaring any of `services` and every file
/// they import, in the set's order; empty when none is declared.
pub fn descriptor_set_for(services: &[&str]) -> Vec<u8> {
    let Some(files) = files(FILE_DESCRIPTOR_SET) else {
        return Vec::new();
    };
    let mut wanted: BTreeSet<&str> = BTreeSet::new();
    let mut todo: Vec<&str> = files
        .iter()
        .filter(|(_, file)| file.services.iter().any(|s| services.contains(&s.as_str())))
        .map(|(name, _)| name.as_str())
        .collect();
    while let Some(name) = todo.pop() {
        if wanted.insert(name)
            && let Some(file) = files.get(name)
        {
            todo.extend(file.dependencies.iter().map(String::as_str));
        }
    }
    let mut out = Vec::new();
    for (name, file) in &files {
        if wanted.contains(name.as_str()) {
            encode_key(1, WireType::LengthDelimited, &mut out);
            encode_varint(file.encoded.len() as u64, &mut out);
            out.extend_from_slice(file.encoded);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use prost_reflect::DescriptorPool;

    use super::*;

    #[test]
    fn a_services_set_holds_it_and_its_imports_only() {
        let set = descriptor_set_for(&["sandbox06.citizen.v1.CitizenService"]);
        let pool = DescriptorPool::decode(set.as_slice()).unwrap();
        assert!(
            pool.get_service_by_name("sandbox06.citizen.v1.CitizenService")
                .is_some()
        );
        assert!(
            pool.get_message_by_name("sandbox06.types.v1.Date")
                .is_some()
        );
        assert!(
            pool.get_service_by_name("sandbox06.upstream.population.v1.PopulationService")
                .is_none()
        );
        // The custom options travel with the files.
        let method = pool
            .get_service_by_name("sandbox06.citizen.v1.CitizenService")
            .unwrap()
            .methods()
            .next()
            .unwrap();
        let options = method.options();
        assert!(
            options
                .extensions()
                .any(|(ext, _)| ext.full_name() == "sandbox06.options.v1.policy"),
            "{options:?}"
        );
        assert!(descriptor_set_for(&["no.such.Service"]).is_empty());
    }
}
