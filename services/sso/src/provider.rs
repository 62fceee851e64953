//! The provider's logic, apart from HTTP: grants, tokens, their state in the store, client
//! authentication, introspection and revocation.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sandbox06_jose::{Alg, JoseError, Verified, decode_unverified, random_token, s256};
use sandbox06_store::Store;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::claims::{Person, TechIdKey, level_of_acr};
use crate::clients::{
    API_AUDIENCE, AUTH_BASIC, AUTH_NONE, AUTH_POST, AUTH_PRIVATE_KEY_JWT, Client,
};
use crate::identity::Identity;
use crate::keys::Keys;

/// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer` (RFC 7523).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Tolerance on `exp`, `iat` and `nbf` for clocks that differ a little.
pub const LEEWAY_SECONDS: i64 = 30;

/// The longest a `private_key_jwt` client assertion may live: `exp − iat` (or `exp − now`
/// when it has no `iat`) at most this, plus [`LEEWAY_SECONDS`] for the latter. A client makes
/// a new assertion for each request; one that lives long is one that can be stolen and replayed
/// elsewhere.
pub const MAX_ASSERTION_LIFETIME_SECONDS: i64 = 300;

/// Throttling of failed client authentications, per presented `client_id` and per caller
/// address (the last `x-forwarded-for` hop, which the edge appends). The counts live in the
/// store, so replicas share them. The `max_…`-th failure within `window` (a sliding one) locks
/// that client id (or address) for `lock`, during which every authentication of it is
/// refused, even a right one. Only failures count: good requests cost two store reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttle {
    /// How long a failure counts.
    pub window: Duration,
    /// Failures of one client id in a window that lock it.
    pub max_per_client: u32,
    /// Failures from one address in a window that lock it.
    pub max_per_address: u32,
    /// How long a lock lasts.
    pub lock: Duration,
}

impl Default for Throttle {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(300),
            max_per_client: 10,
            max_per_address: 50,
            lock: Duration::from_secs(300),
        }
    }
}

/// How long things live.
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    /// Access and ID tokens (the national SSO's 1,800 s by default).
    pub access_token: Duration,
    /// Refresh tokens.
    pub refresh_token: Duration,
    /// Authorization codes.
    pub code: Duration,
    /// A browser's login session.
    pub session: Duration,
    /// A login page waiting for the user.
    pub pending: Duration,
    /// How long after a refresh token's use the same client may use it again and get tokens
    /// of the same grant (two tabs refreshing at once); a later reuse, or one by another
    /// client, revokes the grant. Zero: never.
    pub refresh_reuse_grace: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            access_token: Duration::from_secs(1800),
            refresh_token: Duration::from_secs(8 * 3600),
            code: Duration::from_secs(60),
            session: Duration::from_secs(8 * 3600),
            pending: Duration::from_secs(15 * 60),
            refresh_reuse_grace: Duration::from_secs(DEFAULT_REFRESH_REUSE_GRACE_SECONDS),
        }
    }
}

/// The default of [`Lifetimes::refresh_reuse_grace`], seconds.
pub const DEFAULT_REFRESH_REUSE_GRACE_SECONDS: u64 = 30;
/// The largest [`Lifetimes::refresh_reuse_grace`] the configuration takes, seconds.
pub const MAX_REFRESH_REUSE_GRACE_SECONDS: u64 = 60;

pub use crate::oauth::errors::{MAX_DESCRIPTION_CHARS, OAuthError, description_text};

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// What a user (or a client, for client credentials) was granted: the source of every token
/// of one family (a code and the refresh tokens that follow it).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Grant {
    /// The client.
    pub client_id: String,
    /// The citizen's ID number, or the client for client credentials.
    pub sub: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Authentication context class, for a user.
    pub acr: Option<String>,
    /// Authentication methods, for a user.
    pub amr: Vec<String>,
    /// When the user logged in.
    pub auth_time: Option<i64>,
    /// The browser session.
    pub sid: Option<String>,
    /// The family: revoking it revokes every token of the grant.
    pub gid: String,
    /// The nonce of the authorization request.
    pub nonce: Option<String>,
    /// The claims' source, for a user.
    pub person: Option<Person>,
}

