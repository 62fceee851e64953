//! What one record's household asks of a citizen's kin, each fact computed once, and the
//! kinship the household's rules are written in: parents, couples, children.

use std::{cell::RefCell, rc::Rc};

use sandbox06_vn::{CitizenId, Sex};
use time::Date;

use crate::{
    Country, Slot,
    families::{self, Family, Forebears},
    person::Life,
    rules::age_on,
};

/// What one record's household asks of the citizen's kin, each fact computed once: a
/// household is found by following parents, couples and heirs, and its members by asking the
/// same of every relative who may live there.
pub(crate) struct Kin<'a> {
    pub(super) country: &'a Country,
    relatives: RefCell<Relatives>,
}

/// The few dozen relatives one record asks about, in the order first asked, found by their
/// slot's [`Slot::key`] through a small open-addressing table.
struct Relatives {
    keys: Vec<u64>,
    known: Vec<Known>,
    /// Positions in `keys` plus one, 0 for none, with their key, at the key's hash (probing
    /// onwards).
    table: Vec<(u32, u64)>,
}

/// What is known of one relative, each fact filled in when first asked.
#[derive(Default)]
pub(super) struct Known {
    id: Option<CitizenId>,
    facts: Option<Facts>,
    couple: Option<Option<(Slot, bool)>>,
    father: Option<Option<Slot>>,
    forebears: Option<Forebears>,
    wife: Option<Option<Slot>>,
    root: Option<Slot>,
    lineage: Option<(String, &'static str, &'static str)>,
    children: Option<Rc<[Slot]>>,
    pub(super) heir: Option<Option<Slot>>,
    pub(super) head: Option<Slot>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Facts {
    pub(super) birth: Date,
    alive: bool,
}

impl Relatives {
    fn new() -> Self {
        Relatives {
            keys: Vec::with_capacity(64),
            known: Vec::with_capacity(64),
            table: vec![(0, 0); 128],
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
                (0, _) => break,
                (p, k) if k == key => return p as usize - 1,
                _ => b = (b + 1) & mask,
            }
        }
        let position = self.keys.len();
        self.keys.push(key);
        self.known.push(Known::default());
        self.table[b] = (position as u32 + 1, key);
        if 2 * self.keys.len() > self.table.len() {
            // At most half full: probes stay short.
            let len = 2 * self.table.len();
            self.table = vec![(0, 0); len];
            for (p, &k) in self.keys.iter().enumerate() {
                let mut b = Self::bucket(k, len);
                while self.table[b].0 != 0 {
                    b = (b + 1) & (len - 1);
                }
                self.table[b] = (p as u32 + 1, k);
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

    fn lineage(&self, s: Slot, id: CitizenId) -> (String, &'static str, &'static str) {
        self.cached(s, |k| &mut k.lineage, || families::lineage(self, s, id))
    }

    fn has_children(&self, father: Slot) -> bool {
        !self.children(father).is_empty()
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
    pub(super) fn cached<V: Clone>(
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

    pub(super) fn facts(&self, s: Slot) -> Facts {
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

    pub(super) fn age(&self, s: Slot) -> i32 {
        age_on(self.facts(s).birth, self.country.reference)
    }

    pub(super) fn children(&self, father: Slot) -> Rc<[Slot]> {
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
    pub(super) fn couple(&self, husband: Slot) -> Option<(Slot, bool)> {
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
    pub(super) fn couple_of(&self, s: Slot) -> Option<Slot> {
        match self.spouse(s)? {
            (_, true) => None,
            (husband, false) if s.sex == Sex::Female => Some(husband),
            _ => Some(s),
        }
    }

    /// A citizen's parents, the one to live with first: the mother first when they divorced.
    pub(super) fn parents(&self, s: Slot) -> ([Option<Slot>; 2], bool) {
        let Some(father) = self.father(s) else {
            return ([None, None], false);
        };
        match self.couple(father) {
            Some((mother, true)) => ([Some(mother), Some(father)], true),
            Some((mother, false)) => ([Some(father), Some(mother)], false),
            None => ([Some(father), None], false),
        }
    }

    pub(super) fn is_parent(&self, parent: Slot, child: Slot) -> bool {
        self.parents(child).0.contains(&Some(parent))
    }
}
