//! FindCitizens in the contract's terms: the request's filter checked and read into the
//! world's [`Filter`], page sizes and tokens, and the answer, for the population database
//! (which applies its overlays through the search's verdict) and for offline tools (which
//! search the generated country as it is).

use sandbox06_proto::{admin, types};
use sandbox06_vn::{
    CitizenId, FieldError, FieldErrorKind, Sex, echo, fold_diacritics, normalize_name,
};
use sandbox06_world::{
    Country,
    find::{CardFilter, Filter, Found, InsuranceFilter, Search},
    person::{CardKind, Marital, Vneid},
};

/// Citizens per page when the request names no page size.
pub const DEFAULT_PAGE_SIZE: usize = 20;
/// Most citizens per page.
pub const MAX_PAGE_SIZE: usize = 1_000;
/// Work one call may do, in the search's cost units (one per candidate looked at, 4 more for
/// its cards and VNeID account, 40 more for its full record): on the order of 50 ms of one
/// core in an optimised build, whatever the filter.
pub const WORK_PER_CALL: u64 = 50_000;
/// Oldest age a filter may name.
pub const MAX_FILTER_AGE: i32 = 150;

/// A refused request field.
fn refused(field: &str, description: impl Into<String>) -> FieldError {
    FieldError::new(FieldErrorKind::Other, field, description)
}

/// The provinces a province field names: a GSO code of its era, two digits or the three-digit
/// prefix of an ID number.
fn provinces(
    country: &Country,
    raw: &str,
    era_2025: bool,
    field: &str,
) -> Result<Option<Vec<u8>>, FieldError> {
    if raw.is_empty() {
        return Ok(None);
    }
    let which = if era_2025 {
        "a GSO code of one of the 34 provinces from 1 July 2025, such as \"56\" (Khánh Hòa) or \"056\""
    } else {
        "a GSO code of one of the 63 provinces before 1 July 2025, such as \"58\" (Ninh Thuận) or \"058\""
    };
    let code = (matches!(raw.len(), 2 | 3) && raw.bytes().all(|b| b.is_ascii_digit()))
        .then(|| raw.parse::<u16>().ok())
        .flatten()
        .and_then(|c| u8::try_from(c).ok());
    code.and_then(|c| country.provinces_of(c, era_2025))
        .map(Some)
        .ok_or_else(|| refused(field, format!("must be {which}, got {}", echo(raw))))
}

/// The ethnic group a field names: a name of the 54 (NFC or not, any case, with or without
/// diacritics when that names one group) or its two-digit code.
fn ethnicity(raw: &str) -> Result<Option<&'static str>, FieldError> {
    if raw.is_empty() {
        return Ok(None);
    }
    let groups: Vec<(&'static str, &'static str)> = sandbox06_vn::admin::ethnic_groups().collect();
    let wanted = normalize_name(raw);
    let folded = fold_diacritics(&wanted);
    let by_folding: Vec<&'static str> = groups
        .iter()
        .filter(|(_, name)| fold_diacritics(&normalize_name(name)) == folded)
        .map(|(_, name)| *name)
        .collect();
    let name = groups
        .iter()
        .find(|(code, name)| *code == raw.trim() || normalize_name(name) == wanted)
        .map(|(_, name)| *name)
        .or(match by_folding[..] {
            [one] => Some(one),
            _ => None,
        })
        .ok_or_else(|| {
            refused(
                "filter.ethnicity",
                format!(
                    "must name one of the 54 ethnic groups (\"Kinh\", \"Chăm\", or a GSO code such as \"01\"), got {}",
                    echo(raw)
                ),
            )
        })?;
    // A group the world never generates matches nobody, and is not an error.
    Ok(Some(name))
}

/// An age field, within 0 to [`MAX_FILTER_AGE`].
fn age(raw: Option<i32>, field: &str) -> Result<Option<i32>, FieldError> {
    match raw {
        Some(a) if !(0..=MAX_FILTER_AGE).contains(&a) => Err(refused(
            field,
            format!("must be 0 to {MAX_FILTER_AGE} years, got {a}"),
        )),
        other => Ok(other),
    }
}

/// An enum field's value, refusing numbers the contract does not define.
fn known<T: TryFrom<i32>>(raw: i32, field: &str) -> Result<T, FieldError> {
    T::try_from(raw).map_err(|_| refused(field, format!("has no value {raw}")))
}

