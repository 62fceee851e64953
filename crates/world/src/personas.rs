//! Hand-written citizens with stable ID numbers, one for each edge case integrators test.
//! They override the generator; the README lists them.

use std::collections::HashMap;

use time::{Date, Month};

use super::{Country, person::*, rules::card_expiry};
use sandbox06_vn::{CitizenId, Sex};

/// The personas' ID numbers, by persona, for tests and examples.
pub mod ids {
    /// `happy-path`.
    pub const HAPPY_PATH: &str = "001091012345";
    /// `married-wife`.
    pub const MARRIED_WIFE: &str = "001192023456";
    /// `minor-no-card`.
    pub const MINOR_NO_CARD: &str = "001217067890";
    /// `vneid-level-1`.
    pub const VNEID_LEVEL_1: &str = "079195034567";
    /// `no-vneid`.
    pub const NO_VNEID: &str = "031075045678";
    /// `card-expired`.
    pub const CARD_EXPIRED: &str = "048300056789";
    /// `card-replaced`.
    pub const CARD_REPLACED: &str = "038088067890";
    /// `deceased`.
    pub const DECEASED: &str = "040045078901";
    /// `can-cuoc-2024`.
    pub const CAN_CUOC_2024: &str = "036310089012";
    /// `old-cmnd`.
    pub const OLD_CMND: &str = "058091001234";
    /// `moved-after-merger`.
    pub const MOVED_AFTER_MERGER: &str = "058185090123";
    /// `cham`.
    pub const CHAM: &str = "058088101234";
    /// `raglai`.
    pub const RAGLAI: &str = "058197112345";
    /// `name-twin-ha`.
    pub const NAME_TWIN_HA: &str = "001196123456";
    /// `name-twin-ha-dot`.
    pub const NAME_TWIN_HA_DOT: &str = "001196654321";
    /// `no-health-insurance`.
    pub const NO_HEALTH_INSURANCE: &str = "075082134567";
    /// `card-revoked`.
    pub const CARD_REVOKED: &str = "092091145678";
    /// `barcode-cccd`.
    pub const BARCODE_CCCD: &str = "034191151234";
    /// `cmnd-only`.
    pub const CMND_ONLY: &str = "040050162345";
    /// `retiree-ht`: the grandfather of a three-generation household.
    pub const RETIREE_HT: &str = "001056172345";
    /// `three-generations`: the son of `retiree-ht`, father of `grandchild`.
    pub const THREE_GENERATIONS: &str = "001086183456";
    /// `grandchild`.
    pub const GRANDCHILD: &str = "001318194567";
    /// `four-word-name`.
    pub const FOUR_WORD_NAME: &str = "001193205678";
    /// `child-with-card`.
    pub const CHILD_WITH_CARD: &str = "001219216789";
    /// `cmnd-12`.
    pub const CMND_12: &str = "001096227890";
    /// `vneid-locked`.
    pub const VNEID_LOCKED: &str = "079093237890";
    /// `vneid-app-rejects`.
    pub const VNEID_APP_REJECTS: &str = "001195248901";
}

use ids::*;

/// One persona as written by hand.
#[derive(Debug, Clone)]
pub struct PersonaSpec {
    /// Stable key, e.g. "happy-path".
    pub key: &'static str,
    /// ID number.
    pub id: &'static str,
    /// Full name.
    pub name: &'static str,
    /// Date of birth (year, month, day).
    pub birth: (i32, u8, u8),
    /// Ethnic group.
    pub ethnicity: &'static str,
    /// Religion.
    pub religion: &'static str,
    /// Residence: a pre-2025 commune code and the street part.
    pub home: (&'static str, &'static str),
    /// Issue dates of the cards, oldest first; the last is the current one.
    pub cards: &'static [(i32, u8, u8)],
    /// Old CMND number.
    pub old_cmnd: Option<&'static str>,
    /// Issue date of the CMND, when it matters (by default at 16, from 1999).
    pub cmnd_issued: Option<(i32, u8, u8)>,
    /// VNeID level.
    pub vneid: Vneid,
    /// Health insurance.
    pub insured: bool,
    /// The beneficiary group of the health insurance card; by default by age (TE under 6, HS
    /// for a pupil to 30 September of the year of 18, GD from then on).
    pub insurance_group: Option<&'static str>,
    /// Marital status, when it is not what the spouse says (married with one, single without).
    pub marital: Option<Marital>,
    /// Date of death.
    pub died: Option<(i32, u8, u8)>,
    /// The current card was withdrawn by the police.
    pub card_revoked: bool,
    /// Moved after the card was issued: a 2025 commune code, the street, the date.
    pub moved_to: Option<(&'static str, &'static str, (i32, u8, u8))>,
    /// Spouse (a persona's ID number).
    pub spouse: Option<&'static str>,
    /// Parents (personas' ID numbers; an empty one for a parent who is no persona).
    pub parents: Option<(&'static str, &'static str)>,
    /// Head of the household (a persona's ID number) and the relation to the head.
    pub household: Option<(&'static str, &'static str)>,
    /// What an integrator tests with it.
    pub use_for: &'static str,
}

