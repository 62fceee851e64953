//! `sandbox06.citizen.v1.CitizenService`: the integration adapter in front of the population
//! database. It validates every input first, asks the upstream, and answers with verdicts.
//!
//! The logic (`lookup`, `matching`, `batching`) returns [`CitizenError`]s; this module is the
//! gRPC adapter that turns them into statuses, once per call.

mod batching;
mod claim;
mod convert;
mod lookup;
mod matching;
mod read_mask;
pub mod verify;

/// The population database's record as GetCitizen releases it (the tools print the same JSON).
pub use convert::citizen as release;

use std::{pin::Pin, sync::Arc};

use futures::Stream;
use sandbox06_proto::citizen::{self as api, citizen_service_server::CitizenService};
use sandbox06_runtime::clock::Clock;
use sandbox06_vn::CivilDate;
use tonic::{Request, Response, Status, Streaming};

use crate::{error::CitizenError, population::PopulationClient};

/// The citizen service.
#[derive(Clone)]
pub struct CitizenApi {
    population: Arc<dyn PopulationClient>,
    /// The suite's clock, whose today judges dates.
    clock: Clock,
}

impl std::fmt::Debug for CitizenApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CitizenApi")
            .field("today", &self.today())
            .finish()
    }
}

impl CitizenApi {
    /// A service reading from `population`, with dates judged as of `reference` (the suite's
    /// reference date) until [`CitizenApi::with_clock`] gives it the suite's clock.
    pub fn new(population: Arc<dyn PopulationClient>, reference: CivilDate) -> Self {
        Self {
            population,
            clock: Clock::new(reference),
        }
    }

    /// The same service judging dates by the suite's `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The suite's today.
    fn today(&self) -> CivilDate {
        self.clock.today()
    }
}

type MatchStream = Pin<Box<dyn Stream<Item = Result<api::MatchCitizensResponse, Status>> + Send>>;

/// A call's answer, its failure turned into a status.
fn respond<T>(answer: Result<T, CitizenError>) -> Result<Response<T>, Status> {
    answer.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl CitizenService for CitizenApi {
    async fn get_citizen(
        &self,
        request: Request<api::GetCitizenRequest>,
    ) -> Result<Response<api::GetCitizenResponse>, Status> {
        respond(self.get(request.into_inner()).await)
    }

    async fn verify_citizen(
        &self,
        request: Request<api::VerifyCitizenRequest>,
    ) -> Result<Response<api::VerifyCitizenResponse>, Status> {
        respond(self.verify(request.into_inner()).await)
    }

    async fn verify_card_qr(
        &self,
        request: Request<api::VerifyCardQrRequest>,
    ) -> Result<Response<api::VerifyCardQrResponse>, Status> {
        respond(self.verify_qr(request.into_inner()).await)
    }

    type MatchCitizensStream = MatchStream;

    async fn match_citizens(
        &self,
        request: Request<Streaming<api::MatchCitizensRequest>>,
    ) -> Result<Response<Self::MatchCitizensStream>, Status> {
        Ok(Response::new(self.match_stream(request.into_inner())))
    }
}
