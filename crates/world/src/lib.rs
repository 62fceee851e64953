//! The synthetic country: the population database's citizens, computed from a seed.
//!
//! Nothing is stored. Each bucket of ID numbers (province of birth registration × birth year ×
//! sex) has a size drawn from realistic shares; a keyed permutation of the six serial digits
//! ranks every serial in its bucket, and a serial is a citizen exactly when its rank is below
//! the bucket size. So any ID number resolves in O(1) to "no such citizen" or to one citizen
//! whose data agree with its digits, citizen *i* of *N* is found by a binary search over the
//! bucket sizes, and a country of 100 million costs the same as one of a thousand.
//!
//! Families are ranks too: a man and the woman of the same rank in a nearby cohort are a
//! couple (unless they share a parent or a grandparent), and a second keyed permutation maps
//! every child to a father (rank, cohort), so parents, spouses and households are other
//! citizens of the same world.
//!
//! The computation is split by concern: `census` (bucket sizes, ranks, enumeration),
//! `families` (fathers, children, couples, lineage, births and deaths), `households` (marriages,
//! homes, heads and members), `documents` (cards, what a card prints), `facets` (what other national systems own: the VNeID
//! account, health insurance), `names` and `religions` (what a lineage and a person are called
//! and believe, by ethnic group, region and birth cohort)
//! and `records` (a citizen's record assembled from them); `find` searches the citizens by
//! filter without enumerating them.

mod census;
pub mod documents;
pub mod facets;
mod families;
pub mod find;
mod households;
pub mod names;
pub mod permutation;
pub mod person;
pub mod personas;
mod records;
pub mod religions;
pub mod rules;
pub mod statistics;

use time::Date;

use self::person::*;
use sandbox06_vn::{CitizenId, Sex, admin::AdminUnits};

pub use documents::{card_qr, printed_address};

/// Oldest age in the database.
const MAX_AGE: i32 = 100;
/// Serial digits per bucket.
const SERIALS: u64 = 1_000_000;
/// Birth-year gaps between a father and his children: 24..24+FATHER_GAPS years.
const FATHER_GAPS: u64 = 16;
const FATHER_GAP_MIN: i32 = 24;
/// Families are grouped into this many communities by rank: a citizen's community is the rank
/// modulo `COMMUNITIES`, and fathers, children and couples (who share a rank) are of one
/// community, so a community keeps its ethnicity and marriages across groups stay rare.
const COMMUNITIES: u32 = 1_000;
/// Share of lineages whose ethnicity is drawn from the province's shares instead of taken from
/// their community's: where they marry, couples of two ethnicities (*estimate*, see docs/domain.md).
const OTHER_LINEAGE: f64 = 0.04;

// Purposes of the random streams: each field has its own, so adding one never shifts another.
const S_SERIAL: u64 = 1;
const S_FAMILY: u64 = 2;
const S_BIRTH: u64 = 3;
const S_SURNAME: u64 = 4;
const S_ETHNIC: u64 = 5;
const S_NAME: u64 = 6;
const S_PARTNER: u64 = 7;
const S_MARRIAGE: u64 = 8;
const S_HOME: u64 = 9;
const S_HOUSEHOLD: u64 = 10;
const S_CARD: u64 = 11;
const S_CMND: u64 = 12;
const S_VNEID: u64 = 13;
const S_INSURANCE: u64 = 14;
const S_MARKS: u64 = 15;
const S_BIRTHPLACE: u64 = 16;
const S_LIFE: u64 = 17;
const S_STAY: u64 = 18;
const S_BARCODE: u64 = 19;
const S_CHILD_CARD: u64 = 20;
const S_HEIR: u64 = 21;
const S_HEAD: u64 = 22;
const S_CMND_DIGITS: u64 = 23;
const S_COMMUNE: u64 = 24;
const S_POVERTY: u64 = 25;
/// Religion, keyed by lineage root; 105 is the key religions were always drawn with.
const S_RELIGION: u64 = 105;

/// How much of a record to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Identity fields: name, date of birth, sex, life, cards, VNeID account. Household,
    /// relatives and the residence are not computed (the residence field holds the place of
    /// birth registration, and cards carry no printed address).
    Basic,
    /// What a record is matched on: name, date of birth, sex and life. Cards and the VNeID
    /// account are not computed either (the record holds none), nor the basic view's rest.
    Identity,
    /// Everything.
    Full,
}

/// Where a generated citizen sits: bucket and rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    province: usize,
    year: i32,
    sex: Sex,
    rank: u32,
}

