//! Administrative units of both eras, embedded from the project's data files
//! (`crates/vn/data`, derived from the GSO codes; see the README there).

use std::{collections::HashMap, sync::LazyLock};

const PROVINCES: &str = include_str!("../data/provinces.tsv");
const COMMUNES_PRE_2025: &str = include_str!("../data/communes-pre2025.tsv");
const COMMUNES_2025: &str = include_str!("../data/communes-2025.tsv");
const ETHNICITIES: &str = include_str!("../data/ethnicities.tsv");
const RELIGIONS: &str = include_str!("../data/religions.tsv");

/// From this date a birth registered in a province that the 2025 reorganisation merged into
/// another gets the prefix of the province it is part of now, the code of the place of
/// registration as the GSO lists it then (*unconfirmed*: no published rule for new
/// registrations after the reorganisation was found; `None` would keep the 63 old codes).
/// See docs/domain.md, section 1.
pub const NEW_BIRTHS_PREFIX_FROM: Option<crate::CivilDate> =
    Some(time::macros::date!(2025 - 07 - 01));

/// A province of the 63 in force until 30 June 2025 (the ID number's `PPP`).
#[derive(Debug)]
pub struct Province {
    /// GSO code, 1–96.
    pub code: u8,
    /// Name with unit type, e.g. "Tỉnh Ninh Thuận".
    pub name: &'static str,
    /// Code of the province it belongs to from 1 July 2025.
    pub code_2025: u8,
    /// Name of that province.
    pub name_2025: &'static str,
    /// Population at the 2019 census.
    pub population: u32,
    /// Its communes: indices into [`AdminUnits::communes`].
    pub communes: std::ops::Range<u32>,
    /// Non-Kinh ethnic groups and their shares in percent; Kinh is the rest.
    pub ethnicities: Vec<(&'static str, f64)>,
    /// Religions and their shares in percent; no religion is the rest.
    pub religions: Vec<(&'static str, f64)>,
}

/// A commune (xã, phường, thị trấn) of the pre-2025 units.
#[derive(Debug)]
pub struct Commune {
    /// GSO code of its province.
    pub province: u8,
    /// GSO district code.
    pub district_code: &'static str,
    /// District name with unit type.
    pub district_name: &'static str,
    /// GSO commune code.
    pub code: &'static str,
    /// Commune name with unit type.
    pub name: &'static str,
    /// The 2025 commune it lies in: index into [`AdminUnits::communes_2025`].
    pub current: u32,
}

/// A commune of the units in force from 1 July 2025.
#[derive(Debug)]
pub struct Commune2025 {
    /// GSO code of its (2025) province.
    pub province: u8,
    /// GSO commune code.
    pub code: &'static str,
    /// Commune name with unit type.
    pub name: &'static str,
    /// A pre-2025 commune that lies in it, when one does.
    pub predecessor: Option<u32>,
}

/// Both eras' units, parsed once from the embedded files.
#[derive(Debug)]
pub struct AdminUnits {
    /// The 63 pre-2025 provinces, by code order.
    pub provinces: Vec<Province>,
    province_index: [u8; 100],
    /// Every pre-2025 commune, grouped by province.
    pub communes: Vec<Commune>,
    /// Every 2025 commune.
    pub communes_2025: Vec<Commune2025>,
    names_2025: HashMap<u8, &'static str>,
    by_code_pre: HashMap<&'static str, u32>,
    by_code_2025: HashMap<&'static str, u32>,
}

/// The 54 ethnic groups of Vietnam, with their GSO codes (`crates/vn/data/ethnic-groups.tsv`).
const ETHNIC_GROUPS: &str = include_str!("../data/ethnic-groups.tsv");

/// The 54 ethnic groups as (two-digit GSO code, name as records write it), in code order.
pub fn ethnic_groups() -> impl Iterator<Item = (&'static str, &'static str)> {
    ETHNIC_GROUPS
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once('\t'))
        .map(|(code, name)| (code.trim(), name.trim()))
}

/// The embedded units.
pub static ADMIN_UNITS: LazyLock<AdminUnits> = LazyLock::new(AdminUnits::parse_embedded);

const NO_PROVINCE: u8 = u8::MAX;

fn rows(text: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').collect())
}

fn code(field: &str) -> u8 {
    field.trim().parse().unwrap_or(NO_PROVINCE)
}

impl AdminUnits {
    // The files are part of the build and checked by tests; a malformed row is skipped.
    fn parse_embedded() -> Self {
        let mut communes_2025: Vec<Commune2025> = rows(COMMUNES_2025)
            .filter(|r| r.len() >= 3)
            .map(|r| Commune2025 {
                province: code(r[0]),
                code: r[1],
                name: r[2],
                predecessor: None,
            })
            .collect();
        let by_code_2025: HashMap<&'static str, u32> = communes_2025
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code, i as u32))
            .collect();

