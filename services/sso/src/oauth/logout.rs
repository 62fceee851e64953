//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). The session ends at once only
//! when the request proves it comes from a client of this very session (an `id_token_hint`
//! whose `sid` is the login the browser's session names) or when there is no session; otherwise
//! the user is asked, with a form bound to the browser as the login form is, so that a page of
//! another site cannot log anyone out.

use sandbox06_jose::random_token;
use serde_json::Value;

use crate::oauth::authorize::{Params, browser_hash};
use crate::oauth::errors::OAuthError;
use crate::oauth::outcome::{LogoutOutcome, PageError};
use crate::oauth::records::PendingLogout;
use crate::provider::Provider;

/// `uri` with `params` added to its query.
pub fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        query.append_pair(name, value);
    }
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{}", query.finish())
}

impl Provider {
    /// A logout request `params` (a GET, or a POST that is not the confirmation form) from a
    /// browser with the session cookie `session` and the browser cookie `browser` when it has
    /// them; with its outcome, the new browser cookie's value when the confirmation form is
    /// bound to a browser and `browser` is none the provider made
    /// ([`Provider::browser_or_new`]).
    pub async fn logout(
        &self,
        params: &Params,
        session: Option<&str>,
        browser: Option<&str>,
    ) -> (LogoutOutcome, Option<String>) {
        let mut new_browser = None;
        match self
            .logout_with(params, session, browser, &mut new_browser)
            .await
        {
            Ok(outcome) => (outcome, new_browser),
            Err(error) => (LogoutOutcome::Refused(error.into()), None),
        }
    }

    async fn logout_with(
        &self,
        params: &Params,
        session: Option<&str>,
        browser: Option<&str>,
        new_browser: &mut Option<String>,
    ) -> Result<LogoutOutcome, OAuthError> {
        // The hint's claims, from a token this provider signed (expired ones too).
        let hint = match params.get("id_token_hint") {
            Some(hint) => match self.keys.fresh().await.map(|k| k.jwks().verify(hint)) {
                Ok(Ok(verified)) => Some(verified.claims),
                _ => {
                    return Ok(LogoutOutcome::Refused(PageError::new(
                        "invalid_request",
                        "Yêu cầu đăng xuất mang một id_token_hint không do hệ thống này cấp.",
                        "id_token_hint is not a token of this provider",
                    )));
                }
            },
            None => None,
        };
        let hinted_client = hint
            .as_ref()
            .and_then(|claims| claims.get("aud"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let (Some(given), Some(hinted)) = (params.get("client_id"), &hinted_client)
            && given != hinted
        {
            return Ok(LogoutOutcome::Refused(PageError::new(
                "invalid_request",
                "client_id không khớp với id_token_hint.",
                "client_id differs from the audience of id_token_hint",
            )));
        }
        let client = params.get("client_id").cloned().or(hinted_client);
        let client = client.as_deref().and_then(|id| self.client(id));
        let redirect = params.get("post_logout_redirect_uri").cloned();
        if let Some(uri) = &redirect
            && !client.is_some_and(|c| c.accepts_post_logout_redirect(uri))
        {
            let why = match crate::clients::uri_problem(uri) {
                Some(problem) => format!("post_logout_redirect_uri {uri:?} {problem}"),
                None => "post_logout_redirect_uri is not registered for the client".to_owned(),
            };
            return Ok(LogoutOutcome::Refused(PageError::new(
                "invalid_request",
                "Địa chỉ chuyển hướng sau đăng xuất (post_logout_redirect_uri) không được đăng ký cho ứng dụng.",
                why,
            )));
        }
        let state = params.get("state").cloned();
        let login = match session {
            Some(cookie) => self.browser_session(cookie).await?,
            None => None,
        };
        let (Some(cookie), Some(login)) = (session, login) else {
            // Nobody to log out: nothing a forged request could do.
            return Ok(logged_out(redirect.as_deref(), state.as_deref()));
        };
        let hint_is_this_session = hint.as_ref().is_some_and(|claims| {
            claims.get("sid").and_then(Value::as_str) == Some(login.sid.as_str())
                && claims.get("sub").and_then(Value::as_str) == Some(login.sub.as_str())
        });
        if hint_is_this_session {
            self.end_session(cookie).await?;
            return Ok(logged_out(redirect.as_deref(), state.as_deref()));
        }
        // Ask the user, on a form only this browser can post.
        let (browser, new) = self.browser_or_new(browser).await?;
        let pending = PendingLogout {
            post_logout_redirect_uri: redirect,
            state,
            browser: browser_hash(&browser),
        };
        let id = random_token(24);
        self.save(&id, &pending, self.lifetimes.pending).await?;
        *new_browser = new.then_some(browser);
        Ok(LogoutOutcome::ConfirmationRequested {
            request: id,
            client: client.map(|c| (c.config.name.clone(), c.config.name_en.clone())),
            person_name: login.person.full_name,
        })
    }

    /// The answer `decision` of the logout confirmation form of the waiting logout `id`,
    /// posted from the browser `browser` (a browser cookie the provider made) with the session
    /// cookie `session`.
    pub async fn confirmed_logout(
        &self,
        id: &str,
        decision: Option<&str>,
        session: Option<&str>,
        browser: Option<&str>,
    ) -> LogoutOutcome {
        let confirmed = async {
            let browser = self.issued_browser(browser).await?;
            let pending = self
                .load::<PendingLogout>(id)
                .await?
                .filter(|pending| browser.is_some_and(|b| browser_hash(b) == pending.browser));
            let Some(pending) = pending else {
                return Ok(LogoutOutcome::Refused(PageError::new(
                    "invalid_request",
                    "Trang xác nhận đăng xuất này đã hết hạn, hoặc được mở trong trình duyệt khác; bạn vẫn đăng nhập.",
                    "this logout page has expired, or was opened in another browser; you are still logged in",
                )));
            };
            self.remove::<PendingLogout>(id).await?;
            if decision != Some("logout") {
                return Ok(LogoutOutcome::StillLoggedIn);
            }
            if let Some(session) = session {
                self.end_session(session).await?;
            }
            Ok(logged_out(
                pending.post_logout_redirect_uri.as_deref(),
                pending.state.as_deref(),
            ))
        };
        confirmed
            .await
            .unwrap_or_else(|error: OAuthError| LogoutOutcome::Refused(error.into()))
    }
}

/// The session ended: to `redirect_uri` (with `state`), or a page saying so.
fn logged_out(redirect_uri: Option<&str>, state: Option<&str>) -> LogoutOutcome {
    LogoutOutcome::LoggedOut {
        redirect: match (redirect_uri, state) {
            (Some(uri), Some(state)) => Some(with_query(uri, &[("state", state)])),
            (Some(uri), None) => Some(uri.to_owned()),
            (None, _) => None,
        },
    }
}
