//! The dated rules of the card and of ages (Law on Citizen Identification 2014, Law on Identity 2023).

use time::{Date, Month, macros::date};

/// Chip CCCD cards were issued from this date (mass issuance 2021–2022).
pub const CHIP_CARDS_FROM: Date = date!(2021 - 01 - 15);
/// Căn cước cards replace CCCD from this date.
pub const CAN_CUOC_FROM: Date = date!(2024 - 07 - 01);
/// The reorganised administrative units take effect on this date.
pub const UNITS_2025_FROM: Date = date!(2025 - 07 - 01);
/// Barcode CCCD cards (12 digits, no chip) were issued from this date (Law 59/2014/QH13).
pub const BARCODE_CARDS_FROM: Date = date!(2016 - 01 - 01);
/// The last day barcode CCCD cards were issued: chip cards replaced them from 2021.
pub const BARCODE_CARDS_UNTIL: Date = date!(2020 - 12 - 31);
/// The first day from `day` on which a CCCD could be issued: barcode cards were issued to the
/// end of 2020 ([`BARCODE_CARDS_UNTIL`]) and chip cards from [`CHIP_CARDS_FROM`], none in
/// between.
pub fn cccd_issue_day(day: Date) -> Date {
    if day > BARCODE_CARDS_UNTIL && day < CHIP_CARDS_FROM {
        CHIP_CARDS_FROM
    } else {
        day
    }
}

/// CMND cards were issued until this date, where the province did not issue CCCD yet.
pub const CMND_UNTIL: Date = date!(2021 - 01 - 01);
/// The last day a CMND is valid (Law on Identity 2023 art. 46).
pub const CMND_VALID_UNTIL: Date = date!(2024 - 12 - 31);
/// The VNeID app opened to citizens' registrations.
pub const VNEID_FROM: Date = date!(2022 - 07 - 01);
/// 9-digit CMND numbers were introduced with Decree 05/1999/NĐ-CP.
pub const CMND_FROM: Date = date!(1999 - 06 - 01);
/// The provinces that issued barcode CCCD cards from 1 January 2016, in a pilot of 16
/// (pre-2025 codes): Hà Nội, Quảng Ninh, Vĩnh Phúc, Bắc Ninh, Hải Dương, Hải Phòng, Hưng Yên,
/// Thái Bình, Hà Nam, Nam Định, Ninh Bình, Thanh Hóa, Đà Nẵng, Tây Ninh, TP. Hồ Chí Minh, Cần
/// Thơ. That 16 provinces did is reported; *unconfirmed*: which 16, from public reports
/// without the ministry's decision.
pub const BARCODE_PROVINCES: &[u8] = &[
    1, 22, 26, 27, 30, 31, 33, 34, 35, 36, 37, 38, 48, 72, 79, 92,
];

/// Whether the police of a (pre-2025) province issued barcode CCCD cards.
pub fn issued_barcode_cccd(province: u8) -> bool {
    BARCODE_PROVINCES.contains(&province)
}

/// Where and from when a CMND was issued with 12 digits, the holder's personal ID number
/// (Circular 27/2012/TT-BCA, form of 1 July 2012), among the provinces of
/// [`BARCODE_PROVINCES`]: Hà Nội from 1 April 2014 and TP. Hồ Chí Minh from 7 December 2015,
/// until barcode CCCD cards replaced it ([`BARCODE_CARDS_FROM`]).
pub const TWELVE_DIGIT_CMND: &[(u8, Date)] =
    &[(1, date!(2014 - 04 - 01)), (79, date!(2015 - 12 - 07))];
/// From when the other provinces issued 12-digit CMND cards, until the chip CCCD
/// ([`CMND_UNTIL`]): "2016–2017" as planned in 2014; *unconfirmed*, the start of 2017 taken.
pub const TWELVE_DIGIT_CMND_ELSEWHERE_FROM: Date = date!(2017 - 01 - 01);

/// In the provinces without barcode cards, the share of the CMND cards issued each year from
/// [`TWELVE_DIGIT_CMND_ELSEWHERE_FROM`] that had 12 digits, where every police office of the
/// province could issue them (*assumption*: the 12-digit card needed new equipment, and the
/// 9-digit card went on being issued beside it; a 9-digit CMND issued in Lào Cai in 2017–2020,
/// to a holder born 2003, was seen). Scaled down by the province's share of ethnic minorities
/// ([`twelve_digit_cmnd_share`]).
pub const TWELVE_DIGIT_CMND_SHARES: &[(i32, f64)] =
    &[(2017, 0.35), (2018, 0.55), (2019, 0.7), (2020, 0.8)];

/// The share of the CMND cards issued on `issued` by the police of a (pre-2025) province that
/// had 12 digits, the holder's personal ID number. In the provinces of [`BARCODE_PROVINCES`],
/// all of those issued in Hà Nội from 1 April 2014 and TP. Hồ Chí Minh from 7 December 2015
/// ([`TWELVE_DIGIT_CMND`]) until barcode cards replaced the CMND, none otherwise. Elsewhere
/// none before 2017, then the year's share of [`TWELVE_DIGIT_CMND_SHARES`] times the share of
/// the province's people who are Kinh (`minorities` is the percentage of the others):
/// *assumption*, the mountain provinces, with most of their people in ethnic minorities, stand
/// for the remote districts where the equipment came last.
pub fn twelve_digit_cmnd_share(province: u8, minorities: f64, issued: Date) -> f64 {
    if issued_barcode_cccd(province) {
        let twelve = issued < BARCODE_CARDS_FROM
            && TWELVE_DIGIT_CMND
                .iter()
                .any(|&(p, from)| p == province && issued >= from);
        return if twelve { 1.0 } else { 0.0 };
    }
    if issued < TWELVE_DIGIT_CMND_ELSEWHERE_FROM {
        return 0.0;
    }
    let year_share = TWELVE_DIGIT_CMND_SHARES
        .iter()
        .rev()
        .find(|&&(year, _)| issued.year() >= year)
        .map_or(0.0, |&(_, share)| share);
    year_share * (1.0 - minorities / 100.0).clamp(0.0, 1.0)
}

