//! How the citizen service reaches the population database.

use sandbox06_proto::population::{self as pb, population_service_client::PopulationServiceClient};
use std::collections::VecDeque;

use sandbox06_runtime::PeerChannel;
use sandbox06_runtime::error::Refusal;
use sandbox06_runtime::{
    error::{UpstreamFailure, reason_of},
    telemetry::TraceContextInterceptor,
};
use tonic::{Code, Status, codegen::InterceptedService};

/// The population database's name in `ErrorInfo.metadata.backend`.
pub(crate) const BACKEND: &str = "population-db";

/// The population database's reason for a batch whose records exceed one answer.
const UPSTREAM_RESPONSE_TOO_LARGE: &str = "RESPONSE_TOO_LARGE";

/// The population database's path of the number it is asked for; it is not the caller's.
const UPSTREAM_CITIZEN_ID: &str = "citizen_id";

/// The population database's name in words, in the messages callers read.
pub(crate) const SYSTEM: &str = "the population database";

/// The population database could not answer: the runtime's one mapping of an upstream's failure
/// (what it or the transport said is logged where the failure is read, masked; the error's text
/// is the suite's own words, for the caller).
pub type UpstreamError = UpstreamFailure;

/// The failure of a call to the population database that ended with `status`.
pub(crate) fn failure(status: &Status) -> UpstreamError {
    UpstreamFailure::from_status(BACKEND, SYSTEM, status)
}

/// The population database answered something the service cannot use: `what`, in its words.
pub(crate) fn unusable(what: impl Into<String>) -> UpstreamError {
    UpstreamFailure::unexpected(BACKEND, SYSTEM, what)
}

/// Whether `refusal` refused only the number the service asked about.
pub(crate) fn refuses_only_the_number(refusal: &Refusal) -> bool {
    refusal.names_only(UPSTREAM_CITIZEN_ID)
}

/// Reads from the population database.
#[tonic::async_trait]
pub trait PopulationClient: Send + Sync + 'static {
    /// One record; `None` when no citizen has the number.
    async fn get(
        &self,
        citizen_id: &str,
        view: pb::RecordView,
    ) -> Result<Option<pb::Citizen>, UpstreamError>;
    /// The identities of many records (their basic view, read only as far as [`Identity`]
    /// goes), in the order asked, in as many calls as the answers' size needs.
    async fn batch_identities(
        &self,
        citizen_ids: Vec<String>,
    ) -> Result<Vec<IdentityResult>, UpstreamError>;
}

/// What MatchCitizens compares of a record: the population database's `Citizen` in its
/// identity view, under the same field numbers (a field a later view adds would be skipped
/// unread).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Identity {
    /// `citizen_id`.
    #[prost(string, tag = "1")]
    pub citizen_id: String,
    /// `full_name`.
    #[prost(string, tag = "2")]
    pub full_name: String,
    /// `date_of_birth`.
    #[prost(message, optional, tag = "3")]
    pub date_of_birth: Option<sandbox06_proto::types::Date>,
    /// `sex`, a `sandbox06.types.v1.Sex`.
    #[prost(int32, tag = "4")]
    pub sex: i32,
    /// `life_status`, a `sandbox06.types.v1.LifeStatus`.
    #[prost(int32, tag = "12")]
    pub life_status: i32,
}

/// A `BatchGetCitizensResult` with its record read as an [`Identity`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct IdentityResult {
    /// The number as asked.
    #[prost(string, tag = "1")]
    pub citizen_id: String,
    /// The record; unset when no such citizen exists.
    #[prost(message, optional, tag = "2")]
    pub citizen: Option<Identity>,
    /// Set when the number is not a well-formed ID number.
    #[prost(string, tag = "3")]
    pub invalid_reason: String,
}

/// A `BatchGetCitizensResponse` with its records read as identities.
#[derive(Clone, PartialEq, prost::Message)]
struct IdentityBatch {
    #[prost(message, repeated, tag = "1")]
    results: Vec<IdentityResult>,
}

/// The path of BatchGetCitizens.
const BATCH_GET_CITIZENS: &str =
    "/sandbox06.upstream.population.v1.PopulationService/BatchGetCitizens";

