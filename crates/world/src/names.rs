//! Name tables: Vietnamese naming by realistic shares, and the naming customs of some
//! ethnic groups (Chăm, Raglai, Khmer, H'Mông, Ê Đê, Gia Rai).

use super::permutation::Stream;
use sandbox06_vn::Sex;

/// Kinh family names with their approximate shares in percent.
pub const KINH_FAMILY: &[(&str, f64)] = &[
    ("Nguyễn", 38.0),
    ("Trần", 11.0),
    ("Lê", 9.5),
    ("Phạm", 7.0),
    ("Hoàng", 3.0),
    ("Huỳnh", 2.0),
    ("Phan", 4.5),
    ("Vũ", 2.0),
    ("Võ", 1.9),
    ("Đặng", 2.1),
    ("Bùi", 2.0),
    ("Đỗ", 1.4),
    ("Hồ", 1.3),
    ("Ngô", 1.3),
    ("Dương", 1.0),
    ("Lý", 0.5),
    ("Đinh", 0.8),
    ("Trương", 0.8),
    ("Đào", 0.5),
    ("Đoàn", 0.5),
    ("Mai", 0.5),
    ("Trịnh", 0.5),
    ("Hà", 0.5),
    ("Lâm", 0.4),
    ("Cao", 0.4),
    ("Lương", 0.4),
    ("Phùng", 0.3),
    ("Tạ", 0.3),
    ("Châu", 0.3),
    ("Tô", 0.2),
    ("Lưu", 0.2),
    ("Quách", 0.2),
    ("Thái", 0.2),
    ("Vương", 0.2),
    ("Lại", 0.2),
    ("Kiều", 0.1),
    ("La", 0.1),
];

const KINH_MIDDLE_MALE: &[(&str, f64)] = &[
    ("Văn", 30.0),
    ("Hữu", 8.0),
    ("Đức", 8.0),
    ("Minh", 10.0),
    ("Quốc", 6.0),
    ("Thanh", 6.0),
    ("Xuân", 4.0),
    ("Công", 5.0),
    ("Gia", 4.0),
    ("Hoàng", 4.0),
    ("Ngọc", 3.0),
    ("Tiến", 3.0),
    ("Anh", 3.0),
    ("Trung", 3.0),
    ("Đình", 3.0),
];
const KINH_MIDDLE_FEMALE: &[(&str, f64)] = &[
    ("Thị", 40.0),
    ("Ngọc", 9.0),
    ("Thu", 6.0),
    ("Thanh", 6.0),
    ("Minh", 5.0),
    ("Thùy", 5.0),
    ("Phương", 4.0),
    ("Bảo", 4.0),
    ("Kim", 4.0),
    ("Hồng", 4.0),
    ("Khánh", 3.0),
    ("Mỹ", 3.0),
    ("Hoài", 2.0),
    ("Diệu", 2.0),
];
const KINH_GIVEN_MALE: &[&str] = &[
    "An", "Anh", "Bảo", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Đức", "Dương", "Hải", "Hiếu",
    "Hoàng", "Hùng", "Huy", "Khang", "Khánh", "Khoa", "Kiên", "Lâm", "Long", "Luân", "Minh", "Nam",
    "Nghĩa", "Nhân", "Phong", "Phúc", "Quang", "Quân", "Sơn", "Tài", "Tâm", "Thắng", "Thành",
    "Thiện", "Tiến", "Toàn", "Trung", "Tuấn", "Tùng", "Việt", "Vinh", "Vũ", "Lộc", "Hưng",
];
const KINH_GIVEN_FEMALE: &[&str] = &[
    "An", "Anh", "Bích", "Chi", "Diệp", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa",
    "Hồng", "Hương", "Huyền", "Lan", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Ngọc", "Nhung",
    "Oanh", "Phương", "Quỳnh", "Tâm", "Thảo", "Thu", "Thủy", "Trang", "Trinh", "Tuyết", "Uyên",
    "Vân", "Vy", "Xuân", "Yến", "Hạ", "Thư", "Nhi",
];

