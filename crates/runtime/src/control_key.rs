//! The suite's control key: what a component's control services (`FaultControl`,
//! `StateControl`, `JournalControl`, the `sandbox06.admin.v1` package but the public
//! `AdminService`) take calls with.
//!
//! The admin surface decides who may use the controls (`admin.access`); the control services
//! it calls must not be a way around that. The edge serves its own on the edge port, which
//! every client reaches, and a component's port may be reachable too. So each call to a
//! control service carries the header [`CONTROL_KEY_HEADER`] with the suite's control key, the
//! secret every process of the suite derives alike (as declared clients' secrets are, from
//! `sso.service_client_key`, for the id [`CONTROL_KEY_ID`]); a server given the key
//! ([`crate::server::ServerBuilder::control_key`]) refuses a control call without it with
//! `PERMISSION_DENIED`, `CONTROL_KEY_MISSING`. A server given no key (a component run with no
//! secret rule, in tests) takes every control call.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{Either, Ready, ready};
use http::{Request, Response};
use tower::{Layer, Service};

use crate::{ApiError, Reason};

/// The header a control call carries the key in.
pub const CONTROL_KEY_HEADER: &str = "x-sandbox06-control-key";

/// The id the control key is derived for, as a declared client's secret is.
pub const CONTROL_KEY_ID: &str = "sandbox06-control";

/// Whether a call to `path` is a control service's: the controls' package but the public
/// surface, which the admin's own access rule guards.
fn is_control(path: &str) -> bool {
    let admin = sandbox06_proto::admin::admin_service_server::SERVICE_NAME;
    path.strip_prefix('/').is_some_and(|name| {
        name.starts_with(crate::faults::CONTROLS_PACKAGE)
            && !name
                .strip_prefix(admin)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Whether `given` is `key`, compared in time that does not depend on where they differ.
fn same(given: &[u8], key: &[u8]) -> bool {
    given.len() == key.len()
        && given
            .iter()
            .zip(key)
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
}

/// Refuses control calls without the key; lets every other call through untouched.
#[derive(Clone, Debug, Default)]
pub struct ControlKeyLayer {
    key: Option<Arc<str>>,
}

impl ControlKeyLayer {
    /// The layer of a server given `key` (none: every control call is taken).
    pub fn new(key: Option<String>) -> Self {
        Self {
            key: key.map(Arc::from),
        }
    }
}

impl<S> Layer<S> for ControlKeyLayer {
    type Service = ControlKey<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ControlKey {
            inner,
            key: self.key.clone(),
        }
    }
}

/// The service of [`ControlKeyLayer`].
#[derive(Clone, Debug)]
pub struct ControlKey<S> {
    inner: S,
    key: Option<Arc<str>>,
}

impl<S, B> Service<Request<B>> for ControlKey<S>
where
    S: Service<Request<B>, Response = Response<tonic::body::Body>>,
{
    type Response = Response<tonic::body::Body>;
    type Error = S::Error;
    // No allocation on the way through: the refusal is ready at once.
    type Future = Either<Ready<Result<Self::Response, Self::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let refused = match &self.key {
            Some(key) if is_control(request.uri().path()) => !request
                .headers()
                .get(CONTROL_KEY_HEADER)
                .is_some_and(|given| same(given.as_bytes(), key.as_bytes())),
            _ => false,
        };
        if refused {
            let status = tonic::Status::from(ApiError::new(
                Reason::ControlKeyMissing,
                "the sandbox's control services take the admin surface's calls only: use sandbox06.admin.v1.AdminService through the edge",
            ));
            return Either::Left(ready(Ok(status.into_http())));
        }
        Either::Right(self.inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_controls_but_the_admin_surface_need_the_key() {
        assert!(is_control(
            "/sandbox06.admin.v1.FaultControl/ListFaultRules"
        ));
        assert!(is_control("/sandbox06.admin.v1.StateControl/Reset"));
        assert!(is_control(
            "/sandbox06.admin.v1.JournalControl/ClearJournal"
        ));
        assert!(!is_control("/sandbox06.admin.v1.AdminService/ResetSandbox"));
        assert!(!is_control(
            "/sandbox06.citizen.v1.CitizenService/GetCitizen"
        ));
    }

    #[test]
    fn keys_are_compared_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abd", b"abc"));
        assert!(!same(b"ab", b"abc"));
        assert!(!same(b"", b"abc"));
    }
}
