//! `sandbox06.sso.v1.SsoService`: introspection, clients, key rotation and tokens on demand.

use std::sync::Arc;

use sandbox06_jose::Alg;
use sandbox06_proto::sso::{self as pb, sso_service_server::SsoService};
use sandbox06_runtime::{ApiError, ErrorReason, Reason};
use serde_json::Value;
use tonic::{Code, Request, Response, Status};

use crate::clients::{API_AUDIENCE, Client};
use crate::provider::{Grant, OAuthError, Provider};

/// The longest lifetime `IssueToken` gives a token (and the longest ago it may have expired).
pub const MAX_ISSUED_LIFETIME: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Why an SSO call failed, beyond the generic reasons of the runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SsoReason {
    /// No client is registered with this id.
    ClientNotFound,
    /// A client did not prove who it is (OAuth `invalid_client`).
    ClientAuthenticationFailed,
}

/// Every reason the SSO owns, in documentation order.
pub const REASONS: &[SsoReason] = &[
    SsoReason::ClientNotFound,
    SsoReason::ClientAuthenticationFailed,
];

impl ErrorReason for SsoReason {
    fn as_str(&self) -> &'static str {
        match self {
            SsoReason::ClientNotFound => "CLIENT_NOT_FOUND",
            SsoReason::ClientAuthenticationFailed => "CLIENT_AUTHENTICATION_FAILED",
        }
    }

    fn code(&self) -> Code {
        match self {
            SsoReason::ClientNotFound => Code::NotFound,
            SsoReason::ClientAuthenticationFailed => Code::Unauthenticated,
        }
    }

    fn when(&self) -> &'static str {
        match self {
            SsoReason::ClientNotFound => "No client of the single sign-on has this client_id.",
            SsoReason::ClientAuthenticationFailed => {
                "A client of the single sign-on did not prove who it is (OAuth `invalid_client`): unknown client, wrong secret or assertion, or its authentication locked after failures."
            }
        }
    }
}

/// The gRPC face of the provider.
#[derive(Clone, Debug)]
pub struct SsoApi {
    provider: Arc<Provider>,
}

impl SsoApi {
    /// The API of `provider`.
    pub fn new(provider: Arc<Provider>) -> Self {
        Self { provider }
    }
}

fn client_message(client: &Client, default_lifetime: i64) -> pb::Client {
    let config = &client.config;
    pb::Client {
        client_id: config.client_id.clone(),
        name: config.name.clone(),
        name_en: config.name_en.clone(),
        public: config.public,
        grant_types: config.grant_types.clone(),
        redirect_uris: config.redirect_uris.clone(),
        loopback_redirects: config.loopback_redirects,
        scopes: config.scopes.clone(),
        token_endpoint_auth_methods: client.auth_methods.clone(),
        auto_approve: config.auto_approve,
        signing_alg: client.alg.as_str().to_owned(),
        access_token_lifetime_seconds: match config.access_token_lifetime_seconds {
            0 => default_lifetime,
            seconds => i64::try_from(seconds).unwrap_or(i64::MAX),
        },
        claims_profile: client.claims_profile().as_str().to_owned(),
    }
}

