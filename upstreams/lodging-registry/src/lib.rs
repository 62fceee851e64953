//! The mock of the national lodging registry (the system behind the ASM software): it receives
//! the lodging declarations of registered facilities, validates them as the national system
//! would, and answers each with a receipt number or a rejection with the registry's own reason
//! (`sandbox06.upstream.lodgingregistry.v1`).
//!
//! Citizens' ID numbers are checked against the population database over its gRPC API (a
//! number no one has, a death recorded, a name or date of birth that contradicts the record).
//! What the registry itself holds is kept in the state store, per declaration (hash tag: the
//! declaration id):
//!
//! - `lodgingregistry:{<id>}:answer:<revision>`: the first answer to that revision, with the
//!   SHA-256 of the request that got it: the same request again answers it again
//!   (`replayed`), another request with that revision is `REVISION_CONFLICT`;
//! - `lodgingregistry:{<id>}:latest`: the latest revision answered (a lower one is
//!   `STALE_REVISION`);
//! - `lodgingregistry:{<id>}:declaration`: what the registry holds of it once accepted;
//! - `lodgingregistry:{<id>}:departed`: the document numbers whose departure is reported.
//!
//! Receipt numbers are `LT<province>-<yyyymmdd>-<sequence>`: the 2025 province code the
//! facility code starts with, the suite's day in Vietnam at acceptance, and six digits derived
//! from the declaration id and revision (FNV-1a), so that the number depends on nothing but
//! the declaration and the day, needs no counter shared by every declaration (a key no hash
//! tag could place with the declaration's own) and is the same in memory and in Redis. Answers
//! are stored, so a repeated delivery answers the same number whatever the day.

pub mod component;
mod error;
mod validate;

use std::sync::Arc;

use prost::Message as _;
use sandbox06_proto::{
    lodgingregistry::{self as pb, lodging_registry_service_server::LodgingRegistryService},
    population::{self as pop, population_service_client::PopulationServiceClient},
};
use sandbox06_runtime::{
    PeerChannel,
    clock::{Clock, timestamp_to_proto},
    telemetry::TraceContextInterceptor,
};
use sandbox06_store::Store;
use tonic::{Code, Request, Response, Status, service::interceptor::InterceptedService};

pub use error::{LodgingRegistryError, LodgingRegistryReason, REASONS};
pub use validate::{MAX_GUESTS, facility_province};

/// Where citizens' records come from.
#[tonic::async_trait]
pub trait Citizens: Send + Sync + 'static {
    /// The basic record of the citizen with this number; `None` when no citizen has it.
    async fn citizen(&self, citizen_id: &str) -> Result<Option<pop::Citizen>, Status>;
}

/// The population database over gRPC, continuing the caller's trace.
#[derive(Debug, Clone)]
pub struct GrpcCitizens {
    client: PopulationServiceClient<InterceptedService<PeerChannel, TraceContextInterceptor>>,
}

impl GrpcCitizens {
    /// A client over `channel`.
    pub fn new(channel: impl Into<PeerChannel>) -> Self {
        Self {
            client: PopulationServiceClient::with_interceptor(
                channel.into(),
                TraceContextInterceptor,
            ),
        }
    }
}

#[tonic::async_trait]
impl Citizens for GrpcCitizens {
    async fn citizen(&self, citizen_id: &str) -> Result<Option<pop::Citizen>, Status> {
        let request = pop::GetCitizenRequest {
            citizen_id: citizen_id.to_owned(),
            view: pop::RecordView::Basic as i32,
        };
        match self.client.clone().get_citizen(request).await {
            Ok(r) => Ok(r.into_inner().citizen),
            Err(s) if s.code() == Code::NotFound => Ok(None),
            Err(s) => Err(s),
        }
    }
}

/// The registry's answer to a write: a receipt or a rejection.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Accepted.
    Receipt(pb::Receipt),
    /// Refused.
    Rejection(pb::Rejection),
}

impl Outcome {
    /// A rejection of the declaration (`guest_index` -1) or of one guest.
    pub(crate) fn reject(
        reason: pb::RejectionReason,
        guest_index: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        Outcome::Rejection(pb::Rejection {
            reason: reason as i32,
            guest_index: guest_index.map_or(-1, |i| i32::try_from(i).unwrap_or(i32::MAX)),
            message: message.into(),
        })
    }
}

/// A write to the registry: what is answered once per declaration id and revision.
#[derive(Clone, Debug)]
enum Write {
    Submit(pb::SubmitDeclarationRequest),
    Departure(pb::ReportDepartureRequest),
    Cancel(pb::CancelDeclarationRequest),
}

