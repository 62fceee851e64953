//! The country's documents: the cards a citizen holds, and what a card prints (its address and
//! its QR payload).

use sandbox06_vn::{
    CardQr, CitizenId, CivilDate,
    admin::{AdminUnits, Tier, card_address},
    cmnd_number,
};
use time::{Date, Duration};

use crate::{
    Country, S_BARCODE, S_CARD, S_CHILD_CARD, S_CMND, S_CMND_DIGITS, date_max,
    person::{Card, CardKind, CardStanding, CommuneRef, Life, Person, Place},
    rules::{
        self, BARCODE_CARDS_FROM, BARCODE_CARDS_UNTIL, CAN_CUOC_FROM, CARD_AGE, CHIP_CARDS_FROM,
        CMND_UNTIL, UNITS_2025_FROM, add_years, age_on, card_expiry,
    },
};

/// The address as a card issued on `issued` prints it (and its QR code), the short way real
/// cards write it ([`card_address`]): the units in force that day, three tiers before 1 July
/// 2025, two (no district) from then on. The record keeps the full official names.
pub fn printed_address(units: &AdminUnits, place: &Place, issued: CivilDate) -> String {
    match place.commune {
        CommuneRef::Pre2025(i) if issued < UNITS_2025_FROM => {
            let c = &units.communes[i as usize];
            let province = units.province(u16::from(c.province)).map_or("", |p| p.name);
            card_address(
                &place.street,
                &[
                    (c.name, Tier::Commune),
                    (c.district_name, Tier::District),
                    (province, Tier::Province),
                ],
            )
        }
        // A place recorded in the 2025 units has no single old-units form, so a card issued
        // before the reorganisation prints it in the 2025 units too.
        CommuneRef::Pre2025(_) | CommuneRef::Current(_) => {
            let index = match place.commune {
                CommuneRef::Pre2025(i) => units.communes[i as usize].current,
                CommuneRef::Current(j) => j,
            };
            let c = &units.communes_2025[index as usize];
            let province = units.province_2025_name(c.province);
            card_address(
                &place.street,
                &[(c.name, Tier::Commune), (province, Tier::Province)],
            )
        }
    }
}

/// The QR payload printed on the citizen's current card, in the card's own form; `None`
/// without a card, when the current card prints no QR code (a CMND), or for a record computed
/// without addresses ([`crate::View::Basic`]).
pub fn card_qr(country: &Country, p: &Person) -> Option<CardQr> {
    let card = p.current_card()?;
    let form = card.kind.qr_form()?;
    let place = card.printed_address.as_ref()?;
    Some(CardQr {
        citizen_id: p.id,
        old_id_number: p.old_id_number.clone(),
        full_name: p.full_name.clone(),
        date_of_birth: p.date_of_birth,
        sex: p.sex,
        address: printed_address(country.units(), place, card.issued),
        issue_date: card.issued,
        form,
    })
}

/// Share of CMND holders in the provinces that issued barcode CCCD cards
/// ([`rules::BARCODE_PROVINCES`]) who replaced their CMND with one in 2016–2020; those who
/// came of card age then all got one as their first card (*unconfirmed*).
pub const BARCODE_SHARE: f64 = 0.3;
/// Share of barcode CCCD holders who keep it until its renewal date (*unconfirmed*).
pub const BARCODE_KEPT: f64 = 0.5;
/// Share of CMND holders under 60 in 2021 who never took a CCCD (*estimate*).
pub const CMND_KEPT: f64 = 0.005;
/// Share of CMND holders of 60 or more in 2021 who never took a CCCD (*estimate*).
pub const CMND_KEPT_FROM_60: f64 = 0.04;
/// Share of children under 14 on or after 1 July 2024 whose parents apply for a Căn cước
/// before they turn 14, on a day drawn evenly from then to the 14th birthday (*unconfirmed*:
/// the card is issued on application, Law 26/2023 art. 19(3); no count is published).
pub const CHILD_CARD_SHARE: f64 = 0.08;

impl Country {
    /// The day a Căn cước was issued to the citizen as a child under 14, on the
    /// parents' application, for [`CHILD_CARD_SHARE`] of those under 14 since 1 July 2024.
    fn child_card(&self, id: CitizenId, birth: Date) -> Option<Date> {
        let fourteen = add_years(birth, CARD_AGE);
        let from = date_max(birth, CAN_CUOC_FROM);
        let mut rng = self.stream(S_CHILD_CARD, id);
        (from < fourteen && rng.chance(CHILD_CARD_SHARE)).then(|| {
            let span = (fourteen - from).whole_days().max(1) as u64;
            from + Duration::days(rng.below(span) as i64)
        })
    }

