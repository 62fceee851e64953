//! Family structure: fathers and their children by a keyed permutation, couples, and what
//! comes down the father's line (name, ethnicity, religion), with births and deaths.

use sandbox06_vn::{CitizenId, Sex};
use time::{Date, Duration};

use crate::{
    COMMUNITIES, Country, FATHER_GAP_MIN, FATHER_GAPS, OTHER_LINEAGE, S_BIRTH, S_ETHNIC, S_FAMILY,
    S_LIFE, S_NAME, S_PARTNER, S_RELIGION, S_SURNAME, Slot,
    names::NamingCustom,
    permutation::{Permutation, Stream},
    person::Life,
    religions,
    rules::age_on,
};

/// The most candidate children [`Country::each_child`] permutes side by side: every gap and
/// sex, for up to four places of a father (a scaled cohort's fathers have at most four).
const CANDIDATES: usize = 2 * FATHER_GAPS as usize * 4;

impl Country {
    /// How many ranks of a bucket belong to a community ([`COMMUNITIES`]).
    fn community_size(&self, province: usize, year: i32, sex: Sex, community: u32) -> u64 {
        u64::from(
            self.bucket_size(province, year, sex)
                .saturating_sub(community)
                .div_ceil(COMMUNITIES),
        )
    }

    /// The father, in the child's community: the family permutation gives a father's place
    /// among the largest community's `m` places and a birth-year gap. In a cohort of fathers
    /// at least a quarter as large ([`Self::fathers_places`]), the place is scaled to the cohort,
    /// so children of the living generations all have a father; in smaller (older) cohorts,
    /// whose men mostly died, a place beyond the cohort is a father not in the database, and
    /// the child is the first of a lineage (`None`).
    pub(crate) fn father_of(&self, s: Slot) -> Option<Slot> {
        let (community, local) = (s.rank % COMMUNITIES, s.rank / COMMUNITIES);
        let m = self.family_places(s.province);
        let x = self
            .family_permutation(s.province, s.year, s.sex)
            .invert(u64::from(local));
        let year = s.year - FATHER_GAP_MIN - (x % FATHER_GAPS) as i32;
        let n = self.community_size(s.province, year, Sex::Male, community);
        let u = x / FATHER_GAPS;
        let place = if Self::scaled(n, m) { u * n / m } else { u };
        if place >= n {
            return None;
        }
        self.slot_at(
            s.province,
            year,
            Sex::Male,
            place as u32 * COMMUNITIES + community,
        )
    }

    /// Whether fathers' places are scaled to a cohort of `n` places of `m`.
    fn scaled(n: u64, m: u64) -> bool {
        4 * n >= m
    }

    /// The family places ([`Self::father_of`]) that give a father at `place` in a cohort of
    /// `n` places of `m`.
    fn fathers_places(place: u64, n: u64, m: u64) -> std::ops::Range<u64> {
        if Self::scaled(n, m) {
            // floor(u * n / m) == place
            (place * m).div_ceil(n)..((place + 1) * m).div_ceil(n)
        } else {
            place..place + 1
        }
    }

    /// A man's children, eldest first.
    #[cfg(test)]
    pub(crate) fn children_of(&self, father: Slot) -> Vec<Slot> {
        let mut children = Vec::new();
        self.each_child(father, |child| {
            children.push(child);
            true
        });
        children
    }

    /// Whether a man has a child.
    pub(crate) fn has_children(&self, father: Slot) -> bool {
        let mut any = false;
        self.each_child(father, |_| {
            any = true;
            false
        });
        any
    }

