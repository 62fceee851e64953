//! What the lodging service asks of others: the citizen service (through the edge, with its
//! own token), the VNeID mock (share codes) and the national lodging registry mock. Each is a
//! trait, so the logic is tested without them, and a gRPC client.

use sandbox06_proto::{
    citizen::{
        self as cit, FieldVerdict, Verdict, citizen_service_client::CitizenServiceClient,
        match_citizens_response::Result as MatchResult,
    },
    dates::date_to_proto,
    lodgingregistry::{self as reg, lodging_registry_service_client::LodgingRegistryServiceClient},
    vneid::{self as vn, share_code_service_client::ShareCodeServiceClient},
};
use sandbox06_runtime::{PeerChannel, telemetry::TraceContextInterceptor, token::EdgeChannel};
use sandbox06_vn::CivilDate;
use tonic::{Code, Status, service::interceptor::InterceptedService};

use crate::rules::CitizenCheck;

/// A citizen guest to compare with the record.
#[derive(Clone, Debug)]
pub struct CitizenClaim {
    /// The ID number.
    pub citizen_id: String,
    /// The name declared.
    pub full_name: String,
    /// The date of birth declared.
    pub date_of_birth: CivilDate,
}

/// The citizen service, as the rules need it.
#[tonic::async_trait]
pub trait Citizens: Send + Sync + 'static {
    /// What the record says of each claim, in order.
    async fn check(&self, claims: &[CitizenClaim]) -> Result<Vec<CitizenCheck>, Status>;
}

/// The citizen service's `MatchCitizens` through the edge: one stream per declaration.
#[derive(Clone, Debug)]
pub struct GrpcCitizens {
    client: CitizenServiceClient<EdgeChannel>,
}

impl GrpcCitizens {
    /// A client over the edge channel.
    pub fn new(channel: EdgeChannel) -> Self {
        Self {
            client: CitizenServiceClient::new(channel),
        }
    }
}

#[tonic::async_trait]
impl Citizens for GrpcCitizens {
    async fn check(&self, claims: &[CitizenClaim]) -> Result<Vec<CitizenCheck>, Status> {
        if claims.is_empty() {
            return Ok(Vec::new());
        }
        let requests: Vec<cit::MatchCitizensRequest> = claims
            .iter()
            .map(|c| cit::MatchCitizensRequest {
                record_key: String::new(),
                citizen_id: c.citizen_id.clone(),
                full_name: c.full_name.clone(),
                date_of_birth: Some(date_to_proto(c.date_of_birth)),
                sex: 0,
            })
            .collect();
        let mut stream = self
            .client
            .clone()
            .match_citizens(tokio_stream::iter(requests))
            .await?
            .into_inner();
        let mut out = vec![CitizenCheck::NotFound; claims.len()];
        let mut answered = 0;
        while let Some(answer) = stream.message().await? {
            let Some(slot) = usize::try_from(answer.index)
                .ok()
                .and_then(|i| out.get_mut(i))
            else {
                return Err(Status::internal(
                    "the citizen service answered an unknown record",
                ));
            };
            *slot = match answer.result {
                Some(MatchResult::Match(m)) => CitizenCheck::Found {
                    deceased: m.verdict == Verdict::Deceased as i32,
                    name: verdict(m.full_name),
                    date_of_birth: verdict(m.date_of_birth),
                },
                Some(MatchResult::Error(e)) if e.code == Code::NotFound as i32 => {
                    CitizenCheck::NotFound
                }
                Some(MatchResult::Error(e)) => {
                    return Err(Status::new(Code::from_i32(e.code), e.message));
                }
                None => return Err(Status::internal("the citizen service answered nothing")),
            };
            answered += 1;
        }
        if answered != claims.len() {
            return Err(Status::unavailable(
                "the citizen service's stream ended early",
            ));
        }
        Ok(out)
    }
}

fn verdict(field: i32) -> FieldVerdict {
    FieldVerdict::try_from(field).unwrap_or(FieldVerdict::Unspecified)
}

/// The VNeID mock's share codes.
#[tonic::async_trait]
pub trait ShareCodes: Send + Sync + 'static {
    /// The citizen a share code releases to `facility` (`facilities/<id>`); with
    /// `validate_only`, the code stays usable.
    async fn redeem(
        &self,
        code: &str,
        facility: &str,
        validate_only: bool,
    ) -> Result<vn::SharedCitizen, Status>;
}

