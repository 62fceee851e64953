//! Registered clients: the documented demo clients, and those the configuration adds or
//! replaces (`[[sso.clients]]`).

use std::collections::BTreeMap;

use sandbox06_jose::{Alg, JwkSet, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The audience of every access token for the suite's APIs.
pub const API_AUDIENCE: &str = "sandbox06";

/// Grant: authorization code (with PKCE).
pub const AUTHORIZATION_CODE: &str = "authorization_code";
/// Grant: refresh token.
pub const REFRESH_TOKEN: &str = "refresh_token";
/// Grant: client credentials.
pub const CLIENT_CREDENTIALS: &str = "client_credentials";

/// Client authentication: none (a public client).
pub const AUTH_NONE: &str = "none";
/// Client authentication: HTTP Basic with the secret.
pub const AUTH_BASIC: &str = "client_secret_basic";
/// Client authentication: the secret in the form body.
pub const AUTH_POST: &str = "client_secret_post";
/// Client authentication: a JWT signed with the client's key (RFC 7523).
pub const AUTH_PRIVATE_KEY_JWT: &str = "private_key_jwt";

/// Every token endpoint authentication method the provider supports.
pub const AUTH_METHODS: [&str; 4] = [AUTH_BASIC, AUTH_POST, AUTH_PRIVATE_KEY_JWT, AUTH_NONE];

/// The scopes of the suite's APIs (from the contract's policies) and of OpenID Connect.
pub const OIDC_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "address",
    "phone",
    "offline_access",
    crate::claims::NATIONAL_SCOPE,
];

/// A client as the configuration declares it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientConfig {
    /// Its identifier.
    pub client_id: String,
    /// Name on the consent screen, in Vietnamese.
    pub name: String,
    /// Name in English.
    pub name_en: String,
    /// Its secret; none for a public client or one using `private_key_jwt` only.
    pub secret: Option<String>,
    /// A public client: no secret, PKCE S256 required.
    pub public: bool,
    /// Grants it may use.
    pub grant_types: Vec<String>,
    /// Redirect URIs, compared exactly.
    pub redirect_uris: Vec<String>,
    /// Accept any loopback redirect URI, any port (RFC 8252 §7.3).
    pub loopback_redirects: bool,
    /// Where RP-initiated logout may send the browser back to.
    pub post_logout_redirect_uris: Vec<String>,
    /// Scopes it may be granted.
    pub scopes: Vec<String>,
    /// Token endpoint authentication methods it may use; derived from `public` and `secret`
    /// when empty.
    pub token_endpoint_auth_methods: Vec<String>,
    /// Its public keys for `private_key_jwt`.
    pub jwks: Option<JwkSet>,
    /// The authorization endpoint answers at once with a code for `login_hint`.
    pub auto_approve: bool,
    /// `RS256` or `ES256`.
    pub signing_alg: String,
    /// Access token lifetime, seconds; the provider's default when 0.
    pub access_token_lifetime_seconds: u64,
    /// Which claims `openid` and the other scopes release: `standard` (OpenID Connect) or
    /// `national` (the national SSO's attributes for `openid` alone).
    pub claims_profile: ClaimsProfile,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            client_id: String::new(),
            name: String::new(),
            name_en: String::new(),
            secret: None,
            public: false,
            grant_types: Vec::new(),
            redirect_uris: Vec::new(),
            loopback_redirects: false,
            post_logout_redirect_uris: Vec::new(),
            scopes: Vec::new(),
            token_endpoint_auth_methods: Vec::new(),
            jwks: None,
            auto_approve: false,
            signing_alg: Alg::Rs256.as_str().to_owned(),
            access_token_lifetime_seconds: 0,
            claims_profile: ClaimsProfile::Standard,
        }
    }
}

impl ClientConfig {
    /// Whether it names how it proves itself: as a public client (with nothing), with a secret
    /// or with keys. A confidential client that names neither a secret nor keys cannot.
    pub fn names_credentials(&self) -> bool {
        self.public || self.secret.is_some() || self.jwks.is_some()
    }
}

/// A registered client, checked.
#[derive(Clone, Debug)]
pub struct Client {
    /// As configured.
    pub config: ClientConfig,
    /// The algorithm of its tokens.
    pub alg: Alg,
    /// Authentication methods it may use.
    pub auth_methods: Vec<String>,
    /// Its keys for `private_key_jwt`.
    pub keys: Vec<VerifyingKey>,
}

impl Client {
    /// Its identifier.
    pub fn id(&self) -> &str {
        &self.config.client_id
    }

