//! Marriages and households: who is married or divorced, where a household lives, who heads
//! it and who belongs to it. `marriage` decides the couples, `residence` where a household
//! lives, `kin` keeps what one record asks of a citizen's relatives, `head` finds who heads the
//! household a citizen lives in, `members` lists a head's household and `relation` words what
//! each member is to the head.

mod head;
mod kin;
mod marriage;
mod members;
mod relation;
mod residence;

pub(crate) use kin::Kin;

/// Share of families in which the eldest married son keeps his parents' home with his wife
/// and children (*estimate*, see docs/domain.md).
pub const HEIR_AT_HOME: f64 = 0.85;
/// Age from which a father hands the headship of the home to the son who keeps it.
pub const HANDOVER_AGE: i32 = 75;
/// Share of couples on their own whose household the wife heads (*estimate*).
pub const WIFE_HEADS: f64 = 0.15;
/// Share of single or divorced adults under 30 who live with a parent (*estimate*).
pub const STAYS_UNDER_30: f64 = 0.9;
/// Share of single or divorced adults from 30 who live with a parent (*estimate*).
pub const STAYS_FROM_30: f64 = 0.6;
