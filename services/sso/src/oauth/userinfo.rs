//! The userinfo endpoint's logic (OpenID Connect Core §5.3): the claims an access token with
//! `openid` releases, read from VNeID and the population database as they are now.

use serde_json::{Map, Value, json};

use crate::clients::Client;
use crate::identity::LoginError;
use crate::oauth::errors::OAuthError;
use crate::oauth::tokens::Checked;
use crate::provider::Provider;

impl Provider {
    /// The claims of the bearer of the access token `token`.
    pub async fn userinfo(&self, token: &str) -> Result<Map<String, Value>, OAuthError> {
        let claims = match self.check_jwt(token).await? {
            Checked::Active(claims, kind) if kind == "access_token" => claims,
            Checked::Active(..) => {
                return Err(OAuthError::InvalidToken("not an access token".to_owned()));
            }
            Checked::Inactive(reason) => {
                return Err(OAuthError::InvalidToken(format!(
                    "the access token is {reason}"
                )));
            }
        };
        let scopes: Vec<&str> = claims
            .get("scope")
            .and_then(Value::as_str)
            .map(|s| s.split_whitespace().collect())
            .unwrap_or_default();
        if !scopes.contains(&"openid") {
            return Err(OAuthError::InsufficientScope(
                "the access token lacks openid".to_owned(),
            ));
        }
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let account = match self.identity.account(sub).await {
            Ok(account) => account,
            Err(LoginError::Unavailable(upstream)) => {
                let description = upstream.to_string();
                return Err(OAuthError::upstream(upstream, description));
            }
            Err(error) => return Err(OAuthError::InvalidToken(error.message().1)),
        };
        let person = match self
            .identity
            .person(&account, scopes.contains(&"address"))
            .await
        {
            Ok(person) => person,
            Err(LoginError::Unavailable(upstream)) => {
                let description = upstream.to_string();
                return Err(OAuthError::upstream(upstream, description));
            }
            // The account exists but its record does not answer as one: the suite's fault.
            Err(error) => {
                tracing::warn!(error = %error, "the population database has no record of an account");
                return Err(OAuthError::server(
                    "the citizen's record cannot be read; retry later",
                ));
            }
        };
        let profile = claims
            .get("client_id")
            .and_then(Value::as_str)
            .and_then(|id| self.client(id))
            .map(Client::claims_profile)
            .unwrap_or_default();
        let mut body = person.claims(scopes.iter().copied(), profile, &self.tech_ids);
        body.insert("sub".into(), json!(sub));
        Ok(body)
    }
}
