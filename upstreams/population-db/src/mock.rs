//! The mock population database: `sandbox06.upstream.population.v1.PopulationService`
//! over the synthetic country, with overlays from the store applied on read.

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt, future::join_all};
use sandbox06_proto::{
    population::{self as pb, life_event::Change, population_service_server::PopulationService},
    types,
};
use sandbox06_runtime::{ApiError, Reason};
use tonic::{Request, Response, Status};

use sandbox06_proto::dates::{date_from_proto, date_to_proto};
use sandbox06_vn::{CitizenId, Sex};
use sandbox06_world::{
    Country, View,
    person::{Marital, Person},
    rules::{CARD_AGE, CHIP_CARDS_FROM, add_years, age_on},
};

use crate::{
    convert::to_record,
    error::{invalid, not_found},
    overlay::{self, Overlays},
};

/// Most numbers one BatchGetCitizens call may ask for.
pub const MAX_BATCH: usize = 10_000;
const DEFAULT_PAGE: u64 = 100;
const MAX_PAGE: u64 = 1_000;
/// Records read at once by a batch or a page when overlays exist (each is a store round trip).
const READ_CONCURRENCY: usize = 64;
/// Longest street part of an address, in characters.
const MAX_STREET_CHARS: usize = 200;

/// The mock national population database.
#[derive(Clone)]
pub struct PopulationDb {
    country: Arc<Country>,
    overlays: Overlays,
}

impl std::fmt::Debug for PopulationDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PopulationDb")
            .field("population", &self.country.population())
            .finish()
    }
}

fn view_of(view: i32) -> View {
    if view == pb::RecordView::Basic as i32 {
        View::Basic
    } else {
        View::Full
    }
}

fn store_error(e: sandbox06_store::StoreError) -> Status {
    ApiError::new(
        Reason::UpstreamUnavailable,
        format!("population overlays unavailable: {e}"),
    )
    .into()
}

fn rejected(field: &str, description: impl Into<String>) -> Status {
    ApiError::invalid_field(Reason::InvalidArgument, field, description).into()
}

impl PopulationDb {
    /// A database over `country`, with overlays kept in `store`.
    pub fn new(country: Arc<Country>, store: Arc<dyn sandbox06_store::Store>) -> Self {
        Self {
            country,
            overlays: Overlays::new(store),
        }
    }

    /// The country it serves.
    pub fn country(&self) -> &Arc<Country> {
        &self.country
    }

    /// Whether any overlay exists; asked once per request, not per citizen.
    async fn has_overlays(&self) -> Result<bool, Status> {
        self.overlays.any().await.map_err(store_error)
    }

    /// A citizen's record with every stored change applied.
    pub async fn person(&self, id: CitizenId, view: View) -> Result<Option<Person>, Status> {
        let overlays = self.has_overlays().await?;
        self.person_with(id, view, overlays).await
    }

    async fn person_with(
        &self,
        id: CitizenId,
        view: View,
        overlays: bool,
    ) -> Result<Option<Person>, Status> {
        Ok(self
            .person_and_events(id, view, overlays)
            .await?
            .map(|(person, _)| person))
    }

    /// A citizen's stored events, oldest first; none are read unless `overlays`.
    async fn events(&self, id: CitizenId, overlays: bool) -> Result<Vec<pb::LifeEvent>, Status> {
        if overlays {
            self.overlays.events(id).await.map_err(store_error)
        } else {
            Ok(Vec::new())
        }
    }

    /// A citizen's record with every stored change applied, and the citizen's own events.
    async fn person_and_events(
        &self,
        id: CitizenId,
        view: View,
        overlays: bool,
    ) -> Result<Option<(Person, Vec<pb::LifeEvent>)>, Status> {
        let events = self.events(id, overlays).await?;
        // A change may touch any part of the record: compute all of it when there is one.
        let computed = if events.is_empty() { view } else { View::Full };
        let Some(mut person) = self.country.person(id, computed) else {
            return Ok(None);
        };
        overlay::apply(&self.country, &mut person, &events);
        // Relatives' events change only what the full view shows (marriage, household).
        if overlays && view == View::Full {
            self.apply_relatives(&mut person).await?;
        }
        Ok(Some((person, events)))
    }

