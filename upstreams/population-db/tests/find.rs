//! FindCitizens of the population database: every citizen found is what the filter asks for by
//! the record GetCitizen answers, recorded deaths, marriages, VNeID upgrades and cards included; pages repeat and join
//! into the whole search; a malformed filter is refused with its field named; a filter that
//! matches nobody ends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeSet, sync::Arc};

use sandbox06_population_db::PopulationDb;
use sandbox06_proto::{
    admin::{CitizenFilter, FindCitizensRequest, FindCitizensResponse},
    population::{
        self as pb, CreateLifeEventRequest, Died, GetCitizenRequest, LifeEvent, Married,
        RecordView, life_event::Change, population_service_server::PopulationService,
    },
    types::{CardType, LifeStatus, MaritalStatus, Sex, VneidLevel},
};
use sandbox06_runtime::error::{field_violations_of, reason_of};
use sandbox06_store::MemoryStore;
use sandbox06_world::{Country, rules::age_on};
use time::macros::date;
use tonic::{Code, Request, Status};

fn db() -> PopulationDb {
    let country = Arc::new(Country::new(6, 2_000_000, date!(2026 - 11 - 27)));
    PopulationDb::new(country, Arc::new(MemoryStore::new()))
}

async fn find(
    db: &PopulationDb,
    filter: &CitizenFilter,
    page_size: i32,
    page_token: &str,
) -> Result<FindCitizensResponse, Status> {
    db.find_citizens(Request::new(FindCitizensRequest {
        filter: Some(filter.clone()),
        page_size,
        page_token: page_token.into(),
    }))
    .await
    .map(|r| r.into_inner())
}

/// Every match, page after page, until the search ends.
async fn all(db: &PopulationDb, filter: &CitizenFilter) -> Vec<String> {
    let mut ids = Vec::new();
    let mut token = String::new();
    loop {
        let page = find(db, filter, 100, &token).await.unwrap();
        ids.extend(page.citizen_ids);
        if page.next_page_token.is_empty() {
            return ids;
        }
        token = page.next_page_token;
    }
}

async fn get(db: &PopulationDb, id: &str) -> pb::Citizen {
    db.get_citizen(Request::new(GetCitizenRequest {
        citizen_id: id.into(),
        view: RecordView::Full as i32,
    }))
    .await
    .unwrap()
    .into_inner()
    .citizen
    .unwrap()
}

async fn record(db: &PopulationDb, id: &str, change: Change) {
    db.create_life_event(Request::new(CreateLifeEventRequest {
        citizen_id: id.into(),
        event: Some(LifeEvent {
            effective_date: None,
            change: Some(change),
        }),
        request_id: String::new(),
    }))
    .await
    .unwrap();
}