    pub(crate) fn cards(
        &self,
        id: CitizenId,
        birth: Date,
        life: Life,
        address: Option<&Place>,
    ) -> (Vec<Card>, Option<String>) {
        let mut rng = self.stream(S_CARD, id);
        let until = match life {
            Life::Alive => self.reference,
            Life::Deceased(d) => d,
        };
        let fourteen = add_years(birth, CARD_AGE);
        let mut cards: Vec<Card> = Vec::new();
        // In the provinces that issued them, a barcode CCCD (2016–2020) is the first card of
        // those who came of card age then, and replaced the CMND of some of the others; about
        // half of them keep it until its renewal date instead of taking a chip card in
        // 2021–2022. Those provinces issued no CMND from 2016, the others until 2020.
        let mut barcode_rng = self.stream(S_BARCODE, id);
        let pilot = rules::issued_barcode_cccd(id.province_code() as u8);
        let first_card = fourteen >= BARCODE_CARDS_FROM;
        let barcode_from = date_max(fourteen, BARCODE_CARDS_FROM);
        // Barcode cards were issued to the end of 2020: one who came of card age too late in
        // 2020 to get one waited for the chip cards of 2021.
        let barcode = (pilot
            && barcode_from <= BARCODE_CARDS_UNTIL
            && (first_card || barcode_rng.chance(BARCODE_SHARE)))
        .then(|| {
            let span = if first_card {
                180
            } else {
                (BARCODE_CARDS_UNTIL - barcode_from).whole_days().max(0) as u64 + 1
            };
            let issued = barcode_from + Duration::days(barcode_rng.below(span) as i64);
            (issued, barcode_rng.chance(BARCODE_KEPT))
        })
        .filter(|&(issued, _)| issued <= BARCODE_CARDS_UNTIL && issued <= until);
        let cmnd_end = if pilot {
            BARCODE_CARDS_FROM
        } else {
            CMND_UNTIL
        };
        let mut old_id = None;
        let mut cmnd_only = false;
        if fourteen < cmnd_end {
            let mut cmnd_rng = self.stream(S_CMND, id);
            let number =
                cmnd_number(id.province_code() as u8, cmnd_rng.next_u64()).unwrap_or_default();
            // 9-digit CMND numbers date from 1999; older holders were re-issued one then. A
            // CMND comes before any CCCD.
            let from = date_max(fourteen, rules::CMND_FROM);
            let until_cmnd = barcode.map_or(cmnd_end, |(b, _)| b.min(cmnd_end));
            let span = (until_cmnd - from).whole_days().clamp(1, 6 * 365) as u64;
            let issued = from + Duration::days(cmnd_rng.below(span) as i64);
            // Where the police issued 12-digit CMND cards, the number is the ID number, and
            // no other "old" number exists.
            let province = id.province_code() as u8;
            let minorities = self
                .units
                .province(u16::from(province))
                .map_or(0.0, |p| p.ethnicities.iter().map(|(_, share)| share).sum());
            let twelve = self
                .stream(S_CMND_DIGITS, id)
                .chance(rules::twelve_digit_cmnd_share(province, minorities, issued));
            let number = if twelve { id.to_string() } else { number };
            if from < until_cmnd && issued <= until && !number.is_empty() {
                cards.push(Card {
                    number: number.clone(),
                    kind: CardKind::Cmnd,
                    issued,
                    expires: Some(add_years(issued, 15).min(rules::CMND_VALID_UNTIL)),
                    standing: CardStanding::Superseded,
                    printed_address: address.cloned(),
                });
                old_id = (!twelve).then_some(number);
                // A few never took a CCCD: mostly the old.
                let keeps = if age_on(birth, CHIP_CARDS_FROM) >= 60 {
                    CMND_KEPT_FROM_60
                } else {
                    CMND_KEPT
                };
                cmnd_only = barcode.is_none() && cmnd_rng.chance(keeps);
            }
        }
        let campaign = if fourteen < CHIP_CARDS_FROM {
            CHIP_CARDS_FROM + Duration::days(rng.below(700) as i64)
        } else {
            fourteen + Duration::days(rng.below(180) as i64)
        };
        let first = match barcode {
            Some((issued, kept)) => {
                let expires = card_expiry(birth, issued);
                cards.push(Card {
                    number: id.to_string(),
                    kind: CardKind::CccdBarcode,
                    issued,
                    expires,
                    standing: CardStanding::Superseded,
                    printed_address: address.cloned(),
                });
                match (kept, expires) {
                    // Renewed at the expiry date (as a chip card from 2021), or never when it
                    // has none.
                    (true, Some(e)) => e + Duration::days(barcode_rng.below(45) as i64),
                    (true, None) => Date::MAX,
                    (false, _) => date_max(campaign, issued + Duration::days(1)),
                }
            }
            None if cmnd_only => Date::MAX,
            None => self.child_card(id, birth).unwrap_or(campaign),
        };
        let mut issued = rules::cccd_issue_day(first);
        while issued <= until {
            let expires = card_expiry(birth, issued);
            cards.push(Card {
                number: id.to_string(),
                kind: CardKind::issued_on(issued),
                issued,
                expires,
                standing: CardStanding::Valid,
                printed_address: address.cloned(),
            });
            let lost = rng
                .chance(0.015)
                .then(|| issued + Duration::days(30 + rng.below(900) as i64));
            let renewal = match expires {
                Some(e) if rng.chance(0.92) => Some(e + Duration::days(rng.below(45) as i64)),
                _ => None,
            };
            let next = match (lost, renewal) {
                (Some(l), Some(r)) => Some(l.min(r)),
                (l, r) => l.or(r),
            };
            match next.map(rules::cccd_issue_day) {
                Some(n) if n <= until => issued = n,
                _ => break,
            }
        }
        // Newest first; the newest card of any kind is the current one, the others superseded.
        cards.sort_by_key(|c| std::cmp::Reverse(c.issued));
        for (i, card) in cards.iter_mut().enumerate() {
            card.standing = if i > 0 {
                CardStanding::Superseded
            } else if matches!(life, Life::Deceased(_)) {
                CardStanding::Revoked
            } else if card.expires.is_some_and(|e| e < self.reference) {
                CardStanding::Expired
            } else {
                CardStanding::Valid
            };
        }
        (cards, old_id)
    }
}
