//! The health insurance facet: the card Vietnam Social Security holds for a citizen.

use sandbox06_vn::{CitizenId, Sex};
use time::{Date, Duration, Month};

use crate::{
    Country, S_COMMUNE, S_INSURANCE, S_POVERTY, View,
    permutation::{Permutation, Stream, hash_words},
    person::Person,
    person::{CommuneRef, Insurance, Place},
    rules::{add_years, age_on},
};

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

/// Who pays for a card, in the order the Law on Health Insurance (art. 12, as amended by Law
/// 46/2014/QH13) lists the groups: one who belongs to several is insured in the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Payer {
    /// Employee and employer.
    Work,
    /// The social insurance fund (pensions, unemployment benefit).
    SocialInsurance,
    /// The state budget.
    State,
    /// The state budget in part.
    StateSupported,
    /// The household, voluntarily.
    Household,
}

/// The enterprise employees' share of the people of working age (group DN) in the provinces
/// with the most factories and offices, by pre-2025 code (*estimate*: the order follows
/// Vietnam Social Security's counts of compulsory participants by province, the levels are
/// rounded guesses); elsewhere [`dn_share`] gives it from the share of ethnic minorities.
pub const DN_SHARES: &[(u8, f64)] = &[
    (1, 0.33),
    (19, 0.26),
    (22, 0.25),
    (24, 0.26),
    (26, 0.28),
    (27, 0.42),
    (30, 0.26),
    (31, 0.33),
    (33, 0.26),
    (48, 0.33),
    (72, 0.22),
    (74, 0.55),
    (75, 0.42),
    (77, 0.30),
    (79, 0.40),
    (80, 0.30),
];

/// The share of a province's people of working age who work for an enterprise (group DN):
/// [`DN_SHARES`], or 3% plus 14% of the Kinh share of the province (*estimate*: few factories
/// in the mountain provinces).
pub fn dn_share(province: u8, minorities: f64) -> f64 {
    DN_SHARES
        .iter()
        .find(|&&(code, _)| code == province)
        .map_or(0.03 + 0.14 * (1.0 - minorities), |&(_, share)| share)
}

/// The share of a province's communes that are difficult (region II or III of the ethnic
/// minority and mountain areas, Decision 861/QĐ-TTg), per unit of the province's share of
/// ethnic minorities (Hoa not counted), at most 90% (*estimate*: the regions are listed commune
/// by commune; no province shares were taken from the list).
pub const DIFFICULT_PER_MINORITY: f64 = 1.1;
/// Of the difficult communes, the share that are especially difficult (*estimate*).
pub const ESPECIALLY_DIFFICULT: f64 = 0.7;

/// The purpose the social insurance numbers' permutation is keyed with.
const S_INSURANCE_NUMBER: u64 = 0x4248_5954;
/// Serials of one ID-number prefix: the number's last six digits.
const SERIALS_PER_PREFIX: u64 = 1_000_000;
/// Values of a social insurance number's last eight digits.
const INSURANCE_SERIALS: u64 = 100_000_000;

impl Country {
    /// The last eight digits of a generated citizen's social insurance number: the ID number's
    /// province prefix and serial, permuted by a key of the seed, so a number looks drawn at
    /// random and yet leads back to its holder ([`Self::insured_by_number`]).
    fn insurance_serial(&self, id: CitizenId) -> u64 {
        let value = u64::from(id.province_code()) * SERIALS_PER_PREFIX + u64::from(id.serial());
        Permutation::new(
            hash_words(&[self.seed, S_INSURANCE_NUMBER]),
            INSURANCE_SERIALS,
        )
        .apply(value % INSURANCE_SERIALS)
    }

    /// The citizens whose health insurance card carries the 10-digit social insurance number
    /// `number` (a legacy card code's last ten characters), born in one of `years`: at most
    /// one in practice. Generated citizens are found by inverting [`Self::insurance_serial`]
    /// and trying each birth year and sex; personas by their cards.
    pub fn insured_by_number(
        &self,
        number: &str,
        years: impl IntoIterator<Item = i32>,
    ) -> Vec<Person> {
        let mut found = Vec::new();
        let Some(serial) = number
            .get(2..)
            .filter(|d| number.len() == 10 && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<u64>().ok())
        else {
            return found;
        };
        // A persona's number ends with the ID number's last eight digits.
        for persona in self
            .personas
            .ids()
            .filter(|id| id.value() % INSURANCE_SERIALS == serial)
        {
            if let Some(p) = self.person(persona, View::Full)
                && p.insurance
                    .as_ref()
                    .is_some_and(|i| i.social_insurance_number == number)
            {
                found.push(p);
            }
        }
        let value = Permutation::new(
            hash_words(&[self.seed, S_INSURANCE_NUMBER]),
            INSURANCE_SERIALS,
        )
        .invert(serial);
        let (prefix, serial) = (
            (value / SERIALS_PER_PREFIX) as u16,
            (value % SERIALS_PER_PREFIX) as u32,
        );
        for year in years {
            for sex in [Sex::Male, Sex::Female] {
                let id = CitizenId::from_parts(prefix, sex, year, serial);
                if self.slot_of(id).is_none() || self.personas.get(id).is_some() {
                    continue;
                }
                if let Some(p) = self.person(id, View::Full)
                    && p.insurance
                        .as_ref()
                        .is_some_and(|i| i.social_insurance_number == number)
                {
                    found.push(p);
                }
            }
        }
        found
    }

