//! The daily lodging counts (`lgsp.lodging.daily-count`): the lodging service's declaration
//! events, watched through the edge as the platform's own client (which reads every facility),
//! counted per province of the 2025 units and day of arrival (Vietnam's day).
//!
//! Each province-day is a sorted set, `lgsp:{lgsp}:lodging:<province>:<yyyymmdd>`, of the
//! declarations (by name) scored by their guests: a creation or an amendment adds or rescores
//! the declaration, a cancellation removes it, so an event counted twice (after a restart, or
//! when the watch resumes from the oldest event kept) changes nothing. The last event counted
//! is kept (`lgsp:{lgsp}:lodging:cursor`), and the watch resumes after it. The counts are the
//! suite's own: the worker watches as no tenant, and a count is read as the suite
//! ([`as_suite`]), whoever asks (a tenant's calls would read the tenant's own state, where no
//! count is). A declaration's
//! arrival and facility are never amended, so its province-day never changes.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use sandbox06_proto::{
    dates::{date_from_proto, date_to_proto},
    lgsp as pb,
    lodging::{
        self as lg, DeclarationEventType, GetFacilityRequest,
        lodging_service_client::LodgingServiceClient,
    },
};
use sandbox06_runtime::{clock::Clock, component::Shutdown, faults::as_suite, token::EdgeChannel};
use sandbox06_store::{ScoreRange, Store};
use sandbox06_vn::{CivilDate, FieldError, FieldErrorKind};
use tonic::Code;

use crate::LgspError;

/// Where the watch resumes.
const CURSOR_KEY: &str = "lgsp:{lgsp}:lodging:cursor";
/// How long the worker waits before watching again after a failure, at first and at most.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// Declarations of one province-day read at once by a count.
const COUNT_PAGE: usize = 100_000;
/// Vietnam's offset from UTC, in seconds.
const VIETNAM: i64 = 7 * 3600;

fn day_key(province: u8, day: CivilDate) -> String {
    format!(
        "lgsp:{{lgsp}}:lodging:{province:02}:{:04}{:02}{:02}",
        day.year(),
        day.month() as u8,
        day.day()
    )
}

/// The facility of a declaration's name (`facilities/{facility}/declarations/{id}`).
fn facility_of(name: &str) -> Option<&str> {
    name.strip_prefix("facilities/")?.split('/').next()
}

/// The counts and the worker that keeps them.
#[derive(Clone)]
pub struct LodgingCounts {
    store: Arc<dyn Store>,
    lodging: LodgingServiceClient<EdgeChannel>,
    clock: Clock,
    /// Each facility's province (2025 code), asked of the lodging service once.
    provinces: Arc<Mutex<HashMap<String, u8>>>,
}

impl std::fmt::Debug for LodgingCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LodgingCounts").finish_non_exhaustive()
    }
}

impl LodgingCounts {
    /// Counts kept in `store`, from the lodging service reached through `edge`.
    pub fn new(store: Arc<dyn Store>, edge: EdgeChannel, clock: Clock) -> Self {
        Self {
            store,
            lodging: LodgingServiceClient::new(edge),
            clock,
            provinces: Arc::default(),
        }
    }

    /// A facility's province, `None` when the lodging service does not know it.
    async fn province(&self, facility: &str) -> Result<Option<u8>, tonic::Status> {
        if let Some(p) = self
            .provinces
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(facility)
        {
            return Ok(Some(*p));
        }
        let answer = self
            .lodging
            .clone()
            .get_facility(GetFacilityRequest {
                facility_id: facility.to_owned(),
            })
            .await;
        let code = match answer {
            Ok(r) => r
                .into_inner()
                .facility
                .and_then(|f| f.address)
                .and_then(|a| a.province_code.parse::<u8>().ok()),
            Err(s) if s.code() == Code::NotFound || s.code() == Code::PermissionDenied => None,
            Err(s) => return Err(s),
        };
        if let Some(code) = code {
            self.provinces
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(facility.to_owned(), code);
        }
        Ok(code)
    }

