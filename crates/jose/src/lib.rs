//! JSON Web Signatures in compact form (RFC 7515) with the two algorithms the single sign-on
//! signs with, RS256 (what the national SSO uses) and ES256, their keys as JWKs (RFC 7517) with
//! RFC 7638 thumbprints as key ids, and verification that pins the algorithm to the key: a
//! token saying `alg: none`, an HMAC algorithm, or an algorithm other than its key's is refused
//! before any signature is checked.
//!
//! ```
//! use sandbox06_jose::{Alg, JwkSet, SigningKey};
//!
//! let key = SigningKey::generate(Alg::Es256).unwrap();
//! let token = key.sign("at+jwt", &serde_json::json!({"sub": "demo"})).unwrap();
//! let jwks = JwkSet { keys: vec![key.public_jwk()] };
//! let verified = jwks.verify(&token).unwrap();
//! assert_eq!(verified.claims["sub"], "demo");
//! assert_eq!(verified.header.typ.as_deref(), Some("at+jwt"));
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use serde::{Deserialize, Serialize};

/// RSA modulus size of generated keys.
pub const RSA_BITS: usize = 2048;

/// A signing algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    #[serde(rename = "RS256")]
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    #[serde(rename = "ES256")]
    Es256,
}

impl Alg {
    /// The JOSE name, `RS256` or `ES256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }

    /// The algorithm named `name`; `None` for any other (`none`, `HS256`, …).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Alg::Rs256),
            "ES256" => Some(Alg::Es256),
            _ => None,
        }
    }
}

impl std::fmt::Display for Alg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a key could not be made or a token could not be signed or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    /// Key generation failed.
    #[error("key generation failed: {0}")]
    Generate(String),
    /// A stored or published key does not parse.
    #[error("key rejected: {0}")]
    Key(String),
    /// Signing failed.
    #[error("signing failed")]
    Sign,
    /// The token is not three base64url parts with JSON header and claims.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm this verifier never accepts (`none`, HMAC, …).
    #[error("algorithm {0:?} is not accepted")]
    UnsupportedAlg(String),
    /// No key of the set has the header's `kid`.
    #[error("no key with kid {0:?}")]
    UnknownKey(String),
    /// The header's algorithm is not the one of the key it names.
    #[error("algorithm {header} does not match the key's {key}")]
    AlgMismatch {
        /// What the header says.
        header: String,
        /// What the key is.
        key: Alg,
    },
    /// The signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
}