/// Most bytes of an answer the client reads.
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// The population database over gRPC, continuing the caller's trace.
#[derive(Debug, Clone)]
pub struct GrpcPopulation {
    client: PopulationServiceClient<InterceptedService<PeerChannel, TraceContextInterceptor>>,
    /// The same channel, for the calls whose answers are read narrower.
    grpc: tonic::client::Grpc<InterceptedService<PeerChannel, TraceContextInterceptor>>,
}

impl GrpcPopulation {
    /// A client over `channel` (a [`PeerChannel`], or a TCP channel).
    pub fn new(channel: impl Into<PeerChannel>) -> Self {
        let channel: PeerChannel = channel.into();
        let client =
            PopulationServiceClient::with_interceptor(channel.clone(), TraceContextInterceptor)
                .max_decoding_message_size(MAX_ANSWER_BYTES);
        let grpc =
            tonic::client::Grpc::new(InterceptedService::new(channel, TraceContextInterceptor))
                .max_decoding_message_size(MAX_ANSWER_BYTES);
        Self { client, grpc }
    }

    /// BatchGetCitizens in the identity view, its records read as identities.
    async fn batch_get_identities(
        &self,
        citizen_ids: Vec<String>,
    ) -> Result<Vec<IdentityResult>, Status> {
        let mut grpc = self.grpc.clone();
        grpc.ready()
            .await
            .map_err(|e| Status::unavailable(format!("the channel is not ready: {e}")))?;
        let mut request = tonic::Request::new(pb::BatchGetCitizensRequest {
            citizen_ids,
            view: pb::RecordView::Identity as i32,
        });
        request.extensions_mut().insert(tonic::GrpcMethod::new(
            "sandbox06.upstream.population.v1.PopulationService",
            "BatchGetCitizens",
        ));
        let path = tonic::codegen::http::uri::PathAndQuery::from_static(BATCH_GET_CITIZENS);
        let answer: tonic::Response<IdentityBatch> = grpc
            .unary(
                request,
                path,
                // The answer read as a narrower message than the generated client reads.
                tonic_prost::ProstCodec::<pb::BatchGetCitizensRequest, IdentityBatch>::default(),
            )
            .await?;
        Ok(answer.into_inner().results)
    }
}

#[tonic::async_trait]
impl PopulationClient for GrpcPopulation {
    async fn get(
        &self,
        citizen_id: &str,
        view: pb::RecordView,
    ) -> Result<Option<pb::Citizen>, UpstreamError> {
        let request = pb::GetCitizenRequest {
            citizen_id: citizen_id.to_owned(),
            view: view as i32,
        };
        match self.client.clone().get_citizen(request).await {
            Ok(r) => Ok(r.into_inner().citizen),
            Err(s) if s.code() == Code::NotFound => Ok(None),
            Err(s) => Err(failure(&s)),
        }
    }

