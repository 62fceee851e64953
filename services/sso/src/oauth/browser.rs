//! The browser cookie: the value that ties the login, consent and logout pages to the browser
//! they were shown in. The provider makes it as `<random>.<tag>`, the tag being
//! `HMAC-SHA256(key, "browser:" + random)` under a key kept in the store (`sso:browser-key`,
//! made on a store's first use), so replicas sharing a store accept each other's browsers. A
//! value whose tag does not verify (one planted in the browser by someone else) is no browser:
//! the page request it names is refused, and the authorization and logout requests give the
//! browser a fresh one.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use sandbox06_jose::{base64url, random_token};

use crate::oauth::errors::OAuthError;
use crate::provider::Provider;

/// Store key of the browser cookies' key.
const BROWSER_KEY: &str = "sso:browser-key";
/// How long a replica uses the key it read before reading it again (a store reset, which
/// deletes it, reaches every replica within this).
const REREAD_AFTER: Duration = Duration::from_secs(2);
/// Bytes of the random part of a browser cookie.
const RANDOM_BYTES: usize = 24;
/// Characters of the random part, base64url.
const RANDOM_CHARS: usize = RANDOM_BYTES.div_ceil(3) * 4;
/// Characters of the tag (HMAC-SHA256, 32 bytes), base64url without padding.
const TAG_CHARS: usize = 43;

/// The key the browser cookies are made and checked with, as last read from the store.
#[derive(Default)]
pub struct BrowserKey(Mutex<Option<(Arc<hmac::Key>, Instant)>>);

impl std::fmt::Debug for BrowserKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BrowserKey(..)")
    }
}

impl BrowserKey {
    fn cached(&self) -> Option<Arc<hmac::Key>> {
        let cached = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        cached
            .as_ref()
            .filter(|(_, read_at)| read_at.elapsed() < REREAD_AFTER)
            .map(|(key, _)| Arc::clone(key))
    }

    fn keep(&self, key: Arc<hmac::Key>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some((key, Instant::now()));
    }
}

/// The tag of the random part `random` under `key`.
fn tag(key: &hmac::Key, random: &str) -> hmac::Tag {
    hmac::sign(key, format!("browser:{random}").as_bytes())
}

/// A new browser cookie's value under `key`.
fn make(key: &hmac::Key) -> String {
    let random = random_token(RANDOM_BYTES);
    let tag = tag(key, &random);
    format!("{random}.{}", base64url(tag.as_ref()))
}

/// Whether `value` is a browser cookie made under `key`; the tag is compared in constant time.
fn verifies(key: &hmac::Key, value: &str) -> bool {
    let Some((random, tag)) = value.split_once('.') else {
        return false;
    };
    if random.len() != RANDOM_CHARS || tag.len() != TAG_CHARS {
        return false;
    }
    let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
        return false;
    };
    hmac::verify(key, format!("browser:{random}").as_bytes(), &tag).is_ok()
}

impl Provider {
    /// The browser cookies' key: read from the store (at most every [`REREAD_AFTER`]), made
    /// and kept there when the store has none. A store failure is an error.
    async fn browser_key(&self) -> Result<Arc<hmac::Key>, OAuthError> {
        if let Some(key) = self.browser_key.cached() {
            return Ok(key);
        }
        // Two replicas making the key at once: one keeps its own, the other reads it.
        for _ in 0..3 {
            let secret = match self.store.get(BROWSER_KEY).await? {
                Some(secret) => secret,
                None => {
                    let made = random_token(32);
                    if !self
                        .store
                        .put_if_absent(BROWSER_KEY, made.as_bytes(), None)
                        .await?
                    {
                        continue;
                    }
                    made.into_bytes()
                }
            };
            let key = Arc::new(hmac::Key::new(hmac::HMAC_SHA256, &secret));
            self.browser_key.keep(Arc::clone(&key));
            return Ok(key);
        }
        // Deleted as soon as made, three times over (store resets): the store is not usable.
        Err(OAuthError::store_unavailable())
    }

    /// The browser cookie `cookie`, when the provider made it; `None` for no cookie or one it
    /// did not make.
    pub async fn issued_browser<'a>(
        &self,
        cookie: Option<&'a str>,
    ) -> Result<Option<&'a str>, OAuthError> {
        let Some(value) = cookie else {
            return Ok(None);
        };
        let key = self.browser_key().await?;
        Ok(verifies(&key, value).then_some(value))
    }

    /// The browser of the cookie `cookie` when the provider made it, else a new one: its value,
    /// and whether it is new (to be set in the browser).
    pub async fn browser_or_new(&self, cookie: Option<&str>) -> Result<(String, bool), OAuthError> {
        let key = self.browser_key().await?;
        Ok(match cookie {
            Some(value) if verifies(&key, value) => (value.to_owned(), false),
            _ => (make(&key), true),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

    use super::*;

    fn key(secret: &str) -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes())
    }

    #[test]
    fn a_made_value_verifies_under_its_key_only() {
        let value = make(&key("one"));
        assert_eq!(value.len(), RANDOM_CHARS + 1 + TAG_CHARS);
        assert!(verifies(&key("one"), &value));
        assert!(!verifies(&key("two"), &value));
    }

    #[test]
    fn a_planted_or_altered_value_does_not_verify() {
        let key = key("one");
        let made = make(&key);
        let (random, tag) = made.split_once('.').unwrap();
        // Well formed, but not made here.
        let planted = format!("{}.{tag}", random_token(RANDOM_BYTES));
        assert!(!verifies(&key, &planted));
        let forged = format!("{random}.{}", base64url(&[7; 32]));
        assert!(!verifies(&key, &forged));
        for value in [
            "",
            random,
            "browser-of-this-user-1234",
            &format!("{made}x"),
            &format!("{random}.{}", &tag[..TAG_CHARS - 1]),
        ] {
            assert!(!verifies(&key, value), "{value}");
        }
    }
}