impl JoseError {
    /// A short word for why a token was refused: `malformed`, `alg`, `unknown_key`,
    /// `signature`; `key` for a key that does not parse.
    pub fn kind(&self) -> &'static str {
        match self {
            JoseError::Generate(_) | JoseError::Key(_) | JoseError::Sign => "key",
            JoseError::Malformed(_) => "malformed",
            JoseError::UnsupportedAlg(_) | JoseError::AlgMismatch { .. } => "alg",
            JoseError::UnknownKey(_) => "unknown_key",
            JoseError::BadSignature => "signature",
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str, what: &'static str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| JoseError::Malformed(what))
}

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A private signing key with its id.
pub struct SigningKey {
    kid: String,
    alg: Alg,
    pkcs8: Vec<u8>,
    signer: Signer,
    public: Jwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key; its id is the RFC 7638 thumbprint of its public key. An RSA key takes
    /// tens to hundreds of milliseconds: generate it off the request path.
    pub fn generate(alg: Alg) -> Result<Self, JoseError> {
        let pkcs8 = match alg {
            Alg::Rs256 => {
                use rsa::pkcs8::EncodePrivateKey as _;
                let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, RSA_BITS)
                    .map_err(|e| JoseError::Generate(e.to_string()))?;
                key.to_pkcs8_der()
                    .map_err(|e| JoseError::Generate(e.to_string()))?
                    .as_bytes()
                    .to_vec()
            }
            Alg::Es256 => EcdsaKeyPair::generate_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &SystemRandom::new(),
            )
            .map_err(|_| JoseError::Generate("no randomness".to_owned()))?
            .as_ref()
            .to_vec(),
        };
        Self::from_pkcs8(alg, None, pkcs8)
    }

    /// The key in PKCS#8 DER `pkcs8`, with `kid` (its thumbprint when `None`).
    pub fn from_pkcs8(alg: Alg, kid: Option<String>, pkcs8: Vec<u8>) -> Result<Self, JoseError> {
        let (signer, mut public) = match alg {
            Alg::Rs256 => {
                let pair =
                    RsaKeyPair::from_pkcs8(&pkcs8).map_err(|e| JoseError::Key(e.to_string()))?;
                let public = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
                let jwk = Jwk::rsa(&public.n, &public.e);
                (Signer::Rsa(pair), jwk)
            }
            Alg::Es256 => {
                let pair = EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &pkcs8,
                    &SystemRandom::new(),
                )
                .map_err(|e| JoseError::Key(e.to_string()))?;
                let jwk = Jwk::ec_p256(pair.public_key().as_ref())?;
                (Signer::Ec(pair), jwk)
            }
        };
        let kid = match kid {
            Some(kid) => kid,
            None => public.thumbprint()?,
        };
        public.kid = Some(kid.clone());
        public.alg = Some(alg.as_str().to_owned());
        public.use_ = Some("sig".to_owned());
        Ok(Self {
            kid,
            alg,
            pkcs8,
            signer,
            public,
        })
    }

    /// Its key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Its algorithm.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The private key, PKCS#8 DER (to share it with replicas through the store).
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public key as published in the JWKS.
    pub fn public_jwk(&self) -> Jwk {
        self.public.clone()
    }

    /// Signs `payload` bytes as a compact JWS with header `{alg, kid, typ}`.
    pub fn sign_bytes(&self, typ: &str, payload: &[u8]) -> Result<String, JoseError> {
        let header = serde_json::json!({"alg": self.alg.as_str(), "kid": self.kid, "typ": typ});
        let mut token = b64(header.to_string().as_bytes());
        token.push('.');
        token.push_str(&b64(payload));
        let rng = SystemRandom::new();
        let signature = match &self.signer {
            Signer::Rsa(pair) => {
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    token.as_bytes(),
                    &mut out,
                )
                .map_err(|_| JoseError::Sign)?;
                out
            }
            Signer::Ec(pair) => pair
                .sign(&rng, token.as_bytes())
                .map_err(|_| JoseError::Sign)?
                .as_ref()
                .to_vec(),
        };
        token.push('.');
        token.push_str(&b64(&signature));
        Ok(token)
    }

    /// Signs `claims` as a compact JWS with header `{alg, kid, typ}`.
    pub fn sign(&self, typ: &str, claims: &impl Serialize) -> Result<String, JoseError> {
        let payload = serde_json::to_vec(claims).map_err(|_| JoseError::Sign)?;
        self.sign_bytes(typ, &payload)
    }
}

/// A public key as a JWK (RFC 7517), RSA or EC P-256.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// `RSA` or `EC`.
    pub kty: String,
    /// Key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// `sig`.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// `RS256` or `ES256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// RSA modulus, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA exponent, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// EC curve, `P-256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// EC x coordinate, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC y coordinate, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

impl Jwk {
    fn rsa(n: &[u8], e: &[u8]) -> Self {
        Self {
            kty: "RSA".to_owned(),
            n: Some(b64(n)),
            e: Some(b64(e)),
            ..Self::default()
        }
    }

    fn ec_p256(point: &[u8]) -> Result<Self, JoseError> {
        // Uncompressed: 0x04 || x || y.
        if point.len() != 65 || point[0] != 4 {
            return Err(JoseError::Key("not an uncompressed P-256 point".to_owned()));
        }
        Ok(Self {
            kty: "EC".to_owned(),
            crv: Some("P-256".to_owned()),
            x: Some(b64(&point[1..33])),
            y: Some(b64(&point[33..])),
            ..Self::default()
        })
    }

