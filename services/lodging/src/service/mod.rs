//! The lodging service's logic: facilities, declarations and their changes, judged by the rules
//! and recorded with their delivery entry in one step. The gRPC adapter is [`grpc`]; the
//! listing is [`list`]; the watch of events is [`crate::events`].

mod change;
mod grpc;
mod list;

use std::collections::HashSet;
use std::sync::Arc;

use prost::Message as _;
use sandbox06_proto::{
    dates::{date_from_proto, time_from_proto, time_to_proto},
    lodging::{self as pb, DeclarationEventType as Ev, DeclarationState},
    types,
};
use sandbox06_runtime::{caller::Caller, clock::Clock, error::UpstreamFailure};
use sandbox06_store::{ListAppend, StateWrite, Store};
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::error::{BadField, LodgingError, LodgingReason};
use crate::facility::{Facilities, Facility, Placement, is_resource_id};
use crate::input::{self, DraftGuest, Identity, Problems};
use crate::records::{self, DeliveryRecord, RequestClaim, Revision, StoredEvent};
use crate::rules::{self, Judged};
use crate::upstream::{CitizenClaim, Citizens, ShareCodes};

pub use list::PAGE_SIZE_MAX;

/// How long a create's request id is kept, on the suite's clock.
pub const REQUEST_ID_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Other stays of a guest read to judge an overlap, at most.
const OVERLAP_CANDIDATES: usize = 20;

/// The citizen service, as failures name it.
const CITIZEN: &str = "citizen";
const CITIZEN_SYSTEM: &str = "the citizen service";
/// The VNeID mock, as failures name it.
pub(crate) const VNEID: &str = "vneid";
const VNEID_SYSTEM: &str = "VNeID";

/// The lodging service.
#[derive(Clone)]
pub struct Lodging {
    facilities: Facilities,
    store: Arc<dyn Store>,
    clock: Clock,
    citizens: Arc<dyn Citizens>,
    shares: Arc<dyn ShareCodes>,
    /// Woken when this process enqueues an event: the watch and the delivery worker.
    changed: Arc<Notify>,
}

impl std::fmt::Debug for Lodging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lodging").finish_non_exhaustive()
    }
}

/// The key of a guest for overlapping stays and the document filter: `VNM:<ID number>` for a
/// citizen, `<nationality>:<passport number>` for a foreigner.
pub(crate) fn document_key(guest: &pb::Guest) -> Option<String> {
    match &guest.identity {
        Some(pb::guest::Identity::Citizen(c)) => Some(format!("VNM:{}", c.citizen_id.trim())),
        Some(pb::guest::Identity::Foreigner(f)) => Some(format!(
            "{}:{}",
            f.nationality.trim(),
            f.passport_number.trim()
        )),
        _ => None,
    }
}

/// The document numbers a guest is found by: its ID number, passport or document number.
pub(crate) fn document_numbers(guest: &pb::Guest) -> Vec<&str> {
    match &guest.identity {
        Some(pb::guest::Identity::Citizen(c)) => {
            let mut out = vec![c.citizen_id.trim()];
            if !c.document_number.trim().is_empty() {
                out.push(c.document_number.trim());
            }
            out
        }
        Some(pb::guest::Identity::Foreigner(f)) => vec![f.passport_number.trim()],
        _ => Vec::new(),
    }
}

fn ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn time_of(at: Option<&prost_types::Timestamp>) -> Option<OffsetDateTime> {
    at.and_then(|t| time_from_proto(t, "").ok())
}

fn state_words(state: i32) -> &'static str {
    match DeclarationState::try_from(state) {
        Ok(DeclarationState::CheckedOut) => "checked out",
        Ok(DeclarationState::Cancelled) => "cancelled",
        _ => "closed",
    }
}

/// A random declaration id: `d` and 20 base-32 characters.
fn new_declaration_id() -> String {
    use ring::rand::SecureRandom as _;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut bytes = [0u8; 20];
    // The system's generator does not fail once the process runs; a failure leaves zeros,
    // which the compare-and-append then refuses as a taken id rather than overwriting.
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    std::iter::once('d')
        .chain(
            bytes
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(b & 31)])),
        )
        .collect()
}

