//! Health of the whole suite at the edge: each backend service's status mirrors what the
//! backend itself reports, checked every second.

use std::time::Duration;

use tonic::transport::Channel;
use tonic_health::ServingStatus;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus as WireStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::server::HealthReporter;

/// How often each backend is asked.
const CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// A check slower than this counts as a failure.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// Mirrors the health of `services` on `backend` into `reporter`, forever.
pub(crate) async fn mirror_backend(
    backend: String,
    channel: Channel,
    services: Vec<String>,
    reporter: HealthReporter,
) {
    let mut client = HealthClient::new(channel);
    let mut ticker = tokio::time::interval(CHECK_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        for service in &services {
            let request = HealthCheckRequest {
                service: service.clone(),
            };
            let status = match tokio::time::timeout(CHECK_TIMEOUT, client.check(request)).await {
                Ok(Ok(response)) => match response.into_inner().status() {
                    WireStatus::Serving => ServingStatus::Serving,
                    _ => ServingStatus::NotServing,
                },
                Ok(Err(status)) => {
                    tracing::debug!(backend, service, code = ?status.code(), "backend health check failed");
                    ServingStatus::NotServing
                }
                Err(_) => {
                    tracing::debug!(backend, service, "backend health check timed out");
                    ServingStatus::NotServing
                }
            };
            // Only a change notifies watchers.
            reporter.set_service_status(service, status).await;
        }
    }
}
