//! The signing keys: one active RS256 and one active ES256 key, and the retired ones still
//! published until every token they signed has expired. The key set lives in the state store,
//! so replicas sharing a Redis sign with the same keys and accept each other's tokens.
//!
//! The first start of a store generates the keys off the ready path: the RSA key takes a
//! fraction of a second, and signing waits for it, not the health check.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sandbox06_jose::{Alg, JwkSet, SigningKey};
use sandbox06_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, RwLock};

/// Store key of the key set.
const KEYS_KEY: &str = "sso:keys";

/// How long a replica signs with the set it read before reading it again (a rotation by
/// another replica reaches it within this).
const REREAD_AFTER: Duration = Duration::from_secs(2);
/// Least time between two reads for a key not seen yet or for the JWKS endpoint: requests
/// cannot make a replica read and parse the keys more often than this.
const FRESH_AFTER: Duration = Duration::from_secs(1);

/// One key as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    alg: Alg,
    /// PKCS#8 DER, base64.
    pkcs8: String,
    created_at: i64,
    /// When it leaves the set; `None` while it signs.
    retire_at: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct StoredSet {
    keys: Vec<StoredKey>,
}

/// A key of the set, parsed.
#[derive(Debug)]
pub struct Key {
    /// The key.
    pub signing: SigningKey,
    /// Creation, seconds since the epoch.
    pub created_at: i64,
    /// When it leaves the set; `None` while it signs.
    pub retire_at: Option<i64>,
}

/// The parsed set.
#[derive(Debug, Default)]
pub struct KeySet {
    /// Every key, newest first.
    pub keys: Vec<Key>,
    read_at: Option<std::time::Instant>,
}

impl KeySet {
    /// The active key of `alg`.
    pub fn active(&self, alg: Alg) -> Option<&SigningKey> {
        self.keys
            .iter()
            .find(|k| k.retire_at.is_none() && k.signing.alg() == alg)
            .map(|k| &k.signing)
    }

    /// The public keys, as the JWKS endpoint publishes them.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.keys.iter().map(|k| k.signing.public_jwk()).collect(),
        }
    }
}

/// Why the keys are not usable.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A key failed to generate or parse.
    #[error("signing key: {0}")]
    Jose(#[from] sandbox06_jose::JoseError),
    /// The stored set does not parse.
    #[error("stored key set: {0}")]
    Stored(String),
}

/// The key set of one replica: read from the store, generated there when missing.
#[derive(Debug)]
pub struct Keys {
    store: Arc<dyn Store>,
    current: RwLock<Arc<KeySet>>,
    /// One generation or rotation at a time in this replica.
    writing: Mutex<()>,
    /// One read of the store at a time; the others take its result.
    reading: Mutex<()>,
    /// How long a retired key stays published: the longest token lifetime.
    keep_retired: Duration,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn parse(set: &StoredSet) -> Result<KeySet, KeyError> {
    let now = now();
    let mut keys = Vec::with_capacity(set.keys.len());
    for stored in &set.keys {
        if stored.retire_at.is_some_and(|at| at <= now) {
            continue;
        }
        let der = STANDARD
            .decode(&stored.pkcs8)
            .map_err(|e| KeyError::Stored(e.to_string()))?;
        keys.push(Key {
            signing: SigningKey::from_pkcs8(stored.alg, Some(stored.kid.clone()), der)?,
            created_at: stored.created_at,
            retire_at: stored.retire_at,
        });
    }
    keys.sort_by_key(|k| std::cmp::Reverse(k.created_at));
    Ok(KeySet {
        keys,
        read_at: Some(std::time::Instant::now()),
    })
}

async fn generate(alg: Alg) -> Result<StoredKey, KeyError> {
    let key = tokio::task::spawn_blocking(move || SigningKey::generate(alg))
        .await
        .map_err(|e| KeyError::Stored(format!("key generation stopped: {e}")))??;
    Ok(StoredKey {
        kid: key.kid().to_owned(),
        alg,
        pkcs8: STANDARD.encode(key.pkcs8()),
        created_at: now(),
        retire_at: None,
    })
}

impl Keys {
    /// The keys in `store`; nothing is read or generated until first needed (or [`Keys::load`]).
    pub fn new(store: Arc<dyn Store>, keep_retired: Duration) -> Self {
        Self {
            store,
            current: RwLock::new(Arc::new(KeySet::default())),
            writing: Mutex::new(()),
            reading: Mutex::new(()),
            keep_retired,
        }
    }