impl Slot {
    /// The slot as one number, for quick comparison: rank, year, sex and province each in
    /// their own bits (a year of the country's century fits in 16, a province in 15).
    fn key(self) -> u64 {
        u64::from(self.rank)
            | (u64::from(self.year as u16) << 32)
            | (u64::from(self.sex == Sex::Female) << 48)
            | ((self.province as u64) << 49)
    }
}

/// A synthetic country.
#[derive(Debug)]
pub struct Country {
    seed: u64,
    reference: Date,
    min_year: i32,
    sizes: Vec<u32>,
    prefix: Vec<u64>,
    max_bucket: Vec<u32>,
    units: &'static AdminUnits,
    personas: personas::Personas,
    /// The keys ([`Slot::key`]) of the generated slots whose ID number a persona took, in
    /// order: no generated relation points at them.
    persona_slots: Vec<u64>,
}

impl Country {
    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The date ages, cards and statuses are computed for.
    pub fn reference_date(&self) -> Date {
        self.reference
    }

    /// Number of generated citizens.
    pub fn population(&self) -> u64 {
        self.prefix.last().copied().unwrap_or(0)
    }

    /// The hand-written personas.
    pub fn personas(&self) -> &personas::Personas {
        &self.personas
    }

    /// The administrative units.
    pub fn units(&self) -> &'static AdminUnits {
        self.units
    }

    /// What `member` is to `head` as the household registry words it ("Vợ", "Con", "Bố",
    /// "Cháu", …, "Khác" for no kin the database knows), when both are generated citizens;
    /// `None` for a persona or a number no citizen has.
    pub fn relation_to_head(&self, member: CitizenId, head: CitizenId) -> Option<&'static str> {
        let (m, h) = (self.slot_of(member)?, self.slot_of(head)?);
        if self.personas.get(member).is_some() || self.personas.get(head).is_some() {
            return None;
        }
        Some(households::Kin::new(self).relation(m, h))
    }

    /// A citizen's father and mother as the records name them, when they are citizens of the
    /// country: a persona's from its table, a generated citizen's from the family.
    pub fn parents(&self, id: CitizenId) -> [Option<CitizenId>; 2] {
        if let Some(spec) = self.personas.get(id) {
            let parse = |raw: &str| CitizenId::parse_field(raw, "id").ok();
            return spec
                .parents
                .map_or([None, None], |(f, m)| [parse(f), parse(m)]);
        }
        let Some(father) = self.slot_of(id).and_then(|s| self.father_of(s)) else {
            return [None, None];
        };
        [
            Some(self.id_of(father)),
            self.wife_of(father).map(|m| self.id_of(m)),
        ]
    }

    /// Whether two citizens may not marry for blood (Law on Marriage and Family 2014 art.
    /// 5(2)(d)): one is of the other's direct line (a forebear of any generation), or they are
    /// kin within three generations, sharing a parent or a grandparent, as the records name
    /// them ([`Self::parents`]).
    pub fn of_one_blood_ids(&self, a: CitizenId, b: CitizenId) -> bool {
        // Every forebear with its generation (1 for a parent); a century holds at most a few.
        let forebears = |id: CitizenId| -> Vec<(CitizenId, u32)> {
            let mut found: Vec<(CitizenId, u32)> = Vec::new();
            let mut next = 0;
            let mut generation = vec![(id, 0)];
            while let Some(&(x, g)) = generation.get(next) {
                next += 1;
                for parent in self.parents(x).into_iter().flatten() {
                    if g < 8 && !found.iter().any(|&(f, _)| f == parent) {
                        found.push((parent, g + 1));
                        generation.push((parent, g + 1));
                    }
                }
            }
            found
        };
        let (fa, fb) = (forebears(a), forebears(b));
        let near =
            |line: &[(CitizenId, u32)], x: CitizenId| line.iter().any(|&(f, g)| f == x && g <= 2);
        fa.iter().any(|&(f, _)| f == b)
            || fb.iter().any(|&(f, _)| f == a)
            || fa.iter().any(|&(f, g)| g <= 2 && near(&fb, f))
    }

    /// The record of a citizen, or `None` when no citizen has this number.
    pub fn person(&self, id: CitizenId, view: View) -> Option<Person> {
        if let Some(p) = self.personas.person(id, self) {
            return Some(p);
        }
        let slot = self.slot_of(id)?;
        Some(self.generate(slot, id, view))
    }
}

/// The later of two dates.
pub(crate) fn date_max(a: Date, b: Date) -> Date {
    if a > b { a } else { b }
}

#[cfg(test)]
mod tests;
