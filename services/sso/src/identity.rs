//! Who the citizens are: the VNeID mock authenticates them, the population database gives
//! the record behind the claims. Both over gRPC, as the national SSO reaches them.

use std::sync::Arc;

use sandbox06_proto::{
    population::{self as pop, population_service_client::PopulationServiceClient},
    vneid::{self as pb, authenticate_request::Method, vneid_service_client::VneidServiceClient},
};
use sandbox06_runtime::PeerChannel;
use sandbox06_runtime::error::{UpstreamFailure, log_upstream_failure};
use sandbox06_runtime::telemetry::TraceContextInterceptor;
use tonic::{Code, Status, service::interceptor::InterceptedService};
use tonic_types::StatusExt;

use crate::claims::Person;

/// How a holder proves who they are on the login page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Proof {
    /// The account's password.
    Password(String),
    /// A one-time code.
    OneTimeCode(String),
    /// An approval pushed to the app.
    AppApproval,
}

/// Why a login failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// The ID number is not one.
    #[error("not a valid ID number")]
    InvalidCitizenId,
    /// No account has this number.
    #[error("no VNeID account")]
    NoAccount,
    /// Wrong password or code; attempts left before the lock.
    #[error("wrong password or code")]
    WrongCredentials {
        /// Attempts left before the account locks, when known.
        attempts_left: Option<u32>,
    },
    /// Locked after wrong attempts.
    #[error("account locked")]
    Locked,
    /// Closed (the holder died).
    #[error("account closed")]
    Closed,
    /// The holder rejected the approval in the app.
    #[error("approval rejected in the app")]
    Rejected,
    /// VNeID or the population database cannot be reached, or failed to answer. What the
    /// transport or the upstream said is logged, never shown: the text is the suite's own.
    #[error("{0}")]
    Unavailable(UpstreamFailure),
}

/// VNeID, as `ErrorInfo.metadata.backend` and the logs name it.
pub const VNEID: &str = "vneid";
/// VNeID, in words.
const VNEID_SYSTEM: &str = "the VNeID service";
/// The population database, as `ErrorInfo.metadata.backend` and the logs name it.
pub const POPULATION_DB: &str = "population-db";
/// The population database, in words.
const POPULATION_DB_SYSTEM: &str = "the population database";

impl LoginError {
    /// The message the login page shows: Vietnamese, then English.
    pub fn message(&self) -> (String, String) {
        match self {
            LoginError::InvalidCitizenId => (
                "Số định danh cá nhân phải gồm 12 chữ số hợp lệ.".to_owned(),
                "The ID number must be 12 valid digits.".to_owned(),
            ),
            LoginError::NoAccount => (
                "Số định danh này chưa có tài khoản định danh điện tử VNeID.".to_owned(),
                "This ID number has no VNeID account.".to_owned(),
            ),
            LoginError::WrongCredentials { attempts_left } => {
                let left = attempts_left
                    .map(|n| n.to_string())
                    .unwrap_or("?".to_owned());
                (
                    format!("Mật khẩu hoặc mã OTP không đúng. Còn {left} lần thử."),
                    format!("Wrong password or one-time code. {left} attempts left."),
                )
            }
            LoginError::Locked => (
                "Tài khoản đã bị khóa do nhập sai quá 5 lần.".to_owned(),
                "The account is locked after 5 wrong attempts.".to_owned(),
            ),
            LoginError::Closed => (
                "Tài khoản đã bị đóng.".to_owned(),
                "The account is closed.".to_owned(),
            ),
            LoginError::Rejected => (
                "Yêu cầu xác thực đã bị từ chối trên ứng dụng VNeID.".to_owned(),
                "The request was rejected in the VNeID app.".to_owned(),
            ),
            LoginError::Unavailable(upstream) => (
                "Hệ thống định danh tạm thời không phản hồi. Vui lòng thử lại.".to_owned(),
                // Which system, in the suite's words (never the transport's).
                format!("The identity systems do not answer: {upstream}."),
            ),
        }
    }
}

