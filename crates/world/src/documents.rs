//! What the country's documents print: the card's address and its QR payload.

use sandbox06_vn::{
    CardQr, CivilDate,
    admin::{AdminUnits, join_address},
};

use crate::{
    Country,
    person::{CommuneRef, Person, Place},
    rules::UNITS_2025_FROM,
};

/// The address as a card issued on `issued` prints it (and its QR code): the units in force
/// that day, province without its unit type.
pub fn printed_address(units: &AdminUnits, place: &Place, issued: CivilDate) -> String {
    let strip = |name: &str| name.strip_prefix("Tỉnh ").unwrap_or(name).to_owned();
    match place.commune {
        CommuneRef::Pre2025(i) if issued < UNITS_2025_FROM => {
            let c = &units.communes[i as usize];
            let province = units
                .province(u16::from(c.province))
                .map_or(String::new(), |p| strip(p.name));
            join_address(&[&place.street, c.name, c.district_name, &province])
        }
        // A place recorded in the 2025 units has no single old-units form, so a card issued
        // before the reorganisation prints it in the 2025 units too.
        CommuneRef::Pre2025(_) | CommuneRef::Current(_) => {
            let index = match place.commune {
                CommuneRef::Pre2025(i) => units.communes[i as usize].current,
                CommuneRef::Current(j) => j,
            };
            let c = &units.communes_2025[index as usize];
            let province = strip(&units.province_2025_official_name(c.province));
            join_address(&[&place.street, c.name, &province])
        }
    }
}

/// The QR payload printed on the citizen's current card; `None` without a card, or for a
/// record computed without addresses ([`crate::View::Basic`]).
pub fn card_qr(country: &Country, p: &Person) -> Option<CardQr> {
    let card = p.current_card()?;
    let place = card.printed_address.as_ref()?;
    Some(CardQr {
        citizen_id: p.id,
        old_id_number: p.old_id_number.clone(),
        full_name: p.full_name.clone(),
        date_of_birth: p.date_of_birth,
        sex: p.sex,
        address: printed_address(country.units(), place, card.issued),
        issue_date: card.issued,
    })
}
