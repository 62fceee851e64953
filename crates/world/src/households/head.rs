//! Who heads the household a citizen lives in: the home of a couple's line of men, a parent's,
//! a grandparent's, a married brother's or sister's, or the citizen's own.

use sandbox06_vn::Sex;

use super::{HANDOVER_AGE, HEIR_AT_HOME, Kin, STAYS_FROM_30, STAYS_UNDER_30, WIFE_HEADS};
use crate::{S_HEAD, S_HEIR, S_STAY, Slot, families::Family};

impl Kin<'_> {
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
    pub(super) fn line(&self, husband: Slot) -> Vec<Slot> {
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
}
