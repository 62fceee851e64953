//! Tokens: signing access tokens (RFC 9068) and ID tokens, issuing a grant's tokens (with a
//! refresh token in its family), and verifying a token this provider signed.

use std::time::Duration;

use sandbox06_jose::{Alg, JoseError, Verified, random_token};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::claims::Person;
use crate::clients::{API_AUDIENCE, Client};
use crate::oauth::errors::OAuthError;
use crate::oauth::records::{CodeRecord, Grant, RefreshRecord};
use crate::provider::{LEEWAY_SECONDS, Provider, secs};

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

impl Provider {
    /// Signs an access token (RFC 9068) for `grant`.
    pub async fn access_token(
        &self,
        client: &Client,
        grant: &Grant,
        lifetime: Duration,
    ) -> Result<(String, i64), OAuthError> {
        let lifetime = secs(lifetime);
        self.access_token_with(client.alg, grant, self.now(), lifetime, &[API_AUDIENCE])
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
        person: &Person,
        access_token: &str,
    ) -> Result<String, OAuthError> {
        let iat = self.now();
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
        claims.extend(person.claims(
            grant.scopes.iter().map(String::as_str),
            client.claims_profile(),
            &self.tech_ids,
        ));
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
    pub(crate) async fn issue_narrowed(
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
        // A user's grant refers to the login it came from, where the person's claims are.
        let login = match &grant.sid {
            Some(sid) => Some(self.login_of(sid).await?),
            None => None,
        };
        let id_token = match &login {
            Some(login) if tokens_grant.has_scope("openid") => Some(
                self.id_token(client, tokens_grant, &login.person, &access_token)
                    .await?,
            ),
            _ => None,
        };
        let refresh_token = if let Some(login) = &login
            && client.allows_grant(crate::clients::REFRESH_TOKEN)
        {
            let token = random_token(32);
            let record = RefreshRecord {
                grant: Grant {
                    nonce: None,
                    ..grant.clone()
                },
                exp: self.now() + secs(self.lifetimes.refresh_token),
            };
            self.save(&token, &record, self.lifetimes.refresh_token)
                .await?;
            // The login lives as long as a refresh token of its grants.
            self.keep_login(login, self.lifetimes.refresh_token).await?;
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
        self.save(&code, record, self.lifetimes.code).await?;
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

    pub(crate) async fn family_revoked(&self, gid: &str) -> Result<bool, OAuthError> {
        Ok(self
            .store
            .get(&format!("sso:revoked-grant:{gid}"))
            .await?
            .is_some())
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
        if exp.saturating_add(LEEWAY_SECONDS) < self.now() {
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
}
