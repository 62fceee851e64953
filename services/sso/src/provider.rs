//! The OpenID Connect provider: what it is made of (issuer, clients, keys, store, identity
//! systems, lifetimes, throttling) and the small rules shared by its flows. The flows live in
//! [`crate::oauth`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sandbox06_runtime::clock::Clock;
use sandbox06_store::Store;

use crate::claims::{TechIdKey, level_of_acr};
use crate::clients::Client;
use crate::identity::Identity;
use crate::keys::Keys;
use crate::oauth::browser::BrowserKey;

pub use crate::oauth::client_auth::{
    Credentials, JWT_BEARER, LEEWAY_SECONDS, MAX_ASSERTION_LIFETIME_SECONDS, parse_basic,
};
pub use crate::oauth::records::{CodeRecord, Grant};
pub use crate::oauth::tokens::{Checked, TokenResponse};

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

pub(crate) fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
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
    /// The key of the browser cookies, as last read from the store.
    pub browser_key: BrowserKey,
    /// The suite's clock: what tokens, codes, sessions and locks are judged against.
    pub clock: Clock,
}

impl Provider {
    /// Now by the suite's clock, in seconds since the Unix epoch (what JWT claims hold).
    pub fn now(&self) -> i64 {
        self.clock.unix_seconds()
    }

    /// The token endpoint's URL.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// The client with this id.
    pub fn client(&self, id: &str) -> Option<&Client> {
        self.clients.get(id)
    }
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

/// The level an `acr_values` request needs: the lowest level it names; `None` when it names
/// no level the provider knows.
pub fn required_level(acr_values: &str) -> Option<u8> {
    acr_values.split_whitespace().filter_map(level_of_acr).min()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use sandbox06_jose::s256;

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