    /// The citizen's health insurance card, `None` when the number is no one's or the citizen
    /// is not insured. The card carries the province of residence, so the household is
    /// computed for it.
    pub fn health_insurance(&self, id: CitizenId) -> Option<Insurance> {
        self.person(id, View::Full)?.insurance
    }

    /// The share of ethnic minorities of a pre-2025 province, 0–1, the Hoa not counted (they
    /// live mostly in the cities).
    fn minority_share(&self, province: u8) -> f64 {
        self.units.province(u16::from(province)).map_or(0.0, |p| {
            p.ethnicities
                .iter()
                .filter(|(group, _)| *group != "Hoa")
                .map(|(_, share)| share)
                .sum::<f64>()
        }) / 100.0
    }

    /// How difficult a commune is: 0 not, 1 difficult (region II), 2 especially difficult
    /// (region III). Drawn once per commune from its province's share of ethnic minorities.
    fn commune_class(&self, commune: u32, minorities: f64) -> u8 {
        let mut rng = Stream::new(&[self.seed, S_COMMUNE, u64::from(commune)]);
        if !rng.chance((DIFFICULT_PER_MINORITY * minorities).min(0.9)) {
            0
        } else if rng.chance(ESPECIALLY_DIFFICULT) {
            2
        } else {
            1
        }
    }

    /// The health insurance card of a living citizen who lives at `residence` in the household
    /// headed by `head` (poverty is the household's), or `None` when not insured.
    pub(crate) fn insurance(
        &self,
        id: CitizenId,
        birth: Date,
        sex: Sex,
        ethnicity: &str,
        residence: &Place,
        head: CitizenId,
    ) -> Option<Insurance> {
        let reference = self.reference;
        let commune = match residence.commune {
            CommuneRef::Pre2025(i) => Some(i),
            CommuneRef::Current(j) => self.units.communes_2025[j as usize].predecessor,
        };
        let province = commune.map_or(0, |i| self.units.communes[i as usize].province);
        let minorities = self.minority_share(province);
        let class = commune.map_or(0, |i| self.commune_class(i, minorities));
        let mut poverty = Stream::new(&[self.seed, S_POVERTY, head.value()]);
        let x = poverty.unit();
        let poor = x < POOR_BASE + POOR_PER_MINORITY * minorities;
        let near_poor = !poor
            && x < POOR_BASE
                + POOR_PER_MINORITY * minorities
                + NEAR_POOR_BASE
                + NEAR_POOR_PER_MINORITY * minorities;
        let situation = Situation {
            birth,
            sex,
            minority: ethnicity != "Kinh",
            class,
            poor,
            near_poor,
            dn: dn_share(province, minorities),
        };
        let mut rng = self.stream(S_INSURANCE, id);
        let (group, payer) = situation.group(reference, &mut rng)?;
        let residence_province = self.province_2025_of(residence);
        // The draw the number was once made of, kept so the later draws stay the same.
        let _ = rng.below(100_000_000);
        let number = format!("{:02}{:08}", residence_province, self.insurance_serial(id));
        let household = payer == Payer::Household;
        let (valid_from, valid_to) = coverage(group, household, birth, reference, &mut rng);
        Some(Insurance {
            card_code: card_code(group, residence_province, &number),
            social_insurance_number: number,
            valid_from,
            valid_to,
            facility_code: format!("{:02}{:03}", residence_province, 1 + rng.below(120)),
        })
    }
}

/// Share of households that are poor: 2% plus 20% of the province's share of ethnic
/// minorities (*estimate*: 4.03% of households were poor nationally in 2022 by the
/// multidimensional standard of Decree 07/2021/NĐ-CP, far more in the northern mountains).
pub const POOR_BASE: f64 = 0.02;
/// See [`POOR_BASE`].
pub const POOR_PER_MINORITY: f64 = 0.2;
/// Share of households that are near-poor: 2% plus 8% of the share of minorities (*estimate*:
/// 3.2% nationally in 2022).
pub const NEAR_POOR_BASE: f64 = 0.02;
/// See [`NEAR_POOR_BASE`].
pub const NEAR_POOR_PER_MINORITY: f64 = 0.08;