impl Grant {
    fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// An authorization code's record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CodeRecord {
    /// The redirect URI the code was sent to.
    pub redirect_uri: String,
    /// Whether the authorization request named it (then the token request must too).
    pub redirect_uri_given: bool,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// What it grants.
    pub grant: Grant,
}

/// A refresh token's record.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct RefreshRecord {
    grant: Grant,
    exp: i64,
}

/// Who used a refresh token, and when.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct RefreshUse {
    client_id: String,
    at: i64,
}

/// A narrower scope is for the new access and ID tokens; the new refresh token keeps the
/// grant's (RFC 6749 §6).
fn narrowed_scopes(grant: &Grant, scope: Option<&str>) -> Result<Option<Vec<String>>, OAuthError> {
    let Some(scope) = scope else {
        return Ok(None);
    };
    let asked: Vec<String> = scope.split_whitespace().map(str::to_owned).collect();
    if let Some(extra) = asked.iter().find(|s| !grant.scopes.contains(s)) {
        return Err(OAuthError::InvalidScope(format!(
            "scope {extra} was not granted originally"
        )));
    }
    Ok(Some(asked))
}

/// A token endpoint answer.
#[derive(Clone, Debug, Serialize)]
pub struct TokenResponse {
    /// The access token (RFC 9068 JWT).
    pub access_token: String,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Granted scopes.
    pub scope: String,
    /// The ID token, when `openid` was granted to a user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// The refresh token, for a user's grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// What verification of a JWT of this provider says.
#[derive(Clone, Debug)]
pub enum Checked {
    /// Valid now.
    Active(Map<String, Value>, String),
    /// Not valid, and why: `expired`, `revoked`, `malformed`, `signature`, `unknown_key`,
    /// `alg`, `issuer`.
    Inactive(&'static str),
}

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

fn store_key(kind: &str, token: &str) -> String {
    // Tokens never appear in keys as they are: a store dump gives none away.
    format!("sso:{kind}:{}", s256(token.as_bytes()))
}

/// The OpenID Connect provider.
#[derive(Debug)]
pub struct Provider {
    /// The issuer, exactly as in every token.
    pub issuer: String,
    /// Registered clients.
    pub clients: BTreeMap<String, Client>,
    /// Signing keys.
    pub keys: Keys,
    /// State.
    pub store: Arc<dyn Store>,
    /// VNeID and the population database.
    pub identity: Identity,
    /// Lifetimes.
    pub lifetimes: Lifetimes,
    /// The key of the accounts' `TechID`s.
    pub tech_ids: TechIdKey,
    /// Throttling of failed client authentications.
    pub throttle: Throttle,
}

impl Provider {
    /// The token endpoint's URL.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// The client with this id.
    pub fn client(&self, id: &str) -> Option<&Client> {
        self.clients.get(id)
    }

