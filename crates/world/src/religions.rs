//! Religions by ethnic group: a group with a table of its own draws from it, the Kinh from their
//! province's table without the religions of other groups. Shares are percentages;
//! docs/domain.md gives their sources or marks them as estimates.

use crate::permutation::Stream;

/// What the database records for no religion.
pub const NONE: &str = "Không";

/// Religions held almost only by one ethnic group, with that group: a province's table gives
/// them to no one else.
pub const ETHNIC_RELIGIONS: &[(&str, &str)] = &[("Bà-la-môn", "Chăm"), ("Hồi giáo", "Chăm")];

/// The Chăm: Brahmanist (Chăm Bà Chăm), Muslim (Bani and Sunni), or none recorded.
pub const CHAM: &[(&str, f64)] = &[("Bà-la-môn", 36.0), ("Hồi giáo", 40.0), (NONE, 24.0)];
/// The Khmer: Theravada Buddhists for the most part.
pub const KHMER: &[(&str, f64)] = &[("Phật giáo", 90.0), (NONE, 10.0)];
/// The Hoa.
pub const HOA: &[(&str, f64)] = &[("Phật giáo", 45.0), (NONE, 55.0)];
/// The H'Mông and the groups of the Central Highlands, among whom Protestant and Catholic
/// churches grew.
pub const HIGHLANDS: &[(&str, f64)] = &[("Tin lành", 30.0), ("Công giáo", 15.0), (NONE, 55.0)];
/// Every other group but the Kinh: folk beliefs, which the database records as none.
pub const FOLK: &[(&str, f64)] = &[(NONE, 100.0)];

/// The table of an ethnic group; `None` for the Kinh, who follow their province's.
pub fn of_group(ethnicity: &str) -> Option<&'static [(&'static str, f64)]> {
    match ethnicity {
        "Kinh" => None,
        "Chăm" => Some(CHAM),
        "Khmer" => Some(KHMER),
        "Hoa" => Some(HOA),
        "H'Mông" | "Ê Đê" | "Gia Rai" | "Ba Na" | "M'Nông" | "Cơ Ho" => Some(HIGHLANDS),
        _ => Some(FOLK),
    }
}

/// Whether a religion belongs to one ethnic group only.
pub fn is_ethnic(religion: &str) -> bool {
    ETHNIC_RELIGIONS.iter().any(|(r, _)| *r == religion)
}

/// Draws the religion of someone of `ethnicity` from a province's table (shares of its whole
/// population; no religion is the rest). The Kinh draw from that table without the ethnic
/// religions, scaled up to the population that remains once their faithful are set apart.
pub fn draw(ethnicity: &str, province: &[(&'static str, f64)], rng: &mut Stream) -> &'static str {
    if let Some(table) = of_group(ethnicity) {
        return rng.weighted(table);
    }
    let removed: f64 = province
        .iter()
        .filter(|(r, _)| is_ethnic(r))
        .map(|(_, share)| share)
        .sum();
    let scale = 100.0 / (100.0 - removed).max(1.0);
    let mut x = rng.unit() * 100.0;
    for (religion, share) in province.iter().filter(|(r, _)| !is_ethnic(r)) {
        let share = share * scale;
        if x < share {
            return religion;
        }
        x -= share;
    }
    NONE
}
