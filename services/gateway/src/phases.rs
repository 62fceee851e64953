//! The phases of a call through the edge, over one per-call context ([`Call`]): gRPC, gRPC-Web
//! (turned into gRPC by the server before it reaches the edge) and REST (transcoded) all go
//! through the same three, each once:
//!
//! 1. **route**: the method's [`Target`] (backend, channel, policy), looked up once in the
//!    [`RouteTable`] (for REST, when the route table was built), and the call's `gateway` span;
//! 2. **authorize**: the [`Authorizer`]'s verdict on the caller's headers for that method,
//!    kept in the context as the [`Caller`];
//! 3. **forward**: the caller headers written from that verdict (those a client sent are gone),
//!    the trace context, the header-size check, whole messages only, the backend's answer
//!    passed on (ending with the suite's status if the backend breaks off).
//!
//! Each call is recorded in the edge's journal when it has one ([`crate::journal`]): the entry
//! point opens the [`Recording`] and puts it in the context; authorize adds the caller, forward
//! the request's frames and the trace context, and the answer's status and frames are seen as it
//! passes back.
//!
//! The deadline is the server's (`grpc-timeout`, at most `limits.request_timeout_seconds`),
//! applied around authorize and forward for gRPC by the server and for REST by the REST side.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, Request, Response};
use sandbox06_runtime::caller::strip_caller_headers;
use sandbox06_runtime::metadata_limit::request_fits;
use sandbox06_runtime::telemetry::inject_span_context;
use sandbox06_runtime::{ApiError, Reason};
use tonic::body::Body;
use tower::ServiceExt as _;
use tracing::{Instrument as _, Span};

use crate::journal::{Journal, Recording, Side, Tap};
use crate::policy::{Authorizer, Caller};
use crate::proxy::{EndsWithStatus, cause_chain, grpc_error_response};
use crate::reframe::WholeMessages;
use crate::routes::{RouteTable, Target};

/// What every call shares: the route table, the authorizer, the server's deadline.
pub(crate) struct Edge {
    pub(crate) routes: RouteTable,
    pub(crate) authorizer: Arc<dyn Authorizer>,
    /// The longest a call may take (`limits.request_timeout_seconds`).
    pub(crate) timeout: Duration,
    /// The journal of calls, when it is on.
    pub(crate) journal: Option<Arc<Journal>>,
}

/// One call's context, computed once and borrowed by every phase after.
pub(crate) struct Call<'t> {
    /// Where the call goes and the method's policy (borrowed from the route table).
    pub(crate) target: Cow<'t, Target>,
    /// The call's `gateway` span (a client span toward the backend).
    pub(crate) span: Span,
    /// Who the call comes from, once authorized; anonymous before.
    pub(crate) caller: Caller,
    /// The call's entry in the journal, when there is one.
    pub(crate) recording: Option<Recording>,
}

impl Edge {
    /// Phase 1 for a gRPC call: the target of `path`, or why there is none.
    pub(crate) fn route_grpc(&self, path: &str) -> Result<Call<'_>, ApiError> {
        self.routes.grpc(path).map(Call::new)
    }

    /// Phases 2 and 3 of `call`: authorize on `request`'s headers, then forward it; a refusal
    /// is the gRPC error answer.
    pub(crate) async fn authorize_and_forward(
        &self,
        mut call: Call<'_>,
        mut request: Request<axum::body::Body>,
    ) -> Response<Body> {
        // Only the edge says who the caller is.
        strip_caller_headers(request.headers_mut());
        let recording = call.recording.clone();
        let response = match call.authorize(&*self.authorizer, request.headers()).await {
            Ok(()) => call.forward(request).await,
            Err(error) => grpc_error_response(error),
        };
        answered(recording, response)
    }
}