    /// Authenticates the client at a token-type endpoint, by exactly one method it may use.
    /// Every failure answers alike ([`OAuthError::client_authentication_failed`]) and counts
    /// towards the [`Throttle`]; while the client id or the address is locked, nothing is
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
        let now = now();
        for subject in subjects {
            if let Some(bytes) = self.store.get(&format!("sso:authlock:{subject}")).await?
                && let Some(until) = std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|text| text.parse::<i64>().ok())
                && until > now
            {
                return Err(OAuthError::ClientLocked { until });
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
                let until = now() + secs(self.throttle.lock).max(1);
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
        let now = now();
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

    /// Signs an access token (RFC 9068) for `grant`.
    pub async fn access_token(
        &self,
        client: &Client,
        grant: &Grant,
        lifetime: Duration,
    ) -> Result<(String, i64), OAuthError> {
        let lifetime = secs(lifetime);
        self.access_token_with(client.alg, grant, now(), lifetime, &[API_AUDIENCE])
            .await
            .map(|token| (token, lifetime))
    }

    /// Signs an access token for `grant` issued at `iat`, living `lifetime` seconds (negative:
    /// already expired), for `audiences`.
    pub async fn access_token_with(
        &self,
        alg: Alg,
        grant: &Grant,
        iat: i64,
        lifetime: i64,
        audiences: &[&str],
    ) -> Result<String, OAuthError> {
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.issuer));
        claims.insert("sub".into(), json!(grant.sub));
        claims.insert(
            "aud".into(),
            if audiences.len() == 1 {
                json!(audiences[0])
            } else {
                json!(audiences)
            },
        );
        claims.insert("exp".into(), json!(iat.saturating_add(lifetime)));
        claims.insert("iat".into(), json!(iat));
        claims.insert("jti".into(), json!(random_token(16)));
        claims.insert("client_id".into(), json!(grant.client_id));
        claims.insert("azp".into(), json!(grant.client_id));
        claims.insert("scope".into(), json!(grant.scopes.join(" ")));
        claims.insert("gid".into(), json!(grant.gid));
        if let Some(acr) = &grant.acr {
            claims.insert("acr".into(), json!(acr));
        }
        if !grant.amr.is_empty() {
            claims.insert("amr".into(), json!(grant.amr));
        }
        if let Some(auth_time) = grant.auth_time {
            claims.insert("auth_time".into(), json!(auth_time));
        }
        if let Some(sid) = &grant.sid {
            claims.insert("sid".into(), json!(sid));
        }
        let keys = self.keys.current().await?;
        let key = keys
            .active(alg)
            .ok_or_else(|| OAuthError::server(format!("no active {alg} key")))?;
        key.sign("at+jwt", &claims)
            .map_err(OAuthError::internal("an access token cannot be signed"))
    }

