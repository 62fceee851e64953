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
                [family, " ", van_thi, " ", given].concat()
            }
            NamingCustom::Hmong => {
                let prefix = rng.weighted(if male {
                    HMONG_PREFIX_MALE
                } else {
                    HMONG_PREFIX_FEMALE
                });
                let given = rng.pick(by_sex(HMONG_GIVEN_MALE, HMONG_GIVEN_FEMALE));
                [family, " ", prefix, " ", given].concat()
            }
            NamingCustom::Ede => {
                let prefix = if male {
                    EDE_MALE_PREFIX
                } else {
                    HIGHLAND_FEMALE_PREFIX
                };
                let given = rng.pick(by_sex(EDE_GIVEN_MALE, EDE_GIVEN_FEMALE));
                [prefix, given, " ", family].concat()
            }
            NamingCustom::GiaRai => {
                let prefix = if male { "" } else { HIGHLAND_FEMALE_PREFIX };
                let given = rng.pick(by_sex(GIARAI_GIVEN_MALE, GIARAI_GIVEN_FEMALE));
                [family, " ", prefix, given].concat()
            }
            NamingCustom::Khmer => {
                let given = rng.pick(by_sex(KHMER_GIVEN_MALE, KHMER_GIVEN_FEMALE));
                if province == AN_GIANG && rng.chance(AN_GIANG_CHAU_NEANG / 100.0) {
                    [if male { CHAU } else { NEANG }, " ", given].concat()
                } else if male {
                    [family, " ", given].concat()
                } else {
                    [family, " Thị ", given].concat()
                }
            }
            NamingCustom::Cham => {
                if male && !rng.chance(CHAM_VAN / 100.0) {
                    [family, " ", *rng.pick(CHAM_COMPOUND_MALE)].concat()
                } else {
                    let given = rng.pick(by_sex(CHAM_GIVEN_MALE, CHAM_GIVEN_FEMALE));
                    [family, " ", van_thi, " ", given].concat()
                }
            }
            NamingCustom::Raglai => {
                let given = rng.pick(by_sex(RAGLAI_GIVEN_MALE, RAGLAI_GIVEN_FEMALE));
                [family, " ", van_thi, " ", given].concat()
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
    let south = province >= SOUTH_FROM;
    let share = |&(_, north, south_share): &(&str, f64, f64)| {
        if south { south_share } else { north }
    };
    let total = if south { KINH_TOTAL[1] } else { KINH_TOTAL[0] };
    let mut x = rng.unit() * total;
    for entry in KINH_FAMILY {
        if x < share(entry) {
            return entry.0;
        }
        x -= share(entry);
    }
    KINH_FAMILY[0].0
}

/// The sums of the Kinh family names' northern and southern shares, added up in table order
/// as a sum over the table would add them.
const KINH_TOTAL: [f64; 2] = {
    let (mut north, mut south, mut i) = (-0.0, -0.0, 0);
    while i < KINH_FAMILY.len() {
        north += KINH_FAMILY[i].1;
        south += KINH_FAMILY[i].2;
        i += 1;
    }
    [north, south]
};

/// A Vietnamese-way name: family, up to two middle words, given.
fn vietnamese(family: &str, sex: Sex, birth_year: i32, rng: &mut Stream) -> String {
    let male = sex == Sex::Male;
    let [two, three, four] = word_shares(sex, birth_year);
    let words = rng.weighted(&[(2, two), (3, three), (4, four)]);
    // The words so far: each next one is drawn avoiding them.
    let mut parts = [family; 4];
    let mut n = 1;
    if words >= 3 {
        let traditional = traditional_middle_share(sex, birth_year, words) / 100.0;
        parts[n] = if rng.chance(traditional) {
            if male { "Văn" } else { "Thị" }
        } else {
            let (table, keys) = if male {
                (MIDDLE_MALE, &MIDDLE_MALE_KEYS[..])
            } else {
                (MIDDLE_FEMALE, &MIDDLE_FEMALE_KEYS[..])
            };
            draw_except(rng, table, keys, &parts[..n])
        };
        n += 1;
    }
    if words == 4 {
        let (table, keys) = if male {
            (SECOND_MIDDLE_MALE, &SECOND_MIDDLE_MALE_KEYS[..])
        } else {
            (SECOND_MIDDLE_FEMALE, &SECOND_MIDDLE_FEMALE_KEYS[..])
        };
        parts[n] = draw_except(rng, table, keys, &parts[..n]);
        n += 1;
    }
    let (list, keys) = if male {
        (GIVEN_MALE, &GIVEN_MALE_KEYS[..])
    } else {
        (GIVEN_FEMALE, &GIVEN_FEMALE_KEYS[..])
    };
    parts[n] = pick_except(rng, list, keys, &parts[..n]);
    // `join` sizes the string once, from the words' lengths.
    parts[..=n].join(" ")
}