impl Write {
    fn declaration_id(&self) -> &str {
        match self {
            Write::Submit(r) => &r.declaration_id,
            Write::Departure(r) => &r.declaration_id,
            Write::Cancel(r) => &r.declaration_id,
        }
    }

    fn revision(&self) -> i64 {
        match self {
            Write::Submit(r) => r.revision,
            Write::Departure(r) => r.revision,
            Write::Cancel(r) => r.revision,
        }
    }

    /// SHA-256 of the kind of write and its encoded request: what a repeat must match.
    fn digest(&self) -> [u8; 32] {
        let (kind, bytes) = match self {
            Write::Submit(r) => (b's', r.encode_to_vec()),
            Write::Departure(r) => (b'd', r.encode_to_vec()),
            Write::Cancel(r) => (b'c', r.encode_to_vec()),
        };
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(&[kind]);
        ctx.update(&bytes);
        let mut out = [0; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }
}

/// A stored answer: the request's digest, then 1 and a receipt or 2 and a rejection.
fn encode_answer(digest: &[u8; 32], outcome: &Outcome) -> Vec<u8> {
    let mut out = digest.to_vec();
    match outcome {
        Outcome::Receipt(r) => {
            out.push(1);
            out.extend(r.encode_to_vec());
        }
        Outcome::Rejection(r) => {
            out.push(2);
            out.extend(r.encode_to_vec());
        }
    }
    out
}

fn decode_answer(bytes: &[u8]) -> Option<([u8; 32], Outcome)> {
    let digest: [u8; 32] = bytes.get(..32)?.try_into().ok()?;
    let body = bytes.get(33..)?;
    let outcome = match bytes.get(32)? {
        1 => Outcome::Receipt(pb::Receipt::decode(body).ok()?),
        2 => Outcome::Rejection(pb::Rejection::decode(body).ok()?),
        _ => return None,
    };
    Some((digest, outcome))
}

fn answer_key(id: &str, revision: i64) -> String {
    format!("lodgingregistry:{{{id}}}:answer:{revision}")
}

fn latest_key(id: &str) -> String {
    format!("lodgingregistry:{{{id}}}:latest")
}

fn declaration_key(id: &str) -> String {
    format!("lodgingregistry:{{{id}}}:declaration")
}

fn departed_key(id: &str) -> String {
    format!("lodgingregistry:{{{id}}}:departed")
}

/// The six-digit sequence of a receipt: FNV-1a over the declaration id and revision.
fn receipt_sequence(id: &str, revision: i64) -> u64 {
    let hash =
        sandbox06_runtime::digest::fnv1a(id.bytes().chain(*b"#").chain(revision.to_be_bytes()));
    hash % 1_000_000
}

/// The lodging registry service.
#[derive(Clone)]
pub struct LodgingRegistry {
    citizens: Arc<dyn Citizens>,
    store: Arc<dyn Store>,
    clock: Clock,
}

impl std::fmt::Debug for LodgingRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LodgingRegistry").finish_non_exhaustive()
    }
}

impl LodgingRegistry {
    /// A registry checking citizens with `citizens`, keeping declarations in `store`, accepting
    /// by the suite's `clock`.
    pub fn new(citizens: Arc<dyn Citizens>, store: Arc<dyn Store>, clock: Clock) -> Self {
        Self {
            citizens,
            store,
            clock,
        }
    }

    /// Submits a declaration or an amendment: the answer and whether it repeats an earlier one.
    pub async fn submit(
        &self,
        request: pb::SubmitDeclarationRequest,
    ) -> Result<(Outcome, bool), LodgingRegistryError> {
        self.write(Write::Submit(request)).await
    }

    /// Reports a departure: the answer and whether it repeats an earlier one.
    pub async fn report_departure(
        &self,
        request: pb::ReportDepartureRequest,
    ) -> Result<(Outcome, bool), LodgingRegistryError> {
        self.write(Write::Departure(request)).await
    }

    /// Cancels a declaration: the answer and whether it repeats an earlier one.
    pub async fn cancel(
        &self,
        request: pb::CancelDeclarationRequest,
    ) -> Result<(Outcome, bool), LodgingRegistryError> {
        self.write(Write::Cancel(request)).await
    }

    /// What the registry holds of a declaration.
    pub async fn get(
        &self,
        declaration_id: &str,
    ) -> Result<pb::RegisteredDeclaration, LodgingRegistryError> {
        validate::declaration_id(declaration_id)?;
        self.declaration(declaration_id)
            .await?
            .ok_or_else(|| LodgingRegistryError::NotFound {
                declaration_id: declaration_id.to_owned(),
            })
    }

    async fn declaration(
        &self,
        id: &str,
    ) -> Result<Option<pb::RegisteredDeclaration>, LodgingRegistryError> {
        Ok(self
            .store
            .get(&declaration_key(id))
            .await?
            .and_then(|bytes| pb::RegisteredDeclaration::decode(bytes.as_slice()).ok()))
    }

