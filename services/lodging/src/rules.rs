//! The rules a declaration is judged by: the deadline (Circular 55/2021), and the findings
//! about its guests. A facility declares whoever stays, so no finding refuses a declaration:
//! they are recorded with it, as the police would see them.

use sandbox06_proto::{
    citizen::FieldVerdict,
    dates::time_to_proto,
    lodging::{self as pb, DeadlineVerdict, FindingType},
};
use sandbox06_vn::CivilDate;
use time::{Duration, OffsetDateTime, Time, UtcOffset};

/// Vietnam's time (UTC+7, no daylight saving).
pub fn vietnam() -> UtcOffset {
    UtcOffset::from_hms(7, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// Below this age on the arrival day a guest is a child who stays with an adult.
pub const CHILD_UNDER: i32 = 14;
/// From this age a guest is an adult.
pub const ADULT_FROM: i32 = 18;

/// The deadline of a declaration of guests arriving at `arrival`: 23:00 of the arrival day in
/// Vietnam; for an arrival at 23:00 or later, 08:00 the next day.
pub fn deadline(arrival: OffsetDateTime) -> OffsetDateTime {
    let local = arrival.to_offset(vietnam());
    let eleven = Time::from_hms(23, 0, 0).unwrap_or(Time::MIDNIGHT);
    let eight = Time::from_hms(8, 0, 0).unwrap_or(Time::MIDNIGHT);
    if local.time() < eleven {
        local.replace_time(eleven)
    } else {
        (local + Duration::days(1)).replace_time(eight)
    }
}

/// The deadline check of a declaration first recorded at `declared` for guests arriving at
/// `arrival`.
pub fn deadline_check(arrival: OffsetDateTime, declared: OffsetDateTime) -> pb::DeadlineCheck {
    let deadline = deadline(arrival);
    let verdict = if declared < deadline {
        DeadlineVerdict::OnTime
    } else {
        DeadlineVerdict::Late
    };
    pb::DeadlineCheck {
        deadline: Some(time_to_proto(deadline)),
        declared_time: Some(time_to_proto(declared)),
        verdict: verdict as i32,
    }
}

/// Whole years from `born` to `on`.
pub fn age_on(born: CivilDate, on: CivilDate) -> i32 {
    let mut years = on.year() - born.year();
    if (on.month() as u8, on.day()) < (born.month() as u8, born.day()) {
        years -= 1;
    }
    years
}

/// What the citizen service said of a citizen guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CitizenCheck {
    /// No citizen has the ID number.
    NotFound,
    /// The record, compared.
    Found {
        /// The citizen's death is recorded.
        deceased: bool,
        /// The declared name against the record's.
        name: FieldVerdict,
        /// The declared date of birth against the record's.
        date_of_birth: FieldVerdict,
    },
}

/// What the rules know of one guest.
#[derive(Clone, Debug)]
pub struct Judged<'a> {
    /// The guest.
    pub guest: &'a pb::Guest,
    /// Its date of birth as declared.
    pub born: Option<CivilDate>,
    /// For a citizen, what the citizen service said.
    pub check: Option<&'a CitizenCheck>,
    /// Whether another facility declares the guest for a night this stay overlaps.
    pub overlapping: bool,
    /// For a foreigner, the last day of the permitted stay.
    pub permitted_until: Option<CivilDate>,
}

fn finding(kind: FindingType, guest: &pb::Guest, field: &str, message: String) -> pb::Finding {
    pb::Finding {
        r#type: kind as i32,
        guest_id: guest.guest_id.clone(),
        field: field.to_owned(),
        message,
    }
}

