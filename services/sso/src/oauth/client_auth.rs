//! Client authentication at the token, introspection and revocation endpoints: exactly one
//! method a client may use (Basic, form secret, `private_key_jwt`, none for a public client),
//! every failure answered alike, and failures throttled per client id and caller address.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sandbox06_jose::{decode_unverified, s256};
use serde_json::Value;

use crate::clients::{AUTH_BASIC, AUTH_NONE, AUTH_POST, AUTH_PRIVATE_KEY_JWT, Client};
use crate::oauth::errors::OAuthError;
use crate::provider::{Provider, secs};

/// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer` (RFC 7523).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Tolerance on `exp`, `iat` and `nbf` for clocks that differ a little.
pub const LEEWAY_SECONDS: i64 = 30;

/// The longest a `private_key_jwt` client assertion may live: `exp − iat` (or `exp − now`
/// when it has no `iat`) at most this, plus [`LEEWAY_SECONDS`] for the latter. A client makes
/// a new assertion for each request; one that lives long is one that can be stolen and replayed
/// elsewhere.
pub const MAX_ASSERTION_LIFETIME_SECONDS: i64 = 300;

/// Credentials presented at the token, introspection or revocation endpoint.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    /// From `Authorization: Basic`.
    pub basic: Option<(String, String)>,
    /// `client_id` of the form.
    pub client_id: Option<String>,
    /// `client_secret` of the form.
    pub client_secret: Option<String>,
    /// `client_assertion_type` of the form.
    pub assertion_type: Option<String>,
    /// `client_assertion` of the form.
    pub assertion: Option<String>,
    /// The caller's address, for throttling.
    pub address: Option<String>,
}

