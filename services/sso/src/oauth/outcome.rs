//! What the browser-facing flows decide, as values: the HTTP layer renders them (a page, a
//! redirect, a form post, cookies); the flows build no response.

use crate::identity::LoginError;
use crate::oauth::errors::{OAuthError, description_text};
use crate::oauth::records::PendingAuthorization;

/// An error shown to the user on a page (never redirected: the client or its redirect URI is
/// not trusted, or the page is a form of the provider's own), in Vietnamese and English.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageError {
    /// The OAuth error code.
    pub error: &'static str,
    /// What the user reads first, in Vietnamese.
    pub vi: &'static str,
    /// What is wrong, in English, for a developer.
    pub description: String,
    /// 400; 503 when a system the provider needs does not answer; 500 for its own failure.
    pub status: u16,
}

impl PageError {
    /// A page about a malformed or unacceptable request (400).
    pub fn new(error: &'static str, vi: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            vi,
            description: description.into(),
            status: 400,
        }
    }
}

impl From<OAuthError> for PageError {
    /// The page of an OAuth error: its description, under a Vietnamese sentence for its kind,
    /// with its status.
    fn from(error: OAuthError) -> Self {
        Self {
            error: error.code(),
            vi: crate::pages::error_vi(error.code()),
            description: error.description(),
            status: error.http_status().as_u16(),
        }
    }
}

/// The answer to the client's redirect URI (RFC 6749 §4.1.2), in the response mode asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationResponse {
    /// The client's redirect URI.
    pub redirect_uri: String,
    /// Posted with a form (`response_mode=form_post`) rather than redirected.
    pub form_post: bool,
    /// The parameters: `code` or `error`…, `iss`, `state`.
    pub params: Vec<(&'static str, String)>,
}

impl AuthorizationResponse {
    /// The error `error` for the request `pending`, with its `state` and the issuer.
    pub fn error(pending: &PendingAuthorization, issuer: &str, error: &OAuthError) -> Self {
        let mut params = vec![
            ("error", error.code().to_owned()),
            ("error_description", description_text(&error.description())),
            ("iss", issuer.to_owned()),
        ];
        if let Some(state) = &pending.state {
            params.push(("state", state.clone()));
        }
        Self::to(pending, params)
    }

    /// The code `code` for the request `pending`.
    pub fn code(pending: &PendingAuthorization, issuer: &str, code: String) -> Self {
        let mut params = vec![("code", code), ("iss", issuer.to_owned())];
        if let Some(state) = &pending.state {
            params.push(("state", state.clone()));
        }
        Self::to(pending, params)
    }

    fn to(pending: &PendingAuthorization, params: Vec<(&'static str, String)>) -> Self {
        Self {
            redirect_uri: pending.redirect_uri.clone(),
            form_post: pending.form_post,
            params,
        }
    }
}

/// What the authorization endpoint, the login form and the consent form end with.
#[derive(Clone, Debug)]
pub enum AuthorizeOutcome {
    /// Shown as an error page.
    Refused(PageError),
    /// The user must log in: the login page of the waiting request `request`, with the error
    /// of a failed attempt (401).
    AuthenticationRequired {
        /// The waiting request's id.
        request: String,
        /// The client asking.
        client_id: String,
        /// The ID number to fill in.
        hint: Option<String>,
        /// Why the last attempt failed.
        failed: Option<LoginError>,
    },
    /// The user must allow the client the scopes: the consent page of the waiting request.
    ConsentRequested {
        /// The waiting request's id.
        request: String,
        /// The client asking.
        client_id: String,
        /// Who is logged in.
        person_name: String,
        /// The scopes asked for.
        scopes: Vec<String>,
    },
    /// The code goes to the client.
    Permitted(AuthorizationResponse),
    /// An error goes to the client.
    ErrorRedirect(AuthorizationResponse),
}

/// An authorization step's outcome, and the browser session cookie to set, if a login just
/// made one.
#[derive(Clone)]
pub struct AuthorizeStep {
    /// What to show or send.
    pub outcome: AuthorizeOutcome,
    /// The new browser session cookie's value (a random value of its own, not the login's id).
    pub new_session: Option<String>,
}

impl std::fmt::Debug for AuthorizeStep {
    /// The cookie's value is a credential: it is never written out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizeStep")
            .field("outcome", &self.outcome)
            .field("new_session", &self.new_session.as_ref().map(|_| "…"))
            .finish()
    }
}

impl From<AuthorizeOutcome> for AuthorizeStep {
    fn from(outcome: AuthorizeOutcome) -> Self {
        Self {
            outcome,
            new_session: None,
        }
    }
}

/// What RP-initiated logout ends with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogoutOutcome {
    /// Shown as an error page.
    Refused(PageError),
    /// The user is asked to confirm, on a form bound to this browser.
    ConfirmationRequested {
        /// The waiting logout's id.
        request: String,
        /// The client's names, Vietnamese and English, when known.
        client: Option<(String, String)>,
        /// Who is logged in.
        person_name: String,
    },
    /// The session ended (the cookie is cleared): to the redirect URI (with `state`), or a
    /// page saying so.
    LoggedOut {
        /// Where to send the browser, `state` included.
        redirect: Option<String>,
    },
    /// The user declined: still logged in.
    StillLoggedIn,
}
