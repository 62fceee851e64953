//! `LodgingService` over gRPC: who called (the headers the edge set), the request, the logic,
//! the answer.

use sandbox06_proto::lodging::{self as pb, lodging_service_server::LodgingService};
use sandbox06_runtime::caller::Caller;
use tonic::{Request, Response, Status};

use super::Lodging;
use crate::error::LodgingError;
use crate::events::EventStream;

fn split<T>(request: Request<T>) -> (Caller, T) {
    (
        Caller::from_metadata(request.metadata()),
        request.into_inner(),
    )
}

fn respond<T>(result: Result<T, LodgingError>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl LodgingService for Lodging {
    async fn get_facility(
        &self,
        request: Request<pb::GetFacilityRequest>,
    ) -> Result<Response<pb::GetFacilityResponse>, Status> {
        let (caller, r) = split(request);
        respond(self.get_facility(&caller, &r.facility_id).map(|facility| {
            pb::GetFacilityResponse {
                facility: Some(facility),
            }
        }))
    }

    async fn list_facilities(
        &self,
        request: Request<pb::ListFacilitiesRequest>,
    ) -> Result<Response<pb::ListFacilitiesResponse>, Status> {
        let (caller, r) = split(request);
        respond(self.list_facilities(&caller, &r))
    }

    async fn create_declaration(
        &self,
        request: Request<pb::CreateDeclarationRequest>,
    ) -> Result<Response<pb::CreateDeclarationResponse>, Status> {
        let (caller, r) = split(request);
        respond(
            self.create(&caller, r)
                .await
                .map(|d| pb::CreateDeclarationResponse {
                    declaration: Some(d),
                }),
        )
    }

    async fn get_declaration(
        &self,
        request: Request<pb::GetDeclarationRequest>,
    ) -> Result<Response<pb::GetDeclarationResponse>, Status> {
        let (caller, r) = split(request);
        respond(
            self.get_declaration(&caller, r)
                .await
                .map(|d| pb::GetDeclarationResponse {
                    declaration: Some(d),
                }),
        )
    }

    async fn list_declarations(
        &self,
        request: Request<pb::ListDeclarationsRequest>,
    ) -> Result<Response<pb::ListDeclarationsResponse>, Status> {
        let (caller, r) = split(request);
        respond(self.list(&caller, r).await)
    }

    async fn update_declaration(
        &self,
        request: Request<pb::UpdateDeclarationRequest>,
    ) -> Result<Response<pb::UpdateDeclarationResponse>, Status> {
        let (caller, r) = split(request);
        respond(
            self.update(&caller, r)
                .await
                .map(|d| pb::UpdateDeclarationResponse {
                    declaration: Some(d),
                }),
        )
    }

    async fn check_out_declaration(
        &self,
        request: Request<pb::CheckOutDeclarationRequest>,
    ) -> Result<Response<pb::CheckOutDeclarationResponse>, Status> {
        let (caller, r) = split(request);
        respond(
            self.check_out(&caller, r)
                .await
                .map(|d| pb::CheckOutDeclarationResponse {
                    declaration: Some(d),
                }),
        )
    }

    async fn cancel_declaration(
        &self,
        request: Request<pb::CancelDeclarationRequest>,
    ) -> Result<Response<pb::CancelDeclarationResponse>, Status> {
        let (caller, r) = split(request);
        respond(
            self.cancel(&caller, r)
                .await
                .map(|d| pb::CancelDeclarationResponse {
                    declaration: Some(d),
                }),
        )
    }

    type WatchDeclarationEventsStream = EventStream;

    async fn watch_declaration_events(
        &self,
        request: Request<pb::WatchDeclarationEventsRequest>,
    ) -> Result<Response<Self::WatchDeclarationEventsStream>, Status> {
        let (caller, r) = split(request);
        respond(self.watch(&caller, r).await)
    }
}
