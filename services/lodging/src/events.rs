//! The watch of declaration events: the outbox read in order (every change and every answer of
//! the registry is an entry, its id the event id), from where the watcher asks, then as events
//! come: woken at once by this process's own changes, and every [`POLL`] for another
//! replica's.

use std::collections::{HashSet, VecDeque};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use sandbox06_proto::lodging::{self as pb, DeclarationEventType as Ev};
use sandbox06_runtime::{caller::Caller, faults::call_tenant_header};
use sandbox06_store::{EntryId, Store};
use tokio::sync::Notify;

use crate::error::{BadField, LodgingError};
use crate::records::{self, StoredEvent};
use crate::service::Lodging;

/// How often a watch looks for events another replica enqueued.
pub const POLL: Duration = Duration::from_millis(200);
/// Events read from the store at once.
const READ_BATCH: usize = 500;
/// Events kept for watchers to resume from (older acknowledged ones are trimmed).
pub const EVENTS_KEPT: u64 = 10_000;

/// A stream of events.
pub type EventStream =
    Pin<Box<dyn Stream<Item = Result<pb::WatchDeclarationEventsResponse, tonic::Status>> + Send>>;

/// The call's tenant, as text.
pub(crate) fn call_tenant() -> Option<String> {
    call_tenant_header().and_then(|h| h.to_str().ok().map(str::to_owned))
}

/// Runs a store operation as `tenant`'s call (a stream or a worker outlives the call it
/// serves, so it names the tenant to the store itself), or as the base's without one.
pub(crate) async fn scoped<T, F>(tenant: Option<&str>, future: F) -> Result<T, LodgingError>
where
    F: Future<Output = Result<T, sandbox06_store::StoreError>>,
{
    match tenant {
        None => Ok(future.await?),
        Some(t) => match sandbox06_runtime::faults::as_tenant(t, future) {
            Ok(scoped) => Ok(scoped.await?),
            Err(refused) => Err(LodgingError::Refused(refused)),
        },
    }
}

/// The id of the last event trimmed away (0: none).
pub(crate) async fn trimmed(store: &Arc<dyn Store>) -> Result<u64, sandbox06_store::StoreError> {
    Ok(store
        .get(records::TRIMMED_KEY)
        .await?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0))
}

/// The id of the latest event (0: none).
async fn latest(store: &Arc<dyn Store>, from: u64) -> Result<u64, LodgingError> {
    let mut last = from;
    loop {
        let entries = store
            .outbox_range(
                records::OUTBOX,
                EntryId(last),
                sandbox06_store::OUTBOX_BATCH_MAX,
            )
            .await?;
        match entries.last() {
            Some(entry) => last = entry.id.0,
            None => return Ok(last),
        }
        if entries.len() < sandbox06_store::OUTBOX_BATCH_MAX {
            return Ok(last);
        }
    }
}

/// The response of an event, when it is one the watcher asked for.
fn response(
    id: EntryId,
    payload: &[u8],
    facilities: &HashSet<String>,
    types: &HashSet<i32>,
) -> Option<pb::WatchDeclarationEventsResponse> {
    let event: StoredEvent = records::decode(payload)?;
    if !facilities.contains(&event.facility_id)
        || (!types.is_empty() && !types.contains(&event.r#type))
    {
        return None;
    }
    let time =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(event.time_ms) * 1_000_000)
            .ok()
            .map(sandbox06_proto::dates::time_to_proto);
    Some(pb::WatchDeclarationEventsResponse {
        event_id: id.0.to_string(),
        r#type: event.r#type,
        time,
        declaration: event.declaration,
    })
}

struct Watch {
    store: Arc<dyn Store>,
    changed: Arc<Notify>,
    tenant: Option<String>,
    facilities: HashSet<String>,
    types: HashSet<i32>,
    after: u64,
    buffer: VecDeque<pb::WatchDeclarationEventsResponse>,
    stop_at_latest: bool,
    done: bool,
}

impl Watch {
    async fn next(&mut self) -> Option<Result<pb::WatchDeclarationEventsResponse, tonic::Status>> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                return Some(Ok(event));
            }
            if self.done {
                return None;
            }
            // Registered before reading, so a change enqueued meanwhile is not missed.
            let changed = self.changed.clone();
            let notified = changed.notified();
            let read = scoped(
                self.tenant.as_deref(),
                self.store
                    .outbox_range(records::OUTBOX, EntryId(self.after), READ_BATCH),
            )
            .await;
            let entries = match read {
                Ok(entries) => entries,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e.into()));
                }
            };
            if entries.is_empty() {
                if self.stop_at_latest {
                    return None;
                }
                let _ = tokio::time::timeout(POLL, notified).await;
                continue;
            }
            let full = entries.len() == READ_BATCH;
            for entry in entries {
                self.after = entry.id.0;
                if let Some(event) =
                    response(entry.id, &entry.payload, &self.facilities, &self.types)
                {
                    self.buffer.push_back(event);
                }
            }
            if !full && self.stop_at_latest && self.buffer.is_empty() {
                return None;
            }
            if !full && self.stop_at_latest {
                self.done = true;
            }
        }
    }
}

impl Lodging {
    /// The events of the facilities `r` names, from where it asks.
    pub async fn watch(
        &self,
        caller: &Caller,
        r: pb::WatchDeclarationEventsRequest,
    ) -> Result<EventStream, LodgingError> {
        if r.facility_id.trim().is_empty() {
            return Err(LodgingError::Invalid(vec![BadField::new(
                "facility_id",
                "is required: a facility id, or - for every facility the caller is bound to",
            )]));
        }
        let facilities: HashSet<String> = self
            .facilities()
            .named(caller, &r.facility_id)?
            .into_iter()
            .map(|f| f.id.clone())
            .collect();
        let mut bad = Vec::new();
        for (i, t) in r.event_types.iter().enumerate() {
            if !matches!(Ev::try_from(*t), Ok(e) if e != Ev::Unspecified) {
                bad.push(BadField::new(
                    format!("event_types[{i}]"),
                    format!("{t} is not a declaration event type"),
                ));
            }
        }
        let asked = match r.start_after_event_id.trim() {
            "" => None,
            text => match text.parse::<u64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    bad.push(BadField::new(
                        "start_after_event_id",
                        "is an event id (a decimal number), 0 for the oldest kept, or empty for new events",
                    ));
                    None
                }
            },
        };
        if !bad.is_empty() {
            return Err(LodgingError::Invalid(bad));
        }
        let store = self.store().clone();
        let trimmed = trimmed(&store).await?;
        let latest = latest(&store, trimmed).await?;
        let after = match asked {
            None => latest,
            Some(0) => trimmed,
            Some(n) if n < trimmed || n > latest => {
                return Err(LodgingError::EventNotFound {
                    event_id: n.to_string(),
                });
            }
            Some(n) => n,
        };
        let watch = Watch {
            store,
            changed: self.changed().clone(),
            tenant: call_tenant(),
            facilities,
            types: r.event_types.iter().copied().collect(),
            after,
            buffer: VecDeque::new(),
            stop_at_latest: r.stop_at_latest,
            done: false,
        };
        Ok(Box::pin(futures::stream::unfold(
            watch,
            |mut watch| async move { watch.next().await.map(|item| (item, watch)) },
        )))
    }
}
