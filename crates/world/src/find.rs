//! Finding generated citizens by what they are, without enumerating the country.
//!
//! A [`Filter`] first narrows the census to the buckets (province of birth registration ×
//! birth year × sex) that can hold a match: the province, the age range and the sex are what
//! an ID number and its bucket encode, so whole buckets are skipped before any citizen is
//! computed. The ranks of the remaining buckets, one after the other, are the *candidates*;
//! a keyed permutation of the candidates, keyed by the seed and the filter, is the order of the
//! search. So the results are spread over every bucket that can match, and the same seed and
//! filter give the same order everywhere.
//!
//! Each candidate is then tested from the cheapest fact up: the date of birth (the exact age)
//! and the life status, the ethnicity (the father's line only, no name), the cards and the
//! VNeID account (the basic view's facts), and only for marital status and health insurance
//! the full record.
//!
//! A search does bounded work per call ([`Search::budget`], in cost units: one per candidate
//! plus the cost of what is computed for it). It stops when the page is full, when the
//! candidates run out, or when the budget is spent, and says where it stopped ([`Found::next`]):
//! the next call resumes exactly there. A filter that no bucket can satisfy (an age range past
//! the oldest citizen, a card with no card) has no candidates and ends at once.
//!
//! Only generated citizens are found; the hand-written personas are not candidates.

use sandbox06_vn::{CitizenId, Sex};

use crate::{
    Country, Slot, View,
    families::Family,
    permutation::{Permutation, hash_words},
    person::{CardKind, CommuneRef, Life, Marital, Person, Vneid},
    rules::{CARD_AGE, age_on},
};

/// The purpose the search order is keyed with (apart from every field's stream).
const S_FIND: u64 = 0x4649_4e44;

/// Cost units of one candidate looked at (its slot, ID number, date of birth and life).
const COST_CANDIDATE: u64 = 1;
/// Cost units of a candidate's ethnicity (the father's line up to its root).
const COST_LINEAGE: u64 = 2;
/// Cost units of a candidate's cards and VNeID account.
const COST_BASIC: u64 = 4;
/// Cost units of a candidate's full record (household, marriage, insurance).
const COST_FULL: u64 = 40;

/// What the current card must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardFilter {
    /// No current card.
    None,
    /// Some current card, of any kind.
    Any,
    /// A current card of this kind (valid or expired).
    Kind(CardKind),
    /// Asked both no card and a card of some kind: nobody.
    Contradictory,
}

/// What the health insurance must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsuranceFilter {
    /// Not insured.
    Uninsured,
    /// Insured, in any group.
    Insured,
    /// Insured in this object group (the card code's two first letters, e.g. "DN").
    Group(String),
    /// Asked both insured in a group and uninsured: nobody.
    Contradictory,
}

/// What a citizen must be to be found; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Pre-2025 GSO codes of the provinces of birth registration allowed (a 2025 province is
    /// the list of those merged into it); `None` for every province.
    pub provinces: Option<Vec<u8>>,
    /// Youngest age on the reference date, inclusive.
    pub min_age: Option<i32>,
    /// Oldest age on the reference date, inclusive.
    pub max_age: Option<i32>,
    /// Sex.
    pub sex: Option<Sex>,
    /// Ethnic group, as the records write it ("Kinh", "Chăm").
    pub ethnicity: Option<&'static str>,
    /// The current card.
    pub card: Option<CardFilter>,
    /// VNeID account level.
    pub vneid: Option<Vneid>,
    /// Marital status.
    pub marital: Option<Marital>,
    /// Health insurance.
    pub insurance: Option<InsuranceFilter>,
    /// Whether the death is registered.
    pub deceased: Option<bool>,
}

/// The view a test of `filter` needs beyond the date of birth and the life status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Need {
    Nothing,
    Lineage,
    Basic,
    Full,
}