    async fn read_stored(&self) -> Result<Option<StoredSet>, KeyError> {
        match self.store.get(KEYS_KEY).await? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| KeyError::Stored(e.to_string())),
        }
    }

    /// Reads the set from the store, generating and storing the missing active keys first
    /// (a replica that loses the race to store them takes the winner's).
    pub async fn load(&self) -> Result<Arc<KeySet>, KeyError> {
        let stored = self.read_stored().await?;
        let complete = stored.as_ref().is_some_and(|set| {
            [Alg::Rs256, Alg::Es256].iter().all(|alg| {
                set.keys
                    .iter()
                    .any(|k| k.alg == *alg && k.retire_at.is_none())
            })
        });
        let set = if complete {
            stored.unwrap_or_default()
        } else {
            let _writing = self.writing.lock().await;
            self.complete(stored).await?
        };
        let parsed = Arc::new(parse(&set)?);
        *self.current.write().await = Arc::clone(&parsed);
        Ok(parsed)
    }

    async fn complete(&self, stored: Option<StoredSet>) -> Result<StoredSet, KeyError> {
        let mut set = stored.clone().unwrap_or_default();
        for alg in [Alg::Rs256, Alg::Es256] {
            if !set
                .keys
                .iter()
                .any(|k| k.alg == alg && k.retire_at.is_none())
            {
                set.keys.push(generate(alg).await?);
            }
        }
        let bytes = serde_json::to_vec(&set).map_err(|e| KeyError::Stored(e.to_string()))?;
        match stored {
            // First keys of this store: whoever stores first wins, the others read it.
            None => {
                if !self.store.put_if_absent(KEYS_KEY, &bytes, None).await? {
                    return self
                        .read_stored()
                        .await?
                        .ok_or_else(|| KeyError::Stored("key set vanished".to_owned()));
                }
            }
            Some(_) => self.store.put(KEYS_KEY, &bytes, None).await?,
        }
        Ok(set)
    }

    /// The set read at most `age` ago, read again (by one caller, the others waiting for it)
    /// when older.
    async fn younger_than(&self, age: Duration) -> Result<Arc<KeySet>, KeyError> {
        let young = |set: &KeySet| set.read_at.is_some_and(|at| at.elapsed() < age);
        {
            let current = self.current.read().await;
            if young(&current) {
                return Ok(Arc::clone(&current));
            }
        }
        let _reading = self.reading.lock().await;
        {
            let current = self.current.read().await;
            if young(&current) {
                return Ok(Arc::clone(&current));
            }
        }
        self.load().await
    }

    /// The set to sign and publish with: the one read last, read again when older than a
    /// couple of seconds.
    pub async fn current(&self) -> Result<Arc<KeySet>, KeyError> {
        self.younger_than(REREAD_AFTER).await
    }

    /// The set as the store has it, at most a second old (the JWKS endpoint, and verification
    /// of a `kid` this replica has not seen).
    pub async fn fresh(&self) -> Result<Arc<KeySet>, KeyError> {
        self.younger_than(FRESH_AFTER).await
    }

    /// New active keys for both algorithms; the active ones until now retire, published until
    /// `keep_retired` from now.
    pub async fn rotate(&self) -> Result<Arc<KeySet>, KeyError> {
        let _writing = self.writing.lock().await;
        let mut set = self.read_stored().await?.unwrap_or_default();
        let retire_at = now() + i64::try_from(self.keep_retired.as_secs()).unwrap_or(i64::MAX);
        let now = now();
        set.keys.retain(|k| k.retire_at.is_none_or(|at| at > now));
        for key in &mut set.keys {
            if key.retire_at.is_none() {
                key.retire_at = Some(retire_at);
            }
        }
        for alg in [Alg::Rs256, Alg::Es256] {
            set.keys.push(generate(alg).await?);
        }
        let bytes = serde_json::to_vec(&set).map_err(|e| KeyError::Stored(e.to_string()))?;
        self.store.put(KEYS_KEY, &bytes, None).await?;
        let parsed = Arc::new(parse(&set)?);
        *self.current.write().await = Arc::clone(&parsed);
        Ok(parsed)
    }
}
