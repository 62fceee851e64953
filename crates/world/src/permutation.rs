//! Seeded hashing and keyed permutations: the synthetic country is computed, never stored.

/// SplitMix64's finaliser: a fast, well-mixed 64-bit hash step.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hashes several words into one.
pub fn hash_words(words: &[u64]) -> u64 {
    words
        .iter()
        .fold(0x5EED_0600_0000_0006, |acc, w| mix64(acc ^ w))
}

/// A deterministic stream of random numbers for one purpose of one entity.
#[derive(Debug, Clone)]
pub struct Stream(u64);

impl Stream {
    /// A stream keyed by the given words.
    pub fn new(words: &[u64]) -> Self {
        Stream(hash_words(words))
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// Uniform in `[0, n)`; `n` must be positive.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Picks from `(item, weight)` pairs by weight.
    pub fn weighted<T: Copy>(&mut self, items: &[(T, f64)]) -> T {
        let total: f64 = items.iter().map(|(_, w)| w).sum();
        let mut x = self.unit() * total;
        for (item, w) in items {
            if x < *w {
                return *item;
            }
            x -= w;
        }
        items[items.len() - 1].0
    }

    /// Picks uniformly from a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A keyed bijection on `[0, domain)`: a balanced Feistel network on the smallest even number
/// of bits that covers the domain, with cycle walking to stay inside it.
#[derive(Debug, Clone, Copy)]
pub struct Permutation {
    key: u64,
    half_bits: u32,
    domain: u64,
}

const ROUNDS: u64 = 6;

impl Permutation {
    /// A permutation of `[0, domain)` keyed by `key`; `domain` must be at least 1.
    pub fn new(key: u64, domain: u64) -> Self {
        let bits = 64 - domain.saturating_sub(1).max(1).leading_zeros();
        let half_bits = bits.div_ceil(2).max(1);
        Permutation {
            key,
            half_bits,
            domain,
        }
    }

    fn round(&self, round: u64, half: u64) -> u64 {
        mix64(self.key ^ (round << 58) ^ half) & ((1 << self.half_bits) - 1)
    }

    fn encrypt_block(&self, x: u64) -> u64 {
        let mask = (1 << self.half_bits) - 1;
        let (mut left, mut right) = (x >> self.half_bits, x & mask);
        for r in 0..ROUNDS {
            let next = left ^ self.round(r, right);
            left = right;
            right = next;
        }
        (left << self.half_bits) | right
    }

    fn decrypt_block(&self, y: u64) -> u64 {
        let mask = (1 << self.half_bits) - 1;
        let (mut left, mut right) = (y >> self.half_bits, y & mask);
        for r in (0..ROUNDS).rev() {
            let prev = right ^ self.round(r, left);
            right = left;
            left = prev;
        }
        (left << self.half_bits) | right
    }

    /// The image of `x` (which must be in the domain).
    pub fn apply(&self, x: u64) -> u64 {
        let mut y = self.encrypt_block(x);
        while y >= self.domain {
            y = self.encrypt_block(y);
        }
        y
    }

    /// `x = p.apply(x)` for the values `xs` in runs of one length, one run for each of
    /// `permutations` in order (`xs` holds whole runs): the rounds of independent values run
    /// side by side, not one value's after another's, and so do the cycle walks of the values
    /// an encryption leaves outside their domain (a domain may hold as little as a quarter of
    /// its blocks, so a value is encrypted a few times on average).
    pub fn apply_each(permutations: &[Permutation], xs: &mut [u64]) {
        if permutations.is_empty() {
            return;
        }
        let run = (xs.len() / permutations.len()).max(1);
        let whole = (permutations.len() * run).min(xs.len());
        // A block of values with their permutation's key, half width and domain, and their
        // place in `xs`; those still to encrypt are the first `n`.
        const BLOCK: usize = 64;
        let mut value = [0u64; BLOCK];
        let mut key = [0u64; BLOCK];
        let mut half = [0u32; BLOCK];
        let mut domain = [0u64; BLOCK];
        let mut place = [0usize; BLOCK];
        for start in (0..whole).step_by(BLOCK) {
            let mut n = 0;
            for (i, &x) in xs
                .iter()
                .enumerate()
                .take(whole.min(start + BLOCK))
                .skip(start)
            {
                let p = &permutations[i / run];
                (value[n], key[n], half[n], domain[n], place[n]) =
                    (x, p.key, p.half_bits, p.domain, i);
                n += 1;
            }
            while n > 0 {
                // `encrypt_block` for each, round by round.
                for r in 0..ROUNDS {
                    for j in 0..n {
                        // Kept opaque, so that the values are not packed two to a vector
                        // register, where a 64-bit multiply takes several: scalar, the rounds
                        // of independent values overlap, which is faster.
                        let j = std::hint::black_box(j);
                        let (x, bits) = (value[j], half[j]);
                        let mask = (1 << bits) - 1;
                        let (left, right) = (x >> bits, x & mask);
                        let f = mix64(key[j] ^ (r << 58) ^ right) & mask;
                        value[j] = (right << bits) | (left ^ f);
                    }
                }
                // The values inside their domain are done; the others go round again.
                let mut still = 0;
                for j in 0..n {
                    if value[j] < domain[j] {
                        xs[place[j]] = value[j];
                    } else {
                        (
                            value[still],
                            key[still],
                            half[still],
                            domain[still],
                            place[still],
                        ) = (value[j], key[j], half[j], domain[j], place[j]);
                        still += 1;
                    }
                }
                n = still;
            }
        }
    }

    /// The preimage of `y` (which must be in the domain).
    pub fn invert(&self, y: u64) -> u64 {
        let mut x = self.decrypt_block(y);
        while x >= self.domain {
            x = self.decrypt_block(x);
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_is_a_bijection_with_an_inverse() {
        for domain in [1u64, 2, 7, 1000, 1_000_000 / 97] {
            let p = Permutation::new(42, domain);
            let mut seen = vec![false; domain as usize];
            for x in 0..domain {
                let y = p.apply(x);
                assert!(y < domain);
                assert!(!seen[y as usize]);
                seen[y as usize] = true;
                assert_eq!(p.invert(y), x);
            }
        }
    }

    #[test]
    fn permuting_side_by_side_gives_what_one_at_a_time_gives() {
        // Domains of about a quarter of their blocks walk long cycles; more than 64 values
        // are walked 64 at a time.
        for (domain, keys, run) in [
            (1u64, 1, 1),
            (240, 32, 1),
            (1440, 32, 4),
            (1_000_003, 5, 7),
            (1100, 32, 4),
            (257, 40, 3),
        ] {
            let permutations: Vec<Permutation> = (0..keys)
                .map(|k| Permutation::new(mix64(k * 31 + domain), domain))
                .collect();
            let mut xs: Vec<u64> = (0..keys * run).map(|i| mix64(i) % domain).collect();
            let expected: Vec<u64> = xs
                .iter()
                .enumerate()
                .map(|(i, &x)| permutations[i / run as usize].apply(x))
                .collect();
            Permutation::apply_each(&permutations, &mut xs);
            assert_eq!(xs, expected, "domain {domain}");
        }
    }

    #[test]
    fn streams_are_deterministic() {
        let mut a = Stream::new(&[1, 2, 3]);
        let mut b = Stream::new(&[1, 2, 3]);
        let mut c = Stream::new(&[1, 2, 4]);
        let (x, y, z) = (a.next_u64(), b.next_u64(), c.next_u64());
        assert_eq!(x, y);
        assert_ne!(x, z);
        assert!(a.below(10) < 10);
    }
}
