//! The provincial data-sharing platform through the edge port, as agencies' systems call it: a
//! hospital checks insurance, a notary checks both parties' marital status, an analyst gets a
//! province's population pyramid, and each refusal (no agreement, expired, over quota, no
//! consent, purpose) with its reason; consent given then withdrawn in VNeID; a retried
//! transaction; NDXP down; the audit log verified, "who read my data", and (with Redis) an
//! entry edited in the store detected.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use sandbox06_proto::{
    admin::{self as admin, admin_service_client::AdminServiceClient},
    citizen::VerifyCitizenRequest,
    lgsp::{
        self as pb, exchange_request::Request as Typed, exchange_response::Result as Answer,
        lgsp_service_client::LgspServiceClient,
    },
    population::{self as pop, population_service_client::PopulationServiceClient},
    types::{self, HealthInsuranceCheckOutcome as Outcome, MaritalStatus},
};
use sandbox06_runtime::error::reason_of;
use sandbox06_testkit::{
    Bearer, Harness, client_token, personas, redis_url, single_of, start, start_with,
    test_config_with,
};
use tonic::{Code, Status, service::interceptor::InterceptedService, transport::Channel};
use tonic_types::StatusExt as _;

type Lgsp = LgspServiceClient<InterceptedService<Channel, Bearer>>;

/// The platform as `client` (a demo client; its secret is `<client>-secret`).
async fn lgsp_as(h: &Harness, client: &str) -> Lgsp {
    let token = client_token(h.suite.edge, client, &format!("{client}-secret"), None).await;
    LgspServiceClient::new(InterceptedService::new(
        h.channel.clone(),
        Bearer::new(&token),
    ))
}

fn admin(h: &Harness) -> AdminServiceClient<InterceptedService<Channel, Bearer>> {
    AdminServiceClient::new(h.edge.clone())
}

fn unique(label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{label}-{nanos}")
}

