//! Population statistics of the country, computed from the census without enumerating it.
//!
//! The census knows exactly how many citizens each bucket (province of birth registration ×
//! birth year × sex) holds, so counts by province, sex and age are sums of bucket sizes: a
//! province costs its 202 buckets, the country 63 times that. Ages are completed years on the
//! reference date, a birth year's cohort split between two ages by the share of the reference
//! year gone (birthdays are spread evenly over a year). What a bucket does not fix, the deaths
//! the database holds and the ethnic groups, are expected counts: each bucket's size times the
//! chance the generator draws them with (the same rates, so the counts agree with the records
//! to within sampling noise, and exactly on average).

use sandbox06_vn::Sex;

use crate::{Country, MAX_AGE, rules::annual_mortality};

/// Counts of one cohort: the citizens of one pre-2025 province, birth year and sex.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cohort {
    /// Birth year.
    pub year: i32,
    /// Sex.
    pub sex: Sex,
    /// Citizens on record (alive or with a registered death).
    pub registered: u64,
    /// Of them, expected number with a death registered (in the last five years).
    pub deceased: f64,
    /// Share of the cohort aged `reference year − year` on the reference date; the rest is a
    /// year younger.
    pub older_share: f64,
}

impl Country {
    /// The cohorts of the pre-2025 province `code` (with those registered there under the
    /// 2025 province's prefix), oldest first; empty for a code no province has.
    pub fn cohorts(&self, code: u8) -> Vec<Cohort> {
        let Some(province) = self.units.province_position(u16::from(code)) else {
            return Vec::new();
        };
        let reference_year = self.reference.year();
        let gone = f64::from(self.reference.ordinal())
            / f64::from(time::util::days_in_year(reference_year));
        let mut out = Vec::with_capacity(self.years() * 2);
        for year in self.min_year..=reference_year {
            let age = reference_year - year;
            // Deaths are drawn from the exact age; the cohort's two ages weighted.
            let older = if age == 0 { 1.0 } else { gone };
            let dead = older * death_share(age) + (1.0 - older) * death_share(age - 1);
            for sex in [Sex::Male, Sex::Female] {
                let registered = u64::from(self.bucket_size(province, year, sex));
                out.push(Cohort {
                    year,
                    sex,
                    registered,
                    deceased: registered as f64 * dead,
                    older_share: older,
                });
            }
        }
        out
    }

    /// The ethnic groups of the pre-2025 province `code` and their shares (0–1), Kinh the rest,
    /// as the generator draws lineages.
    pub fn ethnic_shares(&self, code: u8) -> Vec<(&'static str, f64)> {
        let Some(province) = self.units.province(u16::from(code)) else {
            return Vec::new();
        };
        let others: Vec<(&'static str, f64)> = province
            .ethnicities
            .iter()
            .map(|&(group, percent)| (group, percent / 100.0))
            .collect();
        let kinh = (1.0 - others.iter().map(|(_, s)| s).sum::<f64>()).max(0.0);
        std::iter::once(("Kinh", kinh)).chain(others).collect()
    }

    /// The oldest age on record.
    pub fn max_age(&self) -> i32 {
        MAX_AGE
    }
}

/// The chance that a citizen of `age` on the reference date has a registered death on record
/// ([`Country::life_of`]'s draw).
fn death_share(age: i32) -> f64 {
    if age < 45 {
        0.0
    } else {
        (5.0 * annual_mortality(age)).min(0.9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::View;
    use time::macros::date;

    #[test]
    fn cohorts_sum_to_the_census_of_the_province() {
        let country = Country::new(7, 200_000, date!(2026 - 03 - 01));
        for code in [1u8, 58, 96] {
            let sum: u64 = country.cohorts(code).iter().map(|c| c.registered).sum();
            let range = country.province_range(u16::from(code)).expect("province");
            assert_eq!(sum, range.end - range.start, "province {code}");
        }
        assert!(country.cohorts(99).is_empty());
    }

    #[test]
    fn expected_deaths_agree_with_the_records() {
        let country = Country::new(11, 300_000, date!(2026 - 03 - 01));
        let range = country.province_range(1).expect("Hà Nội");
        let expected: f64 = country.cohorts(1).iter().map(|c| c.deceased).sum();
        let counted = range
            .clone()
            .filter_map(|i| country.citizen_at(i))
            .filter_map(|id| country.person(id, View::Identity))
            .filter(|p| !p.is_alive())
            .count() as f64;
        // Within five standard deviations of a binomial count.
        let sigma = expected.sqrt().max(1.0);
        assert!(
            (counted - expected).abs() < 5.0 * sigma,
            "counted {counted}, expected {expected:.1}"
        );
    }

    #[test]
    fn ethnic_shares_sum_to_one() {
        let country = Country::new(7, 1_000, date!(2026 - 03 - 01));
        let shares = country.ethnic_shares(58);
        let total: f64 = shares.iter().map(|(_, s)| s).sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert!(shares.iter().any(|(g, _)| *g == "Chăm"));
    }
}