/// A word's length, first and last bytes in one number: the words of a table differ in it
/// but for a few, so a word is looked for in a table by its key before it is compared whole.
const fn word_key(word: &str) -> u32 {
    let bytes = word.as_bytes();
    if bytes.is_empty() {
        return 0;
    }
    ((bytes.len() as u32) << 16) | ((bytes[0] as u32) << 8) | bytes[bytes.len() - 1] as u32
}

/// The [`word_key`]s of a weighted table's words, in table order.
const fn table_keys<const N: usize>(table: &[(&str, f64)]) -> [u32; N] {
    let mut keys = [0; N];
    let mut i = 0;
    while i < N {
        keys[i] = word_key(table[i].0);
        i += 1;
    }
    keys
}

/// The [`word_key`]s of a list's words, in list order.
const fn list_keys<const N: usize>(list: &[&str]) -> [u32; N] {
    let mut keys = [0; N];
    let mut i = 0;
    while i < N {
        keys[i] = word_key(list[i]);
        i += 1;
    }
    keys
}

const MIDDLE_MALE_KEYS: [u32; MIDDLE_MALE.len()] = table_keys(MIDDLE_MALE);
const MIDDLE_FEMALE_KEYS: [u32; MIDDLE_FEMALE.len()] = table_keys(MIDDLE_FEMALE);
const SECOND_MIDDLE_MALE_KEYS: [u32; SECOND_MIDDLE_MALE.len()] = table_keys(SECOND_MIDDLE_MALE);
const SECOND_MIDDLE_FEMALE_KEYS: [u32; SECOND_MIDDLE_FEMALE.len()] =
    table_keys(SECOND_MIDDLE_FEMALE);
const GIVEN_MALE_KEYS: [u32; GIVEN_MALE.len()] = list_keys(GIVEN_MALE);
const GIVEN_FEMALE_KEYS: [u32; GIVEN_FEMALE.len()] = list_keys(GIVEN_FEMALE);

/// The words of a table that are one of `avoid`, one bit each by position: `keys` are their
/// [`word_key`]s and `word(i)` the `i`th.
fn avoided(keys: &[u32], word: impl Fn(usize) -> &'static str, avoid: &[&str]) -> u64 {
    let mut mask = 0;
    for a in avoid {
        let key = word_key(a);
        for (i, &k) in keys.iter().enumerate() {
            if k == key && word(i) == *a {
                mask |= 1 << i;
            }
        }
    }
    mask
}

/// The tables [`draw_except`] and [`pick_except`] draw from: each entry has a bit of a `u64`.
const _: () = assert!(
    MIDDLE_MALE.len() <= 64
        && MIDDLE_FEMALE.len() <= 64
        && SECOND_MIDDLE_MALE.len() <= 64
        && SECOND_MIDDLE_FEMALE.len() <= 64
        && GIVEN_MALE.len() <= 64
        && GIVEN_FEMALE.len() <= 64
);