async fn exchange(
    client: &mut Lgsp,
    service: &str,
    purpose: &str,
    transaction: &str,
    request: Typed,
) -> Result<pb::ExchangeResponse, Status> {
    client
        .exchange(pb::ExchangeRequest {
            service_code: service.into(),
            purpose: purpose.into(),
            transaction_id: transaction.into(),
            request: Some(request),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// The answer of `$variant` in an exchange's response, or a loud failure.
macro_rules! answer_of {
    ($answer:expr, $variant:ident) => {
        match $answer.result.as_ref().unwrap() {
            Answer::$variant(r) => r,
            other => panic!("{other:?}"),
        }
    };
}

fn citizen(id: &str) -> Typed {
    Typed::Citizen(types::CitizenQuery {
        citizen_id: id.into(),
    })
}

fn insurance_check(card: &str, name: &str, born: Option<types::Date>) -> Typed {
    Typed::HealthInsuranceCheck(types::HealthInsuranceCheckRequest {
        card_code: card.into(),
        full_name: name.into(),
        date_of_birth: born,
        operator_name: "Lê Thị Thu".into(),
        operator_citizen_id: String::new(),
    })
}

fn refused(status: &Status, code: Code, reason: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(reason_of(status).as_deref(), Some(reason), "{status:?}");
}

fn metadata(status: &Status, key: &str) -> Option<String> {
    status
        .get_details_error_info()
        .and_then(|info| info.metadata.get(key).cloned())
}

#[tokio::test]
async fn the_catalogue_agencies_and_agreements_are_listed() {
    let h = start().await;
    let mut hospital = lgsp_as(&h, "demo-hospital").await;
    let services = hospital
        .list_data_services(pb::ListDataServicesRequest {})
        .await
        .unwrap()
        .into_inner()
        .services;
    let local: Vec<&str> = services
        .iter()
        .filter(|s| s.provider() == pb::ProviderKind::Local)
        .map(|s| s.code.as_str())
        .collect();
    assert_eq!(local, ["lgsp.citizen.verify", "lgsp.lodging.daily-count"]);
    assert!(services.len() >= 8);
    let sensitive = services
        .iter()
        .find(|s| s.code == "vss.health-insurance.check")
        .unwrap();
    assert_eq!(
        sensitive.classification(),
        types::DataClassification::Sensitive
    );
    let agencies = hospital
        .list_agencies(pb::ListAgenciesRequest {})
        .await
        .unwrap()
        .into_inner()
        .agencies;
    for client in [
        "demo-hospital",
        "demo-notary",
        "demo-police",
        "demo-statistics",
    ] {
        assert!(
            agencies
                .iter()
                .any(|a| a.consumers.iter().any(|c| c.client_id == client)),
            "{client}"
        );
    }
    // A consumer sees its own agreements only, whatever it asks.
    let mine = hospital
        .list_agreements(pb::ListAgreementsRequest {
            consumer_id: "vpcc-notary".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .agreements;
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|a| a.consumer_id == "bvdk-his"), "{mine:?}");
    // A client bound to no consumer is refused.
    let mut hotel = lgsp_as(&h, "demo-hotel").await;
    let status = exchange(
        &mut hotel,
        "moj.civil-status.marital",
        "",
        "t-1",
        citizen(personas::HAPPY_PATH),
    )
    .await
    .unwrap_err();
    // The hotel's client lacks the platform's scope: the edge refuses it first.
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_hospital_checks_a_patients_insurance_through_the_platform() {
    let h = start().await;
    let mut hospital = lgsp_as(&h, "demo-hospital").await;
    let patient = h.record(personas::HAPPY_PATH).await;
    let card = patient.health_insurance.clone().unwrap();
    let (name, born) = (patient.full_name.clone(), patient.date_of_birth);

    let insured = exchange(
        &mut hospital,
        "vss.health-insurance.check",
        "admission",
        &unique("adm"),
        insurance_check(&card.card_code, &name, born),
    )
    .await
    .unwrap();
    assert_eq!(
        answer_of!(insured, HealthInsuranceCheck).outcome(),
        Outcome::Valid
    );
    assert_eq!(insured.agreement_id, "bvdk-bhyt");
    assert!(insured.exchange_id > 0);

    let mut wrong_day = born.unwrap();
    wrong_day.day = if wrong_day.day == 1 { 2 } else { 1 };
    let answer = exchange(
        &mut hospital,
        "vss.health-insurance.check",
        "admission",
        &unique("adm"),
        insurance_check(&card.card_code, &name, Some(wrong_day)),
    )
    .await
    .unwrap();
    assert_eq!(
        answer_of!(answer, HealthInsuranceCheck).outcome(),
        Outcome::BirthDateMismatch
    );

    let uninsured = h.record(personas::NO_HEALTH_INSURANCE).await;
    let answer = exchange(
        &mut hospital,
        "vss.health-insurance.check",
        "admission",
        &unique("adm"),
        insurance_check(
            personas::NO_HEALTH_INSURANCE,
            &uninsured.full_name,
            uninsured.date_of_birth,
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        answer_of!(answer, HealthInsuranceCheck).outcome(),
        Outcome::NotFound
    );

    // Sensitive data: no purpose, or one not agreed, is refused.
    let status = exchange(
        &mut hospital,
        "vss.health-insurance.check",
        "",
        &unique("adm"),
        insurance_check(&card.card_code, &name, born),
    )
    .await
    .unwrap_err();
    refused(&status, Code::PermissionDenied, "PURPOSE_REQUIRED");
    assert_eq!(metadata(&status, "agreed").as_deref(), Some("admission"));
    let status = exchange(
        &mut hospital,
        "vss.health-insurance.check",
        "marketing",
        &unique("adm"),
        insurance_check(&card.card_code, &name, born),
    )
    .await
    .unwrap_err();
    refused(&status, Code::PermissionDenied, "PURPOSE_NOT_AGREED");

    // The day after the card's term, on the suite's clock: expired.
    let to = sandbox06_proto::dates::date_from_proto(&card.valid_to.unwrap(), "valid_to").unwrap();
    h.set_clock_on(to.next_day().unwrap(), 12, true).await;
    let mut hospital = lgsp_as(&h, "demo-hospital").await;
    let answer = exchange(
        &mut hospital,
        "vss.health-insurance.check",
        "admission",
        &unique("adm"),
        insurance_check(&card.card_code, &name, born),
    )
    .await
    .unwrap();
    assert_eq!(
        answer_of!(answer, HealthInsuranceCheck).outcome(),
        Outcome::Expired
    );
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_notary_checks_both_parties_marital_status() {
    let h = start().await;
    let mut notary = lgsp_as(&h, "demo-notary").await;
    let mut check = async |id: &str| {
        exchange(
            &mut notary,
            "moj.civil-status.marital",
            "",
            &unique("nc"),
            citizen(id),
        )
        .await
        .unwrap()
    };
    let husband = check(personas::HAPPY_PATH).await;
    let wife = check(personas::MARRIED_WIFE).await;
    assert_eq!(
        answer_of!(husband, MaritalStatus).marital_status(),
        MaritalStatus::Married
    );
    assert_eq!(
        answer_of!(wife, MaritalStatus).spouse_citizen_id,
        personas::HAPPY_PATH
    );
    assert_eq!(
        answer_of!(husband, MaritalStatus).marriage,
        answer_of!(wife, MaritalStatus).marriage
    );

    // Two single citizens marry (a life event through the admin surface): the notary sees it.
    let country = &h.suite.country;
    let (man, woman) = (
        single_of(country, sandbox06_vn::Sex::Male),
        single_of(country, sandbox06_vn::Sex::Female),
    );
    assert_eq!(
        answer_of!(check(&man).await, MaritalStatus).marital_status(),
        MaritalStatus::Single
    );
    admin(&h)
        .create_life_event(admin::CreateLifeEventRequest {
            citizen_id: man.clone(),
            event: Some(admin::LifeEvent {
                change: Some(admin::life_event::Change::Married(
                    admin::LifeEventMarried {
                        spouse_citizen_id: woman.clone(),
                    },
                )),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let (his, hers) = (check(&man).await, check(&woman).await);
    assert_eq!(
        answer_of!(his, MaritalStatus).marital_status(),
        MaritalStatus::Married
    );
    assert_eq!(answer_of!(hers, MaritalStatus).spouse_citizen_id, man);
    assert!(answer_of!(his, MaritalStatus).marriage.is_some());

    // The notary has no agreement for health insurance.
    let status = exchange(
        &mut notary,
        "vss.health-insurance.check",
        "notarization",
        &unique("nc"),
        insurance_check(personas::HAPPY_PATH, "Nguyễn Văn Hùng", None),
    )
    .await
    .unwrap_err();
    refused(&status, Code::PermissionDenied, "NO_AGREEMENT");
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn an_analyst_gets_the_provinces_pyramid_and_it_agrees_with_the_population_database() {
    let h = start().await;
    let mut analyst = lgsp_as(&h, "demo-statistics").await;
    let answer = exchange(
        &mut analyst,
        "gso.population.statistics",
        "",
        &unique("st"),
        Typed::PopulationStatistics(types::PopulationStatisticsRequest {
            province_code: "56".into(),
            era: types::AdminEra::Current as i32,
            band_years: 10,
        }),
    )
    .await
    .unwrap();
    let Some(Answer::PopulationStatistics(statistics)) = answer.result else {
        panic!("no statistics")
    };
    let mut population = PopulationServiceClient::connect(h.url_of("population-db"))
        .await
        .unwrap();
    let mut registered = 0;
    // Khánh Hòa of the 2025 units is the former Khánh Hòa and Ninh Thuận.
    for code in ["56", "58"] {
        registered += population
            .list_citizens(pop::ListCitizensRequest {
                page_size: 1,
                province_code: code.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .total_size;
    }
    assert_eq!(statistics.registered, registered);
    let pyramid: i64 = statistics.age_bands.iter().map(|b| b.male + b.female).sum();
    assert_eq!(pyramid, statistics.living);
    assert_eq!(statistics.age_bands[1].age_from, 10);
    // Open data: no subject in the audit entry.
    let entries = analyst
        .list_exchanges(pb::ListExchangesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(entries[0].sequence, answer.exchange_id);
    assert!(entries[0].subject.is_empty());
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn refusals_name_their_reason_and_are_audited() {
    let h = start().await;
    // A daily quota is counted in Vietnam's day: the test does not straddle its midnight.
    h.set_time_of_day(10).await;
    // An agreement that ended on 31 December 2025.
    let mut police = lgsp_as(&h, "demo-police").await;
    let person = h.record(personas::HAPPY_PATH).await;
    let status = exchange(
        &mut police,
        "moj.judicial-record.check",
        "investigation",
        &unique("pj"),
        Typed::JudicialRecord(types::JudicialRecordRequest {
            citizen_id: personas::HAPPY_PATH.into(),
            full_name: person.full_name.clone(),
            date_of_birth: person.date_of_birth,
        }),
    )
    .await
    .unwrap_err();
    refused(&status, Code::PermissionDenied, "AGREEMENT_EXPIRED");
    assert_eq!(
        metadata(&status, "valid_until").as_deref(),
        Some("2025-12-31")
    );

    // The notary's death registrations: three a day.
    let mut notary = lgsp_as(&h, "demo-notary").await;
    for _ in 0..3 {
        exchange(
            &mut notary,
            "moj.civil-status.death",
            "",
            &unique("nd"),
            citizen(personas::DECEASED),
        )
        .await
        .unwrap();
    }
    let status = exchange(
        &mut notary,
        "moj.civil-status.death",
        "",
        &unique("nd"),
        citizen(personas::DECEASED),
    )
    .await
    .unwrap_err();
    refused(&status, Code::ResourceExhausted, "QUOTA_EXCEEDED");
    assert_eq!(metadata(&status, "daily_quota").as_deref(), Some("3"));
    assert_eq!(used_today(&mut notary, "vpcc-death").await, 3);

    // Every refusal is in the log, with its reason.
    let log = admin_lgsp(&h)
        .await
        .list_exchanges(pb::ListExchangesRequest {
            page_size: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let reasons: Vec<&str> = log.iter().map(|e| e.reason.as_str()).collect();
    assert!(reasons.contains(&"AGREEMENT_EXPIRED"), "{reasons:?}");
    assert!(reasons.contains(&"QUOTA_EXCEEDED"), "{reasons:?}");
    h.suite.stop().await.unwrap();
}

/// What an agreement of `client`'s consumer has used of today's quota.
async fn used_today(client: &mut Lgsp, agreement: &str) -> i32 {
    client
        .list_agreements(pb::ListAgreementsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .agreements
        .iter()
        .find(|a| a.agreement_id == agreement)
        .unwrap()
        .used_today
}

/// The platform as the admin client: every consumer's exchanges, and the audit scope.
async fn admin_lgsp(h: &Harness) -> Lgsp {
    LgspServiceClient::new(h.edge.clone())
}

#[tokio::test]
async fn consent_given_in_vneid_allows_and_withdrawn_refuses() {
    let h = start().await;
    let mut hospital = lgsp_as(&h, "demo-hospital").await;
    // The happy-path persona's birth registration, in transaction `transaction`.
    let asker = hospital.clone();
    let ask_in = move |transaction: String| {
        let mut client = asker.clone();
        async move {
            exchange(
                &mut client,
                "moj.civil-status.birth",
                "medical-record",
                &transaction,
                citizen(personas::HAPPY_PATH),
            )
            .await
        }
    };
    let ask = |_: &mut Lgsp| ask_in(unique("kb"));
    let refused_first = unique("kb-first");
    let status = ask_in(refused_first.clone()).await.unwrap_err();
    refused(&status, Code::PermissionDenied, "NO_CONSENT");
    assert_eq!(
        metadata(&status, "agreement_id").as_deref(),
        Some("bvdk-birth")
    );

    let consent = admin(&h)
        .give_vneid_consent(admin::GiveVneidConsentRequest {
            citizen_id: personas::HAPPY_PATH.into(),
            recipient: "bvdk-his".into(),
            service_code: "moj.civil-status.birth".into(),
            purpose: "medical-record".into(),
            valid_until: None,
        })
        .await
        .unwrap()
        .into_inner();
    let allowed = ask(&mut hospital).await.unwrap();
    assert_eq!(allowed.consent_id, consent.consent_id);
    // The transaction refused before is judged anew, not held.
    let retried = ask_in(refused_first).await.unwrap();
    assert!(!retried.replayed);
    assert_eq!(
        answer_of!(allowed, BirthRegistration).citizen_id,
        personas::HAPPY_PATH
    );

    // A consent for another purpose or another citizen allows nothing here.
    let status = exchange(
        &mut hospital,
        "moj.civil-status.birth",
        "medical-record",
        &unique("kb"),
        citizen(personas::MARRIED_WIFE),
    )
    .await
    .unwrap_err();
    refused(&status, Code::PermissionDenied, "NO_CONSENT");

    let withdrawn = admin(&h)
        .withdraw_vneid_consent(admin::WithdrawVneidConsentRequest {
            consent_id: consent.consent_id.clone(),
            citizen_id: personas::HAPPY_PATH.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(withdrawn.withdraw_time.is_some());
    let status = ask(&mut hospital).await.unwrap_err();
    refused(&status, Code::PermissionDenied, "NO_CONSENT");
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_hospital_reads_a_patients_health_book_with_the_patients_consent() {
    let h = start().await;
    let mut hospital = lgsp_as(&h, "demo-hospital").await;
    let patient = personas::CHAM;
    let asker = hospital.clone();
    let read = move |purpose: &'static str| {
        let mut client = asker.clone();
        async move {
            exchange(
                &mut client,
                "moh.health-book",
                purpose,
                &unique("sk"),
                citizen(patient),
            )
            .await
        }
    };
    // Sensitive data: the purpose is named in the request.
    let status = read("").await.unwrap_err();
    refused(&status, Code::PermissionDenied, "PURPOSE_REQUIRED");
    let status = read("treatment").await.unwrap_err();
    refused(&status, Code::PermissionDenied, "NO_CONSENT");
    assert_eq!(
        metadata(&status, "agreement_id").as_deref(),
        Some("bvdk-health-book")
    );
    let consent = admin(&h)
        .give_vneid_consent(admin::GiveVneidConsentRequest {
            citizen_id: patient.into(),
            recipient: "bvdk-his".into(),
            service_code: "moh.health-book".into(),
            purpose: "treatment".into(),
            valid_until: None,
        })
        .await
        .unwrap()
        .into_inner();
    let answer = read("treatment").await.unwrap();
    assert_eq!(answer.consent_id, consent.consent_id);
    assert_eq!(answer.agreement_id, "bvdk-health-book");
    let Some(Answer::HealthBook(book)) = answer.result else {
        panic!("not a health book: {answer:?}")
    };
    let record = h.record(patient).await;
    assert_eq!(book.citizen_id, patient);
    assert_eq!(book.full_name, record.full_name);
    assert_eq!(
        book.health_insurance_card_code,
        record
            .health_insurance
            .map(|i| i.card_code)
            .unwrap_or_default()
    );
    assert!(!book.vaccinations.is_empty(), "{book:?}");
    // The patient sees who read the book.
    let read = hospital
        .list_exchanges(pb::ListExchangesRequest {
            citizen_id: patient.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(read.len(), 3, "{read:?}");
    assert_eq!(read[0].sequence, answer.exchange_id);
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_retried_transaction_answers_the_first_answer() {
    let h = start().await;
    let mut notary = lgsp_as(&h, "demo-notary").await;
    let transaction = unique("retry");
    let verify = || {
        Typed::CitizenVerify(VerifyCitizenRequest {
            citizen_id: personas::HAPPY_PATH.into(),
            full_name: "Nguyễn Văn Hùng".into(),
            ..Default::default()
        })
    };
    let first = exchange(
        &mut notary,
        "lgsp.citizen.verify",
        "",
        &transaction,
        verify(),
    )
    .await
    .unwrap();
    assert!(!first.replayed);
    let again = exchange(
        &mut notary,
        "lgsp.citizen.verify",
        "",
        &transaction,
        verify(),
    )
    .await
    .unwrap();
    assert!(again.replayed);
    assert_eq!(again.exchange_id, first.exchange_id);
    assert_eq!(again.result, first.result);
    let status = exchange(
        &mut notary,
        "lgsp.citizen.verify",
        "",
        &transaction,
        Typed::CitizenVerify(VerifyCitizenRequest {
            citizen_id: personas::MARRIED_WIFE.into(),
            ..Default::default()
        }),
    )
    .await
    .unwrap_err();
    refused(&status, Code::AlreadyExists, "TRANSACTION_REUSED");

    // Eight calls of one new transaction at once: one is served; each other is told it is
    // being served, or gets its answer.
    let transaction = unique("burst");
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let mut client = notary.clone();
            let transaction = transaction.clone();
            tokio::spawn(async move {
                exchange(
                    &mut client,
                    "lgsp.citizen.verify",
                    "",
                    &transaction,
                    verify(),
                )
                .await
            })
        })
        .collect();
    let mut served = 0;
    for call in calls {
        match call.await.unwrap() {
            Ok(answer) if !answer.replayed => served += 1,
            Ok(_) => {}
            Err(status) => refused(&status, Code::Aborted, "TRANSACTION_IN_PROGRESS"),
        }
    }
    assert_eq!(served, 1);
    let log = notary
        .list_exchanges(pb::ListExchangesRequest {
            page_size: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(
        log.iter()
            .filter(|e| e.transaction_id == transaction)
            .count(),
        1
    );
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn ndxp_down_is_reported_as_the_national_exchange_and_not_counted() {
    let h = start().await;
    // A daily quota is counted in Vietnam's day: the test does not straddle its midnight.
    h.set_time_of_day(10).await;
    h.make_unavailable("ndxp", None, 1).await;
    let mut notary = lgsp_as(&h, "demo-notary").await;
    let transaction = unique("down");
    let status = exchange(
        &mut notary,
        "moj.civil-status.death",
        "",
        &transaction,
        citizen(personas::DECEASED),
    )
    .await
    .unwrap_err();
    refused(&status, Code::Unavailable, "UPSTREAM_UNAVAILABLE");
    assert_eq!(metadata(&status, "backend").as_deref(), Some("ndxp"));
    // Not counted against the quota; the retry is served.
    assert_eq!(used_today(&mut notary, "vpcc-death").await, 0);
    let served = exchange(
        &mut notary,
        "moj.civil-status.death",
        "",
        &transaction,
        citizen(personas::DECEASED),
    )
    .await
    .unwrap();
    assert!(!served.replayed);
    let log = notary
        .list_exchanges(pb::ListExchangesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(log[0].outcome(), pb::ExchangeOutcome::Answered);
    assert_eq!(log[1].outcome(), pb::ExchangeOutcome::ProviderFailed);
    assert_eq!(log[1].reason, "UPSTREAM_UNAVAILABLE");
    assert_eq!(used_today(&mut notary, "vpcc-death").await, 1);
    // A refusal of the provider (a number no one has) is counted, as an answer is: refusals
    // cannot probe without limit.
    let status = exchange(
        &mut notary,
        "moj.civil-status.death",
        "",
        &unique("nobody"),
        citizen("096099999999"),
    )
    .await
    .unwrap_err();
    refused(&status, Code::NotFound, "CITIZEN_NOT_FOUND");
    assert_eq!(used_today(&mut notary, "vpcc-death").await, 2);
    h.suite.stop().await.unwrap();
}

/// Exchanges about two citizens by two consumers; "who read my data" of one lists exactly its
/// own, and the log verifies.
async fn exchanges_about_two_citizens(h: &Harness) -> Vec<i64> {
    let mut notary = lgsp_as(h, "demo-notary").await;
    let mut hospital = lgsp_as(h, "demo-hospital").await;
    let mut mine = Vec::new();
    let answer = exchange(
        &mut notary,
        "moj.civil-status.marital",
        "",
        &unique("w"),
        citizen(personas::CHAM),
    )
    .await
    .unwrap();
    mine.push(answer.exchange_id);
    exchange(
        &mut notary,
        "moj.civil-status.marital",
        "",
        &unique("w"),
        citizen(personas::RAGLAI),
    )
    .await
    .unwrap();
    let cham = h.record(personas::CHAM).await;
    let answer = exchange(
        &mut hospital,
        "lgsp.citizen.verify",
        "",
        &unique("w"),
        Typed::CitizenVerify(VerifyCitizenRequest {
            citizen_id: personas::CHAM.into(),
            full_name: cham.full_name,
            ..Default::default()
        }),
    )
    .await
    .unwrap();
    mine.push(answer.exchange_id);
    // A refusal about the citizen touched their data too.
    let status = exchange(
        &mut hospital,
        "moj.civil-status.birth",
        "medical-record",
        &unique("w"),
        citizen(personas::CHAM),
    )
    .await
    .unwrap_err();
    refused(&status, Code::PermissionDenied, "NO_CONSENT");
    mine.reverse();
    mine
}

#[tokio::test]
async fn who_read_my_data_lists_exactly_the_exchanges_about_the_citizen_and_the_log_verifies() {
    let h = start().await;
    let mine = exchanges_about_two_citizens(&h).await;
    let mut console = admin_lgsp(&h).await;
    let entries = console
        .list_exchanges(pb::ListExchangesRequest {
            citizen_id: personas::CHAM.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let answered: Vec<i64> = entries
        .iter()
        .filter(|e| e.outcome() == pb::ExchangeOutcome::Answered)
        .map(|e| e.sequence)
        .collect();
    assert_eq!(answered, mine);
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert!(entries.iter().all(|e| e.subject == "058*******34"));
    // The ID number is nowhere in the log.
    let whole = format!("{entries:?}");
    assert!(!whole.contains(personas::CHAM));
    let verified = console
        .verify_audit_log(pb::VerifyAuditLogRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(verified.valid, "{verified:?}");
    assert_eq!(verified.entries, 4);
    assert_eq!(verified.head_hash.len(), 64);
    // A consumer cannot verify, nor read another's exchanges.
    let mut notary = lgsp_as(&h, "demo-notary").await;
    let status = notary
        .verify_audit_log(pb::VerifyAuditLogRequest {})
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let theirs = notary
        .list_exchanges(pb::ListExchangesRequest {
            consumer_id: "bvdk-his".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert!(theirs.is_empty());
    h.suite.stop().await.unwrap();
}

#[tokio::test]
#[cfg_attr(
    not(redis_url_set),
    ignore = "needs Redis: set SANDBOX06_TEST_REDIS_URL (bash .ci/run does)"
)]
async fn an_entry_edited_in_the_store_is_detected() {
    use prost::Message as _;
    let Some(url) = redis_url("an_entry_edited_in_the_store_is_detected") else {
        return;
    };
    let config = test_config_with(
        figment::Figment::new()
            .merge(figment::providers::Serialized::default("store.url", url))
            .merge(figment::providers::Serialized::default(
                "store.namespace",
                sandbox06_testkit::unique_namespace("lgsp-audit"),
            )),
    );
    let h = start_with(&config).await;
    exchanges_about_two_citizens(&h).await;
    let mut console = admin_lgsp(&h).await;
    assert!(
        console
            .verify_audit_log(pb::VerifyAuditLogRequest {})
            .await
            .unwrap()
            .into_inner()
            .valid
    );
    // Someone with access to Redis makes the second exchange another consumer's.
    let store = config.store.for_component("lgsp").open().await.unwrap();
    let key = sandbox06_lgsp::audit::AUDIT_KEY;
    let mut list = store.list(key).await.unwrap();
    let mut second = pb::AuditEntry::decode(list[1].as_slice()).unwrap();
    second.consumer_id = "bvdk-his".into();
    list[1] = second.encode_to_vec();
    store.delete(key).await.unwrap();
    for value in &list {
        store.append(key, value).await.unwrap();
    }
    let verified = console
        .verify_audit_log(pb::VerifyAuditLogRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(!verified.valid);
    assert_eq!(verified.first_invalid_sequence, 2);
    assert!(verified.problem.contains("changed"), "{verified:?}");
    h.suite.stop().await.unwrap();
    sandbox06_testkit::clear_stores(&config).await;
}

/// Khánh Hòa's lodging count of `day`, as the statistics office asks it.
async fn lodging_count(h: &Harness, day: types::Date) -> pb::LodgingCountResponse {
    let mut analyst = lgsp_as(h, "demo-statistics").await;
    let answer = exchange(
        &mut analyst,
        "lgsp.lodging.daily-count",
        "",
        &unique("lc"),
        Typed::LodgingCount(pb::LodgingCountRequest {
            province_code: "56".into(),
            date: Some(day),
        }),
    )
    .await
    .unwrap();
    answer_of!(answer, LodgingCount).clone()
}

/// Waits (a few seconds at most) until Khánh Hòa's count of `day` has `declarations`.
async fn count_reaches(
    h: &Harness,
    day: types::Date,
    declarations: i64,
) -> pb::LodgingCountResponse {
    for _ in 0..100 {
        let count = lodging_count(h, day).await;
        if count.declarations == declarations {
            return count;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "the count never reached {declarations}: {:?}",
        lodging_count(h, day).await
    )
}

#[tokio::test]
async fn lodging_events_feed_the_provinces_daily_count() {
    use sandbox06_proto::lodging::{self as lg, lodging_service_client::LodgingServiceClient};
    let h = start().await;
    let token = client_token(h.suite.edge, "demo-hotel", "demo-hotel-secret", None).await;
    let mut hotel = LodgingServiceClient::new(InterceptedService::new(
        h.channel.clone(),
        Bearer::new(&token),
    ));
    // Two hours ago on the suite's clock, in Vietnam's day.
    let clock = admin(&h)
        .get_clock(admin::GetClockRequest {})
        .await
        .unwrap()
        .into_inner();
    let now = clock.time.unwrap();
    let arrival = prost_types::Timestamp {
        seconds: now.seconds - 2 * 3600,
        nanos: 0,
    };
    let day_of = |seconds: i64| {
        let at = time::OffsetDateTime::from_unix_timestamp(seconds + 7 * 3600).unwrap();
        types::Date {
            year: at.year(),
            month: at.month() as i32,
            day: i32::from(at.day()),
        }
    };
    let day = day_of(arrival.seconds);
    let before = lodging_count(&h, day).await;
    assert_eq!(before.province_name, "Khánh Hòa");
    let mut records = std::collections::HashMap::new();
    for id in [personas::HAPPY_PATH, personas::MARRIED_WIFE, personas::CHAM] {
        records.insert(id, h.record(id).await);
    }
    let guest = |id: &str| {
        let record = &records[id];
        lg::Guest {
            identity: Some(lg::guest::Identity::Citizen(lg::CitizenGuest {
                citizen_id: id.into(),
                full_name: record.full_name.clone(),
                date_of_birth: record.date_of_birth,
                sex: record.sex,
                ..Default::default()
            })),
            reason_of_stay: types::ReasonOfStay::Tourism as i32,
            ..Default::default()
        }
    };
    let declare = |guests: Vec<lg::Guest>, room: &str| lg::Declaration {
        guests,
        place: Some(lg::Place {
            kind: Some(lg::place::Kind::Room(lg::RoomPlace { room: room.into() })),
        }),
        arrival_time: Some(arrival),
        expected_departure_time: Some(prost_types::Timestamp {
            seconds: now.seconds + 86_400,
            nanos: 0,
        }),
        ..Default::default()
    };
    let mut made = Vec::new();
    for (guests, room) in [
        (
            vec![guest(personas::HAPPY_PATH), guest(personas::MARRIED_WIFE)],
            "305",
        ),
        (vec![guest(personas::CHAM)], "306"),
    ] {
        let declaration = hotel
            .create_declaration(lg::CreateDeclarationRequest {
                facility_id: "demo-hotel-phan-rang".into(),
                declaration: Some(declare(guests, room)),
                request_id: unique("lc"),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .declaration
            .unwrap();
        made.push(declaration.name);
    }
    let counted = count_reaches(&h, day, before.declarations + 2).await;
    assert_eq!(counted.guests, before.guests + 3);
    assert!(counted.facilities >= 1);
    assert!(!counted.last_event_id.is_empty());

    // A cancellation takes its declaration out of the count.
    let id = made[1].rsplit('/').next().unwrap().to_owned();
    hotel
        .cancel_declaration(lg::CancelDeclarationRequest {
            facility_id: "demo-hotel-phan-rang".into(),
            declaration_id: id,
            reason: "khai trùng".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let counted = count_reaches(&h, day, before.declarations + 1).await;
    assert_eq!(counted.guests, before.guests + 2);

    // A parallel job (a tenant) reads the suite's count too: the counts are everyone's.
    let mut request = tonic::Request::new(pb::ExchangeRequest {
        service_code: "lgsp.lodging.daily-count".into(),
        transaction_id: unique("lc-tenant"),
        request: Some(Typed::LodgingCount(pb::LodgingCountRequest {
            province_code: "56".into(),
            date: Some(day),
        })),
        ..Default::default()
    });
    request
        .metadata_mut()
        .insert("x-sandbox06-tenant", "ci-job-7".parse().unwrap());
    let answer = lgsp_as(&h, "demo-statistics")
        .await
        .exchange(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer_of!(answer, LodgingCount), &counted);

    // A province code of no 2025 province is refused, naming the field.
    let mut analyst = lgsp_as(&h, "demo-statistics").await;
    let status = exchange(
        &mut analyst,
        "lgsp.lodging.daily-count",
        "",
        &unique("lc"),
        Typed::LodgingCount(pb::LodgingCountRequest {
            province_code: "58".into(),
            date: None,
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("lodging_count.province_code"),
        "{status:?}"
    );
    h.suite.stop().await.unwrap();
}
