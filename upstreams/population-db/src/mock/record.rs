//! CreateLifeEvent: the event checked against the citizen's record and recorded changes by the
//! rules of [`crate::life_events`], then written as an overlay.
//!
//! Checking and writing are one step as far as other writers go: the write is conditional on
//! the lists that were read (the citizen's, and the spouse's for a marriage) being unchanged,
//! and on the request's idempotency key being unused. When another write came between, the
//! event is checked again against what it wrote, a bounded number of times.

use prost::Message;
use sandbox06_proto::{
    dates::{date_from_proto, date_to_proto},
    population::{self as pb, life_event::Change},
};
use sandbox06_vn::{CitizenId, FieldError, FieldErrorKind};
use sandbox06_world::person::Person;

use super::PopulationDb;
use crate::{
    convert::{Shape, to_record},
    error::{PopulationError, SPOUSE_FIELD},
    life_events::{self, Spouse},
    overlay::{self, Append},
};

/// Longest idempotency key, in characters.
pub const MAX_REQUEST_ID_CHARS: usize = 128;

/// Times an event is read, checked and written before the call gives up with WRITE_CONFLICT:
/// each failed write means another request's write to the same citizen succeeded.
const WRITE_ATTEMPTS: usize = 32;

/// The idempotency key of a request, `None` when it has none.
fn request_id(raw: &str) -> Result<Option<&str>, FieldError> {
    if raw.is_empty() {
        return Ok(None);
    }
    let invalid =
        |description: String| FieldError::new(FieldErrorKind::Other, "request_id", description);
    let count = raw.chars().count();
    if count > MAX_REQUEST_ID_CHARS {
        return Err(invalid(format!(
            "must be at most {MAX_REQUEST_ID_CHARS} characters, got {count}"
        )));
    }
    if let Some(found) = raw.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(invalid(format!(
            "must be printable ASCII without spaces (letters, digits, punctuation), found U+{:04X}",
            u32::from(found)
        )));
    }
    Ok(Some(raw))
}

/// What an event's write needs from its checks: the lists it depends on.
struct Checked {
    /// The citizen's record before the event.
    person: Person,
    /// Events stored on the citizen's list when it was read.
    stored: usize,
    /// For a marriage, the spouse and the events stored on the spouse's list.
    spouse: Option<(CitizenId, usize)>,
}

impl PopulationDb {
    /// CreateLifeEvent: records the event and returns the changed record.
    pub(super) async fn record_event(
        &self,
        req: pb::CreateLifeEventRequest,
    ) -> Result<pb::CreateLifeEventResponse, PopulationError> {
        let id = self.parse_id(&req.citizen_id, "citizen_id")?;
        let key = request_id(&req.request_id)?;
        let mut event = req
            .event
            .ok_or_else(|| FieldError::new(FieldErrorKind::Other, "event", "is required"))?;
        if let Some(Change::Moved(m)) = &mut event.change {
            m.street = m.street.trim().to_owned();
        }
        // What a retry must repeat: the citizen and the event as asked (before the date is
        // filled in, which depends on the day).
        let request = key.map(|key| {
            let content = pb::CreateLifeEventRequest {
                citizen_id: id.to_string(),
                event: Some(event.clone()),
                request_id: key.to_owned(),
            };
            (key, content.encode_to_vec())
        });
        let mut stored = event;
        if stored.effective_date.is_none() {
            stored.effective_date = Some(date_to_proto(self.today()));
        }
        for _ in 0..WRITE_ATTEMPTS {
            if let Some(answer) = self.replayed(id, &request).await? {
                return Ok(answer);
            }
            let Checked {
                mut person,
                stored: citizen_stored,
                spouse,
            } = match self.check_event(id, &req.citizen_id, &stored).await {
                Ok(checked) => checked,
                // The lists may have been read after a concurrent copy of this request was
                // recorded (with its key, in the same step): that copy answers it.
                Err(refusal) => match self.replayed(id, &request).await? {
                    Some(answer) => return Ok(answer),
                    None => return Err(refusal),
                },
            };
            let mirrored = spouse.map(|(_, spouse_stored)| {
                let event = pb::LifeEvent {
                    effective_date: stored.effective_date,
                    change: Some(Change::Married(pb::Married {
                        spouse_citizen_id: id.to_string(),
                    })),
                };
                (event, spouse_stored)
            });
            // A marriage is recorded on both spouses at once.
            let mut appends = vec![Append {
                citizen: id,
                stored: citizen_stored,
                event: &stored,
            }];
            if let (Some((spouse_id, _)), Some((event, spouse_stored))) = (spouse, &mirrored) {
                appends.push(Append {
                    citizen: spouse_id,
                    stored: *spouse_stored,
                    event,
                });
            }
            let request = request
                .as_ref()
                .map(|(key, content)| (*key, content.as_slice()));
            if self.overlays.record(&appends, request).await? {
                tracing::info!(citizen = %sandbox06_runtime::mask::citizen_id(&req.citizen_id), "life event recorded");
                // The answer comes from what was read and written, not from another read: a
                // write that was stored is reported as stored.
                overlay::apply(&self.country, &mut person, std::slice::from_ref(&stored));
                return Ok(pb::CreateLifeEventResponse {
                    citizen: Some(to_record(&self.country, &person, Shape::Full)),
                });
            }
        }
        Err(PopulationError::WriteConflict {
            attempts: WRITE_ATTEMPTS,
        })
    }