        let mut communes: Vec<Commune> = rows(COMMUNES_PRE_2025)
            .filter(|r| r.len() >= 6)
            .filter_map(|r| {
                let current = *by_code_2025.get(r[5].trim())?;
                Some(Commune {
                    province: code(r[0]),
                    district_code: r[1],
                    district_name: r[2],
                    code: r[3],
                    name: r[4],
                    current,
                })
            })
            .collect();
        communes.sort_by_key(|c| (c.province, c.code));
        for (i, c) in communes.iter().enumerate() {
            let target = &mut communes_2025[c.current as usize];
            // Prefer the commune that kept the code: it names the same place in both eras.
            if target.predecessor.is_none() || target.code == c.code {
                target.predecessor = Some(i as u32);
            }
        }
        let by_code_pre = communes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code, i as u32))
            .collect();

        let mut ethnicities: HashMap<u8, Vec<(&'static str, f64)>> = HashMap::new();
        for r in rows(ETHNICITIES).filter(|r| r.len() >= 3) {
            ethnicities
                .entry(code(r[0]))
                .or_default()
                .push((r[1], r[2].trim().parse().unwrap_or(0.0)));
        }
        let mut religions: HashMap<u8, Vec<(&'static str, f64)>> = HashMap::new();
        for r in rows(RELIGIONS).filter(|r| r.len() >= 3) {
            religions
                .entry(code(r[0]))
                .or_default()
                .push((r[1], r[2].trim().parse().unwrap_or(0.0)));
        }

        let mut provinces: Vec<Province> = rows(PROVINCES)
            .filter(|r| r.len() >= 5)
            .map(|r| {
                let c = code(r[0]);
                let start = communes.partition_point(|x| x.province < c) as u32;
                let end = communes.partition_point(|x| x.province <= c) as u32;
                Province {
                    code: c,
                    name: r[1],
                    code_2025: code(r[2]),
                    name_2025: r[3],
                    population: r[4].trim().parse().unwrap_or(0),
                    communes: start..end,
                    ethnicities: ethnicities.remove(&c).unwrap_or_default(),
                    religions: religions.remove(&c).unwrap_or_default(),
                }
            })
            .filter(|p| !p.communes.is_empty())
            .collect();
        provinces.sort_by_key(|p| p.code);
        let mut province_index = [NO_PROVINCE; 100];
        for (i, p) in provinces.iter().enumerate() {
            province_index[p.code as usize % 100] = i as u8;
        }
        let names_2025 = provinces
            .iter()
            .map(|p| (p.code_2025, p.name_2025))
            .collect();
        AdminUnits {
            provinces,
            province_index,
            communes,
            communes_2025,
            names_2025,
            by_code_pre,
            by_code_2025,
        }
    }

    /// The pre-2025 province with this GSO code.
    pub fn province(&self, code: u16) -> Option<&Province> {
        if code >= 100 {
            return None;
        }
        let i = self.province_index[code as usize];
        (i != NO_PROVINCE).then(|| &self.provinces[i as usize])
    }

    /// Index of a province in [`AdminUnits::provinces`].
    pub fn province_position(&self, code: u16) -> Option<usize> {
        self.province(code)
            .map(|p| self.province_index[p.code as usize] as usize)
    }

    /// The name of a 2025 province as the GSO list writes it: "Thành phố" for the six cities,
    /// no type word for the provinces ("Khánh Hòa"). No type word is added.
    pub fn province_2025_name(&self, code: u8) -> &'static str {
        self.names_2025.get(&code).copied().unwrap_or("")
    }

    /// The ID-number prefix (`PPP`) of a birth registered on `registered` in the pre-2025
    /// province `code`: that code, or from [`NEW_BIRTHS_PREFIX_FROM`] the code of the 2025
    /// province it is part of (Ninh Thuận 58 → 56 Khánh Hòa). `None` for a code no province
    /// has. Numbers already issued keep their prefix; this is for new registrations only.
    pub fn birth_registration_prefix(
        &self,
        code: u16,
        registered: crate::CivilDate,
    ) -> Option<u16> {
        let province = self.province(code)?;
        Some(match NEW_BIRTHS_PREFIX_FROM {
            Some(from) if registered >= from => u16::from(province.code_2025),
            _ => u16::from(province.code),
        })
    }

    /// A pre-2025 commune by GSO code.
    pub fn commune_pre_2025(&self, code: &str) -> Option<u32> {
        self.by_code_pre.get(code).copied()
    }

    /// A 2025 commune by GSO code.
    pub fn commune_2025(&self, code: &str) -> Option<u32> {
        self.by_code_2025.get(code).copied()
    }
}

