//! Stored changes to citizens (overlays): the population itself is computed, only what
//! happened to it since is kept, and applied on every read.

use std::sync::Arc;

use prost::Message;
use sandbox06_proto::population::{LifeEvent, life_event::Change};
use sandbox06_store::{ListAppend, Store, StoreError};

use sandbox06_proto::dates::date_from_proto;
use sandbox06_vn::{CitizenId, CivilDate};
use sandbox06_world::{Country, View, person::*, rules::card_expiry};

/// Overlays in the suite's store (memory or Redis): one append-only list of encoded
/// [`LifeEvent`]s per citizen, the requests recorded under an idempotency key, plus a marker
/// that any exist, so reads of an unchanged country cost one lookup per request, not one per
/// citizen.
///
/// Every key carries the one hash tag `{overlay}`: a marriage writes two citizens' lists, and
/// the request record, in one atomic [`Store::append_if_len`], which a Redis Cluster runs only
/// on keys of one slot.
#[derive(Debug, Clone)]
pub struct Overlays {
    store: Arc<dyn Store>,
}

/// Set once the first overlay is written.
const ANY_KEY: &str = "population:{overlay}:any";

/// Every citizen an event was recorded for, once or more, oldest first: what FindCitizens
/// re-reads, since a recorded change can make a citizen match a filter the generated record
/// does not.
const CHANGED_KEY: &str = "population:{overlay}:changed";

fn events_key(citizen: CitizenId) -> String {
    format!("population:{{overlay}}:events:{citizen}")
}

fn request_key(request_id: &str) -> String {
    format!("population:{{overlay}}:request:{request_id}")
}

/// A citizen's stored events as read.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The events that decode, oldest first (one written by a newer version is skipped).
    pub events: Vec<LifeEvent>,
    /// How many are stored, decodable or not: the length a write is conditional on.
    pub stored: usize,
}

/// One event to record, on the condition that the citizen's list still holds `stored` events.
#[derive(Debug, Clone, Copy)]
pub struct Append<'a> {
    /// Whose list.
    pub citizen: CitizenId,
    /// How many events the writer read there.
    pub stored: usize,
    /// The event.
    pub event: &'a LifeEvent,
}

impl Overlays {
    /// Overlays kept in `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Records `appends` (one citizen's event, or both sides of a marriage) and, with an
    /// idempotency key, the request under it, all at once, only if no list changed since it
    /// was read and the key is unused; whether they were recorded.
    pub async fn record(
        &self,
        appends: &[Append<'_>],
        request: Option<(&str, &[u8])>,
    ) -> Result<bool, StoreError> {
        // The marker first: reads skip the store while it is unset, so an event written
        // before it would stay invisible should the marker's write fail.
        self.mark().await?;
        // Listed before the events are (a citizen listed with no event reads as generated),
        // with the first event only: a list of citizens, not of events. A retry of a first
        // event that lost a race lists it again, which `changed` reads once.
        for append in appends.iter().filter(|append| append.stored == 0) {
            self.store
                .append(CHANGED_KEY, append.citizen.to_string().as_bytes())
                .await?;
        }
        let encoded: Vec<(String, Vec<u8>)> = appends
            .iter()
            .map(|a| (events_key(a.citizen), a.event.encode_to_vec()))
            .collect();
        let request = request.map(|(id, content)| (request_key(id), content));
        let mut lists: Vec<ListAppend<'_>> = appends
            .iter()
            .zip(&encoded)
            .map(|(a, (key, value))| ListAppend {
                key,
                expected_len: a.stored,
                expected_last: None,
                value,
            })
            .collect();
        if let Some((key, content)) = &request {
            lists.push(ListAppend {
                key,
                expected_len: 0,
                expected_last: None,
                value: content,
            });
        }
        self.store.append_if_len(&lists).await
    }

    /// The request recorded under an idempotency key, as [`Overlays::record`] stored it.
    pub async fn request(&self, request_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .store
            .list(&request_key(request_id))
            .await?
            .into_iter()
            .next())
    }

    async fn mark(&self) -> Result<(), StoreError> {
        self.store.put(ANY_KEY, b"1", None).await
    }

    /// Whether any overlay exists.
    pub async fn any(&self) -> Result<bool, StoreError> {
        Ok(self.store.get(ANY_KEY).await?.is_some())
    }

