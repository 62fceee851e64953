//! GetPopulationStatistics and FindInsuredCitizens: what the national statistics and the
//! health insurance check ask of the database.
//!
//! Statistics are the census's counts (province of birth registration × birth year × sex,
//! exact) with the deaths the database holds and the ethnic groups as the generator's expected
//! counts, then the recorded events applied one by one: a recorded death leaves the living, a
//! recorded move to another province takes the citizen from the province of registration to
//! the one moved to. A province's counts cost its two hundred buckets and the recorded events,
//! never an enumeration of its citizens.

use std::collections::HashMap;

use sandbox06_proto::{dates::date_to_proto, population as pb, types};
use sandbox06_vn::CitizenId;
use sandbox06_world::{View, rules::age_on};

use super::{PopulationDb, reads::rejected};
use crate::{convert::Shape, error::PopulationError};
use sandbox06_proto::population::life_event::Change;

/// Age bands' default width in years.
const DEFAULT_BAND_YEARS: i32 = 5;
/// Age bands' widest width in years.
const MAX_BAND_YEARS: i32 = 25;
/// Length of a social insurance number.
const INSURANCE_NUMBER_LEN: usize = 10;

/// The provinces a statistics request covers: pre-2025 codes, and the name of the whole.
struct Scope {
    provinces: Vec<u8>,
    era: types::AdminEra,
    code: String,
    name: String,
}

impl Scope {
    /// Whether the scope holds a place, given as (pre-2025 province, 2025 province).
    fn holds(&self, place: (u8, u8)) -> bool {
        if self.code.is_empty() {
            return true;
        }
        match self.era {
            types::AdminEra::Before2025 => self.provinces.contains(&place.0),
            _ => self.provinces.contains(&place.0) || self.code == format!("{:02}", place.1),
        }
    }
}

/// Living citizens counted by age and sex, and by ethnic group, as fractions until rounded.
struct Tally {
    ages: Vec<[f64; 2]>,
    ethnicities: HashMap<&'static str, f64>,
    registered: i64,
    moved_in: i64,
    moved_out: i64,
}

impl Tally {
    fn add(&mut self, age: i32, female: bool, ethnicity: &'static str, count: f64) {
        let age = age.clamp(0, self.ages.len() as i32 - 1) as usize;
        self.ages[age][usize::from(female)] += count;
        *self.ethnicities.entry(ethnicity).or_default() += count;
    }
}