/// What decides a citizen's group.
struct Situation {
    birth: Date,
    sex: Sex,
    minority: bool,
    /// 0, 1 or 2: [`Country::commune_class`].
    class: u8,
    poor: bool,
    near_poor: bool,
    /// The province's share of enterprise employees ([`dn_share`]).
    dn: f64,
}

impl Situation {
    /// The group and its payer, or `None` for one who is not insured.
    fn group(&self, reference: Date, rng: &mut Stream) -> Option<(&'static str, Payer)> {
        use Payer::*;
        let birth = self.birth;
        let age = age_on(birth, reference);
        let months = age_in_months(birth, reference);
        if reference <= children_card_end(birth) {
            return Some(("TE", State));
        }
        let retired = months >= retirement_age_months(self.sex, reference.year());
        let male = self.sex == Sex::Male;
        if age >= 18 && !retired {
            // Armed forces (*estimate*: about a million people, nearly all men).
            let (qn, ca) = if male { (0.02, 0.015) } else { (0.002, 0.002) };
            let work = [
                ("QN", qn),
                ("CA", ca),
                ("DN", self.dn),
                ("HC", 0.045),
                ("CH", 0.015),
                ("XK", 0.01),
                ("HX", 0.005),
                ("TN", 0.003),
            ];
            let mut x = rng.unit();
            for (group, share) in work {
                if x < share {
                    let payer = match group {
                        "QN" | "CA" => State,
                        "TN" => SocialInsurance,
                        _ => Work,
                    };
                    return Some((group, payer));
                }
                x -= share;
            }
        }
        if retired && rng.chance(0.12 + 0.5 * self.dn) {
            return Some(("HT", SocialInsurance));
        }
        // Paid by the state: people with merit, veterans, social allowances (from 75 since the
        // social pension of 1 July 2025, from 80 before), poor households, minorities in
        // difficult communes and everyone in especially difficult ones.
        if age >= 70 && rng.chance(if male { 0.08 } else { 0.03 }) {
            return Some(("CC", State));
        }
        if age >= 60 && male && rng.chance(0.06) {
            return Some(("CB", State));
        }
        let allowance_age = if reference >= SOCIAL_PENSION_FROM {
            75
        } else {
            80
        };
        if age >= allowance_age || rng.chance(0.01) {
            return Some(("BT", State));
        }
        if self.poor {
            return Some(("HN", State));
        }
        if self.minority && self.class >= 1 {
            return Some(("DT", State));
        }
        if self.class == 2 {
            return Some(("DK", State));
        }
        if self.near_poor {
            return Some(("CN", StateSupported));
        }
        let pupil = reference <= school_leaving(birth);
        // Enrolment (*estimate*, close to the GSO's net enrolment rates): nearly every child
        // of primary and lower secondary school age, three in four of upper secondary age.
        if pupil && rng.chance(if age < 15 { 0.97 } else { 0.75 }) {
            return Some(("HS", StateSupported));
        }
        let student = reference > school_leaving(birth) && reference <= studies_end(birth);
        if student && rng.chance(0.27) {
            return Some(("SV", StateSupported));
        }
        // The rest insure themselves through the household, or not at all.
        let insured = if age >= 60 { 0.9 } else { 0.8 };
        rng.chance(insured).then_some(("GD", Household))
    }
}

/// From this date the social pension (trợ cấp hưu trí xã hội) is paid from 75 to those without
/// a pension, with their health insurance (Law on Social Insurance 2024, art. 21–22).
pub const SOCIAL_PENSION_FROM: Date = time::macros::date!(2025 - 07 - 01);

/// Completed months of age on `on`.
fn age_in_months(birth: Date, on: Date) -> i32 {
    let mut months = (on.year() - birth.year()) * 12
        + (i32::from(u8::from(on.month())) - i32::from(u8::from(birth.month())));
    if on.day() < birth.day() {
        months -= 1;
    }
    months
}

/// The retirement age, in months, of those who retire in `year` (Labour Code 2019 art. 169,
/// Decree 135/2020/NĐ-CP): from 2021 men 60 years and 3 months, 3 months more each year to 62
/// in 2028; women 55 years and 4 months, 4 months more each year to 60 in 2035.
pub fn retirement_age_months(sex: Sex, year: i32) -> i32 {
    let steps = (year - 2020).max(0);
    match sex {
        Sex::Male => 60 * 12 + (3 * steps).min(24),
        Sex::Female => 55 * 12 + (4 * steps).min(60),
    }
}

/// The day a child's TE card ends (Law on Health Insurance art. 16(1)(a)): the day the child is
/// 72 months old, or, when that comes before the school year, 30 September of that year.
pub fn children_card_end(birth: Date) -> Date {
    let sixth = add_years(birth, 6);
    let september = last_of_september(sixth.year());
    if sixth < september { september } else { sixth }
}