/// The findings about `guests` staying from `arrival` to `departure`, in guest order.
pub fn findings(
    guests: &[Judged<'_>],
    arrival: OffsetDateTime,
    departure: OffsetDateTime,
) -> Vec<pb::Finding> {
    let arrival_day = arrival.to_offset(vietnam()).date();
    let departure_day = departure.to_offset(vietnam()).date();
    let has_adult = guests
        .iter()
        .any(|g| g.born.is_some_and(|b| age_on(b, arrival_day) >= ADULT_FROM));
    let mut out = Vec::new();
    for g in guests {
        let identity = match &g.guest.identity {
            Some(pb::guest::Identity::Foreigner(_)) => "foreigner",
            _ => "citizen",
        };
        match g.check {
            Some(CitizenCheck::NotFound) => out.push(finding(
                FindingType::CitizenNotFound,
                g.guest,
                "citizen.citizen_id",
                "no citizen has this ID number".to_owned(),
            )),
            Some(CitizenCheck::Found {
                deceased,
                name,
                date_of_birth,
            }) => {
                if *deceased {
                    out.push(finding(
                        FindingType::CitizenDeceased,
                        g.guest,
                        "citizen.citizen_id",
                        "the death of the citizen with this ID number is recorded".to_owned(),
                    ));
                }
                if matches!(
                    name,
                    FieldVerdict::Mismatch | FieldVerdict::MatchIgnoringDiacritics
                ) {
                    out.push(finding(
                        FindingType::NameMismatch,
                        g.guest,
                        "citizen.full_name",
                        if *name == FieldVerdict::MatchIgnoringDiacritics {
                            "the name matches the record only without its diacritics: look at the document again"
                        } else {
                            "the name contradicts the population database's record"
                        }
                        .to_owned(),
                    ));
                }
                if *date_of_birth == FieldVerdict::Mismatch {
                    out.push(finding(
                        FindingType::BirthDateMismatch,
                        g.guest,
                        "citizen.date_of_birth",
                        "the date of birth contradicts the population database's record".to_owned(),
                    ));
                }
            }
            None => {}
        }
        if g.overlapping {
            out.push(finding(
                FindingType::OverlappingStay,
                g.guest,
                "",
                "another facility declares this guest for a night this stay overlaps".to_owned(),
            ));
        }
        if let Some(born) = g.born {
            let age = age_on(born, arrival_day);
            if age < CHILD_UNDER && !has_adult {
                out.push(finding(
                    FindingType::MinorWithoutAdult,
                    g.guest,
                    &format!("{identity}.date_of_birth"),
                    format!(
                        "a child of {age} on the arrival day with no guest of {ADULT_FROM} or more in the declaration"
                    ),
                ));
            }
        }
        if let Some(until) = g.permitted_until
            && until < departure_day
        {
            out.push(finding(
                FindingType::StayPermitEndsBeforeDeparture,
                g.guest,
                "foreigner.stay_permitted_until",
                format!("the permitted stay ends on {until}, before the expected departure on {departure_day}"),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_deadline_is_23_00_or_08_00_the_next_day() {
        // 14:00 in Vietnam: 23:00 the same day.
        let arrival = datetime!(2026-11-27 07:00 UTC);
        assert_eq!(deadline(arrival), datetime!(2026-11-27 23:00 +7));
        // 23:30 in Vietnam: 08:00 the next day.
        let late = datetime!(2026-11-27 16:30 UTC);
        assert_eq!(deadline(late), datetime!(2026-11-28 08:00 +7));
        // 00:30 in Vietnam is a new day: 23:00 of it.
        let night = datetime!(2026-11-27 17:30 UTC);
        assert_eq!(deadline(night), datetime!(2026-11-28 23:00 +7));
        let check = deadline_check(arrival, datetime!(2026-11-27 23:00 +7));
        assert_eq!(check.verdict, DeadlineVerdict::Late as i32);
        let check = deadline_check(arrival, datetime!(2026-11-27 22:59 +7));
        assert_eq!(check.verdict, DeadlineVerdict::OnTime as i32);
    }

    #[test]
    fn ages_count_whole_years() {
        let born = time::macros::date!(2012 - 11 - 28);
        assert_eq!(age_on(born, time::macros::date!(2026 - 11 - 27)), 13);
        assert_eq!(age_on(born, time::macros::date!(2026 - 11 - 28)), 14);
    }

    #[test]
    fn a_child_alone_is_found_and_a_family_is_not() {
        let child = pb::Guest {
            guest_id: "g1".to_owned(),
            ..pb::Guest::default()
        };
        let parent = pb::Guest {
            guest_id: "g2".to_owned(),
            ..pb::Guest::default()
        };
        let arrival = datetime!(2026-11-27 07:00 UTC);
        let departure = datetime!(2026-11-29 05:00 UTC);
        let alone = [Judged {
            guest: &child,
            born: Some(time::macros::date!(2016 - 01 - 01)),
            check: None,
            overlapping: false,
            permitted_until: None,
        }];
        let found = findings(&alone, arrival, departure);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].r#type, FindingType::MinorWithoutAdult as i32);
        let family = [
            alone[0].clone(),
            Judged {
                guest: &parent,
                born: Some(time::macros::date!(1985 - 01 - 01)),
                check: None,
                overlapping: false,
                permitted_until: None,
            },
        ];
        assert!(findings(&family, arrival, departure).is_empty());
    }
}
