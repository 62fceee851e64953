//! The mock population database: `sandbox06.upstream.population.v1.PopulationService`
//! over the synthetic country, with overlays from the store applied on read.

use std::sync::Arc;

use sandbox06_kit::{ApiError, Reason};
use sandbox06_proto::{
    population::{self as pb, life_event::Change, population_service_server::PopulationService},
    types,
};
use tonic::{Request, Response, Status};

use super::{
    convert::to_record,
    overlay::{self, Overlays},
};
use crate::{
    country::{Country, View, person::Person, rules::age_on},
    domain::{CitizenId, Sex, date_from_proto, date_to_proto},
    error::{invalid, not_found},
};

/// Most numbers one BatchGetCitizens call may ask for.
pub const MAX_BATCH: usize = 10_000;
const DEFAULT_PAGE: u64 = 100;
const MAX_PAGE: u64 = 1_000;

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

fn store_error(e: sandbox06_kit::StoreError) -> Status {
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
    pub fn new(country: Arc<Country>, store: Arc<dyn sandbox06_kit::Store>) -> Self {
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
        let events = if overlays {
            self.overlays.events(id).await.map_err(store_error)?
        } else {
            Vec::new()
        };
        // A change may touch any part of the record: compute all of it when there is one.
        let view = if events.is_empty() { view } else { View::Full };
        let Some(mut person) = self.country.person(id, view) else {
            return Ok(None);
        };
        overlay::apply(&self.country, &mut person, &events);
        Ok(Some(person))
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

    async fn validate_event(
        &self,
        person: &Person,
        event: &pb::LifeEvent,
    ) -> Result<Vec<CitizenId>, Status> {
        let reference = self.country.reference_date();
        if let Some(d) = &event.effective_date {
            let on = date_from_proto(d, "event.effective_date").map_err(invalid)?;
            if on < person.date_of_birth || on > reference {
                return Err(rejected(
                    "event.effective_date",
                    format!("must lie between the date of birth and today ({reference}), got {on}"),
                ));
            }
        }
        if !person.is_alive() {
            return Err(rejected(
                "citizen_id",
                "the citizen's death is registered: no later change is possible",
            ));
        }
        let mut also = Vec::new();
        match &event.change {
            None => {
                return Err(rejected(
                    "event.change",
                    "is required: moved, married, card_replaced, died or vneid_changed",
                ));
            }
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
                if m.street.trim().is_empty() {
                    return Err(rejected(
                        "event.moved.street",
                        "is required: house number and street or hamlet",
                    ));
                }
            }
            Some(Change::Married(m)) => {
                let field = "event.married.spouse_citizen_id";
                let spouse_id = self.parse_id(&m.spouse_citizen_id, field)?;
                let spouse = self
                    .person(spouse_id, View::Full)
                    .await?
                    .ok_or_else(|| not_found(&m.spouse_citizen_id))?;
                if spouse_id == person.id || spouse.sex == person.sex {
                    return Err(rejected(
                        field,
                        "must be a citizen of the other sex (Law on Marriage and Family 2014)",
                    ));
                }
                for p in [person, &spouse] {
                    let min = if p.sex == Sex::Male { 20 } else { 18 };
                    if age_on(p.date_of_birth, reference) < min {
                        return Err(rejected(
                            field,
                            format!(
                                "both must be of marriageable age (men 20, women 18); {} is younger",
                                if p.id == person.id {
                                    "citizen_id"
                                } else {
                                    "the spouse"
                                }
                            ),
                        ));
                    }
                    if !p.is_alive() || p.marital == crate::country::person::Marital::Married {
                        return Err(rejected(field, "both must be alive and not married"));
                    }
                }
                also.push(spouse_id);
            }
            Some(Change::CardReplaced(_)) => {
                if age_on(person.date_of_birth, reference) < 14 && person.current_card().is_none() {
                    return Err(rejected(
                        "event.card_replaced",
                        "the citizen has no card to replace",
                    ));
                }
            }
            Some(Change::Died(_)) => {}
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
            }
        }
        Ok(also)
    }
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
        let mut results = Vec::with_capacity(req.citizen_ids.len());
        for raw in req.citizen_ids {
            let result = match CitizenId::parse_at(&raw, "citizen_id", year) {
                Ok(id) => pb::BatchGetCitizensResult {
                    citizen: self.record(id, view, overlays).await?,
                    citizen_id: raw,
                    invalid_reason: String::new(),
                },
                Err(e) => pb::BatchGetCitizensResult {
                    citizen: None,
                    citizen_id: raw,
                    invalid_reason: e.description,
                },
            };
            results.push(result);
        }
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
        let mut citizens = Vec::with_capacity((end - start) as usize);
        for i in start..end {
            if let Some(id) = self.country.citizen_at(i)
                && let Some(record) = self.record(id, view, overlays).await?
            {
                citizens.push(record);
            }
        }
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
        let person = self
            .person(id, View::Full)
            .await?
            .ok_or_else(|| not_found(&req.citizen_id))?;
        let also = self.validate_event(&person, &event).await?;
        if event.effective_date.is_none() {
            event.effective_date = Some(date_to_proto(self.country.reference_date()));
        }
        self.overlays
            .append(id, &event)
            .await
            .map_err(store_error)?;
        for other in also {
            // A marriage is recorded on both spouses.
            let mirrored = pb::LifeEvent {
                effective_date: event.effective_date,
                change: Some(Change::Married(pb::Married {
                    spouse_citizen_id: id.to_string(),
                })),
            };
            self.overlays
                .append(other, &mirrored)
                .await
                .map_err(store_error)?;
        }
        tracing::info!(citizen = %sandbox06_kit::mask::citizen_id(&req.citizen_id), "life event recorded");
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
