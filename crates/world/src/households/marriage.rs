//! Who is married or divorced.

use crate::{Country, S_MARRIAGE, Slot, families::Family, rules::age_on};

impl Country {
    /// Whether the couple headed by `husband` is (or was) married, and whether divorced. A man
    /// and his partner of one blood ([`Family::of_one_blood`]) do not marry: he stays single,
    /// and the mother of his children is no one in the database.
    #[cfg(test)]
    pub(crate) fn couple(&self, husband: Slot) -> Option<(Slot, bool)> {
        self.couple_in(self, husband)
    }

    /// [`Self::couple`], asking `family` for wives and ID numbers.
    pub(super) fn couple_in(&self, family: &impl Family, husband: Slot) -> Option<(Slot, bool)> {
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
        let married = rng.chance(p) || family.has_children(husband);
        married.then(|| (wife, rng.chance(0.03)))
    }
}
