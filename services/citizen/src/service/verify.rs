//! Field-by-field verdicts: what a claim says against what the record holds. Verdicts never
//! reveal the recorded value, only whether the claim agrees with it.

use sandbox06_proto::{
    citizen::{FieldCheck, FieldVerdict, Verdict},
    population as pb, types,
};
use unicode_normalization::UnicodeNormalization;

use sandbox06_proto::dates::date_to_proto;
use sandbox06_vn::{CivilDate, NameComparison, Sex, compare_names, fold_diacritics};

/// Builds the checks of one verification, in request order.
#[derive(Debug, Default)]
pub struct Checks {
    checks: Vec<FieldCheck>,
}

fn check(field: &str, verdict: FieldVerdict, note: &str) -> FieldCheck {
    FieldCheck {
        field: field.to_owned(),
        verdict: verdict as i32,
        note: note.to_owned(),
    }
}

/// The verdict of a claimed name.
pub fn name_verdict(claimed: &str, recorded: &str) -> FieldVerdict {
    // Equal text normalises alike: a match, without normalising it (most bulk claims are the
    // record's own spelling).
    if claimed == recorded {
        return FieldVerdict::Match;
    }
    match compare_names(claimed, recorded) {
        NameComparison::Equal => FieldVerdict::Match,
        NameComparison::EqualIgnoringDiacritics => FieldVerdict::MatchIgnoringDiacritics,
        NameComparison::Different => FieldVerdict::Mismatch,
    }
}

/// The verdict of a claimed date.
pub fn date_verdict(claimed: CivilDate, recorded: Option<&types::Date>) -> FieldVerdict {
    if recorded == Some(&date_to_proto(claimed)) {
        FieldVerdict::Match
    } else {
        FieldVerdict::Mismatch
    }
}

/// The verdict of a claimed sex.
pub fn sex_verdict(claimed: Sex, recorded: i32) -> FieldVerdict {
    let claimed = match claimed {
        Sex::Male => types::Sex::Male,
        Sex::Female => types::Sex::Female,
    };
    if claimed as i32 == recorded {
        FieldVerdict::Match
    } else {
        FieldVerdict::Mismatch
    }
}

const UNIT_WORDS: &[&[&str]] = &[
    &["thành", "phố"],
    &["thị", "xã"],
    &["thị", "trấn"],
    &["đặc", "khu"],
    &["tỉnh"],
    &["huyện"],
    &["quận"],
    &["xã"],
    &["phường"],
    &["tp"],
];

/// An address reduced to its place names: NFC, lowercase, no punctuation, no unit types
/// ("Tỉnh", "Huyện", "Phường"…), so the card's short form and the record's long form compare.
pub fn normalize_address(text: &str) -> String {
    let lowered: String = text.nfc().flat_map(char::to_lowercase).collect();
    let cleaned: String = lowered
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let mut kept = Vec::with_capacity(words.len());
    let mut i = 0;
    'outer: while i < words.len() {
        for unit in UNIT_WORDS {
            if words[i..].starts_with(unit) && i + unit.len() < words.len() {
                i += unit.len();
                continue 'outer;
            }
        }
        kept.push(words[i]);
        i += 1;
    }
    kept.join(" ")
}

/// How a claimed address relates to the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressVerdict {
    /// The current residence, in the current units.
    Current,
    /// The current residence, written in the units before 1 July 2025.
    CurrentInOldUnits,
    /// A previous residence.
    Previous,
    /// Matches only without diacritics.
    IgnoringDiacritics,
    /// Nothing in the record.
    Unknown,
}

/// Compares a claimed address with the record's current and previous residences.
pub fn address_verdict(claimed: &str, record: &pb::Citizen) -> AddressVerdict {
    let claim = normalize_address(claimed);
    let forms = |a: &types::Address| {
        [a.current.as_ref(), a.pre_2025.as_ref()].map(|f| f.map(|f| normalize_address(&f.text)))
    };
    if let Some(address) = &record.permanent_address {
        let [now, old] = forms(address);
        if now.as_deref() == Some(claim.as_str()) {
            return AddressVerdict::Current;
        }
        if old.as_deref() == Some(claim.as_str()) {
            return AddressVerdict::CurrentInOldUnits;
        }
        let folded = fold_diacritics(&claim);
        if [now, old]
            .iter()
            .flatten()
            .any(|f| fold_diacritics(f) == folded)
        {
            return AddressVerdict::IgnoringDiacritics;
        }
    }
    if record
        .previous_addresses
        .iter()
        .any(|a| forms(a).iter().flatten().any(|f| *f == claim))
    {
        return AddressVerdict::Previous;
    }
    AddressVerdict::Unknown
}

impl Checks {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a verdict with an optional note.
    pub fn push(&mut self, field: &str, verdict: FieldVerdict, note: &str) {
        self.checks.push(check(field, verdict, note));
    }

    /// Adds the verdict of a name.
    pub fn name(&mut self, field: &str, claimed: Option<&str>, recorded: &str) {
        match claimed {
            None => self.push(field, FieldVerdict::NotProvided, ""),
            Some(c) => {
                let v = name_verdict(c, recorded);
                let note = if v == FieldVerdict::MatchIgnoringDiacritics {
                    "equal only when diacritics are ignored: check the document"
                } else {
                    ""
                };
                self.push(field, v, note);
            }
        }
    }

    /// Adds the verdict of an old 9-digit CMND number.
    pub fn old_id_number(&mut self, field: &str, claimed: Option<&str>, recorded: &str) {
        let verdict = match claimed {
            None => FieldVerdict::NotProvided,
            Some(c) if c == recorded => FieldVerdict::Match,
            Some(_) => FieldVerdict::Mismatch,
        };
        self.push(field, verdict, "");
    }