    /// Counts one event.
    async fn apply(&self, event: &lg::WatchDeclarationEventsResponse) -> Result<(), WatchError> {
        let Some(declaration) = &event.declaration else {
            return Ok(());
        };
        let Some(facility) = facility_of(&declaration.name) else {
            return Ok(());
        };
        let Some(arrival) = &declaration.arrival_time else {
            return Ok(());
        };
        let Some(province) = self.province(facility).await.map_err(WatchError::Lodging)? else {
            return Ok(());
        };
        let Ok(at) = time::OffsetDateTime::from_unix_timestamp(arrival.seconds + VIETNAM) else {
            return Ok(());
        };
        let key = day_key(province, at.date());
        match DeclarationEventType::try_from(event.r#type) {
            Ok(DeclarationEventType::Created | DeclarationEventType::Updated) => {
                let guests = i64::try_from(declaration.guests.len()).unwrap_or(i64::MAX);
                self.store.zadd(&key, &declaration.name, guests).await?;
            }
            Ok(DeclarationEventType::Cancelled) => {
                self.store.zrem(&key, &declaration.name).await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Watches and counts until `shutdown`; a failure (the lodging service or the store out of
    /// reach) is retried, never the end.
    pub async fn run(&self, mut shutdown: Shutdown) {
        let mut retry = RETRY_FIRST;
        loop {
            let watched = tokio::select! {
                () = &mut shutdown => return,
                watched = self.watch() => watched,
            };
            match watched {
                Ok(()) => retry = RETRY_FIRST,
                Err(error) => {
                    tracing::warn!(%error, "lodging counts: the watch failed; watching again");
                    retry = (retry * 2).min(RETRY_MAX);
                }
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(retry) => {}
            }
        }
    }

    /// One watch, from the cursor, until it fails or ends.
    async fn watch(&self) -> Result<(), WatchError> {
        let cursor = self
            .store
            .get(CURSOR_KEY)
            .await?
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_else(|| "0".to_owned());
        let request = lg::WatchDeclarationEventsRequest {
            facility_id: "-".into(),
            start_after_event_id: cursor,
            event_types: vec![
                DeclarationEventType::Created as i32,
                DeclarationEventType::Updated as i32,
                DeclarationEventType::Cancelled as i32,
            ],
            stop_at_latest: false,
        };
        let mut stream = match self.lodging.clone().watch_declaration_events(request).await {
            Ok(stream) => stream.into_inner(),
            // The cursor is older than the events kept (or the state was reset): count again
            // from the oldest kept; what is counted twice changes nothing.
            Err(s) if s.code() == Code::NotFound => {
                self.store.delete(CURSOR_KEY).await?;
                return Ok(());
            }
            Err(s) => return Err(WatchError::Lodging(s)),
        };
        while let Some(event) = stream.message().await.map_err(WatchError::Lodging)? {
            self.apply(&event).await?;
            self.store
                .put(CURSOR_KEY, event.event_id.as_bytes(), None)
                .await?;
        }
        Ok(())
    }

    /// The count of a province's day.
    pub async fn count(
        &self,
        req: &pb::LodgingCountRequest,
    ) -> Result<pb::LodgingCountResponse, LgspError> {
        let units = &*sandbox06_vn::admin::ADMIN_UNITS;
        let province = Some(req.province_code.as_str())
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|c| c.parse::<u8>().ok())
            .filter(|c| !units.province_2025_name(*c).is_empty())
            .ok_or_else(|| {
                FieldError::new(
                    FieldErrorKind::Other,
                    "lodging_count.province_code",
                    "the two-digit code of a province of the 2025 units, e.g. \"56\"",
                )
            })?;
        let day = match &req.date {
            Some(date) => date_from_proto(date, "lodging_count.date")?,
            None => self.clock.today(),
        };
        // Read as the suite, whoever asks: a tenant's state holds no count.
        let key = day_key(province, day);
        let (members, last_event_id) = as_suite(async {
            let members = self.store.zrange(&key, ScoreRange::all(COUNT_PAGE)).await?;
            let cursor = self.store.get(CURSOR_KEY).await?;
            Ok::<_, sandbox06_store::StoreError>((members, cursor))
        })
        .await?;
        let last_event_id = last_event_id
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let facilities: BTreeSet<&str> = members
            .iter()
            .filter_map(|m| facility_of(&m.member))
            .collect();
        Ok(pb::LodgingCountResponse {
            province_code: format!("{province:02}"),
            province_name: units.province_2025_name(province).to_owned(),
            date: Some(date_to_proto(day)),
            declarations: i64::try_from(members.len()).unwrap_or(i64::MAX),
            guests: members.iter().map(|m| m.score).sum(),
            facilities: i64::try_from(facilities.len()).unwrap_or(i64::MAX),
            last_event_id,
        })
    }
}

/// Why a watch ended.
#[derive(Debug, thiserror::Error)]
enum WatchError {
    /// The lodging service (through the edge) failed.
    #[error("the lodging service: {0}")]
    Lodging(tonic::Status),
    /// The store failed.
    #[error("the state store: {0}")]
    Store(#[from] sandbox06_store::StoreError),
}
