//! Vietnamese identity formats, parsed once into types that cannot hold invalid values: the
//! personal ID number, dates as cards write them, names, the card QR payload, and the
//! administrative units of both eras with their data.
//!
//! Pure: no runtime, no gRPC, no store, no generator.

pub mod admin;
mod citizen_id;
mod date;
mod names;
mod qr;

pub use citizen_id::{CitizenId, Sex};
pub use date::{CivilDate, checked_date, format_ddmmyyyy, parse_ddmmyyyy};
pub use names::{NameComparison, compare_names, fold_diacritics, normalize_name};
pub use qr::CardQr;

/// A malformed input field: which field, and what the caller should fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {description}")]
pub struct FieldError {
    /// The field as the caller named it, e.g. "citizen_id".
    pub field: String,
    /// What is wrong and how to fix it.
    pub description: String,
    /// What kind of field failed.
    pub kind: FieldErrorKind,
}

/// Which family of rules a field broke; the service maps it to a stable error reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldErrorKind {
    /// A personal ID number.
    CitizenId,
    /// A date.
    Date,
    /// A card QR payload.
    QrPayload,
    /// Anything else.
    Other,
}

impl FieldError {
    /// A new field error.
    pub fn new(
        kind: FieldErrorKind,
        field: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
            kind,
        }
    }
}
