//! The citizen service through the edge port: every RPC, the personas' verdicts, bad input.
#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use futures::StreamExt;
use sandbox06_proto::{
    citizen::{
        self as api, FieldVerdict, MatchCitizensRequest, Verdict, VerifyCitizenRequest,
        match_citizens_response::Result as MatchResult,
    },
    types::{CardStatus, Date, LifeStatus, Sex},
};
use sandbox06_runtime::error::reason_of;
use sandbox06_testkit::personas;
use sandbox06_testkit::start;
use tonic::Code;
use unicode_normalization::UnicodeNormalization;

fn date(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

fn verdict_of(checks: &[api::FieldCheck], field: &str) -> FieldVerdict {
    let check = checks
        .iter()
        .find(|c| c.field == field)
        .unwrap_or_else(|| panic!("no check for {field}"));
    FieldVerdict::try_from(check.verdict).unwrap()
}

fn field_violations(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// A citizen's whole record, through GetCitizen.
async fn full_record(
    client: &mut api::citizen_service_client::CitizenServiceClient<sandbox06_testkit::Edge>,
    citizen_id: &str,
) -> api::Citizen {
    client
        .get_citizen(api::GetCitizenRequest {
            citizen_id: citizen_id.to_owned(),
            read_mask: None,
        })
        .await
        .unwrap()
        .into_inner()
        .citizen
        .unwrap()
}

/// A well-formed number (Hà Nội, a man born in 1990) that no citizen has.
const NO_ONE: &str = "001090999999";

fn verify(id: &str) -> VerifyCitizenRequest {
    VerifyCitizenRequest {
        citizen_id: id.to_owned(),
        ..Default::default()
    }
}

/// A claim of a citizen's name only.
fn named(id: &str, full_name: &str) -> VerifyCitizenRequest {
    VerifyCitizenRequest {
        full_name: full_name.to_owned(),
        ..verify(id)
    }
}

#[tokio::test]
async fn get_citizen_returns_the_persona_and_honours_the_read_mask() {
    let h = start().await;
    let mut client = h.citizens();
    let full = full_record(&mut client, personas::HAPPY_PATH).await;
    assert_eq!(full.full_name, "Nguyễn Văn Hùng");
    assert_eq!(full.persona, "happy-path");
    assert_eq!(
        full.spouse.as_ref().unwrap().citizen_id,
        personas::MARRIED_WIFE
    );
    let household = full.household.as_ref().unwrap();
    assert_eq!(household.members.len(), 3);
    assert!(full.permanent_address.as_ref().unwrap().pre_2025.is_some());

    let masked = client
        .get_citizen(api::GetCitizenRequest {
            citizen_id: personas::HAPPY_PATH.into(),
            read_mask: Some(prost_types::FieldMask {
                paths: vec!["full_name".into(), "card.expiry_date".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .citizen
        .unwrap();
    assert_eq!(masked.full_name, "Nguyễn Văn Hùng");
    assert!(
        masked.citizen_id.is_empty() && masked.household.is_none() && masked.ethnicity.is_empty()
    );
    let card = masked.card.unwrap();
    assert_eq!(card.expiry_date, date(2031, 3, 15));
    assert!(card.issue_date.is_none());

    let err = client
        .get_citizen(api::GetCitizenRequest {
            citizen_id: personas::HAPPY_PATH.into(),
            read_mask: Some(prost_types::FieldMask {
                paths: vec!["full_name".into(), "shoe_size".into()],
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(reason_of(&err).as_deref(), Some("INVALID_FIELD_MASK"));
    assert_eq!(field_violations(&err), ["read_mask.paths[1]"]);
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn generated_citizens_are_found_and_unknown_numbers_are_not() {
    let h = start().await;
    let mut client = h.citizens();
    let id = h.suite.country.citizen_at(42_000_000).unwrap().to_string();
    let c = client
        .get_citizen(api::GetCitizenRequest {
            citizen_id: id.clone(),
            read_mask: None,
        })
        .await
        .unwrap();
    let c = c.into_inner().citizen.unwrap();
    assert_eq!(c.citizen_id, id);
    assert_eq!(
        c.date_of_birth.unwrap().year,
        i32::from(id[4..6].parse::<u8>().unwrap()) + if &id[3..4] < "2" { 1900 } else { 2000 }
    );

    // A well-formed number of Hà Nội that no citizen has.
    let err = client
        .get_citizen(api::GetCitizenRequest {
            citizen_id: NO_ONE.into(),
            read_mask: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(reason_of(&err).as_deref(), Some("CITIZEN_NOT_FOUND"));
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn personas_get_their_documented_verdicts() {
    let h = start().await;
    let mut client = h.citizens();
    let mut call =
        async |req: VerifyCitizenRequest| client.verify_citizen(req).await.unwrap().into_inner();

    // happy path: every field matches, the card is valid.
    let r = call(VerifyCitizenRequest {
        full_name: "Nguyễn Văn Hùng".into(),
        date_of_birth: date(1991, 3, 15),
        sex: Sex::Male as i32,
        address: "Số 12 phố Hàng Bạc, Phường Hàng Bạc, Quận Hoàn Kiếm, Thành phố Hà Nội".into(),
        card_issue_date: date(2021, 6, 10),
        old_id_number: "012345678".into(),
        ..verify(personas::HAPPY_PATH)
    })
    .await;
    assert_eq!(r.verdict(), Verdict::Match, "{r:?}");
    assert_eq!(r.card_status(), CardStatus::Valid);
    assert_eq!(r.life_status(), LifeStatus::Alive);
    assert!(r.checks.iter().all(|c| c.verdict() == FieldVerdict::Match));

    // The same name decomposed (NFD) and in capitals is still a match; without diacritics it is not.
    let nfd: String = "NGUYỄN VĂN HÙNG".nfd().collect();
    let r = call(VerifyCitizenRequest {
        full_name: nfd,
        ..verify(personas::HAPPY_PATH)
    })
    .await;
    assert_eq!(verdict_of(&r.checks, "full_name"), FieldVerdict::Match);
    let r = call(VerifyCitizenRequest {
        full_name: "Nguyen Van Hung".into(),
        ..verify(personas::HAPPY_PATH)
    })
    .await;
    assert_eq!(
        verdict_of(&r.checks, "full_name"),
        FieldVerdict::MatchIgnoringDiacritics
    );
    assert_eq!(r.verdict(), Verdict::PartialMatch);

    // Hà and Hạ are two people.
    let r = call(VerifyCitizenRequest {
        full_name: "Nguyễn Thị Hạ".into(),
        ..verify(personas::NAME_TWIN_HA)
    })
    .await;
    assert_eq!(
        verdict_of(&r.checks, "full_name"),
        FieldVerdict::MatchIgnoringDiacritics
    );
    let r = call(VerifyCitizenRequest {
        full_name: "Nguyễn Thị Hạ".into(),
        ..verify(personas::NAME_TWIN_HA_DOT)
    })
    .await;
    assert_eq!(r.verdict(), Verdict::Match);

    // A wrong date of birth is a mismatch, whatever else matches.
    let r = call(VerifyCitizenRequest {
        full_name: "Nguyễn Văn Hùng".into(),
        date_of_birth: date(1991, 3, 16),
        ..verify(personas::HAPPY_PATH)
    })
    .await;
    assert_eq!(r.verdict(), Verdict::Mismatch);
    assert_eq!(
        verdict_of(&r.checks, "date_of_birth"),
        FieldVerdict::Mismatch
    );

    // deceased
    let r = call(VerifyCitizenRequest {
        full_name: "Trần Văn Phúc".into(),
        ..verify(personas::DECEASED)
    })
    .await;
    assert_eq!(r.verdict(), Verdict::Deceased);
    assert_eq!(r.life_status(), LifeStatus::Deceased);
    assert_eq!(r.card_status(), CardStatus::Revoked);

    // card expired: the renewal at 25 was missed.
    let r = call(named(personas::CARD_EXPIRED, "Đặng Thị Thu")).await;
    assert_eq!(r.card_status(), CardStatus::Expired);
    let r = call(VerifyCitizenRequest {
        card_issue_date: date(2021, 5, 20),
        ..verify(personas::CARD_EXPIRED)
    })
    .await;
    assert_eq!(r.verdict(), Verdict::PartialMatch);

    // card replaced: the old card is superseded, the new one valid.
    let r = call(VerifyCitizenRequest {
        card_issue_date: date(2021, 3, 18),
        ..verify(personas::CARD_REPLACED)
    })
    .await;
    assert_eq!(r.card_status(), CardStatus::Superseded);
    assert_eq!(
        verdict_of(&r.checks, "card_issue_date"),
        FieldVerdict::Outdated
    );
    let r = call(VerifyCitizenRequest {
        card_issue_date: date(2026, 7, 20),
        ..verify(personas::CARD_REPLACED)
    })
    .await;
    assert_eq!(r.card_status(), CardStatus::Valid);
    assert_eq!(r.verdict(), Verdict::Match);

    // card revoked; minor without a card.
    assert_eq!(
        call(named(personas::CARD_REVOKED, "Lý Minh Tâm"))
            .await
            .card_status(),
        CardStatus::Revoked
    );
    assert_eq!(
        call(named(personas::MINOR_NO_CARD, "Nguyễn Minh Khang"))
            .await
            .card_status(),
        CardStatus::None
    );

    // moved after the merger: the old address is outdated, the new one matches in 2025 units.
    let r = call(VerifyCitizenRequest {
        address: "Số 21 đường Thống Nhất, Phường Kinh Dinh, Thành phố Phan Rang-Tháp Chàm, Tỉnh Ninh Thuận".into(),
        ..verify(personas::MOVED_AFTER_MERGER)
    })
    .await;
    assert_eq!(verdict_of(&r.checks, "address"), FieldVerdict::Outdated);
    let r = call(VerifyCitizenRequest {
        address: "Số 25 đường Trần Phú, Phường Nha Trang, Tỉnh Khánh Hòa".into(),
        ..verify(personas::MOVED_AFTER_MERGER)
    })
    .await;
    assert_eq!(verdict_of(&r.checks, "address"), FieldVerdict::Match);

    // A four-word name matches whole; without diacritics or in MRZ form only ignoring them;
    // three of its words are another name.
    for (claim, expected) in [
        ("Nguyễn Thị Thu Hà", FieldVerdict::Match),
        ("NGUYEN<<THI<THU<HA", FieldVerdict::MatchIgnoringDiacritics),
        ("Nguyễn Thị Hà", FieldVerdict::Mismatch),
    ] {
        let r = call(named(personas::FOUR_WORD_NAME, claim)).await;
        assert_eq!(verdict_of(&r.checks, "full_name"), expected, "{claim}");
    }

    // Chăm and Raglai personas keep their names.
    let r = call(VerifyCitizenRequest {
        full_name: "Đàng Năng Thọ".into(),
        ..verify(personas::CHAM)
    })
    .await;
    assert_eq!(r.verdict(), Verdict::Match);
    let r = call(VerifyCitizenRequest {
        full_name: "Chamaléa Thị Hồng".into(),
        ..verify(personas::RAGLAI)
    })
    .await;
    assert_eq!(r.verdict(), Verdict::Match);
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn card_qr_codes_are_parsed_and_verified() {
    let h = start().await;
    let mut client = h.citizens();
    let mut call = async |payload: &str| {
        client
            .verify_card_qr(api::VerifyCardQrRequest {
                payload: payload.to_owned(),
            })
            .await
            .map(|r| r.into_inner())
    };

    // The card of old-cmnd, with its CMND number and a pre-2025 Ninh Thuận address, here with
    // the full official unit names where the card prints them short: both forms match.
    let r = call("058091001234|264123456|Nguyễn Văn An|01011991|Nam|Thôn 1, Xã Phước Hậu, Huyện Ninh Phước, Ninh Thuận|15042021").await.unwrap();
    assert_eq!(r.verdict(), Verdict::Match, "{r:?}");
    assert!(!r.address_stale);
    assert_eq!(r.card.as_ref().unwrap().old_id_number, "264123456");
    assert_eq!(verdict_of(&r.checks, "old_id_number"), FieldVerdict::Match);

    // Moved after the merger: the QR address is stale.
    let moved = h
        .suite
        .country
        .person(
            sandbox06_vn::CitizenId::parse_field(personas::MOVED_AFTER_MERGER, "id").unwrap(),
            sandbox06_world::View::Full,
        )
        .unwrap();
    let payload = sandbox06_world::card_qr(&h.suite.country, &moved)
        .unwrap()
        .to_payload();
    let r = call(&payload).await.unwrap();
    assert!(r.address_stale);
    assert_eq!(r.verdict(), Verdict::PartialMatch);

    // The superseded card of card-replaced.
    let r = call("038088067890|173456789|Hoàng Văn Tuấn|30061988|Nam|Số 30 đường Bà Triệu, Phường Hàm Rồng, Thành phố Thanh Hóa, Thanh Hóa|18032021").await.unwrap();
    assert_eq!(r.card_status(), CardStatus::Superseded);

    // A generated citizen's own card matches.
    let country = &h.suite.country;
    let person = (0..200u64)
        .filter_map(|i| country.citizen_at(30_000_000 + i * 1_001))
        .filter_map(|id| country.person(id, sandbox06_world::View::Full))
        .find(|p| {
            p.is_alive()
                && p.current_card()
                    .is_some_and(|c| c.expires.is_none_or(|e| e > country.reference_date()))
        })
        .unwrap();
    let payload = sandbox06_world::card_qr(country, &person)
        .unwrap()
        .to_payload();
    let r = call(&payload).await.unwrap();
    assert_eq!(r.verdict(), Verdict::Match, "{payload} {r:?}");

    // A malformed payload names the field.
    let err = call("058091001234|264123456|Nguyễn Văn An|01011991|Nam|Thôn 1")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(reason_of(&err).as_deref(), Some("INVALID_QR_PAYLOAD"));
    assert_eq!(field_violations(&err), ["payload"]);
    assert!(err.message().contains("got 6"), "{}", err.message());
    let err = call("058091001234|264123456|Nguyễn Văn An|31021991|Nam|Thôn 1|15042021")
        .await
        .unwrap_err();
    assert_eq!(field_violations(&err), ["payload.date_of_birth"]);
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn older_documents_get_their_documented_verdicts() {
    let h = start().await;
    let mut client = h.citizens();
    let cases = [
        // barcode-cccd: a barcode CCCD of 2018, still valid.
        (
            VerifyCitizenRequest {
                full_name: "Đỗ Thị Lan".into(),
                card_issue_date: date(2018, 5, 14),
                old_id_number: "151234567".into(),
                ..verify(personas::BARCODE_CCCD)
            },
            Verdict::Match,
            CardStatus::Valid,
        ),
        // cmnd-only: a CMND of 2012, invalid since 1 January 2025.
        (
            VerifyCitizenRequest {
                full_name: "Hồ Văn Sáu".into(),
                card_issue_date: date(2012, 8, 10),
                ..verify(personas::CMND_ONLY)
            },
            Verdict::PartialMatch,
            CardStatus::Expired,
        ),
    ];
    for (request, verdict, card_status) in cases {
        let r = client.verify_citizen(request).await.unwrap().into_inner();
        assert_eq!(
            (r.verdict(), r.card_status()),
            (verdict, card_status),
            "{r:?}"
        );
    }
    let record = full_record(&mut client, personas::BARCODE_CCCD).await;
    assert_eq!(
        record.card.unwrap().r#type(),
        sandbox06_proto::types::CardType::CccdBarcode
    );
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn both_qr_forms_are_verified_and_the_form_is_reported() {
    let h = start().await;
    let mut client = h.citizens();
    let mut call = async |payload: String| {
        client
            .verify_card_qr(api::VerifyCardQrRequest { payload })
            .await
            .map(|r| r.into_inner())
    };
    let country = &h.suite.country;
    let printed = |raw: &str| {
        let id = sandbox06_vn::CitizenId::parse_field(raw, "id").unwrap();
        let person = country.person(id, sandbox06_world::View::Full).unwrap();
        sandbox06_world::card_qr(country, &person)
            .unwrap()
            .to_payload()
    };

    // The Căn cước of can-cuoc-2024 prints 11 fields; the chip CCCD of old-cmnd prints 7.
    let can_cuoc = printed(personas::CAN_CUOC_2024);
    assert!(can_cuoc.ends_with("|05092024||||"), "{can_cuoc}");
    let chip = printed(personas::OLD_CMND);
    assert_eq!(chip.split('|').count(), 7, "{chip}");
    // As a scanner hands them over: bare, or with a trailing CR and/or LF.
    for end in ["", "\r", "\n", "\r\n"] {
        let r = call(format!("{can_cuoc}{end}")).await.unwrap();
        assert_eq!(r.verdict(), Verdict::Match, "{r:?}");
        assert_eq!(r.qr_form(), api::QrForm::CanCuoc11Fields);
        let r = call(format!("{chip}{end}")).await.unwrap();
        assert_eq!(r.verdict(), Verdict::Match, "{r:?}");
        assert_eq!(r.qr_form(), api::QrForm::ChipCccd7Fields);
    }

    // A 12-digit CMND's number is the ID number: printed empty, and a reader that writes the
    // ID number in field 2 still matches.
    let twelve = printed(personas::CMND_12);
    let fields: Vec<&str> = twelve.split('|').collect();
    assert_eq!((fields.len(), fields[1]), (7, ""), "{twelve}");
    for old in ["", personas::CMND_12] {
        let payload = twelve.replacen(
            &format!("{}||", personas::CMND_12),
            &format!("{}|{old}|", personas::CMND_12),
            1,
        );
        let r = call(payload).await.unwrap();
        assert_eq!(r.verdict(), Verdict::Match, "{old}: {r:?}");
    }

    // The address the short way, in either era's units, and the long way, all match.
    assert!(
        chip.contains("|Thôn 1, Phước Hậu, Ninh Phước, Ninh Thuận|"),
        "{chip}"
    );
    for address in [
        "Thôn 1, Phước Hậu, Khánh Hòa",
        "Thôn 1, Xã Phước Hậu, Huyện Ninh Phước, Tỉnh Ninh Thuận",
        "Thôn 1, Xã Phước Hậu, Tỉnh Khánh Hòa",
    ] {
        let payload = chip.replace("Thôn 1, Phước Hậu, Ninh Phước, Ninh Thuận", address);
        let r = call(payload).await.unwrap();
        assert_eq!(
            verdict_of(&r.checks, "address"),
            FieldVerdict::Match,
            "{address}"
        );
        assert_eq!(r.verdict(), Verdict::Match, "{address}");
    }

    // 8 to 10 fields, or 11 whose last four are not empty, are malformed.
    for n in 8..=10 {
        let err = call(format!("{chip}{}", "|".repeat(n - 7)))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert_eq!(reason_of(&err).as_deref(), Some("INVALID_QR_PAYLOAD"));
        assert_eq!(field_violations(&err), ["payload"]);
        assert!(
            err.message().contains(&format!("got {n}")),
            "{}",
            err.message()
        );
    }
    let err = call(format!("{chip}||2024||")).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(reason_of(&err).as_deref(), Some("INVALID_QR_PAYLOAD"));
    assert_eq!(field_violations(&err), ["payload.field_9"]);
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn bad_input_gets_invalid_argument_with_the_field() {
    let h = start().await;
    let mut client = h.citizens();
    let cases: &[(&str, &str, &str)] = &[
        ("05809000123", "INVALID_CITIZEN_ID", "12 digits, got 11"),
        ("0580900012AB", "INVALID_CITIZEN_ID", "only digits"),
        ("058790001234", "INVALID_CITIZEN_ID", "century"),
        (
            "001299001234",
            "INVALID_CITIZEN_ID",
            "after the current year",
        ),
    ];
    for (id, reason, text) in cases {
        let err = client.verify_citizen(verify(id)).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{id}");
        assert_eq!(reason_of(&err).as_deref(), Some(*reason), "{id}");
        assert_eq!(field_violations(&err), ["citizen_id"], "{id}");
        assert!(err.message().contains(text), "{id}: {}", err.message());
    }
    let err = client
        .verify_citizen(VerifyCitizenRequest {
            date_of_birth: date(1990, 2, 31),
            ..verify(personas::HAPPY_PATH)
        })
        .await
        .unwrap_err();
    assert_eq!(reason_of(&err).as_deref(), Some("INVALID_DATE"));
    assert_eq!(field_violations(&err), ["date_of_birth"]);
    assert!(
        err.message().contains("31/02/1990 does not exist"),
        "{}",
        err.message()
    );

    let err = client
        .verify_citizen(VerifyCitizenRequest {
            sex: 7,
            ..verify(personas::HAPPY_PATH)
        })
        .await
        .unwrap_err();
    assert_eq!(field_violations(&err), ["sex"]);

    // An old CMND number names its first non-digit, else its length.
    for (old_id, text) in [
        ("12345678a", "must contain only digits, found 'a'"),
        ("1234567", "must be the 9-digit CMND number, got 7 digits"),
    ] {
        let err = client
            .verify_citizen(VerifyCitizenRequest {
                old_id_number: old_id.to_owned(),
                ..verify(personas::HAPPY_PATH)
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{old_id}");
        assert_eq!(field_violations(&err), ["old_id_number"], "{old_id}");
        assert!(err.message().contains(text), "{old_id}: {}", err.message());
    }

    // A request above the size limit is refused, not read.
    let err = client
        .verify_citizen(VerifyCitizenRequest {
            address: "x".repeat(5 * 1024 * 1024),
            ..verify(personas::HAPPY_PATH)
        })
        .await
        .unwrap_err();
    assert_eq!(
        reason_of(&err).as_deref(),
        Some("REQUEST_TOO_LARGE"),
        "{err:?}"
    );
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn match_citizens_streams_results_in_order_with_per_record_errors() {
    let h = start().await;
    let mut client = h.citizens();
    let country = h.suite.country.clone();
    let mut requests = Vec::new();
    for i in 0..2_000u64 {
        let key = format!("r{i}");
        let req = match i % 100 {
            7 => MatchCitizensRequest {
                record_key: key,
                citizen_id: "12345".into(),
                ..Default::default()
            },
            13 => MatchCitizensRequest {
                record_key: key,
                citizen_id: NO_ONE.into(),
                full_name: "Nguyễn Văn An".into(),
                ..Default::default()
            },
            _ => {
                let id = country.citizen_at(i * 40_000).unwrap();
                let p = country.person(id, sandbox06_world::View::Basic).unwrap();
                let name = if i % 100 == 21 {
                    "Ai Đó Khác".to_owned()
                } else {
                    p.full_name.clone()
                };
                MatchCitizensRequest {
                    record_key: key,
                    citizen_id: id.to_string(),
                    full_name: name,
                    date_of_birth: date(
                        p.date_of_birth.year(),
                        i32::from(u8::from(p.date_of_birth.month())),
                        i32::from(p.date_of_birth.day()),
                    ),
                    sex: if p.sex == sandbox06_vn::Sex::Male {
                        Sex::Male
                    } else {
                        Sex::Female
                    } as i32,
                }
            }
        };
        requests.push(req);
    }
    let responses: Vec<_> = client
        .match_citizens(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(responses.len(), 2_000);
    for (i, r) in responses.iter().enumerate() {
        assert_eq!(r.index, i as i64);
        assert_eq!(r.record_key, format!("r{i}"));
        match (i % 100, r.result.as_ref().unwrap()) {
            (7, MatchResult::Error(e)) => {
                assert_eq!(
                    (e.code, e.reason.as_str(), e.field.as_str()),
                    (3, "INVALID_CITIZEN_ID", "citizen_id")
                );
            }
            (13, MatchResult::Error(e)) => {
                assert_eq!((e.code, e.reason.as_str()), (5, "CITIZEN_NOT_FOUND"))
            }
            (21, MatchResult::Match(m)) => {
                assert_eq!(m.verdict(), Verdict::Mismatch);
                assert_eq!(m.full_name(), FieldVerdict::Mismatch);
            }
            (_, MatchResult::Match(m)) => {
                assert!(
                    matches!(m.verdict(), Verdict::Match | Verdict::Deceased),
                    "{i}: {m:?}"
                );
                assert_eq!(m.date_of_birth(), FieldVerdict::Match);
            }
            (_, other) => panic!("record {i}: unexpected {other:?}"),
        }
    }
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn life_events_are_applied_on_read() {
    use sandbox06_proto::population::{
        self as pop, population_service_client::PopulationServiceClient,
    };
    let h = start().await;
    // The population database is an upstream: integrators reach it only through the
    // citizen service, the test records the change directly, as the national system would.
    let mut upstream = PopulationServiceClient::connect(h.url_of("population-db"))
        .await
        .unwrap();
    let happy = personas::HAPPY_PATH;
    let qr_before = sandbox06_world::card_qr(
        &h.suite.country,
        &h.suite
            .country
            .person(
                sandbox06_vn::CitizenId::parse_field(happy, "id").unwrap(),
                sandbox06_world::View::Full,
            )
            .unwrap(),
    )
    .unwrap()
    .to_payload();
    upstream
        .create_life_event(pop::CreateLifeEventRequest {
            citizen_id: happy.into(),
            request_id: String::new(),
            event: Some(pop::LifeEvent {
                effective_date: date(2026, 1, 10),
                change: Some(pop::life_event::Change::Moved(pop::Moved {
                    commune_code: "22366".into(),
                    street: "Số 1 đường Trần Phú".into(),
                })),
            }),
        })
        .await
        .unwrap();
    let mut client = h.citizens();
    let r = client
        .verify_card_qr(api::VerifyCardQrRequest { payload: qr_before })
        .await
        .unwrap()
        .into_inner();
    assert!(r.address_stale, "{r:?}");

    // A death is applied too, and a bad event names its field.
    upstream
        .create_life_event(pop::CreateLifeEventRequest {
            citizen_id: personas::NO_VNEID.into(),
            request_id: String::new(),
            event: Some(pop::LifeEvent {
                effective_date: None,
                change: Some(pop::life_event::Change::Died(pop::Died {})),
            }),
        })
        .await
        .unwrap();
    let r = client
        .verify_citizen(named(personas::NO_VNEID, "Phạm Văn Nam"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.verdict(), Verdict::Deceased);
    let err = upstream
        .create_life_event(pop::CreateLifeEventRequest {
            citizen_id: personas::VNEID_LEVEL_1.into(),
            request_id: String::new(),
            event: Some(pop::LifeEvent {
                effective_date: None,
                change: Some(pop::life_event::Change::Moved(pop::Moved {
                    commune_code: "99999".into(),
                    street: "x".into(),
                })),
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(field_violations(&err), ["event.moved.commune_code"]);
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn verify_citizen_with_nothing_claimed_is_refused() {
    let h = start().await;
    let status = h
        .citizens()
        .verify_citizen(verify(personas::HAPPY_PATH))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(reason_of(&status).as_deref(), Some("INVALID_ARGUMENT"));
    assert!(
        status.message().contains("claim at least one field"),
        "{status:?}"
    );
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn a_prefix_no_province_has_is_an_invalid_citizen_id() {
    let h = start().await;
    let status = h
        .citizens()
        .get_citizen(api::GetCitizenRequest {
            citizen_id: "003090012345".into(),
            read_mask: None,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(reason_of(&status).as_deref(), Some("INVALID_CITIZEN_ID"));
    assert_eq!(field_violations(&status), ["citizen_id"]);
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn hidden_characters_are_refused_and_echoes_stay_short() {
    let h = start().await;
    let mut client = h.citizens();
    for name in [
        "Nguyễn Văn Hùng\u{202e}",
        "Nguyễn\0Văn Hùng",
        "Nguyễn Văn\u{7}Hùng",
    ] {
        let status = client
            .verify_citizen(named(personas::HAPPY_PATH, name))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{name:?}");
        assert_eq!(field_violations(&status), ["full_name"], "{name:?}");
    }
    let status = client
        .verify_citizen(VerifyCitizenRequest {
            citizen_id: "+84090012345".into(),
            ..named(personas::HAPPY_PATH, "Nguyễn Văn Hùng")
        })
        .await
        .unwrap_err();
    assert_eq!(reason_of(&status).as_deref(), Some("INVALID_CITIZEN_ID"));
    // A 2 KB bad field is quoted back in a few dozen characters, not whole.
    let payload = format!(
        "058091001234|264123456|Nguyễn Văn An|{}|Nam|Ninh Thuận|15042021",
        "9".repeat(2_000)
    );
    let status = client
        .verify_card_qr(api::VerifyCardQrRequest { payload })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().len() < 300, "{}", status.message());
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn every_bad_field_is_reported_at_once() {
    let h = start().await;
    let status = h
        .citizens()
        .verify_citizen(VerifyCitizenRequest {
            citizen_id: personas::HAPPY_PATH.into(),
            full_name: "Nguyễn\u{202e}".into(),
            date_of_birth: date(1990, 2, 30),
            sex: 7,
            card_issue_date: date(2021, 13, 1),
            old_id_number: "12x".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        field_violations(&status),
        [
            "full_name",
            "date_of_birth",
            "sex",
            "card_issue_date",
            "old_id_number"
        ]
    );
    assert!(
        status.message().contains("and 4 more bad fields"),
        "{}",
        status.message()
    );
    h.suite.stop().await.unwrap();
}
