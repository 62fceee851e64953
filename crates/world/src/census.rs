//! The census: how many citizens each bucket of ID numbers (province of birth registration ×
//! birth year × sex) holds, and which serials of a bucket are citizens.

use sandbox06_vn::{CitizenId, Sex, admin::ADMIN_UNITS};
use time::Date;

use crate::{
    Country, FATHER_GAPS, MAX_AGE, S_FAMILY, S_SERIAL, SERIALS, Slot,
    permutation::{Permutation, Stream, hash_words},
    personas,
};

/// Relative size of a birth cohort still in the database, by age.
fn age_weight(age: i32) -> f64 {
    if age <= 40 {
        1.0
    } else {
        let x = f64::from(age - 40) / 30.0;
        (-x.powf(2.2)).exp()
    }
}

/// Share of men in a cohort, by age.
fn male_share(age: i32) -> f64 {
    match age {
        ..50 => 0.512,
        50..70 => 0.49,
        70..80 => 0.44,
        _ => 0.38,
    }
}

impl Country {
    /// A country of about `size` citizens, computed from `seed`, as of `reference`.
    pub fn new(seed: u64, size: u64, reference: Date) -> Self {
        let units = &*ADMIN_UNITS;
        let max_year = reference.year();
        let min_year = max_year - MAX_AGE;
        let years = (max_year - min_year + 1) as usize;
        let total_pop: f64 = units
            .provinces
            .iter()
            .map(|p| f64::from(p.population))
            .sum::<f64>()
            .max(1.0);
        let total_weight: f64 = (0..=MAX_AGE).map(age_weight).sum();
        let elapsed =
            f64::from(reference.ordinal()) / f64::from(time::util::days_in_year(max_year));
        let mut sizes = vec![0u32; units.provinces.len() * years * 2];
        let mut max_bucket = vec![1u32; units.provinces.len()];
        for (pi, p) in units.provinces.iter().enumerate() {
            let share = f64::from(p.population) / total_pop;
            for yo in 0..years {
                let year = min_year + yo as i32;
                let age = max_year - year;
                let mut cohort = size as f64 * share * age_weight(age) / total_weight;
                if year == max_year {
                    cohort *= elapsed;
                }
                for (si, sex_share) in [male_share(age), 1.0 - male_share(age)]
                    .into_iter()
                    .enumerate()
                {
                    let n = (cohort * sex_share)
                        .round()
                        .clamp(0.0, (SERIALS - 1) as f64) as u32;
                    sizes[(pi * years + yo) * 2 + si] = n;
                    max_bucket[pi] = max_bucket[pi].max(n);
                }
            }
        }
        let mut prefix = Vec::with_capacity(sizes.len() + 1);
        let mut acc = 0u64;
        prefix.push(0);
        for n in &sizes {
            acc += u64::from(*n);
            prefix.push(acc);
        }
        let mut country = Country {
            seed,
            reference,
            min_year,
            sizes,
            prefix,
            max_bucket,
            units,
            personas: personas::Personas::build(),
            persona_slots: Vec::new(),
        };
        country.persona_slots = country
            .personas
            .ids()
            .filter_map(|id| country.slot_of(id))
            .collect();
        country
    }

    pub(crate) fn years(&self) -> usize {
        (self.reference.year() - self.min_year + 1) as usize
    }

    pub(crate) fn bucket_index(&self, province: usize, year: i32, sex: Sex) -> Option<usize> {
        if year < self.min_year || year > self.reference.year() {
            return None;
        }
        Some(
            (province * self.years() + (year - self.min_year) as usize) * 2
                + usize::from(sex == Sex::Female),
        )
    }

    pub(crate) fn bucket_size(&self, province: usize, year: i32, sex: Sex) -> u32 {
        self.bucket_index(province, year, sex)
            .map_or(0, |i| self.sizes[i])
    }

    /// The key of one bucket's permutation for one purpose.
    pub(crate) fn bucket_key(&self, purpose: u64, province: usize, year: i32, sex: Sex) -> u64 {
        hash_words(&[self.seed, purpose, province as u64, year as u64, sex as u64])
    }

    pub(crate) fn serial_permutation(&self, province: usize, year: i32, sex: Sex) -> Permutation {
        Permutation::new(self.bucket_key(S_SERIAL, province, year, sex), SERIALS)
    }

    pub(crate) fn family_permutation(&self, province: usize, year: i32, sex: Sex) -> Permutation {
        let domain = FATHER_GAPS * u64::from(self.max_bucket[province]);
        Permutation::new(self.bucket_key(S_FAMILY, province, year, sex), domain)
    }

    pub(crate) fn slot_of(&self, id: CitizenId) -> Option<Slot> {
        let province = self.units.province_position(id.province_code())?;
        let (year, sex) = (id.birth_year(), id.sex());
        let n = self.bucket_size(province, year, sex);
        let rank = self
            .serial_permutation(province, year, sex)
            .apply(u64::from(id.serial())) as u32;
        (rank < n).then_some(Slot {
            province,
            year,
            sex,
            rank,
        })
    }

    pub(crate) fn slot_at(&self, province: usize, year: i32, sex: Sex, rank: u32) -> Option<Slot> {
        let slot = Slot {
            province,
            year,
            sex,
            rank,
        };
        (rank < self.bucket_size(province, year, sex) && !self.persona_slots.contains(&slot))
            .then_some(slot)
    }

    pub(crate) fn id_of(&self, s: Slot) -> CitizenId {
        let serial = self
            .serial_permutation(s.province, s.year, s.sex)
            .invert(u64::from(s.rank)) as u32;
        CitizenId::from_parts(
            u16::from(self.units.provinces[s.province].code),
            s.sex,
            s.year,
            serial,
        )
    }

    pub(crate) fn stream(&self, purpose: u64, id: CitizenId) -> Stream {
        Stream::new(&[self.seed, purpose, id.value()])
    }

    /// Citizen number `index` (from 0) of the generated population, in ID-bucket order.
    pub fn citizen_at(&self, index: u64) -> Option<CitizenId> {
        if index >= self.population() {
            return None;
        }
        let bucket = self.prefix.partition_point(|&p| p <= index) - 1;
        let rank = (index - self.prefix[bucket]) as u32;
        let years = self.years();
        let province = bucket / 2 / years;
        let year = self.min_year + ((bucket / 2) % years) as i32;
        let sex = if bucket % 2 == 0 {
            Sex::Male
        } else {
            Sex::Female
        };
        Some(self.id_of(Slot {
            province,
            year,
            sex,
            rank,
        }))
    }

    /// The index range of citizens whose birth was registered in a province (pre-2025 code).
    pub fn province_range(&self, code: u16) -> Option<std::ops::Range<u64>> {
        let p = self.units.province_position(code)?;
        let per_province = self.years() * 2;
        Some(self.prefix[p * per_province]..self.prefix[(p + 1) * per_province])
    }
}
