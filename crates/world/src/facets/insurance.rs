//! The health insurance facet: the card Vietnam Social Security holds for a citizen.

use sandbox06_vn::CitizenId;
use time::{Date, Month};

use crate::{Country, S_INSURANCE, View, person::Insurance, rules::age_on};

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
        let (group, level) = match age {
            ..6 => ("TE", 1),
            6..18 => ("HS", 4),
            18..60 => rng.weighted(&[
                (("GD", 4), 45.0),
                (("DN", 4), 40.0),
                (("HC", 4), 10.0),
                (("CK", 2), 5.0),
            ]),
            _ => rng.weighted(&[(("HT", 2), 50.0), (("GD", 4), 40.0), (("BT", 1), 10.0)]),
        };
        let number = format!("{:02}{:08}", residence_province, rng.below(100_000_000));
        let year = self.reference.year();
        Some(Insurance {
            card_code: format!("{group}{level}{residence_province:02}{number}"),
            social_insurance_number: number,
            valid_from: Date::from_calendar_date(year, Month::January, 1).unwrap_or(self.reference),
            valid_to: Date::from_calendar_date(year, Month::December, 31).unwrap_or(self.reference),
            facility_code: format!("{:02}{:03}", residence_province, 1 + rng.below(120)),
        })
    }
}