    async fn latest(&self, id: &str) -> Result<i64, LodgingRegistryError> {
        Ok(self
            .store
            .get(&latest_key(id))
            .await?
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0))
    }

    /// The stored answer to this revision, if any: replayed when the request is the same,
    /// a conflict when it is not.
    async fn stored(
        &self,
        write: &Write,
        digest: &[u8; 32],
    ) -> Result<Option<Outcome>, LodgingRegistryError> {
        let (id, revision) = (write.declaration_id(), write.revision());
        let Some(bytes) = self.store.get(&answer_key(id, revision)).await? else {
            return Ok(None);
        };
        let Some((stored, outcome)) = decode_answer(&bytes) else {
            tracing::warn!(revision, "a stored answer does not decode; answering anew");
            return Ok(None);
        };
        if &stored != digest {
            return Err(LodgingRegistryError::RevisionConflict { revision });
        }
        // The answer may have been stored by a call that stopped before recording its effect.
        if self.latest(id).await? < revision {
            self.record(write, &outcome).await?;
        }
        Ok(Some(outcome))
    }

    async fn write(&self, write: Write) -> Result<(Outcome, bool), LodgingRegistryError> {
        let (id, revision) = (write.declaration_id(), write.revision());
        validate::declaration_id(id)?;
        validate::revision(revision)?;
        let digest = write.digest();
        if let Some(outcome) = self.stored(&write, &digest).await? {
            return Ok((outcome, true));
        }
        let latest = self.latest(id).await?;
        if revision < latest {
            return Err(LodgingRegistryError::StaleRevision { revision, latest });
        }
        let outcome = self.judge(&write).await?;
        let answered = self
            .store
            .put_if_absent(
                &answer_key(id, revision),
                &encode_answer(&digest, &outcome),
                None,
            )
            .await?;
        if !answered {
            // A concurrent delivery of the same revision answered first: its answer stands.
            return match self.stored(&write, &digest).await? {
                Some(outcome) => Ok((outcome, true)),
                None => Err(LodgingRegistryError::RevisionConflict { revision }),
            };
        }
        self.record(&write, &outcome).await?;
        Ok((outcome, false))
    }

    /// Records what an answered write changes, then its revision as the latest. Repeatable: a
    /// receipt already recorded is not recorded twice.
    async fn record(&self, write: &Write, outcome: &Outcome) -> Result<(), LodgingRegistryError> {
        let (id, revision) = (write.declaration_id(), write.revision());
        if let Outcome::Receipt(receipt) = outcome {
            let current = self.declaration(id).await?;
            let known = current.as_ref().is_some_and(|d| {
                d.receipts
                    .iter()
                    .any(|r| r.receipt_number == receipt.receipt_number)
            });
            if !known {
                let updated = match (write, current) {
                    (Write::Submit(r), current) => {
                        let mut receipts = current
                            .as_ref()
                            .map(|d| d.receipts.clone())
                            .unwrap_or_default();
                        receipts.push(receipt.clone());
                        pb::RegisteredDeclaration {
                            declaration_id: id.to_owned(),
                            facility_code: r.facility_code.clone(),
                            revision,
                            guests: r.guests.clone(),
                            arrival_time: r.arrival_time,
                            expected_departure_time: r.expected_departure_time,
                            receipts,
                            departure_time: current.as_ref().and_then(|d| d.departure_time),
                            cancelled: current.as_ref().is_some_and(|d| d.cancelled),
                        }
                    }
                    (Write::Departure(r), Some(mut d)) => {
                        let key = departed_key(id);
                        for number in &r.document_numbers {
                            self.store.append(&key, number.as_bytes()).await?;
                        }
                        let departed = self.store.list(&key).await?;
                        let everyone = r.document_numbers.is_empty()
                            || d.guests
                                .iter()
                                .all(|g| departed.iter().any(|n| validate::names_guest(n, g)));
                        if everyone {
                            d.departure_time = r.departure_time;
                        }
                        d.receipts.push(receipt.clone());
                        d
                    }
                    (Write::Cancel(_), Some(mut d)) => {
                        d.cancelled = true;
                        d.receipts.push(receipt.clone());
                        d
                    }
                    // A departure or cancellation is accepted only of a declaration held.
                    (_, None) => return Ok(()),
                };
                self.store
                    .put(&declaration_key(id), &updated.encode_to_vec(), None)
                    .await?;
            }
        }
        if self.latest(id).await? < revision {
            self.store
                .put(&latest_key(id), revision.to_string().as_bytes(), None)
                .await?;
        }
        Ok(())
    }

    /// A receipt for an accepted write of `facility_code`.
    fn receipt(&self, facility_code: &str, id: &str, revision: i64) -> pb::Receipt {
        let province = facility_province(facility_code).unwrap_or_default();
        let day = self.clock.today();
        pb::Receipt {
            receipt_number: format!(
                "LT{province:02}-{:04}{:02}{:02}-{:06}",
                day.year(),
                u8::from(day.month()),
                day.day(),
                receipt_sequence(id, revision)
            ),
            accept_time: Some(timestamp_to_proto(self.clock.now())),
        }
    }

    /// The registry's judgement of a write it has not answered yet.
    async fn judge(&self, write: &Write) -> Result<Outcome, LodgingRegistryError> {
        let now = self.clock.now();
        let id = write.declaration_id();
        let cancelled = || {
            Outcome::reject(
                pb::RejectionReason::DeclarationCancelled,
                None,
                "the declaration is cancelled",
            )
        };
        match write {
            Write::Submit(r) => {
                let checked = validate::submission(r, now)?;
                if self.declaration(id).await?.is_some_and(|d| d.cancelled) {
                    return Ok(cancelled());
                }
                if let Some(rejection) = checked.rejection {
                    return Ok(rejection);
                }
                for (index, guest) in &checked.citizens {
                    let record = self
                        .citizens
                        .citizen(&guest.citizen_id)
                        .await
                        .map_err(LodgingRegistryError::Population)?;
                    if let Some(rejection) = validate::against_record(*index, guest, record) {
                        return Ok(rejection);
                    }
                }
                Ok(Outcome::Receipt(self.receipt(
                    &r.facility_code,
                    id,
                    r.revision,
                )))
            }
            Write::Departure(r) => {
                let left = validate::departure_time(r)?;
                let held = self.held(id).await?;
                if held.cancelled {
                    return Ok(cancelled());
                }
                validate::departing_guests(r, &held)?;
                if let Some(rejection) = validate::departure_period(left, &held, now)? {
                    return Ok(rejection);
                }
                Ok(Outcome::Receipt(self.receipt(
                    &held.facility_code,
                    id,
                    r.revision,
                )))
            }
            Write::Cancel(r) => {
                validate::cancellation(r)?;
                let held = self.held(id).await?;
                if held.cancelled {
                    return Ok(cancelled());
                }
                Ok(Outcome::Receipt(self.receipt(
                    &held.facility_code,
                    id,
                    r.revision,
                )))
            }
        }
    }

    async fn held(&self, id: &str) -> Result<pb::RegisteredDeclaration, LodgingRegistryError> {
        self.declaration(id)
            .await?
            .ok_or_else(|| LodgingRegistryError::NotFound {
                declaration_id: id.to_owned(),
            })
    }
}

