//! The draws of fault rules (shares, delays): a small per-thread generator, seeded from the
//! process's random hash keys. Not for secrets; only for spreading faults over calls.

use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

/// A non-zero seed, different per thread and per process.
fn seed() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x5eed);
    hasher.finish() | 1
}

/// The next 64 random bits (xorshift64*).
fn next() -> u64 {
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

/// Uniform in `[0, 1)`.
pub(crate) fn unit() -> f64 {
    // The top 53 bits: every value a double holds exactly.
    (next() >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether a draw falls within `share` (`0 < share ≤ 1`).
pub(crate) fn chance(share: f64) -> bool {
    share >= 1.0 || unit() < share
}

/// Uniform between `min` and `max` (inclusive bounds, `min ≤ max`).
pub(crate) fn uniform(min: Duration, max: Duration) -> Duration {
    min + (max - min).mul_f64(unit())
}

/// Normal around `mean` with deviation `stddev` (Box–Muller), kept within zero and
/// `mean + 10 stddev`.
pub(crate) fn normal(mean: Duration, stddev: Duration) -> Duration {
    let u1 = unit().max(f64::MIN_POSITIVE);
    let u2 = unit();
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    let value = mean.as_secs_f64() + z * stddev.as_secs_f64();
    let ceiling = mean.as_secs_f64() + 10.0 * stddev.as_secs_f64();
    Duration::from_secs_f64(value.clamp(0.0, ceiling))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_stay_within_their_bounds() {
        for _ in 0..10_000 {
            let u = unit();
            assert!((0.0..1.0).contains(&u));
            let d = uniform(Duration::from_millis(10), Duration::from_millis(20));
            assert!(d >= Duration::from_millis(10) && d <= Duration::from_millis(20));
            let n = normal(Duration::from_millis(5), Duration::from_millis(50));
            assert!(n <= Duration::from_millis(505));
        }
        assert!(chance(1.0));
    }

    #[test]
    fn a_share_is_drawn_about_as_often_as_it_says() {
        let hits = (0..20_000).filter(|_| chance(0.25)).count();
        assert!((4_000..6_000).contains(&hits), "{hits}");
    }
}
