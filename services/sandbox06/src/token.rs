//! `sandbox06 token`: a client-credentials access token from the running suite's token
//! endpoint, as any client gets one; `sandbox06 inspect-token`: what a token says, and why the
//! edge would refuse it.

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use sandbox06::Config;
use sandbox06_sso::component::{SECTION, SsoConfig};

/// The secret of `client`: given, else the configured or documented one.
fn secret_of(sso: &SsoConfig, client: &str, secret: Option<&str>) -> anyhow::Result<String> {
    if let Some(secret) = secret {
        return Ok(secret.to_owned());
    }
    // The demo clients, every client a component declares, then the configured ones, as the
    // single sign-on registers them.
    let declared = sandbox06::components()
        .iter()
        .flat_map(|c| c.spec().clients.iter())
        .collect::<Vec<_>>();
    let registered = sandbox06_sso::component::registered_clients(
        declared,
        &sso.clients,
        &sandbox06_sso::component::client_secrets(sso),
    );
    let clients = sandbox06_sso::clients::registry(&registered)?;
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

/// The suite's URL: given, else the configured issuer, else the edge's address (`--listen`,
/// `SANDBOX06_GATEWAY__LISTEN`, `gateway.listen`, as `up` reads it).
fn base_url(config: &Config, sso: &SsoConfig, url: Option<&str>) -> anyhow::Result<String> {
    Ok(match (url, &sso.issuer) {
        (Some(url), _) => url.trim_end_matches('/').to_owned(),
        (None, Some(issuer)) => issuer.trim_end_matches('/').to_owned(),
        (None, None) => sandbox06::edge_url(config)?,
    })
}

/// GETs `url`, with `bearer` as its access token when given: the status and the answer, read
/// as JSON whatever the status (an error is a JSON Status too).
async fn get(
    url: &str,
    bearer: Option<&str>,
) -> anyhow::Result<(http::StatusCode, serde_json::Value)> {
    let mut request = http::Request::get(url).header("accept", "application/json");
    if let Some(token) = bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    send(url, request.body(Full::new(Bytes::new()))?).await
}

/// Sends `request` to `url` over HTTP/1.1: the status and the answer, read as JSON whatever the
/// status (an error is a JSON Status too).
pub async fn send(
    url: &str,
    request: http::Request<Full<Bytes>>,
) -> anyhow::Result<(http::StatusCode, serde_json::Value)> {
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let response = http
        .request(request)
        .await
        .with_context(|| format!("{url} does not answer: is the suite running (sandbox06 up)?"))?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    let answer = serde_json::from_slice(&body)
        .with_context(|| format!("{url} answered {status} without JSON"))?;
    Ok((status, answer))
}

/// GETs `url`: the JSON answer of a success.
async fn get_json(url: &str) -> anyhow::Result<serde_json::Value> {
    let (status, answer) = get(url, None).await?;
    if !status.is_success() {
        bail!("{url} answered {status}");
    }
    Ok(answer)
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
    let (_, answer) = send(url, request.body(Full::new(Bytes::from(form)))?).await?;
    Ok(answer)
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
    // The token is judged by the provider that issued it (its `iss`), unless a URL is given.
    let issuer = decoded
        .claims
        .get("iss")
        .and_then(serde_json::Value::as_str)
        .map(|iss| iss.trim_end_matches('/').to_owned());
    let base = match (url, &issuer) {
        (Some(url), _) => url.trim_end_matches('/').to_owned(),
        (None, Some(iss)) if iss.starts_with("http://") || iss.starts_with("https://") => {
            iss.clone()
        }
        (None, _) => base_url(config, &sso, None)?,
    };
    let mut problems = Vec::new();
    let discovery = get_json(&format!("{base}/.well-known/openid-configuration")).await?;
    let text_of = |key: &str| discovery.get(key).and_then(serde_json::Value::as_str);
    let suite_issuer = text_of("issuer").unwrap_or_default().to_owned();
    writeln!(text, "issuer: {suite_issuer} (discovery at {base})")?;
    if issuer.as_deref() != Some(suite_issuer.trim_end_matches('/')) {
        problems.push(format!(
            "issued by {}, not by the suite at {base}, whose issuer is {suite_issuer}",
            issuer.as_deref().unwrap_or("nobody (no iss claim)")
        ));
    }
    // The signature, against the keys the issuer publishes, as the edge checks it.
    let jwks_uri = text_of("jwks_uri")
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{base}/oidc/jwks"));
    let keys: sandbox06_jose::JwkSet = serde_json::from_value(get_json(&jwks_uri).await?)
        .with_context(|| format!("{jwks_uri} is not a JWK set"))?;
    if let Err(error) = keys.verify(token.trim()) {
        problems.push(format!(
            "the signature does not verify against {jwks_uri}: {error}"
        ));
    }
    let introspection = text_of("introspection_endpoint")
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{base}/oidc/introspect"));
    let admin = "sandbox06-admin";
    let secret = secret_of(&sso, admin, None)?;
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token.trim())
        .finish();
    let answer = post_form(&introspection, Some((admin, &secret)), form).await?;
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

/// What `GET /v1/citizens/{citizen_id}` of the suite at `edge` answers, read with a token of the
/// admin client: `None` when nothing listens there.
pub async fn read_citizen(
    config: &Config,
    edge: &str,
    citizen_id: &str,
) -> anyhow::Result<Option<serde_json::Value>> {
    let authority = edge
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .trim_end_matches('/');
    if tokio::net::TcpStream::connect(authority).await.is_err() {
        return Ok(None);
    }
    let token = fetch(
        config,
        "sandbox06-admin",
        Some("citizen.read"),
        None,
        Some(edge),
    )
    .await?;
    let url = format!("{edge}/v1/citizens/{citizen_id}");
    let (status, answer) = get(&url, Some(&token)).await?;
    if !status.is_success() {
        bail!(
            "the suite at {edge} answered {status}: {}",
            answer["error"]["message"].as_str().unwrap_or_default()
        );
    }
    Ok(Some(answer))
}
