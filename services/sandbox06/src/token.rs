//! `sandbox06 token`: a client-credentials access token from the running suite's token
//! endpoint, as any client gets one.

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use sandbox06::Config;
use sandbox06_sso::component::{DEFAULT_ISSUER, SECTION, SsoConfig};

/// The token of `client` for `scope`, from the suite at `url` (or the configured issuer).
pub async fn fetch(
    config: &Config,
    client: &str,
    scope: Option<&str>,
    secret: Option<&str>,
    url: Option<&str>,
) -> anyhow::Result<String> {
    let sso: SsoConfig = config.section(SECTION)?;
    let secret = match secret {
        Some(secret) => secret.to_owned(),
        None => {
            let clients = sandbox06_sso::clients::registry(&sso.clients)?;
            let Some(registered) = clients.get(client) else {
                bail!(
                    "no client {client:?}; clients: {}",
                    clients.keys().cloned().collect::<Vec<_>>().join(", ")
                );
            };
            registered.config.secret.clone().with_context(|| {
                format!("client {client:?} has no secret: give --secret, or use a client with one")
            })?
        }
    };
    let gateway: sandbox06_gateway::GatewayConfig =
        config.section(sandbox06_gateway::component::SECTION)?;
    let base = match (url, &sso.issuer) {
        (Some(url), _) => url.trim_end_matches('/').to_owned(),
        (None, Some(issuer)) => issuer.clone(),
        (None, None) if gateway.listen.ip().is_unspecified() => {
            format!("http://127.0.0.1:{}", gateway.listen.port())
        }
        (None, None) if gateway.listen.port() == 0 => DEFAULT_ISSUER.to_owned(),
        (None, None) => format!("http://{}", gateway.listen),
    };
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials")
        .append_pair("client_id", client)
        .append_pair("client_secret", &secret);
    if let Some(scope) = scope {
        form.append_pair("scope", scope);
    }
    let request = http::Request::post(format!("{base}/oidc/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(Full::new(Bytes::from(form.finish())))?;
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let response = http
        .request(request)
        .await
        .with_context(|| format!("{base} does not answer: is the suite running (sandbox06 up)?"))?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    let answer: serde_json::Value = serde_json::from_slice(&body)
        .with_context(|| format!("{base}/oidc/token answered {status} without JSON"))?;
    match answer
        .get("access_token")
        .and_then(serde_json::Value::as_str)
    {
        Some(token) => Ok(token.to_owned()),
        None => bail!(
            "{base}/oidc/token refused: {} ({})",
            answer["error"].as_str().unwrap_or("?"),
            answer["error_description"].as_str().unwrap_or_default()
        ),
    }
}