    /// The answer to a request whose idempotency key is recorded: the citizen's record as it
    /// is now when the recorded request is this one, a refusal when it is another; `None`
    /// without a key, or when the key is unused.
    async fn replayed(
        &self,
        id: CitizenId,
        request: &Option<(&str, Vec<u8>)>,
    ) -> Result<Option<pb::CreateLifeEventResponse>, PopulationError> {
        let Some((key, content)) = request else {
            return Ok(None);
        };
        let Some(recorded) = self.overlays.request(key).await? else {
            return Ok(None);
        };
        if recorded != *content {
            return Err(PopulationError::RequestIdReused);
        }
        let citizen = self.record(id, Shape::Full, true).await?;
        Ok(Some(pb::CreateLifeEventResponse { citizen }))
    }

    /// Reads the citizen (and for a marriage the spouse) and checks the event against their
    /// records and stored events.
    async fn check_event(
        &self,
        id: CitizenId,
        raw_id: &str,
        event: &pb::LifeEvent,
    ) -> Result<Checked, PopulationError> {
        let overlays = self.has_overlays().await?;
        let (person, history) = self
            .person_and_events(id, Shape::Full, overlays)
            .await?
            .ok_or_else(|| PopulationError::not_found(raw_id))?;
        let spouse = self
            .validate_event(&person, &history.events, event, overlays)
            .await?;
        Ok(Checked {
            person,
            stored: history.stored,
            spouse,
        })
    }

