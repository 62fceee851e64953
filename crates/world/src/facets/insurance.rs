//! The health insurance facet: the card Vietnam Social Security holds for a citizen.

use sandbox06_vn::CitizenId;
use time::{Date, Month};

use crate::{Country, S_INSURANCE, View, person::Insurance, rules::age_on};

/// Benefit level (the card code's third character) of each beneficiary group, VSS Decision
/// 1351/QĐ-BHXH: 1 = 100% without ceiling, 2 = 100% with ceiling, 3 = 95%, 4 = 80%,
/// 5 = 100% (armed forces).
pub const BENEFIT_LEVELS: &[(u8, &[&str])] = &[
    (1, &["CC", "TE"]),
    (2, &["CK", "CB", "KC", "HN", "DT", "DK", "XD", "BT", "TS"]),
    (3, &["HT", "TC", "CN"]),
    (
        4,
        &[
            "DN", "HX", "CH", "NN", "HC", "XK", "TN", "CS", "HS", "SV", "GD",
        ],
    ),
    (5, &["QN", "CA", "CY"]),
];

/// The benefit level of a beneficiary group, `None` for a group not in the table.
pub fn benefit_level(group: &str) -> Option<u8> {
    BENEFIT_LEVELS
        .iter()
        .find(|(_, groups)| groups.contains(&group))
        .map(|&(level, _)| level)
}

/// A legacy 15-character card code: group, benefit level, province, social insurance number.
pub(crate) fn card_code(group: &str, province: u8, number: &str) -> String {
    let level = benefit_level(group).unwrap_or(4);
    format!("{group}{level}{province:02}{number}")
}

impl Country {
    /// The citizen's health insurance card, `None` when the number is no one's or the citizen
    /// is not insured. The card carries the province of residence, so the household is
    /// computed for it.
    pub fn health_insurance(&self, id: CitizenId) -> Option<Insurance> {
        self.person(id, View::Full)?.insurance
    }

    pub(crate) fn insurance(
        &self,
        id: CitizenId,
        birth: Date,
        residence_province: u8,
    ) -> Option<Insurance> {
        let mut rng = self.stream(S_INSURANCE, id);
        if !rng.chance(0.93) {
            return None;
        }
        let age = age_on(birth, self.reference);
        let group = match age {
            ..6 => "TE",
            6..18 => "HS",
            18..60 => rng.weighted(&[("GD", 45.0), ("DN", 40.0), ("HC", 10.0), ("CK", 5.0)]),
            _ => rng.weighted(&[("HT", 50.0), ("GD", 40.0), ("BT", 10.0)]),
        };
        let number = format!("{:02}{:08}", residence_province, rng.below(100_000_000));
        let year = self.reference.year();
        Some(Insurance {
            card_code: card_code(group, residence_province, &number),
            social_insurance_number: number,
            valid_from: Date::from_calendar_date(year, Month::January, 1).unwrap_or(self.reference),
            valid_to: Date::from_calendar_date(year, Month::December, 31).unwrap_or(self.reference),
            facility_code: format!("{:02}{:03}", residence_province, 1 + rng.below(120)),
        })
    }
}
