//! Marriages and households: who is married or divorced, where a household lives, who heads
//! it and who belongs to it.

use std::{cell::RefCell, rc::Rc};

use sandbox06_vn::{CitizenId, Sex};
use time::Date;

use crate::{
    Country, S_HEAD, S_HEIR, S_HOME, S_HOUSEHOLD, S_MARRIAGE, S_STAY, Slot,
    families::{self, Family, Forebears},
    names::STREETS,
    permutation::Stream,
    person::{CommuneRef, Household, Life, Member, Place},
    rules::age_on,
};

/// Share of families in which the eldest married son keeps his parents' home with his wife
/// and children (*estimate*, see docs/domain.md).
pub const HEIR_AT_HOME: f64 = 0.85;
/// Age from which a father hands the headship of the home to the son who keeps it.
pub const HANDOVER_AGE: i32 = 75;
/// Share of couples on their own whose household the wife heads (*estimate*).
pub const WIFE_HEADS: f64 = 0.15;
/// Share of single or divorced adults under 30 who live with a parent (*estimate*).
pub const STAYS_UNDER_30: f64 = 0.9;
/// Share of single or divorced adults from 30 who live with a parent (*estimate*).
pub const STAYS_FROM_30: f64 = 0.6;

impl Country {
    /// Whether the couple headed by `husband` is (or was) married, and whether divorced. A man
    /// and his partner of one blood ([`Family::of_one_blood`]) do not marry: he stays single,
    /// and the mother of his children is no one in the database.
    #[cfg(test)]
    pub(crate) fn couple(&self, husband: Slot) -> Option<(Slot, bool)> {
        self.couple_in(self, husband)
    }

    /// [`Self::couple`], asking `family` for wives and ID numbers.
    fn couple_in(&self, family: &impl Family, husband: Slot) -> Option<(Slot, bool)> {
        let wife = family.wife(husband)?;
        let husband_id = family.id(husband);
        let wife_id = family.id(wife);
        // Marriageable age (Law on Marriage and Family 2014 art. 8): men 20, women 18, by date.
        let age_h = age_on(self.birth_date(husband, husband_id), self.reference);
        let age_w = age_on(self.birth_date(wife, wife_id), self.reference);
        if age_h < 20 || age_w < 18 {
            return None;
        }
        let mut rng = self.stream(S_MARRIAGE, husband_id);
        // Ever married by age (*estimate*; about 4 in 100 men never marry).
        let p = match age_h {
            ..23 => 0.15,
            23..26 => 0.4,
            26..30 => 0.7,
            30..35 => 0.88,
            _ => 0.96,
        };
        let married = rng.chance(p) || self.has_children(husband);
        married.then(|| (wife, rng.chance(0.03)))
    }

    pub(crate) fn own_home(&self, id: CitizenId, birth_province: usize) -> Place {
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

    pub(crate) fn street(&self, rng: &mut Stream, commune: u32) -> String {
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
}

/// What one record's household asks of the citizen's kin, each fact computed once: a
/// household is found by following parents, couples and heirs, and its members by asking the
/// same of every relative who may live there.
pub(crate) struct Kin<'a> {
    country: &'a Country,
    relatives: RefCell<Relatives>,
}

/// The few dozen relatives one record asks about, in the order first asked, found by their
/// slot's [`Slot::key`] through a small open-addressing table.
struct Relatives {
    keys: Vec<u64>,
    known: Vec<Known>,
    /// Positions in `keys` plus one, 0 for none, at the key's hash (probing onwards).
    table: Vec<u32>,
}

/// What is known of one relative, each fact filled in when first asked.
#[derive(Default)]
struct Known {
    id: Option<CitizenId>,
    facts: Option<Facts>,
    couple: Option<Option<(Slot, bool)>>,
    father: Option<Option<Slot>>,
    forebears: Option<Forebears>,
    wife: Option<Option<Slot>>,
    root: Option<Slot>,
    children: Option<Rc<[Slot]>>,
    heir: Option<Option<Slot>>,
    head: Option<Slot>,
}

#[derive(Debug, Clone, Copy)]
struct Facts {
    birth: Date,
    alive: bool,
}

impl Relatives {
    fn new() -> Self {
        Relatives {
            keys: Vec::with_capacity(64),
            known: Vec::with_capacity(64),
            table: vec![0; 128],
        }
    }

