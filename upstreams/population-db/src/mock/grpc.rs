//! The gRPC adapter of the population database: each call's logic, its failure turned into a
//! status once.

use sandbox06_proto::population::{self as pb, population_service_server::PopulationService};
use tonic::{Request, Response, Status};

use super::PopulationDb;
use crate::error::PopulationError;

/// A call's answer, its failure turned into a status.
fn respond<T>(answer: Result<T, PopulationError>) -> Result<Response<T>, Status> {
    answer.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl PopulationService for PopulationDb {
    async fn get_citizen(
        &self,
        request: Request<pb::GetCitizenRequest>,
    ) -> Result<Response<pb::GetCitizenResponse>, Status> {
        respond(self.read_citizen(request.into_inner()).await)
    }

    async fn batch_get_citizens(
        &self,
        request: Request<pb::BatchGetCitizensRequest>,
    ) -> Result<Response<pb::BatchGetCitizensResponse>, Status> {
        respond(self.read_batch(request.into_inner()).await)
    }

    async fn list_citizens(
        &self,
        request: Request<pb::ListCitizensRequest>,
    ) -> Result<Response<pb::ListCitizensResponse>, Status> {
        respond(self.read_page(request.into_inner()).await)
    }

    async fn create_life_event(
        &self,
        request: Request<pb::CreateLifeEventRequest>,
    ) -> Result<Response<pb::CreateLifeEventResponse>, Status> {
        respond(self.record_event(request.into_inner()).await)
    }

    async fn find_citizens(
        &self,
        request: Request<sandbox06_proto::admin::FindCitizensRequest>,
    ) -> Result<Response<sandbox06_proto::admin::FindCitizensResponse>, Status> {
        respond(self.find_page(request.into_inner()).await)
    }

    async fn get_population_statistics(
        &self,
        request: Request<sandbox06_proto::types::PopulationStatisticsRequest>,
    ) -> Result<Response<sandbox06_proto::types::PopulationStatisticsResponse>, Status> {
        respond(self.statistics(request.into_inner()).await)
    }

    async fn find_insured_citizens(
        &self,
        request: Request<pb::FindInsuredCitizensRequest>,
    ) -> Result<Response<pb::FindInsuredCitizensResponse>, Status> {
        respond(self.insured(request.into_inner()).await)
    }

    async fn get_country_info(
        &self,
        _request: Request<pb::GetCountryInfoRequest>,
    ) -> Result<Response<pb::GetCountryInfoResponse>, Status> {
        Ok(Response::new(self.country_info()))
    }
}
