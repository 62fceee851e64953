//! What the tests of a country-sized population share: the country and a percentage.

use std::sync::LazyLock;

use sandbox06_world::Country;
use time::macros::date;

/// The country the population tests sample: the default seed, near the default size.
pub fn country() -> &'static Country {
    static C: LazyLock<Country> =
        LazyLock::new(|| Country::new(6, 95_000_000, date!(2026 - 11 - 27)));
    &C
}

/// `part` as a percentage of `whole`.
pub fn share(part: usize, whole: usize) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}