    async fn batch_identities(
        &self,
        citizen_ids: Vec<String>,
    ) -> Result<Vec<IdentityResult>, UpstreamError> {
        // Chunks still to ask for, in order: one at first, halved whenever the answer would
        // be too large for one message.
        let mut pending = VecDeque::from([citizen_ids]);
        let mut results = Vec::new();
        while let Some(mut chunk) = pending.pop_front() {
            match self.batch_get_identities(chunk.clone()).await {
                Ok(answer) => results.extend(answer),
                Err(s)
                    if chunk.len() > 1
                        && reason_of(&s).as_deref() == Some(UPSTREAM_RESPONSE_TOO_LARGE) =>
                {
                    let second = chunk.split_off(chunk.len() / 2);
                    pending.push_front(second);
                    pending.push_front(chunk);
                }
                Err(s) => return Err(failure(&s)),
            }
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use sandbox06_runtime::error::field_violations_of;

    use sandbox06_runtime::ApiError;

    use super::*;
    use crate::error::{CitizenError, CitizenReason};
    use tonic_types::StatusExt as _;

    /// The status a caller reads for a failed call to the population database.
    fn answered(upstream: Status, caller_field: &str) -> Status {
        CitizenError::upstream(failure(&upstream), caller_field).into()
    }

    #[test]
    fn a_transport_failure_is_named_in_the_suites_words() {
        for transport in [
            Status::unavailable("tcp connect error"),
            Status::unknown("transport error: h2 protocol error: connection reset"),
            Status::cancelled("operation was canceled: connection closed"),
        ] {
            let status = answered(transport, "citizen_id");
            assert_eq!(status.code(), Code::Unavailable, "{status:?}");
            assert_eq!(
                status.message(),
                "the population database cannot be reached; retry later"
            );
            let info = status.get_details_error_info().unwrap();
            assert_eq!(info.reason, "UPSTREAM_UNAVAILABLE");
            assert_eq!(info.metadata["backend"], BACKEND);
        }
    }

    #[test]
    fn an_unexpected_answer_is_named_by_its_code_and_reason_only() {
        let status = answered(Status::internal("h2 protocol error: frame"), "citizen_id");
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(
            status.message(),
            "the population database failed: it answered INTERNAL without an error of the suite"
        );

        let suites: Status =
            ApiError::new(CitizenReason::CitizenNotFound, "some words of its own").into();
        let suites = Status::with_details(
            Code::FailedPrecondition,
            suites.message(),
            suites.details().to_vec().into(),
        );
        let status = answered(suites, "citizen_id");
        assert_eq!(
            status.message(),
            "the population database failed: it answered FAILED_PRECONDITION, reason CITIZEN_NOT_FOUND"
        );
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.reason, "UPSTREAM_FAILED");
        assert_eq!(info.metadata["backend"], BACKEND);

        // A refusal a library made (no ErrorInfo of the suite) is not the caller's to fix, and
        // its text is not shown.
        let status = answered(
            Status::invalid_argument("failed to decode Protobuf message: invalid wire type"),
            "citizen_id",
        );
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("wire type"), "{status:?}");
        assert!(field_violations_of(&status).is_empty());
    }

    #[test]
    fn the_databases_own_refusal_of_the_number_stays_the_callers() {
        let refusal: Status = ApiError::invalid_field(
            CitizenReason::InvalidCitizenId,
            UPSTREAM_CITIZEN_ID,
            "is retired in this database",
        )
        .into();
        let status = answered(refusal, "payload.citizen_id");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            status.message(),
            "payload.citizen_id: is retired in this database"
        );
        let violations = field_violations_of(&status);
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].field, "payload.citizen_id");
    }

    #[test]
    fn a_batch_answer_reads_as_identities() {
        use prost::Message as _;
        let record = pb::Citizen {
            citizen_id: "001090012345".into(),
            full_name: "Nguyễn Văn An".into(),
            date_of_birth: Some(sandbox06_proto::types::Date {
                year: 1990,
                month: 1,
                day: 2,
            }),
            sex: sandbox06_proto::types::Sex::Male as i32,
            life_status: sandbox06_proto::types::LifeStatus::Deceased as i32,
            card: Some(sandbox06_proto::types::IdentityCard {
                number: "001090012345".into(),
                ..Default::default()
            }),
            persona: "plain".into(),
            ..Default::default()
        };
        let answer = pb::BatchGetCitizensResponse {
            results: vec![
                pb::BatchGetCitizensResult {
                    citizen_id: "001090012345".into(),
                    citizen: Some(record.clone()),
                    invalid_reason: String::new(),
                },
                pb::BatchGetCitizensResult {
                    citizen_id: "12".into(),
                    citizen: None,
                    invalid_reason: "must be 12 digits".into(),
                },
            ],
        };
        let read = IdentityBatch::decode(answer.encode_to_vec().as_slice()).unwrap();
        assert_eq!(
            read.results,
            [
                IdentityResult {
                    citizen_id: "001090012345".into(),
                    citizen: Some(Identity {
                        citizen_id: record.citizen_id,
                        full_name: record.full_name,
                        date_of_birth: record.date_of_birth,
                        sex: record.sex,
                        life_status: record.life_status,
                    }),
                    invalid_reason: String::new(),
                },
                IdentityResult {
                    citizen_id: "12".into(),
                    citizen: None,
                    invalid_reason: "must be 12 digits".into(),
                },
            ]
        );
    }
}