    fn bucket(key: u64, len: usize) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & (len - 1)
    }

    /// The position of a relative, added when first asked.
    fn position(&mut self, key: u64) -> usize {
        let mask = self.table.len() - 1;
        let mut b = Self::bucket(key, self.table.len());
        loop {
            match self.table[b] {
                0 => break,
                p if self.keys[p as usize - 1] == key => return p as usize - 1,
                _ => b = (b + 1) & mask,
            }
        }
        let position = self.keys.len();
        self.keys.push(key);
        self.known.push(Known::default());
        self.table[b] = position as u32 + 1;
        if 2 * self.keys.len() > self.table.len() {
            // At most half full: probes stay short.
            let len = 2 * self.table.len();
            self.table = vec![0; len];
            for (p, &k) in self.keys.iter().enumerate() {
                let mut b = Self::bucket(k, len);
                while self.table[b] != 0 {
                    b = (b + 1) & (len - 1);
                }
                self.table[b] = p as u32 + 1;
            }
        }
        position
    }
}

impl Family for Kin<'_> {
    fn country(&self) -> &Country {
        self.country
    }

    fn father(&self, s: Slot) -> Option<Slot> {
        self.cached(s, |k| &mut k.father, || self.country.father_of(s))
    }

    fn id(&self, s: Slot) -> CitizenId {
        self.cached(s, |k| &mut k.id, || self.country.id_of(s))
    }

    fn forebears(&self, s: Slot) -> Forebears {
        self.cached(s, |k| &mut k.forebears, || families::forebears(self, s))
    }

    fn wife(&self, husband: Slot) -> Option<Slot> {
        self.cached(husband, |k| &mut k.wife, || families::wife(self, husband))
    }

    fn root(&self, s: Slot) -> Slot {
        self.cached(
            s,
            |k| &mut k.root,
            || self.father(s).map_or(s, |f| self.root(f)),
        )
    }
}

impl<'a> Kin<'a> {
    pub(crate) fn new(country: &'a Country) -> Self {
        Kin {
            country,
            relatives: RefCell::new(Relatives::new()),
        }
    }

    /// The fact `field` of a relative, computed by `f` the first time.
    fn cached<V: Clone>(
        &self,
        s: Slot,
        field: fn(&mut Known) -> &mut Option<V>,
        f: impl FnOnce() -> V,
    ) -> V {
        let position = {
            let mut relatives = self.relatives.borrow_mut();
            let position = relatives.position(s.key());
            if let Some(v) = field(&mut relatives.known[position]) {
                return v.clone();
            }
            position
        };
        let v = f();
        *field(&mut self.relatives.borrow_mut().known[position]) = Some(v.clone());
        v
    }

    fn facts(&self, s: Slot) -> Facts {
        self.cached(
            s,
            |k| &mut k.facts,
            || {
                let c = self.country;
                let id = Family::id(self, s);
                let birth = c.birth_date(s, id);
                Facts {
                    birth,
                    alive: c.life_of(id, birth) == Life::Alive,
                }
            },
        )
    }

    pub(crate) fn alive(&self, s: Slot) -> bool {
        self.facts(s).alive
    }

    fn age(&self, s: Slot) -> i32 {
        age_on(self.facts(s).birth, self.country.reference)
    }

    fn children(&self, father: Slot) -> Rc<[Slot]> {
        self.cached(
            father,
            |k| &mut k.children,
            || {
                // Gathered on the stack: the list is allocated once, at its length.
                let (mut children, mut count, mut more) = ([father; 16], 0, Vec::new());
                self.country.each_child(father, |child| {
                    match children.get_mut(count) {
                        Some(place) => *place = child,
                        None => more.push(child),
                    }
                    count += 1;
                    true
                });
                let first = &children[..count.min(children.len())];
                if more.is_empty() {
                    Rc::from(first)
                } else {
                    first.iter().copied().chain(more).collect()
                }
            },
        )
    }

