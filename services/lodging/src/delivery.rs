//! The delivery worker: it claims the outbox's entries under a lease, delivers each change to
//! the national lodging registry in order per declaration (a revision only once the one before
//! it is answered), records the registry's answer with its event in one step, and acknowledges
//! the entry. While the registry cannot be reached, entries stay (their leases end and they
//! are claimed again) and the worker backs off; nothing accepted is lost, and since the
//! registry answers a repeated revision with its first answer, a delivery repeated after a
//! crash records nothing twice.
//!
//! Every replica's worker claims from the same outbox: the lease keeps two from delivering one
//! entry at once. The worker visits the component's own outbox, then each tenant's that has
//! one ([`TenantStores::outbox_tenants`]), as that tenant.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use sandbox06_proto::{
    dates::time_to_proto,
    lodging::{self as pb, DeclarationEventType as Ev, DeliveryStatus},
    lodgingregistry as reg, types,
};
use sandbox06_runtime::{component::Shutdown, error::suite_reason_of};
use sandbox06_store::{Delivery as Claimed, EntryId, StateWrite, Store, TenantStores};
use tonic::Code;

use crate::error::LodgingError;
use crate::events::{EVENTS_KEPT, scoped, trimmed};
use crate::facility::Facilities;
use crate::records::{self, DeliveryRecord, StoredEvent};
use crate::service::Lodging;
use crate::upstream::{Answer, Delivery, Registry};

/// How long a claimed entry is the worker's before another may claim it.
pub const LEASE: Duration = Duration::from_secs(3);
/// How long one delivery may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// Entries claimed at once.
const CLAIM_BATCH: usize = 128;
/// Declarations delivered at once.
const CONCURRENCY: usize = 32;
/// How often the worker looks for entries another replica enqueued.
const POLL: Duration = Duration::from_millis(50);
/// The first and the longest wait while the registry cannot be reached.
const BACKOFF_FIRST: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Acknowledgements between two trims of the events kept.
const TRIM_EVERY: u64 = 1_000;

/// The registry mock, as failures name it.
const REGISTRY: &str = "lodging-registry";

/// What one pass over an outbox found.
#[derive(Debug, Default)]
struct Pass {
    /// Entries acknowledged.
    acked: u64,
    /// The highest entry id seen.
    last: u64,
    /// Whether the registry could not be reached.
    unreachable: bool,
}

/// The delivery worker of one lodging service.
#[derive(Clone)]
pub struct Deliverer {
    lodging: Lodging,
    registry: Arc<dyn Registry>,
    tenants: Option<Arc<TenantStores>>,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer").finish_non_exhaustive()
    }
}

/// Whether a failed delivery is worth retrying: the registry did not answer, or answered that
/// it cannot now.
fn transient(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Aborted
            | Code::Cancelled
            | Code::Unknown
            | Code::Internal
    )
}

/// The registry's id of a declaration: its facility's registry code and its own id.
pub fn registry_id(registry_code: &str, declaration_id: &str) -> String {
    format!("{registry_code}.{declaration_id}")
}

fn place_text(place: Option<&pb::Place>) -> String {
    match place.and_then(|p| p.kind.as_ref()) {
        Some(pb::place::Kind::Room(r)) => r.room.clone(),
        Some(pb::place::Kind::CoachTrip(t)) => format!("{} {}", t.vehicle_plate, t.trip),
        Some(pb::place::Kind::HospitalWard(w)) => w.ward.clone(),
        None => String::new(),
    }
}

/// A guest as the registry's form has it.
fn registry_guest(g: &pb::Guest) -> reg::RegistryGuest {
    let place = if !g.seat.is_empty() {
        g.seat.clone()
    } else {
        g.bed.clone()
    };
    match &g.identity {
        Some(pb::guest::Identity::Foreigner(f)) => reg::RegistryGuest {
            full_name: f.full_name.clone(),
            document_type: if f.document_type == 0 {
                types::DocumentType::Passport as i32
            } else {
                f.document_type
            },
            document_number: f.passport_number.trim().to_owned(),
            citizen_id: String::new(),
            date_of_birth: f.date_of_birth,
            sex: f.sex,
            nationality: f.nationality.trim().to_owned(),
            residence_status: 0,
            residence_address: String::new(),
            reason_of_stay: g.reason_of_stay,
            visa_number: f.visa_number.clone(),
            stay_permitted_until: f.stay_permitted_until,
            place,
        },
        Some(pb::guest::Identity::Citizen(c)) => reg::RegistryGuest {
            full_name: c.full_name.clone(),
            document_type: if c.document_type == 0 {
                types::DocumentType::Cccd as i32
            } else {
                c.document_type
            },
            document_number: if c.document_number.trim().is_empty() {
                c.citizen_id.trim().to_owned()
            } else {
                c.document_number.trim().to_owned()
            },
            citizen_id: c.citizen_id.trim().to_owned(),
            date_of_birth: c.date_of_birth,
            sex: c.sex,
            nationality: "VNM".to_owned(),
            residence_status: c.residence_status,
            residence_address: c.residence_address.clone(),
            reason_of_stay: g.reason_of_stay,
            visa_number: String::new(),
            stay_permitted_until: None,
            place,
        },
        _ => reg::RegistryGuest::default(),
    }
}

