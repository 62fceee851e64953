//! What a member of a household is to its head, as the registry words it.

use sandbox06_vn::Sex;

use super::Kin;
use crate::{Slot, families::Family};

impl Kin<'_> {
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
}