    /// Every citizen an event was recorded for, each once, in the order first recorded.
    pub async fn changed(&self) -> Result<Vec<CitizenId>, StoreError> {
        let mut seen = std::collections::HashSet::new();
        Ok(self
            .store
            .list(CHANGED_KEY)
            .await?
            .iter()
            .filter_map(|raw| std::str::from_utf8(raw).ok())
            .filter_map(|s| CitizenId::parse_field(s, "citizen_id").ok())
            .filter(|id| seen.insert(*id))
            .collect())
    }

    /// A citizen's stored events and their count.
    pub async fn history(&self, citizen: CitizenId) -> Result<History, StoreError> {
        let raw = self.store.list(&events_key(citizen)).await?;
        Ok(History {
            stored: raw.len(),
            events: raw
                .iter()
                .filter_map(|bytes| LifeEvent::decode(bytes.as_slice()).ok())
                .collect(),
        })
    }

    /// A citizen's events, oldest first; undecodable ones (from a newer version) are skipped.
    pub async fn events(&self, citizen: CitizenId) -> Result<Vec<LifeEvent>, StoreError> {
        Ok(self.history(citizen).await?.events)
    }
}

/// The date an event took effect.
pub fn effective_date(event: &LifeEvent, country: &Country) -> CivilDate {
    event
        .effective_date
        .as_ref()
        .and_then(|d| date_from_proto(d, "effective_date").ok())
        .unwrap_or_else(|| country.reference_date())
}

/// The date of the latest of `events`, `None` when there are none.
pub fn latest_date(events: &[LifeEvent], country: &Country) -> Option<CivilDate> {
    events.iter().map(|e| effective_date(e, country)).max()
}

/// The relatives whose events change a record: the spouse and the other members of the
/// household, each once. Parents are not among them: their events change nothing here.
pub fn relatives(person: &Person) -> Vec<CitizenId> {
    let mut ids = Vec::new();
    if let Some(id) = person.spouse.as_ref().and_then(|s| s.id)
        && id != person.id
    {
        ids.push(id);
    }
    if let Some(household) = &person.household {
        for member in &household.members {
            if member.id != person.id && !ids.contains(&member.id) {
                ids.push(member.id);
            }
        }
    }
    ids
}

/// Applies to a record (its own events already applied) the consequences of its relatives'
/// events, given as each relative's events: a spouse's death widows the citizen; household
/// members who died or moved away leave the household; when the head left, the citizen heads
/// the household at the same address.
pub fn apply_relatives(
    country: &Country,
    person: &mut Person,
    relatives: &[(CitizenId, Vec<LifeEvent>)],
) {
    let events_of = |id: CitizenId| {
        relatives
            .iter()
            .find(|(r, _)| *r == id)
            .map_or(&[][..], |(_, events)| events.as_slice())
    };
    let died_on = |id: CitizenId| {
        events_of(id)
            .iter()
            .find(|e| matches!(e.change, Some(Change::Died(_))))
            .map(|e| effective_date(e, country))
    };
    let left = |id: CitizenId| {
        events_of(id)
            .iter()
            .any(|e| matches!(e.change, Some(Change::Died(_) | Change::Moved(_))))
    };

    if person.marital == Marital::Married
        && let Some(died) = person.spouse.as_ref().and_then(|s| s.id).and_then(died_on)
    {
        // A citizen who died first died married.
        let widowed = match person.life {
            Life::Alive => true,
            Life::Deceased(own) => died <= own,
        };
        if widowed {
            person.marital = Marital::Widowed;
        }
    }

    let me = person.id;
    if let Some(household) = person.household.as_mut() {
        let gone: Vec<CitizenId> = household
            .members
            .iter()
            .map(|m| m.id)
            .filter(|id| *id != me && left(*id))
            .collect();
        if gone.is_empty() {
            return;
        }
        household.members.retain(|m| !gone.contains(&m.id));
        if gone.contains(&household.head) {
            // The late head's spouse heads the household, else its eldest member; every
            // member's relation is then to the new head (kept as it was for a persona's).
            let spouse = household
                .members
                .iter()
                .position(|m| matches!(m.relation, "Vợ" | "Chồng"));
            let eldest = household
                .members
                .iter()
                .enumerate()
                .min_by_key(|(_, m)| (m.id.birth_year(), m.id.value()))
                .map(|(i, _)| i);
            let Some(at) = spouse.or(eldest) else {
                return;
            };
            let new_head = household.members.remove(at);
            household.head = new_head.id;
            household.head_name = new_head.full_name.clone();
            for member in &mut household.members {
                if let Some(relation) = country.relation_to_head(member.id, new_head.id) {
                    member.relation = relation;
                }
            }
            household.members.insert(
                0,
                Member {
                    relation: "Chủ hộ",
                    ..new_head
                },
            );
            household.relation = household
                .members
                .iter()
                .find(|m| m.id == me)
                .map_or(household.relation, |m| m.relation);
        }
    }
}

