//! The authorization code flow on the browser's side: the authorization request, the login
//! form, the consent form. Each step returns an [`AuthorizeOutcome`]; errors about the client
//! or its redirect URI are pages, every other error goes back to the client.

use std::collections::HashMap;
use std::time::Duration;

use sandbox06_jose::random_token;

use crate::claims::{acr_of, level_of_acr};
use crate::clients::{AUTHORIZATION_CODE, Client};
use crate::identity::{LoginError, Proof};
use crate::oauth::errors::OAuthError;
use crate::oauth::outcome::{AuthorizationResponse, AuthorizeOutcome, AuthorizeStep, PageError};
use crate::oauth::records::{CodeRecord, Consent, Grant, PendingAuthorization, Session};
use crate::provider::{Provider, required_level};

/// The sandbox parameter that asks the authorization endpoint to answer at once for
/// `login_hint`, for any client that may use the code flow.
pub const AUTO_APPROVE_PARAM: &str = "sandbox06_auto_approve";

/// How long a user's consent to a client is remembered.
const CONSENT_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// The parameters of a request or form.
pub type Params = HashMap<String, String>;

/// The SHA-256 of a browser cookie, as the waiting requests keep it.
pub fn browser_hash(browser: &str) -> String {
    sandbox06_jose::s256(browser.as_bytes())
}

impl Provider {
    /// The authorization request `params` from a browser with the browser cookie `browser` and
    /// the session cookie `session` when it has them; with its outcome, the new browser
    /// cookie's value when the request is bound to a browser and `browser` is none the
    /// provider made ([`Provider::browser_or_new`]).
    pub async fn authorize(
        &self,
        params: &Params,
        session: Option<&str>,
        browser: Option<&str>,
    ) -> (AuthorizeOutcome, Option<String>) {
        self.authorize_from(params, session, browser)
            .await
            .unwrap_or_else(|outcome| (outcome, None))
    }

    /// [`Provider::authorize`]; `Err` for an outcome that sets no browser cookie.
    async fn authorize_from(
        &self,
        params: &Params,
        session: Option<&str>,
        browser: Option<&str>,
    ) -> Result<(AuthorizeOutcome, Option<String>), AuthorizeOutcome> {
        // Errors about the client or its redirect URI are shown, never redirected.
        let Some(client_id) = params.get("client_id") else {
            return Err(AuthorizeOutcome::Refused(PageError::new(
                "invalid_request",
                "Ứng dụng không cho biết mình là ai (thiếu client_id).",
                "client_id is required",
            )));
        };
        let Some(client) = self.client(client_id) else {
            return Err(AuthorizeOutcome::Refused(PageError::new(
                "invalid_client",
                "Ứng dụng này chưa được đăng ký với hệ thống đăng nhập một lần.",
                format!("unknown client {client_id:?}"),
            )));
        };
        let (redirect_uri, given) = match params.get("redirect_uri") {
            Some(uri) if client.accepts_redirect(uri) => (uri.clone(), true),
            Some(uri) => {
                let why = match crate::clients::uri_problem(uri) {
                    Some(problem) => format!("redirect_uri {uri:?} {problem}"),
                    None => {
                        format!("redirect_uri {uri:?} is not registered for client {client_id:?}")
                    }
                };
                return Err(AuthorizeOutcome::Refused(PageError::new(
                    "invalid_request",
                    "Địa chỉ chuyển hướng (redirect_uri) không được đăng ký cho ứng dụng này, nên không thể gửi kết quả đăng nhập về đó.",
                    why,
                )));
            }
            None if client.config.redirect_uris.len() == 1 => {
                (client.config.redirect_uris[0].clone(), false)
            }
            None => {
                return Err(AuthorizeOutcome::Refused(PageError::new(
                    "invalid_request",
                    "Ứng dụng không cho biết địa chỉ chuyển hướng (thiếu redirect_uri).",
                    "redirect_uri is required",
                )));
            }
        };
        let mut pending = PendingAuthorization {
            client_id: client_id.clone(),
            redirect_uri,
            redirect_uri_given: given,
            scopes: Vec::new(),
            state: params.get("state").cloned(),
            nonce: params.get("nonce").cloned(),
            code_challenge: None,
            login_hint: params.get("login_hint").cloned(),
            min_level: None,
            force_consent: false,
            login: None,
            browser: String::new(),
            form_post: false,
        };
        let (browser, new) = self
            .browser_or_new(browser)
            .await
            .map_err(|error| self.error_redirect(&pending, &error))?;
        pending.browser = browser_hash(&browser);
        let outcome = match self
            .authorize_with(client, params, &mut pending, session)
            .await
        {
            Ok(outcome) => outcome,
            Err(error) => self.error_redirect(&pending, &error),
        };
        Ok((outcome, new.then_some(browser)))
    }