    /// Applies the consequences of the spouse's and household members' events, their event
    /// lists read concurrently.
    async fn apply_relatives(&self, person: &mut Person) -> Result<(), Status> {
        let ids = overlay::relatives(person);
        if ids.is_empty() {
            return Ok(());
        }
        let lists = join_all(ids.iter().map(|id| self.overlays.events(*id))).await;
        let relatives = ids
            .into_iter()
            .zip(lists)
            .map(|(id, events)| events.map(|e| (id, e)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(store_error)?;
        overlay::apply_relatives(&self.country, person, &relatives);
        Ok(())
    }

    /// Records of `ids` in order, read concurrently when overlays make each a store round trip.
    async fn records(
        &self,
        ids: Vec<CitizenId>,
        view: View,
        overlays: bool,
    ) -> Result<Vec<Option<pb::Citizen>>, Status> {
        if !overlays {
            // Nothing to wait for: compute in place.
            return Ok(ids
                .into_iter()
                .map(|id| {
                    self.country
                        .person(id, view)
                        .map(|p| to_record(&self.country, &p, view))
                })
                .collect());
        }
        futures::stream::iter(ids)
            .map(|id| self.record(id, view, overlays))
            .buffered(READ_CONCURRENCY)
            .try_collect()
            .await
    }

    async fn record(
        &self,
        id: CitizenId,
        view: View,
        overlays: bool,
    ) -> Result<Option<pb::Citizen>, Status> {
        Ok(self
            .person_with(id, view, overlays)
            .await?
            .map(|p| to_record(&self.country, &p, view)))
    }

    fn parse_id(&self, raw: &str, field: &str) -> Result<CitizenId, Status> {
        CitizenId::parse_at(raw, field, self.country.reference_date().year()).map_err(invalid)
    }

    /// Checks an event against the citizen's record and stored events; for a marriage,
    /// returns the spouse.
    async fn validate_event(
        &self,
        person: &Person,
        events: &[pb::LifeEvent],
        event: &pb::LifeEvent,
        overlays: bool,
    ) -> Result<Option<CitizenId>, Status> {
        let reference = self.country.reference_date();
        let on = match &event.effective_date {
            Some(d) => date_from_proto(d, "event.effective_date").map_err(invalid)?,
            None => reference,
        };
        if on < person.date_of_birth || on > reference {
            return Err(rejected(
                "event.effective_date",
                format!("must lie between the date of birth and today ({reference}), got {on}"),
            ));
        }
        if !person.is_alive() {
            return Err(rejected(
                "citizen_id",
                "the citizen's death is registered: no later change is possible",
            ));
        }
        if let Some(latest) = overlay::latest_date(events, &self.country)
            && on < latest
        {
            return Err(rejected(
                "event.effective_date",
                format!(
                    "must not be before the citizen's latest recorded change ({latest}), got {on}"
                ),
            ));
        }
        match &event.change {
            None => Err(rejected(
                "event.change",
                "is required: moved, married, card_replaced, died or vneid_changed",
            )),
            Some(Change::Moved(m)) => {
                let units = self.country.units();
                if units.commune_2025(&m.commune_code).is_none()
                    && units.commune_pre_2025(&m.commune_code).is_none()
                {
                    return Err(rejected(
                        "event.moved.commune_code",
                        format!(
                            "must be a 5-digit GSO commune code of either era, got {:?}",
                            m.commune_code
                        ),
                    ));
                }
                check_street(&m.street)?;
                Ok(None)
            }
            Some(Change::Married(m)) => self
                .validate_marriage(person, &m.spouse_citizen_id, on, overlays)
                .await
                .map(Some),
            Some(Change::CardReplaced(_)) => {
                let Some(card) = person.current_card() else {
                    return Err(rejected(
                        "event.card_replaced",
                        "the citizen has no current card to replace: a first card is issued, not replaced",
                    ));
                };
                let fourteen = add_years(person.date_of_birth, CARD_AGE);
                let (earliest, because) = [
                    (fourteen, "the citizen's 14th birthday".to_owned()),
                    (CHIP_CARDS_FROM, "the first chip cards".to_owned()),
                    (card.issued, "the current card's issue date".to_owned()),
                ]
                .into_iter()
                .max_by_key(|(d, _)| *d)
                .unwrap_or((card.issued, String::new()));
                if on < earliest {
                    return Err(rejected(
                        "event.effective_date",
                        format!(
                            "a replacement card must be dated on or after {earliest} ({because}), got {on}"
                        ),
                    ));
                }
                Ok(None)
            }
            Some(Change::Died(_)) => {
                if let Some(card) = person.current_card()
                    && on < card.issued
                {
                    return Err(rejected(
                        "event.effective_date",
                        format!(
                            "a death must be dated on or after the current card's issue date ({}), got {on}",
                            card.issued
                        ),
                    ));
                }
                Ok(None)
            }
            Some(Change::VneidChanged(v)) => {
                let level =
                    types::VneidLevel::try_from(v.level).unwrap_or(types::VneidLevel::Unspecified);
                if level == types::VneidLevel::Unspecified {
                    return Err(rejected(
                        "event.vneid_changed.level",
                        "must be VNEID_LEVEL_NONE, VNEID_LEVEL_1 or VNEID_LEVEL_2",
                    ));
                }
                if level != types::VneidLevel::None && age_on(person.date_of_birth, reference) < 14
                {
                    return Err(rejected(
                        "event.vneid_changed.level",
                        "VNeID accounts start at 14; younger children are attached to a parent",
                    ));
                }
                Ok(None)
            }
        }
    }

    /// Checks a marriage on `on` of `person` to the citizen numbered `spouse_raw`.
    async fn validate_marriage(
        &self,
        person: &Person,
        spouse_raw: &str,
        on: sandbox06_vn::CivilDate,
        overlays: bool,
    ) -> Result<CitizenId, Status> {
        let field = "event.married.spouse_citizen_id";
        let spouse_id = self.parse_id(spouse_raw, field)?;
        if spouse_id == person.id {
            return Err(rejected(
                field,
                "must be another citizen's number, not the citizen's own",
            ));
        }
        let (spouse, spouse_events) = self
            .person_and_events(spouse_id, View::Full, overlays)
            .await?
            .ok_or_else(|| not_found(spouse_raw))?;
        if spouse.sex == person.sex {
            return Err(rejected(
                field,
                "must be a citizen of the other sex (Law on Marriage and Family 2014)",
            ));
        }
        // A retry after a failure between the two writes finds the spouse's side written.
        let spouse_side_written = overlay::names_marriage_to(&spouse_events, person.id);
        for (party, p, field, written) in [
            ("the citizen", person, "citizen_id", false),
            ("the spouse", &spouse, field, spouse_side_written),
        ] {
            if !p.is_alive() {
                return Err(rejected(
                    field,
                    format!("{party} is deceased: both parties to a marriage must be alive"),
                ));
            }
            if p.marital == Marital::Married && !written {
                return Err(rejected(
                    field,
                    format!(
                        "{party} is already married: the death of the current spouse or a divorce must be registered first"
                    ),
                ));
            }
            let (min, who) = match p.sex {
                Sex::Male => (20, "men"),
                Sex::Female => (18, "women"),
            };
            let age = age_on(p.date_of_birth, on);
            if age < min {
                return Err(rejected(
                    field,
                    format!(
                        "{party} is under the marriageable age: {age} on {on}, {who} must be at least {min} (Law on Marriage and Family 2014)"
                    ),
                ));
            }
        }
        if !spouse_side_written
            && let Some(latest) = overlay::latest_date(&spouse_events, &self.country)
            && on < latest
        {
            return Err(rejected(
                "event.effective_date",
                format!(
                    "must not be before the spouse's latest recorded change ({latest}), got {on}"
                ),
            ));
        }
        Ok(spouse_id)
    }
}

/// Checks the street part of a new address.
fn check_street(street: &str) -> Result<(), Status> {
    let field = "event.moved.street";
    if street.trim().is_empty() {
        return Err(rejected(
            field,
            "is required: house number and street or hamlet",
        ));
    }
    let count = street.chars().count();
    if count > MAX_STREET_CHARS {
        return Err(rejected(
            field,
            format!("must be at most {MAX_STREET_CHARS} characters, got {count}"),
        ));
    }
    if street.contains('|') {
        return Err(rejected(
            field,
            "must not contain '|': it separates the fields of the card's QR code",
        ));
    }
    if let Some(c) = street.chars().find(|c| c.is_control()) {
        return Err(rejected(
            field,
            format!(
                "must be one line without control characters, found U+{:04X}",
                u32::from(c)
            ),
        ));
    }
    Ok(())
}

#[tonic::async_trait]
impl PopulationService for PopulationDb {
    async fn get_citizen(
        &self,
        request: Request<pb::GetCitizenRequest>,
    ) -> Result<Response<pb::GetCitizenResponse>, Status> {
        let req = request.into_inner();
        let id = self.parse_id(&req.citizen_id, "citizen_id")?;
        let citizen = self
            .record(id, view_of(req.view), self.has_overlays().await?)
            .await?
            .ok_or_else(|| not_found(&req.citizen_id))?;
        Ok(Response::new(pb::GetCitizenResponse {
            citizen: Some(citizen),
        }))
    }

    async fn batch_get_citizens(
        &self,
        request: Request<pb::BatchGetCitizensRequest>,
    ) -> Result<Response<pb::BatchGetCitizensResponse>, Status> {
        let req = request.into_inner();
        if req.citizen_ids.len() > MAX_BATCH {
            return Err(rejected(
                "citizen_ids",
                format!(
                    "at most {MAX_BATCH} numbers per call, got {}",
                    req.citizen_ids.len()
                ),
            ));
        }
        let view = view_of(req.view);
        let year = self.country.reference_date().year();
        let overlays = self.has_overlays().await?;
        let parsed: Vec<_> = req
            .citizen_ids
            .iter()
            .map(|raw| CitizenId::parse_at(raw, "citizen_id", year))
            .collect();
        let mut found = self
            .records(
                parsed
                    .iter()
                    .filter_map(|p| p.as_ref().ok().copied())
                    .collect(),
                view,
                overlays,
            )
            .await?
            .into_iter();
        let results = req
            .citizen_ids
            .into_iter()
            .zip(parsed)
            .map(|(raw, parsed)| match parsed {
                Ok(_) => pb::BatchGetCitizensResult {
                    citizen: found.next().flatten(),
                    citizen_id: raw,
                    invalid_reason: String::new(),
                },
                Err(e) => pb::BatchGetCitizensResult {
                    citizen: None,
                    citizen_id: raw,
                    invalid_reason: e.description,
                },
            })
            .collect();
        Ok(Response::new(pb::BatchGetCitizensResponse { results }))
    }

    async fn list_citizens(
        &self,
        request: Request<pb::ListCitizensRequest>,
    ) -> Result<Response<pb::ListCitizensResponse>, Status> {
        let req = request.into_inner();
        let range = if req.province_code.is_empty() {
            0..self.country.population()
        } else {
            req.province_code
                .parse::<u16>()
                .ok()
                .and_then(|code| self.country.province_range(code))
                .ok_or_else(|| {
                    rejected(
                        "province_code",
                        format!(
                            "must be a pre-2025 GSO province code such as \"58\", got {:?}",
                            req.province_code
                        ),
                    )
                })?
        };
        let page_size = match req.page_size {
            0 => DEFAULT_PAGE,
            n if n < 0 => {
                return Err(rejected(
                    "page_size",
                    format!("must not be negative, got {n}"),
                ));
            }
            n => (n as u64).min(MAX_PAGE),
        };
        let offset = if req.page_token.is_empty() {
            0
        } else {
            req.page_token
                .parse::<u64>()
                .ok()
                .filter(|o| *o <= range.end - range.start)
                .ok_or_else(|| rejected("page_token", "is not a token this server returned"))?
        };
        let view = view_of(req.view);
        let overlays = self.has_overlays().await?;
        let start = range.start + offset;
        let end = (start + page_size).min(range.end);
        let citizens = self
            .records(
                (start..end)
                    .filter_map(|i| self.country.citizen_at(i))
                    .collect(),
                view,
                overlays,
            )
            .await?
            .into_iter()
            .flatten()
            .collect();
        let next_page_token = if end < range.end {
            (end - range.start).to_string()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListCitizensResponse {
            citizens,
            next_page_token,
            total_size: (range.end - range.start) as i64,
        }))
    }

    async fn create_life_event(
        &self,
        request: Request<pb::CreateLifeEventRequest>,
    ) -> Result<Response<pb::CreateLifeEventResponse>, Status> {
        let req = request.into_inner();
        let id = self.parse_id(&req.citizen_id, "citizen_id")?;
        let mut event = req.event.ok_or_else(|| rejected("event", "is required"))?;
        if let Some(Change::Moved(m)) = &mut event.change {
            m.street = m.street.trim().to_owned();
        }
        let overlays = self.has_overlays().await?;
        let (person, events) = self
            .person_and_events(id, View::Full, overlays)
            .await?
            .ok_or_else(|| not_found(&req.citizen_id))?;
        let spouse = self
            .validate_event(&person, &events, &event, overlays)
            .await?;
        if event.effective_date.is_none() {
            event.effective_date = Some(date_to_proto(self.country.reference_date()));
        }
        match spouse {
            // A marriage is recorded on both spouses, the spouse's side first.
            Some(spouse) => {
                let mirrored = pb::LifeEvent {
                    effective_date: event.effective_date,
                    change: Some(Change::Married(pb::Married {
                        spouse_citizen_id: id.to_string(),
                    })),
                };
                self.overlays
                    .append_marriage(id, &event, spouse, &mirrored)
                    .await
            }
            None => self.overlays.append(id, &event).await,
        }
        .map_err(store_error)?;
        tracing::info!(citizen = %sandbox06_runtime::mask::citizen_id(&req.citizen_id), "life event recorded");
        let citizen = self.record(id, View::Full, true).await?;
        Ok(Response::new(pb::CreateLifeEventResponse { citizen }))
    }

    async fn get_country_info(
        &self,
        _request: Request<pb::GetCountryInfoRequest>,
    ) -> Result<Response<pb::GetCountryInfoResponse>, Status> {
        Ok(Response::new(pb::GetCountryInfoResponse {
            seed: self.country.seed(),
            population: self.country.population() as i64,
            reference_date: Some(date_to_proto(self.country.reference_date())),
            persona_count: self.country.personas().all().len() as i32,
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::{sync::Mutex, time::Duration};

    use sandbox06_store::{MemoryStore, Store, StoreError};
    use time::macros::date;

    use super::*;
    use sandbox06_world::person::{CardStanding, Life};

    const HAPPY: &str = "001090012345";
    const WIFE: &str = "001192023456";
    const SON: &str = "001215067890";
    const CARD_REPLACED: &str = "038088067890";
    const DECEASED: &str = "040045078901";
    const NO_VNEID: &str = "031075045678";
    const LEVEL_1: &str = "079195034567";

    fn country() -> Arc<Country> {
        Arc::new(Country::new(6, 1_000_000, date!(2026 - 11 - 27)))
    }

    fn db_on(store: Arc<dyn Store>) -> PopulationDb {
        PopulationDb::new(country(), store)
    }

    fn db() -> PopulationDb {
        db_on(Arc::new(MemoryStore::new()))
    }

    fn id(raw: &str) -> CitizenId {
        CitizenId::parse_field(raw, "id").unwrap()
    }

    fn on(year: i32, month: u8, day: u8) -> Option<types::Date> {
        let d = time::Date::from_calendar_date(year, time::Month::try_from(month).unwrap(), day)
            .unwrap();
        Some(date_to_proto(d))
    }

    fn moved(street: &str) -> Change {
        Change::Moved(pb::Moved {
            commune_code: "22366".into(),
            street: street.into(),
        })
    }

    fn married(spouse: &str) -> Change {
        Change::Married(pb::Married {
            spouse_citizen_id: spouse.into(),
        })
    }

    async fn record(
        db: &PopulationDb,
        citizen: &str,
        effective_date: Option<types::Date>,
        change: Change,
    ) -> Result<pb::Citizen, Status> {
        let response = db
            .create_life_event(Request::new(pb::CreateLifeEventRequest {
                citizen_id: citizen.into(),
                event: Some(pb::LifeEvent {
                    effective_date,
                    change: Some(change),
                }),
            }))
            .await?;
        Ok(response.into_inner().citizen.unwrap())
    }

    async fn person(db: &PopulationDb, citizen: &str) -> Person {
        db.person(id(citizen), View::Full).await.unwrap().unwrap()
    }

    async fn get(db: &PopulationDb, citizen: &str) -> pb::Citizen {
        db.get_citizen(Request::new(pb::GetCitizenRequest {
            citizen_id: citizen.into(),
            view: pb::RecordView::Full as i32,
        }))
        .await
        .unwrap()
        .into_inner()
        .citizen
        .unwrap()
    }

    /// The field and description of an INVALID_ARGUMENT refusal (its message is
    /// `<field>: <description>`, as the BadRequest violation).
    fn refusal(status: &Status) -> (String, String) {
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
        assert_eq!(
            sandbox06_runtime::error::reason_of(status).as_deref(),
            Some("INVALID_ARGUMENT"),
            "{status:?}"
        );
        let (field, description) = status.message().split_once(": ").unwrap();
        (field.to_owned(), description.to_owned())
    }

    fn members(p: &Person) -> Vec<CitizenId> {
        p.household
            .as_ref()
            .map(|h| h.members.iter().map(|m| m.id).collect())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn a_death_widows_the_spouse_and_leaves_the_household_to_the_others() {
        let db = db();
        let before = person(&db, WIFE).await;
        assert_eq!(before.marital, Marital::Married);
        assert_eq!(members(&before), [id(HAPPY), id(WIFE), id(SON)]);

        record(&db, HAPPY, on(2026, 1, 10), Change::Died(pb::Died {}))
            .await
            .unwrap();

        let wife = person(&db, WIFE).await;
        assert_eq!(wife.marital, Marital::Widowed);
        assert_eq!(wife.spouse.as_ref().and_then(|s| s.id), Some(id(HAPPY)));
        let household = wife.household.as_ref().unwrap();
        assert_eq!(household.code, before.household.as_ref().unwrap().code);
        assert_eq!(household.head, id(WIFE));
        assert_eq!(household.head_name, wife.full_name);
        assert_eq!(household.relation, "Chủ hộ");
        assert_eq!(members(&wife), [id(WIFE), id(SON)]);
        assert_eq!(wife.residence, before.residence, "same address");

        // One head for everyone: the son now lives in his mother's household.
        let son = person(&db, SON).await;
        assert_eq!(son.household.as_ref().unwrap().head, id(WIFE));
        assert_eq!(son.household.as_ref().unwrap().relation, "Con");
        assert_eq!(members(&son), [id(WIFE), id(SON)]);
        // Parents stay as they were.
        assert_eq!(son.father.as_ref().and_then(|f| f.id), Some(id(HAPPY)));

        // The wire record says the same, in single and batch reads.
        let wire = get(&db, WIFE).await;
        assert_eq!(wire.marital_status, types::MaritalStatus::Widowed as i32);
        let batch = db
            .batch_get_citizens(Request::new(pb::BatchGetCitizensRequest {
                citizen_ids: vec![SON.into(), "bad".into(), WIFE.into()],
                view: pb::RecordView::Full as i32,
            }))
            .await
            .unwrap()
            .into_inner()
            .results;
        assert_eq!(batch.len(), 3);
        assert_eq!(batch[0].citizen_id, SON);
        assert!(!batch[1].invalid_reason.is_empty());
        assert_eq!(batch[2].citizen.as_ref(), Some(&wire));
    }

    #[tokio::test]
    async fn a_member_who_moves_away_leaves_the_household() {
        let db = db();
        record(&db, SON, on(2026, 3, 1), moved("Số 1 đường Trần Phú"))
            .await
            .unwrap();
        let happy = person(&db, HAPPY).await;
        assert_eq!(happy.marital, Marital::Married);
        assert_eq!(happy.household.as_ref().unwrap().head, id(HAPPY));
        assert_eq!(members(&happy), [id(HAPPY), id(WIFE)]);
        let wife = person(&db, WIFE).await;
        assert_eq!(wife.marital, Marital::Married);
        assert_eq!(wife.household.as_ref().unwrap().head, id(HAPPY));
        assert_eq!(members(&wife), [id(HAPPY), id(WIFE)]);
        // The head moving away makes the wife head at the old address.
        record(&db, HAPPY, on(2026, 4, 1), moved("Số 2 đường Trần Phú"))
            .await
            .unwrap();
        let wife = person(&db, WIFE).await;
        assert_eq!(wife.household.as_ref().unwrap().head, id(WIFE));
        assert_eq!(members(&wife), [id(WIFE)]);
        assert_eq!(wife.marital, Marital::Married);
    }

    #[tokio::test]
    async fn events_cannot_be_backdated() {
        let db = db();
        record(&db, NO_VNEID, on(2026, 3, 1), moved("Số 1"))
            .await
            .unwrap();
        let e = record(&db, NO_VNEID, on(2026, 2, 1), moved("Số 2"))
            .await
            .unwrap_err();
        let (field, text) = refusal(&e);
        assert_eq!(field, "event.effective_date");
        assert!(
            text.contains("latest recorded change (2026-03-01)"),
            "{text}"
        );
        // The same day is fine.
        record(&db, NO_VNEID, on(2026, 3, 1), moved("Số 3"))
            .await
            .unwrap();

        // A death before the current card was issued (2021-04-20) is refused.
        let db = self::db();
        let e = record(&db, NO_VNEID, on(2021, 1, 1), Change::Died(pb::Died {}))
            .await
            .unwrap_err();
        let (field, text) = refusal(&e);
        assert_eq!(field, "event.effective_date");
        assert!(text.contains("2021-04-20"), "{text}");
    }

    #[tokio::test]
    async fn a_replacement_card_follows_the_current_one() {
        let db = db();
        let replace = || Change::CardReplaced(pb::CardReplaced::default());
        // The current card was issued on 2024-09-10.
        let e = record(&db, CARD_REPLACED, on(2024, 5, 1), replace())
            .await
            .unwrap_err();
        let (field, text) = refusal(&e);
        assert_eq!(field, "event.effective_date");
        assert!(
            text.contains("2024-09-10") && text.contains("current card"),
            "{text}"
        );
        record(&db, CARD_REPLACED, on(2025, 3, 1), replace())
            .await
            .unwrap();
        let p = person(&db, CARD_REPLACED).await;
        let issued: Vec<_> = p.cards.iter().map(|c| c.issued).collect();
        let mut sorted = issued.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(issued, sorted, "newest first");
        assert_eq!(p.cards[0].issued, date!(2025 - 03 - 01));
        assert_eq!(p.cards[0].standing, CardStanding::Valid);
        assert!(
            p.cards[1..]
                .iter()
                .all(|c| c.standing == CardStanding::Superseded)
        );
        // Not before the latest event either.
        let e = record(&db, CARD_REPLACED, on(2025, 2, 1), replace())
            .await
            .unwrap_err();
        assert_eq!(refusal(&e).0, "event.effective_date");

        // No card, nothing to replace: a child, and a citizen past 14 whose first card is
        // not issued yet.
        let e = record(&db, SON, None, replace()).await.unwrap_err();
        assert_eq!(refusal(&e).0, "event.card_replaced");
        let country = db.country().clone();
        let reference = country.reference_date();
        let no_card = (0..1_000_000)
            .filter_map(|i| country.citizen_at(i))
            .find(|c| {
                country.person(*c, View::Basic).is_some_and(|p| {
                    p.is_alive()
                        && age_on(p.date_of_birth, reference) >= CARD_AGE
                        && p.current_card().is_none()
                })
            })
            .expect("a citizen past 14 without a card");
        let e = record(&db, &no_card.to_string(), None, replace())
            .await
            .unwrap_err();
        let (field, text) = refusal(&e);
        assert_eq!(field, "event.card_replaced");
        assert!(text.contains("no current card"), "{text}");
    }

    #[tokio::test]
    async fn a_new_street_is_one_short_line() {
        let db = db();
        for (street, text) in [
            ("Số 1 | Trần Phú", "'|'"),
            ("Số 1\nTrần Phú", "control characters"),
            ("Số 1\tTrần Phú", "U+0009"),
            (&"x".repeat(201) as &str, "at most 200 characters, got 201"),
            ("   ", "is required"),
        ] {
            let e = record(&db, LEVEL_1, None, moved(street)).await.unwrap_err();
            let (field, description) = refusal(&e);
            assert_eq!(field, "event.moved.street", "{street:?}");
            assert!(description.contains(text), "{street:?}: {description}");
        }
        record(&db, LEVEL_1, None, moved(&"x".repeat(200)))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_refused_marriage_names_the_party_and_the_condition() {
        let db = db();
        let cases = [
            (
                WIFE,
                NO_VNEID,
                "citizen_id",
                "the citizen is already married",
            ),
            (
                LEVEL_1,
                HAPPY,
                "event.married.spouse_citizen_id",
                "the spouse is already married",
            ),
            (
                LEVEL_1,
                DECEASED,
                "event.married.spouse_citizen_id",
                "the spouse is deceased",
            ),
            (
                LEVEL_1,
                SON,
                "event.married.spouse_citizen_id",
                "the spouse is under the marriageable age: 11 on 2026-11-27, men must be at least 20",
            ),
            (
                SON,
                LEVEL_1,
                "citizen_id",
                "the citizen is under the marriageable age: 11 on 2026-11-27, men must be at least 20",
            ),
            (
                NO_VNEID,
                HAPPY,
                "event.married.spouse_citizen_id",
                "other sex",
            ),
        ];
        for (citizen, spouse, field, text) in cases {
            let e = record(&db, citizen, None, married(spouse))
                .await
                .unwrap_err();
            let (got_field, description) = refusal(&e);
            assert_eq!(got_field, field, "{citizen} + {spouse}: {description}");
            assert!(
                description.contains(text),
                "{citizen} + {spouse}: {description}"
            );
        }
        // Age is in completed years on the marriage's date: the vneid-level-1 persona
        // (born 1995-11-12) turned 18 on 2013-11-12.
        let e = record(&db, NO_VNEID, on(2013, 11, 11), married(LEVEL_1))
            .await
            .unwrap_err();
        let (field, description) = refusal(&e);
        assert_eq!(field, "event.married.spouse_citizen_id");
        assert!(description.contains("17 on 2013-11-11"), "{description}");
        record(&db, NO_VNEID, on(2013, 11, 12), married(LEVEL_1))
            .await
            .unwrap();
        assert_eq!(person(&db, LEVEL_1).await.marital, Marital::Married);
    }

    /// A memory store whose writes can be made to fail.
    #[derive(Debug, Default)]
    struct Flaky {
        inner: MemoryStore,
        fail_put: Mutex<bool>,
        fail_append_containing: Mutex<Option<String>>,
    }

    fn broken(operation: &'static str) -> StoreError {
        StoreError {
            backend: "memory",
            operation,
            message: "injected failure".into(),
        }
    }

    #[tonic::async_trait]
    impl Store for Flaky {
        async fn append(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
            let fail = self
                .fail_append_containing
                .lock()
                .unwrap()
                .as_ref()
                .is_some_and(|s| key.contains(s.as_str()));
            if fail {
                return Err(broken("append"));
            }
            self.inner.append(key, value).await
        }
        async fn list(&self, key: &str) -> Result<Vec<Vec<u8>>, StoreError> {
            self.inner.list(key).await
        }
        async fn put(
            &self,
            key: &str,
            value: &[u8],
            ttl: Option<Duration>,
        ) -> Result<(), StoreError> {
            if *self.fail_put.lock().unwrap() {
                return Err(broken("put"));
            }
            self.inner.put(key, value, ttl).await
        }
        async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
            self.inner.get(key).await
        }
        async fn delete(&self, key: &str) -> Result<bool, StoreError> {
            self.inner.delete(key).await
        }
        async fn put_if_absent(
            &self,
            key: &str,
            value: &[u8],
            ttl: Option<Duration>,
        ) -> Result<bool, StoreError> {
            self.inner.put_if_absent(key, value, ttl).await
        }
        async fn clear(&self) -> Result<(), StoreError> {
            self.inner.clear().await
        }
        fn backend(&self) -> &'static str {
            "memory"
        }
    }

    #[tokio::test]
    async fn the_marker_is_written_before_the_event() {
        let store = Arc::new(Flaky::default());
        let db = db_on(store.clone());
        *store.fail_put.lock().unwrap() = true;
        let e = record(&db, NO_VNEID, None, Change::Died(pb::Died {}))
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unavailable);
        // Nothing is stored that reads would not see.
        assert!(db.overlays.events(id(NO_VNEID)).await.unwrap().is_empty());
        *store.fail_put.lock().unwrap() = false;
        record(&db, NO_VNEID, None, Change::Died(pb::Died {}))
            .await
            .unwrap();
        assert!(db.overlays.any().await.unwrap());
        assert_eq!(
            person(&db, NO_VNEID).await.life,
            Life::Deceased(date!(2026 - 11 - 27))
        );
    }

    #[tokio::test]
    async fn a_marriage_retried_after_a_partial_write_is_recorded_once_on_each_side() {
        let store = Arc::new(Flaky::default());
        let db = db_on(store.clone());
        // The citizen's own write fails, after the spouse's.
        *store.fail_append_containing.lock().unwrap() = Some(NO_VNEID.into());
        let e = record(&db, NO_VNEID, on(2026, 5, 1), married(LEVEL_1))
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unavailable);
        assert_eq!(db.overlays.events(id(LEVEL_1)).await.unwrap().len(), 1);
        assert!(db.overlays.events(id(NO_VNEID)).await.unwrap().is_empty());

        *store.fail_append_containing.lock().unwrap() = None;
        let citizen = record(&db, NO_VNEID, on(2026, 5, 1), married(LEVEL_1))
            .await
            .unwrap();
        assert_eq!(citizen.marital_status, types::MaritalStatus::Married as i32);
        assert_eq!(db.overlays.events(id(LEVEL_1)).await.unwrap().len(), 1);
        assert_eq!(db.overlays.events(id(NO_VNEID)).await.unwrap().len(), 1);
        let wife = person(&db, LEVEL_1).await;
        assert_eq!(wife.spouse.and_then(|s| s.id), Some(id(NO_VNEID)));
        // Once both sides are written, a second marriage is refused.
        let e = record(&db, NO_VNEID, on(2026, 6, 1), married(LEVEL_1))
            .await
            .unwrap_err();
        assert_eq!(refusal(&e).0, "citizen_id");
    }
}
