//! A citizen's record, assembled from the census, the family, the household and the documents.

use sandbox06_vn::{CitizenId, Sex};

use crate::{
    Country, S_BIRTHPLACE, S_MARKS, Slot, View,
    families::Family,
    households::Kin,
    names::MARKS,
    person::{CommuneRef, Life, Marital, Person, Place, Relative, Vneid},
    rules::{CARD_AGE, age_on},
};

/// Age from which a woman with no man of her rank in the database is a widow.
const WIDOWS_FROM: i32 = 50;

impl Country {
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

    pub(crate) fn birth_place(&self, s: Slot, id: CitizenId) -> Place {
        let p = &self.units.provinces[s.province];
        let span = u64::from(p.communes.end - p.communes.start).max(1);
        let commune = p.communes.start + self.stream(S_BIRTHPLACE, id).below(span) as u32;
        Place {
            commune: CommuneRef::Pre2025(commune),
            street: String::new(),
        }
    }

    pub(crate) fn relative(family: &impl Family, s: Slot) -> Relative {
        let (id, full_name) = family.name(s);
        Relative {
            id: Some(id),
            full_name,
            birth_year: s.year,
        }
    }

    pub(crate) fn generate(&self, s: Slot, id: CitizenId, view: View) -> Person {
        let date_of_birth = self.birth_date(s, id);
        let life = self.life_of(id, date_of_birth);
        // The basic view skips the household, so it has no residence to print on cards either.
        // Only the full view asks about relatives, each once.
        let kin = (view == View::Full).then(|| Kin::new(self));
        let (full_name, ethnicity, religion) = match &kin {
            Some(kin) => kin.lineage(s, id),
            None => self.lineage(s, id),
        };
        let birth_registration = self.birth_place(s, id);
        let home = kin.as_ref().map(|kin| {
            let head = kin.head(s);
            let head_id = if head == s { id } else { kin.id(head) };
            (
                head,
                head_id,
                kin.relation(s, head),
                self.own_home(head_id, head.province),
            )
        });
        let (cards, old_id_number) = if view == View::Identity {
            (Vec::new(), None)
        } else {
            self.cards(
                id,
                date_of_birth,
                life,
                home.as_ref().map(|(.., place)| place),
            )
        };
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
            married_on: None,
            household: None,
            vneid: (Vneid::None, None),
            insurance: None,
            marks: String::new(),
            persona: None,
        };
        // The account is an identity fact: in both views that show cards.
        if view != View::Identity {
            person.vneid = self.vneid(id, date_of_birth, life, &person.cards);
        }
        let (Some(kin), Some((head, _, relation, _))) = (kin, home) else {
            return person;
        };
        if let Some(f) = kin.father(s) {
            let root = kin.root(f);
            person.home_town = self.birth_place(root, kin.id(root));
            person.father = Some(Self::relative(&kin, f));
            person.mother = kin.wife(f).map(|m| Self::relative(&kin, m));
        }
        if let Some((spouse, divorced)) = kin.spouse(s) {
            let spouse_alive = kin.alive(spouse);
            person.marital = if divorced {
                Marital::Divorced
            } else if !spouse_alive && life == Life::Alive {
                Marital::Widowed
            } else {
                Marital::Married
            };
            if !divorced {
                let relative = Self::relative(&kin, spouse);
                let (husband, wife) = if s.sex == Sex::Male {
                    (
                        (id.value(), date_of_birth.year()),
                        (relative.id.map_or(0, |i| i.value()), relative.birth_year),
                    )
                } else {
                    (
                        (relative.id.map_or(0, |i| i.value()), relative.birth_year),
                        (id.value(), date_of_birth.year()),
                    )
                };
                person.married_on =
                    crate::rules::marriage_registered_on(husband, wife, self.reference);
                person.spouse = Some(relative);
            }
        } else if s.sex == Sex::Female
            && self.partner_slot(s).is_none()
            && age_on(date_of_birth, self.reference) >= WIDOWS_FROM
        {
            // Older cohorts have fewer men than women: a woman with no man of her rank
            // outlived a husband the database no longer holds.
            person.marital = Marital::Widowed;
        }
        if life == Life::Alive {
            let mut household = kin.household(head);
            household.relation = relation;
            person.household = Some(household);
        }
        person.insurance = if life == Life::Alive {
            let head = person.household.as_ref().map_or(id, |h| h.head);
            self.insurance(
                id,
                date_of_birth,
                s.sex,
                person.ethnicity,
                &person.residence,
                head,
            )
        } else {
            None
        };
        if age_on(date_of_birth, self.reference) >= CARD_AGE {
            person.marks = (*self.stream(S_MARKS, id).pick(MARKS)).to_owned();
        }
        person
    }
}