    /// Whether it may use `grant`.
    pub fn allows_grant(&self, grant: &str) -> bool {
        self.config.grant_types.iter().any(|g| g == grant)
    }

    /// Whether it may be granted `scope`.
    pub fn allows_scope(&self, scope: &str) -> bool {
        self.config.scopes.iter().any(|s| s == scope)
    }

    /// Whether `uri` is one of its redirect URIs, or a loopback one when it takes any. A URI
    /// of an odd form (see [`uri_problem`]) is never one.
    pub fn accepts_redirect(&self, uri: &str) -> bool {
        uri_problem(uri).is_none()
            && (self.config.redirect_uris.iter().any(|r| r == uri)
                || (self.config.loopback_redirects && is_loopback_redirect(uri)))
    }

    /// Whether RP-initiated logout may send the browser to `uri`: one of its post-logout
    /// redirect URIs, or a URI it may be redirected to after a login.
    pub fn accepts_post_logout_redirect(&self, uri: &str) -> bool {
        uri_problem(uri).is_none()
            && (self
                .config
                .post_logout_redirect_uris
                .iter()
                .any(|u| u == uri)
                || self.accepts_redirect(uri))
    }

    /// The claims profile its ID tokens and userinfo follow.
    pub fn claims_profile(&self) -> ClaimsProfile {
        self.config.claims_profile
    }
}

/// Which names a client's ID tokens and userinfo use for the person.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimsProfile {
    /// Standard OpenID Connect: `openid` releases `sub` only; `profile`, `address` and `phone`
    /// release the standard claims; `national_sso` the national names.
    #[default]
    Standard,
    /// As the national SSO answers its relying parties: `openid` alone releases the national
    /// attributes (`SoDinhDanh`, `HoVaTen`, `NgayThangNamSinh`, `LoaiTaiKhoan`, `TechID`,
    /// `loginIdp`); `profile`, `address` and `phone` add the standard claims.
    National,
}

impl ClaimsProfile {
    /// Its name in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimsProfile::Standard => "standard",
            ClaimsProfile::National => "national",
        }
    }
}

/// Why `uri` cannot be a redirect URI (RFC 6749 §3.1.2, RFC 8252 §7.3 and §8.3, RFC 9700
/// §2.1 and §4.1): `None` when it is an absolute `scheme://host[:port]/path[?query]` URI of
/// printable ASCII, with a host and without a userinfo part, a fragment, an empty or
/// zero-led port, percent-encoding in the authority or a `.`/`..` path segment. Every redirect
/// URI is checked by this before it is compared or classified, so that two readings of one
/// URI (a browser's and the provider's) cannot disagree.
pub fn uri_problem(uri: &str) -> Option<&'static str> {
    if uri.is_empty() || uri.len() > 2048 {
        return Some("must be an absolute URI of at most 2048 characters");
    }
    if uri.chars().any(|c| {
        !c.is_ascii_graphic() || matches!(c, '\\' | '"' | '<' | '>' | '^' | '`' | '{' | '|' | '}')
    }) {
        return Some("holds a space, a control, a non-ASCII or a reserved character");
    }
    if uri.contains('#') {
        return Some("has a fragment");
    }
    let Some((scheme, rest)) = uri.split_once("://") else {
        return Some("is not an absolute scheme://host/... URI");
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_lowercase())
        && scheme
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Some("has a scheme that is not lowercase letters, digits, + - or .");
    }
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(authority_end);
    if authority.contains('@') {
        return Some("has a userinfo part (user@host)");
    }
    if authority.contains('%') {
        return Some("has percent-encoding in its host");
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !authority.ends_with(']') => (host, Some(port)),
        _ => (authority, None),
    };
    if host.is_empty() || host.ends_with('.') {
        return Some("has no host, or a host ending in a dot");
    }
    if host.starts_with('[') != host.ends_with(']') {
        return Some("has a malformed IPv6 host");
    }
    if let Some(port) = port
        && (port.is_empty() || port.starts_with('0') || port.parse::<u16>().is_err())
    {
        return Some("has an empty, zero-led or out-of-range port");
    }
    let path = path_and_query.split('?').next().unwrap_or_default();
    if path.split('/').any(|segment| {
        matches!(
            segment.to_ascii_lowercase().as_str(),
            "." | ".." | "%2e" | "%2e%2e" | ".%2e" | "%2e."
        )
    }) {
        return Some("has a . or .. path segment");
    }
    match uri.parse::<http::Uri>() {
        Ok(parsed) if parsed.authority().is_some_and(|a| a.as_str() == authority) => None,
        _ => Some("is not an absolute URI"),
    }
}