impl Lodging {
    /// The service over `store`, judging on `clock`.
    pub fn new(
        facilities: Facilities,
        store: Arc<dyn Store>,
        clock: Clock,
        citizens: Arc<dyn Citizens>,
        shares: Arc<dyn ShareCodes>,
    ) -> Self {
        Self {
            facilities,
            store,
            clock,
            citizens,
            shares,
            changed: Arc::new(Notify::new()),
        }
    }

    /// The facilities.
    pub fn facilities(&self) -> &Facilities {
        &self.facilities
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Woken when this process enqueues an event.
    pub fn changed(&self) -> &Arc<Notify> {
        &self.changed
    }

    /// The facility `id` when the caller may use it; an empty id is a bad field.
    fn facility(&self, caller: &Caller, id: &str) -> Result<&Facility, LodgingError> {
        if id.trim().is_empty() {
            return Err(LodgingError::Invalid(vec![BadField::new(
                "facility_id",
                "is required",
            )]));
        }
        self.facilities.permitted(caller, id)
    }

    /// Reads a facility.
    pub fn get_facility(&self, caller: &Caller, id: &str) -> Result<pb::Facility, LodgingError> {
        Ok(self.facility(caller, id)?.resource.clone())
    }

    /// The revisions of a declaration, oldest first.
    async fn revisions(&self, facility: &str, id: &str) -> Result<Vec<Revision>, LodgingError> {
        let items = self
            .store
            .list(&records::declaration_key(facility, id))
            .await?;
        Ok(items
            .iter()
            .filter_map(|bytes| records::decode::<Revision>(bytes))
            .collect())
    }

    /// The delivery of `declaration` (its latest revision) as the registry answered it so far.
    pub(crate) async fn with_delivery(
        &self,
        facility: &str,
        id: &str,
        mut declaration: pb::Declaration,
    ) -> Result<pb::Declaration, LodgingError> {
        let record = self
            .store
            .get(&records::delivery_key(facility, id))
            .await?
            .and_then(|bytes| records::decode::<DeliveryRecord>(&bytes));
        if let Some(delivery) = record.and_then(|r| r.delivery)
            && delivery.revision == declaration.revision
        {
            declaration.delivery = Some(delivery);
        }
        Ok(declaration)
    }

    /// The declaration as it stands now, or `DECLARATION_NOT_FOUND`.
    pub(crate) async fn current(
        &self,
        facility: &str,
        id: &str,
    ) -> Result<(Vec<Revision>, pb::Declaration), LodgingError> {
        let not_found = || LodgingError::DeclarationNotFound {
            declaration_id: id.to_owned(),
        };
        if !is_resource_id(id) {
            return Err(not_found());
        }
        let revisions = self.revisions(facility, id).await?;
        let latest = revisions
            .last()
            .and_then(|r| r.declaration.clone())
            .ok_or_else(not_found)?;
        let declaration = self.with_delivery(facility, id, latest).await?;
        Ok((revisions, declaration))
    }

    /// Reads a declaration.
    pub async fn get_declaration(
        &self,
        caller: &Caller,
        r: pb::GetDeclarationRequest,
    ) -> Result<pb::Declaration, LodgingError> {
        let facility = self.facility(caller, &r.facility_id)?;
        if r.declaration_id.trim().is_empty() {
            return Err(LodgingError::Invalid(vec![BadField::new(
                "declaration_id",
                "is required",
            )]));
        }
        Ok(self.current(&facility.id, &r.declaration_id).await?.1)
    }

    /// Redeems (or, with `validate_only`, reads) the share codes among `guests`, replacing each
    /// by the citizen it releases.
    async fn redeem_shares(
        &self,
        facility: &Facility,
        guests: &mut [DraftGuest],
        validate_only: bool,
    ) -> Result<(), LodgingError> {
        let audience = format!("facilities/{}", facility.id);
        for (index, draft) in guests.iter_mut().enumerate() {
            let Identity::Share(code) = &draft.identity else {
                continue;
            };
            let shared = self
                .shares
                .redeem(code, &audience, validate_only)
                .await
                .map_err(|status| share_refusal(index, &status))?;
            let citizen = pb::CitizenGuest {
                citizen_id: shared.citizen_id,
                document_type: types::DocumentType::Cccd as i32,
                document_number: String::new(),
                full_name: shared.full_name,
                date_of_birth: shared.date_of_birth,
                sex: shared.sex,
                residence_status: types::ResidenceStatus::Permanent as i32,
                residence_address: shared.residence_address,
            };
            draft.guest.identity = Some(pb::guest::Identity::Citizen(citizen.clone()));
            draft.guest.data_source = pb::GuestDataSource::VneidShareCode as i32;
            draft.identity = Identity::Citizen(citizen);
        }
        Ok(())
    }

    /// Whether another facility declares the guest `key` for a time from `arrival` to
    /// `departure` overlaps.
    async fn overlaps(
        &self,
        facility: &str,
        own_id: &str,
        key: &str,
        guest: &pb::Guest,
        arrival: OffsetDateTime,
        departure: OffsetDateTime,
    ) -> Result<bool, LodgingError> {
        let candidates = self
            .store
            .zrange(
                &records::stays_key(key),
                sandbox06_store::ScoreRange {
                    min: i64::MIN / 2,
                    max: ms(departure) - 1,
                    rev: true,
                    offset: 0,
                    limit: OVERLAP_CANDIDATES,
                },
            )
            .await?;
        for candidate in candidates {
            let Some((other_facility, other_id)) = candidate.member.split_once('/') else {
                continue;
            };
            if other_facility == facility && other_id == own_id {
                continue;
            }
            if other_facility == facility {
                // The same facility's own stays are not another facility's.
                continue;
            }
            let Some(other) = self
                .revisions(other_facility, other_id)
                .await?
                .pop()
                .and_then(|r| r.declaration)
            else {
                continue;
            };
            if other.state == DeclarationState::Cancelled as i32 {
                continue;
            }
            let own_key = document_key(guest);
            let Some(other_guest) = other.guests.iter().find(|g| document_key(g) == own_key) else {
                continue;
            };
            let Some(other_arrival) = time_of(other.arrival_time.as_ref()) else {
                continue;
            };
            let other_end = time_of(other_guest.departure_time.as_ref())
                .or_else(|| time_of(other.expected_departure_time.as_ref()));
            if other_arrival < departure && other_end.is_some_and(|end| end > arrival) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The findings about `guests` of a declaration at `facility`.
    async fn judge(
        &self,
        facility: &Facility,
        own_id: &str,
        guests: &[pb::Guest],
        arrival: OffsetDateTime,
        departure: OffsetDateTime,
    ) -> Result<Vec<pb::Finding>, LodgingError> {
        let staying: Vec<&pb::Guest> = guests
            .iter()
            .filter(|g| g.departure_time.is_none())
            .collect();
        let mut claims = Vec::new();
        let mut claim_of = Vec::with_capacity(staying.len());
        for g in &staying {
            match &g.identity {
                Some(pb::guest::Identity::Citizen(c)) => {
                    let born = c
                        .date_of_birth
                        .as_ref()
                        .and_then(|d| date_from_proto(d, "").ok());
                    match born {
                        Some(date_of_birth) => {
                            claim_of.push(Some(claims.len()));
                            claims.push(CitizenClaim {
                                citizen_id: c.citizen_id.trim().to_owned(),
                                full_name: c.full_name.clone(),
                                date_of_birth,
                            });
                        }
                        None => claim_of.push(None),
                    }
                }
                _ => claim_of.push(None),
            }
        }
        let checks = self
            .citizens
            .check(&claims)
            .await
            .map_err(|status| UpstreamFailure::from_status(CITIZEN, CITIZEN_SYSTEM, &status))?;
        let mut overlapping = Vec::with_capacity(staying.len());
        for g in &staying {
            let overlap = match document_key(g) {
                Some(key) if facility.placement() != Placement::CoachTrip => {
                    self.overlaps(&facility.id, own_id, &key, g, arrival, departure)
                        .await?
                }
                _ => false,
            };
            overlapping.push(overlap);
        }
        let judged: Vec<Judged<'_>> = staying
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let (born, permitted_until) = match &g.identity {
                    Some(pb::guest::Identity::Citizen(c)) => (
                        c.date_of_birth
                            .as_ref()
                            .and_then(|d| date_from_proto(d, "").ok()),
                        None,
                    ),
                    Some(pb::guest::Identity::Foreigner(f)) => (
                        f.date_of_birth
                            .as_ref()
                            .and_then(|d| date_from_proto(d, "").ok()),
                        f.stay_permitted_until
                            .as_ref()
                            .and_then(|d| date_from_proto(d, "").ok()),
                    ),
                    _ => (None, None),
                };
                Judged {
                    guest: g,
                    born,
                    check: claim_of[i].and_then(|c| checks.get(c)),
                    overlapping: overlapping[i],
                    permitted_until,
                }
            })
            .collect();
        Ok(rules::findings(&judged, arrival, departure))
    }

    /// Writes the indexes of a recorded declaration: its arrival, and its guests' stays
    /// (a coach's passengers neither raise nor count for overlapping stays, but are found by
    /// document number). Idempotent: a replay writes them again, healing a write cut short.
    pub(crate) async fn index(
        &self,
        facility: &str,
        declaration: &pb::Declaration,
        id: &str,
    ) -> Result<(), LodgingError> {
        let Some(arrival) = time_of(declaration.arrival_time.as_ref()) else {
            return Ok(());
        };
        let arrival = ms(arrival);
        self.store
            .zadd(&records::arrivals_key(facility), id, arrival)
            .await?;
        let member = format!("{facility}/{id}");
        // A coach's passengers neither raise nor count for overlapping stays.
        let stays = self
            .facilities
            .get(facility)
            .is_some_and(|f| f.placement() != Placement::CoachTrip);
        let mut seen = HashSet::new();
        for guest in &declaration.guests {
            for number in document_key(guest)
                .filter(|_| stays)
                .into_iter()
                .chain(document_numbers(guest).into_iter().map(|n| format!("#{n}")))
            {
                if seen.insert(number.clone()) {
                    self.store
                        .zadd(&records::stays_key(&number), &member, arrival)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Commits a change: appends `revision` while the declaration has `expected` revisions,
    /// and enqueues its event, in one step. `false` when the declaration changed meanwhile.
    async fn commit(
        &self,
        facility: &str,
        id: &str,
        expected: usize,
        revision: &Revision,
        departed: Vec<String>,
    ) -> Result<bool, LodgingError> {
        let declaration = revision.declaration.clone();
        let event = StoredEvent {
            facility_id: facility.to_owned(),
            r#type: revision.change,
            time_ms: self.clock.now_ms(),
            declaration,
            departed_guest_ids: departed,
        };
        let key = records::declaration_key(facility, id);
        let value = records::encode(revision);
        let appends = [ListAppend {
            key: &key,
            expected_len: expected,
            expected_last: None,
            value: &value,
        }];
        let committed = self
            .store
            .outbox_commit(
                records::OUTBOX,
                StateWrite::AppendIfLen(&appends),
                &records::encode(&event),
            )
            .await?
            .is_some();
        if committed {
            self.changed.notify_waiters();
        }
        Ok(committed)
    }

    /// Records a new declaration.
    pub async fn create(
        &self,
        caller: &Caller,
        r: pb::CreateDeclarationRequest,
    ) -> Result<pb::Declaration, LodgingError> {
        let facility = self.facility(caller, &r.facility_id)?.clone();
        let now = self.clock.now();
        let today = self.clock.today();
        let mut problems = Problems::default();
        if !r.declaration_id.is_empty() && !is_resource_id(&r.declaration_id) {
            problems.0.push(BadField::new(
                "declaration_id",
                "is letters, digits and '-', 1 to 63, starting with a letter",
            ));
        }
        if !r.request_id.is_empty() {
            input::request_id(&mut problems, "request_id", &r.request_id);
        }
        let draft = input::declaration(
            &facility,
            r.declaration.as_ref(),
            now,
            today,
            &HashSet::new(),
        );
        let mut draft = match draft {
            Ok(draft) if problems.is_empty() => draft,
            Ok(_) => return Err(LodgingError::Invalid(problems.0)),
            Err(mut bad) => {
                problems.0.append(&mut bad);
                return Err(LodgingError::Invalid(problems.0));
            }
        };
        let digest = records::digest(&[
            facility.id.as_bytes(),
            r.declaration_id.as_bytes(),
            &r.declaration
                .as_ref()
                .map(|d| d.encode_to_vec())
                .unwrap_or_default(),
        ]);
        // The declaration id: the one sent, the one a first attempt of this request chose, or
        // a new one.
        let mut id = if r.declaration_id.is_empty() {
            new_declaration_id()
        } else {
            r.declaration_id.clone()
        };
        if !r.request_id.is_empty() && !r.validate_only {
            let key = records::request_key(&facility.id, &r.request_id);
            let claim = RequestClaim {
                digest: digest.clone(),
                declaration_id: id.clone(),
            };
            let fresh = self
                .store
                .put_if_absent(&key, &records::encode(&claim), Some(REQUEST_ID_TTL))
                .await?;
            if !fresh {
                let first = self
                    .store
                    .get(&key)
                    .await?
                    .and_then(|bytes| records::decode::<RequestClaim>(&bytes))
                    .ok_or(LodgingError::RequestIdReused)?;
                if first.digest != digest {
                    return Err(LodgingError::RequestIdReused);
                }
                id = first.declaration_id;
                if let Some(found) = self.replay(&facility.id, &id, &r.request_id).await? {
                    return Ok(found);
                }
            }
        }
        self.redeem_shares(&facility, &mut draft.guests, r.validate_only)
            .await?;
        let guests: Vec<pb::Guest> = draft.guests.into_iter().map(|g| g.guest).collect();
        let findings = self
            .judge(
                &facility,
                &id,
                &guests,
                draft.arrival,
                draft.expected_departure,
            )
            .await?;
        let declaration = pb::Declaration {
            name: format!("facilities/{}/declarations/{id}", facility.id),
            guests,
            place: Some(draft.place),
            arrival_time: Some(time_to_proto(draft.arrival)),
            expected_departure_time: Some(time_to_proto(draft.expected_departure)),
            state: DeclarationState::Staying as i32,
            deadline: Some(rules::deadline_check(draft.arrival, now)),
            findings,
            delivery: Some(pending(1, now)),
            revision: 1,
            create_time: Some(time_to_proto(now)),
            update_time: Some(time_to_proto(now)),
            cancel_reason: String::new(),
            etag: records::etag(1, &digest),
        };
        if r.validate_only {
            return Ok(declaration);
        }
        let revision = Revision {
            declaration: Some(declaration.clone()),
            request_id: r.request_id.clone(),
            digest: digest.clone(),
            change: Ev::Created as i32,
        };
        if !self
            .commit(&facility.id, &id, 0, &revision, Vec::new())
            .await?
        {
            // Taken: by this very request (a retry racing its first attempt), or by another.
            if !r.request_id.is_empty()
                && let Some(found) = self.replay(&facility.id, &id, &r.request_id).await?
            {
                return Ok(found);
            }
            return Err(LodgingError::DeclarationExists { declaration_id: id });
        }
        self.index(&facility.id, &declaration, &id).await?;
        Ok(declaration)
    }

    /// The declaration `id` as it stands, when its first revision was recorded by the
    /// request `request_id`: a retried create answers it.
    async fn replay(
        &self,
        facility: &str,
        id: &str,
        request_id: &str,
    ) -> Result<Option<pb::Declaration>, LodgingError> {
        let revisions = self.revisions(facility, id).await?;
        let Some(first) = revisions.first() else {
            return Ok(None);
        };
        if first.request_id != request_id {
            return Err(LodgingError::DeclarationExists {
                declaration_id: id.to_owned(),
            });
        }
        let Some(latest) = revisions.last().and_then(|r| r.declaration.clone()) else {
            return Ok(None);
        };
        if let Some(first) = &first.declaration {
            self.index(facility, first, id).await?;
        }
        Ok(Some(self.with_delivery(facility, id, latest).await?))
    }
}

/// A delivery pending for `revision`.
pub(crate) fn pending(revision: i64, now: OffsetDateTime) -> pb::Delivery {
    pb::Delivery {
        status: pb::DeliveryStatus::Pending as i32,
        revision,
        receipt_number: String::new(),
        rejection_reason: String::new(),
        rejection_message: String::new(),
        attempts: 0,
        update_time: Some(time_to_proto(now)),
    }
}

/// What a VNeID refusal of guest `index`'s share code means to the caller.
fn share_refusal(index: usize, status: &tonic::Status) -> LodgingError {
    let reason = sandbox06_runtime::error::suite_reason_of(status)
        .as_deref()
        .and_then(LodgingReason::of_share_code);
    match reason {
        Some(reason) => LodgingError::ShareCode {
            reason,
            guest: index,
            message: status.message().to_owned(),
        },
        None => UpstreamFailure::from_status(VNEID, VNEID_SYSTEM, status).into(),
    }
}