    /// Checks an event against the citizen's record and stored events; for a marriage,
    /// returns the spouse and the events stored on the spouse's list.
    async fn validate_event(
        &self,
        person: &Person,
        events: &[pb::LifeEvent],
        event: &pb::LifeEvent,
        overlays: bool,
    ) -> Result<Option<(CitizenId, usize)>, PopulationError> {
        // Judged as of the suite's today, which its clock moves.
        let reference = self.today();
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
        let (spouse, spouse_history) = self
            .person_and_events(spouse_id, Shape::Full, overlays)
            .await?
            .ok_or_else(|| PopulationError::not_found(spouse_raw))?;
        life_events::check_history(life_events::Party::Spouse, spouse_history.events.len())?;
        let spouse = Spouse {
            person: &spouse,
            latest: overlay::latest_date(&spouse_history.events, &self.country),
        };
        life_events::check_marriage(person, spouse, on)?;
        life_events::check_blood(&self.country, person.id, spouse_id)?;
        Ok(Some((spouse_id, spouse_history.stored)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sandbox06_proto::{population::population_service_server::PopulationService, types};
    use sandbox06_store::MemoryStore;
    use sandbox06_testkit::{FailingStore, single_women};
    use sandbox06_world::{
        Country, View,
        person::{CardStanding, Life, Marital},
        rules::{CARD_AGE, age_on},
    };
    use time::macros::date;
    use tonic::{Request, Status};

    use super::*;

    use sandbox06_world::personas::ids::{
        CARD_REPLACED, DECEASED, GRANDCHILD, HAPPY_PATH as HAPPY, MARRIED_WIFE as WIFE,
        MINOR_NO_CARD as SON, NO_VNEID, RETIREE_HT as RETIREE, VNEID_LEVEL_1 as LEVEL_1,
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
        record_once(db, citizen, effective_date, change, "").await
    }

    /// [`record`] with an idempotency key.
    async fn record_once(
        db: &PopulationDb,
        citizen: &str,
        effective_date: Option<types::Date>,
        change: Change,
        request_id: &str,
    ) -> Result<pb::Citizen, Status> {
        let response = db
            .create_life_event(Request::new(pb::CreateLifeEventRequest {
                citizen_id: citizen.into(),
                event: Some(pb::LifeEvent {
                    effective_date,
                    change: Some(change),
                }),
                request_id: request_id.into(),
            }))
            .await?;
        Ok(response.into_inner().citizen.unwrap())
    }

    /// Records moves of `citizen` until the history is full.
    async fn fill_history(db: &PopulationDb, citizen: &str) {
        for n in 0..crate::life_events::MAX_EVENTS_PER_CITIZEN {
            let street = format!("Số {n} đường Trần Phú");
            record(db, citizen, None, moved(&street)).await.unwrap();
        }
    }

    /// Runs `n` records concurrently on one thread, interleaved at every store call; the
    /// successes and the refusals.
    async fn race(
        db: &PopulationDb,
        requests: Vec<(&str, Change)>,
    ) -> (Vec<pb::Citizen>, Vec<Status>) {
        let results = futures::future::join_all(
            requests
                .into_iter()
                .map(|(citizen, change)| record(db, citizen, None, change)),
        )
        .await;
        let mut won = Vec::new();
        let mut refused = Vec::new();
        for result in results {
            match result {
                Ok(citizen) => won.push(citizen),
                Err(status) => refused.push(status),
            }
        }
        (won, refused)
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
        // The current card was issued on 2026-07-20.
        let e = record(&db, CARD_REPLACED, on(2026, 5, 1), replace())
            .await
            .unwrap_err();
        let (field, text) = refusal(&e);
        assert_eq!(field, "event.effective_date");
        assert!(
            text.contains("2026-07-20") && text.contains("current card"),
            "{text}"
        );
        record(&db, CARD_REPLACED, on(2026, 9, 1), replace())
            .await
            .unwrap();
        let p = person(&db, CARD_REPLACED).await;
        let issued: Vec<_> = p.cards.iter().map(|c| c.issued).collect();
        let mut sorted = issued.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(issued, sorted, "newest first");
        assert_eq!(p.cards[0].issued, date!(2026 - 09 - 01));
        assert_eq!(p.cards[0].standing, CardStanding::Valid);
        assert!(
            p.cards[1..]
                .iter()
                .all(|c| c.standing == CardStanding::Superseded)
        );
        // Not before the latest event either.
        let e = record(&db, CARD_REPLACED, on(2026, 8, 1), replace())
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
                "the spouse is under the marriageable age: 9 on 2026-11-27, men must be at least 20",
            ),
            (
                SON,
                LEVEL_1,
                "citizen_id",
                "the citizen is under the marriageable age: 9 on 2026-11-27, men must be at least 20",
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
    async fn a_marriage_of_kin_within_three_generations_is_refused() {
        let db = db();
        let c = country();
        let reference = c.reference_date();
        // Single adults of the country, by father.
        let mut by_father: std::collections::HashMap<CitizenId, Vec<Person>> =
            std::collections::HashMap::new();
        let step = c.population() / 20_000;
        for k in 0..20_000 {
            let citizen = c.citizen_at(k * step).unwrap();
            let p = c.person(citizen, sandbox06_world::View::Full).unwrap();
            let adult = age_on(p.date_of_birth, reference) >= 20;
            if adult
                && p.is_alive()
                && p.marital == Marital::Single
                && let Some(father) = p.father.as_ref().and_then(|f| f.id)
            {
                by_father.entry(father).or_default().push(p);
            }
        }
        // A brother and a sister.
        let (brother, sister) = by_father
            .values()
            .find_map(|children| {
                let b = children.iter().find(|p| p.sex == sandbox06_vn::Sex::Male)?;
                let s = children
                    .iter()
                    .find(|p| p.sex == sandbox06_vn::Sex::Female)?;
                Some((b.id.to_string(), s.id.to_string()))
            })
            .expect("a brother and a sister, single adults");
        let e = record(&db, &brother, None, married(&sister))
            .await
            .unwrap_err();
        let (field, description) = refusal(&e);
        assert_eq!(field, "event.married.spouse_citizen_id", "{description}");
        assert!(description.contains("of one blood"), "{description}");
        assert!(description.contains("art. 5(2)(d)"), "{description}");
        assert_eq!(person(&db, &brother).await.marital, Marital::Single);
        assert_eq!(person(&db, &sister).await.marital, Marital::Single);
        // A grandfather and his granddaughter, personas: the direct line.
        assert!(c.of_one_blood_ids(id(GRANDCHILD), id(RETIREE)));
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
    async fn a_marriage_is_written_on_both_sides_or_on_neither() {
        let store = Arc::new(FailingStore::new());
        let db = db_on(store.clone());
        // The write of the citizen's side fails: the spouse's is not written either.
        store.fail("append_if_len");
        store.only_keys_containing(NO_VNEID);
        let e = record(&db, NO_VNEID, on(2026, 5, 1), married(LEVEL_1))
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unavailable);
        assert!(db.overlays.events(id(LEVEL_1)).await.unwrap().is_empty());
        assert!(db.overlays.events(id(NO_VNEID)).await.unwrap().is_empty());
        assert_eq!(person(&db, LEVEL_1).await.marital, Marital::Single);

        store.heal();
        let citizen = record(&db, NO_VNEID, on(2026, 5, 1), married(LEVEL_1))
            .await
            .unwrap();
        assert_eq!(citizen.marital_status, types::MaritalStatus::Married as i32);
        assert_eq!(db.overlays.events(id(LEVEL_1)).await.unwrap().len(), 1);
        assert_eq!(db.overlays.events(id(NO_VNEID)).await.unwrap().len(), 1);
        let wife = person(&db, LEVEL_1).await;
        assert_eq!(wife.spouse.and_then(|s| s.id), Some(id(NO_VNEID)));
        // Once married, a second marriage is refused.
        let e = record(&db, NO_VNEID, on(2026, 6, 1), married(LEVEL_1))
            .await
            .unwrap_err();
        assert_eq!(refusal(&e).0, "citizen_id");
    }

    #[tokio::test]
    async fn of_ten_concurrent_marriages_of_one_man_exactly_one_is_recorded() {
        let store = Arc::new(FailingStore::new());
        store.interleave();
        let db = db_on(store);
        let brides = single_women(db.country(), 10);
        assert_eq!(brides.len(), 10);
        // Half of them ask as the citizen, half as the spouse.
        let requests = brides
            .iter()
            .enumerate()
            .map(|(n, bride)| {
                if n % 2 == 0 {
                    (NO_VNEID, married(bride))
                } else {
                    (bride.as_str(), married(NO_VNEID))
                }
            })
            .collect();
        let (won, refused) = race(&db, requests).await;
        assert_eq!(won.len(), 1, "{refused:?}");
        assert_eq!(refused.len(), 9);
        for status in &refused {
            let (field, text) = refusal(status);
            assert!(text.contains("already married"), "{text}");
            assert!(
                field == "citizen_id" || field == SPOUSE_FIELD,
                "{field}: {text}"
            );
        }
        // One wife, married to him; every other bride is still single.
        let husband = person(&db, NO_VNEID).await;
        assert_eq!(husband.marital, Marital::Married);
        let wife = husband.spouse.and_then(|s| s.id).unwrap();
        assert_eq!(db.overlays.events(id(NO_VNEID)).await.unwrap().len(), 1);
        for bride in &brides {
            let p = person(&db, bride).await;
            if p.id == wife {
                assert_eq!(p.spouse.and_then(|s| s.id), Some(id(NO_VNEID)));
            } else {
                assert_eq!(p.marital, Marital::Single, "{bride}");
                assert!(db.overlays.events(p.id).await.unwrap().is_empty());
            }
        }
    }

    #[tokio::test]
    async fn of_ten_concurrent_deaths_of_one_citizen_exactly_one_is_recorded() {
        let store = Arc::new(FailingStore::new());
        store.interleave();
        let db = db_on(store);
        let requests = (0..10)
            .map(|_| (NO_VNEID, Change::Died(pb::Died {})))
            .collect();
        let (won, refused) = race(&db, requests).await;
        assert_eq!(won.len(), 1, "{refused:?}");
        assert_eq!(refused.len(), 9);
        for status in &refused {
            assert_eq!(
                refusal(status),
                (
                    "citizen_id".into(),
                    "the citizen's death is registered: no later change is possible".into()
                )
            );
        }
        assert_eq!(db.overlays.events(id(NO_VNEID)).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn concurrent_moves_are_each_recorded_once() {
        let store = Arc::new(FailingStore::new());
        store.interleave();
        let db = db_on(store);
        let requests = (0..10)
            .map(|n| (NO_VNEID, moved(&format!("Số {n} đường Trần Phú"))))
            .collect();
        let (won, refused) = race(&db, requests).await;
        assert_eq!((won.len(), refused.len()), (10, 0), "{refused:?}");
        assert_eq!(person(&db, NO_VNEID).await.previous_residences.len(), 10);
        assert_eq!(db.overlays.events(id(NO_VNEID)).await.unwrap().len(), 10);
    }

    #[tokio::test]
    async fn a_citizen_whose_record_keeps_changing_gets_a_write_conflict() {
        let store = Arc::new(FailingStore::new());
        store.lose_races();
        let db = db_on(store);
        let e = record(&db, NO_VNEID, None, Change::Died(pb::Died {}))
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::Aborted, "{e:?}");
        assert_eq!(
            sandbox06_runtime::error::reason_of(&e).as_deref(),
            Some("WRITE_CONFLICT")
        );
        assert!(db.overlays.events(id(NO_VNEID)).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_write_that_was_stored_is_reported_as_stored() {
        let store = Arc::new(FailingStore::new());
        let db = db_on(store.clone());
        // The store stops answering reads right after the write.
        store.fail_after_write("list");
        store.fail_after_write("get");
        let citizen = record(&db, NO_VNEID, on(2026, 5, 1), married(LEVEL_1))
            .await
            .unwrap();
        assert_eq!(citizen.marital_status, types::MaritalStatus::Married as i32);
        assert_eq!(
            citizen.spouse.as_ref().map(|s| s.citizen_id.as_str()),
            Some(LEVEL_1)
        );
        store.heal();
        assert_eq!(get(&db, NO_VNEID).await, citizen);
        let citizen = record(&db, NO_VNEID, on(2026, 6, 1), moved("Số 9"))
            .await
            .unwrap();
        assert_eq!(get(&db, NO_VNEID).await, citizen);
    }

    #[tokio::test]
    async fn a_retried_request_returns_its_result_and_a_reused_key_is_refused() {
        let store = Arc::new(FailingStore::new());
        store.interleave();
        let db = db_on(store);
        let key = "6f1c2b1e-0b7a-4c1e-9a51-2f7d0a3c9e10";
        let first = record_once(&db, NO_VNEID, on(2026, 5, 1), married(LEVEL_1), key)
            .await
            .unwrap();
        // A retry gets the record, not "already married", and writes nothing.
        let again = record_once(&db, NO_VNEID, on(2026, 5, 1), married(LEVEL_1), key)
            .await
            .unwrap();
        assert_eq!(again, first);
        assert_eq!(db.overlays.events(id(NO_VNEID)).await.unwrap().len(), 1);
        assert_eq!(db.overlays.events(id(LEVEL_1)).await.unwrap().len(), 1);
        // Concurrent retries of one death: one write, every answer a success.
        let died = || Change::Died(pb::Died {});
        let retries = (0..10).map(|_| record_once(&db, WIFE, None, died(), "death-1"));
        for result in futures::future::join_all(retries).await {
            let citizen = result.unwrap();
            assert_eq!(citizen.life_status, types::LifeStatus::Deceased as i32);
        }
        assert_eq!(db.overlays.events(id(WIFE)).await.unwrap().len(), 1);

        // The same key with another event, or another citizen, is refused.
        for (citizen, change) in [(NO_VNEID, moved("Số 2")), (LEVEL_1, died())] {
            let e = record_once(&db, citizen, on(2026, 6, 1), change, key)
                .await
                .unwrap_err();
            assert_eq!(e.code(), tonic::Code::AlreadyExists, "{e:?}");
            assert_eq!(
                sandbox06_runtime::error::reason_of(&e).as_deref(),
                Some("REQUEST_ID_REUSED")
            );
            let violations = sandbox06_runtime::error::field_violations_of(&e);
            assert_eq!(violations[0].field, "request_id");
        }
        assert_eq!(db.overlays.events(id(NO_VNEID)).await.unwrap().len(), 1);
        // Without a key, the retry is a new event, refused by the rules.
        let e = record(&db, NO_VNEID, on(2026, 5, 1), married(LEVEL_1))
            .await
            .unwrap_err();
        assert!(refusal(&e).1.contains("already married"));
    }

    #[tokio::test]
    async fn a_request_id_is_short_printable_ascii() {
        let db = db();
        for (key, text) in [
            (&"k".repeat(129) as &str, "at most 128 characters, got 129"),
            ("two words", "found U+0020"),
            ("khóa", "found U+00F3"),
            ("tab\there", "found U+0009"),
        ] {
            let e = record_once(&db, NO_VNEID, None, moved("Số 1"), key)
                .await
                .unwrap_err();
            let (field, description) = refusal(&e);
            assert_eq!(field, "request_id");
            assert!(description.contains(text), "{key:?}: {description}");
        }
        assert!(db.overlays.events(id(NO_VNEID)).await.unwrap().is_empty());
        record_once(&db, NO_VNEID, None, moved("Số 1"), &"k".repeat(128))
            .await
            .unwrap();
        record_once(&db, LEVEL_1, None, moved("Số 1"), "{a}:*?[x]~!")
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn answers_stay_within_the_size_limit() {
        let db = db().with_max_response_bytes(24 * 1024);
        fill_history(&db, NO_VNEID).await;
        let batch = |n: usize, view: pb::RecordView| {
            db.batch_get_citizens(Request::new(pb::BatchGetCitizensRequest {
                citizen_ids: vec![NO_VNEID.into(); n],
                view: view as i32,
            }))
        };
        // One full record of a long history fits; two do not.
        assert_eq!(
            batch(1, pb::RecordView::Full)
                .await
                .unwrap()
                .into_inner()
                .results
                .len(),
            1
        );
        let e = batch(2, pb::RecordView::Full).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::ResourceExhausted, "{e:?}");
        assert_eq!(
            sandbox06_runtime::error::reason_of(&e).as_deref(),
            Some("RESPONSE_TOO_LARGE")
        );
        assert_eq!(
            sandbox06_runtime::error::field_violations_of(&e)[0].field,
            "citizen_ids"
        );
        assert!(batch(50, pb::RecordView::Basic).await.is_ok());

        // A page is cut short, and its token continues it to the end, each citizen once.
        let page = |token: String| pb::ListCitizensRequest {
            page_size: 1_000,
            page_token: token,
            province_code: "58".into(),
            view: pb::RecordView::Full as i32,
        };
        let first = db
            .list_citizens(Request::new(page(String::new())))
            .await
            .unwrap()
            .into_inner();
        let total = usize::try_from(first.total_size).unwrap();
        assert!(
            first.citizens.len() < total.min(1_000),
            "{}",
            first.citizens.len()
        );
        assert!(prost::Message::encoded_len(&first) <= 24 * 1024);
        let (mut seen, mut token) = (first.citizens.len(), first.next_page_token);
        while !token.is_empty() && seen < 2_000 {
            let next = db
                .list_citizens(Request::new(page(token)))
                .await
                .unwrap()
                .into_inner();
            assert!(!next.citizens.is_empty());
            seen += next.citizens.len();
            token = next.next_page_token;
        }
        assert!(seen >= total.min(2_000));
    }

    #[tokio::test]
    async fn a_citizens_history_is_bounded() {
        let db = db();
        fill_history(&db, NO_VNEID).await;
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

    #[tokio::test]
    async fn the_suites_clock_moves_today_for_events_and_cards() {
        use sandbox06_runtime::clock::Clock;
        let clock = Clock::new(date!(2026 - 11 - 27));
        let db = db().with_clock(clock.clone());
        // Ten days after the reference date is the future until the clock gets there.
        let refused = record(&db, NO_VNEID, on(2026, 12, 7), moved("Số 1 Lê Lợi"))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{refused:?}");
        clock.advance(time::Duration::days(10));
        record(&db, NO_VNEID, on(2026, 12, 7), moved("Số 1 Lê Lợi"))
            .await
            .unwrap();
        // An event without a date is dated today, by the clock.
        record(&db, LEVEL_1, None, moved("Số 2 Lê Lợi"))
            .await
            .unwrap();
        let events = db.overlays.events(id(LEVEL_1)).await.unwrap();
        assert_eq!(events.last().unwrap().effective_date, on(2026, 12, 7));

        // The current card expires when today passes its expiry date, and comes back when the
        // clock does.
        let card = get(&db, HAPPY).await.card.unwrap();
        assert_eq!(card.status(), types::CardStatus::Valid);
        let expiry =
            sandbox06_proto::dates::date_from_proto(card.expiry_date.as_ref().unwrap(), "e")
                .unwrap();
        let noon = expiry
            .next_day()
            .unwrap()
            .with_hms(5, 0, 0)
            .unwrap()
            .assume_utc();
        clock.set(noon, true);
        let card = get(&db, HAPPY).await.card.unwrap();
        assert_eq!(card.status(), types::CardStatus::Expired);
        clock.reset();
        let card = get(&db, HAPPY).await.card.unwrap();
        assert_eq!(card.status(), types::CardStatus::Valid);
    }
}
