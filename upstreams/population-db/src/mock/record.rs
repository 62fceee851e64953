//! CreateLifeEvent: the event checked against the citizen's record and recorded changes by the
//! rules of [`crate::life_events`], then written as an overlay.

use sandbox06_proto::{
    dates::{date_from_proto, date_to_proto},
    population::{self as pb, life_event::Change},
};
use sandbox06_vn::{CitizenId, FieldError, FieldErrorKind};
use sandbox06_world::{View, person::Person};

use super::PopulationDb;
use crate::{
    error::{PopulationError, SPOUSE_FIELD},
    life_events::{self, Spouse},
    overlay,
};

impl PopulationDb {
    /// CreateLifeEvent: records the event and returns the changed record.
    pub(super) async fn record_event(
        &self,
        req: pb::CreateLifeEventRequest,
    ) -> Result<pb::CreateLifeEventResponse, PopulationError> {
        let id = self.parse_id(&req.citizen_id, "citizen_id")?;
        let mut event = req
            .event
            .ok_or_else(|| FieldError::new(FieldErrorKind::Other, "event", "is required"))?;
        if let Some(Change::Moved(m)) = &mut event.change {
            m.street = m.street.trim().to_owned();
        }
        let overlays = self.has_overlays().await?;
        let (person, events) = self
            .person_and_events(id, View::Full, overlays)
            .await?
            .ok_or_else(|| PopulationError::not_found(&req.citizen_id))?;
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
        }?;
        tracing::info!(citizen = %sandbox06_runtime::mask::citizen_id(&req.citizen_id), "life event recorded");
        let citizen = self.record(id, View::Full, true).await?;
        Ok(pb::CreateLifeEventResponse { citizen })
    }

    /// Checks an event against the citizen's record and stored events; for a marriage,
    /// returns the spouse.
    async fn validate_event(
        &self,
        person: &Person,
        events: &[pb::LifeEvent],
        event: &pb::LifeEvent,
        overlays: bool,
    ) -> Result<Option<CitizenId>, PopulationError> {
        let reference = self.country.reference_date();
        let on = match &event.effective_date {
            Some(d) => date_from_proto(d, "event.effective_date")?,
            None => reference,
        };
        life_events::check_history(life_events::Party::Citizen, events.len())?;
        let latest = overlay::latest_date(events, &self.country);
        life_events::check_date(person, on, reference, latest)?;
        let Some(Change::Married(married)) = &event.change else {
            life_events::check_change(
                event.change.as_ref(),
                person,
                on,
                reference,
                self.country.units(),
            )?;
            return Ok(None);
        };
        let spouse_raw = &married.spouse_citizen_id;
        let spouse_id = self.parse_id(spouse_raw, SPOUSE_FIELD)?;
        life_events::check_spouse_number(person, spouse_id)?;
        let (spouse, spouse_events) = self
            .person_and_events(spouse_id, View::Full, overlays)
            .await?
            .ok_or_else(|| PopulationError::not_found(spouse_raw))?;
        life_events::check_history(life_events::Party::Spouse, spouse_events.len())?;
        let spouse = Spouse {
            person: &spouse,
            side_written: overlay::names_marriage_to(&spouse_events, person.id),
            latest: overlay::latest_date(&spouse_events, &self.country),
        };
        life_events::check_marriage(person, spouse, on)?;
        Ok(Some(spouse_id))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sandbox06_proto::{population::population_service_server::PopulationService, types};
    use sandbox06_store::MemoryStore;
    use sandbox06_testkit::FailingStore;
    use sandbox06_world::{
        Country,
        person::{CardStanding, Life, Marital},
        rules::{CARD_AGE, age_on},
    };
    use time::macros::date;
    use tonic::{Request, Status};

    use super::*;

    use sandbox06_world::personas::ids::{
        CARD_REPLACED, DECEASED, HAPPY_PATH as HAPPY, MARRIED_WIFE as WIFE, MINOR_NO_CARD as SON,
        NO_VNEID, VNEID_LEVEL_1 as LEVEL_1,
    };

    fn country() -> Arc<Country> {
        Arc::new(Country::new(6, 1_000_000, date!(2026 - 11 - 27)))
    }

    fn db_on(store: Arc<dyn sandbox06_store::Store>) -> PopulationDb {
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

    #[tokio::test]
    async fn the_marker_is_written_before_the_event() {
        let store = Arc::new(FailingStore::new());
        let db = db_on(store.clone());
        store.fail("put");
        let e = record(&db, NO_VNEID, None, Change::Died(pb::Died {}))
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unavailable);
        // Nothing is stored that reads would not see.
        assert!(db.overlays.events(id(NO_VNEID)).await.unwrap().is_empty());
        store.heal();
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
        let store = Arc::new(FailingStore::new());
        let db = db_on(store.clone());
        // The citizen's own write fails, after the spouse's.
        store.fail("append");
        store.only_keys_containing(NO_VNEID);
        let e = record(&db, NO_VNEID, on(2026, 5, 1), married(LEVEL_1))
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unavailable);
        assert_eq!(db.overlays.events(id(LEVEL_1)).await.unwrap().len(), 1);
        assert!(db.overlays.events(id(NO_VNEID)).await.unwrap().is_empty());

        store.heal();
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

    #[tokio::test]
    async fn a_citizens_history_is_bounded() {
        let db = db();
        for n in 0..crate::life_events::MAX_EVENTS_PER_CITIZEN {
            record(
                &db,
                NO_VNEID,
                None,
                moved(&format!("Số {n} đường Trần Phú")),
            )
            .await
            .unwrap();
        }
        let e = record(&db, NO_VNEID, None, moved("Số 1 đường Lê Lợi"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::FailedPrecondition, "{e:?}");
        assert_eq!(
            sandbox06_runtime::error::reason_of(&e).as_deref(),
            Some("HISTORY_FULL")
        );
        // The record stays readable, and small.
        let citizen = person(&db, NO_VNEID).await;
        assert!(citizen.previous_residences.len() <= crate::life_events::MAX_EVENTS_PER_CITIZEN);
    }
}