/// Checks a record against a filter, field by field, as a caller reads it.
fn agrees(filter: &CitizenFilter, c: &pb::Citizen) {
    let id = &c.citizen_id;
    let born = c.date_of_birth.unwrap();
    let birth = time::Date::from_calendar_date(
        born.year,
        time::Month::try_from(born.month as u8).unwrap(),
        born.day as u8,
    )
    .unwrap();
    let age = age_on(birth, date!(2026 - 11 - 27));
    assert!(filter.min_age.is_none_or(|m| age >= m), "{id}: {age}");
    assert!(filter.max_age.is_none_or(|m| age <= m), "{id}: {age}");
    if filter.sex != 0 {
        assert_eq!(c.sex, filter.sex, "{id}");
    }
    if !filter.province_code.is_empty() {
        let code = filter.province_code.trim_start_matches('0');
        // The place of birth registration's province, as the record names it.
        let place = c.birth_registration_place.as_ref().unwrap();
        let pre = place.pre_2025.as_ref().unwrap();
        assert_eq!(
            pre.province_code.trim_start_matches('0'),
            code,
            "{id}: {pre:?}"
        );
    }
    if !filter.ethnicity.is_empty() {
        assert_eq!(c.ethnicity, filter.ethnicity, "{id}");
    }
    if filter.card_type != 0 {
        assert_eq!(
            c.card.as_ref().map(|k| k.r#type),
            Some(filter.card_type),
            "{id}"
        );
    }
    if let Some(has) = filter.has_card {
        assert_eq!(c.card.is_some(), has, "{id}");
    }
    if filter.vneid_level != 0 {
        let level = c
            .vneid
            .as_ref()
            .map_or(VneidLevel::None as i32, |v| v.level);
        assert_eq!(level, filter.vneid_level, "{id}");
    }
    if filter.marital_status != 0 {
        assert_eq!(c.marital_status, filter.marital_status, "{id}");
    }
    if !filter.insurance_group.is_empty() {
        let code = &c.health_insurance.as_ref().unwrap().card_code;
        assert_eq!(&code[..2], filter.insurance_group, "{id}");
    }
    if let Some(insured) = filter.insured {
        assert_eq!(c.health_insurance.is_some(), insured, "{id}");
    }
    if let Some(dead) = filter.deceased {
        let status = if dead {
            LifeStatus::Deceased
        } else {
            LifeStatus::Alive
        };
        assert_eq!(c.life_status, status as i32, "{id}");
    }
}

fn filters() -> Vec<CitizenFilter> {
    vec![
        CitizenFilter {
            province_2025_code: "56".into(),
            min_age: Some(30),
            max_age: Some(40),
            sex: Sex::Female as i32,
            card_type: CardType::CccdChip as i32,
            vneid_level: VneidLevel::VneidLevel2 as i32,
            ..Default::default()
        },
        CitizenFilter {
            province_code: "058".into(),
            ethnicity: "cham".into(),
            ..Default::default()
        },
        CitizenFilter {
            min_age: Some(75),
            deceased: Some(true),
            ..Default::default()
        },
        CitizenFilter {
            max_age: Some(12),
            has_card: Some(false),
            ..Default::default()
        },
        CitizenFilter {
            min_age: Some(65),
            card_type: CardType::Cmnd as i32,
            ..Default::default()
        },
        CitizenFilter {
            sex: Sex::Male as i32,
            min_age: Some(40),
            marital_status: MaritalStatus::Divorced as i32,
            ..Default::default()
        },
        CitizenFilter {
            province_code: "79".into(),
            insurance_group: "DN".into(),
            ..Default::default()
        },
        CitizenFilter {
            min_age: Some(20),
            insured: Some(false),
            vneid_level: VneidLevel::None as i32,
            ..Default::default()
        },
    ]
}

#[tokio::test]
async fn every_citizen_found_agrees_with_its_record() {
    let db = db();
    for filter in filters() {
        let page = find(&db, &filter, 0, "").await.unwrap();
        assert_eq!(page.citizen_ids.len(), 20, "{filter:?}: the default page");
        for id in &page.citizen_ids {
            let mut expected = filter.clone();
            if !expected.ethnicity.is_empty() {
                expected.ethnicity = "Chăm".into();
            }
            agrees(&expected, &get(&db, id).await);
        }
    }
}

#[tokio::test]
async fn pages_repeat_and_join_into_the_whole_search() {
    let (a, b) = (db(), db());
    let filter = &filters()[0];
    let whole = find(&a, filter, 40, "").await.unwrap();
    assert_eq!(whole.citizen_ids.len(), 40);
    assert_eq!(find(&b, filter, 40, "").await.unwrap(), whole);
    let mut joined = Vec::new();
    let mut token = String::new();
    while joined.len() < 40 {
        let page = find(&b, filter, 7, &token).await.unwrap();
        assert!(!page.next_page_token.is_empty());
        joined.extend(page.citizen_ids);
        token = page.next_page_token;
    }
    joined.truncate(40);
    assert_eq!(joined, whole.citizen_ids);
    // The search is complete: one small bucket's matches, against the census.
    let small = CitizenFilter {
        province_code: "58".into(),
        min_age: Some(30),
        max_age: Some(30),
        sex: Sex::Male as i32,
        ..Default::default()
    };
    let found = all(&a, &small).await;
    let unique: BTreeSet<&String> = found.iter().collect();
    assert_eq!(unique.len(), found.len(), "no one twice");
    let country = a.country();
    let expected: BTreeSet<String> = country
        .province_range(58)
        .unwrap()
        .filter_map(|i| country.citizen_at(i))
        .filter(|id| {
            id.sex() == sandbox06_vn::Sex::Male
                && country
                    .person(*id, sandbox06_world::View::Identity)
                    .is_some_and(|p| age_on(p.date_of_birth, country.reference_date()) == 30)
        })
        .map(|id| id.to_string())
        .collect();
    assert!(expected.len() > 5);
    assert_eq!(unique, expected.iter().collect());
}

#[tokio::test]
async fn a_malformed_filter_is_refused_with_its_field_named() {
    let db = db();
    let cases: Vec<(CitizenFilter, i32, &str, &str)> = vec![
        (
            CitizenFilter {
                province_code: "03".into(),
                ..Default::default()
            },
            0,
            "",
            "filter.province_code",
        ),
        (
            CitizenFilter {
                province_code: "5".into(),
                ..Default::default()
            },
            0,
            "",
            "filter.province_code",
        ),
        (
            CitizenFilter {
                province_2025_code: "58".into(),
                ..Default::default()
            },
            0,
            "",
            "filter.province_2025_code",
        ),
        (
            CitizenFilter {
                min_age: Some(-1),
                ..Default::default()
            },
            0,
            "",
            "filter.min_age",
        ),
        (
            CitizenFilter {
                sex: 9,
                ..Default::default()
            },
            0,
            "",
            "filter.sex",
        ),
        (
            CitizenFilter {
                ethnicity: "Martian".into(),
                ..Default::default()
            },
            0,
            "",
            "filter.ethnicity",
        ),
        (
            CitizenFilter {
                insurance_group: "dn".into(),
                ..Default::default()
            },
            0,
            "",
            "filter.insurance_group",
        ),
        (
            CitizenFilter {
                vneid_level: 17,
                ..Default::default()
            },
            0,
            "",
            "filter.vneid_level",
        ),
        (CitizenFilter::default(), 1001, "", "page_size"),
        (CitizenFilter::default(), -1, "", "page_size"),
        (CitizenFilter::default(), 0, "garbage", "page_token"),
    ];
    for (filter, page_size, token, field) in cases {
        let status = find(&db, &filter, page_size, token).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert_eq!(reason_of(&status).as_deref(), Some("INVALID_ARGUMENT"));
        let violations = field_violations_of(&status);
        assert_eq!(violations.len(), 1, "{field}");
        assert_eq!(violations[0].field, field, "{status:?}");
    }
    // A token goes with the filter it was returned for.
    let first = find(&db, &filters()[0], 5, "").await.unwrap();
    let status = find(&db, &filters()[1], 5, &first.next_page_token)
        .await
        .unwrap_err();
    assert_eq!(field_violations_of(&status)[0].field, "page_token");
}

#[tokio::test]
async fn a_filter_that_matches_nobody_ends() {
    let db = db();
    // Provably nobody: an empty page at once, nothing to continue. A filter that contradicts
    // itself is one of them, not a malformed request.
    for filter in [
        CitizenFilter {
            min_age: Some(40),
            max_age: Some(30),
            ..Default::default()
        },
        CitizenFilter {
            card_type: CardType::CanCuoc as i32,
            has_card: Some(false),
            ..Default::default()
        },
        CitizenFilter {
            insurance_group: "DN".into(),
            insured: Some(false),
            ..Default::default()
        },
        CitizenFilter {
            min_age: Some(130),
            ..Default::default()
        },
        CitizenFilter {
            deceased: Some(true),
            vneid_level: VneidLevel::VneidLevel2 as i32,
            ..Default::default()
        },
        CitizenFilter {
            province_code: "01".into(),
            province_2025_code: "56".into(),
            ..Default::default()
        },
        CitizenFilter {
            max_age: Some(13),
            vneid_level: VneidLevel::VneidLevel1 as i32,
            ..Default::default()
        },
    ] {
        let page = find(&db, &filter, 20, "").await.unwrap();
        assert_eq!(page, FindCitizensResponse::default(), "{filter:?}");
    }
    // Nobody, not provably: every call ends, empty, with a token to go on.
    let rare = CitizenFilter {
        max_age: Some(4),
        card_type: CardType::Cmnd as i32,
        ..Default::default()
    };
    let mut token = String::new();
    for _ in 0..3 {
        let page = find(&db, &rare, 20, &token).await.unwrap();
        assert!(page.citizen_ids.is_empty());
        assert!(!page.next_page_token.is_empty());
        assert_ne!(page.next_page_token, token);
        token = page.next_page_token;
    }
}

#[tokio::test]
async fn recorded_events_are_found_as_recorded() {
    let db = db();
    let bucket = |sex: Sex, age: i32, province: &str| CitizenFilter {
        province_code: province.into(),
        min_age: Some(age),
        max_age: Some(age),
        sex: sex as i32,
        ..Default::default()
    };
    // A death.
    let alive = CitizenFilter {
        deceased: Some(false),
        ..bucket(Sex::Male, 60, "58")
    };
    let dead = CitizenFilter {
        deceased: Some(true),
        ..alive.clone()
    };
    let who = find(&db, &alive, 1, "").await.unwrap().citizen_ids[0].clone();
    assert!(!all(&db, &dead).await.contains(&who));
    record(&db, &who, Change::Died(Died {})).await;
    assert!(all(&db, &dead).await.contains(&who), "the recorded death");
    assert!(!all(&db, &alive).await.contains(&who));
    agrees(&dead, &get(&db, &who).await);

    // A marriage, of a man and a woman of different provinces.
    let single = |f: CitizenFilter| CitizenFilter {
        marital_status: MaritalStatus::Single as i32,
        deceased: Some(false),
        ..f
    };
    let married = |f: CitizenFilter| CitizenFilter {
        marital_status: MaritalStatus::Married as i32,
        ..f
    };
    let husband = find(&db, &single(bucket(Sex::Male, 30, "01")), 1, "")
        .await
        .unwrap()
        .citizen_ids[0]
        .clone();
    let wife = find(&db, &single(bucket(Sex::Female, 28, "79")), 1, "")
        .await
        .unwrap()
        .citizen_ids[0]
        .clone();
    record(
        &db,
        &husband,
        Change::Married(Married {
            spouse_citizen_id: wife.clone(),
        }),
    )
    .await;
    for (id, f) in [
        (&husband, bucket(Sex::Male, 30, "01")),
        (&wife, bucket(Sex::Female, 28, "79")),
    ] {
        assert!(all(&db, &married(f.clone())).await.contains(id), "{id}");
        assert!(!all(&db, &single(f.clone())).await.contains(id), "{id}");
        agrees(&married(f), &get(&db, id).await);
    }

    // A death widows the spouse, who has no event of her own.
    let wives = bucket(Sex::Female, 45, "01");
    let wife = find(&db, &married(wives.clone()), 1, "")
        .await
        .unwrap()
        .citizen_ids[0]
        .clone();
    let husband = get(&db, &wife).await.spouse.unwrap().citizen_id;
    let widowed = CitizenFilter {
        marital_status: MaritalStatus::Widowed as i32,
        ..wives.clone()
    };
    assert!(!all(&db, &widowed).await.contains(&wife));
    record(&db, &husband, Change::Died(Died {})).await;
    assert!(all(&db, &widowed).await.contains(&wife), "widowed");
    assert!(!all(&db, &married(wives)).await.contains(&wife));
    agrees(&widowed, &get(&db, &wife).await);

    // A VNeID upgrade and a replaced card: the new level, a Căn cước card.
    let men = CitizenFilter {
        deceased: Some(false),
        ..bucket(Sex::Male, 33, "48")
    };
    let without = CitizenFilter {
        vneid_level: VneidLevel::None as i32,
        card_type: CardType::CccdChip as i32,
        ..men.clone()
    };
    let who = find(&db, &without, 1, "").await.unwrap().citizen_ids[0].clone();
    record(
        &db,
        &who,
        Change::VneidChanged(pb::VneidChanged {
            level: VneidLevel::VneidLevel2 as i32,
        }),
    )
    .await;
    record(&db, &who, Change::CardReplaced(pb::CardReplaced {})).await;
    let now = CitizenFilter {
        vneid_level: VneidLevel::VneidLevel2 as i32,
        card_type: CardType::CanCuoc as i32,
        ..men
    };
    assert!(all(&db, &now).await.contains(&who));
    assert!(!all(&db, &without).await.contains(&who));
    agrees(&now, &get(&db, &who).await);
}