impl Filter {
    /// A number that names the filter, for the search order and for checking that a
    /// continuation belongs to it (stable across runs and builds: no std hasher).
    pub fn key(&self) -> u64 {
        let mut words: Vec<u64> = vec![0xF1];
        let opt = |words: &mut Vec<u64>, v: Option<u64>| match v {
            Some(v) => words.extend([1, v]),
            None => words.push(0),
        };
        match &self.provinces {
            Some(list) => {
                words.push(1 + list.len() as u64);
                words.extend(list.iter().map(|&c| u64::from(c)));
            }
            None => words.push(0),
        }
        opt(&mut words, self.min_age.map(|a| a as u64));
        opt(&mut words, self.max_age.map(|a| a as u64));
        opt(
            &mut words,
            self.sex.map(|s| 1 + u64::from(s == Sex::Female)),
        );
        opt(&mut words, self.ethnicity.map(text_key));
        opt(
            &mut words,
            self.card.map(|c| match c {
                CardFilter::None => 1,
                CardFilter::Any => 2,
                CardFilter::Kind(k) => 3 + k as u64,
                CardFilter::Contradictory => 1 << 63,
            }),
        );
        opt(&mut words, self.vneid.map(|v| v as u64));
        opt(&mut words, self.marital.map(|m| m as u64));
        opt(
            &mut words,
            self.insurance.as_ref().map(|i| match i {
                InsuranceFilter::Uninsured => 1,
                InsuranceFilter::Insured => 2,
                InsuranceFilter::Contradictory => 3,
                InsuranceFilter::Group(g) => text_key(g) | 1 << 63,
            }),
        );
        opt(&mut words, self.deceased.map(u64::from));
        hash_words(&words)
    }

    /// Whether the filter provably matches nobody, whatever the country holds: fields that
    /// contradict each other. (An age range outside the country's is found by the census.)
    pub fn contradicts_itself(&self) -> bool {
        let ages = matches!((self.min_age, self.max_age), (Some(a), Some(b)) if a > b);
        let insured = !matches!(self.insurance, None | Some(InsuranceFilter::Uninsured));
        // A registered death ends the insurance and closes the VNeID account; an account
        // opens at card age, and a change of level is refused below it.
        let dead = self.deceased == Some(true);
        let account = matches!(self.vneid, Some(Vneid::Level1 | Vneid::Level2));
        let child = self.max_age.is_some_and(|a| a < CARD_AGE);
        ages || self.provinces.as_ref().is_some_and(Vec::is_empty)
            || self.insurance == Some(InsuranceFilter::Contradictory)
            || self.card == Some(CardFilter::Contradictory)
            || (account && (dead || child))
            || (dead && insured)
    }

    fn need(&self) -> Need {
        if self.marital.is_some() || self.insurance.is_some() {
            Need::Full
        } else if self.card.is_some() || self.vneid.is_some() {
            Need::Basic
        } else if self.ethnicity.is_some() {
            Need::Lineage
        } else {
            Need::Nothing
        }
    }

    fn age_ok(&self, age: i32) -> bool {
        self.min_age.is_none_or(|m| age >= m) && self.max_age.is_none_or(|m| age <= m)
    }

    fn life_ok(&self, life: Life) -> bool {
        self.deceased
            .is_none_or(|d| d == matches!(life, Life::Deceased(_)))
    }

    fn card_ok(&self, person: &Person) -> bool {
        let current = person.current_card().map(|c| c.kind);
        match self.card {
            None => true,
            Some(CardFilter::None) => current.is_none(),
            Some(CardFilter::Any) => current.is_some(),
            Some(CardFilter::Kind(k)) => current == Some(k),
            Some(CardFilter::Contradictory) => false,
        }
    }

    fn insurance_ok(&self, person: &Person) -> bool {
        match &self.insurance {
            None => true,
            Some(InsuranceFilter::Uninsured) => person.insurance.is_none(),
            Some(InsuranceFilter::Insured) => person.insurance.is_some(),
            Some(InsuranceFilter::Group(g)) => person
                .insurance
                .as_ref()
                .is_some_and(|i| i.card_code.get(..2) == Some(g.as_str())),
            Some(InsuranceFilter::Contradictory) => false,
        }
    }