    /// The RFC 7638 thumbprint: base64url SHA-256 of the required members in order.
    pub fn thumbprint(&self) -> Result<String, JoseError> {
        let text = match self.kty.as_str() {
            "RSA" => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                self.e.as_deref().unwrap_or_default(),
                self.n.as_deref().unwrap_or_default()
            ),
            "EC" => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                self.crv.as_deref().unwrap_or_default(),
                self.x.as_deref().unwrap_or_default(),
                self.y.as_deref().unwrap_or_default()
            ),
            other => return Err(JoseError::Key(format!("key type {other:?}"))),
        };
        Ok(b64(ring::digest::digest(
            &ring::digest::SHA256,
            text.as_bytes(),
        )
        .as_ref()))
    }

    /// The verifying key this JWK describes: its algorithm is what `alg` says, or what its
    /// type implies (`RSA` → RS256, `EC` on P-256 → ES256).
    pub fn verifying_key(&self) -> Result<VerifyingKey, JoseError> {
        let implied = match (self.kty.as_str(), self.crv.as_deref()) {
            ("RSA", _) => Alg::Rs256,
            ("EC", Some("P-256")) => Alg::Es256,
            (kty, crv) => {
                return Err(JoseError::Key(format!(
                    "key type {kty:?} (curve {crv:?}) is not supported"
                )));
            }
        };
        if let Some(alg) = &self.alg
            && Alg::parse(alg) != Some(implied)
        {
            return Err(JoseError::Key(format!(
                "alg {alg:?} does not fit key type {:?}",
                self.kty
            )));
        }
        let field = |value: &Option<String>, name: &'static str| {
            value
                .as_deref()
                .ok_or_else(|| JoseError::Key(format!("missing {name}")))
                .and_then(|v| unb64(v, name).map_err(|_| JoseError::Key(format!("bad {name}"))))
        };
        let material = match implied {
            Alg::Rs256 => Material::Rsa {
                n: field(&self.n, "n")?,
                e: field(&self.e, "e")?,
            },
            Alg::Es256 => {
                let mut point = vec![4];
                point.extend(field(&self.x, "x")?);
                point.extend(field(&self.y, "y")?);
                Material::Ec { point }
            }
        };
        Ok(VerifyingKey {
            kid: self.kid.clone(),
            alg: implied,
            material,
        })
    }
}

/// A JWK set (RFC 7517 §5), as the JWKS endpoint publishes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    /// The verifying keys of the set; keys that do not parse are left out.
    pub fn verifying_keys(&self) -> Vec<VerifyingKey> {
        self.keys
            .iter()
            .filter_map(|jwk| jwk.verifying_key().ok())
            .collect()
    }

    /// Verifies `token` against the key its header names.
    pub fn verify(&self, token: &str) -> Result<Verified, JoseError> {
        verify(token, &self.verifying_keys())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Material {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    Ec { point: Vec<u8> },
}

/// A public key that verifies signatures of one algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyingKey {
    /// Its id.
    pub kid: Option<String>,
    /// The one algorithm it verifies.
    pub alg: Alg,
    material: Material,
}

impl VerifyingKey {
    fn check(&self, message: &[u8], signature_bytes: &[u8]) -> Result<(), JoseError> {
        let verified = match &self.material {
            Material::Rsa { n, e } => signature::RsaPublicKeyComponents { n, e }.verify(
                &signature::RSA_PKCS1_2048_8192_SHA256,
                message,
                signature_bytes,
            ),
            Material::Ec { point } => {
                signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature_bytes)
            }
        };
        verified.map_err(|_| JoseError::BadSignature)
    }
}

