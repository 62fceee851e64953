//! FindCitizens: the country searched by filter (`sandbox06_world::find`), with the recorded
//! changes applied so that every citizen found is what GetCitizen answers for it.
//!
//! The search decides the generated citizens by their generated records. A citizen whose
//! record the overlays change (the citizens events were recorded for, and their spouses and
//! household members, whose records a relative's death, marriage or move changes) is decided
//! by the record GetCitizen answers instead, computed once per call before the search: so a
//! recorded death makes a citizen match `deceased: true`, a recorded marriage
//! `marital_status: MARRIED`, a recorded VNeID upgrade or card replacement the new level or
//! card, and a citizen no longer matching is left out. Such a citizen keeps its place in the
//! search order (its place depends only on its number), so pages stay in a fixed order as long
//! as no event is recorded between them.

use std::collections::{HashMap, HashSet};

use futures::future::try_join_all;
use sandbox06_country::find::{parse_request, response};
use sandbox06_proto::admin;
use sandbox06_vn::CitizenId;
use sandbox06_world::{View, find::Filter, person::Person};

use super::PopulationDb;
use crate::{convert::Shape, error::PopulationError, overlay};

impl PopulationDb {
    /// FindCitizens: one page of the citizens who match the filter, overlays applied.
    pub(super) async fn find_page(
        &self,
        req: admin::FindCitizensRequest,
    ) -> Result<admin::FindCitizensResponse, PopulationError> {
        let request = parse_request(&self.country, &req)?;
        let verdicts = if self.has_overlays().await? {
            self.changed_verdicts(&request.filter).await?
        } else {
            HashMap::new()
        };
        let found = self.country.find(&request.filter, request.search, &|id| {
            verdicts.get(&id).copied()
        });
        Ok(response(&request.filter, &found))
    }

    /// Whether each citizen whose record the overlays change matches, by the record GetCitizen
    /// answers.
    async fn changed_verdicts(
        &self,
        filter: &Filter,
    ) -> Result<HashMap<CitizenId, bool>, PopulationError> {
        let changed = self.overlays.changed().await?;
        let mut relatives: HashSet<CitizenId> = HashSet::new();
        let mut verdicts = HashMap::new();
        for (id, record) in self.records_of(changed).await? {
            // A relative's record changes with this citizen's events: the generated
            // relatives, and those the events gave (a new spouse).
            if let Some(generated) = self.country.person(id, View::Full) {
                relatives.extend(overlay::relatives(&generated));
            }
            if let Some(record) = &record {
                relatives.extend(overlay::relatives(record));
            }
            verdicts.insert(
                id,
                record.is_some_and(|p| filter.matches(&self.country, &p)),
            );
        }
        relatives.retain(|id| !verdicts.contains_key(id));
        for (id, record) in self.records_of(relatives.into_iter().collect()).await? {
            verdicts.insert(
                id,
                record.is_some_and(|p| filter.matches(&self.country, &p)),
            );
        }
        Ok(verdicts)
    }

    /// The full records of `ids` as GetCitizen answers them, read at once.
    async fn records_of(
        &self,
        ids: Vec<CitizenId>,
    ) -> Result<Vec<(CitizenId, Option<Person>)>, PopulationError> {
        try_join_all(ids.into_iter().map(|id| async move {
            Ok::<_, PopulationError>((id, self.person_with(id, Shape::Full, true).await?))
        }))
        .await
    }
}