    /// Calls `f` with each of a man's children, eldest first, while it returns `true`.
    pub(crate) fn each_child(&self, father: Slot, mut f: impl FnMut(Slot) -> bool) {
        let (community, local) = (
            father.rank % COMMUNITIES,
            u64::from(father.rank / COMMUNITIES),
        );
        let m = self.family_places(father.province);
        let n = self.community_size(father.province, father.year, Sex::Male, community);
        if local >= n {
            return;
        }
        let places = Self::fathers_places(local, n, m);
        if places.is_empty() {
            return;
        }
        // The family permutations of the children's buckets, keyed as
        // [`Self::family_permutation`] keys them, the province's part hashed once.
        let province_key = self.province_key(S_FAMILY, father.province);
        let domain = FATHER_GAPS * m;
        let gaps = (self.reference.year() - father.year - FATHER_GAP_MIN + 1)
            .clamp(0, FATHER_GAPS as i32) as u64;
        let width = (places.end - places.start) as usize;
        let count = gaps as usize * 2 * width;
        if count > CANDIDATES {
            return self.each_child_one_by_one(father, f);
        }
        // Every candidate's place, by gap, sex and place, permuted side by side: the same
        // values as one at a time, sooner (see `Permutation::apply_each`).
        let mut permutations = [Permutation::new(0, domain); 2 * FATHER_GAPS as usize];
        let mut locals = [0u64; CANDIDATES];
        let mut i = 0;
        for gap in 0..gaps {
            let year = father.year + FATHER_GAP_MIN + gap as i32;
            for sex in [Sex::Male, Sex::Female] {
                let key = Self::bucket_key_in(province_key, year, sex);
                permutations[i / width] = Permutation::new(key, domain);
                for u in places.clone() {
                    locals[i] = u * FATHER_GAPS + gap;
                    i += 1;
                }
            }
        }
        Permutation::apply_each(&permutations[..count / width], &mut locals[..count]);
        let mut i = 0;
        for gap in 0..gaps {
            let year = father.year + FATHER_GAP_MIN + gap as i32;
            for sex in [Sex::Male, Sex::Female] {
                for _ in 0..width {
                    let rank = locals[i] as u32 * COMMUNITIES + community;
                    i += 1;
                    if let Some(child) = self.slot_at(father.province, year, sex, rank)
                        && !f(child)
                    {
                        return;
                    }
                }
            }
        }
    }

    /// [`Self::each_child`] one candidate after another: for more candidates than it permutes
    /// side by side.
    pub(crate) fn each_child_one_by_one(&self, father: Slot, mut f: impl FnMut(Slot) -> bool) {
        let (community, local) = (
            father.rank % COMMUNITIES,
            u64::from(father.rank / COMMUNITIES),
        );
        let m = self.family_places(father.province);
        let n = self.community_size(father.province, father.year, Sex::Male, community);
        if local >= n {
            return;
        }
        let places = Self::fathers_places(local, n, m);
        for gap in 0..FATHER_GAPS {
            let year = father.year + FATHER_GAP_MIN + gap as i32;
            if year > self.reference.year() {
                return;
            }
            for sex in [Sex::Male, Sex::Female] {
                let permutation = self.family_permutation(father.province, year, sex);
                for u in places.clone() {
                    let local = permutation.apply(u * FATHER_GAPS + gap) as u32;
                    let rank = local * COMMUNITIES + community;
                    if let Some(child) = self.slot_at(father.province, year, sex, rank)
                        && !f(child)
                    {
                        return;
                    }
                }
            }
        }
    }

    /// Birth-year offset of a man's wife (−1..=5 years younger), keyed by rank. With fathers 24
    /// years or more older than their children (by year of birth), a mother is 19 years or
    /// more older by year, so 18 or more at the birth.
    pub(crate) fn partner_offset(&self, province: usize, rank: u32) -> i32 {
        Stream::new(&[self.seed, S_PARTNER, province as u64, u64::from(rank)]).below(7) as i32 - 1
    }

    /// The citizen of the other sex whose rank and birth-year offset ([`Self::partner_offset`])
    /// pair with this one: the only one a citizen may marry, unless they are of one blood
    /// ([`Family::of_one_blood`]). Symmetric: the partner's partner is the citizen.
    pub(crate) fn partner_slot(&self, s: Slot) -> Option<Slot> {
        let offset = self.partner_offset(s.province, s.rank);
        match s.sex {
            Sex::Male => self.slot_at(s.province, s.year + offset, Sex::Female, s.rank),
            Sex::Female => self.slot_at(s.province, s.year - offset, Sex::Male, s.rank),
        }
    }

    /// A man's wife, when he marries: his partner ([`Self::partner_slot`]) unless they are of
    /// one blood. A mother is her children's father's wife, so this is also who a child's
    /// mother is.
    pub(crate) fn wife_of(&self, husband: Slot) -> Option<Slot> {
        Family::wife(self, husband)
    }