macro_rules! answer {
    ($response:ident, $outcome_mod:ident, $result:expr) => {{
        let (outcome, replayed) = $result;
        pb::$response {
            outcome: Some(match outcome {
                Outcome::Receipt(r) => pb::$outcome_mod::Outcome::Receipt(r),
                Outcome::Rejection(r) => pb::$outcome_mod::Outcome::Rejection(r),
            }),
            replayed,
        }
    }};
}

#[tonic::async_trait]
impl LodgingRegistryService for LodgingRegistry {
    async fn submit_declaration(
        &self,
        request: Request<pb::SubmitDeclarationRequest>,
    ) -> Result<Response<pb::SubmitDeclarationResponse>, Status> {
        let result = self.submit(request.into_inner()).await?;
        Ok(Response::new(answer!(
            SubmitDeclarationResponse,
            submit_declaration_response,
            result
        )))
    }

    async fn report_departure(
        &self,
        request: Request<pb::ReportDepartureRequest>,
    ) -> Result<Response<pb::ReportDepartureResponse>, Status> {
        let result = LodgingRegistry::report_departure(self, request.into_inner()).await?;
        Ok(Response::new(answer!(
            ReportDepartureResponse,
            report_departure_response,
            result
        )))
    }

    async fn cancel_declaration(
        &self,
        request: Request<pb::CancelDeclarationRequest>,
    ) -> Result<Response<pb::CancelDeclarationResponse>, Status> {
        let result = self.cancel(request.into_inner()).await?;
        Ok(Response::new(answer!(
            CancelDeclarationResponse,
            cancel_declaration_response,
            result
        )))
    }

    async fn get_declaration(
        &self,
        request: Request<pb::GetDeclarationRequest>,
    ) -> Result<Response<pb::GetDeclarationResponse>, Status> {
        let declaration = self.get(&request.into_inner().declaration_id).await?;
        Ok(Response::new(pb::GetDeclarationResponse {
            declaration: Some(declaration),
        }))
    }
}

#[cfg(test)]
mod tests;
