//! Name tables and naming customs: Vietnamese names by birth cohort and region, and the
//! customs of the Thái, H'Mông, Ê Đê, Gia Rai, Khmer, Chăm and Raglai. Shares are percentages
//! (weights: a table need not sum to 100); docs/domain.md gives their sources or marks them as
//! estimates. Every name is NFC.

mod tables;

use super::permutation::Stream;
use sandbox06_vn::Sex;

pub use tables::*;

/// Whose family names a group that names the Vietnamese way bears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surnames {
    /// Kinh, by region; also every group without a table of its own.
    Kinh,
    /// Tày.
    Tay,
    /// Nùng.
    Nung,
    /// Mường.
    Muong,
    /// Dao.
    Dao,
    /// Hoa.
    Hoa,
}

/// How an ethnic group forms full names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamingCustom {
    /// Family, middle words, given: two to four words by birth cohort, "Văn"/"Thị" by cohort.
    Vietnamese(Surnames),
    /// Thái: family, "Văn"/"Thị", a one-word Thái given name ("Lò Văn Pọm").
    Thai,
    /// H'Mông: clan name, "A"/"Seo"/"Chứ" for men or "Thị"/"Mí" for women, given name.
    Hmong,
    /// Ê Đê: "Y " or "H'" and the given name, then the family name ("Y Moan Ênuôl"), the
    /// mother's.
    Ede,
    /// Gia Rai: family name (the mother's), then the given name, "H'" before a woman's ("Rơ
    /// Mah H'Bla").
    GiaRai,
    /// Khmer: family and given names, "Thị" for women; in An Giang mostly "Chau"/"Néang" and
    /// the given name.
    Khmer,
    /// Chăm: family, "Văn"/"Thị" or a two-word Chăm given name.
    Cham,
    /// Raglai: family, "Văn"/"Thị", given ("Pinăng Văn Bốn").
    Raglai,
}

impl NamingCustom {
    /// The custom of an ethnic group, by its name in `ethnicities.tsv`.
    pub fn of(ethnicity: &str) -> Self {
        match ethnicity {
            "Thái" => NamingCustom::Thai,
            "H'Mông" | "Mông" => NamingCustom::Hmong,
            "Ê Đê" | "Ê-đê" => NamingCustom::Ede,
            "Gia Rai" | "Gia-rai" => NamingCustom::GiaRai,
            "Khmer" | "Khơ-me" => NamingCustom::Khmer,
            "Chăm" => NamingCustom::Cham,
            "Raglai" | "Ra Glai" => NamingCustom::Raglai,
            "Tày" => NamingCustom::Vietnamese(Surnames::Tay),
            "Nùng" => NamingCustom::Vietnamese(Surnames::Nung),
            "Mường" => NamingCustom::Vietnamese(Surnames::Muong),
            "Dao" => NamingCustom::Vietnamese(Surnames::Dao),
            "Hoa" => NamingCustom::Vietnamese(Surnames::Hoa),
            _ => NamingCustom::Vietnamese(Surnames::Kinh),
        }
    }