/// Ages at which a card must be renewed (Law 26/2023 art. 21(1); 14 concerns only a Căn cước
/// issued under 14).
pub const RENEWAL_AGES: [i32; 4] = [CARD_AGE, 25, 40, 60];
/// Age from which a card is required, and a VNeID account of one's own.
pub const CARD_AGE: i32 = 14;
/// Age from which the portrait and fingerprints are taken for a card: a Căn cước issued
/// under 6 has neither (Law 26/2023 art. 23; Circular 16/2024/TT-BCA card form).
pub const BIOMETRICS_AGE: i32 = 6;

/// The same day `years` later; 29 February becomes 28 February in common years.
pub fn add_years(d: Date, years: i32) -> Date {
    let year = d.year() + years;
    Date::from_calendar_date(year, d.month(), d.day())
        .or_else(|_| Date::from_calendar_date(year, Month::February, 28))
        .unwrap_or(d)
}

/// Whether the portrait and fingerprints of a holder born on `birth` were taken for a card
/// issued on `issued`: from 6 years of age only.
pub fn biometrics_taken(birth: Date, issued: Date) -> bool {
    age_on(birth, issued) >= BIOMETRICS_AGE
}

/// Completed years of age on `on`.
pub fn age_on(birth: Date, on: Date) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Expiry of a card issued on `issued` to a holder born on `birth`: the next renewal birthday,
/// skipping one that is less than two years away; no expiry once past 58. A card issued
/// under 12 is valid to 14, one issued from 12 to 14 to 25 (Law 26/2023 art. 21(2)).
pub fn card_expiry(birth: Date, issued: Date) -> Option<Date> {
    for age in RENEWAL_AGES {
        let milestone = add_years(birth, age);
        if issued < milestone {
            if add_years(issued, 2) >= milestone {
                continue;
            }
            return Some(milestone);
        }
    }
    None
}

/// The day a couple's marriage was registered, when the record does not say (no marriage
/// recorded as a life event): drawn from the two ID numbers alone, so both spouses' records
/// agree, between the day both reached marriageable age (Law on Marriage and Family 2014
/// art. 8: men 20, women 18, counted here from 1 July of the birth years) and `reference`,
/// mostly in the first years (*estimate*). `None` when that day is after `reference`.
pub fn marriage_registered_on(
    husband: (u64, i32),
    wife: (u64, i32),
    reference: Date,
) -> Option<Date> {
    let eligible = husband.1.saturating_add(20).max(wife.1.saturating_add(18));
    let from = Date::from_calendar_date(eligible, Month::July, 1).ok()?;
    if from > reference {
        return None;
    }
    let (low, high) = if husband.0 < wife.0 {
        (husband.0, wife.0)
    } else {
        (wife.0, husband.0)
    };
    let mut rng = crate::permutation::Stream::new(&[0x4d41_5252, low, high]);
    let span = (reference - from).whole_days().max(0) as u64 + 1;
    // Three in four within eight years of the eligible day.
    let window = if rng.chance(0.75) {
        span.min(8 * 365)
    } else {
        span
    };
    Some(from + time::Duration::days(rng.below(window) as i64))
}

/// The yearly chance of dying at `age` the generator draws registered deaths with (a Gompertz
/// curve, *estimate*), at most 0.3.
pub fn annual_mortality(age: i32) -> f64 {
    (0.000_03 * (0.097 * f64::from(age)).exp()).min(0.3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_milestones_follow_the_law() {
        let birth = date!(2000 - 08 - 12);
        // Issued at 20: valid to 25.
        assert_eq!(
            card_expiry(birth, date!(2021 - 05 - 20)),
            Some(date!(2025 - 08 - 12))
        );
        // Issued at 23.5 (within two years of 25): valid to 40.
        assert_eq!(
            card_expiry(birth, date!(2024 - 02 - 01)),
            Some(date!(2040 - 08 - 12))
        );
        // Issued at 59: no expiry.
        assert_eq!(
            card_expiry(date!(1962 - 01 - 01), date!(2021 - 06 - 01)),
            None
        );
        assert_eq!(age_on(birth, date!(2026 - 08 - 11)), 25);
        assert_eq!(age_on(birth, date!(2026 - 08 - 12)), 26);
        assert_eq!(add_years(date!(2000 - 02 - 29), 1), date!(2001 - 02 - 28));
    }

    #[test]
    fn a_card_issued_under_14_follows_the_law_on_identity() {
        let birth = date!(2019 - 10 - 02);
        // Issued at 5: valid to 14, no portrait or fingerprints.
        let at_5 = date!(2025 - 02 - 14);
        assert_eq!(card_expiry(birth, at_5), Some(date!(2033 - 10 - 02)));
        assert!(!biometrics_taken(birth, at_5));
        // Issued at 6: the same term, with biometrics.
        assert!(biometrics_taken(birth, date!(2025 - 10 - 02)));
        // Issued at 12 (within two years of 14): valid to 25.
        assert_eq!(
            card_expiry(birth, date!(2031 - 12 - 01)),
            Some(date!(2044 - 10 - 02))
        );
        // Renewed at 14: valid to 25, as for any first card at 14.
        assert_eq!(
            card_expiry(birth, date!(2033 - 10 - 20)),
            Some(date!(2044 - 10 - 02))
        );
    }
}
