//! The `x-sandbox06-tenant` request header: which test job a call belongs to, so that parallel
//! jobs sharing one running suite keep their fault rules, journal entries and stored state apart.

use http::{HeaderMap, HeaderName, HeaderValue};
use tonic::metadata::{MetadataMap, MetadataValue};

use crate::error::{ApiError, Reason};

/// The request header naming the call's tenant (see [`crate::faults`]).
pub const TENANT_HEADER: &str = "x-sandbox06-tenant";

/// The most characters a tenant has.
pub const MAX_TENANT_LEN: usize = 64;

/// [`TENANT_HEADER`], parsed once.
pub(crate) static TENANT_HEADER_NAME: HeaderName = HeaderName::from_static(TENANT_HEADER);

tokio::task_local! {
    /// The `x-sandbox06-tenant` header of the call being served, passed on to the calls its
    /// handler makes; `None` within [`as_suite`].
    static CALL_TENANT: Option<HeaderValue>;
}

/// Whether `value` is a tenant: 1 to 64 of `a-z A-Z 0-9 - _ .`.
pub fn is_tenant(value: &[u8]) -> bool {
    (1..=MAX_TENANT_LEN).contains(&value.len())
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The refusal of a malformed tenant header.
pub fn malformed() -> ApiError {
    ApiError::new(
        Reason::InvalidArgument,
        format!(
            "{TENANT_HEADER} is malformed: a tenant is 1 to {MAX_TENANT_LEN} of a-z, A-Z, 0-9, '-', '_' and '.', e.g. \"ci-job-42\""
        ),
    )
    .with_metadata("header", TENANT_HEADER)
}

/// The tenant `value` names, or the refusal naming the header.
fn checked(value: &HeaderValue) -> Result<&str, ApiError> {
    if is_tenant(value.as_bytes()) {
        // Visible ASCII only, as checked.
        value.to_str().map_err(|_| malformed())
    } else {
        Err(malformed())
    }
}

/// The tenant of a call with `headers`: none without the header, the refusal (INVALID_ARGUMENT
/// naming the header) when it is malformed.
pub fn tenant_of(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    headers.get(&TENANT_HEADER_NAME).map(checked).transpose()
}

/// [`tenant_of`] for a served call's gRPC metadata.
pub fn tenant_of_metadata(metadata: &MetadataMap) -> Result<Option<&str>, ApiError> {
    metadata
        .get(TENANT_HEADER)
        .map(|value| {
            if is_tenant(value.as_bytes()) {
                value.to_str().map_err(|_| malformed())
            } else {
                Err(malformed())
            }
        })
        .transpose()
}

/// The `x-sandbox06-tenant` header of the call being served, when it carries one and this is
/// called from its handler: what outgoing calls pass on.
pub fn call_tenant_header() -> Option<HeaderValue> {
    CALL_TENANT.try_with(Option::clone).ok().flatten()
}

/// Writes the served call's `x-sandbox06-tenant` header into an outgoing call's `metadata`,
/// unless it carries one already: what [`TraceContextInterceptor`](crate::telemetry::TraceContextInterceptor)
/// does, for a client interceptor of its own (the admin surface's control calls).
pub fn pass_tenant(metadata: &mut MetadataMap) {
    if let Some(tenant) = call_tenant_header()
        && !metadata.contains_key(TENANT_HEADER)
        && let Ok(value) = MetadataValue::try_from(tenant.as_bytes())
    {
        metadata.insert(TENANT_HEADER, value);
    }
}

/// Runs `future` as a call of `tenant`, as a server runs a call carrying the header:
/// [`call_tenant_header`] gives it within, so what reads the call's tenant (the state stores,
/// outgoing calls) sees it. For tests and tools acting as one tenant; `tenant` is checked as
/// the header is, and refused the same way.
pub fn as_tenant<F: Future>(
    tenant: &str,
    future: F,
) -> Result<tokio::task::futures::TaskLocalFuture<Option<HeaderValue>, F>, ApiError> {
    if !is_tenant(tenant.as_bytes()) {
        return Err(malformed());
    }
    let header = HeaderValue::from_str(tenant).map_err(|_| malformed())?;
    Ok(scope(header, future))
}

/// Runs `future` as a call of the tenant `header` (already checked): [`call_tenant_header`]
/// gives it within.
pub(crate) fn scope<F: Future>(
    header: HeaderValue,
    future: F,
) -> tokio::task::futures::TaskLocalFuture<Option<HeaderValue>, F> {
    CALL_TENANT.scope(Some(header), future)
}

/// Runs `future` as the suite's own, whatever tenant the call being served belongs to: within
/// it, [`call_tenant_header`] gives nothing, so the state stores read and write the component's
/// own namespace and outgoing calls carry no tenant. For the few reads of state the suite keeps
/// for everyone (the platform's lodging counts, counted from the suite's own events).
pub fn as_suite<F: Future>(
    future: F,
) -> tokio::task::futures::TaskLocalFuture<Option<HeaderValue>, F> {
    CALL_TENANT.scope(None, future)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_tenant_is_short_and_plain() {
        for good in ["a", "ci-job-42", "Team_A.run.7", &"x".repeat(64)] {
            assert!(is_tenant(good.as_bytes()), "{good}");
        }
        for bad in ["", " a", "a b", "a/b", "tên", "a,b", &"x".repeat(65)] {
            assert!(!is_tenant(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn a_malformed_header_is_refused_naming_it() {
        let mut headers = HeaderMap::new();
        assert_eq!(tenant_of(&headers).unwrap(), None);
        headers.insert(TENANT_HEADER, HeaderValue::from_static("job-a"));
        assert_eq!(tenant_of(&headers).unwrap(), Some("job-a"));
        headers.insert(TENANT_HEADER, HeaderValue::from_static("job a"));
        let error = tenant_of(&headers).unwrap_err();
        assert_eq!(error.code(), tonic::Code::InvalidArgument);
        assert_eq!(error.metadata["header"], TENANT_HEADER);
        assert!(error.message.starts_with(TENANT_HEADER));
        let mut metadata = MetadataMap::new();
        metadata.insert(TENANT_HEADER, "job/a".parse().unwrap());
        assert!(tenant_of_metadata(&metadata).is_err());
        metadata.insert(TENANT_HEADER, "job-b".parse().unwrap());
        assert_eq!(tenant_of_metadata(&metadata).unwrap(), Some("job-b"));
    }

    #[tokio::test]
    async fn the_tenant_is_known_within_its_scope_only() {
        assert!(call_tenant_header().is_none());
        let seen = scope(HeaderValue::from_static("job-a"), async {
            call_tenant_header()
        })
        .await;
        assert_eq!(seen.unwrap(), "job-a");
        assert!(call_tenant_header().is_none());
        let inner = scope(
            HeaderValue::from_static("job-a"),
            as_suite(async { call_tenant_header() }),
        )
        .await;
        assert!(inner.is_none(), "as the suite within a tenant's call");
    }

    #[tokio::test]
    async fn a_future_runs_as_a_tenant_once_the_tenant_is_checked() {
        let seen = as_tenant("job-b", async { call_tenant_header() })
            .unwrap()
            .await;
        assert_eq!(seen.unwrap(), "job-b");
        assert!(as_tenant("job b", async {}).is_err());
    }
}