/// A JOSE header as read from a token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The algorithm the token claims.
    pub alg: String,
    /// The key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The token type, e.g. `at+jwt` (RFC 9068) or `JWT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
}

/// A token whose signature verified.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    /// Its header.
    pub header: Header,
    /// Its claims, not yet checked (issuer, audience, expiry are the caller's).
    pub claims: serde_json::Map<String, serde_json::Value>,
}

/// A token split and decoded, its signature not checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Unverified<'a> {
    /// Its header.
    pub header: Header,
    /// Its claims.
    pub claims: serde_json::Map<String, serde_json::Value>,
    signing_input: &'a str,
    signature: Vec<u8>,
}

/// Splits and decodes `token` without checking its signature: to read what a token says
/// (which key, which client) before deciding how to verify it.
pub fn decode_unverified(token: &str) -> Result<Unverified<'_>, JoseError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::Malformed("not three parts"));
    };
    let signing_input = &token[..header.len() + 1 + payload.len()];
    let header: Header = serde_json::from_slice(&unb64(header, "header")?)
        .map_err(|_| JoseError::Malformed("header"))?;
    let claims = serde_json::from_slice(&unb64(payload, "claims")?)
        .map_err(|_| JoseError::Malformed("claims"))?;
    Ok(Unverified {
        header,
        claims,
        signing_input,
        signature: unb64(signature, "signature")?,
    })
}

/// Verifies `token` with the key of `keys` its header names: the header's algorithm must be
/// RS256 or ES256 and the key's own; a header without `kid` is tried against the only key of
/// its algorithm.
pub fn verify(token: &str, keys: &[VerifyingKey]) -> Result<Verified, JoseError> {
    let unverified = decode_unverified(token)?;
    let header = &unverified.header;
    let Some(alg) = Alg::parse(&header.alg) else {
        return Err(JoseError::UnsupportedAlg(header.alg.clone()));
    };
    let key = match &header.kid {
        Some(kid) => keys
            .iter()
            .find(|key| key.kid.as_deref() == Some(kid.as_str()))
            .ok_or_else(|| JoseError::UnknownKey(kid.clone()))?,
        None => {
            let mut of_alg = keys.iter().filter(|key| key.alg == alg);
            match (of_alg.next(), of_alg.next()) {
                (Some(key), None) => key,
                _ => return Err(JoseError::UnknownKey(String::new())),
            }
        }
    };
    if key.alg != alg {
        return Err(JoseError::AlgMismatch {
            header: header.alg.clone(),
            key: key.alg,
        });
    }
    key.check(unverified.signing_input.as_bytes(), &unverified.signature)?;
    Ok(Verified {
        header: unverified.header,
        claims: unverified.claims,
    })
}

/// The audiences of `claims`: `aud` as one string or a list (RFC 7519 §4.1.3).
pub fn audiences(claims: &serde_json::Map<String, serde_json::Value>) -> Vec<&str> {
    match claims.get("aud") {
        Some(serde_json::Value::String(one)) => vec![one.as_str()],
        Some(serde_json::Value::Array(many)) => {
            many.iter().filter_map(serde_json::Value::as_str).collect()
        }
        _ => Vec::new(),
    }
}

/// Base64url without padding, as JOSE uses it.
pub fn base64url(bytes: &[u8]) -> String {
    b64(bytes)
}

/// `count` random bytes as base64url: identifiers, codes, secrets.
pub fn random_token(count: usize) -> String {
    let mut bytes = vec![0; count];
    // The system source does not fail on the platforms the suite runs on; a failure leaves
    // the bytes zero, which the fill below replaces from a second draw.
    if ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut bytes).is_err() {
        let mut fallback = rand_core::OsRng;
        rand_core::RngCore::fill_bytes(&mut fallback, &mut bytes);
    }
    b64(&bytes)
}

/// base64url(SHA-256(`input`)): the PKCE S256 challenge of a verifier.
pub fn s256(input: &[u8]) -> String {
    b64(ring::digest::digest(&ring::digest::SHA256, input).as_ref())
}