    /// Adds the verdict of an address.
    pub fn address(
        &mut self,
        field: &str,
        claimed: Option<&str>,
        record: &pb::Citizen,
    ) -> AddressVerdict {
        let Some(claimed) = claimed else {
            self.push(field, FieldVerdict::NotProvided, "");
            return AddressVerdict::Unknown;
        };
        let v = address_verdict(claimed, record);
        let (verdict, note) = match v {
            AddressVerdict::Current => (FieldVerdict::Match, ""),
            AddressVerdict::CurrentInOldUnits => (
                FieldVerdict::Match,
                "written in the administrative units before 1 July 2025",
            ),
            AddressVerdict::Previous => (
                FieldVerdict::Outdated,
                "a previous permanent residence of the citizen",
            ),
            AddressVerdict::IgnoringDiacritics => (
                FieldVerdict::MatchIgnoringDiacritics,
                "equal only when diacritics are ignored",
            ),
            AddressVerdict::Unknown => (FieldVerdict::Mismatch, ""),
        };
        self.push(field, verdict, note);
        v
    }

    /// The overall verdict, given the citizen's life status and whether a presented card is usable.
    pub fn verdict(&self, life_status: i32, card_usable: bool) -> Verdict {
        overall(
            self.checks.iter().map(|c| c.verdict),
            life_status,
            card_usable,
        )
    }

    /// The checks.
    pub fn into_inner(self) -> Vec<FieldCheck> {
        self.checks
    }
}

/// Combines field verdicts: any mismatch decides, then death, then anything short of a match.
pub fn overall(
    verdicts: impl Iterator<Item = i32>,
    life_status: i32,
    card_usable: bool,
) -> Verdict {
    let mut partial = !card_usable;
    for v in verdicts {
        match FieldVerdict::try_from(v) {
            Ok(FieldVerdict::Mismatch) => return Verdict::Mismatch,
            Ok(FieldVerdict::MatchIgnoringDiacritics | FieldVerdict::Outdated) => partial = true,
            _ => {}
        }
    }
    if life_status == types::LifeStatus::Deceased as i32 {
        Verdict::Deceased
    } else if partial {
        Verdict::PartialMatch
    } else {
        Verdict::Match
    }
}

/// The status of the card issued on `issued`, and how the claim relates to the record's cards.
pub fn card_check(issued: CivilDate, record: &pb::Citizen) -> (FieldVerdict, types::CardStatus) {
    let wanted = Some(date_to_proto(issued));
    if let Some(card) = record.card.as_ref().filter(|c| c.issue_date == wanted) {
        let status =
            types::CardStatus::try_from(card.status).unwrap_or(types::CardStatus::Unspecified);
        return (FieldVerdict::Match, status);
    }
    let previous = record
        .previous_cards
        .iter()
        .any(|c| c.issue_date == wanted && c.r#type != types::CardType::Cmnd as i32);
    if previous {
        (FieldVerdict::Outdated, types::CardStatus::Superseded)
    } else {
        (FieldVerdict::Mismatch, types::CardStatus::Unspecified)
    }
}

/// The status of the citizen's current card, `NONE` when there is none.
pub fn current_card_status(record: &pb::Citizen) -> types::CardStatus {
    record
        .card
        .as_ref()
        .and_then(|c| types::CardStatus::try_from(c.status).ok())
        .unwrap_or(types::CardStatus::None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_and_record_address_forms_compare() {
        let card = "Thôn 1, Xã Phước Hậu, Huyện Ninh Phước, Ninh Thuận";
        let record = "Thôn 1, Xã Phước Hậu, Huyện Ninh Phước, Tỉnh Ninh Thuận";
        assert_eq!(normalize_address(card), normalize_address(record));
        // The short form cards print (crates/vn admin::card_address) against the record's.
        for (short, full) in [
            (
                "Thôn 1, Phước Hậu, Ninh Phước, Ninh Thuận",
                "Thôn 1, Xã Phước Hậu, Huyện Ninh Phước, Tỉnh Ninh Thuận",
            ),
            (
                "Số 5 đường Lê Lợi, Phường 17, Gò Vấp, Hồ Chí Minh",
                "Số 5 đường Lê Lợi, Phường 17, Quận Gò Vấp, Thành phố Hồ Chí Minh",
            ),
            (
                "Tổ 3, Trần Phú, TP. Quảng Ngãi, Quảng Ngãi",
                "Tổ 3, Phường Trần Phú, Thành phố Quảng Ngãi, Tỉnh Quảng Ngãi",
            ),
            (
                "Thôn 1, Phước Hậu, Khánh Hòa",
                "Thôn 1, Xã Phước Hậu, Tỉnh Khánh Hòa",
            ),
        ] {
            assert_eq!(normalize_address(short), normalize_address(full), "{short}");
        }
        assert_eq!(
            normalize_address("Số 12, Phường 1, Quận 3, TP. Hồ Chí Minh"),
            "số 12 1 3 hồ chí minh"
        );
    }

    #[test]
    fn a_mismatch_outweighs_everything() {
        let alive = types::LifeStatus::Alive as i32;
        let m = FieldVerdict::Match as i32;
        assert_eq!(overall([m, m].into_iter(), alive, true), Verdict::Match);
        assert_eq!(
            overall([m, FieldVerdict::Outdated as i32].into_iter(), alive, true),
            Verdict::PartialMatch
        );
        assert_eq!(
            overall([m, FieldVerdict::Mismatch as i32].into_iter(), alive, true),
            Verdict::Mismatch
        );
        assert_eq!(
            overall([m].into_iter(), types::LifeStatus::Deceased as i32, true),
            Verdict::Deceased
        );
        assert_eq!(
            overall([m].into_iter(), alive, false),
            Verdict::PartialMatch
        );
    }
}