/// Draws by weight from the entries not in `avoid` (all of them if that leaves none), of a
/// table of at most 64 whose words' [`word_key`]s are `keys`.
fn draw_except(
    rng: &mut Stream,
    table: &[(&'static str, f64)],
    keys: &[u32],
    avoid: &[&str],
) -> &'static str {
    let skipped = avoided(keys, |i| table[i].0, avoid);
    // The kept entries' total (added in table order, as a sum over them would) and the last.
    let (mut total, mut last) = (-0.0, None);
    for (i, &(word, weight)) in table.iter().enumerate() {
        if skipped & 1 << i == 0 {
            total += weight;
            last = Some(word);
        }
    }
    let Some(last) = last else {
        return rng.weighted(table);
    };
    // As `Stream::weighted` over the kept entries, without collecting them.
    let mut x = rng.unit() * total;
    for (i, &(word, weight)) in table.iter().enumerate() {
        if skipped & 1 << i != 0 {
            continue;
        }
        if x < weight {
            return word;
        }
        x -= weight;
    }
    last
}

/// Picks uniformly from the entries not in `avoid` (all of them if that leaves none), of a
/// list of at most 64 whose words' [`word_key`]s are `keys`.
fn pick_except(
    rng: &mut Stream,
    list: &[&'static str],
    keys: &[u32],
    avoid: &[&str],
) -> &'static str {
    let mut skipped = avoided(keys, |i| list[i], avoid);
    let n = list.len() - skipped.count_ones() as usize;
    if n == 0 {
        return list[rng.below(list.len() as u64) as usize];
    }
    // The `k`th kept entry: `k` plus the skipped entries before it, taken in order.
    let mut k = rng.below(n as u64) as usize;
    while skipped != 0 && skipped.trailing_zeros() as usize <= k {
        k += 1;
        skipped &= skipped - 1;
    }
    list[k]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kinh_totals_are_the_sums_of_the_table() {
        let north: f64 = KINH_FAMILY.iter().map(|e| e.1).sum();
        let south: f64 = KINH_FAMILY.iter().map(|e| e.2).sum();
        assert_eq!(KINH_TOTAL[0].to_bits(), north.to_bits());
        assert_eq!(KINH_TOTAL[1].to_bits(), south.to_bits());
    }

    /// Every avoided word list a name can ask with, of words of the tables and family names.
    fn avoid_lists() -> Vec<Vec<&'static str>> {
        let mut words: Vec<&'static str> = vec!["Nguyễn", "Hoàng", "Kim", "Văn", "Thị", "Zzz"];
        for table in [
            MIDDLE_MALE,
            MIDDLE_FEMALE,
            SECOND_MIDDLE_MALE,
            SECOND_MIDDLE_FEMALE,
        ] {
            words.extend(table.iter().map(|(w, _)| *w));
        }
        words.extend(GIVEN_MALE.iter().chain(GIVEN_FEMALE));
        let mut lists = vec![Vec::new()];
        for (i, &a) in words.iter().enumerate() {
            lists.push(vec![a]);
            lists.push(vec![a, words[(i * 7 + 3) % words.len()]]);
            lists.push(vec![
                words[(i * 5 + 1) % words.len()],
                a,
                words[(i * 11 + 2) % words.len()],
            ]);
        }
        lists
    }

    #[test]
    fn drawing_except_draws_what_a_draw_over_the_kept_entries_draws() {
        for (table, keys) in [
            (MIDDLE_MALE, &MIDDLE_MALE_KEYS[..]),
            (MIDDLE_FEMALE, &MIDDLE_FEMALE_KEYS[..]),
            (SECOND_MIDDLE_MALE, &SECOND_MIDDLE_MALE_KEYS[..]),
            (SECOND_MIDDLE_FEMALE, &SECOND_MIDDLE_FEMALE_KEYS[..]),
        ] {
            // Every entry avoided: the whole table.
            let all: Vec<&str> = table.iter().map(|(w, _)| *w).collect();
            for (k, avoid) in avoid_lists().into_iter().chain([all]).enumerate() {
                let kept: Vec<(&str, f64)> = table
                    .iter()
                    .copied()
                    .filter(|(w, _)| !avoid.contains(w))
                    .collect();
                for seed in 0..20 {
                    let mut rng = Stream::new(&[k as u64, seed]);
                    let mut expected = rng.clone();
                    let expected = if kept.is_empty() {
                        expected.weighted(table)
                    } else {
                        expected.weighted(&kept)
                    };
                    assert_eq!(draw_except(&mut rng, table, keys, &avoid), expected);
                }
            }
        }
    }

    #[test]
    fn picking_except_picks_what_a_pick_of_the_kept_entries_picks() {
        for (list, keys) in [
            (GIVEN_MALE, &GIVEN_MALE_KEYS[..]),
            (GIVEN_FEMALE, &GIVEN_FEMALE_KEYS[..]),
        ] {
            for (k, avoid) in avoid_lists().into_iter().chain([list.to_vec()]).enumerate() {
                let kept: Vec<&str> = list
                    .iter()
                    .copied()
                    .filter(|w| !avoid.contains(w))
                    .collect();
                for seed in 0..20 {
                    let mut rng = Stream::new(&[k as u64, seed]);
                    let mut expected = rng.clone();
                    let expected = if kept.is_empty() {
                        *expected.pick(list)
                    } else {
                        *expected.pick(&kept)
                    };
                    assert_eq!(pick_except(&mut rng, list, keys, &avoid), expected);
                    assert_eq!(rng.next_u64(), {
                        let mut again = Stream::new(&[k as u64, seed]);
                        again.next_u64();
                        again.next_u64()
                    });
                }
            }
        }
    }
}