    /// A man's wife and whether they divorced, when he married.
    fn couple(&self, husband: Slot) -> Option<(Slot, bool)> {
        self.cached(
            husband,
            |k| &mut k.couple,
            || self.country.couple_in(self, husband),
        )
    }

    pub(crate) fn spouse(&self, s: Slot) -> Option<(Slot, bool)> {
        match s.sex {
            Sex::Male => self.couple(s),
            Sex::Female => {
                let husband = self.country.partner_slot(s)?;
                let (wife, divorced) = self.couple(husband)?;
                (wife == s).then_some((husband, divorced))
            }
        }
    }

    /// The husband of the couple a citizen belongs to, while it lasts (married, or widowed):
    /// the citizen for a man, her husband for a woman; `None` for the single and divorced.
    fn couple_of(&self, s: Slot) -> Option<Slot> {
        match self.spouse(s)? {
            (_, true) => None,
            (husband, false) if s.sex == Sex::Female => Some(husband),
            _ => Some(s),
        }
    }

    /// A citizen's parents, the one to live with first: the mother first when they divorced.
    fn parents(&self, s: Slot) -> ([Option<Slot>; 2], bool) {
        let Some(father) = self.father(s) else {
            return ([None, None], false);
        };
        match self.couple(father) {
            Some((mother, true)) => ([Some(mother), Some(father)], true),
            Some((mother, false)) => ([Some(father), Some(mother)], false),
            None => ([Some(father), None], false),
        }
    }

    fn is_parent(&self, parent: Slot, child: Slot) -> bool {
        self.parents(child).0.contains(&Some(parent))
    }

    /// The son who keeps his parents' home, with his wife and children: in
    /// [`HEIR_AT_HOME`] of families, the eldest living son who is married (or widowed), while
    /// a parent of the couple is alive.
    fn heir(&self, father: Slot) -> Option<Slot> {
        self.cached(
            father,
            |k| &mut k.heir,
            || {
                let (wife, divorced) = self.couple(father)?;
                if divorced || !(self.alive(father) || self.alive(wife)) {
                    return None;
                }
                if !self
                    .country
                    .stream(S_HEIR, self.id(father))
                    .chance(HEIR_AT_HOME)
                {
                    return None;
                }
                let keeps = |son: Slot| {
                    son.sex == Sex::Male
                        && self.alive(son)
                        && self.couple(son).is_some_and(|(_, divorced)| !divorced)
                };
                // Children come by year of birth: the eldest is the earliest born of the first
                // year with a son who keeps the home.
                let mut heir: Option<Slot> = None;
                let mut consider = |son: Slot| {
                    if heir.is_some_and(|h| son.year > h.year) {
                        return false;
                    }
                    if keeps(son)
                        && heir.is_none_or(|h| {
                            (self.facts(son).birth, son.rank) < (self.facts(h).birth, h.rank)
                        })
                    {
                        heir = Some(son);
                    }
                    true
                };
                for &child in self.children(father).iter() {
                    if !consider(child) {
                        break;
                    }
                }
                heir
            },
        )
    }

    /// The first of a family home's line of men: up from a husband, the fathers whose home
    /// their heir keeps ([`Self::heir`]).
    fn line_top(&self, husband: Slot) -> Slot {
        let mut top = husband;
        while let Some(father) = self.father(top)
            && self.heir(father) == Some(top)
        {
            top = father;
        }
        top
    }

    /// The men of a family home, eldest first: the first of its line and the heirs down
    /// from him.
    fn line(&self, husband: Slot) -> Vec<Slot> {
        let mut line = vec![self.line_top(husband)];
        while let Some(heir) = line.last().and_then(|&m| self.heir(m)) {
            line.push(heir);
        }
        line
    }

