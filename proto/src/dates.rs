//! Contract dates (`sandbox06.types.v1.Date`) to and from calendar dates, and protobuf times
//! (`google.protobuf.Timestamp`) to times.

use sandbox06_vn::{CivilDate, FieldError, FieldErrorKind, checked_date};
use time::{Duration, OffsetDateTime};

use crate::types;

/// Converts a contract date, naming `field` in the error.
pub fn date_from_proto(date: &types::Date, field: &str) -> Result<CivilDate, FieldError> {
    checked_date(date.year, date.month, date.day, field)
}

/// Converts to a contract date.
pub fn date_to_proto(date: CivilDate) -> types::Date {
    types::Date {
        year: date.year(),
        month: i32::from(u8::from(date.month())),
        day: i32::from(date.day()),
    }
}

/// Converts a protobuf time, naming `field` in the error: nanos outside 0 to 999,999,999, or
/// seconds that are no time.
pub fn time_from_proto(
    at: &prost_types::Timestamp,
    field: &str,
) -> Result<OffsetDateTime, FieldError> {
    let invalid = |description: String| FieldError::new(FieldErrorKind::Date, field, description);
    if !(0..1_000_000_000).contains(&at.nanos) {
        return Err(invalid(format!(
            "nanos must be 0 to 999999999, got {}",
            at.nanos
        )));
    }
    OffsetDateTime::from_unix_timestamp(at.seconds)
        .map(|time| time + Duration::nanoseconds(i64::from(at.nanos)))
        .map_err(|_| invalid(format!("{} seconds is not a time", at.seconds)))
}

/// Converts to a protobuf time.
pub fn time_to_proto(at: OffsetDateTime) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.unix_timestamp(),
        nanos: i32::try_from(at.nanosecond()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn dates_round_trip() {
        let d = sandbox06_vn::parse_ddmmyyyy("01011990", "d").unwrap();
        assert_eq!(date_from_proto(&date_to_proto(d), "d").unwrap(), d);
        let bad = types::Date {
            year: 2023,
            month: 2,
            day: 29,
        };
        assert_eq!(date_from_proto(&bad, "when").unwrap_err().field, "when");
    }

    #[test]
    fn times_round_trip_and_bad_ones_name_the_field() {
        let at =
            OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap() + Duration::nanoseconds(5);
        assert_eq!(time_from_proto(&time_to_proto(at), "at").unwrap(), at);
        let bad = prost_types::Timestamp {
            seconds: 0,
            nanos: -1,
        };
        assert_eq!(time_from_proto(&bad, "at").unwrap_err().field, "at");
        let never = prost_types::Timestamp {
            seconds: i64::MAX,
            nanos: 0,
        };
        assert!(time_from_proto(&never, "at").is_err());
    }
}