impl Provider {
    /// Authenticates the client at a token-type endpoint, by exactly one method it may use.
    /// Every failure answers alike ([`OAuthError::client_authentication_failed`]) and counts
    /// towards the [`Throttle`](crate::provider::Throttle); while the client id or the address is locked, nothing is
    /// checked and the answer says until when.
    pub async fn authenticate_client(&self, creds: &Credentials) -> Result<&Client, OAuthError> {
        let methods = [
            creds.basic.is_some(),
            creds.client_secret.is_some(),
            creds.assertion.is_some(),
        ];
        if methods.iter().filter(|m| **m).count() > 1 {
            return Err(OAuthError::invalid_request(
                "more than one client authentication method was used",
            ));
        }
        if let Some((id, _)) = &creds.basic
            && creds.client_id.as_ref().is_some_and(|form| form != id)
        {
            return Err(OAuthError::invalid_request(
                "client_id in the form differs from the Basic credentials",
            ));
        }
        if creds.client_secret.is_some() && creds.client_id.is_none() {
            return Err(OAuthError::invalid_request(
                "client_secret without client_id",
            ));
        }
        if creds.assertion.is_some() && creds.assertion_type.as_deref() != Some(JWT_BEARER) {
            return Err(OAuthError::invalid_request(format!(
                "client_assertion_type must be {JWT_BEARER}"
            )));
        }
        // The client id the caller claims to be, before anything is checked.
        let claimed: Option<String> = match (&creds.basic, &creds.assertion) {
            (Some((id, _)), _) => Some(id.clone()),
            (None, Some(assertion)) => decode_unverified(assertion)
                .ok()
                .and_then(|jwt| {
                    jwt.claims
                        .get("iss")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .or_else(|| creds.client_id.clone()),
            (None, None) => creds.client_id.clone(),
        };
        let Some(claimed) = claimed else {
            return Err(OAuthError::invalid_client("no client authentication"));
        };
        // A client that authenticates with nothing (a public client) has no secret to guess:
        // its id is not locked, so that nobody can lock it out; the address still is.
        let with_secret =
            creds.basic.is_some() || creds.client_secret.is_some() || creds.assertion.is_some();
        let subjects = throttle_subjects(
            with_secret.then_some(claimed.as_str()),
            creds.address.as_deref(),
        );
        self.check_lock(&subjects).await?;
        match self.authenticate_as(&claimed, creds).await {
            Ok(client) => Ok(client),
            Err(error @ OAuthError::InvalidClient(_)) => {
                self.count_failure(&subjects).await?;
                tracing::info!(
                    client = %sandbox06_jose::s256(claimed.as_bytes()),
                    reason = %error.description(),
                    "client authentication failed"
                );
                Err(error)
            }
            Err(error) => Err(error),
        }
    }

    /// The client `claimed`, when `creds` prove it.
    async fn authenticate_as(
        &self,
        claimed: &str,
        creds: &Credentials,
    ) -> Result<&Client, OAuthError> {
        let failed = OAuthError::client_authentication_failed;
        let (method, secret) = match (&creds.basic, &creds.client_secret, &creds.assertion) {
            (Some((_, secret)), _, _) => (AUTH_BASIC, Some(secret.as_str())),
            (None, Some(secret), _) => (AUTH_POST, Some(secret.as_str())),
            (None, None, Some(assertion)) => {
                return self.authenticate_assertion(claimed, assertion, creds).await;
            }
            (None, None, None) => (AUTH_NONE, None),
        };
        let client = self
            .client(claimed)
            .filter(|client| client.auth_methods.iter().any(|m| m == method));
        match (client, secret) {
            (Some(client), None) => Ok(client),
            (Some(client), Some(secret)) => {
                let expected = client.config.secret.as_deref().unwrap_or_default();
                if same_secret(expected, secret) && !expected.is_empty() {
                    Ok(client)
                } else {
                    Err(failed())
                }
            }
            (None, secret) => {
                // The same work as for a known client, so time tells nothing either.
                std::hint::black_box(same_secret("", secret.unwrap_or_default()));
                Err(failed())
            }
        }
    }

    async fn check_lock(&self, subjects: &[String]) -> Result<(), OAuthError> {
        let now = self.now();
        for subject in subjects {
            if let Some(bytes) = self.store.get(&format!("sso:authlock:{subject}")).await?
                && let Some(until) = std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|text| text.parse::<i64>().ok())
                && until > now
            {
                return Err(OAuthError::ClientLocked {
                    until,
                    wait: until - now,
                });
            }
        }
        Ok(())
    }

    /// Counts a failure of each subject in the current window; the one that reaches its
    /// maximum locks it.
    async fn count_failure(&self, subjects: &[String]) -> Result<(), OAuthError> {
        for subject in subjects {
            let max = if subject.starts_with("address:") {
                self.throttle.max_per_address
            } else {
                self.throttle.max_per_client
            }
            .max(1);
            // One key per failure, living one window (put_if_absent is the store's only atomic
            // step): the failure takes the first free slot, and the live slots are the failures
            // of the last window, a sliding one.
            let mut claimed = false;
            let mut live = 0;
            for slot in 0..max {
                let key = format!("sso:authfail:{subject}:{slot}");
                let taken = if claimed {
                    self.store.get(&key).await?.is_some()
                } else {
                    // Taken either way: by this failure, or by an earlier one.
                    claimed = self
                        .store
                        .put_if_absent(&key, b"1", Some(self.throttle.window))
                        .await?;
                    true
                };
                live += u32::from(taken);
            }
            if !claimed || live >= max {
                let until = self.now() + secs(self.throttle.lock).max(1);
                self.store
                    .put(
                        &format!("sso:authlock:{subject}"),
                        until.to_string().as_bytes(),
                        Some(self.throttle.lock),
                    )
                    .await?;
                tracing::warn!(subject = %subject, until, "client authentication locked");
            }
        }
        Ok(())
    }

    async fn authenticate_assertion(
        &self,
        id: &str,
        assertion: &str,
        creds: &Credentials,
    ) -> Result<&Client, OAuthError> {
        let failed = OAuthError::client_authentication_failed;
        if creds.client_id.as_deref().is_some_and(|form| form != id) {
            return Err(failed());
        }
        // Until the signature holds, every failure is the same one.
        let client = self
            .client(id)
            .filter(|client| {
                client
                    .auth_methods
                    .iter()
                    .any(|m| m == AUTH_PRIVATE_KEY_JWT)
            })
            .ok_or_else(failed)?;
        let verified = sandbox06_jose::verify(assertion, &client.keys).map_err(|_| failed())?;
        // Signed by the client: what is wrong may be said.
        let bad = |why: &str| OAuthError::invalid_client(format!("client_assertion: {why}"));
        let claims = &verified.claims;
        if claims.get("iss").and_then(Value::as_str) != Some(id) {
            return Err(bad("iss must be the client_id"));
        }
        if claims.get("sub").and_then(Value::as_str) != Some(id) {
            return Err(bad("sub must be the client_id"));
        }
        let audiences = sandbox06_jose::audiences(claims);
        // The endpoint the client calls, or the issuer (RFC 7523 §3, OIDC Core §9).
        let mut accepted = vec![self.issuer.clone()];
        for prefix in ["/oidc", "/oauth2"] {
            for endpoint in ["token", "introspect", "revoke"] {
                accepted.push(self.endpoint(&format!("{prefix}/{endpoint}")));
            }
        }
        if !audiences.iter().any(|a| accepted.iter().any(|e| e == a)) {
            return Err(bad("aud must be the issuer or the endpoint called"));
        }
        let now = self.now();
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or_else(|| bad("no exp"))?;
        if exp.saturating_add(LEEWAY_SECONDS) < now {
            return Err(bad("expired"));
        }
        for name in ["iat", "nbf"] {
            if let Some(value) = claims.get(name) {
                let at = value
                    .as_i64()
                    .ok_or_else(|| bad(&format!("{name} is not a number of seconds")))?;
                if at > now.saturating_add(LEEWAY_SECONDS) {
                    return Err(bad(&format!("{name} is in the future")));
                }
            }
        }
        let lifetime = match claims.get("iat").and_then(Value::as_i64) {
            Some(iat) => exp.saturating_sub(iat),
            None => exp.saturating_sub(now).saturating_sub(LEEWAY_SECONDS),
        };
        if lifetime > MAX_ASSERTION_LIFETIME_SECONDS {
            return Err(bad(&format!(
                "lives longer than {MAX_ASSERTION_LIFETIME_SECONDS} s (exp - iat, or exp - now without iat)"
            )));
        }
        let jti = claims
            .get("jti")
            .and_then(Value::as_str)
            .filter(|jti| !jti.is_empty())
            .ok_or_else(|| bad("no jti"))?;
        // Remembered for as long as the assertion is taken at all: until exp and the leeway.
        let ttl = Duration::from_secs(
            u64::try_from(exp.saturating_add(LEEWAY_SECONDS).saturating_sub(now))
                .unwrap_or(1)
                .max(1),
        );
        if !self
            .store
            .put_if_absent(
                &format!(
                    "sso:assertion:{id}:{}",
                    sandbox06_jose::s256(jti.as_bytes())
                ),
                b"1",
                Some(ttl),
            )
            .await?
        {
            return Err(bad("jti already used"));
        }
        Ok(client)
    }
}

/// The throttling subjects of a client authentication: the claimed client id, and the
/// caller's address when known; each with the store key part.
fn throttle_subjects(client_id: Option<&str>, address: Option<&str>) -> Vec<String> {
    let mut subjects = Vec::new();
    if let Some(client_id) = client_id {
        subjects.push(format!("client:{}", s256(client_id.as_bytes())));
    }
    if let Some(address) = address {
        subjects.push(format!("address:{}", s256(address.as_bytes())));
    }
    subjects
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
fn same_secret(expected: &str, given: &str) -> bool {
    let digest = |s: &str| ring::digest::digest(&ring::digest::SHA256, s.as_bytes());
    let (a, b) = (digest(expected), digest(given));
    a.as_ref()
        .iter()
        .zip(b.as_ref())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The client credentials of an `Authorization: Basic` value: both parts form-urlencoded
/// (RFC 6749 §2.3.1).
pub fn parse_basic(value: &str) -> Result<(String, String), OAuthError> {
    let bad = || OAuthError::invalid_client("malformed Basic credentials");
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
        .ok_or_else(bad)?;
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    let unescape = |part: &str| {
        form_urlencoded::parse(format!("x={part}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok((unescape(id), unescape(secret)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let value = format!("Basic {}", STANDARD.encode("demo%3Ax:s%2B1"));
        assert_eq!(
            parse_basic(&value).unwrap(),
            ("demo:x".to_owned(), "s+1".to_owned())
        );
        assert!(parse_basic("Bearer x").is_err());
    }
}
