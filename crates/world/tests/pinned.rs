//! Generated records are pinned: a fingerprint of the records of a sample of citizens, full
//! and basic, in two countries. Work on how records are computed (speed, memory) must leave
//! every one of them as it was; a change to what the country *is* updates the fingerprints
//! here, in the same commit, and says so.

#![allow(clippy::unwrap_used)]

use sandbox06_world::{Country, View};
use time::macros::date;

/// FNV-1a, 64 bits: a fingerprint that no Rust release changes.
#[derive(Default)]
struct Fnv(u64);

impl std::fmt::Write for Fnv {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for b in s.bytes() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3);
        }
        Ok(())
    }
}

/// The fingerprint of the `view` records of `n` citizens spread over the whole country, with
/// each one's parents and whether the first and each citizen may marry.
fn fingerprint(country: &Country, n: u64, view: View) -> u64 {
    use std::fmt::Write;
    let mut h = Fnv(0xCBF2_9CE4_8422_2325);
    let step = country.population() / n;
    let first = country.citizen_at(0).unwrap();
    for i in 0..n {
        let id = country.citizen_at(i * step).unwrap();
        let person = country.person(id, view).unwrap();
        write!(h, "{person:?}").unwrap();
        if view == View::Full {
            write!(
                h,
                "{:?}{}",
                country.parents(id),
                country.of_one_blood_ids(first, id)
            )
            .unwrap();
        }
    }
    h.0
}

/// The country `sandbox06 up` serves by default, and a small one of another seed on a leap day.
fn countries() -> (Country, Country) {
    (
        Country::new(6, 100_000_000, date!(2026 - 11 - 27)),
        Country::new(7, 200_000, date!(2028 - 02 - 29)),
    )
}

#[test]
fn full_records_are_as_pinned() {
    let (large, small) = countries();
    assert_eq!(
        [
            fingerprint(&large, 10_000, View::Full),
            fingerprint(&small, 5_000, View::Full)
        ],
        [4_757_439_684_277_770_566, 7_980_161_332_275_757_266]
    );
}

#[test]
fn basic_records_are_as_pinned() {
    let (large, small) = countries();
    assert_eq!(
        [
            fingerprint(&large, 20_000, View::Basic),
            fingerprint(&small, 10_000, View::Basic)
        ],
        [11_084_709_925_351_024_046, 12_040_043_415_663_452_405]
    );
}