const CHAM_FAMILY: &[(&str, f64)] = &[
    ("Đàng", 25.0),
    ("Thiên", 10.0),
    ("Quảng", 12.0),
    ("Lưu", 10.0),
    ("Thuận", 8.0),
    ("Châu", 6.0),
    ("Thông", 6.0),
    ("Bá", 6.0),
    ("Hán", 5.0),
    ("Phú", 4.0),
    ("Trượng", 4.0),
    ("Lộ", 4.0),
];
const CHAM_GIVEN_MALE: &[&str] = &[
    "Năng Thọ",
    "Đại Tuyên",
    "Quang Sương",
    "Sanh",
    "Văn Đạt",
    "Ngọc Thành",
    "Văn Phú",
    "Minh Kha",
    "Văn Sơn",
    "Chiến",
];
const CHAM_GIVEN_FEMALE: &[&str] = &[
    "Thị Bích Ngọc",
    "Thị Hương",
    "Thị Sen",
    "Thị Mỹ Hạnh",
    "Thị Nhung",
    "Thị Thu",
    "Thị Xuân",
    "Thị Hoa",
];

const RAGLAI_FAMILY: &[(&str, f64)] = &[
    ("Chamaléa", 40.0),
    ("Pinăng", 25.0),
    ("Katơr", 15.0),
    ("Mấu", 10.0),
    ("Cao", 5.0),
    ("Pi Năng", 5.0),
];
const RAGLAI_GIVEN_MALE: &[&str] = &[
    "Bốn",
    "Nhẫn",
    "Tiến",
    "Văn Thanh",
    "Ba",
    "Sáu",
    "Đức",
    "Văn Minh",
];
const RAGLAI_GIVEN_FEMALE: &[&str] = &[
    "Thị Hồng",
    "Thị Bé",
    "Thị Mai",
    "Thị Hoa",
    "Thị Nhàn",
    "Thị Lan",
];

const KHMER_FAMILY: &[(&str, f64)] = &[
    ("Thạch", 30.0),
    ("Danh", 20.0),
    ("Sơn", 15.0),
    ("Kim", 10.0),
    ("Lâm", 8.0),
    ("Trà", 6.0),
    ("Lý", 6.0),
    ("Châu", 5.0),
];
const KHMER_GIVEN_MALE: &[&str] = &[
    "Sa Rết",
    "Sô Phanh",
    "Sóc",
    "Vanh",
    "Thươl",
    "Ra",
    "Chanh Đa",
    "Sang",
];
const KHMER_GIVEN_FEMALE: &[&str] = &[
    "Thị Sa Ry",
    "Thị Sô Phia",
    "Thị Sóc Khươl",
    "Thị Chanh Thu",
    "Thị Phol",
    "Thị Ni",
];

const HMONG_FAMILY: &[(&str, f64)] = &[
    ("Giàng", 25.0),
    ("Thào", 15.0),
    ("Vàng", 15.0),
    ("Sùng", 12.0),
    ("Lù", 8.0),
    ("Hầu", 7.0),
    ("Mùa", 6.0),
    ("Vừ", 6.0),
    ("Lý", 6.0),
];
const HMONG_GIVEN_MALE: &[&str] = &[
    "A Páo",
    "A Chứ",
    "Mí Sính",
    "A Dính",
    "Seo Lử",
    "A Sử",
    "Chứ Vàng",
];
const HMONG_GIVEN_FEMALE: &[&str] = &[
    "Thị Mỷ",
    "Thị Dở",
    "Thị Sua",
    "Thị Mai",
    "Thị Chở",
    "Thị Say",
];

const HIGHLAND_FAMILY: &[(&str, f64)] = &[
    ("Niê", 20.0),
    ("Ksor", 20.0),
    ("Rơ Châm", 12.0),
    ("Siu", 12.0),
    ("Rơ Mah", 10.0),
    ("Ayun", 10.0),
    ("Mlô", 8.0),
    ("Byă", 8.0),
];
const HIGHLAND_GIVEN_MALE: &[&str] = &["Y Bhin", "Y Phun", "Y Thông", "Y Nuê", "Y Blai", "Y Jơ"];
const HIGHLAND_GIVEN_FEMALE: &[&str] = &["H'Hen", "H'Linh", "H'Ngơn", "H'Lan", "H'Bia", "H'Yim"];

/// How an ethnic group forms full names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamingCustom {
    /// Family, middle, given (Kinh and most groups).
    Vietnamese,
    /// Chăm family name then Chăm given names.
    Cham,
    /// Raglai family name first.
    Raglai,
    /// Khmer family names.
    Khmer,
    /// H'Mông clan name first.
    Hmong,
    /// Ê Đê: given name with Y/H' prefix, then family name.
    Ede,
    /// Gia Rai: family name, then given name with Y/H' prefix.
    GiaRai,
}