/// The VNeID mock over gRPC, continuing the caller's trace.
#[derive(Clone, Debug)]
pub struct GrpcShareCodes {
    client: ShareCodeServiceClient<InterceptedService<PeerChannel, TraceContextInterceptor>>,
}

impl GrpcShareCodes {
    /// A client over `channel`.
    pub fn new(channel: impl Into<PeerChannel>) -> Self {
        Self {
            client: ShareCodeServiceClient::with_interceptor(
                channel.into(),
                TraceContextInterceptor,
            ),
        }
    }
}

#[tonic::async_trait]
impl ShareCodes for GrpcShareCodes {
    async fn redeem(
        &self,
        code: &str,
        facility: &str,
        validate_only: bool,
    ) -> Result<vn::SharedCitizen, Status> {
        let answer = self
            .client
            .clone()
            .redeem_share_code(vn::RedeemShareCodeRequest {
                share_code: code.to_owned(),
                facility: facility.to_owned(),
                validate_only,
            })
            .await?
            .into_inner();
        answer
            .citizen
            .ok_or_else(|| Status::internal("VNeID answered no citizen"))
    }
}

/// The registry's answer to a delivery.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// Accepted, with the receipt.
    Accepted(reg::Receipt),
    /// Rejected, with the registry's reason code and message.
    Rejected {
        /// The registry's reason (its `RejectionReason` name without the prefix, or the reason
        /// of the error it answered).
        reason: String,
        /// Its message.
        message: String,
    },
}

/// One delivery to the registry.
#[derive(Clone, Debug)]
pub enum Delivery {
    /// A declaration or an amendment.
    Submit(reg::SubmitDeclarationRequest),
    /// Departures.
    Departure(reg::ReportDepartureRequest),
    /// A cancellation.
    Cancel(reg::CancelDeclarationRequest),
}

/// The national lodging registry.
#[tonic::async_trait]
pub trait Registry: Send + Sync + 'static {
    /// Delivers; an error when the registry did not answer (to retry).
    async fn deliver(&self, delivery: Delivery) -> Result<Answer, Status>;
}

/// The registry mock over gRPC, continuing the caller's trace.
#[derive(Clone, Debug)]
pub struct GrpcRegistry {
    client: LodgingRegistryServiceClient<InterceptedService<PeerChannel, TraceContextInterceptor>>,
}

impl GrpcRegistry {
    /// A client over `channel`.
    pub fn new(channel: impl Into<PeerChannel>) -> Self {
        Self {
            client: LodgingRegistryServiceClient::with_interceptor(
                channel.into(),
                TraceContextInterceptor,
            ),
        }
    }
}

/// The registry's answer, whichever write it answered.
enum Outcome {
    Receipt(reg::Receipt),
    Rejection(reg::Rejection),
}

macro_rules! outcome_of {
    ($module:ident, $answer:expr) => {
        match $answer.outcome {
            Some(reg::$module::Outcome::Receipt(r)) => Some(Outcome::Receipt(r)),
            Some(reg::$module::Outcome::Rejection(r)) => Some(Outcome::Rejection(r)),
            None => None,
        }
    };
}

fn outcome(answer: Option<Outcome>) -> Result<Answer, Status> {
    match answer {
        Some(Outcome::Receipt(receipt)) => Ok(Answer::Accepted(receipt)),
        Some(Outcome::Rejection(rejection)) => Ok(Answer::Rejected {
            reason: reg::RejectionReason::try_from(rejection.reason)
                .map(|r| {
                    r.as_str_name()
                        .trim_start_matches("REJECTION_REASON_")
                        .to_owned()
                })
                .unwrap_or_else(|_| rejection.reason.to_string()),
            message: rejection.message,
        }),
        None => Err(Status::internal(
            "the registry answered neither a receipt nor a rejection",
        )),
    }
}

#[tonic::async_trait]
impl Registry for GrpcRegistry {
    async fn deliver(&self, delivery: Delivery) -> Result<Answer, Status> {
        let mut client = self.client.clone();
        match delivery {
            Delivery::Submit(r) => {
                let a = client.submit_declaration(r).await?.into_inner();
                outcome(outcome_of!(submit_declaration_response, a))
            }
            Delivery::Departure(r) => {
                let a = client.report_departure(r).await?.into_inner();
                outcome(outcome_of!(report_departure_response, a))
            }
            Delivery::Cancel(r) => {
                let a = client.cancel_declaration(r).await?.into_inner();
                outcome(outcome_of!(cancel_declaration_response, a))
            }
        }
    }
}
