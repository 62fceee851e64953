//! Introspection (RFC 7662) and revocation (RFC 7009) of the provider's tokens.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::clients::Client;
use crate::oauth::errors::OAuthError;
use crate::oauth::records::{RefreshRecord, RefreshUse};
use crate::oauth::tokens::Checked;
use crate::provider::{LEEWAY_SECONDS, Provider};

impl Provider {
    /// Introspection by `client` at the introspection endpoint: a confidential client only,
    /// and nothing about an inactive token (RFC 7662 §2.2).
    pub async fn introspect_for(
        &self,
        client: &Client,
        token: &str,
    ) -> Result<Map<String, Value>, OAuthError> {
        if client.config.public {
            return Err(OAuthError::invalid_client(
                "introspection needs a confidential client",
            ));
        }
        let mut answer = self.introspect(token).await?;
        if answer.get("active") == Some(&Value::Bool(false)) {
            answer.remove("inactive_reason");
        }
        Ok(answer)
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
        let Some(record) = self.load::<RefreshRecord>(token).await? else {
            return Ok(inactive("unknown"));
        };
        if self.load::<RefreshUse>(token).await?.is_some()
            || self.family_revoked(&record.grant.gid).await?
        {
            return Ok(inactive("revoked"));
        }
        if record.exp < self.now() {
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
                let ttl = u64::try_from(exp - self.now() + LEEWAY_SECONDS)
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
        if let Some(record) = self.load::<RefreshRecord>(token).await? {
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
