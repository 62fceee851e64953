//! The rules of the civil status that a life event must keep: a moved citizen's new address,
//! a marriage's parties, a replacement card, a death, a VNeID level, and the order of events.
//!
//! Pure: the records, the events already recorded and the date are given; each refusal is a
//! [`LifeEventError`], which the gRPC adapter turns into a status with the offending field.

use std::fmt;

use sandbox06_proto::{population::life_event::Change, types};
use sandbox06_vn::{CitizenId, CivilDate, Sex, admin::AdminUnits};
use sandbox06_world::{
    Country,
    person::{Marital, Person},
    rules::{CARD_AGE, CHIP_CARDS_FROM, add_years, age_on},
};

/// Longest street part of an address, in characters.
pub const MAX_STREET_CHARS: usize = 200;
/// Age from which a citizen may hold a VNeID account of their own.
const VNEID_AGE: i32 = 14;

/// A party to a marriage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    /// The citizen the event is recorded for.
    Citizen,
    /// The citizen named as the spouse.
    Spouse,
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Party::Citizen => "the citizen",
            Party::Spouse => "the spouse",
        })
    }
}

/// Why a life event cannot be recorded; the text says what to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LifeEventError {
    /// The citizen (or the spouse) already has the most recorded events the sandbox keeps.
    #[error(
        "already has {max} recorded life events, the most the sandbox keeps for one citizen; reset the sandbox (POST /v1/admin:reset, sandbox06 reset) or use another citizen"
    )]
    HistoryFull {
        /// Whose history is full.
        party: Party,
        /// The most events kept per citizen.
        max: usize,
    },
    /// The event is dated before the citizen's birth or after today.
    #[error("must lie between the date of birth and today ({reference}), got {on}")]
    DateOutOfRange {
        /// Today.
        reference: CivilDate,
        /// The event's date.
        on: CivilDate,
    },
    /// The citizen's death is registered.
    #[error("the citizen's death is registered: no later change is possible")]
    CitizenDeceased,
    /// The event is dated before the citizen's latest recorded change.
    #[error("must not be before the citizen's latest recorded change ({latest}), got {on}")]
    BeforeLatestChange {
        /// The latest recorded change.
        latest: CivilDate,
        /// The event's date.
        on: CivilDate,
    },
    /// The event says nothing changed.
    #[error("is required: moved, married, card_replaced, died or vneid_changed")]
    ChangeMissing,
    /// A move names no commune of either era.
    #[error("must be a 5-digit GSO commune code of either era, got {code}")]
    UnknownCommune {
        /// The code given.
        code: String,
    },
    /// A move has no street.
    #[error("is required: house number and street or hamlet")]
    StreetMissing,
    /// A move's street is too long.
    #[error("must be at most {MAX_STREET_CHARS} characters, got {count}")]
    StreetTooLong {
        /// Its length in characters.
        count: usize,
    },
    /// A move's street holds the card QR's field separator.
    #[error("must not contain '|': it separates the fields of the card's QR code")]
    StreetWithSeparator,
    /// A move's street is not one line.
    #[error("must be one line without control characters, found U+{:04X}", u32::from(*found))]
    StreetWithControl {
        /// The first control character.
        found: char,
    },
    /// A card replacement for a citizen without a current card.
    #[error("the citizen has no current card to replace: a first card is issued, not replaced")]
    NoCardToReplace,
    /// A replacement card dated before it could be issued.
    #[error("a replacement card must be dated on or after {earliest} ({because}), got {on}")]
    ReplacementTooEarly {
        /// The earliest possible date.
        earliest: CivilDate,
        /// What makes it the earliest.
        because: &'static str,
        /// The event's date.
        on: CivilDate,
    },
    /// A death dated before the current card was issued.
    #[error("a death must be dated on or after the current card's issue date ({issued}), got {on}")]
    DeathBeforeCard {
        /// The current card's issue date.
        issued: CivilDate,
        /// The event's date.
        on: CivilDate,
    },
    /// A VNeID change without a level.
    #[error("must be VNEID_LEVEL_NONE, VNEID_LEVEL_1 or VNEID_LEVEL_2")]
    VneidLevelUnspecified,
    /// A VNeID account for a child under 14.
    #[error("VNeID accounts start at 14; younger children are attached to a parent")]
    VneidTooYoung,
    /// A marriage to oneself.
    #[error("must be another citizen's number, not the citizen's own")]
    OwnNumberAsSpouse,
    /// A marriage of two citizens of the same sex.
    #[error("must be a citizen of the other sex (Law on Marriage and Family 2014)")]
    SameSex,
    /// A party to a marriage is dead.
    #[error("{party} is deceased: both parties to a marriage must be alive")]
    Deceased {
        /// Which party.
        party: Party,
    },
    /// A party to a marriage is married.
    #[error(
        "{party} is already married: the death of the current spouse or a divorce must be registered first"
    )]
    AlreadyMarried {
        /// Which party.
        party: Party,
    },
    /// A party to a marriage is under the marriageable age.
    #[error(
        "{party} is under the marriageable age: {age} on {on}, {who} must be at least {min} (Law on Marriage and Family 2014)"
    )]
    UnderMarriageableAge {
        /// Which party.
        party: Party,
        /// The party's age on the date.
        age: i32,
        /// The marriage's date.
        on: CivilDate,
        /// "men" or "women".
        who: &'static str,
        /// The marriageable age of the party's sex.
        min: i32,
    },
    /// The parties are of one blood: the direct line, or kin within three generations.
    #[error(
        "must not be of one blood with the citizen: of the direct line, or sharing a parent or a grandparent (Law on Marriage and Family 2014 art. 5(2)(d))"
    )]
    OfOneBlood,
    /// A marriage dated before the spouse's latest recorded change.
    #[error("must not be before the spouse's latest recorded change ({latest}), got {on}")]
    BeforeSpouseLatestChange {
        /// The spouse's latest recorded change.
        latest: CivilDate,
        /// The event's date.
        on: CivilDate,
    },
}

