//! Stored changes to citizens (overlays): the population itself is computed, only what
//! happened to it since is kept, and applied on every read.

use std::sync::Arc;

use prost::Message;
use sandbox06_kit::{Store, StoreError};
use sandbox06_proto::population::{LifeEvent, life_event::Change};

use crate::{
    country::{Country, View, person::*, rules::card_expiry},
    domain::{CitizenId, CivilDate, date_from_proto},
};

/// Overlays in the suite's store (memory or Redis): one append-only list of encoded
/// [`LifeEvent`]s per citizen, plus a marker that any exist, so reads of an unchanged
/// country cost one lookup per request, not one per citizen.
#[derive(Debug, Clone)]
pub struct Overlays {
    store: Arc<dyn Store>,
}

/// Set once the first overlay is written.
const ANY_KEY: &str = "population:{overlay}:any";

fn events_key(citizen: CitizenId) -> String {
    // The hash tag keeps one citizen's list on one Redis Cluster slot.
    format!("population:{{overlay:{citizen}}}")
}

impl Overlays {
    /// Overlays kept in `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Records an event of a citizen.
    pub async fn append(&self, citizen: CitizenId, event: &LifeEvent) -> Result<(), StoreError> {
        self.store
            .append(&events_key(citizen), &event.encode_to_vec())
            .await?;
        self.store.put(ANY_KEY, b"1", None).await
    }

    /// Whether any overlay exists.
    pub async fn any(&self) -> Result<bool, StoreError> {
        Ok(self.store.get(ANY_KEY).await?.is_some())
    }

    /// A citizen's events, oldest first; undecodable ones (from a newer version) are skipped.
    pub async fn events(&self, citizen: CitizenId) -> Result<Vec<LifeEvent>, StoreError> {
        let raw = self.store.list(&events_key(citizen)).await?;
        Ok(raw
            .iter()
            .filter_map(|bytes| LifeEvent::decode(bytes.as_slice()).ok())
            .collect())
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
                    person.spouse = Some(Relative {
                        id: Some(spouse),
                        full_name: other.full_name,
                        birth_year: spouse.birth_year(),
                    });
                }
            }
            Some(Change::CardReplaced(_)) => {
                for card in person.cards.iter_mut() {
                    card.standing = CardStanding::Superseded;
                }
                person.cards.insert(
                    0,
                    Card {
                        number: person.id.to_string(),
                        kind: CardKind::issued_on(on),
                        issued: on,
                        expires: card_expiry(person.date_of_birth, on),
                        standing: CardStanding::Valid,
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
            && card.expires.is_some_and(|e| e <= country.reference_date())
        {
            card.standing = CardStanding::Expired;
        }
    }
}
