//! Stored changes to citizens (overlays): the population itself is computed, only what
//! happened to it since is kept, and applied on every read.

use std::{collections::HashMap, sync::RwLock};

use prost::Message;
use sandbox06_proto::population::{LifeEvent, life_event::Change};

use crate::{
    country::{Country, View, person::*, rules::card_expiry},
    domain::{CitizenId, CivilDate, date_from_proto},
};

/// Where overlays live: append-only event lists keyed by citizen.
#[tonic::async_trait]
pub trait OverlayStore: Send + Sync + 'static {
    /// Appends an encoded event to a citizen's list.
    async fn append(&self, citizen: CitizenId, event: Vec<u8>) -> Result<(), OverlayError>;
    /// Every encoded event of a citizen, oldest first.
    async fn events(&self, citizen: CitizenId) -> Result<Vec<Vec<u8>>, OverlayError>;
    /// Whether no overlay exists at all (lets reads skip the store).
    fn is_empty(&self) -> bool {
        false
    }
}

/// The overlay store failed.
#[derive(Debug, thiserror::Error)]
#[error("overlay store: {0}")]
pub struct OverlayError(pub String);

/// Overlays kept in process memory.
#[derive(Debug, Default)]
pub struct MemoryOverlays {
    events: RwLock<HashMap<CitizenId, Vec<Vec<u8>>>>,
}

#[tonic::async_trait]
impl OverlayStore for MemoryOverlays {
    async fn append(&self, citizen: CitizenId, event: Vec<u8>) -> Result<(), OverlayError> {
        let mut map = self
            .events
            .write()
            .map_err(|_| OverlayError("lock poisoned".into()))?;
        map.entry(citizen).or_default().push(event);
        Ok(())
    }

    async fn events(&self, citizen: CitizenId) -> Result<Vec<Vec<u8>>, OverlayError> {
        let map = self
            .events
            .read()
            .map_err(|_| OverlayError("lock poisoned".into()))?;
        Ok(map.get(&citizen).cloned().unwrap_or_default())
    }

    fn is_empty(&self) -> bool {
        self.events.read().map(|m| m.is_empty()).unwrap_or(false)
    }
}

/// Decodes stored events; undecodable ones (written by a newer version) are skipped.
pub fn decode_events(raw: &[Vec<u8>]) -> Vec<LifeEvent> {
    raw.iter()
        .filter_map(|bytes| LifeEvent::decode(bytes.as_slice()).ok())
        .collect()
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
