//! Who may use the admin surface: the operator's choice (`admin.access`) against the caller the
//! edge vouched for.
//!
//! The edge treats the admin's methods as public (no token needed to pass it) but still verifies
//! a token that comes with a call and passes its caller on; this component decides:
//!
//! | `admin.access` | no token | a token with `sandbox06.admin` | any other token |
//! |---|---|---|---|
//! | `open` (default) | allowed | allowed | refused: `PERMISSION_DENIED`, `SCOPE_MISSING` |
//! | `token` | refused: `UNAUTHENTICATED`, `TOKEN_MISSING` | allowed | refused: `PERMISSION_DENIED`, `SCOPE_MISSING` |
//! | `off` | refused: `PERMISSION_DENIED`, `ADMIN_DISABLED` | refused | refused |
//!
//! A relying party's token never reaches the controls: a client that holds one is an
//! integrator's system under test, not the test driving it.

use sandbox06_runtime::caller::Caller;
use sandbox06_runtime::{ApiError, Reason};
use serde::{Deserialize, Serialize};

use crate::error::AdminReason;

/// The scope a token needs to use the admin surface.
pub const ADMIN_SCOPE: &str = "sandbox06.admin";

/// Who may use the admin surface (`admin.access`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Calls without a token, and calls with a token granted [`ADMIN_SCOPE`]: the embedded
    /// sandbox on a developer's machine or in a CI job.
    #[default]
    Open,
    /// Only calls with a token granted [`ADMIN_SCOPE`] (the `sandbox06-admin` client's).
    Token,
    /// No call: the controls are turned off.
    Off,
}

impl Access {
    /// Whether `caller` may use the admin surface; the refusal otherwise.
    pub fn check(self, caller: &Caller) -> Result<(), ApiError> {
        let scoped = caller.has_scope(ADMIN_SCOPE);
        let anonymous = caller.client_id.is_none() && caller.subject.is_none();
        match self {
            Access::Off => Err(ApiError::new(
                AdminReason::AdminDisabled,
                "the admin surface is turned off (admin.access = \"off\")",
            )),
            Access::Open | Access::Token if scoped => Ok(()),
            Access::Open if anonymous => Ok(()),
            Access::Token if anonymous => Err(ApiError::new(
                Reason::TokenMissing,
                format!(
                    "the admin surface needs an access token with the scope {ADMIN_SCOPE} (admin.access = \"token\")"
                ),
            )),
            Access::Open | Access::Token => Err(ApiError::new(
                Reason::ScopeMissing,
                format!(
                    "the admin surface is not for a relying party's token: it needs the scope {ADMIN_SCOPE}"
                ),
            )
            .with_metadata("required_scope", ADMIN_SCOPE)
            .with_metadata("granted", caller.scopes.join(" "))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    fn client(scopes: &[&str]) -> Caller {
        Caller {
            client_id: Some("demo-hospital".to_owned()),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            ..Caller::default()
        }
    }

    fn code(result: Result<(), ApiError>) -> Option<Code> {
        result.err().map(|error| error.code())
    }

    #[test]
    fn each_mode_against_each_kind_of_caller() {
        let anonymous = Caller::anonymous();
        let admin = client(&[ADMIN_SCOPE, "citizen.read"]);
        let relying_party = client(&["citizen.read"]);
        let table = [
            (Access::Open, &anonymous, None),
            (Access::Open, &admin, None),
            (Access::Open, &relying_party, Some(Code::PermissionDenied)),
            (Access::Token, &anonymous, Some(Code::Unauthenticated)),
            (Access::Token, &admin, None),
            (Access::Token, &relying_party, Some(Code::PermissionDenied)),
            (Access::Off, &anonymous, Some(Code::PermissionDenied)),
            (Access::Off, &admin, Some(Code::PermissionDenied)),
        ];
        for (access, caller, expected) in table {
            assert_eq!(
                code(access.check(caller)),
                expected,
                "{access:?} {caller:?}"
            );
        }
    }

    #[test]
    fn a_user_acting_through_a_client_is_not_anonymous() {
        let user = Caller {
            subject: Some("citizen-subject".to_owned()),
            ..Caller::default()
        };
        assert_eq!(
            code(Access::Open.check(&user)),
            Some(Code::PermissionDenied)
        );
    }
}