    /// The authorization request once the client and its redirect URI are known: every error
    /// goes back to the client.
    async fn authorize_with(
        &self,
        client: &Client,
        params: &Params,
        pending: &mut PendingAuthorization,
        session: Option<&str>,
    ) -> Result<AuthorizeOutcome, OAuthError> {
        check_request(client, params, pending)?;
        let prompts: Vec<&str> = params
            .get("prompt")
            .map(|p| p.split_whitespace().collect())
            .unwrap_or_default();
        if prompts.contains(&"none") && prompts.len() > 1 {
            return Err(OAuthError::invalid_request(
                "prompt=none cannot be combined with other values",
            ));
        }
        pending.force_consent = prompts.contains(&"consent");
        let max_age: Option<i64> = match params.get("max_age").map(|v| v.parse::<i64>()) {
            None => None,
            Some(Ok(age)) if age >= 0 => Some(age),
            Some(_) => {
                return Err(OAuthError::invalid_request(
                    "max_age must be a non-negative number of seconds",
                ));
            }
        };

        // Headless: a code at once for the hinted citizen, approved in the app.
        let auto = client.config.auto_approve
            || params
                .get(AUTO_APPROVE_PARAM)
                .is_some_and(|v| v == "true" || v == "1");
        if auto && let Some(hint) = pending.login_hint.clone() {
            // No page at all: neither login nor consent.
            let login = self
                .log_in(&hint, Proof::AppApproval)
                .await
                .map_err(|error| login_failure(&error))?;
            self.keep_login(&login, self.lifetimes.session).await?;
            return self.finish(client, pending.clone(), login, true).await;
        }

        // An existing session, unless the client wants a new login.
        let session = match session {
            Some(id) => self.browser_session(id).await?,
            None => None,
        };
        let session = session.filter(|s| {
            !prompts.contains(&"login")
                && max_age.is_none_or(|age| self.now() - s.auth_time <= age)
                && pending
                    .login_hint
                    .as_ref()
                    .is_none_or(|hint| *hint == s.sub)
        });
        match session {
            Some(login) => {
                if prompts.contains(&"none")
                    && (pending.force_consent
                        || !self.consented(client, &login, &pending.scopes).await?)
                {
                    // No page may be shown: consent must already be there.
                    return Err(OAuthError::ConsentRequired(
                        "the user has not consented to these scopes".to_owned(),
                    ));
                }
                self.finish(client, pending.clone(), login, prompts.contains(&"none"))
                    .await
            }
            None if prompts.contains(&"none") => Err(OAuthError::LoginRequired(
                "the user is not logged in and prompt=none forbids asking".to_owned(),
            )),
            None => {
                let id = random_token(24);
                self.save(&id, &*pending, self.lifetimes.pending).await?;
                Ok(AuthorizeOutcome::AuthenticationRequired {
                    request: id,
                    client_id: client.id().to_owned(),
                    hint: pending.login_hint.clone(),
                    failed: None,
                })
            }
        }
    }

    /// The login form of the waiting request `request`, posted from the browser `browser`
    /// (its cookie, when it sent one).
    pub async fn login_form(&self, params: &Params, browser: Option<&str>) -> AuthorizeStep {
        let Some(request_id) = params.get("request") else {
            return AuthorizeOutcome::Refused(PageError::new(
                "invalid_request",
                "Biểu mẫu đăng nhập không hợp lệ.",
                "the login form has no request",
            ))
            .into();
        };
        let pending = match self.waiting(request_id, browser).await {
            Ok(Some(pending)) => pending,
            Ok(None) => {
                return AuthorizeOutcome::Refused(PageError::new(
                    "invalid_request",
                    "Trang đăng nhập này đã hết hạn, hoặc được mở trong trình duyệt khác; hãy bắt đầu lại từ ứng dụng.",
                    "this login page has expired, or was opened in another browser; start again from the application",
                ))
                .into();
            }
            Err(error) => return AuthorizeOutcome::Refused(error.into()).into(),
        };
        let Some(client) = self.client(&pending.client_id) else {
            return AuthorizeOutcome::Refused(PageError::new(
                "invalid_client",
                "Ứng dụng này không còn được đăng ký.",
                "the client is no longer registered",
            ))
            .into();
        };
        let citizen_id = params
            .get("citizen_id")
            .or_else(|| params.get("persona"))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        let secret = params.get("secret").cloned().unwrap_or_default();
        let proof = match params.get("method").map(String::as_str) {
            Some("otp") => Proof::OneTimeCode(secret),
            Some("app") => Proof::AppApproval,
            _ => Proof::Password(secret),
        };
        let login = match self.log_in(&citizen_id, proof).await {
            Ok(login) => login,
            Err(error) => {
                return AuthorizeOutcome::AuthenticationRequired {
                    request: request_id.clone(),
                    client_id: client.id().to_owned(),
                    hint: Some(citizen_id),
                    failed: Some(error),
                }
                .into();
            }
        };
        let started = async {
            // The login is done: the page cannot be posted again.
            self.remove::<PendingAuthorization>(request_id).await?;
            let cookie = self.start_session(&login).await?;
            let outcome = self.finish(client, pending.clone(), login, false).await?;
            Ok::<_, OAuthError>((outcome, cookie))
        };
        match started.await {
            Ok((outcome, cookie)) => AuthorizeStep {
                outcome,
                new_session: Some(cookie),
            },
            Err(error) => self.error_redirect(&pending, &error).into(),
        }
    }