impl PopulationDb {
    fn scope(&self, req: &types::PopulationStatisticsRequest) -> Result<Scope, PopulationError> {
        let units = self.country.units();
        let era = match types::AdminEra::try_from(req.era) {
            Ok(types::AdminEra::Unspecified) | Ok(types::AdminEra::Current) => {
                types::AdminEra::Current
            }
            Ok(types::AdminEra::Before2025) => types::AdminEra::Before2025,
            Err(_) => return Err(rejected("era", format!("unknown era {}", req.era))),
        };
        if req.province_code.is_empty() {
            return Ok(Scope {
                provinces: units.provinces.iter().map(|p| p.code).collect(),
                era,
                code: String::new(),
                name: "Việt Nam".into(),
            });
        }
        let code = Some(req.province_code.as_str())
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|c| c.parse::<u8>().ok())
            .ok_or_else(|| {
                rejected(
                    "province_code",
                    "a province code is two digits (GSO), e.g. \"56\"",
                )
            })?;
        let before_2025 = era == types::AdminEra::Before2025;
        let provinces = self
            .country
            .provinces_of(code, !before_2025)
            .ok_or_else(|| {
                rejected(
                    "province_code",
                    if before_2025 {
                        format!("no pre-2025 province has code {code:02}")
                    } else {
                        format!("no province of the 2025 units has code {code:02}")
                    },
                )
            })?;
        let name = if before_2025 {
            units
                .province(u16::from(code))
                .map_or_else(String::new, |p| p.name.to_owned())
        } else {
            units.province_2025_name(code).to_owned()
        };
        Ok(Scope {
            provinces,
            era,
            code: format!("{code:02}"),
            name,
        })
    }

    /// Where a commune code (either era's) lies: (pre-2025 province, 2025 province).
    fn province_of_commune(&self, code: &str) -> Option<(u8, u8)> {
        let units = self.country.units();
        if let Some(i) = units.commune_2025(code) {
            let commune = &units.communes_2025[i as usize];
            let pre = commune
                .predecessor
                .map(|p| units.communes[p as usize].province)?;
            return Some((pre, commune.province));
        }
        let i = units.commune_pre_2025(code)?;
        let pre = units.communes[i as usize].province;
        let current = units.province(u16::from(pre))?.code_2025;
        Some((pre, current))
    }

    /// Where a citizen's birth was registered: (pre-2025 province, 2025 province).
    fn registration_of(&self, id: CitizenId) -> Option<(u8, u8)> {
        let p = self.country.units().province(id.province_code())?;
        Some((p.code, p.code_2025))
    }

    /// GetPopulationStatistics.
    pub(super) async fn statistics(
        &self,
        req: types::PopulationStatisticsRequest,
    ) -> Result<types::PopulationStatisticsResponse, PopulationError> {
        let band = match req.band_years {
            0 => DEFAULT_BAND_YEARS,
            b @ 1..=MAX_BAND_YEARS => b,
            b => {
                return Err(rejected(
                    "band_years",
                    format!("age bands are 1 to {MAX_BAND_YEARS} years wide, got {b}"),
                ));
            }
        };
        let scope = self.scope(&req)?;
        let country = &self.country;
        let reference = country.reference_date();
        let mut tally = Tally {
            ages: vec![[0.0; 2]; country.max_age() as usize + 1],
            ethnicities: HashMap::new(),
            registered: 0,
            moved_in: 0,
            moved_out: 0,
        };
        for &code in &scope.provinces {
            let mut living = 0.0;
            for c in country.cohorts(code) {
                tally.registered += c.registered as i64;
                let alive = c.registered as f64 - c.deceased;
                living += alive;
                let age = reference.year() - c.year;
                let female = c.sex == sandbox06_vn::Sex::Female;
                let older = alive * c.older_share;
                tally.ages[age.clamp(0, country.max_age()) as usize][usize::from(female)] += older;
                if age > 0 {
                    tally.ages[(age - 1) as usize][usize::from(female)] += alive - older;
                }
            }
            for (group, share) in country.ethnic_shares(code) {
                *tally.ethnicities.entry(group).or_default() += living * share;
            }
        }
        self.apply_events(&scope, &mut tally).await?;

        let mut age_bands = Vec::new();
        let mut living = 0i64;
        let last = country.max_age();
        let mut from = 0;
        while from <= last {
            let to = if from + 2 * band > last + 1 {
                last
            } else {
                from + band - 1
            };
            let sum = |sex: usize| -> i64 {
                (from..=to)
                    .map(|a| tally.ages[a as usize][sex])
                    .sum::<f64>()
                    .round()
                    .max(0.0) as i64
            };
            let (male, female) = (sum(0), sum(1));
            living += male + female;
            age_bands.push(types::AgeBand {
                age_from: from,
                age_to: to,
                male,
                female,
            });
            from = to + 1;
        }
        let mut ethnicities: Vec<types::EthnicityCount> = tally
            .ethnicities
            .into_iter()
            .map(|(ethnicity, count)| types::EthnicityCount {
                ethnicity: ethnicity.to_owned(),
                count: count.round().max(0.0) as i64,
            })
            .filter(|e| e.count > 0)
            .collect();
        ethnicities.sort_by(|a, b| b.count.cmp(&a.count).then(a.ethnicity.cmp(&b.ethnicity)));
        Ok(types::PopulationStatisticsResponse {
            province_code: scope.code.clone(),
            era: scope.era as i32,
            province_name: scope.name.clone(),
            reference_date: Some(date_to_proto(reference)),
            registered: tally.registered,
            living,
            deceased: (tally.registered - living).max(0),
            age_bands,
            ethnicities,
            moved_in: tally.moved_in,
            moved_out: tally.moved_out,
        })
    }

    /// The recorded deaths and moves of generated citizens, applied to the counts.
    async fn apply_events(&self, scope: &Scope, tally: &mut Tally) -> Result<(), PopulationError> {
        if !self.has_overlays().await? {
            return Ok(());
        }
        let reference = self.country.reference_date();
        for id in self.overlays.changed().await? {
            // Personas are not in the census.
            if self.country.personas().get(id).is_some() {
                continue;
            }
            let Some(registered) = self.registration_of(id) else {
                continue;
            };
            let Some(generated) = self.country.person(id, View::Basic) else {
                continue;
            };
            let events = self.overlays.events(id).await?;
            let mut now = registered;
            let mut died = false;
            for event in &events {
                match &event.change {
                    Some(Change::Moved(m)) => {
                        if let Some(place) = self.province_of_commune(&m.commune_code) {
                            now = place;
                        }
                    }
                    Some(Change::Died(_)) => died = true,
                    _ => {}
                }
            }
            let was_living = generated.is_alive();
            let is_living = was_living && !died;
            let age = age_on(generated.date_of_birth, reference);
            let female = generated.sex == sandbox06_vn::Sex::Female;
            let (was_here, is_here) = (scope.holds(registered), scope.holds(now));
            if was_here && was_living {
                tally.add(age, female, generated.ethnicity, -1.0);
            }
            if is_here && is_living {
                tally.add(age, female, generated.ethnicity, 1.0);
            }
            match (was_here, is_here) {
                (true, false) => {
                    tally.moved_out += 1;
                    tally.registered -= 1;
                }
                (false, true) => {
                    tally.moved_in += 1;
                    tally.registered += 1;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// FindInsuredCitizens.
    pub(super) async fn insured(
        &self,
        req: pb::FindInsuredCitizensRequest,
    ) -> Result<pb::FindInsuredCitizensResponse, PopulationError> {
        let number = &req.social_insurance_number;
        if number.len() != INSURANCE_NUMBER_LEN || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(rejected(
                "social_insurance_number",
                "a social insurance number is 10 digits",
            ));
        }
        let reference = self.country.reference_date().year();
        let oldest = reference - self.country.max_age();
        let years = match req.birth_year {
            0 => oldest..=reference,
            y if (oldest..=reference).contains(&y) => y..=y,
            y => {
                return Err(rejected(
                    "birth_year",
                    format!("no citizen on record was born in {y} ({oldest} to {reference})"),
                ));
            }
        };
        let overlays = self.has_overlays().await?;
        let mut citizens = Vec::new();
        for person in self.country.insured_by_number(number, years) {
            if let Some(record) = self.record(person.id, Shape::Full, overlays).await? {
                citizens.push(record);
            }
        }
        Ok(pb::FindInsuredCitizensResponse { citizens })
    }
}