impl NamingCustom {
    /// The custom of an ethnic group.
    pub fn of(ethnicity: &str) -> Self {
        match ethnicity {
            "Chăm" => NamingCustom::Cham,
            "Raglai" | "Ra Glai" => NamingCustom::Raglai,
            "Khmer" | "Khơ-me" => NamingCustom::Khmer,
            "H'Mông" | "Mông" => NamingCustom::Hmong,
            "Ê Đê" | "Ê-đê" => NamingCustom::Ede,
            "Gia Rai" | "Gia-rai" => NamingCustom::GiaRai,
            _ => NamingCustom::Vietnamese,
        }
    }

    /// Draws a family name.
    pub fn family(self, rng: &mut Stream) -> &'static str {
        let table = match self {
            NamingCustom::Vietnamese => KINH_FAMILY,
            NamingCustom::Cham => CHAM_FAMILY,
            NamingCustom::Raglai => RAGLAI_FAMILY,
            NamingCustom::Khmer => KHMER_FAMILY,
            NamingCustom::Hmong => HMONG_FAMILY,
            NamingCustom::Ede | NamingCustom::GiaRai => HIGHLAND_FAMILY,
        };
        rng.weighted(table)
    }

    /// Forms a full name around an inherited family name.
    pub fn full_name(self, family: &str, sex: Sex, birth_year: i32, rng: &mut Stream) -> String {
        let pick =
            |rng: &mut Stream, male: &'static [&'static str], female: &'static [&'static str]| {
                *rng.pick(if sex == Sex::Male { male } else { female })
            };
        match self {
            NamingCustom::Vietnamese => {
                let middle_table = if sex == Sex::Male {
                    KINH_MIDDLE_MALE
                } else {
                    KINH_MIDDLE_FEMALE
                };
                // Younger generations use "Văn" and "Thị" much less.
                let mut middle = rng.weighted(middle_table);
                if birth_year >= 1990 && matches!(middle, "Văn" | "Thị") && rng.chance(0.6) {
                    middle = rng.weighted(&middle_table[1..]);
                }
                let given = pick(rng, KINH_GIVEN_MALE, KINH_GIVEN_FEMALE);
                format!("{family} {middle} {given}")
            }
            other => {
                let (male, female) = match other {
                    NamingCustom::Cham => (CHAM_GIVEN_MALE, CHAM_GIVEN_FEMALE),
                    NamingCustom::Raglai => (RAGLAI_GIVEN_MALE, RAGLAI_GIVEN_FEMALE),
                    NamingCustom::Khmer => (KHMER_GIVEN_MALE, KHMER_GIVEN_FEMALE),
                    NamingCustom::Hmong => (HMONG_GIVEN_MALE, HMONG_GIVEN_FEMALE),
                    _ => (HIGHLAND_GIVEN_MALE, HIGHLAND_GIVEN_FEMALE),
                };
                let given = pick(rng, male, female);
                // Ê Đê names put the family name last; the other customs put it first.
                if other == NamingCustom::Ede {
                    format!("{given} {family}")
                } else {
                    format!("{family} {given}")
                }
            }
        }
    }
}

/// Street names used for urban addresses.
pub const STREETS: &[&str] = &[
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Nguyễn Huệ",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Quang Trung",
    "Hùng Vương",
    "Nguyễn Trãi",
    "Lê Duẩn",
    "Phan Chu Trinh",
    "Điện Biên Phủ",
    "Võ Thị Sáu",
    "Nguyễn Văn Cừ",
    "Trần Phú",
    "Lê Lai",
    "Ngô Quyền",
    "Bà Triệu",
    "Phạm Văn Đồng",
];

/// Identifying marks as the card words them.
pub const MARKS: &[&str] = &[
    "Nốt ruồi C:1cm trên đuôi mắt trái",
    "Nốt ruồi C:2cm dưới sau mép phải",
    "Sẹo chấm C:1cm trên đầu mày phải",
    "Sẹo chấm C:2cm dưới cằm",
    "Nốt ruồi C:1,5cm dưới trước cánh mũi trái",
    "Sẹo thẳng dài 1cm C:3cm trên trước tai phải",
];
