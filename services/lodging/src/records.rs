//! What the lodging service keeps in its state store, and the one codec of each record.
//!
//! Every key carries the hash tag `{lodging}`, so that a change of a declaration, its delivery
//! entry and its event are one atomic step on Redis (one slot of a Redis Cluster) as in memory.
//! The store is the component's own (`<namespace>.lodging`), and each tenant's is its own.
//!
//! | key | kind | what |
//! |---|---|---|
//! | `lodging:{lodging}:declaration:<facility>/<id>` | list | the declaration's revisions, one [`Revision`] each, oldest first: revision *n* is item *n*; a change appends only while the list has the length read (compare-and-append) |
//! | `lodging:{lodging}:delivery:<facility>/<id>` | value | the registry's latest answer and the attempts ([`DeliveryRecord`]) |
//! | `lodging:{lodging}:arrivals:<facility>` | sorted set | declaration ids by arrival (ms): listing and paging |
//! | `lodging:{lodging}:stays:<document>` | sorted set | `<facility>/<id>` of every declaration with a guest of this document number, by arrival: overlapping stays and the `document_number` filter |
//! | `lodging:{lodging}:request:<facility>/<request id>` | value, 24 h | a create's request id: its digest and the declaration id it records |
//! | `outbox:{lodging}` | outbox | every event ([`StoredEvent`]) in order: the changes, delivered to the registry by the worker, and the registry's answers; the watch reads it |
//! | `lodging:{lodging}:events:trimmed` | value | the last event id trimmed away |

use sandbox06_proto::lodging as pb;

/// The outbox of every event.
pub const OUTBOX: &str = "outbox:{lodging}";

/// The key of a declaration's revisions.
pub fn declaration_key(facility: &str, id: &str) -> String {
    format!("lodging:{{lodging}}:declaration:{facility}/{id}")
}

/// The key of a declaration's delivery record.
pub fn delivery_key(facility: &str, id: &str) -> String {
    format!("lodging:{{lodging}}:delivery:{facility}/{id}")
}

/// The key of a facility's arrivals index.
pub fn arrivals_key(facility: &str) -> String {
    format!("lodging:{{lodging}}:arrivals:{facility}")
}

/// The key of a document number's stays index.
pub fn stays_key(document: &str) -> String {
    format!("lodging:{{lodging}}:stays:{document}")
}

/// The key of a create's request id.
pub fn request_key(facility: &str, request_id: &str) -> String {
    format!("lodging:{{lodging}}:request:{facility}/{request_id}")
}

/// The key of the last trimmed event id.
pub const TRIMMED_KEY: &str = "lodging:{lodging}:events:trimmed";

/// One revision of a declaration: the declaration as it stood after the change, and the
/// request that made it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Revision {
    /// The declaration right after the change (its delivery pending).
    #[prost(message, optional, tag = "1")]
    pub declaration: Option<pb::Declaration>,
    /// The caller's request id, when it gave one.
    #[prost(string, tag = "2")]
    pub request_id: String,
    /// SHA-256 of the request that made it.
    #[prost(bytes = "vec", tag = "3")]
    pub digest: Vec<u8>,
    /// The change (`DeclarationEventType`).
    #[prost(int32, tag = "4")]
    pub change: i32,
}

/// An event of the outbox: a change of a declaration, to deliver, or an answer of the
/// registry.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StoredEvent {
    /// The facility.
    #[prost(string, tag = "1")]
    pub facility_id: String,
    /// `DeclarationEventType`.
    #[prost(int32, tag = "2")]
    pub r#type: i32,
    /// When it happened, ms since the epoch on the suite's clock.
    #[prost(int64, tag = "3")]
    pub time_ms: i64,
    /// The declaration right after it.
    #[prost(message, optional, tag = "4")]
    pub declaration: Option<pb::Declaration>,
    /// A check out's departing guests.
    #[prost(string, repeated, tag = "5")]
    pub departed_guest_ids: Vec<String>,
}

impl StoredEvent {
    /// Whether the event is a change to deliver to the registry (not an answer of it).
    pub fn is_change(&self) -> bool {
        matches!(
            pb::DeclarationEventType::try_from(self.r#type),
            Ok(pb::DeclarationEventType::Created
                | pb::DeclarationEventType::Updated
                | pb::DeclarationEventType::CheckedOut
                | pb::DeclarationEventType::Cancelled)
        )
    }
}

/// Where a declaration stands with the registry.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DeliveryRecord {
    /// The status of `delivery.revision`.
    #[prost(message, optional, tag = "1")]
    pub delivery: Option<pb::Delivery>,
    /// The latest revision the registry answered (0: none).
    #[prost(int64, tag = "2")]
    pub answered_revision: i64,
}

/// A create's request id: the request's digest and the declaration it records.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RequestClaim {
    /// SHA-256 of the request.
    #[prost(bytes = "vec", tag = "1")]
    pub digest: Vec<u8>,
    /// The declaration id it records.
    #[prost(string, tag = "2")]
    pub declaration_id: String,
}

/// Decodes a record; `None` when the bytes are not one (a store written by another version).
pub fn decode<T: prost::Message + Default>(bytes: &[u8]) -> Option<T> {
    T::decode(bytes).ok()
}

/// Encodes a record.
pub fn encode<T: prost::Message>(record: &T) -> Vec<u8> {
    record.encode_to_vec()
}

/// SHA-256 of `parts`, each length-prefixed.
pub fn digest(parts: &[&[u8]]) -> Vec<u8> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in parts {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    ctx.finish().as_ref().to_vec()
}

/// The etag of a declaration at `revision`: opaque to callers.
pub fn etag(revision: i64, digest: &[u8]) -> String {
    let tail = sandbox06_runtime::digest::hex(digest.get(..4).unwrap_or(digest));
    format!("\"{revision}-{tail}\"")
}