/// The world's filter for a contract's [`admin::CitizenFilter`]; a malformed field is refused
/// with its path (`filter.province_code`, …).
pub fn filter_from_contract(
    country: &Country,
    f: &admin::CitizenFilter,
) -> Result<Filter, FieldError> {
    let old = provinces(country, &f.province_code, false, "filter.province_code")?;
    let new = provinces(
        country,
        &f.province_2025_code,
        true,
        "filter.province_2025_code",
    )?;
    let provinces = match (old, new) {
        (Some(a), Some(b)) => Some(a.into_iter().filter(|c| b.contains(c)).collect()),
        (a, b) => a.or(b),
    };
    let min_age = age(f.min_age, "filter.min_age")?;
    let max_age = age(f.max_age, "filter.max_age")?;
    // A filter that contradicts itself (an age range upside down, no card yet a kind of card,
    // uninsured yet in a group) is a question with no citizen in its answer, not a malformed
    // one: the world's filter finds nobody for it.
    let sex = match known::<types::Sex>(f.sex, "filter.sex")? {
        types::Sex::Unspecified => None,
        types::Sex::Male => Some(Sex::Male),
        types::Sex::Female => Some(Sex::Female),
    };
    let kind = match known::<types::CardType>(f.card_type, "filter.card_type")? {
        types::CardType::Unspecified => None,
        types::CardType::Cmnd => Some(CardKind::Cmnd),
        types::CardType::CccdChip => Some(CardKind::CccdChip),
        types::CardType::CanCuoc => Some(CardKind::CanCuoc),
        types::CardType::CccdBarcode => Some(CardKind::CccdBarcode),
    };
    let card = match (kind, f.has_card) {
        (Some(_), Some(false)) => Some(CardFilter::Contradictory),
        (Some(k), _) => Some(CardFilter::Kind(k)),
        (None, Some(true)) => Some(CardFilter::Any),
        (None, Some(false)) => Some(CardFilter::None),
        (None, None) => None,
    };
    let vneid = match known::<types::VneidLevel>(f.vneid_level, "filter.vneid_level")? {
        types::VneidLevel::Unspecified => None,
        types::VneidLevel::None => Some(Vneid::None),
        types::VneidLevel::VneidLevel1 => Some(Vneid::Level1),
        types::VneidLevel::VneidLevel2 => Some(Vneid::Level2),
    };
    let marital = match known::<types::MaritalStatus>(f.marital_status, "filter.marital_status")? {
        types::MaritalStatus::Unspecified => None,
        types::MaritalStatus::Single => Some(Marital::Single),
        types::MaritalStatus::Married => Some(Marital::Married),
        types::MaritalStatus::Divorced => Some(Marital::Divorced),
        types::MaritalStatus::Widowed => Some(Marital::Widowed),
    };
    let group = if f.insurance_group.is_empty() {
        None
    } else if f.insurance_group.len() == 2
        && f.insurance_group.bytes().all(|b| b.is_ascii_uppercase())
    {
        Some(f.insurance_group.clone())
    } else {
        return Err(refused(
            "filter.insurance_group",
            format!(
                "must be the two capital letters of an object group, such as \"DN\" or \"TE\", got {}",
                echo(&f.insurance_group)
            ),
        ));
    };
    let insurance = match (group, f.insured) {
        (Some(_), Some(false)) => Some(InsuranceFilter::Contradictory),
        (Some(g), _) => Some(InsuranceFilter::Group(g)),
        (None, Some(true)) => Some(InsuranceFilter::Insured),
        (None, Some(false)) => Some(InsuranceFilter::Uninsured),
        (None, None) => None,
    };
    Ok(Filter {
        provinces,
        min_age,
        max_age,
        sex,
        ethnicity: ethnicity(&f.ethnicity)?,
        card,
        vneid,
        marital,
        insurance,
        deceased: f.deceased,
    })
}

/// A checked FindCitizens request: the filter and this call's search.
#[derive(Debug, Clone)]
pub struct FindRequest {
    /// What the citizens must be.
    pub filter: Filter,
    /// Where this call starts, how many it finds, how much work it does.
    pub search: Search,
}

/// A page token: where the search stopped, and the filter it belongs to.
fn token(filter: &Filter, next: u64) -> String {
    format!("{next}.{:016x}", filter.key())
}

/// Checks a FindCitizens request (filter, page size, page token).
pub fn parse_request(
    country: &Country,
    req: &admin::FindCitizensRequest,
) -> Result<FindRequest, FieldError> {
    let filter = filter_from_contract(country, &req.filter.clone().unwrap_or_default())?;
    let limit = match req.page_size {
        0 => DEFAULT_PAGE_SIZE,
        n if n < 0 || n as usize > MAX_PAGE_SIZE => {
            return Err(refused(
                "page_size",
                format!("must be 1 to {MAX_PAGE_SIZE} (0 for {DEFAULT_PAGE_SIZE}), got {n}"),
            ));
        }
        n => n as usize,
    };
    let from = if req.page_token.is_empty() {
        0
    } else {
        let (at, key) = req
            .page_token
            .split_once('.')
            .and_then(|(at, key)| {
                Some((at.parse::<u64>().ok()?, u64::from_str_radix(key, 16).ok()?))
            })
            .ok_or_else(|| refused("page_token", "is not a token this server returned"))?;
        if key != filter.key() {
            return Err(refused(
                "page_token",
                "was returned for another filter: send the filter of the first page with it",
            ));
        }
        at
    };
    Ok(FindRequest {
        filter,
        search: Search {
            from,
            limit,
            budget: WORK_PER_CALL,
        },
    })
}