/// The most life events the sandbox keeps per citizen: one citizen's history (and the record
/// computed from it) stays small, whatever a test script records.
pub const MAX_EVENTS_PER_CITIZEN: usize = 100;

/// Refuses an event for `party`, who already has `recorded` events, when the history is full.
pub fn check_history(party: Party, recorded: usize) -> Result<(), LifeEventError> {
    if recorded >= MAX_EVENTS_PER_CITIZEN {
        return Err(LifeEventError::HistoryFull {
            party,
            max: MAX_EVENTS_PER_CITIZEN,
        });
    }
    Ok(())
}

/// Checks the date of any event: within the citizen's life, alive, not before the latest change.
pub fn check_date(
    person: &Person,
    on: CivilDate,
    reference: CivilDate,
    latest: Option<CivilDate>,
) -> Result<(), LifeEventError> {
    if on < person.date_of_birth || on > reference {
        return Err(LifeEventError::DateOutOfRange { reference, on });
    }
    if !person.is_alive() {
        return Err(LifeEventError::CitizenDeceased);
    }
    if let Some(latest) = latest
        && on < latest
    {
        return Err(LifeEventError::BeforeLatestChange { latest, on });
    }
    Ok(())
}

/// Checks a change on `on` other than a marriage (see [`check_marriage`], which needs the
/// spouse's record); a missing change is refused.
pub fn check_change(
    change: Option<&Change>,
    person: &Person,
    on: CivilDate,
    reference: CivilDate,
    units: &AdminUnits,
) -> Result<(), LifeEventError> {
    match change {
        None => Err(LifeEventError::ChangeMissing),
        Some(Change::Moved(m)) => {
            if units.commune_2025(&m.commune_code).is_none()
                && units.commune_pre_2025(&m.commune_code).is_none()
            {
                return Err(LifeEventError::UnknownCommune {
                    code: sandbox06_vn::echo(&m.commune_code),
                });
            }
            check_street(&m.street)
        }
        Some(Change::Married(_)) => Ok(()),
        Some(Change::CardReplaced(_)) => check_card_replaced(person, on),
        Some(Change::Died(_)) => check_died(person, on),
        Some(Change::VneidChanged(v)) => check_vneid(person, v.level, reference),
    }
}

