//! A stub component that serves one HTTP route, for testing what the list of components gives
//! any component: a place in `up` and `serve`, and its HTTP prefix routed by the edge.

use std::net::{Ipv4Addr, SocketAddr};

use axum::{Json, Router, http::HeaderMap, routing::get};
use figment::Figment;
use sandbox06_runtime::{
    caller::Caller,
    component::{Component, ComponentSpec, Context, Role, Running, Shutdown, StartError},
    config::{ConfigError, Limits},
    server::ServerBuilder,
};
use serde_json::json;
use tokio::net::TcpListener;

/// What the stub is: a service with one HTTP prefix and no gRPC service.
pub static STUB_SPEC: ComponentSpec = ComponentSpec {
    name: "stub",
    summary: "a stub service with one HTTP route, for tests",
    role: Role::Service,
    section: "stub",
    grpc_services: &[],
    http_prefixes: &["/stub"],
    peers: &[],
    container_port: 4699,
    clients: &[],
};

/// The stub component: `GET /stub/hello` answers who it is and who called, as JSON.
#[derive(Debug, Default)]
pub struct StubComponent;

async fn hello(headers: HeaderMap) -> Json<serde_json::Value> {
    let caller = Caller::from_headers(&headers);
    Json(json!({
        "component": STUB_SPEC.name,
        "caller_client": caller.client_id,
        "caller_subject": caller.subject,
        "caller_scopes": caller.scopes,
        "forwarded_for": headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()),
    }))
}

impl Component for StubComponent {
    fn spec(&self) -> &'static ComponentSpec {
        &STUB_SPEC
    }

    fn listen(&self, _config: &Figment) -> Result<SocketAddr, ConfigError> {
        Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }

    fn serve(&self, ctx: Context, listener: TcpListener, shutdown: Shutdown) -> Running {
        let limits: Limits = ctx.limits.clone();
        Box::pin(async move {
            ServerBuilder::new(&limits)
                .component(STUB_SPEC.name)
                .http_routes(Router::new().route("/stub/hello", get(hello)))
                .serve(listener, shutdown)
                .await
                .map_err(StartError::serve(STUB_SPEC.name))
        })
    }
}
