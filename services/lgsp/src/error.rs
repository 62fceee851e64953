//! The platform's own error reasons, the failures of its logic, and their one mapping to the
//! suite's error model. Every refusal is also written to the audit log under its reason.

use sandbox06_runtime::{
    ApiError, ErrorReason, Reason,
    error::{UpstreamFailure, reason_of},
};
use sandbox06_store::StoreError;
use sandbox06_vn::FieldError;
use tonic::{Code, Status};

/// Why a platform call failed, beyond the generic reasons of the runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LgspReason {
    /// The caller's client is no consumer of the platform.
    ConsumerNotRegistered,
    /// No data service has the code.
    ServiceNotFound,
    /// The typed request is not the service's.
    RequestMismatch,
    /// The consumer has no agreement for the service.
    NoAgreement,
    /// No agreement of the consumer for the service is in force today.
    AgreementExpired,
    /// Sensitive data asked without a purpose.
    PurposeRequired,
    /// The purpose is not one an agreement names.
    PurposeNotAgreed,
    /// The agreement rests on consent and the data subject gave none in force.
    NoConsent,
    /// Today's quota of the agreement is used.
    QuotaExceeded,
    /// The transaction id was used with another request.
    TransactionReused,
    /// A call of the same transaction is being served.
    TransactionInProgress,
}

/// Every reason the platform owns, in documentation order.
pub const REASONS: &[LgspReason] = &[
    LgspReason::ConsumerNotRegistered,
    LgspReason::ServiceNotFound,
    LgspReason::RequestMismatch,
    LgspReason::NoAgreement,
    LgspReason::AgreementExpired,
    LgspReason::PurposeRequired,
    LgspReason::PurposeNotAgreed,
    LgspReason::NoConsent,
    LgspReason::QuotaExceeded,
    LgspReason::TransactionReused,
    LgspReason::TransactionInProgress,
];

impl ErrorReason for LgspReason {
    fn as_str(&self) -> &'static str {
        match self {
            LgspReason::ConsumerNotRegistered => "CONSUMER_NOT_REGISTERED",
            LgspReason::ServiceNotFound => "SERVICE_NOT_FOUND",
            LgspReason::RequestMismatch => "REQUEST_MISMATCH",
            LgspReason::NoAgreement => "NO_AGREEMENT",
            LgspReason::AgreementExpired => "AGREEMENT_EXPIRED",
            LgspReason::PurposeRequired => "PURPOSE_REQUIRED",
            LgspReason::PurposeNotAgreed => "PURPOSE_NOT_AGREED",
            LgspReason::NoConsent => "NO_CONSENT",
            LgspReason::QuotaExceeded => "QUOTA_EXCEEDED",
            LgspReason::TransactionReused => "TRANSACTION_REUSED",
            LgspReason::TransactionInProgress => "TRANSACTION_IN_PROGRESS",
        }
    }

    fn code(&self) -> Code {
        match self {
            LgspReason::ConsumerNotRegistered
            | LgspReason::NoAgreement
            | LgspReason::AgreementExpired
            | LgspReason::PurposeRequired
            | LgspReason::PurposeNotAgreed
            | LgspReason::NoConsent => Code::PermissionDenied,
            LgspReason::ServiceNotFound => Code::NotFound,
            LgspReason::RequestMismatch => Code::InvalidArgument,
            LgspReason::QuotaExceeded => Code::ResourceExhausted,
            LgspReason::TransactionReused => Code::AlreadyExists,
            LgspReason::TransactionInProgress => Code::Aborted,
        }
    }

    fn when(&self) -> &'static str {
        match self {
            LgspReason::ConsumerNotRegistered => {
                "The caller's single sign-on client is bound to no consumer system of the platform; `metadata.client_id` names it."
            }
            LgspReason::ServiceNotFound => {
                "No data service has the `service_code` (ListDataServices lists them); `metadata.service_code` names it."
            }
            LgspReason::RequestMismatch => {
                "The typed request set is not the one the service takes (or none is set); `metadata.expected` names the field the service reads."
            }
            LgspReason::NoAgreement => {
                "The consumer has no agreement for the service; `metadata.consumer_id` and `metadata.service_code` name them. Audited."
            }
            LgspReason::AgreementExpired => {
                "The consumer's agreements for the service are not in force on the suite's today; `metadata.agreement_id` and `metadata.valid_until` name the latest. Audited."
            }
            LgspReason::PurposeRequired => {
                "A sensitive data service (health, criminal records) was asked without `purpose`; `metadata.agreed` lists the purposes its agreements name. Audited."
            }
            LgspReason::PurposeNotAgreed => {
                "`purpose` is not one the consumer's agreements in force for the service name; `metadata.agreed` lists those. Audited."
            }
            LgspReason::NoConsent => {
                "The agreement rests on the data subject's consent, and the citizen named has no consent in force recorded in VNeID for this consumer, service and purpose (or the request names no citizen); `metadata.agreement_id` names the agreement. Audited."
            }
            LgspReason::QuotaExceeded => {
                "The agreement's daily quota is used for today (Vietnam's day on the suite's clock); `metadata.daily_quota` and `metadata.agreement_id` name it. Audited."
            }
            LgspReason::TransactionReused => {
                "The consumer used this `transaction_id` before with another request; `metadata.transaction_id` names it. The same request again answers the first answer (`replayed`)."
            }
            LgspReason::TransactionInProgress => {
                "A call of the same `transaction_id` is being served right now; retry once it has answered (the retry gets its answer, `replayed`). `metadata.transaction_id` names it."
            }
        }
    }
}

