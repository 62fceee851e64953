//! The old 9-digit identity card number (CMND, Decree 05/1999/NĐ-CP): its first digits name the
//! provincial police that issued it.

/// The CMND prefix of each pre-2025 province (GSO code → prefix). Provinces that shared a police
/// directorate when the ranges were allotted share a prefix. *Unconfirmed*: compiled from
/// secondary public lists, not from the allotting circular; see docs/domain.md.
pub const CMND_PREFIXES: &[(u8, &str)] = &[
    (1, "01"),
    (2, "07"),
    (4, "08"),
    (6, "095"),
    (8, "07"),
    (10, "06"),
    (11, "04"),
    (12, "04"),
    (14, "05"),
    (15, "06"),
    (17, "11"),
    (19, "090"),
    (20, "08"),
    (22, "10"),
    (24, "12"),
    (25, "13"),
    (26, "13"),
    (27, "12"),
    (30, "14"),
    (31, "03"),
    (33, "14"),
    (34, "15"),
    (35, "16"),
    (36, "16"),
    (37, "16"),
    (38, "17"),
    (40, "18"),
    (42, "18"),
    (44, "19"),
    (45, "19"),
    (46, "19"),
    (48, "20"),
    (49, "20"),
    (51, "21"),
    (52, "21"),
    (54, "22"),
    (56, "22"),
    (58, "26"),
    (60, "26"),
    (62, "23"),
    (64, "23"),
    (66, "24"),
    (67, "24"),
    (68, "25"),
    (70, "285"),
    (72, "29"),
    (74, "280"),
    (75, "27"),
    (77, "27"),
    (79, "02"),
    (80, "30"),
    (82, "31"),
    (83, "32"),
    (84, "33"),
    (86, "33"),
    (87, "34"),
    (89, "35"),
    (91, "37"),
    (92, "36"),
    (93, "36"),
    (94, "36"),
    (95, "38"),
    (96, "38"),
];

/// The CMND prefix of the police of a pre-2025 province, `None` for a code no province has.
pub fn cmnd_prefix(province: u8) -> Option<&'static str> {
    CMND_PREFIXES
        .iter()
        .find(|&&(code, _)| code == province)
        .map(|&(_, prefix)| prefix)
}

/// A CMND number of the province's police: its prefix, then `serial` written with the digits
/// that are left (reduced to fit). `None` for a code no province has.
pub fn cmnd_number(province: u8, serial: u64) -> Option<String> {
    let prefix = cmnd_prefix(province)?;
    let width = 9 - prefix.len();
    let serial = serial % 10u64.pow(width as u32);
    Some(format!("{prefix}{serial:0width$}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::ADMIN_UNITS;

    #[test]
    fn every_province_has_a_prefix_and_numbers_have_nine_digits() {
        for p in &ADMIN_UNITS.provinces {
            let number = cmnd_number(p.code, u64::MAX).unwrap();
            assert_eq!(number.len(), 9, "{}", p.name);
            assert!(number.bytes().all(|b| b.is_ascii_digit()));
        }
        assert_eq!(CMND_PREFIXES.len(), 63);
        assert_eq!(cmnd_number(58, 4_123_456).as_deref(), Some("264123456"));
        assert_eq!(cmnd_number(6, 1).as_deref(), Some("095000001"));
        assert_eq!(cmnd_number(3, 1), None);
    }
}