const fn base(
    key: &'static str,
    id: &'static str,
    name: &'static str,
    birth: (i32, u8, u8),
) -> PersonaSpec {
    PersonaSpec {
        key,
        id,
        name,
        birth,
        ethnicity: "Kinh",
        religion: "Không",
        home: ("00061", "Số 12 phố Hàng Bạc"),
        cards: &[],
        old_cmnd: None,
        cmnd_issued: None,
        vneid: Vneid::Level2,
        insured: true,
        insurance_group: None,
        marital: None,
        died: None,
        card_revoked: false,
        moved_to: None,
        spouse: None,
        parents: None,
        household: None,
        use_for: "",
    }
}

/// Every persona.
pub const PERSONAS: &[PersonaSpec] = &[
    PersonaSpec {
        cards: &[(2021, 6, 10)],
        old_cmnd: Some("012345678"),
        spouse: Some(MARRIED_WIFE),
        household: Some((HAPPY_PATH, "Chủ hộ")),
        use_for: "happy path: adult, valid chip card, VNeID level 2, insured; husband in a married couple",
        ..base("happy-path", HAPPY_PATH, "Nguyễn Văn Hùng", (1991, 3, 15))
    },
    PersonaSpec {
        cards: &[(2021, 7, 2)],
        spouse: Some(HAPPY_PATH),
        household: Some((HAPPY_PATH, "Vợ")),
        use_for: "wife of happy-path: married couple in one household (notary checks)",
        ..base("married-wife", MARRIED_WIFE, "Trần Thị Mai", (1992, 8, 22))
    },
    PersonaSpec {
        vneid: Vneid::None,
        parents: Some((HAPPY_PATH, MARRIED_WIFE)),
        household: Some((HAPPY_PATH, "Con")),
        use_for: "minor under 14: ID number, no card, no VNeID account of his own",
        ..base(
            "minor-no-card",
            MINOR_NO_CARD,
            "Nguyễn Minh Khang",
            (2017, 9, 5),
        )
    },
    PersonaSpec {
        home: ("26740", "Số 45 đường Lê Lợi"),
        cards: &[(2021, 9, 15)],
        vneid: Vneid::Level1,
        use_for: "VNeID level 1 only: refused where level 2 is required",
        ..base("vneid-level-1", VNEID_LEVEL_1, "Lê Thị Hoa", (1995, 11, 12))
    },
    PersonaSpec {
        home: ("11296", "Tổ 5, Khu phố 2"),
        cards: &[(2021, 4, 20)],
        old_cmnd: Some("031245678"),
        vneid: Vneid::None,
        use_for: "no VNeID account",
        ..base("no-vneid", NO_VNEID, "Phạm Văn Nam", (1975, 2, 3))
    },
    PersonaSpec {
        home: ("20194", "Số 8 đường Nguyễn Văn Cừ"),
        cards: &[(2021, 5, 20)],
        use_for: "card expired: issued at 20, the renewal at 25 was missed",
        ..base("card-expired", CARD_EXPIRED, "Đặng Thị Thu", (2000, 8, 12))
    },
    PersonaSpec {
        home: ("14755", "Số 30 đường Bà Triệu"),
        cards: &[(2021, 3, 18), (2026, 7, 20)],
        old_cmnd: Some("173456789"),
        use_for: "card lost and replaced: the 2021 card is superseded by a 2026 Căn cước, valid to 60",
        ..base(
            "card-replaced",
            CARD_REPLACED,
            "Hoàng Văn Tuấn",
            (1988, 6, 30),
        )
    },
    PersonaSpec {
        home: ("16663", "Số 3 đường Lê Duẩn"),
        cards: &[(2021, 6, 1)],
        old_cmnd: Some("180123456"),
        vneid: Vneid::None,
        insured: false,
        died: Some((2025, 12, 3)),
        use_for: "deceased: death registered, card voided",
        ..base("deceased", DECEASED, "Trần Văn Phúc", (1945, 4, 14))
    },
    PersonaSpec {
        home: ("13636", "Số 17 đường Trần Hưng Đạo"),
        cards: &[(2024, 9, 5)],
        religion: "Công giáo",
        use_for: "new Căn cước card issued in 2024 at 14",
        ..base("can-cuoc-2024", CAN_CUOC_2024, "Vũ Ngọc Anh", (2010, 8, 20))
    },
    PersonaSpec {
        home: ("22879", "Thôn 1"),
        cards: &[(2021, 4, 15)],
        old_cmnd: Some("264123456"),
        use_for: "old 9-digit CMND still on the QR code; Ninh Thuận address in pre-2025 units",
        ..base("old-cmnd", OLD_CMND, "Nguyễn Văn An", (1991, 1, 1))
    },
    PersonaSpec {
        home: ("22759", "Số 21 đường Thống Nhất"),
        cards: &[(2024, 3, 12)],
        moved_to: Some(("22366", "Số 25 đường Trần Phú", (2025, 9, 15))),
        use_for: "moved to Nha Trang after the 2025 merger: the address on the valid card's QR code is stale",
        ..base(
            "moved-after-merger",
            MOVED_AFTER_MERGER,
            "Lê Thị Ngọc Hân",
            (1985, 10, 7),
        )
    },
    PersonaSpec {
        ethnicity: "Chăm",
        religion: "Bà-la-môn",
        home: ("22870", "Khu phố 5"),
        cards: &[(2021, 4, 2), (2026, 6, 8)],
        use_for: "Chăm citizen of Ninh Thuận, Brahmanist",
        ..base("cham", CHAM, "Đàng Năng Thọ", (1988, 5, 19))
    },
    PersonaSpec {
        ethnicity: "Raglai",
        home: ("22783", "Thôn Ma Oai"),
        cards: &[(2021, 11, 23)],
        vneid: Vneid::Level1,
        use_for: "Raglai citizen of Ninh Thuận (Bác Ái)",
        ..base("raglai", RAGLAI, "Chamaléa Thị Hồng", (1997, 2, 14))
    },
    PersonaSpec {
        home: ("00166", "Số 9 ngõ 68 Trần Thái Tông"),
        cards: &[(2021, 8, 9)],
        use_for: "name differs only in diacritics from name-twin-ha-dot (Hà / Hạ)",
        ..base("name-twin-ha", NAME_TWIN_HA, "Nguyễn Thị Hà", (1996, 1, 15))
    },
    PersonaSpec {
        home: ("00166", "Số 11 ngõ 68 Trần Thái Tông"),
        cards: &[(2021, 8, 9)],
        use_for: "name differs only in diacritics from name-twin-ha (Hạ / Hà)",
        ..base(
            "name-twin-ha-dot",
            NAME_TWIN_HA_DOT,
            "Nguyễn Thị Hạ",
            (1996, 7, 7),
        )
    },
    PersonaSpec {
        home: ("25993", "Số 102 đường Đồng Khởi"),
        cards: &[(2021, 10, 12)],
        old_cmnd: Some("271234567"),
        insured: false,
        use_for: "no health insurance",
        ..base(
            "no-health-insurance",
            NO_HEALTH_INSURANCE,
            "Bùi Văn Lộc",
            (1982, 12, 1),
        )
    },
    PersonaSpec {
        home: ("31117", "Số 56 đường Trần Văn Khéo"),
        cards: &[(2022, 1, 17)],
        card_revoked: true,
        use_for: "card revoked by the police",
        ..base("card-revoked", CARD_REVOKED, "Lý Minh Tâm", (1991, 3, 9))
    },
    PersonaSpec {
        home: ("12436", "Số 7 đường Lý Bôn"),
        cards: &[(2018, 5, 14)],
        old_cmnd: Some("151234567"),
        cmnd_issued: Some((2006, 11, 2)),
        vneid: Vneid::None,
        use_for: "barcode CCCD (2018, no chip, no QR code) still valid: no VNeID account",
        ..base("barcode-cccd", BARCODE_CCCD, "Đỗ Thị Lan", (1991, 9, 20))
    },
    PersonaSpec {
        home: ("16744", "Thôn 3"),
        old_cmnd: Some("186543210"),
        cmnd_issued: Some((2012, 8, 10)),
        vneid: Vneid::None,
        use_for: "only an old 9-digit CMND (2012), invalid since 1 January 2025: no QR code",
        ..base("cmnd-only", CMND_ONLY, "Hồ Văn Sáu", (1950, 4, 2))
    },
    PersonaSpec {
        home: ("00004", "Số 21 phố Trấn Vũ"),
        cards: &[(2021, 4, 10)],
        old_cmnd: Some(CMND_12),
        cmnd_issued: Some((2014, 6, 18)),
        use_for: "a 12-digit CMND (Hà Nội, 2014) whose number is the ID number, then a chip CCCD: no separate old number, QR field 2 empty",
        ..base("cmnd-12", CMND_12, "Trịnh Quang Huy", (1996, 2, 14))
    },
    PersonaSpec {
        home: ("26737", "Số 12 đường Đinh Tiên Hoàng"),
        cards: &[(2021, 8, 23)],
        use_for: "VNeID level 2 account locked after 5 wrong passwords: every sign-in fails with ACCOUNT_LOCKED until the account is unlocked",
        ..base(
            "vneid-locked",
            VNEID_LOCKED,
            "Trương Minh Khôi",
            (1993, 6, 30),
        )
    },
    PersonaSpec {
        home: ("00160", "Số 8 ngõ 68 đường Cầu Giấy"),
        cards: &[(2021, 10, 4)],
        use_for: "VNeID level 2 account whose holder rejects every approval asked in the app (APPROVAL_REJECTED); password and one-time code work",
        ..base(
            "vneid-app-rejects",
            VNEID_APP_REJECTS,
            "Đinh Thị Ngọc Ánh",
            (1995, 12, 11),
        )
    },
    PersonaSpec {
        home: ("00187", "Số 15 ngõ 1194 đường Láng"),
        cards: &[(2021, 5, 6)],
        old_cmnd: Some("012876543"),
        insurance_group: Some("HT"),
        marital: Some(Marital::Widowed),
        household: Some((RETIREE_HT, "Chủ hộ")),
        use_for: "retiree: health insurance of group HT, benefit level 3 (95%); card issued after 60, no expiry; head of a three-generation household",
        ..base("retiree-ht", RETIREE_HT, "Phạm Văn Thành", (1956, 4, 10))
    },
    PersonaSpec {
        home: ("00187", "Số 15 ngõ 1194 đường Láng"),
        cards: &[(2024, 5, 20)],
        marital: Some(Marital::Divorced),
        parents: Some((RETIREE_HT, "")),
        household: Some((RETIREE_HT, "Con")),
        use_for: "three-generation household: son of the head (retiree-ht) and father of grandchild, all in one household",
        ..base(
            "three-generations",
            THREE_GENERATIONS,
            "Phạm Văn Đức",
            (1986, 2, 11),
        )
    },
    PersonaSpec {
        home: ("00187", "Số 15 ngõ 1194 đường Láng"),
        vneid: Vneid::None,
        parents: Some((THREE_GENERATIONS, "")),
        household: Some((RETIREE_HT, "Cháu")),
        use_for: "grandchild of the household head in a three-generation household; under 14, no card",
        ..base("grandchild", GRANDCHILD, "Phạm Ngọc Diệp", (2018, 4, 22))
    },
    PersonaSpec {
        home: ("00187", "Số 4 ngõ 20 đường Láng"),
        cards: &[(2021, 8, 16)],
        use_for: "a four-word Kinh name (two middle names): matching and MRZ form of names longer than three words",
        ..base(
            "four-word-name",
            FOUR_WORD_NAME,
            "Nguyễn Thị Thu Hà",
            (1993, 6, 18),
        )
    },
    PersonaSpec {
        home: ("00187", "Số 8 ngõ 20 đường Láng"),
        cards: &[(2025, 2, 14)],
        vneid: Vneid::None,
        use_for: "child under 14 with a Căn cước issued on application at 5: no portrait or fingerprints, valid to 14",
        ..base(
            "child-with-card",
            CHILD_WITH_CARD,
            "Trần Gia Bảo",
            (2019, 10, 2),
        )
    },
];

