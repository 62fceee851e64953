//! Marriages and households: who is married or divorced, where a household lives, who heads
//! it and who belongs to it.

use sandbox06_vn::{CitizenId, Sex};

use crate::{
    Country, S_HOME, S_HOUSEHOLD, S_MARRIAGE, S_STAY, Slot,
    names::STREETS,
    permutation::Stream,
    person::{CommuneRef, Household, Life, Member, Place},
    rules::age_on,
};

impl Country {
    /// Whether the couple headed by `husband` is (or was) married, and whether divorced.
    pub(crate) fn couple(&self, husband: Slot) -> Option<(Slot, bool)> {
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

    pub(crate) fn spouse_of(&self, s: Slot) -> Option<(Slot, bool)> {
        match s.sex {
            Sex::Male => self.couple(s),
            Sex::Female => {
                let husband = self.partner_slot(s)?;
                let (wife, divorced) = self.couple(husband)?;
                (wife == s).then_some((husband, divorced))
            }
        }
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

    /// Whether a never-married citizen under 30 lives with a parent: every minor does, most
    /// young adults.
    pub(crate) fn stays_with_parents(&self, child: Slot, child_id: CitizenId) -> bool {
        let age = age_on(self.birth_date(child, child_id), self.reference);
        if age >= 30 || self.spouse_of(child).is_some() {
            return false;
        }
        age < 18 || self.stream(S_STAY, child_id).chance(0.6)
    }

    pub(crate) fn is_alive_slot(&self, s: Slot) -> (CitizenId, bool) {
        let id = self.id_of(s);
        let alive = self.life_of(id, self.birth_date(s, id)) == Life::Alive;
        (id, alive)
    }

    /// The household head's slot and this citizen's relation to the head: a married woman
    /// lives with her husband, a married man heads his household, a child who stays with the
    /// parents lives with the father, or the mother when the father is dead or not a head.
    pub(crate) fn household_head(&self, s: Slot, id: CitizenId) -> (Slot, &'static str) {
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
    pub(crate) fn household(
        &self,
        head: Slot,
        head_id: CitizenId,
        relation: &'static str,
    ) -> Household {
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
}