/// The registry call that delivers `event`.
fn delivery_of(event: &StoredEvent, facilities: &Facilities) -> Option<Delivery> {
    let d = event.declaration.as_ref()?;
    let facility = facilities.get(&event.facility_id)?;
    let id = d.name.rsplit('/').next()?;
    let declaration_id = registry_id(&facility.registry_code, id);
    Some(match Ev::try_from(event.r#type).ok()? {
        Ev::Created | Ev::Updated => Delivery::Submit(reg::SubmitDeclarationRequest {
            declaration_id,
            revision: d.revision,
            facility_code: facility.registry_code.clone(),
            guests: d
                .guests
                .iter()
                .filter(|g| g.departure_time.is_none())
                .map(registry_guest)
                .collect(),
            place: place_text(d.place.as_ref()),
            arrival_time: d.arrival_time,
            expected_departure_time: d.expected_departure_time,
        }),
        Ev::CheckedOut => {
            let leaving: Vec<&pb::Guest> = d
                .guests
                .iter()
                .filter(|g| event.departed_guest_ids.contains(&g.guest_id))
                .collect();
            Delivery::Departure(reg::ReportDepartureRequest {
                declaration_id,
                revision: d.revision,
                document_numbers: leaving
                    .iter()
                    .map(|g| registry_guest(g).document_number)
                    .collect(),
                departure_time: leaving.first().and_then(|g| g.departure_time),
            })
        }
        Ev::Cancelled => Delivery::Cancel(reg::CancelDeclarationRequest {
            declaration_id,
            revision: d.revision,
            reason: d.cancel_reason.clone(),
        }),
        _ => return None,
    })
}

impl Deliverer {
    /// The worker of `lodging`, delivering to `registry`; `tenants` when the store is routed by
    /// tenant (the tenants' outboxes are visited too).
    pub fn new(
        lodging: Lodging,
        registry: Arc<dyn Registry>,
        tenants: Option<Arc<TenantStores>>,
    ) -> Self {
        Self {
            lodging,
            registry,
            tenants,
        }
    }

    fn store(&self) -> &Arc<dyn Store> {
        self.lodging.store()
    }

