//! `LgspService` over gRPC: who called (the headers the edge set), the request, the logic, the
//! answer.

use sandbox06_proto::lgsp::{self as pb, lgsp_service_server::LgspService};
use sandbox06_runtime::caller::Caller;
use tonic::{Request, Response, Status};

use crate::{Lgsp, LgspError, catalogue};

fn split<T>(request: Request<T>) -> (Caller, T) {
    (
        Caller::from_metadata(request.metadata()),
        request.into_inner(),
    )
}

fn respond<T>(result: Result<T, LgspError>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl LgspService for Lgsp {
    async fn list_data_services(
        &self,
        _request: Request<pb::ListDataServicesRequest>,
    ) -> Result<Response<pb::ListDataServicesResponse>, Status> {
        Ok(Response::new(pb::ListDataServicesResponse {
            services: catalogue::CATALOGUE.iter().map(|s| s.to_proto()).collect(),
        }))
    }

    async fn list_agencies(
        &self,
        _request: Request<pb::ListAgenciesRequest>,
    ) -> Result<Response<pb::ListAgenciesResponse>, Status> {
        Ok(Response::new(self.agencies()))
    }

    async fn list_agreements(
        &self,
        request: Request<pb::ListAgreementsRequest>,
    ) -> Result<Response<pb::ListAgreementsResponse>, Status> {
        let (caller, r) = split(request);
        respond(self.agreements(&caller, r).await)
    }

    async fn exchange(
        &self,
        request: Request<pb::ExchangeRequest>,
    ) -> Result<Response<pb::ExchangeResponse>, Status> {
        let (caller, r) = split(request);
        respond(Lgsp::exchange(self, &caller, r).await)
    }

    async fn list_exchanges(
        &self,
        request: Request<pb::ListExchangesRequest>,
    ) -> Result<Response<pb::ListExchangesResponse>, Status> {
        let (caller, r) = split(request);
        respond(self.exchanges(&caller, r).await)
    }

    async fn verify_audit_log(
        &self,
        _request: Request<pb::VerifyAuditLogRequest>,
    ) -> Result<Response<pb::VerifyAuditLogResponse>, Status> {
        respond(self.verify().await)
    }
}
