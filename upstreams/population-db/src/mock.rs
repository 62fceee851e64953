//! The mock population database: `sandbox06.upstream.population.v1.PopulationService`
//! over the synthetic country, with overlays from the store applied on read.
//!
//! - this module: the database and how it reads a record with its recorded changes;
//! - `reads`: GetCitizen, BatchGetCitizens and ListCitizens, their answers bounded in bytes;
//! - `find`: FindCitizens, the country searched by filter with the overlays applied;
//! - `record`: CreateLifeEvent, checked by the rules of [`crate::life_events`];
//! - `grpc`: the gRPC adapter, which turns [`PopulationError`]s into statuses.

mod find;
mod grpc;
mod reads;
mod record;
mod statistics;

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt, future::join_all};
use prost::Message;
use sandbox06_proto::population as pb;
use sandbox06_runtime::clock::Clock;
use sandbox06_vn::{CitizenId, CivilDate};
use sandbox06_world::{
    Country, View,
    person::{CardStanding, Person},
};

use crate::{
    convert::{Shape, to_record},
    error::PopulationError,
    overlay::{self, Overlays},
};

pub use reads::MAX_BATCH;

/// Records read at once by a batch or a page when overlays exist (each is a store round trip).
const READ_CONCURRENCY: usize = 64;

/// Most bytes one answer carries unless the component sets its own limit: the default
/// `limits.max_request_bytes`, which is also what gRPC clients accept by default.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// The encoded size of a message of `len` bytes as a field of another.
fn field_len(len: usize) -> usize {
    1 + prost::length_delimiter_len(len) + len
}

/// The mock national population database.
#[derive(Clone)]
pub struct PopulationDb {
    country: Arc<Country>,
    overlays: Overlays,
    max_response_bytes: usize,
    /// The suite's clock: its today judges cards' expiry and life events' dates.
    clock: Clock,
}

impl std::fmt::Debug for PopulationDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PopulationDb")
            .field("population", &self.country.population())
            .finish()
    }
}

