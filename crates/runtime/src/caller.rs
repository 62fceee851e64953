//! Who is calling: the edge authorizes each request, then passes the [`Caller`] to the backend
//! in headers (gRPC metadata on gRPC calls). A backend reads it back with
//! [`Caller::from_headers`] or [`Caller::from_metadata`].
//!
//! | header | value |
//! |---|---|
//! | `x-sandbox06-caller-client` | the OAuth client id |
//! | `x-sandbox06-caller-subject` | the end user the client acts for |
//! | `x-sandbox06-caller-scopes` | granted scopes, separated by single spaces |
//! | `x-sandbox06-caller-acr` | the authentication context class (assurance level) |
//!
//! The edge strips these headers from every incoming request before setting its own, so a
//! client cannot claim an identity; an absent header means "none".

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue, InvalidHeaderValue};
use tonic::metadata::MetadataMap;

/// `x-sandbox06-caller-client`: the caller's OAuth client id.
pub const CLIENT_HEADER: &str = "x-sandbox06-caller-client";
/// `x-sandbox06-caller-subject`: the end user the client acts for.
pub const SUBJECT_HEADER: &str = "x-sandbox06-caller-subject";
/// `x-sandbox06-caller-scopes`: granted scopes, space-separated.
pub const SCOPES_HEADER: &str = "x-sandbox06-caller-scopes";
/// `x-sandbox06-caller-acr`: the authentication context class.
pub const ACR_HEADER: &str = "x-sandbox06-caller-acr";

/// Every caller header, for stripping.
pub const CALLER_HEADERS: [&str; 4] = [CLIENT_HEADER, SUBJECT_HEADER, SCOPES_HEADER, ACR_HEADER];

/// Who a request comes from, as the edge's authorizer established it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caller {
    /// The OAuth client id, when the request carried a client's credentials.
    pub client_id: Option<String>,
    /// The end user the client acts for, when there is one.
    pub subject: Option<String>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The authentication context class (assurance level) of the subject's login.
    pub acr: Option<String>,
}

impl Caller {
    /// A caller nobody vouched for.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// Whether the caller was granted `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|granted| granted == scope)
    }

    /// The caller the edge passed in `headers`.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        Self {
            client_id: text(CLIENT_HEADER),
            subject: text(SUBJECT_HEADER),
            scopes: text(SCOPES_HEADER)
                .map(|scopes| scopes.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            acr: text(ACR_HEADER),
        }
    }

    /// The caller the edge passed in a gRPC request's metadata.
    pub fn from_metadata(metadata: &MetadataMap) -> Self {
        Self::from_headers(metadata.as_ref())
    }

    /// Writes the caller into `headers`, replacing any caller headers there; fails when a value
    /// cannot be a header value (the request must not go on with a partial identity).
    pub fn write_headers(&self, headers: &mut HeaderMap) -> Result<(), InvalidHeaderValue> {
        strip_caller_headers(headers);
        let scopes = self.scopes.join(" ");
        let values = [
            (CLIENT_HEADER, self.client_id.as_deref()),
            (SUBJECT_HEADER, self.subject.as_deref()),
            (
                SCOPES_HEADER,
                Some(scopes.as_str()).filter(|s| !s.is_empty()),
            ),
            (ACR_HEADER, self.acr.as_deref()),
        ];
        for (name, value) in values {
            if let Some(value) = value {
                headers.insert(HeaderName::from_static(name), HeaderValue::from_str(value)?);
            }
        }
        Ok(())
    }
}

/// Removes every caller header from `headers` (what a client sent is never trusted).
pub fn strip_caller_headers(headers: &mut HeaderMap) {
    for name in CALLER_HEADERS {
        headers.remove(name);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_round_trips_through_headers() {
        let caller = Caller {
            client_id: Some("lodging-app".to_owned()),
            subject: Some("058090001234".to_owned()),
            scopes: vec!["citizen.read".to_owned(), "citizen.verify".to_owned()],
            acr: Some("vneid.level2".to_owned()),
        };
        let mut headers = HeaderMap::new();
        caller.write_headers(&mut headers).unwrap();
        assert_eq!(headers[SCOPES_HEADER], "citizen.read citizen.verify");
        assert_eq!(Caller::from_headers(&headers), caller);
        assert!(caller.has_scope("citizen.verify"));
    }

    #[test]
    fn an_anonymous_caller_replaces_claimed_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(SUBJECT_HEADER, HeaderValue::from_static("someone-else"));
        Caller::anonymous().write_headers(&mut headers).unwrap();
        assert!(headers.get(SUBJECT_HEADER).is_none());
        assert_eq!(Caller::from_headers(&headers), Caller::anonymous());
    }
}
