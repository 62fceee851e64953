//! GetCitizen, BatchGetCitizens and ListCitizens: records as of today, with every recorded
//! change applied.

use sandbox06_proto::population as pb;
use sandbox06_vn::{CitizenId, FieldError, FieldErrorKind};

use super::{PopulationDb, field_len};
use crate::convert::Shape;
use crate::error::PopulationError;

/// Most numbers one BatchGetCitizens call may ask for.
pub const MAX_BATCH: usize = 10_000;
const DEFAULT_PAGE: u64 = 100;
const MAX_PAGE: u64 = 1_000;
/// Bytes of a ListCitizens answer besides its records (the token and the total).
const PAGE_OVERHEAD: usize = 64;

/// The encoded length of `result`, whose record (if any) is `record` bytes long: its strings
/// measured, the record not measured again.
fn result_len(result: &pb::BatchGetCitizensResult, record: usize) -> usize {
    let text = |tag, value: &String| {
        if value.is_empty() {
            0
        } else {
            prost::encoding::string::encoded_len(tag, value)
        }
    };
    text(1, &result.citizen_id)
        + text(3, &result.invalid_reason)
        + result.citizen.as_ref().map_or(0, |_| field_len(record))
}

/// A malformed request field with no more specific reason.
pub(super) fn rejected(field: &str, description: impl Into<String>) -> PopulationError {
    FieldError::new(FieldErrorKind::Other, field, description).into()
}

impl PopulationDb {
    /// GetCitizen: one record.
    pub(super) async fn read_citizen(
        &self,
        req: pb::GetCitizenRequest,
    ) -> Result<pb::GetCitizenResponse, PopulationError> {
        let id = self.parse_id(&req.citizen_id, "citizen_id")?;
        let citizen = self
            .record(id, Shape::of(req.view), self.has_overlays().await?)
            .await?
            .ok_or_else(|| PopulationError::not_found(&req.citizen_id))?;
        Ok(pb::GetCitizenResponse {
            citizen: Some(citizen),
        })
    }