fn last_of_september(year: i32) -> Date {
    Date::from_calendar_date(year, Month::September, 30).unwrap_or(Date::MIN)
}

/// The last day of school: 30 September of the year one turns 18 (grade 12), as pupils' cards
/// run.
fn school_leaving(birth: Date) -> Date {
    last_of_september(birth.year() + 18)
}

/// The last day of a student's card: four years of study after school.
fn studies_end(birth: Date) -> Date {
    last_of_september(birth.year() + 22)
}

fn calendar_year(year: i32) -> (Date, Date) {
    (
        Date::from_calendar_date(year, Month::January, 1).unwrap_or(Date::MIN),
        Date::from_calendar_date(year, Month::December, 31).unwrap_or(Date::MAX),
    )
}

/// The same day `months` later (the last of the month when it has no such day).
fn add_months(d: Date, months: i32) -> Date {
    let index = d.year() * 12 + i32::from(u8::from(d.month())) - 1 + months;
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) as u8 + 1);
    let month = Month::try_from(month).unwrap_or(Month::January);
    let day = d.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).unwrap_or(d)
}

/// The validity of a card of `group` that covers `reference`:
/// - TE: from birth to [`children_card_end`];
/// - HS: the calendar year, from the day after the TE card in the first year, to 30 September
///   of the last school year;
/// - SV: the calendar year, from 1 October of the first year of study, to 30 September of the
///   last;
/// - GD: 12, 6 or 3 months (80, 15, 5 in 100) from the day after it was bought (Decree
///   146/2018/NĐ-CP art. 9 lets households pay for 3, 6 or 12 months);
/// - employees: the calendar year, from the first of the month the job began for one in seven,
///   hired this year;
/// - every other group (paid by the state or the social insurance fund): the calendar year.
pub(crate) fn coverage(
    group: &str,
    payer_household: bool,
    birth: Date,
    reference: Date,
    rng: &mut Stream,
) -> (Date, Date) {
    let (january, december) = calendar_year(reference.year());
    match group {
        "TE" => (birth, children_card_end(birth)),
        "HS" => (
            january.max(children_card_end(birth) + Duration::days(1)),
            december.min(school_leaving(birth)),
        ),
        "SV" => (
            january.max(school_leaving(birth) + Duration::days(1)),
            december.min(studies_end(birth)),
        ),
        _ if payer_household => {
            // The last day is drawn, the first follows: the card covers the reference date
            // whatever the lengths of the months.
            let months = rng.weighted(&[(12, 80.0), (6, 15.0), (3, 5.0)]);
            let period = (add_months(reference, months) - reference).whole_days();
            let to = reference + Duration::days(rng.below(period as u64) as i64);
            (add_months(to + Duration::days(1), -months), to)
        }
        "DN" | "HC" | "CH" | "HX" | "XK" if rng.chance(1.0 / 7.0) => {
            let month = 1 + rng.below(u64::from(u8::from(reference.month()))) as u8;
            let from = Month::try_from(month)
                .ok()
                .and_then(|m| Date::from_calendar_date(reference.year(), m, 1).ok())
                .unwrap_or(january);
            (from, december)
        }
        _ => (january, december),
    }
}

/// The group a persona's card is of when its table names none: TE for a child under 6 (to the
/// end of the TE card), HS for a pupil (to 30 September of the year of 18), GD after.
pub(crate) fn persona_group(birth: Date, reference: Date) -> &'static str {
    if reference <= children_card_end(birth) {
        "TE"
    } else if reference <= school_leaving(birth) {
        "HS"
    } else {
        "GD"
    }
}

#[cfg(test)]
mod number_tests {
    use crate::{Country, View};
    use time::macros::date;

    #[test]
    fn a_social_insurance_number_leads_back_to_its_holder() {
        let country = Country::new(5, 50_000, date!(2026 - 03 - 01));
        let mut checked = 0;
        for i in (0..country.population()).step_by(997) {
            let Some(id) = country.citizen_at(i) else {
                continue;
            };
            let Some(card) = country.person(id, View::Full).and_then(|p| p.insurance) else {
                continue;
            };
            assert_eq!(&card.card_code[5..], card.social_insurance_number);
            let found = country.insured_by_number(&card.social_insurance_number, [id.birth_year()]);
            assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), [id]);
            // Without the year, every year is tried.
            let any = country.insured_by_number(&card.social_insurance_number, 1920..=2026);
            assert!(any.iter().any(|p| p.id == id));
            checked += 1;
        }
        assert!(checked > 20, "{checked}");
        assert!(country.insured_by_number("56ABC", [1990]).is_empty());
    }
}
