//! Who belongs to a head's household, and its code.

use sandbox06_vn::Sex;

use super::Kin;
use crate::{
    S_HOUSEHOLD, Slot,
    families::Family,
    person::{Household, Member},
};

impl Kin<'_> {
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