/// `http://127.0.0.1:<port>/…`, `http://[::1]:<port>/…` or `http://localhost:<port>/…`,
/// of no odd form (no userinfo, no fragment: [`uri_problem`]; RFC 8252 §7.3, §8.3).
pub fn is_loopback_redirect(uri: &str) -> bool {
    if uri_problem(uri).is_some() {
        return false;
    }
    let Ok(parsed) = uri.parse::<http::Uri>() else {
        return false;
    };
    parsed.scheme_str() == Some("http")
        && parsed.authority().is_some_and(|authority| {
            matches!(authority.host(), "127.0.0.1" | "localhost" | "[::1]")
                && authority.port_u16().is_some()
        })
}

/// Why a client is refused at start.
#[derive(Debug, thiserror::Error)]
#[error("sso client {client_id:?}: {message}")]
pub struct ClientError {
    /// The client.
    pub client_id: String,
    /// What is wrong.
    pub message: String,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Every scope a method of the contract declares, for the admin client.
fn contract_scopes() -> Vec<String> {
    let mut scopes: Vec<String> = sandbox06_proto::DESCRIPTOR_POOL
        .services()
        .flat_map(|service| service.methods().collect::<Vec<_>>())
        .filter_map(|method| {
            let options = method.options();
            let extension = sandbox06_proto::DESCRIPTOR_POOL
                .get_extension_by_name("sandbox06.options.v1.policy")?;
            if !options.has_extension(&extension) {
                return None;
            }
            let value = options.get_extension(&extension);
            let scope = value.as_message()?.get_field_by_name("scope")?;
            scope.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
        })
        .collect();
    scopes.sort();
    scopes.dedup();
    scopes
}

fn confidential(id: &str, name: &str, name_en: &str, scopes: &[&str]) -> ClientConfig {
    ClientConfig {
        client_id: id.to_owned(),
        name: name.to_owned(),
        name_en: name_en.to_owned(),
        secret: Some(format!("{id}-secret")),
        grant_types: strings(&[CLIENT_CREDENTIALS]),
        scopes: strings(scopes),
        ..ClientConfig::default()
    }
}

fn interactive(id: &str, name: &str, name_en: &str, auto_approve: bool) -> ClientConfig {
    let mut scopes: Vec<String> = strings(&OIDC_SCOPES);
    scopes.extend(strings(&["citizen.read", "citizen.verify"]));
    ClientConfig {
        client_id: id.to_owned(),
        name: name.to_owned(),
        name_en: name_en.to_owned(),
        public: true,
        grant_types: strings(&[AUTHORIZATION_CODE, REFRESH_TOKEN]),
        loopback_redirects: true,
        post_logout_redirect_uris: Vec::new(),
        scopes,
        auto_approve,
        ..ClientConfig::default()
    }
}

/// The documented demo clients.
pub fn demo_clients() -> Vec<ClientConfig> {
    let mut admin = confidential(
        "sandbox06-admin",
        "Quản trị sandbox06",
        "sandbox06 administration",
        &[],
    );
    admin.scopes = contract_scopes();
    let mut coach = confidential(
        "demo-coach",
        "Nhà xe khách (demo)",
        "Coach operator (demo)",
        &[
            "citizen.read",
            "citizen.verify",
            "lodging.read",
            "lodging.declare",
        ],
    );
    coach.signing_alg = Alg::Es256.as_str().to_owned();
    // A relying party of the national SSO as the public integrations are: a server-side
    // application with a secret, asking `scope=openid` and reading the national attributes.
    let mut national = interactive(
        "demo-national",
        "Cổng dịch vụ công tỉnh (demo, SSO quốc gia)",
        "Provincial public service portal (demo, national SSO)",
        false,
    );
    national.public = false;
    national.secret = Some("demo-national-secret".to_owned());
    national.claims_profile = ClaimsProfile::National;
    vec![
        national,
        interactive(
            "demo-portal",
            "Cổng dịch vụ công (demo)",
            "Public service portal (demo)",
            false,
        ),
        interactive(
            "demo-ci",
            "Kiểm thử tự động (demo)",
            "Automated tests (demo)",
            true,
        ),
        confidential(
            "demo-hospital",
            "Bệnh viện (demo)",
            "Hospital (demo)",
            &[
                "citizen.read",
                "citizen.verify",
                "citizen.match",
                "lodging.read",
                "lodging.declare",
                "lgsp.exchange",
            ],
        ),
        confidential(
            "demo-notary",
            "Văn phòng công chứng (demo)",
            "Notary office (demo)",
            &["citizen.read", "citizen.verify", "lgsp.exchange"],
        ),
        confidential(
            "demo-police",
            "Công an tỉnh (demo)",
            "Provincial police (demo)",
            &["citizen.read", "citizen.verify", "lgsp.exchange"],
        ),
        confidential(
            "demo-statistics",
            "Cơ quan thống kê (demo)",
            "Statistics office (demo)",
            &["lgsp.exchange"],
        ),
        confidential(
            "demo-hotel",
            "Cơ sở lưu trú (demo)",
            "Hotel (demo)",
            &["citizen.verify", "lodging.read", "lodging.declare"],
        ),
        coach,
        admin,
    ]
}

/// The clients: the demo ones, then the configured ones (a configured client replaces a demo
/// client of the same id).
pub fn registry(configured: &[ClientConfig]) -> Result<BTreeMap<String, Client>, ClientError> {
    let mut all: BTreeMap<String, ClientConfig> = demo_clients()
        .into_iter()
        .map(|c| (c.client_id.clone(), c))
        .collect();
    for client in configured {
        all.insert(client.client_id.clone(), client.clone());
    }
    all.into_values()
        .map(|config| check(config).map(|client| (client.config.client_id.clone(), client)))
        .collect()
}

fn check(config: ClientConfig) -> Result<Client, ClientError> {
    let fail = |message: String| ClientError {
        client_id: config.client_id.clone(),
        message,
    };
    if config.client_id.is_empty()
        || config
            .client_id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ':')
    {
        return Err(fail(
            "client_id must be non-empty, without spaces or ':'".to_owned(),
        ));
    }
    let Some(alg) = Alg::parse(&config.signing_alg) else {
        return Err(fail(format!(
            "signing_alg {:?} is not RS256 or ES256",
            config.signing_alg
        )));
    };
    for grant in &config.grant_types {
        if ![AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS].contains(&grant.as_str()) {
            return Err(fail(format!("grant type {grant:?} is not supported")));
        }
    }
    if config.public && config.secret.is_some() {
        return Err(fail("a public client has no secret".to_owned()));
    }
    if config.public && config.grant_types.iter().any(|g| g == CLIENT_CREDENTIALS) {
        return Err(fail(
            "a public client cannot use client_credentials".to_owned(),
        ));
    }
    for (field, uris) in [
        ("redirect URI", &config.redirect_uris),
        (
            "post-logout redirect URI",
            &config.post_logout_redirect_uris,
        ),
    ] {
        for uri in uris {
            if let Some(problem) = uri_problem(uri) {
                return Err(fail(format!("{field} {uri:?} {problem}")));
            }
        }
    }
    let auth_methods = if config.token_endpoint_auth_methods.is_empty() {
        if !config.names_credentials() {
            return Err(fail(
                "a confidential client needs a secret or jwks".to_owned(),
            ));
        }
        match (config.public, &config.secret, &config.jwks) {
            (true, _, _) => strings(&[AUTH_NONE]),
            (false, Some(_), Some(_)) => strings(&[AUTH_BASIC, AUTH_POST, AUTH_PRIVATE_KEY_JWT]),
            (false, Some(_), None) => strings(&[AUTH_BASIC, AUTH_POST]),
            (false, None, _) => strings(&[AUTH_PRIVATE_KEY_JWT]),
        }
    } else {
        config.token_endpoint_auth_methods.clone()
    };
    for method in &auth_methods {
        let usable = match method.as_str() {
            AUTH_NONE => config.public,
            AUTH_BASIC | AUTH_POST => config.secret.is_some(),
            AUTH_PRIVATE_KEY_JWT => config.jwks.is_some(),
            _ => false,
        };
        if !usable {
            return Err(fail(format!(
                "token endpoint auth method {method:?} is unknown or lacks its secret or keys"
            )));
        }
    }
    let keys = match &config.jwks {
        Some(set) => {
            let keys = set.verifying_keys();
            if keys.len() != set.keys.len() {
                return Err(fail("a key of its jwks does not parse".to_owned()));
            }
            keys
        }
        None => Vec::new(),
    };
    Ok(Client {
        config,
        alg,
        auth_methods,
        keys,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn demo_clients_are_valid_and_documented_ones_exist() {
        let clients = registry(&[]).unwrap();
        for id in [
            "demo-portal",
            "demo-ci",
            "demo-national",
            "demo-hospital",
            "demo-notary",
            "demo-hotel",
            "demo-coach",
            "sandbox06-admin",
        ] {
            assert!(clients.contains_key(id), "{id}");
        }
        assert!(clients["demo-ci"].config.auto_approve);
        let national = &clients["demo-national"];
        assert_eq!(national.claims_profile(), ClaimsProfile::National);
        assert_eq!(
            clients["demo-portal"].claims_profile(),
            ClaimsProfile::Standard
        );
        assert!(!national.config.public && national.auth_methods.iter().any(|m| m == AUTH_BASIC));
        assert_eq!(clients["demo-coach"].alg, Alg::Es256);
        let admin = &clients["sandbox06-admin"];
        for scope in [
            "citizen.verify",
            "population.read",
            "sso.admin",
            "vneid.admin",
        ] {
            assert!(admin.allows_scope(scope), "{scope}");
        }
    }

    #[test]
    fn loopback_redirects_take_any_port_only_on_loopback() {
        assert!(is_loopback_redirect("http://127.0.0.1:51234/callback"));
        assert!(is_loopback_redirect("http://localhost:8080/cb?x=1"));
        assert!(is_loopback_redirect("http://[::1]:9/"));
        assert!(!is_loopback_redirect("https://127.0.0.1:1/cb"));
        assert!(!is_loopback_redirect("http://127.0.0.1/cb"));
        assert!(!is_loopback_redirect("http://evil.example:80/cb"));
        assert!(!is_loopback_redirect("http://localhost:80/cb#frag"));
        assert!(!is_loopback_redirect("http://localhost:80/cb#"));
    }

    #[test]
    fn odd_uris_are_never_loopback_nor_registered() {
        for odd in [
            "http://evil.example@127.0.0.1:80/cb",
            "http://user:pw@localhost:8080/cb",
            "http://@127.0.0.1:80/cb",
            "http://127.0.0.1:80\\@evil.example/cb",
            "http://127.0.0.1:/cb",
            "http://127.0.0.1:080/cb",
            "http://127.0.0.1:99999/cb",
            "http://127.0.0.1:80/a/../cb",
            "http://127.0.0.1:80/cb #x",
            "http://127.0.0.1%2e:80/cb",
            "http://localhost.:80/cb",
            "HTTP://127.0.0.1:80/cb",
            "http:/127.0.0.1:80/cb",
            "//127.0.0.1:80/cb",
            "http://[::1:80/cb",
        ] {
            assert!(uri_problem(odd).is_some(), "{odd}");
            assert!(!is_loopback_redirect(odd), "{odd}");
        }
        let client = &registry(&[ClientConfig {
            client_id: "odd".to_owned(),
            secret: Some("s".to_owned()),
            redirect_uris: vec!["https://rp.example/cb".to_owned()],
            ..ClientConfig::default()
        }])
        .unwrap()["odd"];
        assert!(client.accepts_redirect("https://rp.example/cb"));
        assert!(client.accepts_post_logout_redirect("https://rp.example/cb"));
        assert!(!client.accepts_redirect("https://rp.example/cb#x"));
        assert_eq!(uri_problem("https://rp.example/cb?x=1&y=%20"), None);
        assert_eq!(uri_problem("http://[::1]:9/"), None);
    }

    #[test]
    fn configured_uris_of_odd_forms_are_refused_at_load() {
        for (redirect, post_logout) in [
            ("http://a@rp.example/cb", "https://rp.example/"),
            ("https://rp.example/cb#x", "https://rp.example/"),
            ("https://rp.example/cb", "https://u@rp.example/"),
            ("https://rp.example/cb", "https://rp.example/#x"),
        ] {
            let client = ClientConfig {
                client_id: "odd".to_owned(),
                secret: Some("s".to_owned()),
                redirect_uris: vec![redirect.to_owned()],
                post_logout_redirect_uris: vec![post_logout.to_owned()],
                ..ClientConfig::default()
            };
            assert!(registry(&[client]).is_err(), "{redirect} {post_logout}");
        }
    }

    #[test]
    fn inconsistent_clients_are_refused() {
        let public_with_secret = ClientConfig {
            client_id: "x".to_owned(),
            public: true,
            secret: Some("s".to_owned()),
            ..ClientConfig::default()
        };
        assert!(registry(&[public_with_secret]).is_err());
        let bad_alg = ClientConfig {
            client_id: "y".to_owned(),
            secret: Some("s".to_owned()),
            signing_alg: "HS256".to_owned(),
            ..ClientConfig::default()
        };
        assert!(registry(&[bad_alg]).is_err());
        let without_credentials = ClientConfig {
            client_id: "z".to_owned(),
            ..ClientConfig::default()
        };
        assert!(!without_credentials.names_credentials());
        let error = registry(&[without_credentials]).unwrap_err();
        assert!(
            error.message.contains("needs a secret or jwks"),
            "{error:?}"
        );
    }
}