/// Why an exchange or a query failed.
#[derive(Clone, Debug, thiserror::Error)]
pub enum LgspError {
    /// A request field is missing or malformed.
    #[error(transparent)]
    Field(#[from] FieldError),
    /// The caller is no consumer.
    #[error("the client {client_id:?} is bound to no consumer system of the platform")]
    ConsumerNotRegistered {
        /// The client, empty when none.
        client_id: String,
    },
    /// No service has the code.
    #[error("no data service has the code {0:?}; ListDataServices lists them")]
    ServiceNotFound(String),
    /// The request is not the service's.
    #[error("service {service} reads the request field {expected}")]
    RequestMismatch {
        /// The service.
        service: &'static str,
        /// The field it reads.
        expected: &'static str,
    },
    /// No agreement.
    #[error("consumer {consumer_id} has no agreement for {service_code}")]
    NoAgreement {
        /// The consumer.
        consumer_id: String,
        /// The service.
        service_code: String,
    },
    /// No agreement in force.
    #[error(
        "agreement {agreement_id} is in force from {valid_from} to {valid_until}, not today ({today})"
    )]
    AgreementExpired {
        /// The latest agreement.
        agreement_id: String,
        /// Its first day.
        valid_from: String,
        /// Its last day.
        valid_until: String,
        /// The suite's today.
        today: String,
    },
    /// No purpose for sensitive data.
    #[error("{service_code} returns sensitive data: name the purpose (one of: {agreed})")]
    PurposeRequired {
        /// The service.
        service_code: String,
        /// The purposes agreed, comma-separated.
        agreed: String,
    },
    /// A purpose not agreed.
    #[error("purpose {purpose:?} is not agreed for {service_code} (agreed: {agreed})")]
    PurposeNotAgreed {
        /// The purpose asked.
        purpose: String,
        /// The service.
        service_code: String,
        /// The purposes agreed, comma-separated.
        agreed: String,
    },
    /// No consent.
    #[error("{why}")]
    NoConsent {
        /// The agreement that needs it.
        agreement_id: String,
        /// Why, in words.
        why: String,
    },
    /// Quota used.
    #[error("agreement {agreement_id} allows {daily_quota} exchanges a day, all used today")]
    QuotaExceeded {
        /// The agreement.
        agreement_id: String,
        /// Its quota.
        daily_quota: u32,
    },
    /// The transaction id was used with another request.
    #[error(
        "transaction {0:?} was used with another request; a new exchange needs a new transaction id"
    )]
    TransactionReused(String),
    /// A call of the same transaction is being served.
    #[error("transaction {0:?} is being served by another call; retry once it has answered")]
    TransactionInProgress(String),
    /// The provider refused the request itself (a field, a citizen no one is): its answer, as
    /// it gave it.
    #[error("{}", .0.message())]
    ProviderRefused(Status),
    /// The provider failed or could not be reached.
    #[error("{}", UpstreamFailure::classify(.backend, .system, .status))]
    Provider {
        /// Its name in `ErrorInfo.metadata.backend`.
        backend: &'static str,
        /// It, in words.
        system: &'static str,
        /// What it said (logged, never answered).
        status: Status,
    },
    /// The platform's store failed.
    #[error("{STORE_SYSTEM} cannot be reached; retry later")]
    Store(#[from] StoreError),
}