/// Checks the street part of a new address.
pub fn check_street(street: &str) -> Result<(), LifeEventError> {
    if street.trim().is_empty() {
        return Err(LifeEventError::StreetMissing);
    }
    let count = street.chars().count();
    if count > MAX_STREET_CHARS {
        return Err(LifeEventError::StreetTooLong { count });
    }
    if street.contains('|') {
        return Err(LifeEventError::StreetWithSeparator);
    }
    if let Some(found) = street.chars().find(|c| c.is_control()) {
        return Err(LifeEventError::StreetWithControl { found });
    }
    Ok(())
}

/// Checks a replacement of the current card on `on`.
fn check_card_replaced(person: &Person, on: CivilDate) -> Result<(), LifeEventError> {
    let Some(card) = person.current_card() else {
        return Err(LifeEventError::NoCardToReplace);
    };
    let fourteen = add_years(person.date_of_birth, CARD_AGE);
    let (earliest, because) = [
        (fourteen, "the citizen's 14th birthday"),
        (CHIP_CARDS_FROM, "the first chip cards"),
        (card.issued, "the current card's issue date"),
    ]
    .into_iter()
    .max_by_key(|(d, _)| *d)
    .unwrap_or((card.issued, ""));
    if on < earliest {
        return Err(LifeEventError::ReplacementTooEarly {
            earliest,
            because,
            on,
        });
    }
    Ok(())
}

/// Checks a death on `on`.
fn check_died(person: &Person, on: CivilDate) -> Result<(), LifeEventError> {
    if let Some(card) = person.current_card()
        && on < card.issued
    {
        return Err(LifeEventError::DeathBeforeCard {
            issued: card.issued,
            on,
        });
    }
    Ok(())
}

/// Checks a change of VNeID level (its wire value).
fn check_vneid(person: &Person, level: i32, reference: CivilDate) -> Result<(), LifeEventError> {
    let level = types::VneidLevel::try_from(level).unwrap_or(types::VneidLevel::Unspecified);
    if level == types::VneidLevel::Unspecified {
        return Err(LifeEventError::VneidLevelUnspecified);
    }
    if level != types::VneidLevel::None && age_on(person.date_of_birth, reference) < VNEID_AGE {
        return Err(LifeEventError::VneidTooYoung);
    }
    Ok(())
}

/// Checks the number a marriage names as the spouse, before the spouse is looked up.
pub fn check_spouse_number(person: &Person, spouse: CitizenId) -> Result<(), LifeEventError> {
    if spouse == person.id {
        return Err(LifeEventError::OwnNumberAsSpouse);
    }
    Ok(())
}

/// The spouse of a marriage as the database holds them.
#[derive(Debug, Clone, Copy)]
pub struct Spouse<'a> {
    /// The spouse's record, every recorded change applied.
    pub person: &'a Person,
    /// The date of the spouse's latest recorded change.
    pub latest: Option<CivilDate>,
}

/// Checks that two citizens are not of one blood ([`Country::of_one_blood_ids`]): a marriage
/// between them is forbidden.
pub fn check_blood(country: &Country, a: CitizenId, b: CitizenId) -> Result<(), LifeEventError> {
    if country.of_one_blood_ids(a, b) {
        return Err(LifeEventError::OfOneBlood);
    }
    Ok(())
}