    /// Who heads the home of a husband's line: down the line, the first living man under
    /// [`HANDOVER_AGE`], or else the youngest living one, and in [`WIFE_HEADS`] of homes his
    /// wife instead; `None` when all are dead.
    fn line_head(&self, husband: Slot) -> Option<Slot> {
        let top = self.line_top(husband);
        let mut cur = Some(top);
        let mut head = None;
        while let Some(man) = cur {
            if self.alive(man) {
                head = Some(man);
                if self.age(man) < HANDOVER_AGE {
                    break;
                }
            }
            cur = self.heir(man);
        }
        let head = head?;
        // A wife heads the home of a couple that keeps no parents' home.
        if head == top
            && let Some((wife, false)) = self.couple(head)
            && self.alive(wife)
            && self
                .country
                .stream(S_HEAD, self.id(head))
                .chance(WIFE_HEADS)
        {
            return Some(wife);
        }
        Some(head)
    }

    /// Whether a single or divorced citizen lives with a parent: every minor does; of adults,
    /// [`STAYS_UNDER_30`] of those under 30 and [`STAYS_FROM_30`] of the others.
    fn stays_with_parents(&self, s: Slot) -> bool {
        let age = self.age(s);
        age < 18
            || self.country.stream(S_STAY, self.id(s)).chance(if age < 30 {
                STAYS_UNDER_30
            } else {
                STAYS_FROM_30
            })
    }

    /// The head of the household a living citizen is registered in. A couple lives in its
    /// line's home ([`Self::line`]); the single and divorced live with a parent
    /// ([`Self::stays_with_parents`]) or alone; a minor with no living parent lives with a
    /// grandparent, and one who stays with no parent to stay with, with a married brother or
    /// sister who heads a household.
    pub(crate) fn head(&self, s: Slot) -> Slot {
        self.cached(s, |k| &mut k.head, || self.find_head(s))
    }

    fn find_head(&self, s: Slot) -> Slot {
        if let Some(husband) = self.couple_of(s) {
            return self.line_head(husband).unwrap_or(s);
        }
        if !self.stays_with_parents(s) {
            return s;
        }
        let (parents, _) = self.parents(s);
        let living = |p: &Option<Slot>| p.filter(|&p| self.alive(p));
        let guardian = parents.iter().find_map(living).or_else(|| {
            (self.age(s) < 18)
                .then(|| {
                    parents
                        .iter()
                        .flatten()
                        .flat_map(|&p| self.parents(p).0)
                        .find_map(|g| living(&g))
                })
                .flatten()
        });
        if let Some(guardian) = guardian {
            return self.head(guardian);
        }
        let father = parents.iter().flatten().find(|p| p.sex == Sex::Male);
        for &sibling in father.map(|&f| self.children(f)).unwrap_or_default().iter() {
            if sibling != s
                && self.age(sibling) >= 18
                && self.alive(sibling)
                && self.couple_of(sibling).is_some()
                && self.head(sibling) == sibling
            {
                return sibling;
            }
        }
        s
    }