    async fn id_token(
        &self,
        client: &Client,
        grant: &Grant,
        access_token: &str,
    ) -> Result<String, OAuthError> {
        let iat = now();
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.issuer));
        claims.insert("sub".into(), json!(grant.sub));
        claims.insert("aud".into(), json!(client.id()));
        claims.insert("exp".into(), json!(iat + secs(self.lifetimes.access_token)));
        claims.insert("iat".into(), json!(iat));
        claims.insert("azp".into(), json!(client.id()));
        claims.insert(
            "at_hash".into(),
            json!(sandbox06_jose::half_hash(access_token)),
        );
        if let Some(auth_time) = grant.auth_time {
            claims.insert("auth_time".into(), json!(auth_time));
        }
        if let Some(nonce) = &grant.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        if let Some(acr) = &grant.acr {
            claims.insert("acr".into(), json!(acr));
        }
        if !grant.amr.is_empty() {
            claims.insert("amr".into(), json!(grant.amr));
        }
        if let Some(sid) = &grant.sid {
            claims.insert("sid".into(), json!(sid));
        }
        if let Some(person) = &grant.person {
            claims.extend(person.claims(
                grant.scopes.iter().map(String::as_str),
                client.claims_profile(),
                &self.tech_ids,
            ));
        }
        let keys = self.keys.current().await?;
        let key = keys
            .active(client.alg)
            .ok_or_else(|| OAuthError::server(format!("no active {} key", client.alg)))?;
        key.sign("JWT", &claims)
            .map_err(OAuthError::internal("an ID token cannot be signed"))
    }

    fn lifetime_of(&self, client: &Client) -> Duration {
        match client.config.access_token_lifetime_seconds {
            0 => self.lifetimes.access_token,
            seconds => Duration::from_secs(seconds),
        }
    }

    /// Issues the tokens of `grant`: an access token; for a user, an ID token (with `openid`)
    /// and a refresh token in the grant's family.
    pub async fn issue(&self, client: &Client, grant: &Grant) -> Result<TokenResponse, OAuthError> {
        self.issue_narrowed(client, grant, None).await
    }

    /// [`Provider::issue`], the access and ID tokens for `narrowed` scopes when given (the
    /// refresh token keeps the grant's).
    async fn issue_narrowed(
        &self,
        client: &Client,
        grant: &Grant,
        narrowed: Option<&[String]>,
    ) -> Result<TokenResponse, OAuthError> {
        let narrowed_grant;
        let tokens_grant = match narrowed {
            Some(scopes) => {
                narrowed_grant = Grant {
                    scopes: scopes.to_vec(),
                    ..grant.clone()
                };
                &narrowed_grant
            }
            None => grant,
        };
        let (access_token, expires_in) = self
            .access_token(client, tokens_grant, self.lifetime_of(client))
            .await?;
        let user = grant.person.is_some();
        let id_token = if user && tokens_grant.has_scope("openid") {
            Some(self.id_token(client, tokens_grant, &access_token).await?)
        } else {
            None
        };
        let refresh_token = if user && client.allows_grant(crate::clients::REFRESH_TOKEN) {
            let token = random_token(32);
            let record = RefreshRecord {
                grant: Grant {
                    nonce: None,
                    ..grant.clone()
                },
                exp: now() + secs(self.lifetimes.refresh_token),
            };
            let bytes = serde_json::to_vec(&record)
                .map_err(OAuthError::internal("a refresh token cannot be stored"))?;
            self.store
                .put(
                    &store_key("refresh", &token),
                    &bytes,
                    Some(self.lifetimes.refresh_token),
                )
                .await?;
            Some(token)
        } else {
            None
        };
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in,
            scope: tokens_grant.scopes.join(" "),
            id_token,
            refresh_token,
        })
    }

    /// Stores a code for `record` and returns it.
    pub async fn new_code(&self, record: &CodeRecord) -> Result<String, OAuthError> {
        let code = random_token(32);
        let bytes =
            serde_json::to_vec(record).map_err(OAuthError::internal("a code cannot be stored"))?;
        self.store
            .put(&store_key("code", &code), &bytes, Some(self.lifetimes.code))
            .await?;
        Ok(code)
    }

    /// Revokes every token of the family `gid`.
    pub async fn revoke_family(&self, gid: &str) -> Result<(), OAuthError> {
        self.store
            .put(
                &format!("sso:revoked-grant:{gid}"),
                b"1",
                Some(self.lifetimes.refresh_token),
            )
            .await?;
        Ok(())
    }

    async fn family_revoked(&self, gid: &str) -> Result<bool, OAuthError> {
        Ok(self
            .store
            .get(&format!("sso:revoked-grant:{gid}"))
            .await?
            .is_some())
    }

    /// The authorization code grant.
    pub async fn redeem_code(
        &self,
        client: &Client,
        code: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        // A malformed verifier is refused before the code is looked at: the code stays usable.
        if verifier.is_some_and(|v| !valid_verifier(v)) {
            return Err(OAuthError::invalid_request(
                "code_verifier must be 43-128 characters of [A-Za-z0-9-._~]",
            ));
        }
        let key = store_key("code", code);
        let used_key = store_key("code-used", code);
        let reused = || async {
            if let Some(gid) = self.store.get(&used_key).await? {
                let gid = String::from_utf8_lossy(&gid).into_owned();
                self.revoke_family(&gid).await?;
                tracing::info!(
                    client = client.id(),
                    "authorization code reused: its tokens revoked"
                );
                return Err(OAuthError::invalid_grant(
                    "the authorization code was already used; the tokens issued from it are revoked",
                ));
            }
            Err(OAuthError::invalid_grant(
                "unknown or expired authorization code",
            ))
        };
        let Some(bytes) = self.store.get(&key).await? else {
            return reused().await;
        };
        let record: CodeRecord = serde_json::from_slice(&bytes)
            .map_err(OAuthError::internal("a stored code cannot be read"))?;
        // Of two concurrent redemptions, the one that claims the code first redeems it; the
        // other is a reuse.
        if !self
            .store
            .put_if_absent(
                &used_key,
                record.grant.gid.as_bytes(),
                Some(self.lifetimes.refresh_token),
            )
            .await?
        {
            return reused().await;
        }
        self.store.delete(&key).await?;
        if record.grant.client_id != client.id() {
            return Err(OAuthError::invalid_grant(
                "the authorization code was issued to another client",
            ));
        }
        match redirect_uri {
            Some(uri) if uri != record.redirect_uri => {
                return Err(OAuthError::invalid_grant(
                    "redirect_uri differs from the authorization request's",
                ));
            }
            None if record.redirect_uri_given => {
                return Err(OAuthError::invalid_request(
                    "redirect_uri is required: the authorization request had one",
                ));
            }
            _ => {}
        }
        match (&record.code_challenge, verifier) {
            (Some(challenge), Some(verifier)) => {
                if !valid_verifier(verifier) {
                    return Err(OAuthError::invalid_request(
                        "code_verifier must be 43-128 characters of [A-Za-z0-9-._~]",
                    ));
                }
                if s256(verifier.as_bytes()) != *challenge {
                    return Err(OAuthError::invalid_grant(
                        "code_verifier does not match the code_challenge",
                    ));
                }
            }
            (Some(_), None) => {
                return Err(OAuthError::invalid_grant(
                    "code_verifier is required: the authorization request had a code_challenge",
                ));
            }
            (None, Some(_)) => {
                return Err(OAuthError::invalid_grant(
                    "code_verifier given, but the authorization request had no code_challenge",
                ));
            }
            (None, None) => {}
        }
        self.issue(client, &record.grant).await
    }

    /// The refresh token grant: rotation, and reuse of a rotated token revokes the family,
    /// except by the same client within [`Lifetimes::refresh_reuse_grace`] of its first use
    /// (a client racing itself, two tabs refreshing at once), which gets tokens of the same
    /// grant.
    pub async fn refresh(
        &self,
        client: &Client,
        token: &str,
        scope: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let key = store_key("refresh", token);
        let Some(bytes) = self.store.get(&key).await? else {
            return Err(OAuthError::invalid_grant(
                "unknown or expired refresh token",
            ));
        };
        let record: RefreshRecord = serde_json::from_slice(&bytes).map_err(
            OAuthError::internal("a stored refresh token cannot be read"),
        )?;
        if self.family_revoked(&record.grant.gid).await? {
            return Err(OAuthError::invalid_grant("the refresh token is revoked"));
        }
        let used = store_key("refresh-used", token);
        if let Some(prior) = self.store.get(&used).await? {
            return self.reused(client, &record, &prior, scope).await;
        }
        if record.grant.client_id != client.id() {
            return Err(OAuthError::invalid_grant(
                "the refresh token was issued to another client",
            ));
        }
        // Checked before the token is used up.
        let narrowed = narrowed_scopes(&record.grant, scope)?;
        let ttl = Duration::from_secs(
            u64::try_from(record.exp.saturating_sub(now()))
                .unwrap_or(1)
                .max(1),
        );
        let marker = serde_json::to_vec(&RefreshUse {
            client_id: client.id().to_owned(),
            at: now(),
        })
        .map_err(OAuthError::internal(
            "a refresh token's use cannot be stored",
        ))?;
        if !self.store.put_if_absent(&used, &marker, Some(ttl)).await? {
            let prior = self.store.get(&used).await?.unwrap_or_default();
            return self.reused(client, &record, &prior, scope).await;
        }
        let issued = self
            .issue_narrowed(client, &record.grant, narrowed.as_deref())
            .await;
        if issued.is_err() {
            // Nothing reached the client: the same token may be tried again.
            let _ = self.store.delete(&used).await;
        }
        issued
    }

    /// A refresh token used before, by `prior`: within the grace window and by the same
    /// client, tokens of the same grant; else the grant is revoked.
    async fn reused(
        &self,
        client: &Client,
        record: &RefreshRecord,
        prior: &[u8],
        scope: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let grace = secs(self.lifetimes.refresh_reuse_grace);
        let in_grace = serde_json::from_slice::<RefreshUse>(prior).is_ok_and(|prior| {
            grace > 0
                && prior.client_id == client.id()
                && record.grant.client_id == client.id()
                && now().saturating_sub(prior.at) <= grace
        });
        if in_grace {
            tracing::info!(
                client = client.id(),
                "refresh token used again within the grace window: same grant"
            );
            let narrowed = narrowed_scopes(&record.grant, scope)?;
            return self
                .issue_narrowed(client, &record.grant, narrowed.as_deref())
                .await;
        }
        self.revoke_family(&record.grant.gid).await?;
        tracing::info!(
            client = client.id(),
            "rotated refresh token reused: family revoked"
        );
        Err(OAuthError::invalid_grant(
            "the refresh token was already used; every token of its grant is revoked",
        ))
    }

    /// The client credentials grant.
    pub async fn client_credentials(
        &self,
        client: &Client,
        scope: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let scopes: Vec<String> = match scope {
            Some(scope) => scope.split_whitespace().map(str::to_owned).collect(),
            None => client.config.scopes.clone(),
        };
        if let Some(denied) = scopes.iter().find(|s| !client.allows_scope(s)) {
            return Err(OAuthError::InvalidScope(format!(
                "client {:?} may not be granted {denied:?}",
                client.id()
            )));
        }
        let grant = Grant {
            client_id: client.id().to_owned(),
            sub: client.id().to_owned(),
            scopes,
            gid: random_token(12),
            ..Grant::default()
        };
        self.issue(client, &grant).await
    }

    /// Verifies a JWT this provider signed: signature (reading the keys again for a `kid` not
    /// seen yet), issuer, expiry, revocation.
    pub async fn check_jwt(&self, token: &str) -> Result<Checked, OAuthError> {
        let keys = self.keys.current().await?;
        let mut verified = keys.jwks().verify(token);
        if matches!(verified, Err(JoseError::UnknownKey(_))) {
            verified = self.keys.fresh().await?.jwks().verify(token);
        }
        let Verified { header, claims } = match verified {
            Ok(verified) => verified,
            Err(error) => return Ok(Checked::Inactive(error.kind())),
        };
        if claims.get("iss").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            return Ok(Checked::Inactive("issuer"));
        }
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
        if exp.saturating_add(LEEWAY_SECONDS) < now() {
            return Ok(Checked::Inactive("expired"));
        }
        if let Some(jti) = claims.get("jti").and_then(Value::as_str)
            && self
                .store
                .get(&format!("sso:revoked-jti:{jti}"))
                .await?
                .is_some()
        {
            return Ok(Checked::Inactive("revoked"));
        }
        if let Some(gid) = claims.get("gid").and_then(Value::as_str)
            && self.family_revoked(gid).await?
        {
            return Ok(Checked::Inactive("revoked"));
        }
        let kind = if header.typ.as_deref() == Some("at+jwt") {
            "access_token"
        } else {
            "id_token"
        };
        Ok(Checked::Active(claims, kind.to_owned()))
    }

    /// RFC 7662 introspection of any token of this provider.
    pub async fn introspect(&self, token: &str) -> Result<Map<String, Value>, OAuthError> {
        let inactive = |reason: &str| {
            let mut map = Map::new();
            map.insert("active".into(), json!(false));
            map.insert("inactive_reason".into(), json!(reason));
            map
        };
        if token.split('.').count() == 3 {
            return Ok(match self.check_jwt(token).await? {
                Checked::Inactive(reason) => inactive(reason),
                // An ID token is no bearer token: a resource server must not take one.
                Checked::Active(_, kind) if kind != "access_token" => {
                    inactive("not_an_access_token")
                }
                Checked::Active(claims, kind) => {
                    let mut map = Map::new();
                    map.insert("active".into(), json!(true));
                    map.insert("token_type".into(), json!(kind));
                    for (name, value) in claims {
                        if name == "client_id" || name == "azp" {
                            map.insert("client_id".into(), value);
                        } else {
                            map.insert(name, value);
                        }
                    }
                    map
                }
            });
        }
        let Some(bytes) = self.store.get(&store_key("refresh", token)).await? else {
            return Ok(inactive("unknown"));
        };
        let record: RefreshRecord = serde_json::from_slice(&bytes).map_err(
            OAuthError::internal("a stored refresh token cannot be read"),
        )?;
        if self
            .store
            .get(&store_key("refresh-used", token))
            .await?
            .is_some()
            || self.family_revoked(&record.grant.gid).await?
        {
            return Ok(inactive("revoked"));
        }
        if record.exp < now() {
            return Ok(inactive("expired"));
        }
        let grant = record.grant;
        let mut map = Map::new();
        map.insert("active".into(), json!(true));
        map.insert("token_type".into(), json!("refresh_token"));
        map.insert("client_id".into(), json!(grant.client_id));
        map.insert("sub".into(), json!(grant.sub));
        map.insert("scope".into(), json!(grant.scopes.join(" ")));
        map.insert("iss".into(), json!(self.issuer));
        map.insert("exp".into(), json!(record.exp));
        if let Some(acr) = grant.acr {
            map.insert("acr".into(), json!(acr));
        }
        Ok(map)
    }

    /// RFC 7009 revocation by `client`: a refresh token revokes its whole family, an access
    /// token itself. An unknown token is not an error.
    pub async fn revoke(&self, client: &Client, token: &str) -> Result<(), OAuthError> {
        if token.split('.').count() == 3 {
            if let Checked::Active(claims, _) = self.check_jwt(token).await? {
                let owner = claims.get("client_id").and_then(Value::as_str);
                if owner != Some(client.id()) {
                    return Err(OAuthError::UnauthorizedClient(
                        "the token was issued to another client".to_owned(),
                    ));
                }
                let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
                let ttl = u64::try_from(exp - now() + LEEWAY_SECONDS)
                    .unwrap_or(1)
                    .max(1);
                if let Some(jti) = claims.get("jti").and_then(Value::as_str) {
                    self.store
                        .put(
                            &format!("sso:revoked-jti:{jti}"),
                            b"1",
                            Some(Duration::from_secs(ttl)),
                        )
                        .await?;
                }
            }
            return Ok(());
        }
        if let Some(bytes) = self.store.get(&store_key("refresh", token)).await? {
            let record: RefreshRecord = serde_json::from_slice(&bytes).map_err(
                OAuthError::internal("a stored refresh token cannot be read"),
            )?;
            if record.grant.client_id != client.id() {
                return Err(OAuthError::UnauthorizedClient(
                    "the token was issued to another client".to_owned(),
                ));
            }
            self.revoke_family(&record.grant.gid).await?;
        }
        Ok(())
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

/// RFC 7636 §4.1: 43 to 128 unreserved characters.
pub fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// RFC 7636 §4.2: an S256 challenge is the base64url SHA-256 of a verifier, 43 characters of
/// `[A-Za-z0-9-_]` (a subset of the unreserved characters).
pub fn valid_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
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

/// The level an `acr_values` request needs: the lowest level it names; `None` when it names
/// no level the provider knows.
pub fn required_level(acr_values: &str) -> Option<u8> {
    acr_values.split_whitespace().filter_map(level_of_acr).min()
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

    #[test]
    fn verifiers_follow_rfc_7636() {
        assert!(valid_verifier(&"a".repeat(43)));
        assert!(!valid_verifier(&"a".repeat(42)));
        assert!(!valid_verifier(&format!("{}+", "a".repeat(43))));
        assert!(!valid_verifier(&"!".repeat(43)));
        assert!(!valid_verifier(&"a".repeat(129)));
    }

    #[test]
    fn s256_challenges_are_43_base64url_characters() {
        assert!(valid_s256_challenge(&s256(b"verifier")));
        assert!(!valid_s256_challenge(&"!".repeat(43)));
        assert!(!valid_s256_challenge(&"a".repeat(42)));
        assert!(!valid_s256_challenge(&format!("{}=", "a".repeat(42))));
    }

    #[test]
    fn acr_values_need_their_lowest_known_level() {
        assert_eq!(required_level("LoA2"), Some(2));
        assert_eq!(required_level("LoA1 LoA2"), Some(1));
        assert_eq!(required_level("urn:other"), None);
    }
}
