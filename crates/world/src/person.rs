//! A citizen of the synthetic country, as the generator, personas and overlays produce it.

use sandbox06_vn::{CitizenId, CivilDate, QrForm, Sex};

/// A place of residence or origin: a commune in either era, plus the street part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The commune.
    pub commune: CommuneRef,
    /// House number, street, hamlet; empty for province-level places.
    pub street: String,
}

/// A commune of one of the two eras (the other era's form is derived).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommuneRef {
    /// Index into the pre-2025 communes.
    Pre2025(u32),
    /// Index into the 2025 communes.
    Current(u32),
}

/// Alive or dead, with the date of death.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Life {
    /// Alive.
    Alive,
    /// Death registered on this date.
    Deceased(CivilDate),
}

/// Kind of identity card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardKind {
    /// Old identity card (chứng minh nhân dân): 9 digits, or 12 (the ID number) where
    /// issued so ([`crate::rules::twelve_digit_cmnd_share`]).
    Cmnd,
    /// CCCD with a barcode and no chip (2016–2020).
    CccdBarcode,
    /// CCCD with chip (2021 – 30 June 2024).
    CccdChip,
    /// Căn cước (from 1 July 2024).
    CanCuoc,
}

impl CardKind {
    /// The kind of card issued on a date: a barcode CCCD to the end of 2020, then a chip CCCD
    /// (issued from [`crate::rules::CHIP_CARDS_FROM`]), a Căn cước from 1 July 2024.
    pub fn issued_on(date: CivilDate) -> Self {
        if date >= crate::rules::CAN_CUOC_FROM {
            CardKind::CanCuoc
        } else if date > crate::rules::BARCODE_CARDS_UNTIL {
            CardKind::CccdChip
        } else {
            CardKind::CccdBarcode
        }
    }

    /// Whether the card has a chip (what VNeID registration reads).
    pub fn has_chip(self) -> bool {
        matches!(self, CardKind::CccdChip | CardKind::CanCuoc)
    }

    /// The form of the QR code the card prints on its back; `None` for a card without one.
    pub fn qr_form(self) -> Option<QrForm> {
        match self {
            CardKind::Cmnd | CardKind::CccdBarcode => None,
            CardKind::CccdChip => Some(QrForm::ChipCccd7),
            CardKind::CanCuoc => Some(QrForm::CanCuoc11),
        }
    }

    /// What the card is called, for messages.
    pub fn description(self) -> &'static str {
        match self {
            CardKind::Cmnd => "a CMND (the old identity card)",
            CardKind::CccdBarcode => "a barcode CCCD (12 digits, no chip)",
            CardKind::CccdChip => "a chip CCCD",
            CardKind::CanCuoc => "a Căn cước card",
        }
    }
}

/// Standing of a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardStanding {
    /// Current and within validity.
    Valid,
    /// Current, past expiry.
    Expired,
    /// Replaced by a newer card.
    Superseded,
    /// Withdrawn or voided on death.
    Revoked,
}

/// One identity card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// Card number (ID number, or 9-digit CMND number).
    pub number: String,
    /// Kind.
    pub kind: CardKind,
    /// Date of issue.
    pub issued: CivilDate,
    /// Valid until; `None` for no expiry.
    pub expires: Option<CivilDate>,
    /// Standing at the reference date.
    pub standing: CardStanding,
    /// Where the holder lived when the card was issued: the address the card (and QR) prints.
    pub printed_address: Option<Place>,
}

/// Marital status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marital {
    /// Never married.
    Single,
    /// Married.
    Married,
    /// Divorced.
    Divorced,
    /// Widowed.
    Widowed,
}

/// A relative named in the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relative {
    /// The relative's ID number when the relative is a citizen of the country.
    pub id: Option<CitizenId>,
    /// Full name.
    pub full_name: String,
    /// Year of birth.
    pub birth_year: i32,
}

/// A member of a household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// ID number.
    pub id: CitizenId,
    /// Full name.
    pub full_name: String,
    /// Relation to the head.
    pub relation: &'static str,
}

/// The household the citizen is registered in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Household {
    /// Household code.
    pub code: String,
    /// Head of household.
    pub head: CitizenId,
    /// Head's name.
    pub head_name: String,
    /// This citizen's relation to the head.
    pub relation: &'static str,
    /// Everyone in it, head first.
    pub members: Vec<Member>,
}

/// VNeID account level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Vneid {
    /// No account.
    None,
    /// Level 1, registered in the app.
    Level1,
    /// Level 2, registered at the police.
    Level2,
}

/// Health insurance coverage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insurance {
    /// Legacy 15-character card code.
    pub card_code: String,
    /// 10-digit social insurance number.
    pub social_insurance_number: String,
    /// Coverage start.
    pub valid_from: CivilDate,
    /// Coverage end.
    pub valid_to: CivilDate,
    /// Registered primary care facility.
    pub facility_code: String,
}

/// A citizen's whole record.
#[derive(Clone, PartialEq)]
pub struct Person {
    /// ID number.
    pub id: CitizenId,
    /// Full name, NFC.
    pub full_name: String,
    /// Date of birth.
    pub date_of_birth: CivilDate,
    /// Sex.
    pub sex: Sex,
    /// Ethnic group.
    pub ethnicity: &'static str,
    /// Religion ("Không" for none).
    pub religion: &'static str,
    /// Where the birth was registered.
    pub birth_registration: Place,
    /// Home town.
    pub home_town: Place,
    /// Permanent residence.
    pub residence: Place,
    /// Earlier residences, newest first.
    pub previous_residences: Vec<Place>,
    /// Alive or dead.
    pub life: Life,
    /// Every card, newest first; the first is the current one.
    pub cards: Vec<Card>,
    /// Old CMND number.
    pub old_id_number: Option<String>,
    /// Marital status.
    pub marital: Marital,
    /// Father.
    pub father: Option<Relative>,
    /// Mother.
    pub mother: Option<Relative>,
    /// Spouse.
    pub spouse: Option<Relative>,
    /// The day the marriage to the spouse on record was registered.
    pub married_on: Option<CivilDate>,
    /// Household.
    pub household: Option<Household>,
    /// VNeID level and the date it was reached.
    pub vneid: (Vneid, Option<CivilDate>),
    /// Health insurance.
    pub insurance: Option<Insurance>,
    /// Identifying marks.
    pub marks: String,
    /// Persona key, for hand-written citizens.
    pub persona: Option<&'static str>,
}

impl std::fmt::Debug for Person {
    // Debug output ends up in logs: only the masked number and the persona key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Person")
            .field("id", &self.id)
            .field("persona", &self.persona)
            .finish_non_exhaustive()
    }
}

impl Person {
    /// The current card, when the citizen has one.
    pub fn current_card(&self) -> Option<&Card> {
        self.cards
            .first()
            .filter(|c| c.standing != CardStanding::Superseded)
    }

    /// Whether the citizen is alive.
    pub fn is_alive(&self) -> bool {
        self.life == Life::Alive
    }
}
