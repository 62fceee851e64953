//! Contract dates (`sandbox06.types.v1.Date`) to and from calendar dates.

use sandbox06_vn::{CivilDate, FieldError, checked_date};

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
}