/// Which system a call went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum System {
    Vneid,
    Population,
}

impl System {
    /// Its name in `metadata.backend`, and in words.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            System::Vneid => (VNEID, VNEID_SYSTEM),
            System::Population => (POPULATION_DB, POPULATION_DB_SYSTEM),
        }
    }
}

/// What a failed call to `system` means for a login; any other failure is the suite's one
/// reading of an upstream's failure (logged, masked, named in the suite's words).
fn login_error(system: System, status: &Status) -> LoginError {
    let reason = status
        .get_error_details()
        .error_info()
        .map(|info| (info.reason.clone(), info.metadata.clone()));
    match reason.as_ref().map(|(r, m)| (r.as_str(), m)) {
        Some(("INVALID_CITIZEN_ID", _)) => LoginError::InvalidCitizenId,
        Some(("ACCOUNT_NOT_FOUND", _)) => LoginError::NoAccount,
        Some(("WRONG_CREDENTIALS", metadata)) => LoginError::WrongCredentials {
            attempts_left: metadata.get("attempts_left").and_then(|n| n.parse().ok()),
        },
        Some(("ACCOUNT_LOCKED", _)) => LoginError::Locked,
        Some(("ACCOUNT_CLOSED", _)) => LoginError::Closed,
        Some(("APPROVAL_REJECTED", _)) => LoginError::Rejected,
        _ => match status.code() {
            Code::InvalidArgument => LoginError::InvalidCitizenId,
            Code::NotFound => LoginError::NoAccount,
            _ => {
                let (backend, words) = system.names();
                LoginError::Unavailable(UpstreamFailure::from_status(backend, words, status))
            }
        },
    }
}

/// A successful login.
#[derive(Clone, Debug)]
pub struct Login {
    /// The account.
    pub account: pb::Account,
    /// How it was proven.
    pub amr: Vec<String>,
}

/// How long a login page waits for VNeID's persona list.
const PERSONAS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

type Traced = InterceptedService<PeerChannel, TraceContextInterceptor>;

/// VNeID and the population database over gRPC.
#[derive(Clone, Debug)]
pub struct Identity {
    vneid: VneidServiceClient<Traced>,
    population: PopulationServiceClient<Traced>,
    /// The personas as VNeID lists them, once it has answered.
    personas: Arc<std::sync::OnceLock<Arc<[pb::PersonaAccount]>>>,
}

impl Identity {
    /// Clients over the two channels.
    pub fn new(vneid: impl Into<PeerChannel>, population: impl Into<PeerChannel>) -> Self {
        Self {
            vneid: VneidServiceClient::with_interceptor(vneid.into(), TraceContextInterceptor),
            population: PopulationServiceClient::with_interceptor(
                population.into(),
                TraceContextInterceptor,
            ),
            personas: Arc::default(),
        }
    }

    /// The hand-written personas, for the login page's picker, as VNeID lists them: asked until
    /// it answers, then kept. While VNeID does not answer the picker is empty (the ID number can
    /// still be typed): each page asks once, within a second, and no page waits for another's
    /// attempt.
    pub async fn personas(&self) -> Arc<[pb::PersonaAccount]> {
        if let Some(listed) = self.personas.get() {
            return listed.clone();
        }
        let mut vneid = self.vneid.clone();
        let asked = vneid.list_persona_accounts(pb::ListPersonaAccountsRequest {});
        match tokio::time::timeout(PERSONAS_TIMEOUT, asked).await {
            Ok(Ok(answer)) => {
                let listed: Arc<[pb::PersonaAccount]> = Arc::from(answer.into_inner().personas);
                // Another page may have kept the same list first.
                let _ = self.personas.set(listed.clone());
                listed
            }
            Ok(Err(status)) => {
                log_upstream_failure(VNEID, &status);
                Arc::from([])
            }
            Err(_) => {
                tracing::warn!(backend = VNEID, "the persona list did not come in time");
                Arc::from([])
            }
        }
    }