    /// What a member of a household is to its head, as the registry words it.
    pub(crate) fn relation(&self, s: Slot, head: Slot) -> &'static str {
        if s == head {
            return "Chủ hộ";
        }
        if self
            .spouse(s)
            .is_some_and(|(x, divorced)| x == head && !divorced)
        {
            return if s.sex == Sex::Female {
                "Vợ"
            } else {
                "Chồng"
            };
        }
        if self.is_parent(head, s) {
            return "Con";
        }
        if self.is_parent(s, head) {
            return if s.sex == Sex::Male { "Bố" } else { "Mẹ" };
        }
        if let Some((spouse, false)) = self.spouse(head)
            && self.is_parent(s, spouse)
        {
            return match (s.sex, head.sex) {
                (Sex::Male, Sex::Female) => "Bố chồng",
                (Sex::Female, Sex::Female) => "Mẹ chồng",
                (Sex::Male, Sex::Male) => "Bố vợ",
                (Sex::Female, Sex::Male) => "Mẹ vợ",
            };
        }
        let husband = self.couple_of(s).filter(|&h| h != s);
        if husband.is_some_and(|h| self.is_parent(head, h)) {
            return "Con dâu";
        }
        let (parents, _) = self.parents(s);
        let (head_parents, _) = self.parents(head);
        let father = self.father(s);
        if father.is_some() && father == self.father(head) {
            let older = (self.facts(s).birth, s.rank) < (self.facts(head).birth, head.rank);
            return match (older, s.sex) {
                (true, Sex::Male) => "Anh",
                (true, Sex::Female) => "Chị",
                (false, _) => "Em",
            };
        }
        let grandparent_is = |g: Slot| parents.iter().flatten().any(|&p| self.is_parent(g, p));
        if grandparent_is(head) {
            return "Cháu";
        }
        // A child of the head's brother or sister.
        let head_father = self.father(head);
        if head_father.is_some()
            && parents
                .iter()
                .flatten()
                .any(|&p| self.father(p) == head_father)
        {
            return "Cháu";
        }
        if husband.is_some_and(|h| {
            self.parents(h)
                .0
                .iter()
                .flatten()
                .any(|&p| self.is_parent(head, p))
        }) {
            return "Cháu dâu";
        }
        if head_parents.iter().flatten().any(|&p| self.is_parent(s, p)) {
            return if s.sex == Sex::Male { "Ông" } else { "Bà" };
        }
        if parents.iter().flatten().any(|&p| {
            self.parents(p)
                .0
                .iter()
                .flatten()
                .any(|&g| self.is_parent(head, g))
        }) {
            return "Chắt";
        }
        "Khác"
    }

    /// Everyone whose own record names `head` as head of household, head first. Found from
    /// the men of the head's line ([`Self::line`]) and their wives, and the head's brothers
    /// and sisters when both parents died; then, from everyone found, their wives, their
    /// children, and their grandchildren whose parents both died.
    pub(crate) fn household(&self, head: Slot) -> Household {
        let c = self.country;
        let head_id = self.id(head);
        let (_, head_name) = self.name(head);
        let mut seen: Vec<Slot> = vec![head];
        let mut queue: Vec<Slot> = Vec::new();
        let mut add = |s: Slot, queue: &mut Vec<Slot>| {
            if !seen.contains(&s) {
                seen.push(s);
                queue.push(s);
            }
        };
        let men = match self.couple_of(head) {
            Some(husband) => self.line(husband),
            None => Vec::new(),
        };
        for &man in &men {
            add(man, &mut queue);
            if let Some((wife, _)) = self.couple(man) {
                add(wife, &mut queue);
            }
        }
        let (head_parents, _) = self.parents(head);
        if let Some(father) = self.father(head)
            && !head_parents.iter().flatten().any(|&p| self.alive(p))
        {
            for &sibling in self.children(father).iter() {
                add(sibling, &mut queue);
            }
        }
        let mut members = vec![Member {
            id: head_id,
            full_name: head_name.clone(),
            relation: "Chủ hộ",
        }];
        let mut next = 0;
        let mut here = vec![head];
        while next < here.len() {
            let s = here[next];
            next += 1;
            // The couple whose children follow this member.
            let husband = match s.sex {
                Sex::Male => Some(s),
                Sex::Female => self.spouse(s).map(|(h, _)| h),
            };
            if s.sex == Sex::Male
                && let Some((wife, _)) = self.couple(s)
            {
                add(wife, &mut queue);
            }
            for &child in husband.map(|h| self.children(h)).unwrap_or_default().iter() {
                add(child, &mut queue);
                if !self.alive(child) {
                    let (other, _) = self.spouse(child).unzip();
                    if other.is_none_or(|o| !self.alive(o)) {
                        let father = if child.sex == Sex::Male {
                            Some(child)
                        } else {
                            other
                        };
                        for &grandchild in
                            father.map(|f| self.children(f)).unwrap_or_default().iter()
                        {
                            add(grandchild, &mut queue);
                        }
                    }
                }
            }
            while let Some(candidate) = queue.pop() {
                if self.alive(candidate) && self.head(candidate) == head {
                    here.push(candidate);
                    members.push(Member {
                        id: self.id(candidate),
                        full_name: self.name(candidate).1,
                        relation: self.relation(candidate, head),
                    });
                }
            }
        }
        let code = format!(
            "{:012}",
            c.stream(S_HOUSEHOLD, head_id).below(1_000_000_000_000)
        );
        Household {
            code,
            head: head_id,
            head_name,
            relation: "Chủ hộ",
            members,
        }
    }
}