    /// The family names of a group other than the Kinh.
    fn table(self) -> Option<&'static [(&'static str, f64)]> {
        Some(match self {
            NamingCustom::Vietnamese(Surnames::Kinh) => return None,
            NamingCustom::Vietnamese(Surnames::Tay) => TAY_FAMILY,
            NamingCustom::Vietnamese(Surnames::Nung) => NUNG_FAMILY,
            NamingCustom::Vietnamese(Surnames::Muong) => MUONG_FAMILY,
            NamingCustom::Vietnamese(Surnames::Dao) => DAO_FAMILY,
            NamingCustom::Vietnamese(Surnames::Hoa) => HOA_FAMILY,
            NamingCustom::Thai => THAI_FAMILY,
            NamingCustom::Hmong => HMONG_FAMILY,
            NamingCustom::Ede => EDE_FAMILY,
            NamingCustom::GiaRai => GIARAI_FAMILY,
            NamingCustom::Khmer => KHMER_FAMILY,
            NamingCustom::Cham => CHAM_FAMILY,
            NamingCustom::Raglai => RAGLAI_FAMILY,
        })
    }

    /// Whether children take their mother's family name: the Ê Đê and Gia Rai are
    /// matrilineal.
    pub fn matrilineal(self) -> bool {
        matches!(self, NamingCustom::Ede | NamingCustom::GiaRai)
    }

    /// Whether `name` is one of the custom's family names.
    pub fn has_family_name(self, name: &str) -> bool {
        match self.table() {
            Some(table) => table.iter().any(|(n, _)| *n == name),
            None => KINH_FAMILY.iter().any(|(n, ..)| *n == name),
        }
    }

    /// Draws a family name for a lineage whose root was registered in `province` (pre-2025 code).
    pub fn family(self, province: u8, rng: &mut Stream) -> &'static str {
        match self.table() {
            Some(table) => rng.weighted(table),
            None => kinh_family(province, rng),
        }
    }

    /// Forms a full name around an inherited family name, for someone born in `birth_year`
    /// whose birth was registered in `province` (pre-2025 code).
    pub fn full_name(
        self,
        family: &str,
        sex: Sex,
        birth_year: i32,
        province: u8,
        rng: &mut Stream,
    ) -> String {
        let male = sex == Sex::Male;
        let by_sex =
            |m: &'static [&'static str], f: &'static [&'static str]| if male { m } else { f };
        let van_thi = if male { "Văn" } else { "Thị" };
        match self {
            NamingCustom::Vietnamese(_) => vietnamese(family, sex, birth_year, rng),
            NamingCustom::Thai => {
                let given = rng.pick(by_sex(THAI_GIVEN_MALE, THAI_GIVEN_FEMALE));
                format!("{family} {van_thi} {given}")
            }
            NamingCustom::Hmong => {
                let prefix = rng.weighted(if male {
                    HMONG_PREFIX_MALE
                } else {
                    HMONG_PREFIX_FEMALE
                });
                let given = rng.pick(by_sex(HMONG_GIVEN_MALE, HMONG_GIVEN_FEMALE));
                format!("{family} {prefix} {given}")
            }
            NamingCustom::Ede => {
                let prefix = if male {
                    EDE_MALE_PREFIX
                } else {
                    HIGHLAND_FEMALE_PREFIX
                };
                let given = rng.pick(by_sex(EDE_GIVEN_MALE, EDE_GIVEN_FEMALE));
                format!("{prefix}{given} {family}")
            }
            NamingCustom::GiaRai => {
                let prefix = if male { "" } else { HIGHLAND_FEMALE_PREFIX };
                let given = rng.pick(by_sex(GIARAI_GIVEN_MALE, GIARAI_GIVEN_FEMALE));
                format!("{family} {prefix}{given}")
            }
            NamingCustom::Khmer => {
                let given = rng.pick(by_sex(KHMER_GIVEN_MALE, KHMER_GIVEN_FEMALE));
                if province == AN_GIANG && rng.chance(AN_GIANG_CHAU_NEANG / 100.0) {
                    format!("{} {given}", if male { CHAU } else { NEANG })
                } else if male {
                    format!("{family} {given}")
                } else {
                    format!("{family} Thị {given}")
                }
            }
            NamingCustom::Cham => {
                if male && !rng.chance(CHAM_VAN / 100.0) {
                    format!("{family} {}", rng.pick(CHAM_COMPOUND_MALE))
                } else {
                    let given = rng.pick(by_sex(CHAM_GIVEN_MALE, CHAM_GIVEN_FEMALE));
                    format!("{family} {van_thi} {given}")
                }
            }
            NamingCustom::Raglai => {
                let given = rng.pick(by_sex(RAGLAI_GIVEN_MALE, RAGLAI_GIVEN_FEMALE));
                format!("{family} {van_thi} {given}")
            }
        }
    }
}

/// The row of a cohort table that holds for a birth year.
pub fn cohort_row<T: Copy + Default>(table: &[(i32, T)], birth_year: i32) -> T {
    table
        .iter()
        .find(|(until, _)| birth_year < *until)
        .or(table.last())
        .map(|(_, row)| *row)
        .unwrap_or_default()
}