    /// The consent form of the waiting request `request`, posted from the browser `browser`.
    pub async fn consent_form(&self, params: &Params, browser: Option<&str>) -> AuthorizeOutcome {
        let request_id = params.get("request").cloned().unwrap_or_default();
        let pending = match self.waiting(&request_id, browser).await {
            Ok(Some(pending)) => pending,
            Ok(None) => {
                return AuthorizeOutcome::Refused(PageError::new(
                    "invalid_request",
                    "Trang xác nhận chia sẻ thông tin này đã hết hạn, hoặc được mở trong trình duyệt khác; hãy bắt đầu lại từ ứng dụng.",
                    "this consent page has expired, or was opened in another browser; start again from the application",
                ));
            }
            Err(error) => return AuthorizeOutcome::Refused(error.into()),
        };
        let decided = async {
            self.remove::<PendingAuthorization>(&request_id).await?;
            let login = match &pending.login {
                Some(sid) => self.load::<Session>(sid).await?,
                None => None,
            };
            let Some(login) = login else {
                return Ok(AuthorizeOutcome::Refused(PageError::new(
                    "invalid_request",
                    "Chưa có ai đăng nhập cho yêu cầu này.",
                    "nobody is logged in for this request",
                )));
            };
            if params.get("decision").map(String::as_str) != Some("allow") {
                return Err(OAuthError::AccessDenied("the user declined".to_owned()));
            }
            let consent = Consent {
                scopes: pending.scopes.clone(),
            };
            self.save(
                &Consent::id(&pending.client_id, &login.sub),
                &consent,
                CONSENT_LIFETIME,
            )
            .await?;
            self.code_response(&pending, login).await
        };
        match decided.await {
            Ok(outcome) => outcome,
            Err(error) => self.error_redirect(&pending, &error),
        }
    }

    /// The waiting request `id`, when it was started in the browser `browser` (a browser
    /// cookie the provider made).
    async fn waiting(
        &self,
        id: &str,
        browser: Option<&str>,
    ) -> Result<Option<PendingAuthorization>, OAuthError> {
        let browser = self.issued_browser(browser).await?;
        Ok(self
            .load::<PendingAuthorization>(id)
            .await?
            .filter(|pending| browser.is_some_and(|b| browser_hash(b) == pending.browser)))
    }

    fn error_redirect(
        &self,
        pending: &PendingAuthorization,
        error: &OAuthError,
    ) -> AuthorizeOutcome {
        AuthorizeOutcome::ErrorRedirect(AuthorizationResponse::error(pending, &self.issuer, error))
    }

    /// Authenticates the holder of `citizen_id` with `proof`: a new login, not yet stored.
    async fn log_in(&self, citizen_id: &str, proof: Proof) -> Result<Session, LoginError> {
        let login = self.identity.authenticate(citizen_id, proof).await?;
        let person = self.identity.person(&login.account, true).await?;
        Ok(Session {
            sub: login.account.citizen_id.clone(),
            acr: acr_of(login.account.level).map(str::to_owned),
            amr: login.amr,
            auth_time: self.now(),
            sid: random_token(16),
            person,
        })
    }

    /// Whether the user of `login` allowed `client` every one of `scopes`.
    async fn consented(
        &self,
        client: &Client,
        login: &Session,
        scopes: &[String],
    ) -> Result<bool, OAuthError> {
        if client.config.auto_approve {
            return Ok(true);
        }
        let Some(consent) = self
            .load::<Consent>(&Consent::id(client.id(), &login.sub))
            .await?
        else {
            return Ok(false);
        };
        Ok(scopes.iter().all(|s| consent.scopes.contains(s)))
    }