    /// Whether a record (a generated one, or one with recorded changes applied) matches,
    /// its age taken on `country`'s reference date. The record must hold what the filter
    /// asks about: the full view for marital status and insurance, the basic view for cards
    /// and VNeID.
    pub fn matches(&self, country: &Country, person: &Person) -> bool {
        let province = match person.birth_registration.commune {
            CommuneRef::Pre2025(i) => country.units.communes.get(i as usize).map(|c| c.province),
            CommuneRef::Current(i) => country
                .units
                .communes_2025
                .get(i as usize)
                .and_then(|c| c.predecessor)
                .and_then(|p| country.units.communes.get(p as usize))
                .map(|c| c.province),
        };
        self.provinces
            .as_ref()
            .is_none_or(|list| province.is_some_and(|p| list.contains(&p)))
            && self.age_ok(age_on(person.date_of_birth, country.reference))
            && self.sex.is_none_or(|s| s == person.sex)
            && self.ethnicity.is_none_or(|e| e == person.ethnicity)
            && self.card_ok(person)
            && self.vneid.is_none_or(|v| v == person.vneid.0)
            && self.marital.is_none_or(|m| m == person.marital)
            && self.insurance_ok(person)
            && self.life_ok(person.life)
    }
}

/// A stable number for a short text.
fn text_key(text: &str) -> u64 {
    let mut words: Vec<u64> = vec![text.len() as u64];
    words.extend(text.bytes().map(u64::from));
    hash_words(&words)
}

/// One page of a search, and where the next starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The citizens found, in the search's order.
    pub ids: Vec<CitizenId>,
    /// The position to resume from; `None` when no candidate is left.
    pub next: Option<u64>,
    /// How many candidates this call looked at.
    pub examined: u64,
}

/// One call of a search: where to start, how many to find, how much work to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Search {
    /// Position in the search order to start from: 0, or a previous call's [`Found::next`].
    pub from: u64,
    /// Most citizens to return.
    pub limit: usize,
    /// Most cost units to spend (at least one candidate is always looked at).
    pub budget: u64,
}

/// The buckets a filter can match, with the running count of their candidates.
struct Candidates {
    /// (province position, year, sex, candidates before this bucket).
    buckets: Vec<(usize, i32, Sex, u64)>,
    total: u64,
}

impl Candidates {
    /// The slot of candidate `index` (below `total`).
    fn slot(&self, index: u64) -> Slot {
        let at = self.buckets.partition_point(|b| b.3 <= index) - 1;
        let (province, year, sex, before) = self.buckets[at];
        Slot {
            province,
            year,
            sex,
            rank: (index - before) as u32,
        }
    }
}

impl Country {
    /// The pre-2025 codes of the provinces of birth registration that a code names in one
    /// era: itself before 2025 (when one of the 63), every province merged into it for a
    /// 2025 code (when one of the 34). `None` for a code no province of that era has.
    pub fn provinces_of(&self, code: u8, era_2025: bool) -> Option<Vec<u8>> {
        if era_2025 {
            let list: Vec<u8> = self
                .units
                .provinces
                .iter()
                .filter(|p| p.code_2025 == code)
                .map(|p| p.code)
                .collect();
            (!list.is_empty()).then_some(list)
        } else {
            self.units.province(u16::from(code)).map(|p| vec![p.code])
        }
    }

    fn candidates(&self, filter: &Filter) -> Candidates {
        let mut buckets = Vec::new();
        let mut total = 0u64;
        if filter.contradicts_itself() {
            return Candidates { buckets, total };
        }
        let max_year = self.reference.year();
        // Age a on the reference date: born in the reference year minus a, or the year before.
        let first = filter
            .max_age
            .map_or(self.min_year, |a| (max_year - a - 1).max(self.min_year));
        let last = filter
            .min_age
            .map_or(max_year, |a| (max_year - a).min(max_year));
        let sexes: &[Sex] = match filter.sex {
            Some(Sex::Male) => &[Sex::Male],
            Some(Sex::Female) => &[Sex::Female],
            None => &[Sex::Male, Sex::Female],
        };
        for (position, p) in self.units.provinces.iter().enumerate() {
            if filter
                .provinces
                .as_ref()
                .is_some_and(|list| !list.contains(&p.code))
            {
                continue;
            }
            for year in first..=last {
                for &sex in sexes {
                    let n = u64::from(self.bucket_size(position, year, sex));
                    if n > 0 {
                        buckets.push((position, year, sex, total));
                        total += n;
                    }
                }
            }
        }
        Candidates { buckets, total }
    }

