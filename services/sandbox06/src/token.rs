//! `sandbox06 token`: a client-credentials access token from the running suite's token
//! endpoint, as any client gets one; `sandbox06 inspect-token`: what a token says, and why the
//! edge would refuse it.

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use sandbox06::Config;
use sandbox06_sso::component::{DEFAULT_ISSUER, SECTION, SsoConfig};

/// The secret of `client`: given, else the configured or documented one.
fn secret_of(sso: &SsoConfig, client: &str, secret: Option<&str>) -> anyhow::Result<String> {
    if let Some(secret) = secret {
        return Ok(secret.to_owned());
    }
    let clients = sandbox06_sso::clients::registry(&sso.clients)?;
    let Some(registered) = clients.get(client) else {
        bail!(
            "no client {client:?}; clients: {}",
            clients.keys().cloned().collect::<Vec<_>>().join(", ")
        );
    };
    registered.config.secret.clone().with_context(|| {
        format!("client {client:?} has no secret: give --secret, or use a client with one")
    })
}

/// The suite's URL: given, else the configured issuer, else the edge's listen address.
fn base_url(config: &Config, sso: &SsoConfig, url: Option<&str>) -> anyhow::Result<String> {
    let gateway: sandbox06_gateway::GatewayConfig =
        config.section(sandbox06_gateway::component::SECTION)?;
    Ok(match (url, &sso.issuer) {
        (Some(url), _) => url.trim_end_matches('/').to_owned(),
        (None, Some(issuer)) => issuer.clone(),
        (None, None) if gateway.listen.ip().is_unspecified() => {
            format!("http://127.0.0.1:{}", gateway.listen.port())
        }
        (None, None) if gateway.listen.port() == 0 => DEFAULT_ISSUER.to_owned(),
        (None, None) => format!("http://{}", gateway.listen),
    })
}

/// POSTs `form` to `url`, as the client of `basic` when given: the JSON answer.
async fn post_form(
    url: &str,
    basic: Option<(&str, &str)>,
    form: String,
) -> anyhow::Result<serde_json::Value> {
    let mut request = http::Request::post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json");
    if let Some((client, secret)) = basic {
        use base64::Engine as _;
        let encode =
            |part: &str| form_urlencoded::byte_serialize(part.as_bytes()).collect::<String>();
        let pair = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            encode(client),
            encode(secret)
        ));
        request = request.header("authorization", format!("Basic {pair}"));
    }
    let request = request.body(Full::new(Bytes::from(form)))?;
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let response = http
        .request(request)
        .await
        .with_context(|| format!("{url} does not answer: is the suite running (sandbox06 up)?"))?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    serde_json::from_slice(&body).with_context(|| format!("{url} answered {status} without JSON"))
}

/// The token of `client` for `scope`, from the suite at `url` (or the configured issuer).
pub async fn fetch(
    config: &Config,
    client: &str,
    scope: Option<&str>,
    secret: Option<&str>,
    url: Option<&str>,
) -> anyhow::Result<String> {
    let sso: SsoConfig = config.section(SECTION)?;
    let secret = secret_of(&sso, client, secret)?;
    let base = base_url(config, &sso, url)?;
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials")
        .append_pair("client_id", client)
        .append_pair("client_secret", &secret);
    if let Some(scope) = scope {
        form.append_pair("scope", scope);
    }
    let answer = post_form(&format!("{base}/oidc/token"), None, form.finish()).await?;
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

/// What `sandbox06 inspect-token` found.
#[derive(Debug)]
pub struct Report {
    /// The whole report, to print.
    pub text: String,
    /// Whether the edge would take the token (for the scope, when one was named).
    pub accepted: bool,
}

/// Decodes `token`, asks the suite's introspection endpoint (as the admin client) whether it
/// is active, and checks what the edge checks besides: an access token, for the suite's
/// audience, with `scope`.
pub async fn inspect(
    config: &Config,
    token: &str,
    scope: Option<&str>,
    url: Option<&str>,
) -> anyhow::Result<Report> {
    use std::fmt::Write as _;
    let decoded = sandbox06_jose::decode_unverified(token.trim())
        .map_err(|e| anyhow::anyhow!("not a JWT: {e}"))?;
    let mut text = String::new();
    writeln!(text, "header: {}", serde_json::to_string(&decoded.header)?)?;
    writeln!(
        text,
        "claims: {}",
        serde_json::to_string_pretty(&decoded.claims)?
    )?;
    let sso: SsoConfig = config.section(SECTION)?;
    let base = base_url(config, &sso, url)?;
    let admin = "sandbox06-admin";
    let secret = secret_of(&sso, admin, None)?;
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token.trim())
        .finish();
    let answer = post_form(
        &format!("{base}/oidc/introspect"),
        Some((admin, &secret)),
        form,
    )
    .await?;
    let mut problems = Vec::new();
    if answer["active"] != serde_json::Value::Bool(true) {
        let exp = decoded
            .claims
            .get("exp")
            .and_then(serde_json::Value::as_i64);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        problems.push(match exp {
            Some(exp) if exp + 30 < now => format!("expired {} s ago", now - exp),
            _ => "not active: revoked, signed by a key the suite does not publish, or of another issuer".to_owned(),
        });
    }
    if decoded.header.typ.as_deref() != Some("at+jwt") {
        problems
            .push("not an access token (typ at+jwt): the edge takes access tokens only".to_owned());
    }
    let audiences = sandbox06_jose::audiences(&decoded.claims);
    if !audiences.contains(&sandbox06_sso::clients::API_AUDIENCE) {
        problems.push(format!(
            "audience {audiences:?} is not {:?}",
            sandbox06_sso::clients::API_AUDIENCE
        ));
    }
    if let Some(scope) = scope {
        let granted = decoded
            .claims
            .get("scope")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        if !granted.split_whitespace().any(|s| s == scope) {
            problems.push(format!("lacks the scope {scope} (has: {granted})"));
        }
    }
    if problems.is_empty() {
        writeln!(text, "verdict: accepted by the edge")?;
    } else {
        for problem in &problems {
            writeln!(text, "refused: {problem}")?;
        }
    }
    Ok(Report {
        text: text.trim_end().to_owned(),
        accepted: problems.is_empty(),
    })
}