/// The left half of SHA-256(`token`), base64url: `at_hash` and `c_hash` (OIDC Core §3.1.3.6).
pub fn half_hash(token: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    b64(&digest.as_ref()[..16])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn forge(header: &str, claims: &str, signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            b64(header.as_bytes()),
            b64(claims.as_bytes()),
            b64(signature)
        )
    }

    #[test]
    fn both_algorithms_sign_and_verify() {
        for alg in [Alg::Rs256, Alg::Es256] {
            let key = SigningKey::generate(alg).unwrap();
            let token = key
                .sign("JWT", &serde_json::json!({"sub": "x", "n": 1}))
                .unwrap();
            let set = JwkSet {
                keys: vec![key.public_jwk()],
            };
            let verified = set.verify(&token).unwrap();
            assert_eq!(verified.header.alg, alg.as_str());
            assert_eq!(verified.header.kid.as_deref(), Some(key.kid()));
            assert_eq!(verified.claims["n"], 1);
            // A key reloaded from its PKCS#8 has the same id and verifies the same tokens.
            let again = SigningKey::from_pkcs8(alg, None, key.pkcs8().to_vec()).unwrap();
            assert_eq!(again.kid(), key.kid());
        }
    }

    #[test]
    fn forged_tokens_are_refused() {
        let key = SigningKey::generate(Alg::Es256).unwrap();
        let set = JwkSet {
            keys: vec![key.public_jwk()],
        };
        let token = key.sign("JWT", &serde_json::json!({"sub": "x"})).unwrap();
        // alg none, and HMAC keyed with the public key.
        let none = forge(r#"{"alg":"none"}"#, r#"{"sub":"x"}"#, b"");
        assert_eq!(set.verify(&none).unwrap_err().kind(), "alg");
        let hs = forge(
            &format!(r#"{{"alg":"HS256","kid":"{}"}}"#, key.kid()),
            r#"{"sub":"x"}"#,
            b"sig",
        );
        assert_eq!(set.verify(&hs).unwrap_err().kind(), "alg");
        // RS256 claimed for an EC key.
        let rs = forge(
            &format!(r#"{{"alg":"RS256","kid":"{}"}}"#, key.kid()),
            r#"{"sub":"x"}"#,
            b"sig",
        );
        assert!(matches!(
            set.verify(&rs).unwrap_err(),
            JoseError::AlgMismatch { .. }
        ));
        // Claims changed after signing.
        let mut parts: Vec<&str> = token.split('.').collect();
        let other = b64(br#"{"sub":"y"}"#);
        parts[1] = &other;
        assert_eq!(
            set.verify(&parts.join(".")).unwrap_err(),
            JoseError::BadSignature
        );
        // A kid nobody published.
        let stranger = SigningKey::generate(Alg::Es256).unwrap();
        let foreign = stranger.sign("JWT", &serde_json::json!({})).unwrap();
        assert_eq!(set.verify(&foreign).unwrap_err().kind(), "unknown_key");
        assert_eq!(set.verify("a.b").unwrap_err().kind(), "malformed");
    }

    #[test]
    fn pkce_s256_is_base64url_sha256() {
        // The expected value computed by `openssl dgst -sha256 -binary | base64`, made url-safe.
        assert_eq!(
            s256(b"dBjftJeZ4CVP-mB92K27uhbUwmNiqQsN4XJpuAyRhFQ"),
            "x5x5NEua5gp8QL2q47mkljW0rx7StJxL8exjRvfPmO8"
        );
    }

    #[test]
    fn thumbprint_matches_rfc_7638_example() {
        let jwk = Jwk {
            kty: "RSA".to_owned(),
            n: Some("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw".to_owned()),
            e: Some("AQAB".to_owned()),
            ..Jwk::default()
        };
        assert_eq!(
            jwk.thumbprint().unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