/// The tier of an administrative unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Xã, phường, thị trấn, đặc khu.
    Commune,
    /// Huyện, quận, thị xã, thành phố thuộc tỉnh (until 30 June 2025).
    District,
    /// Tỉnh, thành phố trực thuộc trung ương.
    Province,
}

/// The unit types official names begin with.
const UNIT_TYPES: &[&str] = &[
    "Thành phố",
    "Thị trấn",
    "Thị xã",
    "Đặc khu",
    "Phường",
    "Huyện",
    "Quận",
    "Tỉnh",
    "Xã",
];

/// How cards abbreviate a city (thành phố) at district tier; a city at province tier prints its
/// name alone ("Hà Nội", "Cần Thơ").
pub const CITY_ON_CARDS: &str = "TP.";

/// A unit's official name split into its type and its name: ("Huyện", "Vĩnh Tường"). The type
/// is matched whatever its case ("Thành Phố Bắc Kạn" in the source data).
pub fn split_unit_type(official: &str) -> Option<(&'static str, &str)> {
    UNIT_TYPES.iter().find_map(|&kind| {
        let head = official.get(..kind.len())?;
        let rest = official[kind.len()..].strip_prefix(' ')?.trim_start();
        (head.to_lowercase() == kind.to_lowercase() && !rest.is_empty()).then_some((kind, rest))
    })
}

/// A unit's name as a card prints it: a named unit without its type ("Xã Tân Phú" → "Tân Phú",
/// "Tỉnh Vĩnh Phúc" → "Vĩnh Phúc", "Thành phố Hà Nội" → "Hà Nội"), a unit whose name is or
/// begins with a number with it ("Phường 17", "Quận 3", "Phường 1 Bảo Lộc"), a city at
/// district tier as "TP." ("TP. Quảng Ngãi").
pub fn card_unit_name(official: &str, tier: Tier) -> String {
    let Some((kind, name)) = split_unit_type(official) else {
        return official.to_owned();
    };
    if is_numbered(name) {
        format!("{kind} {name}")
    } else if kind == "Thành phố" && tier == Tier::District {
        format!("{CITY_ON_CARDS} {name}")
    } else {
        name.to_owned()
    }
}

/// Whether a unit's name (without its type) is a number or begins with one ("17", "1 Bảo
/// Lộc"): such a unit keeps its type word on a card.
pub fn is_numbered(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_digit())
}