impl<'t> Call<'t> {
    /// The context of a call to `target`, with its span.
    pub(crate) fn new(target: Cow<'t, Target>) -> Self {
        // A method of the contract is named as it is; anything else could carry personal data.
        let method: Cow<'_, str> = if target.known {
            Cow::Borrowed(target.info.method.as_str())
        } else {
            Cow::Owned(sandbox06_runtime::mask::path(&target.info.method))
        };
        let span = tracing::info_span!(
            "gateway",
            otel.kind = "client",
            rpc.system = "grpc",
            rpc.service = target.info.service.as_str(),
            rpc.method = &*method,
            backend = &*target.backend,
            auth.scope = tracing::field::Empty,
        );
        Self {
            target,
            span,
            caller: Caller::anonymous(),
            recording: None,
        }
    }

    /// The context recorded as `recording`, which learns the call's method.
    pub(crate) fn recorded(mut self, recording: Option<Recording>) -> Self {
        if let Some(recording) = &recording {
            let path = &self.target.info.path;
            let method = if self.target.known {
                path.clone()
            } else {
                sandbox06_runtime::mask::path(path)
            };
            recording.with(|facts| facts.method = method);
        }
        self.recording = recording;
        self
    }

    /// Phase 2: the authorizer's verdict on `headers` (the caller headers already stripped),
    /// once; the caller is kept in the context.
    pub(crate) async fn authorize(
        &mut self,
        authorizer: &dyn Authorizer,
        headers: &HeaderMap,
    ) -> Result<(), ApiError> {
        let decided = self
            .span
            .in_scope(|| authorizer.authorize(&self.target.info, headers));
        match decided.instrument(self.span.clone()).await {
            Ok(caller) => {
                if let Some(recording) = &self.recording {
                    recording.with(|facts| {
                        facts.client_id.clone_from(&caller.client_id);
                        facts.subject.clone_from(&caller.subject);
                    });
                }
                self.caller = caller;
                Ok(())
            }
            Err(error) => {
                tracing::info!(parent: &self.span, reason = %error.reason, "call refused");
                Err(error)
            }
        }
    }

    /// Phase 3: `request` to the backend with the caller the context holds, its answer back.
    pub(crate) async fn forward(self, mut request: Request<axum::body::Body>) -> Response<Body> {
        let Self {
            target,
            span,
            caller,
            recording,
        } = self;
        if let Err(error) = caller.write_headers(request.headers_mut()) {
            tracing::warn!(parent: &span, error = %error, "caller does not fit in headers");
            return grpc_error_response(ApiError::new(
                Reason::Internal,
                "the authorized caller cannot be passed on",
            ));
        }
        // The backend's span becomes a child of this hop.
        inject_span_context(&span, request.headers_mut());
        if let Some(recording) = &recording {
            let traceparent = request.headers().get("traceparent").cloned();
            recording.with(|facts| facts.traceparent = traceparent.or(facts.traceparent.take()));
        }
        // A header block above what the backend takes would fail the connection every caller
        // shares with it, not this call.
        if let Err(error) = request_fits(request.uri().path(), request.headers()) {
            tracing::info!(parent: &span, reason = %error.reason, "call refused");
            return grpc_error_response(error);
        }
        // Whole messages only: the connection to the backend is every caller's.
        let request = request.map(|body| match recording {
            Some(recording) => {
                Body::new(Tap::new(WholeMessages::new(body), recording, Side::Request))
            }
            None => Body::new(WholeMessages::new(body)),
        });
        let backend = Arc::clone(&target.backend);
        match target
            .channel
            .clone()
            .oneshot(request)
            .instrument(span)
            .await
        {
            // A backend's answer that breaks off ends with the suite's status, not a reset
            // stream.
            Ok(response) => response.map(|body| Body::new(EndsWithStatus::new(body, backend))),
            Err(error) => {
                // The whole chain: "transport error" alone does not say whether the backend
                // refused the connection, closed it (GOAWAY and its reason) or timed out.
                tracing::warn!(backend = &*backend, cause = %cause_chain(&*error), "forward failed");
                grpc_error_response(
                    ApiError::new(
                        Reason::UpstreamUnavailable,
                        format!("backend {backend} is unavailable"),
                    )
                    .with_metadata("backend", &*backend),
                )
            }
        }
    }
}

/// `response` passed on, its status and frames seen by `recording` when there is one.
pub(crate) fn answered(recording: Option<Recording>, response: Response<Body>) -> Response<Body> {
    match recording {
        Some(recording) => {
            recording.with(|facts| facts.status_from(response.headers()));
            response.map(|body| Body::new(Tap::new(body, recording, Side::Response)))
        }
        None => response,
    }
}
