//! Calendar dates as the card and the QR code write them (ddMMyyyy).

use time::{Date, Month, OffsetDateTime, UtcOffset};

use super::{FieldError, FieldErrorKind};

/// A calendar date (no time zone).
pub type CivilDate = Date;

/// Vietnam's date today (UTC+7, no daylight saving): what "today" means for ages, cards and
/// deadlines when no reference date is configured.
pub fn today_in_vietnam() -> CivilDate {
    let offset = UtcOffset::from_hms(7, 0, 0).unwrap_or(UtcOffset::UTC);
    OffsetDateTime::now_utc().to_offset(offset).date()
}

fn date_error(field: &str, description: String) -> FieldError {
    FieldError::new(FieldErrorKind::Date, field, description)
}

/// Builds a checked date from year, month and day, naming `field` in the error.
pub fn checked_date(year: i32, month: i32, day: i32, field: &str) -> Result<CivilDate, FieldError> {
    if !(1900..=2199).contains(&year) {
        return Err(date_error(
            field,
            format!("year must be between 1900 and 2199, got {year}"),
        ));
    }
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(|| date_error(field, format!("month must be 1–12, got {month}")))?;
    let day_u8 =
        u8::try_from(day).map_err(|_| date_error(field, format!("day must be 1–31, got {day}")))?;
    Date::from_calendar_date(year, month, day_u8).map_err(|_| {
        date_error(
            field,
            format!(
                "{day:02}/{:02}/{year} does not exist: {month} {year} has {} days",
                u8::from(month),
                month.length(year)
            ),
        )
    })
}

/// Parses the QR code's `ddMMyyyy` date.
pub fn parse_ddmmyyyy(text: &str, field: &str) -> Result<CivilDate, FieldError> {
    let t = text.trim();
    if t.len() != 8 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(date_error(
            field,
            format!("must be 8 digits ddMMyyyy, got {}", crate::echo(t)),
        ));
    }
    let num = |r: std::ops::Range<usize>| t[r].parse::<i32>().unwrap_or(-1);
    checked_date(num(4..8), num(2..4), num(0..2), field)
}

/// Formats a date as `ddMMyyyy`.
pub fn format_ddmmyyyy(date: CivilDate) -> String {
    format!(
        "{:02}{:02}{:04}",
        date.day(),
        u8::from(date.month()),
        date.year()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_dates_are_refused_with_the_reason() {
        let e = parse_ddmmyyyy("31022000", "date_of_birth").unwrap_err();
        assert_eq!(e.field, "date_of_birth");
        assert!(
            e.description.contains("31/02/2000 does not exist"),
            "{}",
            e.description
        );
        assert!(parse_ddmmyyyy("2902 2000", "d").is_err());
        assert!(parse_ddmmyyyy("29022000", "d").is_ok());
        assert!(parse_ddmmyyyy("29022001", "d").is_err());
        assert!(
            checked_date(2000, 13, 1, "d")
                .unwrap_err()
                .description
                .contains("month")
        );
        assert!(
            checked_date(1800, 1, 1, "d")
                .unwrap_err()
                .description
                .contains("year")
        );
    }

    #[test]
    fn qr_dates_round_trip() {
        let d = parse_ddmmyyyy("01011990", "d").unwrap();
        assert_eq!(format_ddmmyyyy(d), "01011990");
    }
}
