//! The NDXP mock, called directly on its own port as the provincial platform will call it: the
//! national catalogue, a hospital's health insurance checks (valid, by each form of the card,
//! wrong name, wrong date of birth, uninsured, expired on the suite's clock), a notary's
//! marital status checks (the married persona couple, and a marriage recorded as a life
//! event), birth and death registrations, a judicial record, health books that agree with the
//! insurance check and end at a death, population statistics that agree
//! with the population database, and a fault rule making NDXP unavailable.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use sandbox06_proto::{
    admin::{self as admin, admin_service_client::AdminServiceClient},
    ndxp::{
        self as pb, exchange_request::Request as Typed, exchange_response::Result as Answer,
        ndxp_service_client::NdxpServiceClient,
    },
    population::{self as pop, population_service_client::PopulationServiceClient},
    types::{self, HealthInsuranceCheckOutcome as Outcome, MaritalStatus},
};
use sandbox06_runtime::error::reason_of;
use sandbox06_testkit::{Harness, personas, single_of, start};
use sandbox06_world::View;
use tonic::{Code, Status, transport::Channel};

async fn ndxp(h: &Harness) -> NdxpServiceClient<Channel> {
    NdxpServiceClient::connect(h.url_of("ndxp")).await.unwrap()
}

async fn exchange(h: &Harness, code: &str, request: Typed) -> Result<Answer, Status> {
    ndxp(h)
        .await
        .exchange(pb::ExchangeRequest {
            service_code: code.into(),
            requester_agency_code: "000.00.00.H34".into(),
            transaction_id: format!("t-{}", rand_suffix()),
            purpose: "test".into(),
            request: Some(request),
        })
        .await
        .map(|r| r.into_inner().result.unwrap())
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

async fn insurance(
    h: &Harness,
    card: &str,
    name: &str,
    born: Option<types::Date>,
) -> types::HealthInsuranceCheckResponse {
    let request = types::HealthInsuranceCheckRequest {
        card_code: card.into(),
        full_name: name.into(),
        date_of_birth: born,
        operator_name: "Lê Thị Thu".into(),
        operator_citizen_id: personas::HAPPY_PATH.into(),
    };
    match exchange(
        h,
        "vss.health-insurance.check",
        Typed::HealthInsuranceCheck(request),
    )
    .await
    .unwrap()
    {
        Answer::HealthInsuranceCheck(r) => r,
        other => panic!("{other:?}"),
    }
}

async fn marital(h: &Harness, id: &str) -> types::MaritalStatusResponse {
    let query = Typed::Citizen(types::CitizenQuery {
        citizen_id: id.into(),
    });
    match exchange(h, "moj.civil-status.marital", query)
        .await
        .unwrap()
    {
        Answer::MaritalStatus(r) => r,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_catalogue_lists_every_national_service_with_its_owner() {
    let h = start().await;
    let services = ndxp(&h)
        .await
        .list_national_services(pb::ListNationalServicesRequest {})
        .await
        .unwrap()
        .into_inner()
        .services;
    let codes: Vec<&str> = services.iter().map(|s| s.code.as_str()).collect();
    for code in [
        "vss.health-insurance.check",
        "moj.civil-status.marital",
        "moj.civil-status.birth",
        "moj.civil-status.death",
        "moj.judicial-record.check",
        "gso.population.statistics",
        "moh.health-book",
    ] {
        assert!(codes.contains(&code), "{code}: {codes:?}");
    }
    for s in &services {
        let parts: Vec<&str> = s.owner_agency_code.split('.').collect();
        assert_eq!(parts.len(), 4, "{s:?}");
        assert!(!s.owner_agency_name.is_empty());
    }
    // An unknown code and a request of another service are refused, naming why.
    let status = exchange(
        &h,
        "vss.unknown",
        Typed::Citizen(types::CitizenQuery::default()),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(reason_of(&status).as_deref(), Some("SERVICE_NOT_FOUND"));
    let status = exchange(
        &h,
        "vss.health-insurance.check",
        Typed::Citizen(types::CitizenQuery::default()),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(reason_of(&status).as_deref(), Some("REQUEST_MISMATCH"));
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_hospital_checks_insurance_as_at_admission() {
    let h = start().await;
    let patient = h.record(personas::HAPPY_PATH).await;
    let card = patient.health_insurance.clone().unwrap();
    let name = patient.full_name.clone();
    let born = patient.date_of_birth;

    // By the legacy code, the social insurance number and the ID number: the same card.
    for key in [
        card.card_code.clone(),
        card.social_insurance_number.clone(),
        personas::HAPPY_PATH.to_owned(),
    ] {
        let answer = insurance(&h, &key, &name, born).await;
        assert_eq!(answer.outcome(), Outcome::Valid, "{key}: {answer:?}");
        assert_eq!(answer.result_code, "000");
        let found = answer.card.unwrap();
        assert_eq!(found.card_code, card.card_code);
        assert_eq!(found.valid_to, card.valid_to);
        assert_eq!(
            found.primary_care_facility_code,
            card.primary_care_facility_code
        );
        assert_eq!(found.object_group, &card.card_code[..2]);
        assert!((1..=5).contains(&found.benefit_level));
    }
    // The name as the hospital typed it, in capitals and decomposed, is the same name.
    let shouted = unicode_upper_nfd(&name);
    assert_eq!(
        insurance(&h, &card.card_code, &shouted, born)
            .await
            .outcome(),
        Outcome::Valid
    );

    // Wrong date of birth, wrong name, another benefit level, no card at all.
    let mut other_day = born.unwrap();
    other_day.day = if other_day.day == 1 { 2 } else { 1 };
    let answer = insurance(&h, &card.card_code, &name, Some(other_day)).await;
    assert_eq!(answer.outcome(), Outcome::BirthDateMismatch, "{answer:?}");
    assert_eq!(answer.result_code, "070");
    assert!(answer.card.is_none());
    let answer = insurance(&h, &card.card_code, "Trần Văn Khác", born).await;
    assert_eq!(answer.outcome(), Outcome::NameMismatch);
    assert_eq!(answer.result_code, "060");
    let answer = insurance(&h, "ZZ9560000000000", &name, born).await;
    assert_eq!(answer.outcome(), Outcome::InvalidCode);
    assert_eq!(answer.result_code, "051");

    let uninsured = h.record(personas::NO_HEALTH_INSURANCE).await;
    assert!(uninsured.health_insurance.is_none());
    let answer = insurance(
        &h,
        personas::NO_HEALTH_INSURANCE,
        &uninsured.full_name,
        uninsured.date_of_birth,
    )
    .await;
    assert_eq!(answer.outcome(), Outcome::NotFound);
    assert_eq!(answer.result_code, "050");

    // A missing name is a refused field, named.
    let status = exchange(
        &h,
        "vss.health-insurance.check",
        Typed::HealthInsuranceCheck(types::HealthInsuranceCheckRequest {
            card_code: card.card_code.clone(),
            operator_name: "Lê Thị Thu".into(),
            date_of_birth: born,
            ..Default::default()
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status
            .message()
            .contains("health_insurance_check.full_name"),
        "{status:?}"
    );

    // The day after the card's term, on the suite's clock: expired, the card still shown.
    let to = sandbox06_proto::dates::date_from_proto(&card.valid_to.unwrap(), "valid_to").unwrap();
    h.set_clock_on(to.next_day().unwrap(), 12, true).await;
    let answer = insurance(&h, &card.card_code, &name, born).await;
    assert_eq!(answer.outcome(), Outcome::Expired, "{answer:?}");
    assert_eq!(answer.result_code, "010");
    assert_eq!(answer.card.unwrap().card_code, card.card_code);
    h.suite.stop().await.unwrap();
}

/// `name` in capitals, decomposed (NFD), as some hospital systems send it.
fn unicode_upper_nfd(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    name.to_uppercase().nfd().collect()
}

#[tokio::test]
async fn a_notary_checks_both_parties_marital_status() {
    let h = start().await;
    // The married persona couple: each the other's spouse, one registration.
    let husband = marital(&h, personas::HAPPY_PATH).await;
    let wife = marital(&h, personas::MARRIED_WIFE).await;
    assert_eq!(husband.marital_status(), MaritalStatus::Married);
    assert_eq!(wife.marital_status(), MaritalStatus::Married);
    assert_eq!(husband.spouse_citizen_id, personas::MARRIED_WIFE);
    assert_eq!(wife.spouse_citizen_id, personas::HAPPY_PATH);
    let registration = husband.marriage.clone().unwrap();
    assert_eq!(Some(registration.clone()), wife.marriage);
    assert!(registration.registered_on.is_some());
    assert!(!registration.registration_number.is_empty());

    // Two single citizens marry (a life event): the registry shows it the same day.
    let country = &h.suite.country;
    let reference = country.reference_date();
    let (man, woman) = (
        single_of(country, sandbox06_vn::Sex::Male),
        single_of(country, sandbox06_vn::Sex::Female),
    );
    assert_eq!(
        marital(&h, &man).await.marital_status(),
        MaritalStatus::Single
    );
    assert!(marital(&h, &man).await.marriage.is_none());
    let wedding = types::Date {
        year: reference.year(),
        month: reference.month() as i32,
        day: i32::from(reference.day()),
    };
    PopulationServiceClient::connect(h.url_of("population-db"))
        .await
        .unwrap()
        .create_life_event(pop::CreateLifeEventRequest {
            citizen_id: man.clone(),
            event: Some(pop::LifeEvent {
                effective_date: Some(wedding),
                change: Some(pop::life_event::Change::Married(pop::Married {
                    spouse_citizen_id: woman.clone(),
                })),
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let (his, hers) = (marital(&h, &man).await, marital(&h, &woman).await);
    assert_eq!(his.marital_status(), MaritalStatus::Married);
    assert_eq!(hers.marital_status(), MaritalStatus::Married);
    assert_eq!(his.spouse_citizen_id, woman);
    assert_eq!(hers.spouse_citizen_id, man);
    assert_eq!(his.marriage.as_ref().unwrap().registered_on, Some(wedding));
    assert_eq!(his.marriage, hers.marriage);

    // A number no one has, and a malformed one.
    let status = exchange(
        &h,
        "moj.civil-status.marital",
        Typed::Citizen(types::CitizenQuery {
            citizen_id: "12345".into(),
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("citizen.citizen_id"),
        "{status:?}"
    );
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn birth_death_and_judicial_records_agree_with_the_population_database() {
    let h = start().await;
    let query = |id: &str| {
        Typed::Citizen(types::CitizenQuery {
            citizen_id: id.into(),
        })
    };
    let Answer::BirthRegistration(birth) =
        exchange(&h, "moj.civil-status.birth", query(personas::HAPPY_PATH))
            .await
            .unwrap()
    else {
        panic!("not a birth registration")
    };
    let person = h.record(personas::HAPPY_PATH).await;
    assert_eq!(birth.date_of_birth, person.date_of_birth);
    assert_eq!(birth.full_name, person.full_name);
    assert!(birth.registration.is_some());

    let Answer::DeathRegistration(death) =
        exchange(&h, "moj.civil-status.death", query(personas::DECEASED))
            .await
            .unwrap()
    else {
        panic!("not a death registration")
    };
    let deceased = h.record(personas::DECEASED).await;
    assert!(death.registered);
    assert_eq!(death.date_of_death, deceased.date_of_death);
    let Answer::DeathRegistration(alive) =
        exchange(&h, "moj.civil-status.death", query(personas::HAPPY_PATH))
            .await
            .unwrap()
    else {
        panic!("not a death registration")
    };
    assert!(!alive.registered);

    let check = |name: &str| {
        Typed::JudicialRecord(types::JudicialRecordRequest {
            citizen_id: personas::HAPPY_PATH.into(),
            full_name: name.into(),
            date_of_birth: person.date_of_birth,
        })
    };
    let Answer::JudicialRecord(judicial) =
        exchange(&h, "moj.judicial-record.check", check(&person.full_name))
            .await
            .unwrap()
    else {
        panic!("not a judicial record")
    };
    assert_eq!(judicial.clean, judicial.convictions == 0);
    let status = exchange(&h, "moj.judicial-record.check", check("Người Khác"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("judicial_record.full_name"),
        "{status:?}"
    );
    h.suite.stop().await.unwrap();
}

async fn health_book(h: &Harness, id: &str) -> Result<types::HealthBookResponse, Status> {
    let query = Typed::Citizen(types::CitizenQuery {
        citizen_id: id.into(),
    });
    match exchange(h, "moh.health-book", query).await? {
        Answer::HealthBook(r) => Ok(r),
        other => panic!("{other:?}"),
    }
}

fn day_of(d: Option<&types::Date>) -> (i32, i32, i32) {
    d.map(|d| (d.year, d.month, d.day)).unwrap()
}

#[tokio::test]
async fn a_health_book_agrees_with_the_insurance_check_and_ends_at_a_death() {
    let h = start().await;
    // The visits of the last twelve months are counted back from today: not across midnight.
    h.set_time_of_day(10).await;
    let clock = AdminServiceClient::new(h.edge.clone())
        .get_clock(admin::GetClockRequest {})
        .await
        .unwrap()
        .into_inner();
    let today = day_of(clock.today.as_ref());
    // Insured citizens: the book's visits are the check's, with a diagnosis each.
    let mut visits = 0;
    for id in [
        personas::HAPPY_PATH,
        personas::MARRIED_WIFE,
        personas::RETIREE_HT,
        personas::CHAM,
        personas::RAGLAI,
        personas::THREE_GENERATIONS,
        personas::GRANDCHILD,
        personas::CHILD_WITH_CARD,
    ] {
        let record = h.record(id).await;
        let book = health_book(&h, id).await.unwrap();
        assert_eq!(book.citizen_id, id);
        assert_eq!(book.full_name, record.full_name);
        assert_eq!(book.date_of_birth, record.date_of_birth);
        assert_eq!(book.life_status(), types::LifeStatus::Alive);
        let Some(card) = record.health_insurance.clone() else {
            assert!(book.encounters.is_empty(), "{id}");
            continue;
        };
        assert_eq!(book.health_insurance_card_code, card.card_code);
        let check = insurance(&h, id, &record.full_name, record.date_of_birth).await;
        let ids = |v: &types::HealthVisit| (v.record_id.clone(), v.admitted_on, v.kind);
        assert_eq!(
            book.encounters
                .iter()
                .map(|e| ids(e.visit.as_ref().unwrap()))
                .collect::<Vec<_>>(),
            check.recent_visits.iter().map(ids).collect::<Vec<_>>(),
            "{id}"
        );
        for e in &book.encounters {
            let diagnosis = e.diagnosis.as_ref().unwrap();
            assert!(!diagnosis.icd10_code.is_empty() && !diagnosis.name.is_empty());
        }
        visits += book.encounters.len();
        // Vaccinations in order, none in the future; conditions diagnosed by today.
        let given: Vec<_> = book
            .vaccinations
            .iter()
            .map(|v| day_of(v.given_on.as_ref()))
            .collect();
        assert!(given.is_sorted(), "{id}: {given:?}");
        assert!(given.iter().all(|d| *d <= today), "{id}");
        assert!(
            book.chronic_conditions
                .iter()
                .all(|c| day_of(c.since.as_ref()) <= today)
        );
        // The same citizen, the same book.
        assert_eq!(health_book(&h, id).await.unwrap(), book);
    }
    assert!(visits > 0, "no visit among the insured personas");
    // A child born in 2018 had the five-in-one and the injected polio vaccine.
    let child = health_book(&h, personas::GRANDCHILD).await.unwrap();
    for vaccine in ["DPT-VGB-Hib", "Bại liệt tiêm (IPV)"] {
        assert!(
            child.vaccinations.iter().any(|v| v.vaccine == vaccine),
            "{vaccine}: {:?}",
            child.vaccinations
        );
    }

    // A deceased citizen's book ends on the day of death: no card, nothing after.
    let deceased = h.record(personas::DECEASED).await;
    let died = day_of(deceased.date_of_death.as_ref());
    let book = health_book(&h, personas::DECEASED).await.unwrap();
    assert_eq!(book.life_status(), types::LifeStatus::Deceased);
    assert!(book.encounters.is_empty());
    assert!(book.health_insurance_card_code.is_empty());
    assert!(
        book.vaccinations
            .iter()
            .all(|v| day_of(v.given_on.as_ref()) <= died)
    );

    // A number no one has, and a malformed one.
    let status = health_book(&h, "096099999999").await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(reason_of(&status).as_deref(), Some("CITIZEN_NOT_FOUND"));
    let status = health_book(&h, "12345").await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("citizen.citizen_id"),
        "{status:?}"
    );
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn population_statistics_agree_with_the_population_database() {
    let h = start().await;
    let statistics = |code: &str, era: types::AdminEra| {
        let request = Typed::PopulationStatistics(types::PopulationStatisticsRequest {
            province_code: code.into(),
            era: era as i32,
            band_years: 0,
        });
        let h = &h;
        async move {
            match exchange(h, "gso.population.statistics", request)
                .await
                .unwrap()
            {
                Answer::PopulationStatistics(s) => s,
                other => panic!("{other:?}"),
            }
        }
    };
    let total_of = |code: &'static str| {
        let h = &h;
        async move {
            PopulationServiceClient::connect(h.url_of("population-db"))
                .await
                .unwrap()
                .list_citizens(pop::ListCitizensRequest {
                    page_size: 1,
                    province_code: code.into(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .total_size
        }
    };
    // Ninh Thuận before the merger, Khánh Hòa before, and Khánh Hòa after (the two).
    let ninh_thuan = statistics("58", types::AdminEra::Before2025).await;
    let khanh_hoa_old = statistics("56", types::AdminEra::Before2025).await;
    let khanh_hoa = statistics("56", types::AdminEra::Current).await;
    assert_eq!(ninh_thuan.registered, total_of("58").await);
    assert_eq!(khanh_hoa_old.registered, total_of("56").await);
    assert_eq!(
        khanh_hoa.registered,
        ninh_thuan.registered + khanh_hoa_old.registered
    );
    for s in [&ninh_thuan, &khanh_hoa_old, &khanh_hoa] {
        let pyramid: i64 = s.age_bands.iter().map(|b| b.male + b.female).sum();
        assert_eq!(pyramid, s.living, "{}", s.province_name);
        assert_eq!(s.living + s.deceased, s.registered);
        assert!(s.deceased > 0 || s.registered < 100);
        assert_eq!(s.age_bands.first().unwrap().age_from, 0);
        assert_eq!(s.age_bands.first().unwrap().age_to, 4);
    }
    // Ninh Thuận's Chăm and Raglai are there.
    let groups: Vec<&str> = ninh_thuan
        .ethnicities
        .iter()
        .map(|e| e.ethnicity.as_str())
        .collect();
    assert!(
        groups.contains(&"Chăm") && groups.contains(&"Raglai"),
        "{groups:?}"
    );

    // A code no province has is refused, naming the field.
    let status = exchange(
        &h,
        "gso.population.statistics",
        Typed::PopulationStatistics(types::PopulationStatisticsRequest {
            province_code: "58".into(),
            era: types::AdminEra::Current as i32,
            band_years: 0,
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("province_code"), "{status:?}");
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_death_recorded_leaves_the_living_of_the_statistics() {
    let h = start().await;
    let country = &h.suite.country;
    let living = country
        .province_range(58)
        .unwrap()
        .filter_map(|i| country.citizen_at(i))
        .find(|id| {
            country
                .person(*id, View::Identity)
                .is_some_and(|p| p.is_alive())
        })
        .unwrap();
    let before = statistics_of(&h, "58").await;
    PopulationServiceClient::connect(h.url_of("population-db"))
        .await
        .unwrap()
        .create_life_event(pop::CreateLifeEventRequest {
            citizen_id: living.to_string(),
            event: Some(pop::LifeEvent {
                effective_date: None,
                change: Some(pop::life_event::Change::Died(pop::Died {})),
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let after = statistics_of(&h, "58").await;
    assert_eq!(after.registered, before.registered);
    assert_eq!(after.living, before.living - 1, "{before:?} {after:?}");
    h.suite.stop().await.unwrap();
}

async fn statistics_of(h: &Harness, code: &str) -> types::PopulationStatisticsResponse {
    match exchange(
        h,
        "gso.population.statistics",
        Typed::PopulationStatistics(types::PopulationStatisticsRequest {
            province_code: code.into(),
            era: types::AdminEra::Before2025 as i32,
            band_years: 1,
        }),
    )
    .await
    .unwrap()
    {
        Answer::PopulationStatistics(s) => s,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_fault_rule_makes_ndxp_unavailable() {
    let h = start().await;
    h.make_unavailable("ndxp", None, 1).await;
    let query = || {
        Typed::Citizen(types::CitizenQuery {
            citizen_id: personas::HAPPY_PATH.into(),
        })
    };
    let status = exchange(&h, "moj.civil-status.marital", query())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        exchange(&h, "moj.civil-status.marital", query())
            .await
            .is_ok()
    );
    h.suite.stop().await.unwrap();
}
