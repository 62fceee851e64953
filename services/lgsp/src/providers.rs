//! Who answers: the suite's citizen service (through the edge, as the platform's own client
//! `svc-lgsp`), the national services (through the NDXP mock), and VNeID for consents.

use std::sync::Arc;

use sandbox06_proto::{
    citizen::citizen_service_client::CitizenServiceClient,
    lgsp::{exchange_request::Request as Typed, exchange_response::Result as Answer},
    ndxp::{
        self as nd, exchange_request::Request as NdxpTyped,
        exchange_response::Result as NdxpAnswer, ndxp_service_client::NdxpServiceClient,
    },
};
use sandbox06_runtime::{PeerChannel, telemetry::TraceContextInterceptor, token::EdgeChannel};
use tonic::{Code, Status, service::interceptor::InterceptedService};

use crate::{LgspError, lodging::LodgingCounts};

/// NDXP, as the list of components names it.
pub const NDXP: &str = "ndxp";
/// VNeID, as the list of components names it.
pub const VNEID: &str = "vneid";
/// The citizen service's name in `ErrorInfo.metadata.backend`.
pub const CITIZEN: &str = "citizen";

/// Whether a provider's status is its judgement of the request (answered to the consumer as
/// it came) rather than a failure of the provider.
fn is_refusal(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::InvalidArgument | Code::NotFound | Code::FailedPrecondition | Code::OutOfRange
    )
}

fn failure(backend: &'static str, system: &'static str, status: Status) -> LgspError {
    if is_refusal(&status) {
        LgspError::ProviderRefused(status)
    } else {
        LgspError::Provider {
            backend,
            system,
            status,
        }
    }
}

/// The data subjects' consents, as VNeID records them.
#[tonic::async_trait]
pub trait Consents: Send + Sync + 'static {
    /// The id of a consent in force today of `citizen_id` for `consumer_id`, `service_code`
    /// and `purpose`; `None` when there is none.
    async fn consent(
        &self,
        citizen_id: &str,
        consumer_id: &str,
        service_code: &str,
        purpose: &str,
    ) -> Result<Option<String>, LgspError>;
}

/// VNeID's consents over gRPC.
#[derive(Clone, Debug)]
pub struct GrpcConsents {
    client: sandbox06_proto::vneid::consent_service_client::ConsentServiceClient<
        InterceptedService<PeerChannel, TraceContextInterceptor>,
    >,
}

impl GrpcConsents {
    /// A client over `channel`.
    pub fn new(channel: impl Into<PeerChannel>) -> Self {
        Self {
            client:
                sandbox06_proto::vneid::consent_service_client::ConsentServiceClient::with_interceptor(
                    channel.into(),
                    TraceContextInterceptor,
                ),
        }
    }
}

#[tonic::async_trait]
impl Consents for GrpcConsents {
    async fn consent(
        &self,
        citizen_id: &str,
        consumer_id: &str,
        service_code: &str,
        purpose: &str,
    ) -> Result<Option<String>, LgspError> {
        let request = sandbox06_proto::vneid::CheckConsentRequest {
            citizen_id: citizen_id.to_owned(),
            recipient: consumer_id.to_owned(),
            service_code: service_code.to_owned(),
            purpose: purpose.to_owned(),
        };
        match self.client.clone().check_consent(request).await {
            Ok(answer) => Ok(answer.into_inner().consent.map(|c| c.consent_id)),
            Err(status) if status.code() == Code::NotFound => Ok(None),
            Err(status) => Err(failure(VNEID, "VNeID (the citizens' consents)", status)),
        }
    }
}

/// The providers.
#[derive(Clone)]
pub struct Providers {
    citizens: CitizenServiceClient<EdgeChannel>,
    ndxp: NdxpServiceClient<InterceptedService<PeerChannel, TraceContextInterceptor>>,
    /// Consents.
    pub consents: Arc<dyn Consents>,
    /// The daily lodging counts.
    pub lodging: LodgingCounts,
}

impl Providers {
    /// The citizen service through `edge`, NDXP over `ndxp`, `consents` and `lodging`.
    pub fn new(
        edge: EdgeChannel,
        ndxp: impl Into<PeerChannel>,
        consents: Arc<dyn Consents>,
        lodging: LodgingCounts,
    ) -> Self {
        Self {
            citizens: CitizenServiceClient::new(edge),
            ndxp: NdxpServiceClient::with_interceptor(ndxp.into(), TraceContextInterceptor),
            consents,
            lodging,
        }
    }

    /// The citizen service's answer.
    pub async fn citizen(&self, request: Typed) -> Result<Answer, LgspError> {
        let Typed::CitizenVerify(request) = request else {
            return Err(LgspError::Provider {
                backend: CITIZEN,
                system: "the citizen service",
                status: Status::internal("a request of another service was routed to it"),
            });
        };
        self.citizens
            .clone()
            .verify_citizen(request)
            .await
            .map(|r| Answer::CitizenVerify(r.into_inner()))
            .map_err(|status| failure(CITIZEN, "the citizen service", status))
    }

    /// A national service's answer through NDXP.
    pub async fn national(
        &self,
        platform: &str,
        service_code: &str,
        consumer_id: &str,
        transaction_id: &str,
        purpose: &str,
        request: Typed,
    ) -> Result<Answer, LgspError> {
        let typed = match request {
            Typed::HealthInsuranceCheck(r) => NdxpTyped::HealthInsuranceCheck(r),
            Typed::Citizen(r) => NdxpTyped::Citizen(r),
            Typed::JudicialRecord(r) => NdxpTyped::JudicialRecord(r),
            Typed::PopulationStatistics(r) => NdxpTyped::PopulationStatistics(r),
            Typed::CitizenVerify(_) | Typed::LodgingCount(_) => {
                return Err(LgspError::Provider {
                    backend: NDXP,
                    system: "the national data exchange (NDXP)",
                    status: Status::internal("a local request was routed to NDXP"),
                });
            }
        };
        // The platform's own transaction id: the consumer's, made unique across consumers
        // and short enough for NDXP.
        let ours = sandbox06_runtime::digest::hex(
            &ring::digest::digest(
                &ring::digest::SHA256,
                format!("{consumer_id}\u{0}{transaction_id}").as_bytes(),
            )
            .as_ref()[..16],
        );
        let request = nd::ExchangeRequest {
            service_code: service_code.to_owned(),
            requester_agency_code: platform.to_owned(),
            transaction_id: ours,
            purpose: purpose.to_owned(),
            request: Some(typed),
        };
        let answer = self
            .ndxp
            .clone()
            .exchange(request)
            .await
            .map_err(|status| failure(NDXP, "the national data exchange (NDXP)", status))?
            .into_inner()
            .result;
        Ok(match answer {
            Some(NdxpAnswer::HealthInsuranceCheck(r)) => Answer::HealthInsuranceCheck(r),
            Some(NdxpAnswer::MaritalStatus(r)) => Answer::MaritalStatus(r),
            Some(NdxpAnswer::BirthRegistration(r)) => Answer::BirthRegistration(r),
            Some(NdxpAnswer::DeathRegistration(r)) => Answer::DeathRegistration(r),
            Some(NdxpAnswer::JudicialRecord(r)) => Answer::JudicialRecord(r),
            Some(NdxpAnswer::PopulationStatistics(r)) => Answer::PopulationStatistics(r),
            Some(NdxpAnswer::HealthBook(r)) => Answer::HealthBook(r),
            None => {
                return Err(LgspError::Provider {
                    backend: NDXP,
                    system: "the national data exchange (NDXP)",
                    status: Status::internal("NDXP answered no result"),
                });
            }
        })
    }
}
