//! Mapping of the citizen crate's failures to the suite's error model.

use sandbox06_runtime::{ApiError, Reason};

use sandbox06_vn::{FieldError, FieldErrorKind};

/// A field error as the suite's error, with the reason of its kind.
pub fn field_error(e: FieldError) -> ApiError {
    {
        let reason = match e.kind {
            FieldErrorKind::CitizenId => Reason::InvalidCitizenId,
            FieldErrorKind::Date => Reason::InvalidDate,
            FieldErrorKind::QrPayload => Reason::InvalidQrPayload,
            FieldErrorKind::Other => Reason::InvalidArgument,
        };
        ApiError::invalid_field(reason, e.field, e.description)
    }
}

/// A field error as a gRPC status.
pub fn invalid(e: FieldError) -> tonic::Status {
    field_error(e).into()
}

/// No citizen has this number.
pub fn not_found(citizen_id: &str) -> tonic::Status {
    ApiError::new(
        Reason::CitizenNotFound,
        "no citizen has this personal ID number",
    )
    .with_metadata(
        "citizen_id",
        sandbox06_runtime::mask::citizen_id(citizen_id),
    )
    .into()
}