impl PopulationDb {
    /// A database over `country`, with overlays kept in `store`.
    pub fn new(country: Arc<Country>, store: Arc<dyn sandbox06_store::Store>) -> Self {
        Self {
            clock: Clock::new(country.reference_date()),
            country,
            overlays: Overlays::new(store),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// The same database judging dates by `clock`, the suite's (by default a clock of its
    /// own, whose today is the country's reference date).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The suite's today.
    fn today(&self) -> CivilDate {
        self.clock.today()
    }

    /// `person`'s current card judged as of `today` (the suite's): valid until its expiry
    /// date, expired after it. The generated records and the events' consequences are judged
    /// as of the reference date, which needs nothing more.
    fn as_of(&self, person: &mut Person, today: CivilDate) {
        if today == self.country.reference_date() {
            return;
        }
        if let Some(card) = person
            .cards
            .first_mut()
            .filter(|card| matches!(card.standing, CardStanding::Valid | CardStanding::Expired))
        {
            card.standing = if card.expires.is_some_and(|expires| expires < today) {
                CardStanding::Expired
            } else {
                CardStanding::Valid
            };
        }
    }

    /// The same database answering at most `bytes` per batch or page (see
    /// [`DEFAULT_MAX_RESPONSE_BYTES`]).
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// The country it serves.
    pub fn country(&self) -> &Arc<Country> {
        &self.country
    }

    /// Whether any overlay exists; asked once per request, not per citizen.
    async fn has_overlays(&self) -> Result<bool, PopulationError> {
        Ok(self.overlays.any().await?)
    }

    /// A citizen's record with every stored change applied.
    pub async fn person(
        &self,
        id: CitizenId,
        view: View,
    ) -> Result<Option<Person>, PopulationError> {
        let overlays = self.has_overlays().await?;
        let shape = match view {
            View::Identity => Shape::Identity,
            View::Basic => Shape::Basic,
            View::Full => Shape::Full,
        };
        self.person_with(id, shape, overlays).await
    }

    async fn person_with(
        &self,
        id: CitizenId,
        shape: Shape,
        overlays: bool,
    ) -> Result<Option<Person>, PopulationError> {
        Ok(self
            .person_and_events(id, shape, overlays)
            .await?
            .map(|(person, _)| person))
    }

    /// A citizen's stored events, oldest first; none are read unless `overlays`.
    async fn history(
        &self,
        id: CitizenId,
        overlays: bool,
    ) -> Result<overlay::History, PopulationError> {
        if overlays {
            Ok(self.overlays.history(id).await?)
        } else {
            Ok(overlay::History::default())
        }
    }

    /// A citizen's record with every stored change applied, as far as `shape` shows, and the
    /// citizen's own events.
    async fn person_and_events(
        &self,
        id: CitizenId,
        shape: Shape,
        overlays: bool,
    ) -> Result<Option<(Person, overlay::History)>, PopulationError> {
        let history = self.history(id, overlays).await?;
        // A change may touch any part of the record: compute all of it when there is one.
        let computed = if history.events.is_empty() {
            shape.computed()
        } else {
            View::Full
        };
        let Some(mut person) = self.country.person(id, computed) else {
            return Ok(None);
        };
        overlay::apply(&self.country, &mut person, &history.events);
        self.as_of(&mut person, self.today());
        // Relatives' events change only what the full shape shows (marriage, household).
        if overlays && shape == Shape::Full {
            self.apply_relatives(&mut person).await?;
        }
        Ok(Some((person, history)))
    }

    /// Applies the consequences of the spouse's and household members' events, their event
    /// lists read concurrently.
    async fn apply_relatives(&self, person: &mut Person) -> Result<(), PopulationError> {
        let ids = overlay::relatives(person);
        if ids.is_empty() {
            return Ok(());
        }
        let lists = join_all(ids.iter().map(|id| self.overlays.events(*id))).await;
        let relatives = ids
            .into_iter()
            .zip(lists)
            .map(|(id, events)| events.map(|e| (id, e)))
            .collect::<Result<Vec<_>, _>>()?;
        overlay::apply_relatives(&self.country, person, &relatives);
        Ok(())
    }

    /// Records of `ids` in order, read concurrently when overlays make each a store round trip,
    /// as many as fit in `budget` bytes encoded (at least one): the records of citizens with long
    /// histories are large, and the reading stops before it builds an answer no client takes.
    async fn records_within(
        &self,
        ids: Vec<CitizenId>,
        shape: Shape,
        overlays: bool,
        budget: usize,
    ) -> Result<Vec<Option<pb::Citizen>>, PopulationError> {
        let mut records = Vec::with_capacity(ids.len());
        self.each_record_within(ids, shape, overlays, budget, |record, _| {
            records.push(record)
        })
        .await?;
        Ok(records)
    }

    /// [`Self::records_within`], each record handed to `take` in order as it is read (a record
    /// is large: it is moved once, into its place in the answer), with its encoded length
    /// (computed once, here): how many were taken.
    async fn each_record_within(
        &self,
        ids: Vec<CitizenId>,
        shape: Shape,
        overlays: bool,
        budget: usize,
        mut take: impl FnMut(Option<pb::Citizen>, usize),
    ) -> Result<usize, PopulationError> {
        let mut taken = 0usize;
        let mut size = 0usize;
        // The record's encoded length if it still fits; the first always does.
        let mut fits = |record: &Option<pb::Citizen>, taken: usize| {
            let len = record.as_ref().map_or(0, Message::encoded_len);
            size += record.as_ref().map_or(0, |_| field_len(len));
            (size <= budget || taken == 0).then_some(len)
        };
        if !overlays {
            // Nothing to wait for: compute in place, every record as of the same today.
            let today = self.today();
            for id in ids {
                let record = self.country.person(id, shape.computed()).map(|mut p| {
                    self.as_of(&mut p, today);
                    to_record(&self.country, &p, shape)
                });
                let Some(len) = fits(&record, taken) else {
                    break;
                };
                take(record, len);
                taken += 1;
            }
            return Ok(taken);
        }
        let mut read = futures::stream::iter(ids)
            .map(|id| self.record(id, shape, overlays))
            .buffered(READ_CONCURRENCY);
        while let Some(record) = read.try_next().await? {
            let Some(len) = fits(&record, taken) else {
                break;
            };
            take(record, len);
            taken += 1;
        }
        Ok(taken)
    }

    async fn record(
        &self,
        id: CitizenId,
        shape: Shape,
        overlays: bool,
    ) -> Result<Option<pb::Citizen>, PopulationError> {
        Ok(self
            .person_with(id, shape, overlays)
            .await?
            .map(|p| to_record(&self.country, &p, shape)))
    }

    /// A personal ID number, judged as of the reference year.
    fn parse_id(&self, raw: &str, field: &str) -> Result<CitizenId, PopulationError> {
        Ok(CitizenId::parse_at(
            raw,
            field,
            self.country.reference_date().year(),
        )?)
    }
}