    /// Authenticates the holder of `citizen_id` with `proof`.
    pub async fn authenticate(&self, citizen_id: &str, proof: Proof) -> Result<Login, LoginError> {
        let method = match proof {
            Proof::Password(password) => Method::Password(password),
            Proof::OneTimeCode(code) => Method::OneTimeCode(code),
            Proof::AppApproval => Method::AppApproval(pb::AppApproval {
                purpose: "Đăng nhập cổng dịch vụ (sandbox06)".to_owned(),
            }),
        };
        let request = pb::AuthenticateRequest {
            citizen_id: citizen_id.to_owned(),
            method: Some(method),
        };
        let response = self
            .vneid
            .clone()
            .authenticate(request)
            .await
            .map_err(|s| login_error(System::Vneid, &s))?
            .into_inner();
        let account = response.account.ok_or_else(|| {
            LoginError::Unavailable(UpstreamFailure::unexpected(
                VNEID,
                VNEID_SYSTEM,
                "it answered an authentication without an account",
            ))
        })?;
        Ok(Login {
            account,
            amr: response.amr,
        })
    }

    /// The account of `citizen_id` as it is now (closed after a death, locked, …).
    pub async fn account(&self, citizen_id: &str) -> Result<pb::Account, LoginError> {
        self.vneid
            .clone()
            .get_account(pb::GetAccountRequest {
                citizen_id: citizen_id.to_owned(),
            })
            .await
            .map_err(|s| login_error(System::Vneid, &s))?
            .into_inner()
            .account
            .ok_or(LoginError::NoAccount)
    }

    /// The person behind `account`: with the permanent address when `with_address`, read with
    /// the population database's address view (the identity fields and the address, not the
    /// full record with relatives and household).
    pub async fn person(
        &self,
        account: &pb::Account,
        with_address: bool,
    ) -> Result<Person, LoginError> {
        if !with_address {
            return Ok(Person::new(account, None));
        }
        let record = self
            .population
            .clone()
            .get_citizen(pop::GetCitizenRequest {
                citizen_id: account.citizen_id.clone(),
                view: pop::RecordView::Address as i32,
            })
            .await
            .map_err(|s| login_error(System::Population, &s))?
            .into_inner()
            .citizen;
        let address = record
            .as_ref()
            .and_then(|c| c.permanent_address.as_ref())
            .and_then(|a| a.current.as_ref());
        Ok(Person::new(account, address))
    }
}

#[cfg(test)]
mod tests {
    use sandbox06_runtime::error::FailureKind;

    use super::*;

    #[test]
    fn a_transport_failure_is_named_in_the_suites_words() {
        let transport = Status::unavailable(
            "error trying to connect: tcp connect error: Connection refused (os error 111)",
        );
        let error = login_error(System::Vneid, &transport);
        let LoginError::Unavailable(failure) = &error else {
            panic!("{error:?}");
        };
        assert_eq!(failure.kind(), FailureKind::Unavailable);
        assert_eq!(failure.backend(), "vneid");
        assert_eq!(
            error.to_string(),
            "the VNeID service cannot be reached; retry later"
        );
        let (vi, en) = error.message();
        for text in [vi, en, error.to_string()] {
            for library in ["tcp connect", "os error", "Unavailable:", "status:"] {
                assert!(!text.contains(library), "{text}");
            }
        }
        let failed = login_error(System::Population, &Status::internal("h2 protocol error"));
        let LoginError::Unavailable(failure) = &failed else {
            panic!("{failed:?}");
        };
        assert_eq!(failure.kind(), FailureKind::Unexpected);
        assert_eq!(failure.backend(), "population-db");
        assert_eq!(
            failed.to_string(),
            "the population database failed: it answered INTERNAL without an error of the suite"
        );
        assert!(!failed.to_string().contains("h2"), "{failed}");
    }
}