    /// Whether `a` and `b`, of the men two generations up `fa` and `fb`
    /// ([`Family::forebears`]), are of one blood ([`Family::of_one_blood`]).
    fn of_one_blood_by(&self, a: Slot, fa: &Forebears, b: Slot, fb: &Forebears) -> bool {
        let shared = fa.iter().flatten().any(|m| fb.contains(&Some(*m)));
        // In the direct line: one is the other's father or grandfather, or, through her
        // husband, mother or grandmother. The ages of fathers and couples make it impossible;
        // it is checked so that the rule holds by itself. A man's partner is of his province
        // and rank and of the other sex, so only such a woman is looked up.
        let forebear_of = |x: Slot, line: &Forebears| {
            line.iter().flatten().any(|&m| {
                m == x
                    || (m.rank == x.rank
                        && m.province == x.province
                        && m.sex != x.sex
                        && self.partner_slot(m) == Some(x))
            })
        };
        shared || forebear_of(a, fb) || forebear_of(b, fa)
    }

    /// A lineage's ethnicity: its community's, or for [`OTHER_LINEAGE`] of lineages one drawn
    /// from the province's shares. Communities take the province's groups in their shares.
    pub(crate) fn ethnicity_of_root(&self, root: Slot) -> &'static str {
        let p = &self.units.provinces[root.province];
        let mut rng = Stream::new(&[
            self.seed,
            S_ETHNIC,
            root.province as u64,
            u64::from(root.rank),
        ]);
        let community = root.rank % COMMUNITIES;
        let mut x = if rng.chance(OTHER_LINEAGE) {
            rng.unit() * 100.0
        } else {
            (f64::from(community) + 0.5) * 100.0 / f64::from(COMMUNITIES)
        };
        for (group, share) in &p.ethnicities {
            if x < *share {
                return group;
            }
            x -= share;
        }
        "Kinh"
    }

    /// The religion of everyone of a lineage: drawn once, from the ethnic group's table or, for
    /// the Kinh, from the root's province's (see [`religions::draw`]).
    pub(crate) fn religion_of_root(&self, root: Slot, ethnicity: &str) -> &'static str {
        let mut rng = Stream::new(&[
            self.seed,
            S_RELIGION,
            root.province as u64,
            u64::from(root.rank),
        ]);
        religions::draw(
            ethnicity,
            &self.units.provinces[root.province].religions,
            &mut rng,
        )
    }

    pub(crate) fn birth_date(&self, s: Slot, id: CitizenId) -> Date {
        let days = if s.year == self.reference.year() {
            u64::from(self.reference.ordinal())
        } else {
            u64::from(time::util::days_in_year(s.year))
        };
        // In a merged province's bucket, the first ranks were registered (born) before
        // NEW_BIRTHS_PREFIX_FROM under its own prefix, the others from then on under the 2025
        // province's (census).
        let (first, days) = match sandbox06_vn::admin::NEW_BIRTHS_PREFIX_FROM {
            Some(from)
                if from.year() == s.year
                    && self.registered_before(s.province, s.year, s.sex)
                        < self.bucket_size(s.province, s.year, s.sex) =>
            {
                let cut = u64::from(from.ordinal()) - 1;
                if s.rank < self.registered_before(s.province, s.year, s.sex) {
                    (0, days.min(cut).max(1))
                } else {
                    (cut, days.saturating_sub(cut).max(1))
                }
            }
            _ => (0, days),
        };
        let ordinal = 1 + (first + self.stream(S_BIRTH, id).below(days)) as u16;
        Date::from_ordinal_date(s.year, ordinal).unwrap_or(self.reference)
    }

    pub(crate) fn life_of(&self, id: CitizenId, birth: Date) -> Life {
        let age = age_on(birth, self.reference);
        // Deaths are registered from 45 on: a parent's youngest child (born by the parent's 40th
        // year) is then older than the five-year window, so no one dies before a child's birth.
        if age < 45 {
            return Life::Alive;
        }
        let annual = crate::rules::annual_mortality(age);
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
    pub(crate) fn lineage(&self, s: Slot, id: CitizenId) -> (String, &'static str, &'static str) {
        Family::lineage(self, s, id)
    }
}

/// The men two generations up ([`Family::forebears`]).
pub(crate) type Forebears = [Option<Slot>; 3];

/// What a citizen's name and marriage ask of the family: fathers, ID numbers, forebears, wives
/// and the first of a lineage. The country computes each afresh ([`Country`]); one record's
/// kin ([`crate::households::Kin`]) computes each relative's once. Both give the same answers.
pub(crate) trait Family {
    fn country(&self) -> &Country;

    fn father(&self, s: Slot) -> Option<Slot>;

    fn id(&self, s: Slot) -> CitizenId;

