//! `sandbox06.admin.v1.FaultControl` over one component's [`FaultRegistry`].

use sandbox06_proto::admin as pb;
use sandbox06_proto::admin::fault_control_server::{FaultControl, FaultControlServer};
use tonic::{Request, Response, Status};

use super::FaultRegistry;
use super::tenant::tenant_of_metadata;
use crate::error::{ApiError, Reason};

/// The FaultControl service of one component: every [`crate::server::ServerBuilder`] serves
/// one over its registry.
#[derive(Clone, Debug)]
pub struct FaultControlService {
    registry: FaultRegistry,
}

impl FaultControlService {
    /// The service over `registry`.
    pub fn new(registry: FaultRegistry) -> Self {
        Self { registry }
    }

    /// The generated server of it.
    pub fn into_server(self) -> FaultControlServer<Self> {
        FaultControlServer::new(self)
    }
}

#[tonic::async_trait]
impl FaultControl for FaultControlService {
    async fn create_fault_rule(
        &self,
        request: Request<pb::CreateFaultRuleRequest>,
    ) -> Result<Response<pb::FaultRule>, Status> {
        let tenant = tenant_of_metadata(request.metadata())?.map(str::to_owned);
        let rule = request
            .into_inner()
            .rule
            .ok_or_else(|| ApiError::invalid_field(Reason::InvalidArgument, "rule", "required"))?;
        Ok(Response::new(
            self.registry.create_as(rule, tenant.as_deref())?,
        ))
    }

    async fn list_fault_rules(
        &self,
        request: Request<pb::ListFaultRulesRequest>,
    ) -> Result<Response<pb::ListFaultRulesResponse>, Status> {
        let tenant = tenant_of_metadata(request.metadata())?;
        Ok(Response::new(pb::ListFaultRulesResponse {
            rules: self.registry.list_as(tenant),
        }))
    }

    async fn delete_fault_rule(
        &self,
        request: Request<pb::DeleteFaultRuleRequest>,
    ) -> Result<Response<pb::DeleteFaultRuleResponse>, Status> {
        let tenant = tenant_of_metadata(request.metadata())?.map(str::to_owned);
        let rule = self
            .registry
            .delete_as(&request.into_inner().id, tenant.as_deref())?;
        Ok(Response::new(pb::DeleteFaultRuleResponse {
            rule: Some(rule),
        }))
    }

    async fn clear_fault_rules(
        &self,
        request: Request<pb::ClearFaultRulesRequest>,
    ) -> Result<Response<pb::ClearFaultRulesResponse>, Status> {
        let removed = self
            .registry
            .clear_as(tenant_of_metadata(request.metadata())?);
        Ok(Response::new(pb::ClearFaultRulesResponse {
            removed: u32::try_from(removed).unwrap_or(u32::MAX),
        }))
    }
}
