//! Sorted sets: text members, each with a whole-number score, read in score order
//! ([`Store::zadd`](crate::Store::zadd) and the other `z*` operations).
//!
//! Redis keeps a score as a double, exact for whole numbers within ±2^53 only, so both
//! backends keep scores within ±[`MAX_SCORE`] and refuse others (a millisecond time is good
//! for 285,000 years). A range's bounds may be any `i64`: every score kept lies within
//! ±[`MAX_SCORE`], so bounds past it are cut to it, exactly.
//!
//! Members with equal scores are ordered by their bytes, as Redis orders them; a descending
//! range reverses the whole order. In memory a sorted set is a `BTreeSet<(score, member)>`
//! beside a `HashMap<member, score>`; on Redis it is a sorted set (`ZADD`, `ZREM`, `ZCARD`,
//! `ZRANGE … BYSCORE [REV] LIMIT … WITHSCORES`).

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

use crate::StoreError;

/// The largest score a sorted set keeps, and the negative of the smallest: 2^53, past which
/// Redis's doubles skip whole numbers.
pub const MAX_SCORE: i64 = 1 << 53;

/// One member of a sorted set with its score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scored {
    /// The member.
    pub member: String,
    /// Its score.
    pub score: i64,
}

/// Which members of a sorted set a range read returns: scores from `min` to `max`, both
/// inclusive; ascending (score, then member byte order), or descending when `rev`; skipping
/// `offset` of them, then at most `limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScoreRange {
    /// The lowest score returned.
    pub min: i64,
    /// The highest score returned.
    pub max: i64,
    /// Highest score first (and, among equal scores, the last member in byte order first).
    pub rev: bool,
    /// How many of the members in range to skip, in the range's order.
    pub offset: usize,
    /// The most members returned.
    pub limit: usize,
}

impl ScoreRange {
    /// Every score, ascending, the first `limit` members.
    pub fn all(limit: usize) -> Self {
        Self {
            min: i64::MIN,
            max: i64::MAX,
            rev: false,
            offset: 0,
            limit,
        }
    }

    /// The bounds cut to ±[`MAX_SCORE`]; `None` when no score can be in range.
    pub(crate) fn bounds(&self) -> Option<(i64, i64)> {
        let min = self.min.max(-MAX_SCORE);
        let max = self.max.min(MAX_SCORE);
        (min <= max && self.limit > 0).then_some((min, max))
    }
}

/// Refuses a score Redis cannot keep exactly; the message names the score, never the key.
pub(crate) fn check_score(
    backend: &'static str,
    operation: &'static str,
    score: i64,
) -> Result<(), StoreError> {
    if (-MAX_SCORE..=MAX_SCORE).contains(&score) {
        return Ok(());
    }
    Err(StoreError {
        refusal: Some(crate::Refusal::Score),
        ..StoreError::new(
            backend,
            operation,
            format!(
                "sorted-set score {score} is outside ±2^53 ({MAX_SCORE}), the whole numbers a \
                 sorted set keeps exactly"
            ),
        )
    })
}

/// A sorted set in memory.
#[derive(Clone, Debug, Default)]
pub(crate) struct MemoryZset {
    by_score: BTreeSet<(i64, String)>,
    scores: HashMap<String, i64>,
}

impl MemoryZset {
    /// Adds or moves `member`; whether it was new.
    pub(crate) fn add(&mut self, member: &str, score: i64) -> bool {
        match self.scores.insert(member.to_owned(), score) {
            Some(old) => {
                self.by_score.remove(&(old, member.to_owned()));
                self.by_score.insert((score, member.to_owned()));
                false
            }
            None => {
                self.by_score.insert((score, member.to_owned()));
                true
            }
        }
    }

    /// Removes `member`; whether it was there.
    pub(crate) fn remove(&mut self, member: &str) -> bool {
        match self.scores.remove(member) {
            Some(score) => {
                self.by_score.remove(&(score, member.to_owned()));
                true
            }
            None => false,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.scores.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    /// The members in `range`, in its order.
    pub(crate) fn range(&self, range: ScoreRange) -> Vec<Scored> {
        let Some((min, max)) = range.bounds() else {
            return Vec::new();
        };
        // `max + 1` cannot overflow: `max` is at most MAX_SCORE.
        let within = self.by_score.range((
            Bound::Included((min, String::new())),
            Bound::Excluded((max + 1, String::new())),
        ));
        let scored = |(score, member): &(i64, String)| Scored {
            member: member.clone(),
            score: *score,
        };
        if range.rev {
            within
                .rev()
                .skip(range.offset)
                .take(range.limit)
                .map(scored)
                .collect()
        } else {
            within
                .skip(range.offset)
                .take(range.limit)
                .map(scored)
                .collect()
        }
    }
}

/// A score Redis answered, as the whole number it was written as.
pub(crate) fn score_from_redis(score: f64) -> Result<i64, StoreError> {
    // Every score written is a whole number within ±2^53, which a double holds exactly.
    let limit = MAX_SCORE as f64;
    if score.is_finite() && score.fract() == 0.0 && (-limit..=limit).contains(&score) {
        Ok(score as i64)
    } else {
        Err(StoreError::new(
            "redis",
            "zrange",
            "a member's score is not a whole number within ±2^53: the key was not written by \
             this store",
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn members(scored: &[Scored]) -> Vec<(&str, i64)> {
        scored
            .iter()
            .map(|s| (s.member.as_str(), s.score))
            .collect()
    }

    #[test]
    fn ranges_order_by_score_then_member_and_cut_bounds() {
        let mut set = MemoryZset::default();
        assert!(set.add("b", 2));
        assert!(set.add("a", 2));
        assert!(set.add("z", -MAX_SCORE));
        assert!(set.add("top", MAX_SCORE));
        assert!(!set.add("z", 1));
        assert_eq!(set.len(), 4);
        assert_eq!(
            members(&set.range(ScoreRange::all(10))),
            [("z", 1), ("a", 2), ("b", 2), ("top", MAX_SCORE)]
        );
        let rev = ScoreRange {
            min: 2,
            max: i64::MAX,
            rev: true,
            offset: 1,
            limit: 5,
        };
        assert_eq!(members(&set.range(rev)), [("b", 2), ("a", 2)]);
        let empty = ScoreRange {
            min: 3,
            max: 2,
            ..ScoreRange::all(10)
        };
        assert!(set.range(empty).is_empty());
        assert!(set.range(ScoreRange::all(0)).is_empty());
        assert!(set.remove("a"));
        assert!(!set.remove("a"));
        assert_eq!(set.len(), 3);
    }

    #[test]
    fn scores_outside_the_exact_doubles_are_refused() {
        assert!(check_score("memory", "zadd", MAX_SCORE).is_ok());
        assert!(check_score("memory", "zadd", -MAX_SCORE).is_ok());
        let error = check_score("memory", "zadd", MAX_SCORE + 1).unwrap_err();
        assert_eq!(error.refusal, Some(crate::Refusal::Score));
        assert!(error.message.contains("2^53"), "{error}");
        assert_eq!(score_from_redis(12.0), Ok(12));
        assert!(score_from_redis(1.5).is_err());
        assert!(score_from_redis(f64::INFINITY).is_err());
    }
}