/// The personas, indexed by ID number.
#[derive(Debug)]
pub struct Personas {
    by_id: HashMap<CitizenId, usize>,
}

fn ymd((y, m, d): (i32, u8, u8)) -> Date {
    Month::try_from(m)
        .ok()
        .and_then(|m| Date::from_calendar_date(y, m, d).ok())
        .unwrap_or(Date::MIN)
}

impl Personas {
    /// Indexes the persona table.
    pub fn build() -> Self {
        let by_id = PERSONAS
            .iter()
            .enumerate()
            .filter_map(|(i, p)| CitizenId::parse_field(p.id, "id").ok().map(|id| (id, i)))
            .collect();
        Personas { by_id }
    }

    /// Every persona's ID number.
    pub fn ids(&self) -> impl Iterator<Item = CitizenId> + '_ {
        self.by_id.keys().copied()
    }

    /// Every persona, in table order.
    pub fn all(&self) -> &'static [PersonaSpec] {
        PERSONAS
    }

    /// The persona with this ID number.
    pub fn get(&self, id: CitizenId) -> Option<&'static PersonaSpec> {
        self.by_id.get(&id).map(|&i| &PERSONAS[i])
    }

    /// A persona's record.
    pub fn person(&self, id: CitizenId, country: &Country) -> Option<Person> {
        let spec = self.get(id)?;
        let units = country.units();
        let reference = country.reference_date();
        let place = |code: &str, street: &str| Place {
            commune: units
                .commune_pre_2025(code)
                .map(CommuneRef::Pre2025)
                .or_else(|| units.commune_2025(code).map(CommuneRef::Current))
                .unwrap_or(CommuneRef::Pre2025(0)),
            street: street.to_owned(),
        };
        let birth = ymd(spec.birth);
        let sex = id.sex();
        let first_home = place(spec.home.0, spec.home.1);
        let (residence, previous) = match spec.moved_to {
            Some((code, street, _)) => (place(code, street), vec![first_home.clone()]),
            None => (first_home.clone(), Vec::new()),
        };
        let life = spec.died.map_or(Life::Alive, |d| Life::Deceased(ymd(d)));
        // A card issued after the reference date does not exist yet.
        let mut cards: Vec<Card> = spec
            .cards
            .iter()
            .filter(|&&d| ymd(d) <= reference)
            .map(|&d| {
                let issued = ymd(d);
                Card {
                    number: spec.id.to_owned(),
                    kind: CardKind::issued_on(issued),
                    issued,
                    expires: card_expiry(birth, issued),
                    standing: CardStanding::Superseded,
                    printed_address: Some(first_home.clone()),
                }
            })
            .collect();
        if let Some(number) = spec.old_cmnd {
            let issued = spec.cmnd_issued.map_or_else(
                || ymd((spec.birth.0 + 16, 3, 1)).max(super::rules::CMND_FROM),
                ymd,
            );
            cards.insert(
                0,
                Card {
                    number: number.to_owned(),
                    kind: CardKind::Cmnd,
                    issued,
                    expires: Some(
                        super::rules::add_years(issued, 15).min(super::rules::CMND_VALID_UNTIL),
                    ),
                    standing: CardStanding::Superseded,
                    printed_address: Some(first_home.clone()),
                },
            );
        }
        if let Some(current) = cards.last_mut() {
            current.standing = if spec.card_revoked || life != Life::Alive {
                CardStanding::Revoked
            } else if current.expires.is_some_and(|e| e < reference) {
                CardStanding::Expired
            } else {
                CardStanding::Valid
            };
        }
        cards.reverse();
        let relative = |rid: &str| {
            let other = CitizenId::parse_field(rid, "id").ok()?;
            let spec = self.get(other)?;
            Some(Relative {
                id: Some(other),
                full_name: spec.name.to_owned(),
                birth_year: spec.birth.0,
            })
        };
        let household = spec.household.and_then(|(head, relation)| {
            let head_rel = relative(head)?;
            let members = PERSONAS
                .iter()
                .filter(|p| p.household.is_some_and(|(h, _)| h == head) && p.died.is_none())
                .filter_map(|p| {
                    Some(Member {
                        id: CitizenId::parse_field(p.id, "id").ok()?,
                        full_name: p.name.to_owned(),
                        relation: p.household.map_or("", |(_, r)| r),
                    })
                })
                .collect();
            Some(Household {
                code: format!("{:012}", head_rel.id.map_or(0, |i| i.value() ^ 0x5A5A_5A5A)),
                head: head_rel.id?,
                head_name: head_rel.full_name,
                relation,
                members,
            })
        });
        let spouse = spec.spouse.and_then(relative);
        let marital = spec.marital.unwrap_or(if spouse.is_some() {
            Marital::Married
        } else {
            Marital::Single
        });
        let residence_province = country.province_2025_of(&residence);
        let insurance = (spec.insured && life == Life::Alive).then(|| {
            let number = format!("{:02}{}", residence_province, &spec.id[4..12]);
            let group = spec
                .insurance_group
                .unwrap_or_else(|| super::facets::persona_group(birth, reference));
            // The same for every seed: drawn from the number alone.
            let mut rng = super::permutation::Stream::new(&[super::S_INSURANCE, id.value()]);
            let (valid_from, valid_to) =
                super::facets::coverage(group, group == "GD", birth, reference, &mut rng);
            Insurance {
                card_code: super::facets::card_code(group, residence_province, &number),
                social_insurance_number: number,
                valid_from,
                valid_to,
                facility_code: format!("{residence_province:02}001"),
            }
        });
        let home_town = Place {
            commune: first_home.commune,
            street: String::new(),
        };
        Some(Person {
            id,
            full_name: spec.name.to_owned(),
            date_of_birth: birth,
            sex,
            ethnicity: spec.ethnicity,
            religion: spec.religion,
            birth_registration: home_town.clone(),
            home_town,
            residence,
            previous_residences: previous,
            life,
            cards,
            // A 12-digit CMND's number is the ID number: no other old number.
            old_id_number: spec.old_cmnd.filter(|n| n.len() == 9).map(str::to_owned),
            marital,
            father: spec.parents.and_then(|(f, _)| relative(f)),
            mother: spec.parents.and_then(|(_, m)| relative(m)),
            married_on: spouse.as_ref().and_then(|s| {
                let own = (id.value(), birth.year());
                let theirs = (s.id.map_or(0, |i| i.value()), s.birth_year);
                let (husband, wife) = if sex == Sex::Male {
                    (own, theirs)
                } else {
                    (theirs, own)
                };
                super::rules::marriage_registered_on(husband, wife, reference)
            }),
            spouse,
            household: if life == Life::Alive { household } else { None },
            vneid: (
                spec.vneid,
                // Registered once the first chip card was in hand.
                (spec.vneid != Vneid::None).then(|| {
                    spec.cards
                        .first()
                        .map_or(ymd((2023, 3, 1)), |&d| ymd(d).max(ymd((2023, 3, 1))))
                }),
            ),
            insurance,
            marks: if (spec.cards.is_empty() && spec.old_cmnd.is_none())
                || super::rules::age_on(birth, reference) < super::rules::CARD_AGE
            {
                String::new()
            } else {
                "Nốt ruồi C:1cm trên đuôi mắt trái".to_owned()
            },
            persona: Some(spec.key),
        })
    }
}