/// Applies events, oldest first, to a record.
pub fn apply(country: &Country, person: &mut Person, events: &[LifeEvent]) {
    for event in events {
        let on = effective_date(event, country);
        match &event.change {
            Some(Change::Moved(m)) => {
                let units = country.units();
                let commune = units
                    .commune_2025(&m.commune_code)
                    .map(CommuneRef::Current)
                    .or_else(|| {
                        units
                            .commune_pre_2025(&m.commune_code)
                            .map(CommuneRef::Pre2025)
                    });
                if let Some(commune) = commune {
                    let old = std::mem::replace(
                        &mut person.residence,
                        Place {
                            commune,
                            street: m.street.clone(),
                        },
                    );
                    person.previous_residences.insert(0, old);
                    // A move registers the citizen as head of a new household at the new address.
                    person.household = Some(Household {
                        code: format!(
                            "{:012}",
                            (person.id.value() ^ 0x0600_0600) % 1_000_000_000_000
                        ),
                        head: person.id,
                        head_name: person.full_name.clone(),
                        relation: "Chủ hộ",
                        members: vec![Member {
                            id: person.id,
                            full_name: person.full_name.clone(),
                            relation: "Chủ hộ",
                        }],
                    });
                }
            }
            Some(Change::Married(m)) => {
                if let Ok(spouse) =
                    CitizenId::parse_field(&m.spouse_citizen_id, "spouse_citizen_id")
                    && let Some(other) = country.person(spouse, View::Basic)
                {
                    person.marital = Marital::Married;
                    person.married_on = Some(on);
                    person.spouse = Some(Relative {
                        id: Some(spouse),
                        full_name: other.full_name,
                        birth_year: spouse.birth_year(),
                    });
                }
            }
            Some(Change::CardReplaced(_)) => {
                // Cards stay newest first: a replacement dated before a card already on
                // record (written before such events were refused) goes behind it.
                let at = person
                    .cards
                    .iter()
                    .position(|c| c.issued <= on)
                    .unwrap_or(person.cards.len());
                if at == 0 {
                    for card in person.cards.iter_mut() {
                        card.standing = CardStanding::Superseded;
                    }
                }
                person.cards.insert(
                    at,
                    Card {
                        number: person.id.to_string(),
                        kind: CardKind::issued_on(on),
                        issued: on,
                        expires: card_expiry(person.date_of_birth, on),
                        standing: if at == 0 {
                            CardStanding::Valid
                        } else {
                            CardStanding::Superseded
                        },
                        printed_address: Some(person.residence.clone()),
                    },
                );
            }
            Some(Change::Died(_)) => {
                person.life = Life::Deceased(on);
                if let Some(card) = person
                    .cards
                    .first_mut()
                    .filter(|c| c.standing != CardStanding::Superseded)
                {
                    card.standing = CardStanding::Revoked;
                }
                person.household = None;
                person.insurance = None;
                person.vneid = (Vneid::None, None);
            }
            Some(Change::VneidChanged(v)) => {
                use sandbox06_proto::types::VneidLevel as L;
                person.vneid.0 = match L::try_from(v.level) {
                    Ok(L::VneidLevel2) => Vneid::Level2,
                    Ok(L::VneidLevel1) => Vneid::Level1,
                    _ => Vneid::None,
                };
                person.vneid.1 = (person.vneid.0 != Vneid::None).then_some(on);
            }
            None => {}
        }
        // Expired status follows the reference date, also for a card issued by an event.
        if let Some(card) = person.cards.first_mut()
            && card.standing == CardStanding::Valid
            && card.expires.is_some_and(|e| e < country.reference_date())
        {
            card.standing = CardStanding::Expired;
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use sandbox06_proto::dates::date_to_proto;
    use sandbox06_proto::population::{CardReplaced, Died};
    use sandbox06_world::View;

    fn country() -> Country {
        Country::new(6, 1_000_000, date!(2026 - 11 - 27))
    }

    fn id(raw: &str) -> CitizenId {
        CitizenId::parse_field(raw, "id").unwrap()
    }

    fn event(on: CivilDate, change: Change) -> LifeEvent {
        LifeEvent {
            effective_date: Some(date_to_proto(on)),
            change: Some(change),
        }
    }

    #[test]
    fn a_replacement_card_is_filed_by_date() {
        let country = country();
        // card-replaced: cards of 2026-07-20 (current) and 2021-03-18.
        let mut p = country.person(id("038088067890"), View::Full).unwrap();
        let replace = || Change::CardReplaced(CardReplaced::default());
        apply(
            &country,
            &mut p,
            &[
                // Stored before backdated replacements were refused.
                event(date!(2022 - 01 - 05), replace()),
                event(date!(2026 - 09 - 01), replace()),
            ],
        );
        let issued: Vec<_> = p.cards.iter().map(|c| c.issued).collect();
        assert!(issued.windows(2).all(|w| w[0] >= w[1]), "{issued:?}");
        assert_eq!(p.current_card().unwrap().issued, date!(2026 - 09 - 01));
        assert_eq!(p.current_card().unwrap().standing, CardStanding::Valid);
        assert!(
            p.cards[1..]
                .iter()
                .all(|c| c.standing == CardStanding::Superseded)
        );
    }

    #[test]
    fn when_the_head_dies_the_spouse_heads_and_relations_follow() {
        let country = country();
        // A generated home of three generations: the head, his wife, his mother, his children.
        let home = (0..country.population())
            .step_by(7)
            .filter_map(|i| country.citizen_at(i))
            .filter_map(|id| country.person(id, View::Full))
            .filter_map(|p| p.household)
            .find(|h| {
                let has = |r: &str| h.members.iter().any(|m| m.relation == r);
                has("Vợ") && has("Mẹ") && has("Con")
            })
            .expect("a home of three generations");
        let mother = home.members.iter().find(|m| m.relation == "Mẹ").unwrap();
        let wife = home.members.iter().find(|m| m.relation == "Vợ").unwrap();
        let mut p = country.person(mother.id, View::Full).unwrap();
        let died = vec![event(date!(2026 - 01 - 10), Change::Died(Died {}))];
        apply_relatives(&country, &mut p, &[(home.head, died)]);
        let h = p.household.as_ref().unwrap();
        assert_eq!((h.head, h.members[0].relation), (wife.id, "Chủ hộ"));
        assert_eq!(h.relation, "Mẹ chồng");
        assert_eq!(h.members.len(), home.members.len() - 1);
        for m in &h.members[1..] {
            let before = home.members.iter().find(|b| b.id == m.id).unwrap();
            let expected = match before.relation {
                "Mẹ" => "Mẹ chồng",
                "Bố" => "Bố chồng",
                other => other,
            };
            assert_eq!(m.relation, expected, "{}", m.id);
        }
    }

    #[test]
    fn relatives_events_reach_only_the_spouse_and_household_parts() {
        let country = country();
        let husband = id("001091012345");
        let wife = id("001192023456");
        let mut p = country.person(id("001217067890"), View::Full).unwrap();
        assert_eq!(relatives(&p), [husband, wife]);
        let before = p.clone();
        // A death of the father leaves the household to the mother, and changes nothing else.
        let died = vec![event(date!(2026 - 01 - 10), Change::Died(Died {}))];
        apply_relatives(&country, &mut p, &[(husband, died.clone())]);
        assert_eq!(p.father, before.father);
        assert_eq!(p.marital, before.marital);
        assert_eq!(p.household.as_ref().unwrap().head, wife);
        assert_eq!(p.household.as_ref().unwrap().relation, "Con");

        // A citizen who died before the spouse died married.
        let mut w = country.person(wife, View::Full).unwrap();
        w.life = Life::Deceased(date!(2025 - 12 - 31));
        apply_relatives(&country, &mut w, &[(husband, died.clone())]);
        assert_eq!(w.marital, Marital::Married);
        let mut w = country.person(wife, View::Full).unwrap();
        w.life = Life::Deceased(date!(2026 - 02 - 01));
        apply_relatives(&country, &mut w, &[(husband, died)]);
        assert_eq!(w.marital, Marital::Widowed);
    }
}