/// The answer for one call's result.
pub fn response(filter: &Filter, found: &Found) -> admin::FindCitizensResponse {
    admin::FindCitizensResponse {
        citizen_ids: found.ids.iter().map(CitizenId::to_string).collect(),
        next_page_token: found.next.map(|n| token(filter, n)).unwrap_or_default(),
    }
}

/// FindCitizens over the generated country as it is, without recorded changes: what an
/// offline tool answers (`sandbox06 citizens --offline`).
pub fn find_citizens(
    country: &Country,
    req: &admin::FindCitizensRequest,
) -> Result<admin::FindCitizensResponse, FieldError> {
    let request = parse_request(country, req)?;
    let found = country.find(&request.filter, request.search, &|_| None);
    Ok(response(&request.filter, &found))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::macros::date;

    use super::*;

    fn country() -> Country {
        Country::new(6, 1_000_000, date!(2026 - 11 - 27))
    }

    fn with(f: admin::CitizenFilter) -> Result<Filter, FieldError> {
        filter_from_contract(&country(), &f)
    }

    #[test]
    fn a_province_is_two_digits_or_the_prefix_in_its_era() {
        let pre = |raw: &str| {
            with(admin::CitizenFilter {
                province_code: raw.into(),
                ..Default::default()
            })
            .map(|f| f.provinces)
        };
        let new = |raw: &str| {
            with(admin::CitizenFilter {
                province_2025_code: raw.into(),
                ..Default::default()
            })
            .map(|f| f.provinces)
        };
        assert_eq!(pre("58").unwrap(), Some(vec![58]));
        assert_eq!(pre("058").unwrap(), Some(vec![58]));
        assert_eq!(pre("01").unwrap(), Some(vec![1]));
        assert_eq!(new("56").unwrap(), Some(vec![56, 58]));
        assert_eq!(new("056").unwrap(), Some(vec![56, 58]));
        for bad in ["1", "0001", " 58", "5a", "99", "+58"] {
            let e = pre(bad).unwrap_err();
            assert_eq!(e.field, "filter.province_code", "{bad}");
        }
        // 58 was merged into 56: no 2025 province has its code.
        assert_eq!(new("58").unwrap_err().field, "filter.province_2025_code");
        // Both eras: the provinces in both.
        let both = with(admin::CitizenFilter {
            province_code: "58".into(),
            province_2025_code: "56".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(both.provinces, Some(vec![58]));
    }

    #[test]
    fn an_ethnic_group_is_a_name_in_any_form_or_a_code() {
        let of = |raw: &str| {
            with(admin::CitizenFilter {
                ethnicity: raw.into(),
                ..Default::default()
            })
            .map(|f| f.ethnicity)
        };
        assert_eq!(of("01").unwrap(), Some("Kinh"));
        assert_eq!(of("kinh").unwrap(), Some("Kinh"));
        assert_eq!(of("Chăm").unwrap(), Some("Chăm"));
        assert_eq!(of("Cha\u{306}m").unwrap(), Some("Chăm"), "NFD");
        assert_eq!(of("CHAM").unwrap(), Some("Chăm"), "without diacritics");
        assert_eq!(of("h'mông").unwrap(), Some("H'Mông"));
        assert_eq!(of("").unwrap(), None);
        assert_eq!(of("Martian").unwrap_err().field, "filter.ethnicity");
        assert_eq!(of("99").unwrap_err().field, "filter.ethnicity");
    }

    #[test]
    fn a_token_resumes_its_own_filter_only() {
        let country = country();
        let filter = admin::CitizenFilter {
            province_code: "58".into(),
            min_age: Some(30),
            ..Default::default()
        };
        let ask = |filter: &admin::CitizenFilter, token: &str| admin::FindCitizensRequest {
            filter: Some(filter.clone()),
            page_size: 3,
            page_token: token.into(),
        };
        let first = find_citizens(&country, &ask(&filter, "")).unwrap();
        assert_eq!(first.citizen_ids.len(), 3);
        let next = parse_request(&country, &ask(&filter, &first.next_page_token)).unwrap();
        assert!(next.search.from >= 3);
        let second = find_citizens(&country, &ask(&filter, &first.next_page_token)).unwrap();
        assert!(
            second
                .citizen_ids
                .iter()
                .all(|id| !first.citizen_ids.contains(id))
        );
        let other = admin::CitizenFilter {
            min_age: Some(31),
            ..filter
        };
        let e = parse_request(&country, &ask(&other, &first.next_page_token)).unwrap_err();
        assert_eq!(e.field, "page_token");
    }
}
