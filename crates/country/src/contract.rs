//! The country's facts in the contract's types, for every mock that serves them.

use sandbox06_proto::{dates::date_to_proto, types};
use sandbox06_vn::CivilDate;
use sandbox06_world::person::Vneid;

/// A VNeID level as the contract writes it.
pub fn vneid_level(level: Vneid) -> types::VneidLevel {
    match level {
        Vneid::None => types::VneidLevel::None,
        Vneid::Level1 => types::VneidLevel::VneidLevel1,
        Vneid::Level2 => types::VneidLevel::VneidLevel2,
    }
}

/// A VNeID account as the contract writes it: its level, and the date it reached it.
pub fn vneid_account(level: Vneid, since: Option<CivilDate>) -> types::VneidAccount {
    types::VneidAccount {
        level: vneid_level(level) as i32,
        activated_on: since.map(date_to_proto),
    }
}