    /// After a login (new or from the session): the level check, consent when needed, the
    /// code.
    async fn finish(
        &self,
        client: &Client,
        mut pending: PendingAuthorization,
        login: Session,
        silent: bool,
    ) -> Result<AuthorizeOutcome, OAuthError> {
        if let Some(min) = pending.min_level {
            let level = login.acr.as_deref().and_then(level_of_acr).unwrap_or(0);
            if level < min {
                return Err(OAuthError::UnmetAuthenticationRequirements(format!(
                    "the account is at VNeID level {level}; the client asked for level {min} or more"
                )));
            }
        }
        let needs_consent = !silent
            && (pending.force_consent || !self.consented(client, &login, &pending.scopes).await?);
        if needs_consent {
            let id = random_token(24);
            let person_name = login.person.full_name.clone();
            pending.login = Some(login.sid);
            self.save(&id, &pending, self.lifetimes.pending).await?;
            return Ok(AuthorizeOutcome::ConsentRequested {
                request: id,
                client_id: client.id().to_owned(),
                person_name,
                scopes: pending.scopes.clone(),
            });
        }
        self.code_response(&pending, login).await
    }

    /// A code for `login`'s grant of `pending`.
    async fn code_response(
        &self,
        pending: &PendingAuthorization,
        login: Session,
    ) -> Result<AuthorizeOutcome, OAuthError> {
        let record = CodeRecord {
            redirect_uri: pending.redirect_uri.clone(),
            redirect_uri_given: pending.redirect_uri_given,
            code_challenge: pending.code_challenge.clone(),
            grant: Grant {
                client_id: pending.client_id.clone(),
                sub: login.sub,
                scopes: pending.scopes.clone(),
                acr: login.acr,
                amr: login.amr,
                auth_time: Some(login.auth_time),
                sid: Some(login.sid),
                gid: random_token(12),
                nonce: pending.nonce.clone(),
            },
        };
        let code = self.new_code(&record).await?;
        Ok(AuthorizeOutcome::Permitted(AuthorizationResponse::code(
            pending,
            &self.issuer,
            code,
        )))
    }
}

/// The error a failed headless login goes back to the client with.
fn login_failure(error: &LoginError) -> OAuthError {
    let (_, en) = error.message();
    match error {
        LoginError::Unavailable(upstream) => OAuthError::upstream(upstream.clone(), en),
        LoginError::InvalidCitizenId => OAuthError::InvalidRequest(en),
        _ => OAuthError::AccessDenied(en),
    }
}

/// Checks what can be redirected back to the client as an error.
fn check_request(
    client: &Client,
    params: &Params,
    pending: &mut PendingAuthorization,
) -> Result<(), OAuthError> {
    match params.get("response_type").map(String::as_str) {
        Some("code") => {}
        Some(other) => {
            return Err(OAuthError::UnsupportedResponseType(format!(
                "response_type {other:?} is not supported; use code"
            )));
        }
        None => return Err(OAuthError::invalid_request("response_type is required")),
    }
    match params.get("response_mode").map(String::as_str) {
        None | Some("query") => {}
        Some("form_post") => pending.form_post = true,
        Some(mode) => {
            return Err(OAuthError::invalid_request(format!(
                "response_mode {mode} is not supported; use query or form_post"
            )));
        }
    }
    if !client.allows_grant(AUTHORIZATION_CODE) {
        return Err(OAuthError::UnauthorizedClient(format!(
            "client {:?} may not use the code flow",
            client.id()
        )));
    }
    let scopes: Vec<String> = params
        .get("scope")
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    if scopes.is_empty() {
        return Err(OAuthError::InvalidScope("scope is required".to_owned()));
    }
    if let Some(denied) = scopes.iter().find(|s| !client.allows_scope(s)) {
        return Err(OAuthError::InvalidScope(format!(
            "client {:?} may not ask for scope {denied:?}",
            client.id()
        )));
    }
    pending.scopes = scopes;
    match (
        params.get("code_challenge"),
        params.get("code_challenge_method").map(String::as_str),
    ) {
        (Some(challenge), Some("S256")) => {
            if !crate::provider::valid_s256_challenge(challenge) {
                return Err(OAuthError::invalid_request(
                    "code_challenge must be a base64url SHA-256: 43 characters of [A-Za-z0-9-_]",
                ));
            }
            pending.code_challenge = Some(challenge.clone());
        }
        (Some(_), Some(other)) => {
            return Err(OAuthError::invalid_request(format!(
                "code_challenge_method {other:?} is not supported; use S256"
            )));
        }
        (Some(_), None) => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method is required and must be S256 (plain is not accepted)",
            ));
        }
        (None, _) if client.config.public => {
            return Err(OAuthError::invalid_request(
                "a public client must send a PKCE code_challenge (S256)",
            ));
        }
        (None, _) => {}
    }
    // Values the provider does not issue ask for nothing it can check (OIDC Core §3.1.2.1:
    // acr_values is a preference); the lowest known level is required.
    pending.min_level = params.get("acr_values").and_then(|v| required_level(v));
    Ok(())
}