    /// Runs until `shutdown` completes.
    pub async fn run(self, mut shutdown: Shutdown) -> Result<(), LodgingError> {
        let changed = self.lodging.changed().clone();
        let mut backoff = Duration::ZERO;
        let mut since_trim = 0u64;
        loop {
            let notified = changed.notified();
            let wait = if backoff.is_zero() { POLL } else { backoff };
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                () = tokio::time::sleep(wait) => {}
                () = notified, if backoff.is_zero() => {}
            }
            let mut tenants: Vec<Option<String>> = vec![None];
            if let Some(stores) = &self.tenants {
                tenants.extend(stores.outbox_tenants().await?.into_iter().map(Some));
            }
            let mut unreachable = false;
            for tenant in &tenants {
                let pass = self.drain(tenant.as_deref()).await?;
                unreachable |= pass.unreachable;
                since_trim += pass.acked;
                if since_trim >= TRIM_EVERY && pass.last > EVENTS_KEPT {
                    since_trim = 0;
                    self.trim(tenant.as_deref(), pass.last - EVENTS_KEPT)
                        .await?;
                }
            }
            backoff = if unreachable {
                (backoff * 2).clamp(BACKOFF_FIRST, BACKOFF_MAX)
            } else {
                Duration::ZERO
            };
        }
    }

    /// Forgets the acknowledged events up to `through`, [`TRIM_EVERY`] at a time, so that no
    /// one step holds the store for long.
    async fn trim(&self, tenant: Option<&str>, through: u64) -> Result<(), LodgingError> {
        let mut done = scoped(tenant, trimmed(self.store())).await?;
        while done < through {
            let next = through.min(done + TRIM_EVERY);
            scoped(
                tenant,
                self.store().outbox_trim(records::OUTBOX, EntryId(next)),
            )
            .await?;
            scoped(
                tenant,
                self.store()
                    .put(records::TRIMMED_KEY, next.to_string().as_bytes(), None),
            )
            .await?;
            done = next;
        }
        Ok(())
    }

    /// Delivers what the outbox of `tenant` holds now.
    async fn drain(&self, tenant: Option<&str>) -> Result<Pass, LodgingError> {
        let mut pass = Pass::default();
        loop {
            let claimed = scoped(
                tenant,
                self.store()
                    .outbox_claim(records::OUTBOX, CLAIM_BATCH, LEASE),
            )
            .await?;
            if claimed.is_empty() {
                return Ok(pass);
            }
            let full = claimed.len() == CLAIM_BATCH;
            let mut groups: HashMap<String, Vec<(Claimed, StoredEvent)>> = HashMap::new();
            let mut order = Vec::new();
            // The registry's answers, events for watchers with nothing to deliver, are
            // acknowledged together once the batch is sorted.
            let mut answers = Vec::new();
            for entry in claimed {
                pass.last = pass.last.max(entry.id.0);
                let Some(event) = records::decode::<StoredEvent>(&entry.payload) else {
                    tracing::error!(
                        entry = entry.id.0,
                        "an outbox entry does not decode; acknowledged"
                    );
                    self.ack(tenant, &entry).await?;
                    continue;
                };
                if !event.is_change() {
                    answers.push(entry);
                    continue;
                }
                let key = event
                    .declaration
                    .as_ref()
                    .map(|d| d.name.clone())
                    .unwrap_or_default();
                if !groups.contains_key(&key) {
                    order.push(key.clone());
                }
                groups.entry(key).or_default().push((entry, event));
            }
            let acked =
                futures::future::try_join_all(answers.iter().map(|entry| self.ack(tenant, entry)))
                    .await?;
            pass.acked += acked.len() as u64;
            let results: Vec<Result<(u64, bool), LodgingError>> = futures::stream::iter(
                order
                    .into_iter()
                    .filter_map(|key| groups.remove(&key))
                    .map(|group| self.deliver_group(tenant, group)),
            )
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
            for result in results {
                let (acked, unreachable) = result?;
                pass.acked += acked;
                pass.unreachable |= unreachable;
            }
            if pass.unreachable || !full {
                return Ok(pass);
            }
        }
    }

    async fn ack(&self, tenant: Option<&str>, entry: &Claimed) -> Result<bool, LodgingError> {
        scoped(
            tenant,
            self.store()
                .outbox_ack(records::OUTBOX, entry.id, entry.attempt),
        )
        .await
    }

    /// Delivers one declaration's changes in order; how many were acknowledged, and whether
    /// the registry could not be reached.
    async fn deliver_group(
        &self,
        tenant: Option<&str>,
        group: Vec<(Claimed, StoredEvent)>,
    ) -> Result<(u64, bool), LodgingError> {
        let mut acked = 0;
        for (entry, event) in group {
            match self.deliver(tenant, &entry, &event).await? {
                Step::Acked => acked += 1,
                // Later revisions wait for this one.
                Step::Waiting => return Ok((acked, false)),
                Step::Unreachable => return Ok((acked, true)),
            }
        }
        Ok((acked, false))
    }

    async fn deliver(
        &self,
        tenant: Option<&str>,
        entry: &Claimed,
        event: &StoredEvent,
    ) -> Result<Step, LodgingError> {
        let Some(declaration) = event.declaration.as_ref() else {
            self.ack(tenant, entry).await?;
            return Ok(Step::Acked);
        };
        let id = declaration.name.rsplit('/').next().unwrap_or_default();
        let key = records::delivery_key(&event.facility_id, id);
        let record = scoped(tenant, self.store().get(&key))
            .await?
            .and_then(|b| records::decode::<DeliveryRecord>(&b))
            .unwrap_or_default();
        let revision = declaration.revision;
        if record.answered_revision >= revision {
            // Answered before (a delivery repeated after its worker stopped).
            self.ack(tenant, entry).await?;
            return Ok(Step::Acked);
        }
        if revision > 1 && record.answered_revision < revision - 1 {
            return Ok(Step::Waiting);
        }
        if matches!(Ev::try_from(event.r#type), Ok(Ev::Created | Ev::Updated)) {
            // The change's indexes again (adding is idempotent): a change whose process
            // stopped between its commit and its indexes is listed once it is delivered.
            let index = self.lodging.index(&event.facility_id, declaration, id);
            match tenant {
                None => index.await?,
                Some(t) => match sandbox06_runtime::faults::as_tenant(t, index) {
                    Ok(scoped) => scoped.await?,
                    Err(refused) => return Err(LodgingError::Refused(refused)),
                },
            }
        }
        let now = self.lodging.clock().now();
        let attempts = i32::try_from(entry.attempt).unwrap_or(i32::MAX);
        let Some(delivery) = delivery_of(event, self.lodging.facilities()) else {
            tracing::error!(facility = %event.facility_id, "a change names no facility this service has; acknowledged undelivered");
            self.ack(tenant, entry).await?;
            return Ok(Step::Acked);
        };
        let call = scoped_call(tenant, self.registry.deliver(delivery));
        let answer = match tokio::time::timeout(CALL_TIMEOUT, call).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(status)) if !transient(status.code()) => Answer::Rejected {
                reason: suite_reason_of(&status).unwrap_or_else(|| {
                    sandbox06_runtime::error::code_name(status.code()).to_owned()
                }),
                message: status.message().to_owned(),
            },
            failed => {
                let code = match failed {
                    Ok(Err(status)) => {
                        sandbox06_runtime::error::log_upstream_failure(REGISTRY, &status);
                        status.code()
                    }
                    _ => Code::DeadlineExceeded,
                };
                tracing::info!(attempt = entry.attempt, code = ?code, "the registry did not answer a delivery; it stays in the outbox");
                let pending = DeliveryRecord {
                    delivery: Some(pb::Delivery {
                        attempts,
                        ..crate::service::pending(revision, now)
                    }),
                    answered_revision: record.answered_revision,
                };
                scoped(
                    tenant,
                    self.store().put(&key, &records::encode(&pending), None),
                )
                .await?;
                return Ok(Step::Unreachable);
            }
        };
        let (status, receipt_number, reason, message, kind) = match answer {
            Answer::Accepted(receipt) => (
                DeliveryStatus::Accepted,
                receipt.receipt_number,
                String::new(),
                String::new(),
                Ev::DeliveryAccepted,
            ),
            Answer::Rejected { reason, message } => (
                DeliveryStatus::Rejected,
                String::new(),
                reason,
                message,
                Ev::DeliveryRejected,
            ),
        };
        let delivery = pb::Delivery {
            status: status as i32,
            revision,
            receipt_number,
            rejection_reason: reason,
            rejection_message: message,
            attempts,
            update_time: Some(time_to_proto(now)),
        };
        let answered = DeliveryRecord {
            delivery: Some(delivery.clone()),
            answered_revision: revision,
        };
        let mut after = declaration.clone();
        after.delivery = Some(delivery);
        let answer_event = StoredEvent {
            facility_id: event.facility_id.clone(),
            r#type: kind as i32,
            time_ms: self.lodging.clock().now_ms(),
            declaration: Some(after),
            departed_guest_ids: Vec::new(),
        };
        let value = records::encode(&answered);
        scoped(
            tenant,
            self.store().outbox_commit(
                records::OUTBOX,
                StateWrite::Put {
                    key: &key,
                    value: &value,
                    ttl: None,
                },
                &records::encode(&answer_event),
            ),
        )
        .await?;
        self.lodging.changed().notify_waiters();
        self.ack(tenant, entry).await?;
        Ok(Step::Acked)
    }
}

/// Runs an outgoing call as `tenant`'s (the registry mock keeps each tenant's declarations
/// apart, as every component does).
async fn scoped_call<T, F>(tenant: Option<&str>, future: F) -> Result<T, tonic::Status>
where
    F: Future<Output = Result<T, tonic::Status>>,
{
    match tenant {
        None => future.await,
        Some(t) => match sandbox06_runtime::faults::as_tenant(t, future) {
            Ok(scoped) => scoped.await,
            Err(refused) => Err(refused.into()),
        },
    }
}

/// What became of one entry.
enum Step {
    Acked,
    Waiting,
    Unreachable,
}
