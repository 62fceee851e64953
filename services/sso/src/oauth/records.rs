//! What the provider keeps in the store, as typed records with one codec (JSON) and one key
//! scheme (`sso:<kind>:<SHA-256 of the id>`: a store dump gives no token away). A store that
//! fails is an error (`temporarily_unavailable`), never read as a missing record; a record that
//! does not parse is the provider's own failure (`server_error`).

use std::time::Duration;

use sandbox06_jose::random_token;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::claims::Person;
use crate::oauth::errors::OAuthError;
use crate::provider::Provider;

/// A record the provider keeps in the store.
pub trait Record: Serialize + DeserializeOwned {
    /// The kind, in the key: `sso:<KIND>:<SHA-256 of the id>`.
    const KIND: &'static str;
    /// What it is, in the suite's words, for the errors about it.
    const WHAT: &'static str;
}

/// The store key of the record `R` of `id`. Ids (tokens, codes, cookies) never appear in keys
/// as they are.
pub fn key<R: Record>(id: &str) -> String {
    format!("sso:{}:{}", R::KIND, sandbox06_jose::s256(id.as_bytes()))
}

/// A record's bytes.
pub fn encode<R: Record>(record: &R) -> Result<Vec<u8>, OAuthError> {
    serde_json::to_vec(record).map_err(|error| {
        tracing::error!(error = %error, kind = R::KIND, "a record cannot be written");
        OAuthError::server(format!(
            "{} cannot be stored: an internal error of the single sign-on",
            R::WHAT
        ))
    })
}

/// A record from its bytes.
pub fn decode<R: Record>(bytes: &[u8]) -> Result<R, OAuthError> {
    serde_json::from_slice(bytes).map_err(|error| {
        tracing::error!(error = %error, kind = R::KIND, "a stored record cannot be read");
        OAuthError::server(format!(
            "{} cannot be read: an internal error of the single sign-on",
            R::WHAT
        ))
    })
}

impl Provider {
    /// The record `R` of `id`; `None` when there is none (never on a store failure).
    pub async fn load<R: Record>(&self, id: &str) -> Result<Option<R>, OAuthError> {
        match self.store.get(&key::<R>(id)).await? {
            Some(bytes) => decode(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Stores `record` as the record of `id`, for `ttl`.
    pub async fn save<R: Record>(
        &self,
        id: &str,
        record: &R,
        ttl: Duration,
    ) -> Result<(), OAuthError> {
        self.store
            .put(&key::<R>(id), &encode(record)?, Some(ttl))
            .await?;
        Ok(())
    }

    /// Stores `record` as the record of `id` unless there is one; whether it was stored.
    pub async fn save_new<R: Record>(
        &self,
        id: &str,
        record: &R,
        ttl: Duration,
    ) -> Result<bool, OAuthError> {
        Ok(self
            .store
            .put_if_absent(&key::<R>(id), &encode(record)?, Some(ttl))
            .await?)
    }

    /// Deletes the record `R` of `id`.
    pub async fn remove<R: Record>(&self, id: &str) -> Result<(), OAuthError> {
        self.store.delete(&key::<R>(id)).await?;
        Ok(())
    }
}

/// A login: who logged in, how and when, and the person's claims, kept once. Everything else
/// refers to it by its id: the grants made from it, for as long as a refresh token of theirs
/// lives, and the [`BrowserSession`] of the browser it was made in, until the session's
/// lifetime or a logout.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    /// The citizen's ID number.
    pub sub: String,
    /// The level of the login.
    pub acr: Option<String>,
    /// How it was proven.
    pub amr: Vec<String>,
    /// When, Unix seconds.
    pub auth_time: i64,
    /// The login's id: `sid` in tokens, and what the records made from it refer to. Never a
    /// cookie's value: a browser's session cookie is a random value of its own.
    pub sid: String,
    /// Who logged in: the claims' one source.
    pub person: Person,
}

impl Record for Session {
    const KIND: &'static str = "session";
    const WHAT: &'static str = "a login session";
}

/// An authorization request waiting for the user (the login or consent page).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingAuthorization {
    /// The client.
    pub client_id: String,
    /// Where the answer goes.
    pub redirect_uri: String,
    /// Whether the request named it.
    pub redirect_uri_given: bool,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// The client's `state`.
    pub state: Option<String>,
    /// The client's `nonce`.
    pub nonce: Option<String>,
    /// The PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// Who the client thinks logs in.
    pub login_hint: Option<String>,
    /// The lowest VNeID level the client accepts.
    pub min_level: Option<u8>,
    /// Consent is asked even when given before (`prompt=consent`).
    pub force_consent: bool,
    /// The login's id ([`Session`]), once done (on the consent page).
    pub login: Option<String>,
    /// Hash of the browser cookie of the browser that started the request: the login and
    /// consent forms are taken from that browser only (no cross-site login).
    pub browser: String,
    /// The response is posted to the client (`response_mode=form_post`), not redirected.
    pub form_post: bool,
}

impl Record for PendingAuthorization {
    const KIND: &'static str = "authz";
    const WHAT: &'static str = "an authorization request";
}

/// A browser's session, kept under its cookie's value: a random value of its own (see
/// [`new_session_cookie`]), unrelated to the login's id, which every ID token carries as `sid`,
/// so a token cannot be made into a cookie. It holds no claims, only the login it names; a
/// cookie is checked with two reads (this record, then the login), the price of keeping the
/// person's claims once. It lives as long as the session may last; a logout deletes it, while
/// the login stays for the grants made from it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BrowserSession {
    /// The login's id ([`Session::sid`]).
    pub login: String,
}

