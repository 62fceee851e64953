//! The VNeID facet: the account the VNeID system holds for a citizen.

use sandbox06_vn::CitizenId;
use time::{Date, Duration};

use crate::{
    Country, S_VNEID, View, date_max,
    person::{Card, Life, Vneid},
    rules::{self, CARD_AGE, age_on},
};

/// A citizen's VNeID account as the VNeID system holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VneidAccount {
    /// Identification level.
    pub level: Vneid,
    /// When the account was activated.
    pub activated_on: Date,
}

impl Country {
    /// The citizen's VNeID account, `None` when the number is no one's or the citizen has
    /// none. It agrees with the population record's VNeID field, without computing the
    /// household, relatives or addresses.
    pub fn vneid_account(&self, id: CitizenId) -> Option<VneidAccount> {
        let (level, activated_on) = self.person(id, View::Basic)?.vneid;
        Some(VneidAccount {
            level,
            activated_on: activated_on?,
        })
        .filter(|account| account.level != Vneid::None)
    }

    /// VNeID account: registering needs the chip of a CCCD or Căn cước card, so an account
    /// opens after the first such card, from the app's launch in July 2022.
    pub(crate) fn vneid(
        &self,
        id: CitizenId,
        birth: Date,
        life: Life,
        cards: &[Card],
    ) -> (Vneid, Option<Date>) {
        let age = age_on(birth, self.reference);
        let first_chip = cards
            .iter()
            .filter(|c| c.kind.has_chip())
            .map(|c| c.issued)
            .min();
        let Some(first_chip) = first_chip.filter(|_| age >= CARD_AGE && life == Life::Alive) else {
            return (Vneid::None, None);
        };
        let mut rng = self.stream(S_VNEID, id);
        let (p2, p1) = if age > 75 { (0.35, 0.15) } else { (0.62, 0.18) };
        let x = rng.unit();
        let level = if x < p2 {
            Vneid::Level2
        } else if x < p2 + p1 {
            Vneid::Level1
        } else {
            return (Vneid::None, None);
        };
        // A card issued under 14 opens no account: the account comes at 14.
        let start = date_max(
            date_max(rules::VNEID_FROM, first_chip),
            rules::add_years(birth, CARD_AGE),
        );
        let span = (self.reference - start).whole_days().max(1) as u64;
        (level, Some(start + Duration::days(rng.below(span) as i64)))
    }
}
