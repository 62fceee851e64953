//! How the citizen service reaches the population database.

use sandbox06_proto::population::{self as pb, population_service_client::PopulationServiceClient};
use sandbox06_runtime::{ApiError, Reason, telemetry::TraceContextInterceptor};
use tonic::{Code, Status, codegen::InterceptedService, transport::Channel};

/// The population database could not answer.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// It cannot be reached.
    #[error("population database unavailable: {0}")]
    Unavailable(String),
    /// It refused the request as malformed (the service validates first, so this is a bug or skew).
    #[error("population database refused the request: {0}")]
    Refused(Status),
    /// It failed.
    #[error("population database failed: {0}")]
    Failed(String),
}

impl From<Status> for UpstreamError {
    fn from(s: Status) -> Self {
        match s.code() {
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown => {
                UpstreamError::Unavailable(s.message().to_owned())
            }
            Code::InvalidArgument => UpstreamError::Refused(s),
            _ => UpstreamError::Failed(format!("{:?}: {}", s.code(), s.message())),
        }
    }
}

impl From<UpstreamError> for Status {
    fn from(e: UpstreamError) -> Self {
        match e {
            UpstreamError::Unavailable(m) => ApiError::new(
                Reason::UpstreamUnavailable,
                format!("population database unavailable: {m}"),
            )
            .with_metadata("backend", "population-db")
            .into(),
            UpstreamError::Refused(s) => s,
            UpstreamError::Failed(m) => ApiError::new(
                Reason::UpstreamFailed,
                format!("population database failed: {m}"),
            )
            .with_metadata("backend", "population-db")
            .into(),
        }
    }
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
    /// Many records, in the order asked.
    async fn batch_get(
        &self,
        citizen_ids: Vec<String>,
        view: pb::RecordView,
    ) -> Result<Vec<pb::BatchGetCitizensResult>, UpstreamError>;
}

/// The population database over gRPC, continuing the caller's trace.
#[derive(Debug, Clone)]
pub struct GrpcPopulation {
    client: PopulationServiceClient<InterceptedService<Channel, TraceContextInterceptor>>,
}

impl GrpcPopulation {
    /// A client over `channel`.
    pub fn new(channel: Channel) -> Self {
        let client = PopulationServiceClient::with_interceptor(channel, TraceContextInterceptor)
            .max_decoding_message_size(64 * 1024 * 1024);
        Self { client }
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
            Err(s) => Err(s.into()),
        }
    }

    async fn batch_get(
        &self,
        citizen_ids: Vec<String>,
        view: pb::RecordView,
    ) -> Result<Vec<pb::BatchGetCitizensResult>, UpstreamError> {
        let request = pb::BatchGetCitizensRequest {
            citizen_ids,
            view: view as i32,
        };
        Ok(self
            .client
            .clone()
            .batch_get_citizens(request)
            .await?
            .into_inner()
            .results)
    }
}