/// Shares of two-, three- and four-word Vietnamese-way names for a sex and birth year.
pub fn word_shares(sex: Sex, birth_year: i32) -> [f64; 3] {
    cohort_row(
        if sex == Sex::Male {
            WORDS_MALE
        } else {
            WORDS_FEMALE
        },
        birth_year,
    )
}

/// Share of Vietnamese-way names of `words` words whose first middle word is "Văn" (men) or
/// "Thị" (women); none for two words.
pub fn traditional_middle_share(sex: Sex, birth_year: i32, words: usize) -> f64 {
    let row = cohort_row(
        if sex == Sex::Male {
            VAN_SHARES
        } else {
            THI_SHARES
        },
        birth_year,
    );
    match words {
        3 => row[0],
        4 => row[1],
        _ => 0.0,
    }
}

/// A Kinh family name, by the region of the lineage's province.
fn kinh_family(province: u8, rng: &mut Stream) -> &'static str {
    let share = |&(_, north, south): &(&str, f64, f64)| {
        if province >= SOUTH_FROM { south } else { north }
    };
    let total: f64 = KINH_FAMILY.iter().map(share).sum();
    let mut x = rng.unit() * total;
    for entry in KINH_FAMILY {
        if x < share(entry) {
            return entry.0;
        }
        x -= share(entry);
    }
    KINH_FAMILY[0].0
}

/// A Vietnamese-way name: family, up to two middle words, given.
fn vietnamese(family: &str, sex: Sex, birth_year: i32, rng: &mut Stream) -> String {
    let male = sex == Sex::Male;
    let [two, three, four] = word_shares(sex, birth_year);
    let words = rng.weighted(&[(2, two), (3, three), (4, four)]);
    let mut parts = vec![family];
    if words >= 3 {
        let traditional = traditional_middle_share(sex, birth_year, words) / 100.0;
        let first = if rng.chance(traditional) {
            if male { "Văn" } else { "Thị" }
        } else {
            draw_except(rng, if male { MIDDLE_MALE } else { MIDDLE_FEMALE }, &parts)
        };
        parts.push(first);
    }
    if words == 4 {
        let second = if male {
            SECOND_MIDDLE_MALE
        } else {
            SECOND_MIDDLE_FEMALE
        };
        let second = draw_except(rng, second, &parts);
        parts.push(second);
    }
    let given = pick_except(rng, if male { GIVEN_MALE } else { GIVEN_FEMALE }, &parts);
    parts.push(given);
    parts.join(" ")
}

/// Whether `word` is one of `avoid`: the lengths and last bytes first, which tell most words
/// apart without comparing them whole.
fn avoided(avoid: &[&str], word: &str) -> bool {
    let last = word.as_bytes().last();
    avoid
        .iter()
        .any(|a| a.len() == word.len() && a.as_bytes().last() == last && *a == word)
}

/// Draws by weight from the entries not in `avoid` (all of them if that leaves none).
fn draw_except(rng: &mut Stream, table: &[(&'static str, f64)], avoid: &[&str]) -> &'static str {
    let kept = || table.iter().filter(|(w, _)| !avoided(avoid, w));
    let total: f64 = kept().map(|(_, weight)| weight).sum();
    let Some(&(last, _)) = kept().next_back() else {
        return rng.weighted(table);
    };
    // As `Stream::weighted` over the kept entries, without collecting them.
    let mut x = rng.unit() * total;
    for &(word, weight) in kept() {
        if x < weight {
            return word;
        }
        x -= weight;
    }
    last
}

/// Picks uniformly from the entries not in `avoid` (all of them if that leaves none).
fn pick_except(rng: &mut Stream, list: &[&'static str], avoid: &[&str]) -> &'static str {
    let kept = || list.iter().filter(|w| !avoided(avoid, w));
    let n = kept().count();
    if n == 0 {
        return list[rng.below(list.len() as u64) as usize];
    }
    kept()
        .nth(rng.below(n as u64) as usize)
        .copied()
        .unwrap_or(list[0])
}