fn text(map: &serde_json::Map<String, Value>, name: &str) -> String {
    map.get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[tonic::async_trait]
impl SsoService for SsoApi {
    async fn introspect_token(
        &self,
        request: Request<pb::IntrospectTokenRequest>,
    ) -> Result<Response<pb::IntrospectTokenResponse>, Status> {
        let token = request.into_inner().token;
        if token.is_empty() {
            return Err(ApiError::invalid_field(
                Reason::InvalidArgument,
                "token",
                "the token to introspect is required",
            )
            .into());
        }
        let map = self
            .provider
            .introspect(&token)
            .await
            .map_err(Status::from)?;
        let strings = |name: &str| -> Vec<String> {
            match map.get(name) {
                Some(Value::String(one)) => vec![one.clone()],
                Some(Value::Array(many)) => many
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            }
        };
        Ok(Response::new(pb::IntrospectTokenResponse {
            active: map.get("active").and_then(Value::as_bool).unwrap_or(false),
            inactive_reason: text(&map, "inactive_reason"),
            token_type: text(&map, "token_type"),
            client_id: text(&map, "client_id"),
            sub: text(&map, "sub"),
            scope: text(&map, "scope"),
            aud: strings("aud"),
            iss: text(&map, "iss"),
            exp: map.get("exp").and_then(Value::as_i64).unwrap_or(0),
            iat: map.get("iat").and_then(Value::as_i64).unwrap_or(0),
            jti: text(&map, "jti"),
            acr: text(&map, "acr"),
            amr: strings("amr"),
        }))
    }

    async fn get_client(
        &self,
        request: Request<pb::GetClientRequest>,
    ) -> Result<Response<pb::GetClientResponse>, Status> {
        let id = request.into_inner().client_id;
        let client = self.provider.client(&id).ok_or_else(|| {
            Status::from(
                ApiError::new(SsoReason::ClientNotFound, format!("no client {id:?}"))
                    .with_metadata("client_id", id.clone()),
            )
        })?;
        let lifetime = i64::try_from(self.provider.lifetimes.access_token.as_secs()).unwrap_or(0);
        Ok(Response::new(pb::GetClientResponse {
            client: Some(client_message(client, lifetime)),
        }))
    }

    async fn rotate_signing_keys(
        &self,
        _request: Request<pb::RotateSigningKeysRequest>,
    ) -> Result<Response<pb::RotateSigningKeysResponse>, Status> {
        let keys = self
            .provider
            .keys
            .rotate()
            .await
            .map_err(|e| Status::from(OAuthError::from(e)))?;
        tracing::info!("signing keys rotated");
        Ok(Response::new(pb::RotateSigningKeysResponse {
            keys: keys
                .keys
                .iter()
                .map(|k| pb::SigningKey {
                    kid: k.signing.kid().to_owned(),
                    alg: k.signing.alg().as_str().to_owned(),
                    active: k.retire_at.is_none(),
                    created_at: k.created_at,
                    retire_at: k.retire_at.unwrap_or(0),
                })
                .collect(),
        }))
    }

    async fn issue_token(
        &self,
        request: Request<pb::IssueTokenRequest>,
    ) -> Result<Response<pb::IssueTokenResponse>, Status> {
        let request = request.into_inner();
        let client_id = if request.client_id.is_empty() {
            "sandbox06-tests".to_owned()
        } else {
            request.client_id
        };
        let alg = match request.alg.as_str() {
            "" => Alg::Rs256,
            name => Alg::parse(name).ok_or_else(|| {
                Status::from(ApiError::invalid_field(
                    Reason::InvalidArgument,
                    "alg",
                    format!("{name:?} is not RS256 or ES256"),
                ))
            })?,
        };
        let limit = i64::try_from(MAX_ISSUED_LIFETIME.as_secs()).unwrap_or(i64::MAX);
        let lifetime = match request.lifetime_seconds {
            0 => i64::try_from(self.provider.lifetimes.access_token.as_secs()).unwrap_or(0),
            seconds if seconds.unsigned_abs() <= limit.unsigned_abs() => seconds,
            _ => {
                return Err(ApiError::invalid_field(
                    Reason::InvalidArgument,
                    "lifetime_seconds",
                    format!("must be within ±{limit} seconds (a day)"),
                )
                .into());
            }
        };
        let audiences: Vec<&str> = if request.audience.is_empty() {
            vec![API_AUDIENCE]
        } else {
            request.audience.iter().map(String::as_str).collect()
        };
        let grant = Grant {
            sub: if request.subject.is_empty() {
                client_id.clone()
            } else {
                request.subject
            },
            client_id,
            scopes: request
                .scope
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            acr: Some(request.acr).filter(|a| !a.is_empty()),
            gid: sandbox06_jose::random_token(12),
            ..Grant::default()
        };
        let token = self
            .provider
            .access_token_with(alg, &grant, self.provider.now(), lifetime, &audiences)
            .await
            .map_err(Status::from)?;
        Ok(Response::new(pb::IssueTokenResponse {
            access_token: token,
            expires_in: lifetime,
        }))
    }
}
