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
//! couple, and a second keyed permutation maps every child to a father (rank, cohort), so
//! parents, spouses and households are other citizens of the same world.

pub mod documents;
mod names;
pub mod permutation;
pub mod person;
pub mod personas;
pub mod rules;

use time::{Date, Duration, Month};

use self::{
    names::{MARKS, NamingCustom, STREETS},
    permutation::{Permutation, Stream, hash_words},
    person::*,
    rules::{CARD_AGE, CHIP_CARDS_FROM, CMND_UNTIL, add_years, age_on, card_expiry},
};
use sandbox06_vn::{
    CitizenId, Sex,
    admin::{ADMIN_UNITS, AdminUnits},
};

pub use documents::{card_qr, printed_address};

/// Oldest age in the database.
const MAX_AGE: i32 = 100;
/// Serial digits per bucket.
const SERIALS: u64 = 1_000_000;
/// Birth-year gaps between a father and his children: 24..24+FATHER_GAPS years.
const FATHER_GAPS: u64 = 16;
const FATHER_GAP_MIN: i32 = 24;

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

/// How much of a record to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Identity fields: name, date of birth, sex, life, cards. Household, relatives and the
    /// residence are not computed (the residence field holds the place of birth registration,
    /// and cards carry no printed address).
    Basic,
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
    /// Generated slots whose ID number a persona took: no generated relation points at them.
    persona_slots: Vec<Slot>,
}

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

    fn years(&self) -> usize {
        (self.reference.year() - self.min_year + 1) as usize
    }

    fn bucket_index(&self, province: usize, year: i32, sex: Sex) -> Option<usize> {
        if year < self.min_year || year > self.reference.year() {
            return None;
        }
        Some(
            (province * self.years() + (year - self.min_year) as usize) * 2
                + usize::from(sex == Sex::Female),
        )
    }

    fn bucket_size(&self, province: usize, year: i32, sex: Sex) -> u32 {
        self.bucket_index(province, year, sex)
            .map_or(0, |i| self.sizes[i])
    }

    /// The key of one bucket's permutation for one purpose.
    fn bucket_key(&self, purpose: u64, province: usize, year: i32, sex: Sex) -> u64 {
        hash_words(&[self.seed, purpose, province as u64, year as u64, sex as u64])
    }

    fn serial_permutation(&self, province: usize, year: i32, sex: Sex) -> Permutation {
        Permutation::new(self.bucket_key(S_SERIAL, province, year, sex), SERIALS)
    }

    fn family_permutation(&self, province: usize, year: i32, sex: Sex) -> Permutation {
        let domain = FATHER_GAPS * u64::from(self.max_bucket[province]);
        Permutation::new(self.bucket_key(S_FAMILY, province, year, sex), domain)
    }

    fn slot_of(&self, id: CitizenId) -> Option<Slot> {
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

    fn slot_at(&self, province: usize, year: i32, sex: Sex, rank: u32) -> Option<Slot> {
        let slot = Slot {
            province,
            year,
            sex,
            rank,
        };
        (rank < self.bucket_size(province, year, sex) && !self.persona_slots.contains(&slot))
            .then_some(slot)
    }

    fn id_of(&self, s: Slot) -> CitizenId {
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

    fn stream(&self, purpose: u64, id: CitizenId) -> Stream {
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

    /// The record of a citizen, or `None` when no citizen has this number.
    pub fn person(&self, id: CitizenId, view: View) -> Option<Person> {
        if let Some(p) = self.personas.person(id, self) {
            return Some(p);
        }
        let slot = self.slot_of(id)?;
        Some(self.generate(slot, id, view))
    }

    // ---- family structure -------------------------------------------------------------

    fn father_of(&self, s: Slot) -> Option<Slot> {
        let x = self
            .family_permutation(s.province, s.year, s.sex)
            .invert(u64::from(s.rank));
        let rank = (x / FATHER_GAPS) as u32;
        let year = s.year - FATHER_GAP_MIN - (x % FATHER_GAPS) as i32;
        self.slot_at(s.province, year, Sex::Male, rank)
    }

    fn children_of(&self, father: Slot) -> Vec<Slot> {
        let mut children = Vec::new();
        for gap in 0..FATHER_GAPS {
            let year = father.year + FATHER_GAP_MIN + gap as i32;
            if year > self.reference.year() {
                break;
            }
            for sex in [Sex::Male, Sex::Female] {
                let x = u64::from(father.rank) * FATHER_GAPS + gap;
                let rank = self.family_permutation(father.province, year, sex).apply(x) as u32;
                if let Some(child) = self.slot_at(father.province, year, sex, rank) {
                    children.push(child);
                }
            }
        }
        children
    }

    /// Birth-year offset of a man's wife (−1..=6 years younger), keyed by rank.
    fn partner_offset(&self, province: usize, rank: u32) -> i32 {
        Stream::new(&[self.seed, S_PARTNER, province as u64, u64::from(rank)]).below(8) as i32 - 1
    }

    fn partner_slot(&self, s: Slot) -> Option<Slot> {
        let offset = self.partner_offset(s.province, s.rank);
        match s.sex {
            Sex::Male => self.slot_at(s.province, s.year + offset, Sex::Female, s.rank),
            Sex::Female => self.slot_at(s.province, s.year - offset, Sex::Male, s.rank),
        }
    }

    fn root_of(&self, s: Slot) -> Slot {
        let mut cur = s;
        while let Some(f) = self.father_of(cur) {
            cur = f;
        }
        cur
    }

    fn ethnicity_of_root(&self, root: Slot) -> &'static str {
        let p = &self.units.provinces[root.province];
        let mut rng = Stream::new(&[
            self.seed,
            S_ETHNIC,
            root.province as u64,
            u64::from(root.rank),
        ]);
        let mut x = rng.unit() * 100.0;
        for (group, share) in &p.ethnicities {
            if x < *share {
                return group;
            }
            x -= share;
        }
        "Kinh"
    }

    fn religion_of_root(&self, root: Slot, ethnicity: &str) -> &'static str {
        let mut rng = Stream::new(&[
            self.seed,
            S_ETHNIC + 100,
            root.province as u64,
            u64::from(root.rank),
        ]);
        let by_group: Option<&[(&'static str, f64)]> = match ethnicity {
            "Chăm" => Some(&[("Bà-la-môn", 40.0), ("Hồi giáo", 40.0), ("Không", 20.0)]),
            "Khmer" => Some(&[("Phật giáo", 90.0), ("Không", 10.0)]),
            "Hoa" => Some(&[("Phật giáo", 45.0), ("Không", 55.0)]),
            "H'Mông" | "Ê Đê" | "Gia Rai" | "Ba Na" | "M'Nông" | "Cơ Ho" => {
                Some(&[("Tin lành", 30.0), ("Công giáo", 15.0), ("Không", 55.0)])
            }
            "Kinh" => None,
            _ => Some(&[("Không", 100.0)]),
        };
        if let Some(table) = by_group {
            return rng.weighted(table);
        }
        let mut x = rng.unit() * 100.0;
        for (religion, share) in &self.units.provinces[root.province].religions {
            if x < *share {
                return religion;
            }
            x -= share;
        }
        "Không"
    }

    fn birth_date(&self, s: Slot, id: CitizenId) -> Date {
        let days = if s.year == self.reference.year() {
            u64::from(self.reference.ordinal())
        } else {
            u64::from(time::util::days_in_year(s.year))
        };
        let ordinal = 1 + self.stream(S_BIRTH, id).below(days) as u16;
        Date::from_ordinal_date(s.year, ordinal).unwrap_or(self.reference)
    }

    fn life_of(&self, id: CitizenId, birth: Date) -> Life {
        let age = age_on(birth, self.reference);
        // Deaths are registered from 45 on: a parent's youngest child (born by the parent's 40th
        // year) is then older than the five-year window, so no one dies before a child's birth.
        if age < 45 {
            return Life::Alive;
        }
        let annual = (0.000_03 * (0.097 * f64::from(age)).exp()).min(0.3);
        let mut rng = self.stream(S_LIFE, id);
        // The database holds deaths registered in the last five years.
        if rng.chance((5.0 * annual).min(0.9)) {
            let window = (self.reference - birth).whole_days().clamp(1, 5 * 365);
            let died = self.reference - Duration::days(rng.below(window as u64) as i64);
            Life::Deceased(died.max(birth))
        } else {
            Life::Alive
        }
    }

    /// The name, ethnicity and religion that come down the father's line.
    fn lineage(&self, s: Slot, id: CitizenId) -> (String, &'static str, &'static str) {
        let root = self.root_of(s);
        let root_id = self.id_of(root);
        let ethnicity = self.ethnicity_of_root(root);
        let religion = self.religion_of_root(root, ethnicity);
        let custom = NamingCustom::of(ethnicity);
        let family = custom.family(&mut self.stream(S_SURNAME, root_id));
        let name = custom.full_name(family, s.sex, s.year, &mut self.stream(S_NAME, id));
        (name, ethnicity, religion)
    }

    fn name_of(&self, s: Slot) -> (CitizenId, String) {
        let id = self.id_of(s);
        (id, self.lineage(s, id).0)
    }

    // ---- marriage and households ------------------------------------------------------

    /// Whether the couple headed by `husband` is (or was) married, and whether divorced.
    fn couple(&self, husband: Slot) -> Option<(Slot, bool)> {
        let wife = self.partner_slot(husband)?;
        let husband_id = self.id_of(husband);
        let wife_id = self.id_of(wife);
        // Marriageable age (Law on Marriage and Family 2014 art. 8): men 20, women 18, by date.
        let age_h = age_on(self.birth_date(husband, husband_id), self.reference);
        let age_w = age_on(self.birth_date(wife, wife_id), self.reference);
        if age_h < 20 || age_w < 18 {
            return None;
        }
        let mut rng = self.stream(S_MARRIAGE, husband_id);
        let p = match age_h {
            ..23 => 0.15,
            23..26 => 0.4,
            26..30 => 0.65,
            30..35 => 0.82,
            _ => 0.9,
        };
        let married = rng.chance(p) || !self.children_of(husband).is_empty();
        married.then(|| (wife, rng.chance(0.03)))
    }

    fn spouse_of(&self, s: Slot) -> Option<(Slot, bool)> {
        match s.sex {
            Sex::Male => self.couple(s),
            Sex::Female => {
                let husband = self.partner_slot(s)?;
                let (wife, divorced) = self.couple(husband)?;
                (wife == s).then_some((husband, divorced))
            }
        }
    }

    fn own_home(&self, id: CitizenId, birth_province: usize) -> Place {
        let mut rng = self.stream(S_HOME, id);
        let units = self.units;
        let province = if rng.chance(0.85) {
            birth_province
        } else {
            // Migration concentrates on the southern industrial hubs and the two cities.
            let hubs: [(u16, f64); 5] = [(79, 5.0), (1, 3.0), (74, 3.0), (75, 1.5), (48, 1.0)];
            let code = rng.weighted(&hubs);
            units.province_position(code).unwrap_or(birth_province)
        };
        let p = &units.provinces[province];
        let span = u64::from(p.communes.end - p.communes.start).max(1);
        let commune = p.communes.start + rng.below(span) as u32;
        Place {
            commune: CommuneRef::Pre2025(commune),
            street: self.street(&mut rng, commune),
        }
    }

    fn street(&self, rng: &mut Stream, commune: u32) -> String {
        let c = &self.units.communes[commune as usize];
        if c.name.starts_with("Xã") {
            if c.province >= 70 {
                format!("Ấp {}", 1 + rng.below(9))
            } else {
                format!("Thôn {}", 1 + rng.below(12))
            }
        } else if rng.chance(0.5) {
            format!("Số {} đường {}", 1 + rng.below(300), rng.pick(STREETS))
        } else {
            format!("Tổ {}, Khu phố {}", 1 + rng.below(20), 1 + rng.below(8))
        }
    }

    /// Whether a never-married citizen under 30 lives with a parent: every minor does, most
    /// young adults.
    fn stays_with_parents(&self, child: Slot, child_id: CitizenId) -> bool {
        let age = age_on(self.birth_date(child, child_id), self.reference);
        if age >= 30 || self.spouse_of(child).is_some() {
            return false;
        }
        age < 18 || self.stream(S_STAY, child_id).chance(0.6)
    }

    fn is_alive_slot(&self, s: Slot) -> (CitizenId, bool) {
        let id = self.id_of(s);
        let alive = self.life_of(id, self.birth_date(s, id)) == Life::Alive;
        (id, alive)
    }

    /// The household head's slot and this citizen's relation to the head: a married woman
    /// lives with her husband, a married man heads his household, a child who stays with the
    /// parents lives with the father, or the mother when the father is dead or not a head.
    fn household_head(&self, s: Slot, id: CitizenId) -> (Slot, &'static str) {
        match (s.sex, self.spouse_of(s)) {
            (Sex::Female, Some((husband, false))) if self.is_alive_slot(husband).1 => {
                return (husband, "Vợ");
            }
            (Sex::Male, Some((_, false))) => return (s, "Chủ hộ"),
            _ => {}
        }
        if self.stays_with_parents(s, id)
            && let Some(father) = self.father_of(s)
        {
            for parent in [Some(father), self.partner_slot(father)]
                .into_iter()
                .flatten()
            {
                let (parent_id, alive) = self.is_alive_slot(parent);
                if alive && self.household_head(parent, parent_id).0 == parent {
                    return (parent, "Con");
                }
            }
        }
        (s, "Chủ hộ")
    }

    /// Everyone whose own record names `head` as head of household, head first.
    fn household(&self, head: Slot, head_id: CitizenId, relation: &'static str) -> Household {
        let (_, head_name) = self.name_of(head);
        let mut members = vec![Member {
            id: head_id,
            full_name: head_name.clone(),
            relation: "Chủ hộ",
        }];
        let mut consider = |slot: Slot, relation: &'static str| {
            let (id, alive) = self.is_alive_slot(slot);
            if alive && self.household_head(slot, id).0 == head {
                members.push(Member {
                    id,
                    full_name: self.name_of(slot).1,
                    relation,
                });
            }
        };
        // The couple's slot is the husband's: a woman's children are her partner's.
        let husband = match head.sex {
            Sex::Male => Some(head),
            Sex::Female => self.partner_slot(head),
        };
        if head.sex == Sex::Male
            && let Some(wife) = self.partner_slot(head)
        {
            consider(wife, "Vợ");
        }
        for child in husband.map(|h| self.children_of(h)).unwrap_or_default() {
            consider(child, "Con");
        }
        let code = format!(
            "{:012}",
            self.stream(S_HOUSEHOLD, head_id).below(1_000_000_000_000)
        );
        Household {
            code,
            head: head_id,
            head_name,
            relation,
            members,
        }
    }

    // ---- documents and accounts -------------------------------------------------------

    fn cards(
        &self,
        id: CitizenId,
        birth: Date,
        life: Life,
        address: Option<&Place>,
    ) -> (Vec<Card>, Option<String>) {
        let mut rng = self.stream(S_CARD, id);
        let until = match life {
            Life::Alive => self.reference,
            Life::Deceased(d) => d,
        };
        let fourteen = add_years(birth, CARD_AGE);
        let mut cards: Vec<Card> = Vec::new();
        let mut old_id = None;
        if fourteen < CMND_UNTIL {
            let mut cmnd_rng = self.stream(S_CMND, id);
            let number = format!("{:09}", 10_000_000 + cmnd_rng.below(389_999_999));
            // 9-digit CMND numbers date from 1999; older holders were re-issued one then.
            let from = date_max(fourteen, rules::CMND_FROM);
            let issued = (from + Duration::days(cmnd_rng.below(6 * 365) as i64)).min(CMND_UNTIL);
            cards.push(Card {
                number: number.clone(),
                kind: CardKind::Cmnd,
                issued,
                expires: Some(add_years(issued, 15)),
                standing: CardStanding::Superseded,
                printed_address: address.cloned(),
            });
            old_id = Some(number);
        }
        let first = if fourteen < CHIP_CARDS_FROM {
            CHIP_CARDS_FROM + Duration::days(rng.below(700) as i64)
        } else {
            fourteen + Duration::days(rng.below(180) as i64)
        };
        let mut issued = first;
        while issued <= until {
            let expires = card_expiry(birth, issued);
            cards.push(Card {
                number: id.to_string(),
                kind: CardKind::issued_on(issued),
                issued,
                expires,
                standing: CardStanding::Valid,
                printed_address: address.cloned(),
            });
            let lost = rng
                .chance(0.015)
                .then(|| issued + Duration::days(30 + rng.below(900) as i64));
            let renewal = match expires {
                Some(e) if rng.chance(0.92) => Some(e + Duration::days(rng.below(45) as i64)),
                _ => None,
            };
            let next = match (lost, renewal) {
                (Some(l), Some(r)) => Some(l.min(r)),
                (l, r) => l.or(r),
            };
            match next {
                Some(n) if n <= until => issued = n,
                _ => break,
            }
        }
        // Newest first; the newest card of any kind is the current one, the others superseded.
        cards.sort_by_key(|c| std::cmp::Reverse(c.issued));
        for (i, card) in cards.iter_mut().enumerate() {
            card.standing = if i > 0 {
                CardStanding::Superseded
            } else if matches!(life, Life::Deceased(_)) {
                CardStanding::Revoked
            } else if card.expires.is_some_and(|e| e < self.reference) {
                CardStanding::Expired
            } else {
                CardStanding::Valid
            };
        }
        (cards, old_id)
    }

    /// VNeID account: registering needs the chip of a CCCD or Căn cước card, so an account
    /// opens after the first such card, from the app's launch in July 2022.
    fn vneid(
        &self,
        id: CitizenId,
        birth: Date,
        life: Life,
        cards: &[Card],
    ) -> (Vneid, Option<Date>) {
        let age = age_on(birth, self.reference);
        let first_chip = cards
            .iter()
            .filter(|c| c.kind != CardKind::Cmnd)
            .map(|c| c.issued)
            .min();
        let Some(first_chip) = first_chip.filter(|_| age >= CARD_AGE && life == Life::Alive) else {
            return (Vneid::None, None);
        };
        let mut rng = self.stream(S_VNEID, id);
        let (p2, p1) = if age > 75 { (0.35, 0.15) } else { (0.62, 0.18) };
        let x = rng.unit();
        let level = if x < p2 {
            Vneid::Level2
        } else if x < p2 + p1 {
            Vneid::Level1
        } else {
            return (Vneid::None, None);
        };
        let start = date_max(rules::VNEID_FROM, first_chip);
        let span = (self.reference - start).whole_days().max(1) as u64;
        (level, Some(start + Duration::days(rng.below(span) as i64)))
    }

    fn insurance(&self, id: CitizenId, birth: Date, residence_province: u8) -> Option<Insurance> {
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

    /// The 2025 province code of a place.
    pub fn province_2025_of(&self, place: &Place) -> u8 {
        match place.commune {
            CommuneRef::Pre2025(i) => {
                let c = &self.units.communes[i as usize];
                self.units.communes_2025[c.current as usize].province
            }
            CommuneRef::Current(i) => self.units.communes_2025[i as usize].province,
        }
    }

    fn birth_place(&self, s: Slot, id: CitizenId) -> Place {
        let p = &self.units.provinces[s.province];
        let span = u64::from(p.communes.end - p.communes.start).max(1);
        let commune = p.communes.start + self.stream(S_BIRTHPLACE, id).below(span) as u32;
        Place {
            commune: CommuneRef::Pre2025(commune),
            street: String::new(),
        }
    }

    fn relative(&self, s: Slot) -> Relative {
        let (id, full_name) = self.name_of(s);
        Relative {
            id: Some(id),
            full_name,
            birth_year: s.year,
        }
    }

    fn generate(&self, s: Slot, id: CitizenId, view: View) -> Person {
        let date_of_birth = self.birth_date(s, id);
        let life = self.life_of(id, date_of_birth);
        let (full_name, ethnicity, religion) = self.lineage(s, id);
        let birth_registration = self.birth_place(s, id);
        // The basic view skips the household, so it has no residence to print on cards either.
        let home = (view == View::Full).then(|| {
            let (head, relation) = self.household_head(s, id);
            let head_id = if head == s { id } else { self.id_of(head) };
            (
                head,
                head_id,
                relation,
                self.own_home(head_id, head.province),
            )
        });
        let (cards, old_id_number) = self.cards(
            id,
            date_of_birth,
            life,
            home.as_ref().map(|(.., place)| place),
        );
        let residence = home
            .as_ref()
            .map_or_else(|| birth_registration.clone(), |(.., place)| place.clone());
        let mut person = Person {
            id,
            full_name,
            date_of_birth,
            sex: s.sex,
            ethnicity,
            religion,
            home_town: birth_registration.clone(),
            birth_registration,
            residence,
            previous_residences: Vec::new(),
            life,
            cards,
            old_id_number,
            marital: Marital::Single,
            father: None,
            mother: None,
            spouse: None,
            household: None,
            vneid: (Vneid::None, None),
            insurance: None,
            marks: String::new(),
            persona: None,
        };
        let Some((head, head_id, relation, _)) = home else {
            return person;
        };
        let father = self.father_of(s);
        if let Some(f) = father {
            let root = self.root_of(f);
            person.home_town = self.birth_place(root, self.id_of(root));
            person.father = Some(self.relative(f));
            person.mother = self.partner_slot(f).map(|m| self.relative(m));
        }
        if let Some((spouse, divorced)) = self.spouse_of(s) {
            let spouse_alive = self.is_alive_slot(spouse).1;
            person.marital = if divorced {
                Marital::Divorced
            } else if !spouse_alive && life == Life::Alive {
                Marital::Widowed
            } else {
                Marital::Married
            };
            if !divorced {
                person.spouse = Some(self.relative(spouse));
            }
        }
        if life == Life::Alive {
            person.household = Some(self.household(head, head_id, relation));
        }
        person.vneid = self.vneid(id, date_of_birth, life, &person.cards);
        person.insurance = if life == Life::Alive {
            self.insurance(id, date_of_birth, self.province_2025_of(&person.residence))
        } else {
            None
        };
        if age_on(date_of_birth, self.reference) >= CARD_AGE {
            person.marks = (*self.stream(S_MARKS, id).pick(MARKS)).to_owned();
        }
        person
    }
}

fn date_max(a: Date, b: Date) -> Date {
    if a > b { a } else { b }
}

#[cfg(test)]
mod tests;