/// An address as a card (and its QR code) prints it: the street, house number or hamlet first
/// as written, then the units from the commune up, each by [`card_unit_name`].
pub fn card_address(street: &str, units: &[(&str, Tier)]) -> String {
    let names: Vec<String> = units
        .iter()
        .map(|&(name, tier)| card_unit_name(name, tier))
        .collect();
    let mut parts = vec![street];
    parts.extend(names.iter().map(String::as_str));
    join_address(&parts)
}

/// Joins the non-empty parts of an address with ", ", as addresses are written.
pub fn join_address(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_54_ethnic_groups_numbered_in_order() {
        let groups: Vec<_> = ethnic_groups().collect();
        assert_eq!(groups.len(), 54);
        assert_eq!(groups[0], ("01", "Kinh"));
        for (i, (code, name)) in groups.iter().enumerate() {
            assert_eq!(*code, format!("{:02}", i + 1));
            assert!(!name.is_empty());
        }
    }

    #[test]
    fn cards_print_addresses_the_short_way() {
        use Tier::*;
        // The forms of docs/domain.md, section 3.
        assert_eq!(
            card_address(
                "Thôn Dẫn Tự",
                &[
                    ("Xã Tân Phú", Commune),
                    ("Huyện Vĩnh Tường", District),
                    ("Tỉnh Vĩnh Phúc", Province)
                ]
            ),
            "Thôn Dẫn Tự, Tân Phú, Vĩnh Tường, Vĩnh Phúc"
        );
        assert_eq!(
            card_address(
                "Tân Lập",
                &[
                    ("Xã Lam Cốt", Commune),
                    ("Huyện Tân Yên", District),
                    ("Tỉnh Bắc Giang", Province)
                ]
            ),
            "Tân Lập, Lam Cốt, Tân Yên, Bắc Giang"
        );
        assert_eq!(
            card_address(
                "",
                &[
                    ("Phường Hàng Bạc", Commune),
                    ("Quận Hoàn Kiếm", District),
                    ("Thành phố Hà Nội", Province)
                ]
            ),
            "Hàng Bạc, Hoàn Kiếm, Hà Nội"
        );
        assert_eq!(
            card_address(
                "",
                &[
                    ("Phường An Khánh", Commune),
                    ("Quận Ninh Kiều", District),
                    ("Thành phố Cần Thơ", Province)
                ]
            ),
            "An Khánh, Ninh Kiều, Cần Thơ"
        );
        // Numbered units keep their type; a city at district tier is "TP.".
        assert_eq!(
            card_address(
                "Số 5 đường Lê Lợi",
                &[
                    ("Phường 17", Commune),
                    ("Quận Gò Vấp", District),
                    ("Thành phố Hồ Chí Minh", Province)
                ]
            ),
            "Số 5 đường Lê Lợi, Phường 17, Gò Vấp, Hồ Chí Minh"
        );
        assert_eq!(card_unit_name("Quận 3", District), "Quận 3");
        assert_eq!(
            card_unit_name("Thành phố Quảng Ngãi", District),
            "TP. Quảng Ngãi"
        );
        assert_eq!(card_unit_name("Thành Phố Bắc Kạn", District), "TP. Bắc Kạn");
        assert_eq!(card_unit_name("Thị xã Sơn Tây", District), "Sơn Tây");
        assert_eq!(card_unit_name("Thị trấn Phước Dân", Commune), "Phước Dân");
        // Two tiers from 1 July 2025.
        assert_eq!(
            card_address(
                "Số 25 đường Trần Phú",
                &[("Phường Nha Trang", Commune), ("Tỉnh Khánh Hòa", Province)]
            ),
            "Số 25 đường Trần Phú, Nha Trang, Khánh Hòa"
        );
        assert_eq!(card_unit_name("Đặc khu Côn Đảo", Commune), "Côn Đảo");
        assert_eq!(card_unit_name("Phường Hà Giang 1", Commune), "Hà Giang 1");
        // A 2025 ward named by a number and a place keeps its type word too.
        assert_eq!(
            card_address(
                "Tổ 3",
                &[("Phường 1 Bảo Lộc", Commune), ("Lâm Đồng", Province)]
            ),
            "Tổ 3, Phường 1 Bảo Lộc, Lâm Đồng"
        );
        // Names without a known type are printed as they are.
        assert_eq!(card_unit_name("Hà Nội", Province), "Hà Nội");
        assert_eq!(card_unit_name("Xã", Commune), "Xã");
    }

    #[test]
    fn every_unit_of_the_data_has_a_known_type() {
        let u = &*ADMIN_UNITS;
        let names = u
            .communes
            .iter()
            .flat_map(|c| [c.name, c.district_name])
            .chain(u.communes_2025.iter().map(|c| c.name))
            .chain(u.provinces.iter().map(|p| p.name));
        for name in names {
            assert!(split_unit_type(name).is_some(), "{name}");
        }
    }

    #[test]
    fn unit_names_are_single_spaced() {
        let u = &*ADMIN_UNITS;
        let names = u
            .communes
            .iter()
            .flat_map(|c| [c.name, c.district_name, c.code, c.district_code])
            .chain(u.communes_2025.iter().flat_map(|c| [c.name, c.code]))
            .chain(u.provinces.iter().flat_map(|p| {
                let groups = p.ethnicities.iter().chain(&p.religions).map(|(n, _)| *n);
                [p.name, p.name_2025].into_iter().chain(groups)
            }));
        let mut checked = 0;
        for name in names {
            checked += 1;
            assert!(
                !name.contains("  ") && name.trim() == name && !name.is_empty(),
                "{name:?}"
            );
            assert!(!name.contains(['\t', '\u{a0}']), "{name:?}");
        }
        assert!(checked > 40_000, "{checked}");
        // Written with two spaces in the source list; derived with one.
        let bac_dong_quan = u.commune_2025("12745").unwrap();
        assert_eq!(
            u.communes_2025[bac_dong_quan as usize].name,
            "Xã Bắc Đông Quan"
        );
    }

    #[test]
    fn both_eras_are_complete_and_linked() {
        let u = &*ADMIN_UNITS;
        assert_eq!(u.provinces.len(), 63);
        assert!(u.communes.len() > 10_000, "{}", u.communes.len());
        assert!(u.communes_2025.len() > 3_300);
        let names: std::collections::HashSet<_> = u.provinces.iter().map(|p| p.code_2025).collect();
        assert_eq!(names.len(), 34);
        let ninh_thuan = u.province(58).unwrap();
        assert!(ninh_thuan.name.contains("Ninh Thuận"));
        assert_eq!(ninh_thuan.code_2025, 56);
        assert!(u.province_2025_name(56).contains("Khánh Hòa"));
        // New births: the prefix of the 2025 province from 1 July 2025; unchanged provinces
        // and earlier births keep their own.
        let before = time::macros::date!(2025 - 06 - 30);
        let after = time::macros::date!(2025 - 07 - 01);
        assert_eq!(u.birth_registration_prefix(58, before), Some(58));
        assert_eq!(u.birth_registration_prefix(58, after), Some(56));
        assert_eq!(u.birth_registration_prefix(74, after), Some(79));
        assert_eq!(u.birth_registration_prefix(2, after), Some(8));
        assert_eq!(u.birth_registration_prefix(1, after), Some(1));
        assert_eq!(u.birth_registration_prefix(56, after), Some(56));
        assert_eq!(u.birth_registration_prefix(3, after), None);
        for c in &u.communes {
            let now = &u.communes_2025[c.current as usize];
            let p = u.province(u16::from(c.province)).unwrap();
            assert_eq!(now.province, p.code_2025, "{} {}", c.code, c.name);
        }
        assert!(u.province(3).is_none());
        assert!(u.province(0).is_none());
    }
}
