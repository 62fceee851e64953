//! The census: how many citizens each bucket of ID numbers (province of birth registration ×
//! birth year × sex) holds, and which serials of a bucket are citizens.

use sandbox06_vn::{
    CitizenId, Sex,
    admin::{ADMIN_UNITS, NEW_BIRTHS_PREFIX_FROM},
};
use time::Date;

use crate::{
    COMMUNITIES, Country, FATHER_GAPS, MAX_AGE, S_FAMILY, S_SERIAL, SERIALS, Slot,
    permutation::{Permutation, Stream, hash_words, mix64},
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

/// The share of a year's births (to `reference` in the reference year) registered on or after
/// [`NEW_BIRTHS_PREFIX_FROM`], whose ID numbers carry the 2025 province's code.
pub(crate) fn registered_under_2025_codes(year: i32, reference: Date) -> f64 {
    let Some(from) = NEW_BIRTHS_PREFIX_FROM else {
        return 0.0;
    };
    let (Ok(start), Ok(end)) = (
        Date::from_ordinal_date(year, 1),
        Date::from_ordinal_date(year, time::util::days_in_year(year)),
    ) else {
        return 0.0;
    };
    let end = if reference < end { reference } else { end };
    if from > end {
        0.0
    } else if from <= start {
        1.0
    } else {
        let days = |a: Date, b: Date| (b - a).whole_days() as f64 + 1.0;
        days(from, end) / days(start, end)
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
            .map(Slot::key)
            .collect();
        country.persona_slots.sort_unstable();
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
        Self::bucket_key_in(self.province_key(purpose, province), year, sex)
    }

    /// What the keys of a province's buckets for one purpose start from ([`Self::bucket_key`]).
    pub(crate) fn province_key(&self, purpose: u64, province: usize) -> u64 {
        hash_words(&[self.seed, purpose, province as u64])
    }

    /// The key of a bucket of the province of `province_key` ([`Self::province_key`]): the
    /// hash of seed, purpose, province, year and sex, the first three hashed once.
    pub(crate) fn bucket_key_in(province_key: u64, year: i32, sex: Sex) -> u64 {
        mix64(mix64(province_key ^ year as u64) ^ sex as u64)
    }

    pub(crate) fn serial_permutation(&self, province: usize, year: i32, sex: Sex) -> Permutation {
        Permutation::new(self.bucket_key(S_SERIAL, province, year, sex), SERIALS)
    }

    /// The places of a province's largest community: what a father's place is scaled from.
    pub(crate) fn family_places(&self, province: usize) -> u64 {
        u64::from(self.max_bucket[province].div_ceil(COMMUNITIES)).max(1)
    }

    /// The permutation that pairs a bucket's children, by their place within their community,
    /// with a father's place ([`Self::family_places`]) and a birth-year gap.
    pub(crate) fn family_permutation(&self, province: usize, year: i32, sex: Sex) -> Permutation {
        let domain = FATHER_GAPS * self.family_places(province);
        Permutation::new(self.bucket_key(S_FAMILY, province, year, sex), domain)
    }

    pub(crate) fn slot_of(&self, id: CitizenId) -> Option<Slot> {
        let province = self.units.province_position(id.province_code())?;
        let (year, sex) = (id.birth_year(), id.sex());
        let n = self.bucket_size(province, year, sex);
        let rank = self
            .serial_permutation(province, year, sex)
            .apply(u64::from(id.serial())) as u32;
        if rank < n {
            // Of a merged province's bucket, only the births registered before the 2025
            // codes carry its own prefix.
            return (rank < self.registered_before(province, year, sex)).then_some(Slot {
                province,
                year,
                sex,
                rank,
            });
        }
        // Beyond the bucket: the births registered under this 2025 code in the provinces
        // merged into it, one after the other.
        let mut r = rank - n;
        for merged in self.merged_into(province) {
            let before = self.registered_before(merged, year, sex);
            let after = self.bucket_size(merged, year, sex) - before;
            if r < after {
                return Some(Slot {
                    province: merged,
                    year,
                    sex,
                    rank: before + r,
                });
            }
            r -= after;
        }
        None
    }

    /// The provinces merged into the one at `position` by the 2025 reorganisation (itself
    /// excluded), in code order.
    fn merged_into(&self, position: usize) -> impl Iterator<Item = usize> + '_ {
        let code = self.units.provinces[position].code;
        self.units
            .provinces
            .iter()
            .enumerate()
            .filter(move |(i, p)| p.code_2025 == code && *i != position)
            .map(|(i, _)| i)
    }

    /// How many of a bucket's births were registered with the province's own prefix: all,
    /// unless the province merged into another, whose code births registered from
    /// `NEW_BIRTHS_PREFIX_FROM` carry; the first ranks are the earlier births.
    pub(crate) fn registered_before(&self, province: usize, year: i32, sex: Sex) -> u32 {
        let n = self.bucket_size(province, year, sex);
        let p = &self.units.provinces[province];
        if p.code == p.code_2025 {
            return n;
        }
        let after = (f64::from(n) * registered_under_2025_codes(year, self.reference)).round();
        n - (after as u32).min(n)
    }

    pub(crate) fn slot_at(&self, province: usize, year: i32, sex: Sex, rank: u32) -> Option<Slot> {
        let slot = Slot {
            province,
            year,
            sex,
            rank,
        };
        (rank < self.bucket_size(province, year, sex)
            && self.persona_slots.binary_search(&slot.key()).is_err())
        .then_some(slot)
    }

    pub(crate) fn id_of(&self, s: Slot) -> CitizenId {
        let before = self.registered_before(s.province, s.year, s.sex);
        let (position, rank) = if s.rank < before {
            (s.province, s.rank)
        } else {
            // Registered under the 2025 province's code: ranked after its own bucket and
            // the later births of the provinces merged into it before this one.
            let p = &self.units.provinces[s.province];
            let successor = self
                .units
                .province_position(u16::from(p.code_2025))
                .unwrap_or(s.province);
            let earlier: u32 = self
                .merged_into(successor)
                .take_while(|&m| m != s.province)
                .map(|m| {
                    self.bucket_size(m, s.year, s.sex) - self.registered_before(m, s.year, s.sex)
                })
                .sum();
            (
                successor,
                self.bucket_size(successor, s.year, s.sex) + earlier + (s.rank - before),
            )
        };
        let serial = self
            .serial_permutation(position, s.year, s.sex)
            .invert(u64::from(rank)) as u32;
        CitizenId::from_parts(
            u16::from(self.units.provinces[position].code),
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

    /// The index range of citizens whose birth was registered in a province (pre-2025 code),
    /// including those registered there from 1 July 2025 under the 2025 province's prefix.
    pub fn province_range(&self, code: u16) -> Option<std::ops::Range<u64>> {
        let p = self.units.province_position(code)?;
        let per_province = self.years() * 2;
        Some(self.prefix[p * per_province]..self.prefix[(p + 1) * per_province])
    }
}