    /// BatchGetCitizens: records in the order asked; a malformed number gets its reason, not
    /// a failure of the call. An answer that would exceed the size limit is refused
    /// (RESPONSE_TOO_LARGE) as soon as the records read pass it.
    pub(super) async fn read_batch(
        &self,
        req: pb::BatchGetCitizensRequest,
    ) -> Result<pb::BatchGetCitizensResponse, PopulationError> {
        if req.citizen_ids.len() > MAX_BATCH {
            return Err(rejected(
                "citizen_ids",
                format!(
                    "at most {MAX_BATCH} numbers per call, got {}",
                    req.citizen_ids.len()
                ),
            ));
        }
        let shape = Shape::of(req.view);
        let year = self.country.reference_date().year();
        let overlays = self.has_overlays().await?;
        let parsed: Vec<_> = req
            .citizen_ids
            .iter()
            .map(|raw| CitizenId::parse_at(raw, "citizen_id", year))
            .collect();
        let valid: Vec<CitizenId> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok().copied())
            .collect();
        let asked = valid.len();
        // The places of the well-formed numbers, in order.
        let mut places = parsed
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_ok())
            .map(|(at, _)| at)
            .collect::<Vec<_>>()
            .into_iter();
        // Every result in place first, each record then moved once into its own.
        let mut results: Vec<_> = req
            .citizen_ids
            .into_iter()
            .zip(parsed)
            .map(|(raw, parsed)| pb::BatchGetCitizensResult {
                citizen: None,
                citizen_id: raw,
                invalid_reason: parsed.err().map(|e| e.description).unwrap_or_default(),
            })
            .collect();
        // The answer's encoded length, summed as it is built: each result's own fields, and
        // its record's length as the reading measured it.
        let mut lengths = vec![0usize; results.len()];
        let found = self
            .each_record_within(
                valid,
                shape,
                overlays,
                self.max_response_bytes,
                |record, len| {
                    if let Some(at) = places.next() {
                        results[at].citizen = record;
                        lengths[at] = len;
                    }
                },
            )
            .await?;
        let too_large = || PopulationError::ResponseTooLarge {
            max_bytes: self.max_response_bytes,
        };
        if found < asked {
            return Err(too_large());
        }
        let size: usize = results
            .iter()
            .zip(lengths)
            .map(|(result, record)| field_len(result_len(result, record)))
            .sum();
        if size > self.max_response_bytes {
            return Err(too_large());
        }
        Ok(pb::BatchGetCitizensResponse { results })
    }

    /// ListCitizens: one page of the population, or of one province's.
    pub(super) async fn read_page(
        &self,
        req: pb::ListCitizensRequest,
    ) -> Result<pb::ListCitizensResponse, PopulationError> {
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
                            "must be a pre-2025 GSO province code such as \"58\", got {}",
                            sandbox06_vn::echo(&req.province_code)
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
        let shape = Shape::of(req.view);
        let overlays = self.has_overlays().await?;
        let start = range.start + offset;
        let end = (start + page_size).min(range.end);
        // A page is cut short rather than grow past the size limit; the token continues it.
        let budget = self.max_response_bytes.saturating_sub(PAGE_OVERHEAD);
        let ids = (start..end)
            .filter_map(|i| self.country.citizen_at(i))
            .collect();
        let records = self.records_within(ids, shape, overlays, budget).await?;
        let end = start + records.len() as u64;
        let citizens = records.into_iter().flatten().collect();
        let next_page_token = if end < range.end {
            (end - range.start).to_string()
        } else {
            String::new()
        };
        Ok(pb::ListCitizensResponse {
            citizens,
            next_page_token,
            total_size: (range.end - range.start) as i64,
        })
    }

    /// GetCountryInfo: what the country was generated from.
    pub(super) fn country_info(&self) -> pb::GetCountryInfoResponse {
        pb::GetCountryInfoResponse {
            seed: self.country.seed(),
            population: self.country.population() as i64,
            reference_date: Some(sandbox06_proto::dates::date_to_proto(
                self.country.reference_date(),
            )),
            persona_count: self.country.personas().all().len() as i32,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sandbox06_proto::population::{
        life_event::Change, population_service_server::PopulationService,
    };
    use sandbox06_store::MemoryStore;
    use sandbox06_world::{Country, personas::ids::HAPPY_PATH};
    use time::macros::date;
    use tonic::Request;

    use prost::Message;

    use super::*;

    async fn get(db: &PopulationDb, view: pb::RecordView) -> pb::Citizen {
        db.get_citizen(Request::new(pb::GetCitizenRequest {
            citizen_id: HAPPY_PATH.into(),
            view: view as i32,
        }))
        .await
        .unwrap()
        .into_inner()
        .citizen
        .unwrap()
    }

    /// A batch's answer is measured without encoding it again: the sum of its results'
    /// lengths is its encoded length, for well-formed, unknown and malformed numbers in each
    /// view.
    #[tokio::test]
    async fn a_batchs_measured_length_is_its_encoded_length() {
        let country = Arc::new(Country::new(6, 1_000_000, date!(2026 - 11 - 27)));
        let db = PopulationDb::new(country, Arc::new(MemoryStore::new()));
        for view in [
            pb::RecordView::Identity,
            pb::RecordView::Basic,
            pb::RecordView::Address,
            pb::RecordView::Full,
        ] {
            let response = db
                .read_batch(pb::BatchGetCitizensRequest {
                    citizen_ids: vec![HAPPY_PATH.into(), "12345".into(), "001099999999".into()],
                    view: view as i32,
                })
                .await
                .unwrap();
            let measured: usize = response
                .results
                .iter()
                .map(|r| {
                    field_len(result_len(
                        r,
                        r.citizen.as_ref().map_or(0, |c| c.encoded_len()),
                    ))
                })
                .sum();
            assert_eq!(measured, response.encoded_len(), "{view:?}");
            assert!(
                !response.results[1].invalid_reason.is_empty(),
                "{:?}",
                response.results
            );
        }
    }

    /// The identity view is what a record is matched on, after the recorded changes: a death
    /// recorded shows in it.
    #[tokio::test]
    async fn the_identity_view_is_the_matched_fields_as_recorded() {
        let country = Arc::new(Country::new(6, 1_000_000, date!(2026 - 11 - 27)));
        let db = PopulationDb::new(country, Arc::new(MemoryStore::new()));
        let basic = get(&db, pb::RecordView::Basic).await;
        let identity = get(&db, pb::RecordView::Identity).await;
        assert!(basic.card.is_some() && basic.vneid.is_some());
        assert_eq!(
            identity,
            pb::Citizen {
                citizen_id: basic.citizen_id.clone(),
                full_name: basic.full_name.clone(),
                date_of_birth: basic.date_of_birth,
                sex: basic.sex,
                life_status: basic.life_status,
                ..Default::default()
            }
        );
        db.create_life_event(Request::new(pb::CreateLifeEventRequest {
            citizen_id: HAPPY_PATH.into(),
            event: Some(pb::LifeEvent {
                effective_date: None,
                change: Some(Change::Died(pb::Died {})),
            }),
            ..Default::default()
        }))
        .await
        .unwrap();
        let died = get(&db, pb::RecordView::Identity).await;
        assert_eq!(
            died.life_status,
            sandbox06_proto::types::LifeStatus::Deceased as i32
        );
        assert!(died.date_of_death.is_some() && died.card.is_none());
    }

    /// The address view is the basic view's fields and the permanent address, after the
    /// recorded moves, and nothing else of the full record.
    #[tokio::test]
    async fn the_address_view_is_the_basic_fields_and_the_current_permanent_address() {
        let country = Arc::new(Country::new(6, 1_000_000, date!(2026 - 11 - 27)));
        let db = PopulationDb::new(country, Arc::new(MemoryStore::new()));
        let full = get(&db, pb::RecordView::Full).await;
        let basic = get(&db, pb::RecordView::Basic).await;
        let address = get(&db, pb::RecordView::Address).await;
        assert!(
            full.household.is_some(),
            "the full view has more to leave out"
        );
        assert_eq!(
            address,
            pb::Citizen {
                permanent_address: full.permanent_address.clone(),
                ..basic.clone()
            }
        );
        db.create_life_event(Request::new(pb::CreateLifeEventRequest {
            citizen_id: HAPPY_PATH.into(),
            event: Some(pb::LifeEvent {
                effective_date: None,
                change: Some(Change::Moved(pb::Moved {
                    commune_code: "22366".into(),
                    street: "Số 9 đường Trần Phú".into(),
                })),
            }),
            ..Default::default()
        }))
        .await
        .unwrap();
        let moved = get(&db, pb::RecordView::Address).await;
        let street = moved
            .permanent_address
            .as_ref()
            .and_then(|a| a.current.as_ref())
            .map(|c| c.street.clone());
        assert_eq!(street.as_deref(), Some("Số 9 đường Trần Phú"));
        assert_eq!(
            moved.permanent_address,
            get(&db, pb::RecordView::Full).await.permanent_address
        );
        assert!(moved.household.is_none() && moved.previous_addresses.is_empty());
    }
}