    /// How many candidates a filter leaves after the census: the citizens of the buckets
    /// that can match (0 when the filter provably matches nobody).
    pub fn candidates_of(&self, filter: &Filter) -> u64 {
        self.candidates(filter).total
    }

    /// One call of a search for generated citizens who match `filter` (see the module
    /// documentation): the matches from `search.from` on in an order fixed by the seed and the
    /// filter, at most `search.limit`, within `search.budget`.
    ///
    /// `verdict` may decide a candidate instead of the generated record (`Some(matches)`):
    /// for citizens whose record changed since it was generated. It is asked only about
    /// candidates, whose province, birth year and sex fit the filter.
    pub fn find(
        &self,
        filter: &Filter,
        search: Search,
        verdict: &dyn Fn(CitizenId) -> Option<bool>,
    ) -> Found {
        let candidates = self.candidates(filter);
        let mut found = Found {
            ids: Vec::new(),
            next: None,
            examined: 0,
        };
        if candidates.total == 0 || search.limit == 0 {
            found.next =
                (candidates.total > search.from && search.limit == 0).then_some(search.from);
            return found;
        }
        let order = Permutation::new(
            hash_words(&[self.seed, S_FIND, filter.key()]),
            candidates.total,
        );
        let need = filter.need();
        let mut spent = 0u64;
        let mut at = search.from;
        while at < candidates.total {
            if found.ids.len() >= search.limit || (spent >= search.budget && found.examined > 0) {
                break;
            }
            let s = candidates.slot(order.apply(at));
            at += 1;
            found.examined += 1;
            spent += COST_CANDIDATE;
            let Some(s) = self.slot_at(s.province, s.year, s.sex, s.rank) else {
                continue; // a persona's number
            };
            let id = self.id_of(s);
            let matched = match verdict(id) {
                Some(m) => m,
                None => self.test(filter, need, s, id, &mut spent),
            };
            if matched {
                found.ids.push(id);
            }
        }
        found.next = (at < candidates.total).then_some(at);
        found
    }

    /// Whether the generated citizen at `s` matches, its facts computed cheapest first.
    fn test(&self, filter: &Filter, need: Need, s: Slot, id: CitizenId, spent: &mut u64) -> bool {
        let birth = self.birth_date(s, id);
        if !filter.age_ok(age_on(birth, self.reference)) {
            return false;
        }
        let life = self.life_of(id, birth);
        if !filter.life_ok(life) {
            return false;
        }
        if need == Need::Nothing {
            return true;
        }
        if let Some(ethnicity) = filter.ethnicity {
            *spent += COST_LINEAGE;
            if self.ethnicity_of_root(Family::root(self, s)) != ethnicity {
                return false;
            }
        }
        if need == Need::Lineage {
            return true;
        }
        if need == Need::Basic {
            *spent += COST_BASIC;
            let person = self.generate(s, id, View::Basic);
            return filter.card_ok(&person) && filter.vneid.is_none_or(|v| v == person.vneid.0);
        }
        // Cards and the account first: they rule most candidates out before the full record.
        if filter.card.is_some() || filter.vneid.is_some() {
            *spent += COST_BASIC;
            let person = self.generate(s, id, View::Basic);
            if !(filter.card_ok(&person) && filter.vneid.is_none_or(|v| v == person.vneid.0)) {
                return false;
            }
        }
        *spent += COST_FULL;
        filter.matches(self, &self.generate(s, id, View::Full))
    }
}