/// The state store, in words.
const STORE_SYSTEM: &str = "the platform's state store (audit log, transactions, quotas)";

impl LgspError {
    /// The reason written to the audit log: the `ErrorInfo.reason` the caller gets.
    pub fn reason(&self) -> String {
        match self {
            LgspError::ProviderRefused(status) => {
                reason_of(status).unwrap_or_else(|| format!("{:?}", status.code()).to_uppercase())
            }
            other => ApiError::from(other.clone()).reason.as_str().to_owned(),
        }
    }
}

impl From<LgspError> for ApiError {
    fn from(e: LgspError) -> Self {
        let message = e.to_string();
        match e {
            LgspError::Field(e) => {
                ApiError::invalid_field(Reason::InvalidArgument, e.field, e.description)
            }
            LgspError::ConsumerNotRegistered { client_id } => {
                ApiError::new(LgspReason::ConsumerNotRegistered, message)
                    .with_metadata("client_id", client_id)
            }
            LgspError::ServiceNotFound(code) => ApiError::new(LgspReason::ServiceNotFound, message)
                .with_metadata("service_code", code),
            LgspError::RequestMismatch { expected, .. } => {
                ApiError::new(LgspReason::RequestMismatch, message.clone())
                    .with_violation(expected, message)
                    .with_metadata("expected", expected)
            }
            LgspError::NoAgreement {
                consumer_id,
                service_code,
            } => ApiError::new(LgspReason::NoAgreement, message)
                .with_metadata("consumer_id", consumer_id)
                .with_metadata("service_code", service_code),
            LgspError::AgreementExpired {
                agreement_id,
                valid_until,
                ..
            } => ApiError::new(LgspReason::AgreementExpired, message)
                .with_metadata("agreement_id", agreement_id)
                .with_metadata("valid_until", valid_until),
            LgspError::PurposeRequired { agreed, .. } => {
                ApiError::new(LgspReason::PurposeRequired, message).with_metadata("agreed", agreed)
            }
            LgspError::PurposeNotAgreed { agreed, .. } => {
                ApiError::new(LgspReason::PurposeNotAgreed, message).with_metadata("agreed", agreed)
            }
            LgspError::NoConsent { agreement_id, .. } => {
                ApiError::new(LgspReason::NoConsent, message)
                    .with_metadata("agreement_id", agreement_id)
            }
            LgspError::QuotaExceeded {
                agreement_id,
                daily_quota,
            } => ApiError::new(LgspReason::QuotaExceeded, message)
                .with_metadata("agreement_id", agreement_id)
                .with_metadata("daily_quota", daily_quota.to_string()),
            LgspError::TransactionReused(t) => {
                ApiError::new(LgspReason::TransactionReused, message)
                    .with_metadata("transaction_id", t)
            }
            LgspError::TransactionInProgress(t) => {
                ApiError::new(LgspReason::TransactionInProgress, message)
                    .with_metadata("transaction_id", t)
            }
            // Answered as the status itself (`From<LgspError> for Status`); this is its reason's
            // nearest generic form.
            LgspError::ProviderRefused(status) => {
                ApiError::new(Reason::InvalidArgument, status.message().to_owned())
            }
            LgspError::Provider {
                backend,
                system,
                status,
            } => UpstreamFailure::from_status(backend, system, &status).into(),
            LgspError::Store(error) => error.into_api_error(STORE_SYSTEM),
        }
    }
}

impl From<LgspError> for Status {
    fn from(e: LgspError) -> Self {
        match e {
            // The provider's own refusal goes back as it came, details and all.
            LgspError::ProviderRefused(status) => status,
            other => ApiError::from(other).into(),
        }
    }
}