    /// The men two generations up: the father, his father, and the father of the father's
    /// partner. A mother is her husband's partner and a grandmother her husband's, so two
    /// citizens share a parent or a grandparent exactly when they share one of these men. The
    /// partner stands for the wife here: where a marriage is refused the partner is no one's
    /// mother, so these are never fewer than the real forebears.
    fn forebears(&self, s: Slot) -> Forebears {
        forebears(self, s)
    }

    /// A man's wife, when he marries: [`Country::wife_of`].
    fn wife(&self, husband: Slot) -> Option<Slot> {
        wife(self, husband)
    }

    /// Whether a man and a woman may not marry (Law on Marriage and Family 2014 art. 5(2)(d)):
    /// one is the other's forebear in the direct line, or they share a parent or a grandparent
    /// (kin within three generations).
    fn of_one_blood(&self, a: Slot, b: Slot) -> bool {
        let (fa, fb) = (self.forebears(a), self.forebears(b));
        self.country().of_one_blood_by(a, &fa, b, &fb)
    }

    /// The first of a citizen's father's line in the database.
    fn root(&self, s: Slot) -> Slot {
        let mut cur = s;
        while let Some(f) = self.father(cur) {
            cur = f;
        }
        cur
    }

    /// The name, ethnicity and religion that come down the father's line (`id` is the
    /// citizen's ID number).
    fn lineage(&self, s: Slot, id: CitizenId) -> (String, &'static str, &'static str) {
        lineage(self, s, id)
    }

    /// Whether a man has a child: [`Country::has_children`].
    fn has_children(&self, father: Slot) -> bool {
        self.country().has_children(father)
    }

    /// Where a family name that comes down the mother's line began: up from the citizen, to
    /// the mother while she names her children the same way, else to the father while he does,
    /// until neither is in the database or of the custom. So a child has the mother's family
    /// name, or, when she is of another custom, the father's.
    fn first_of_name(&self, s: Slot, custom: NamingCustom) -> Slot {
        let c = self.country();
        let same = |x: Slot| NamingCustom::of(c.ethnicity_of_root(self.root(x))) == custom;
        let mut cur = s;
        loop {
            let father = self.father(cur);
            match (father, father.and_then(|f| self.wife(f))) {
                (_, Some(mother)) if same(mother) => cur = mother,
                (Some(father), _) if same(father) => cur = father,
                _ => return cur,
            }
        }
    }

    fn name(&self, s: Slot) -> (CitizenId, String) {
        let id = self.id(s);
        (id, self.lineage(s, id).0)
    }
}

/// [`Family::forebears`], asking `family` for fathers.
pub(crate) fn forebears(family: &(impl Family + ?Sized), s: Slot) -> Forebears {
    let father = family.father(s);
    let grandfather = father.and_then(|f| family.father(f));
    let mothers_father = father
        .and_then(|f| family.country().partner_slot(f))
        .and_then(|m| family.father(m));
    [father, grandfather, mothers_father]
}

/// [`Family::lineage`], asking `family` for roots, fathers and wives.
pub(crate) fn lineage(
    family: &(impl Family + ?Sized),
    s: Slot,
    id: CitizenId,
) -> (String, &'static str, &'static str) {
    let c = family.country();
    let root = family.root(s);
    let ethnicity = c.ethnicity_of_root(root);
    let religion = c.religion_of_root(root, ethnicity);
    let custom = NamingCustom::of(ethnicity);
    // The family name comes down the father's line, or the mother's where children take
    // their mother's.
    let root = if custom.matrilineal() {
        family.first_of_name(s, custom)
    } else {
        root
    };
    let root_id = family.id(root);
    let root_province = c.units.provinces[root.province].code;
    let surname = custom.family(root_province, &mut c.stream(S_SURNAME, root_id));
    let province = c.units.provinces[s.province].code;
    let name = custom.full_name(surname, s.sex, s.year, province, &mut c.stream(S_NAME, id));
    (name, ethnicity, religion)
}

/// [`Family::wife`], asking `family` for forebears.
pub(crate) fn wife(family: &(impl Family + ?Sized), husband: Slot) -> Option<Slot> {
    let wife = family.country().partner_slot(husband)?;
    (!family.of_one_blood(husband, wife)).then_some(wife)
}

impl Family for Country {
    fn country(&self) -> &Country {
        self
    }

    fn father(&self, s: Slot) -> Option<Slot> {
        self.father_of(s)
    }

    fn id(&self, s: Slot) -> CitizenId {
        self.id_of(s)
    }
}