/// Checks a marriage on `on` of `person` to `spouse`.
pub fn check_marriage(
    person: &Person,
    spouse: Spouse<'_>,
    on: CivilDate,
) -> Result<(), LifeEventError> {
    if spouse.person.sex == person.sex {
        return Err(LifeEventError::SameSex);
    }
    for (party, p) in [(Party::Citizen, person), (Party::Spouse, spouse.person)] {
        if !p.is_alive() {
            return Err(LifeEventError::Deceased { party });
        }
        if p.marital == Marital::Married {
            return Err(LifeEventError::AlreadyMarried { party });
        }
        let (min, who) = match p.sex {
            Sex::Male => (20, "men"),
            Sex::Female => (18, "women"),
        };
        let age = age_on(p.date_of_birth, on);
        if age < min {
            return Err(LifeEventError::UnderMarriageableAge {
                party,
                age,
                on,
                who,
                min,
            });
        }
    }
    if let Some(latest) = spouse.latest
        && on < latest
    {
        return Err(LifeEventError::BeforeSpouseLatestChange { latest, on });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use sandbox06_proto::population as pb;
    use sandbox06_world::{Country, View, person::Life};
    use time::macros::date;

    use super::*;

    const TODAY: CivilDate = date!(2026 - 11 - 27);

    fn person(raw: &str) -> Person {
        let country = Country::new(6, 1_000, TODAY);
        let id = CitizenId::parse_field(raw, "id").unwrap();
        country.person(id, View::Full).unwrap()
    }

    /// Married, male, born 1991.
    fn happy() -> Person {
        person("001091012345")
    }

    /// Single, female, born 1995-11-12.
    fn level_1() -> Person {
        person("079195034567")
    }

    /// Single, male, current card issued 2021-04-20.
    fn no_vneid() -> Person {
        person("031075045678")
    }

    /// A boy of 9, without a card.
    fn son() -> Person {
        person("001217067890")
    }

    fn units() -> &'static AdminUnits {
        Country::new(6, 1_000, TODAY).units()
    }

    fn single(p: &Person) -> Spouse<'_> {
        Spouse {
            person: p,
            latest: None,
        }
    }

    #[test]
    fn an_event_lies_within_the_citizens_life_and_after_the_latest_change() {
        let p = no_vneid();
        let born = p.date_of_birth;
        assert!(check_date(&p, TODAY, TODAY, None).is_ok());
        assert_eq!(
            check_date(&p, date!(2026 - 11 - 28), TODAY, None),
            Err(LifeEventError::DateOutOfRange {
                reference: TODAY,
                on: date!(2026 - 11 - 28)
            })
        );
        assert!(matches!(
            check_date(&p, born.previous_day().unwrap(), TODAY, None),
            Err(LifeEventError::DateOutOfRange { .. })
        ));
        let latest = date!(2026 - 03 - 01);
        assert_eq!(
            check_date(&p, date!(2026 - 02 - 01), TODAY, Some(latest)),
            Err(LifeEventError::BeforeLatestChange {
                latest,
                on: date!(2026 - 02 - 01)
            })
        );
        assert!(check_date(&p, latest, TODAY, Some(latest)).is_ok());
        let mut dead = p;
        dead.life = Life::Deceased(date!(2025 - 01 - 01));
        assert_eq!(
            check_date(&dead, TODAY, TODAY, None),
            Err(LifeEventError::CitizenDeceased)
        );
    }

    #[test]
    fn a_move_needs_a_known_commune_and_one_short_street_line() {
        let p = no_vneid();
        let moved = |commune: &str, street: &str| {
            Change::Moved(pb::Moved {
                commune_code: commune.into(),
                street: street.into(),
            })
        };
        let check = |change: Change| check_change(Some(&change), &p, TODAY, TODAY, units());
        assert!(check(moved("22366", "Số 1")).is_ok());
        assert_eq!(
            check(moved("99999", "Số 1")),
            Err(LifeEventError::UnknownCommune {
                code: "\"99999\"".into()
            })
        );
        assert_eq!(
            check(moved("22366", " ")),
            Err(LifeEventError::StreetMissing)
        );
        assert_eq!(
            check(moved("22366", &"x".repeat(201))),
            Err(LifeEventError::StreetTooLong { count: 201 })
        );
        assert_eq!(
            check(moved("22366", "Số 1 | Trần Phú")),
            Err(LifeEventError::StreetWithSeparator)
        );
        let e = check(moved("22366", "Số 1\tTrần Phú")).unwrap_err();
        assert_eq!(e, LifeEventError::StreetWithControl { found: '\t' });
        assert!(e.to_string().ends_with("found U+0009"), "{e}");
        assert_eq!(
            check_change(None, &p, TODAY, TODAY, units()),
            Err(LifeEventError::ChangeMissing)
        );
    }

    #[test]
    fn cards_deaths_and_vneid_levels_follow_their_rules() {
        let p = no_vneid();
        let replaced = Change::CardReplaced(pb::CardReplaced::default());
        let died = Change::Died(pb::Died {});
        let on = date!(2021 - 01 - 01);
        let e = check_change(Some(&replaced), &p, on, TODAY, units()).unwrap_err();
        assert_eq!(
            e,
            LifeEventError::ReplacementTooEarly {
                earliest: date!(2021 - 04 - 20),
                because: "the current card's issue date",
                on
            }
        );
        assert_eq!(
            check_change(Some(&died), &p, on, TODAY, units()),
            Err(LifeEventError::DeathBeforeCard {
                issued: date!(2021 - 04 - 20),
                on
            })
        );
        assert_eq!(
            check_change(Some(&replaced), &son(), TODAY, TODAY, units()),
            Err(LifeEventError::NoCardToReplace)
        );
        let level = |level: types::VneidLevel| {
            Change::VneidChanged(pb::VneidChanged {
                level: level as i32,
            })
        };
        assert_eq!(
            check_change(
                Some(&level(types::VneidLevel::Unspecified)),
                &p,
                TODAY,
                TODAY,
                units()
            ),
            Err(LifeEventError::VneidLevelUnspecified)
        );
        assert_eq!(
            check_change(
                Some(&level(types::VneidLevel::VneidLevel1)),
                &son(),
                TODAY,
                TODAY,
                units()
            ),
            Err(LifeEventError::VneidTooYoung)
        );
        assert!(
            check_change(
                Some(&level(types::VneidLevel::None)),
                &son(),
                TODAY,
                TODAY,
                units()
            )
            .is_ok()
        );
    }

    #[test]
    fn a_marriage_needs_two_free_adults_of_the_other_sex() {
        let (citizen, bride) = (no_vneid(), level_1());
        assert!(check_marriage(&citizen, single(&bride), TODAY).is_ok());
        assert_eq!(
            check_spouse_number(&citizen, citizen.id),
            Err(LifeEventError::OwnNumberAsSpouse)
        );
        assert_eq!(
            check_marriage(&citizen, single(&happy()), TODAY),
            Err(LifeEventError::SameSex)
        );
        assert_eq!(
            check_marriage(&bride, single(&happy()), TODAY),
            Err(LifeEventError::AlreadyMarried {
                party: Party::Spouse
            })
        );
        assert_eq!(
            check_marriage(&happy(), single(&bride), TODAY),
            Err(LifeEventError::AlreadyMarried {
                party: Party::Citizen
            })
        );
        let mut dead = bride.clone();
        dead.life = Life::Deceased(date!(2025 - 01 - 01));
        assert_eq!(
            check_marriage(&citizen, single(&dead), TODAY),
            Err(LifeEventError::Deceased {
                party: Party::Spouse
            })
        );
        let e = check_marriage(&son(), single(&bride), TODAY).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the citizen is under the marriageable age: 9 on 2026-11-27, men must be at least 20 (Law on Marriage and Family 2014)"
        );
        let latest = date!(2026 - 06 - 01);
        let busy = Spouse {
            latest: Some(latest),
            ..single(&bride)
        };
        assert_eq!(
            check_marriage(&citizen, busy, date!(2026 - 05 - 01)),
            Err(LifeEventError::BeforeSpouseLatestChange {
                latest,
                on: date!(2026 - 05 - 01)
            })
        );
    }
}