impl Record for BrowserSession {
    const KIND: &'static str = "session-cookie";
    const WHAT: &'static str = "a browser session";
}

/// A new browser session cookie's value: 256 bits from the system's secure random source,
/// base64url, drawn for this cookie alone.
pub fn new_session_cookie() -> String {
    random_token(32)
}

impl Provider {
    /// The login `sid` a grant refers to.
    pub async fn login_of(&self, sid: &str) -> Result<Session, OAuthError> {
        self.load::<Session>(sid)
            .await?
            .ok_or_else(|| OAuthError::invalid_grant("the login this grant came from has expired"))
    }

    /// Stores `login`, kept at least `ttl` from now and at least as long as its browser
    /// session may last.
    pub async fn keep_login(&self, login: &Session, ttl: Duration) -> Result<(), OAuthError> {
        self.save(&login.sid, login, ttl.max(self.session_left(login)))
            .await
    }

    /// Starts a browser session of `login`: keeps the login, and under a new random cookie
    /// value a [`BrowserSession`] naming it; returns the cookie's value.
    pub async fn start_session(&self, login: &Session) -> Result<String, OAuthError> {
        self.keep_login(login, self.lifetimes.session).await?;
        let cookie = new_session_cookie();
        let session = BrowserSession {
            login: login.sid.clone(),
        };
        self.save(&cookie, &session, self.session_left(login))
            .await?;
        Ok(cookie)
    }

    /// The login the browser session cookie `cookie` names, while younger than the session's
    /// lifetime and not ended. Two reads of the store: the cookie's [`BrowserSession`], then
    /// its login (where the claims are). A store failure on either is an error, never "no
    /// session"; a login gone from behind a browser session is no session.
    pub async fn browser_session(&self, cookie: &str) -> Result<Option<Session>, OAuthError> {
        let Some(session) = self.load::<BrowserSession>(cookie).await? else {
            return Ok(None);
        };
        let Some(login) = self.load::<Session>(&session.login).await? else {
            return Ok(None);
        };
        let age = self.now().saturating_sub(login.auth_time);
        if age > crate::provider::secs(self.lifetimes.session) {
            return Ok(None);
        }
        Ok(Some(login))
    }

    /// Ends the browser session of the cookie `cookie`: it logs nobody in again, while the
    /// grants made from its login keep their claims.
    pub async fn end_session(&self, cookie: &str) -> Result<(), OAuthError> {
        self.remove::<BrowserSession>(cookie).await
    }

    /// How long the browser session of `login` may still last (at least a second, the store's
    /// shortest life).
    fn session_left(&self, login: &Session) -> Duration {
        let left = login
            .auth_time
            .saturating_add(crate::provider::secs(self.lifetimes.session))
            .saturating_sub(self.now());
        Duration::from_secs(u64::try_from(left).unwrap_or(0)).max(Duration::from_secs(1))
    }
}

/// A logout waiting for the user's confirmation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingLogout {
    /// Where to send the browser after.
    pub post_logout_redirect_uri: Option<String>,
    /// The client's `state`.
    pub state: Option<String>,
    /// Hash of the browser cookie of the browser that was asked.
    pub browser: String,
}

impl Record for PendingLogout {
    const KIND: &'static str = "logout";
    const WHAT: &'static str = "a logout request";
}

/// The scopes a user allowed a client, kept under the id `<client>:<sub>`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Consent {
    /// The scopes allowed.
    pub scopes: Vec<String>,
}

impl Record for Consent {
    const KIND: &'static str = "consents";
    const WHAT: &'static str = "a consent";
}

impl Consent {
    /// The id of `sub`'s consent to `client`.
    pub fn id(client: &str, sub: &str) -> String {
        format!("{client}:{sub}")
    }
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
    /// The login the grant came from (a user's grant): the [`Session`] of this id holds the
    /// person the claims are about.
    pub sid: Option<String>,
    /// The family: revoking it revokes every token of the grant.
    pub gid: String,
    /// The nonce of the authorization request.
    pub nonce: Option<String>,
}

impl Grant {
    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
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

impl Record for CodeRecord {
    const KIND: &'static str = "code";
    const WHAT: &'static str = "an authorization code";
}

/// That a code was redeemed, and the family its tokens are in (revoked when it is used again).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CodeUse {
    /// The family of the tokens it gave.
    pub gid: String,
}

impl Record for CodeUse {
    const KIND: &'static str = "code-used";
    const WHAT: &'static str = "an authorization code's use";
}

/// A refresh token's record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefreshRecord {
    /// What it grants.
    pub grant: Grant,
    /// When it expires, Unix seconds.
    pub exp: i64,
}

impl Record for RefreshRecord {
    const KIND: &'static str = "refresh";
    const WHAT: &'static str = "a refresh token";
}

/// Who used a refresh token, and when.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefreshUse {
    /// The client that used it.
    pub client_id: String,
    /// When, Unix seconds.
    pub at: i64,
}

impl Record for RefreshUse {
    const KIND: &'static str = "refresh-used";
    const WHAT: &'static str = "a refresh token's use";
}
