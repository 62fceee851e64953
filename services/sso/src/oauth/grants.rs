//! The grants of the token endpoint: the authorization code (with PKCE), the refresh token
//! (rotation, reuse detection with a grace window) and client credentials.

use std::collections::HashMap;
use std::time::Duration;

use sandbox06_jose::{random_token, s256};

use crate::clients::{AUTHORIZATION_CODE, CLIENT_CREDENTIALS, Client, REFRESH_TOKEN};
use crate::oauth::errors::OAuthError;
use crate::oauth::records::{CodeRecord, CodeUse, Grant, RefreshRecord, RefreshUse};
use crate::oauth::tokens::TokenResponse;
use crate::provider::{Provider, secs, valid_verifier};

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

impl Provider {
    /// A token request `params` of the authenticated `client`: the grant it names.
    pub async fn token(
        &self,
        client: &Client,
        params: &HashMap<String, String>,
    ) -> Result<TokenResponse, OAuthError> {
        let grant_type = params
            .get("grant_type")
            .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
        if ![AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS].contains(&grant_type.as_str()) {
            return Err(OAuthError::UnsupportedGrantType(format!(
                "grant_type {grant_type} is not supported"
            )));
        }
        if !client.allows_grant(grant_type) {
            return Err(OAuthError::UnauthorizedClient(format!(
                "client {:?} may not use {grant_type}",
                client.id()
            )));
        }
        let scope = params.get("scope").map(String::as_str);
        match grant_type.as_str() {
            AUTHORIZATION_CODE => {
                let code = params
                    .get("code")
                    .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
                self.redeem_code(
                    client,
                    code,
                    params.get("redirect_uri").map(String::as_str),
                    params.get("code_verifier").map(String::as_str),
                )
                .await
            }
            REFRESH_TOKEN => {
                let token = params
                    .get("refresh_token")
                    .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
                self.refresh(client, token, scope).await
            }
            CLIENT_CREDENTIALS => self.client_credentials(client, scope).await,
            other => Err(OAuthError::UnsupportedGrantType(format!(
                "grant_type {other:?} is not supported"
            ))),
        }
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
        let reused = || async {
            if let Some(used) = self.load::<CodeUse>(code).await? {
                self.revoke_family(&used.gid).await?;
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
        let Some(record) = self.load::<CodeRecord>(code).await? else {
            return reused().await;
        };
        // Of two concurrent redemptions, the one that claims the code first redeems it; the
        // other is a reuse.
        let used = CodeUse {
            gid: record.grant.gid.clone(),
        };
        if !self
            .save_new(code, &used, self.lifetimes.refresh_token)
            .await?
        {
            return reused().await;
        }
        self.remove::<CodeRecord>(code).await?;
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
    /// except by the same client within [`Lifetimes::refresh_reuse_grace`](crate::provider::Lifetimes::refresh_reuse_grace) of its first use
    /// (a client racing itself, two tabs refreshing at once), which gets tokens of the same
    /// grant.
    pub async fn refresh(
        &self,
        client: &Client,
        token: &str,
        scope: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let Some(record) = self.load::<RefreshRecord>(token).await? else {
            return Err(OAuthError::invalid_grant(
                "unknown or expired refresh token",
            ));
        };
        if self.family_revoked(&record.grant.gid).await? {
            return Err(OAuthError::invalid_grant("the refresh token is revoked"));
        }
        if let Some(prior) = self.load::<RefreshUse>(token).await? {
            return self.reused(client, &record, Some(&prior), scope).await;
        }
        if record.grant.client_id != client.id() {
            return Err(OAuthError::invalid_grant(
                "the refresh token was issued to another client",
            ));
        }
        // Checked before the token is used up.
        let narrowed = narrowed_scopes(&record.grant, scope)?;
        let ttl = Duration::from_secs(
            u64::try_from(record.exp.saturating_sub(self.now()))
                .unwrap_or(1)
                .max(1),
        );
        let used = RefreshUse {
            client_id: client.id().to_owned(),
            at: self.now(),
        };
        if !self.save_new(token, &used, ttl).await? {
            let prior = self.load::<RefreshUse>(token).await?;
            return self.reused(client, &record, prior.as_ref(), scope).await;
        }
        let issued = self
            .issue_narrowed(client, &record.grant, narrowed.as_deref())
            .await;
        if issued.is_err() {
            // Nothing reached the client: the same token may be tried again.
            let _ = self.remove::<RefreshUse>(token).await;
        }
        issued
    }

    /// A refresh token used before, by `prior`: within the grace window and by the same
    /// client, tokens of the same grant; else the grant is revoked.
    async fn reused(
        &self,
        client: &Client,
        record: &RefreshRecord,
        prior: Option<&RefreshUse>,
        scope: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let grace = secs(self.lifetimes.refresh_reuse_grace);
        let in_grace = prior.is_some_and(|prior| {
            grace > 0
                && prior.client_id == client.id()
                && record.grant.client_id == client.id()
                && self.now().saturating_sub(prior.at) <= grace
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
}
