//! Outgoing gRPC channels, one per peer, shared by every call to it.

use std::time::Duration;

use tonic::transport::{Channel, Endpoint};

use crate::http2;

/// How long establishing a connection may take before the call fails as unavailable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Errors of [`grpc_channel`].
#[derive(Debug, thiserror::Error)]
#[error("invalid grpc url {url:?}: {source}")]
pub struct ChannelError {
    /// The URL given.
    pub url: String,
    /// Why it is refused.
    pub source: tonic::transport::Error,
}

/// A lazily-connecting channel to `url` (e.g. `http://127.0.0.1:4610`); connects on first use
/// and reconnects after failures. Must be called within a Tokio runtime.
///
/// Wrap it with [`crate::telemetry::TraceContextInterceptor`] so calls continue the trace.
pub fn grpc_channel(url: &str) -> Result<Channel, ChannelError> {
    let endpoint = Endpoint::from_shared(url.to_owned()).map_err(|source| ChannelError {
        url: url.to_owned(),
        source,
    })?;
    Ok(endpoint
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .http2_adaptive_window(false)
        // What the suite's servers send back is bounded as what they receive (see `http2`);
        // the peer's stream limit is theirs, 256 by default.
        .initial_stream_window_size(http2::STREAM_WINDOW)
        .initial_connection_window_size(http2::CONNECTION_WINDOW)
        .http2_max_header_list_size(http2::MAX_RESPONSE_HEADER_LIST_SIZE)
        .http2_keep_alive_interval(http2::KEEPALIVE_INTERVAL)
        .keep_alive_timeout(http2::KEEPALIVE_TIMEOUT)
        .keep_alive_while_idle(true)
        .connect_lazy())
}

/// One `grpc.health.v1` Check of `service` (`""` for the whole server) over `channel`: its
/// status name (`SERVING`, `NOT_SERVING`, …), or the status the check itself failed with.
pub async fn health_status(channel: Channel, service: &str) -> Result<&'static str, tonic::Status> {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await?;
    Ok(ServingStatus::try_from(response.into_inner().status)
        .map_or("UNKNOWN", |status| status.as_str_name()))
}
