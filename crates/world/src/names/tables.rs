//! The name tables: family names by people and region, middle and given names by sex and
//! cohort, the customs' prefixes and given names, and the streets and marks of addresses.
//! Shares are percentages (weights: a table need not sum to 100); every name is NFC.

/// The first pre-2025 province code of the south for family names: Đà Nẵng (48) and every
/// province after it in GSO order lie from there southwards.
pub const SOUTH_FROM: u8 = 48;

/// An Giang's pre-2025 province code: its Khmer are often named with "Chau" or "Néang".
pub const AN_GIANG: u8 = 89;

/// Kinh family names: share in the north (codes below [`SOUTH_FROM`]) and in the south. Hoàng
/// and Vũ are read Huỳnh and Võ in the south, so each pair keeps its national share.
pub const KINH_FAMILY: &[(&str, f64, f64)] = &[
    ("Nguyễn", 38.4, 38.4),
    ("Trần", 11.0, 11.0),
    ("Lê", 9.5, 9.5),
    ("Phạm", 7.1, 7.1),
    ("Hoàng", 4.7, 0.8),
    ("Huỳnh", 0.4, 4.3),
    ("Phan", 4.5, 4.5),
    ("Vũ", 3.3, 0.5),
    ("Võ", 0.6, 3.4),
    ("Đặng", 2.1, 2.1),
    ("Bùi", 2.0, 2.0),
    ("Đỗ", 1.4, 1.4),
    ("Hồ", 1.3, 1.3),
    ("Ngô", 1.3, 1.3),
    ("Dương", 1.0, 1.0),
    ("Lý", 0.5, 0.5),
    ("Đinh", 0.8, 0.6),
    ("Trương", 0.6, 0.9),
    ("Đào", 0.6, 0.4),
    ("Đoàn", 0.5, 0.5),
    ("Mai", 0.5, 0.5),
    ("Trịnh", 0.7, 0.3),
    ("Hà", 0.5, 0.3),
    ("Lâm", 0.3, 0.5),
    ("Cao", 0.4, 0.4),
    ("Lương", 0.4, 0.4),
    ("Phùng", 0.4, 0.2),
    ("Tạ", 0.3, 0.3),
    ("Châu", 0.1, 0.4),
    ("Tô", 0.2, 0.2),
    ("Lưu", 0.2, 0.3),
    ("Quách", 0.2, 0.2),
    ("Thái", 0.2, 0.2),
    ("Vương", 0.2, 0.2),
    ("Lại", 0.2, 0.1),
    ("Kiều", 0.1, 0.1),
    ("La", 0.1, 0.1),
];

/// Tày family names.
pub const TAY_FAMILY: &[(&str, f64)] = &[
    ("Hoàng", 20.0),
    ("Nông", 15.0),
    ("Lương", 8.0),
    ("Bế", 8.0),
    ("Hà", 8.0),
    ("Nguyễn", 8.0),
    ("Đàm", 6.0),
    ("Triệu", 6.0),
    ("Ma", 5.0),
    ("Lục", 5.0),
    ("Lý", 5.0),
    ("Mông", 3.0),
    ("Ngôn", 3.0),
];

/// Nùng family names.
pub const NUNG_FAMILY: &[(&str, f64)] = &[
    ("Hoàng", 25.0),
    ("Nông", 15.0),
    ("Vi", 10.0),
    ("Lăng", 8.0),
    ("Chu", 8.0),
    ("Mã", 8.0),
    ("Lý", 8.0),
    ("Lương", 6.0),
    ("Triệu", 6.0),
    ("Hà", 6.0),
];

/// Mường family names.
pub const MUONG_FAMILY: &[(&str, f64)] = &[
    ("Bùi", 30.0),
    ("Đinh", 25.0),
    ("Quách", 15.0),
    ("Hà", 12.0),
    ("Bạch", 10.0),
    ("Xa", 8.0),
];

/// Dao family names.
pub const DAO_FAMILY: &[(&str, f64)] = &[
    ("Triệu", 30.0),
    ("Bàn", 25.0),
    ("Đặng", 15.0),
    ("Lý", 12.0),
    ("Phùng", 8.0),
    ("Chảo", 6.0),
    ("Tẩn", 4.0),
];

/// Hoa family names.
pub const HOA_FAMILY: &[(&str, f64)] = &[
    ("Lâm", 12.0),
    ("Trần", 12.0),
    ("Lý", 10.0),
    ("Trương", 10.0),
    ("Lương", 8.0),
    ("Hoàng", 8.0),
    ("Quách", 6.0),
    ("Châu", 6.0),
    ("Hứa", 6.0),
    ("Mã", 6.0),
    ("Tăng", 6.0),
    ("Huỳnh", 5.0),
    ("Dương", 5.0),
];

/// Thái family names.
pub const THAI_FAMILY: &[(&str, f64)] = &[
    ("Lò", 18.0),
    ("Lường", 14.0),
    ("Hà", 10.0),
    ("Vi", 10.0),
    ("Cầm", 9.0),
    ("Quàng", 7.0),
    ("Tòng", 6.0),
    ("Điêu", 4.0),
    ("Sầm", 3.0),
    ("Lự", 3.0),
    ("Bạc", 3.0),
    ("Khà", 3.0),
    ("Lang", 3.0),
    ("Lữ", 3.0),
];

/// H'Mông clan names.
pub const HMONG_FAMILY: &[(&str, f64)] = &[
    ("Giàng", 20.0),
    ("Thào", 14.0),
    ("Vàng", 14.0),
    ("Sùng", 11.0),
    ("Lý", 8.0),
    ("Lù", 7.0),
    ("Hạng", 6.0),
    ("Lầu", 6.0),
    ("Mùa", 5.0),
    ("Vừ", 5.0),
    ("Hầu", 4.0),
];

/// Ê Đê family names (written last).
pub const EDE_FAMILY: &[(&str, f64)] = &[
    ("Niê", 28.0),
    ("Mlô", 14.0),
    ("Ênuôl", 8.0),
    ("Byă", 8.0),
    ("Êban", 8.0),
    ("Ksơr", 8.0),
    ("Adrơng", 6.0),
    ("Knul", 5.0),
    ("Buôn Yă", 5.0),
    ("Hđơk", 4.0),
    ("Kbuôr", 3.0),
    ("Êya", 3.0),
];

/// Gia Rai family names (written first).
pub const GIARAI_FAMILY: &[(&str, f64)] = &[
    ("Ksor", 20.0),
    ("Siu", 15.0),
    ("Rơ Châm", 10.0),
    ("Rơ Mah", 10.0),
    ("Nay", 10.0),
    ("Kpă", 8.0),
    ("Puih", 8.0),
    ("Rah Lan", 7.0),
    ("Rmah", 6.0),
    ("Kpuih", 3.0),
    ("Rơ Ô", 3.0),
];

/// Khmer family names.
pub const KHMER_FAMILY: &[(&str, f64)] = &[
    ("Thạch", 30.0),
    ("Danh", 20.0),
    ("Sơn", 15.0),
    ("Kim", 10.0),
    ("Lâm", 8.0),
    ("Trà", 6.0),
    ("Lý", 6.0),
    ("Châu", 5.0),
];

/// Chăm family names.
pub const CHAM_FAMILY: &[(&str, f64)] = &[
    ("Đàng", 25.0),
    ("Quảng", 12.0),
    ("Thiên", 10.0),
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

/// Raglai family names.
pub const RAGLAI_FAMILY: &[(&str, f64)] = &[
    ("Chamaléa", 30.0),
    ("Pinăng", 22.0),
    ("Katơr", 15.0),
    ("Mấu", 12.0),
    ("Bo Bo", 8.0),
    ("Cao", 8.0),
    ("Pi Năng", 5.0),
];

/// Shares of Vietnamese-way names by word count, men: `(born before, [two, three, four])`.
/// A row holds from the end of the row above; the last row for everyone later.
pub const WORDS_MALE: &[(i32, [f64; 3])] = &[
    (1955, [5.0, 93.0, 2.0]),
    (1975, [3.0, 94.0, 3.0]),
    (1990, [1.5, 92.5, 6.0]),
    (2000, [1.0, 85.0, 14.0]),
    (2010, [1.0, 74.0, 25.0]),
    (i32::MAX, [0.5, 67.5, 32.0]),
];

/// Shares of Vietnamese-way names by word count, women, as [`WORDS_MALE`].
pub const WORDS_FEMALE: &[(i32, [f64; 3])] = &[
    (1955, [4.0, 91.0, 5.0]),
    (1975, [2.0, 90.0, 8.0]),
    (1990, [1.0, 81.0, 18.0]),
    (2000, [0.5, 64.5, 35.0]),
    (2010, [0.2, 44.8, 55.0]),
    (i32::MAX, [0.2, 34.8, 65.0]),
];

/// Share of women's Vietnamese-way names whose first middle word is "Thị":
/// `(born before, [in three-word names, in four-word names])`, rows as in [`WORDS_MALE`].
pub const THI_SHARES: &[(i32, [f64; 2])] = &[
    (1955, [97.0, 97.0]),
    (1975, [93.0, 93.0]),
    (1990, [75.0, 80.0]),
    (2000, [40.0, 55.0]),
    (2010, [12.0, 35.0]),
    (i32::MAX, [4.0, 28.0]),
];

/// Share of men's Vietnamese-way names whose first middle word is "Văn", as [`THI_SHARES`].
pub const VAN_SHARES: &[(i32, [f64; 2])] = &[
    (1955, [80.0, 60.0]),
    (1975, [70.0, 50.0]),
    (1990, [50.0, 30.0]),
    (2000, [25.0, 12.0]),
    (2010, [10.0, 5.0]),
    (i32::MAX, [5.0, 3.0]),
];

/// Men's first middle words other than "Văn".
pub(crate) const MIDDLE_MALE: &[(&str, f64)] = &[
    ("Minh", 10.0),
    ("Hữu", 8.0),
    ("Đức", 8.0),
    ("Quốc", 6.0),
    ("Thanh", 6.0),
    ("Công", 5.0),
    ("Xuân", 4.0),
    ("Gia", 4.0),
    ("Hoàng", 4.0),
    ("Ngọc", 3.0),
    ("Tiến", 3.0),
    ("Anh", 3.0),
    ("Trung", 3.0),
    ("Đình", 3.0),
    ("Quang", 3.0),
    ("Mạnh", 2.0),
    ("Nhật", 2.0),
];

/// Women's first middle words other than "Thị".
pub(crate) const MIDDLE_FEMALE: &[(&str, f64)] = &[
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
    ("Hà", 2.0),
    ("Quỳnh", 2.0),
];

/// Men's second middle words, in four-word names ("Nguyễn Hoàng Gia Bảo").
pub(crate) const SECOND_MIDDLE_MALE: &[(&str, f64)] = &[
    ("Minh", 12.0),
    ("Gia", 10.0),
    ("Anh", 8.0),
    ("Bảo", 8.0),
    ("Đức", 6.0),
    ("Quang", 6.0),
    ("Hoàng", 6.0),
    ("Thanh", 6.0),
    ("Nhật", 5.0),
    ("Hải", 5.0),
    ("Tuấn", 5.0),
    ("Khánh", 4.0),
    ("Duy", 4.0),
    ("Trung", 4.0),
    ("Thành", 4.0),
];

/// Women's second middle words, in four-word names ("Nguyễn Thị Thu Hà").
pub(crate) const SECOND_MIDDLE_FEMALE: &[(&str, f64)] = &[
    ("Thu", 10.0),
    ("Ngọc", 10.0),
    ("Bảo", 8.0),
    ("Minh", 8.0),
    ("Thanh", 8.0),
    ("Phương", 6.0),
    ("Khánh", 6.0),
    ("Thùy", 6.0),
    ("Mai", 5.0),
    ("Kim", 5.0),
    ("Hồng", 5.0),
    ("Diệu", 4.0),
    ("Quỳnh", 4.0),
    ("Hoài", 3.0),
    ("Tường", 3.0),
    ("Cẩm", 3.0),
];

pub(crate) const GIVEN_MALE: &[&str] = &[
    "An", "Anh", "Bảo", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Đức", "Dương", "Hải", "Hiếu",
    "Hoàng", "Hùng", "Huy", "Khang", "Khánh", "Khoa", "Kiên", "Lâm", "Long", "Luân", "Minh", "Nam",
    "Nghĩa", "Nhân", "Phong", "Phúc", "Quang", "Quân", "Sơn", "Tài", "Tâm", "Thắng", "Thành",
    "Thiện", "Tiến", "Toàn", "Trung", "Tuấn", "Tùng", "Việt", "Vinh", "Vũ", "Lộc", "Hưng", "Hòa",
    "Thịnh", "Khôi", "Đăng",
];
pub(crate) const GIVEN_FEMALE: &[&str] = &[
    "An", "Anh", "Bích", "Chi", "Diệp", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa",
    "Hồng", "Hương", "Huyền", "Lan", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Ngọc", "Nhung",
    "Oanh", "Phương", "Quỳnh", "Tâm", "Thảo", "Thu", "Thủy", "Trang", "Trinh", "Tuyết", "Uyên",
    "Vân", "Vy", "Xuân", "Yến", "Hạ", "Thư", "Nhi", "Lý", "Châu",
];

pub(crate) const THAI_GIVEN_MALE: &[&str] = &[
    "Pọm", "Thăm", "Ơn", "Panh", "Chăn", "Khăm", "Ính", "Bun", "Piệng", "Hặc", "Phăn", "Xiêng",
    "Un", "Thương", "Duấn", "Inh", "Kiên", "Xuân", "Tiến", "Lả",
];
pub(crate) const THAI_GIVEN_FEMALE: &[&str] = &[
    "Xôm", "Ín", "Hom", "Piếng", "Xương", "Pâng", "Ún", "Bua", "Hiêng", "Lanh", "Ơn", "Ên", "Xoan",
    "Ngọc", "Mai", "Xuân", "Hương", "Tươi", "Lả", "Kim",
];

/// The word before a H'Mông man's given name.
pub const HMONG_PREFIX_MALE: &[(&str, f64)] = &[("A", 60.0), ("Seo", 25.0), ("Chứ", 15.0)];
/// The word before a H'Mông woman's given name.
pub const HMONG_PREFIX_FEMALE: &[(&str, f64)] = &[("Thị", 70.0), ("Mí", 30.0)];
pub(crate) const HMONG_GIVEN_MALE: &[&str] = &[
    "Páo", "Lử", "Dính", "Sử", "Sình", "Của", "Pó", "Dế", "Tủa", "Chá", "Nhà", "Vư", "Sểnh", "Chu",
    "Chống", "Sính", "Vảng", "Tráng",
];
pub(crate) const HMONG_GIVEN_FEMALE: &[&str] = &[
    "Mỷ", "Dở", "Sua", "Chở", "Say", "Mai", "Xí", "Pà", "Súa", "Ly", "Chi", "Dính", "Sinh", "Máy",
    "Mò", "Dợ",
];

/// The prefix of an Ê Đê man's given name.
pub const EDE_MALE_PREFIX: &str = "Y ";
/// The prefix of an Ê Đê or Gia Rai woman's given name, written without a space.
pub const HIGHLAND_FEMALE_PREFIX: &str = "H'";
pub(crate) const EDE_GIVEN_MALE: &[&str] = &[
    "Moan", "Bhin", "Phun", "Thông", "Nuê", "Blai", "Jơ", "Kông", "Ngông", "Bih", "Thuyên", "Blôk",
    "Sơn", "Wang", "Djao", "Khuê",
];
pub(crate) const EDE_GIVEN_FEMALE: &[&str] = &[
    "Hen", "Linh", "Ngơn", "Bia", "Yim", "Zeo", "Mai", "Nga", "Juel", "Wen", "Duen", "Lan", "Hoan",
    "Ly",
];
pub(crate) const GIARAI_GIVEN_MALE: &[&str] = &[
    "Nhí", "Phơn", "Tuân", "Pết", "Blik", "Hyun", "Dun", "Kuêh", "Jen", "Thuk", "Byuh", "Luyn",
    "Sơn", "Đoan", "Brơi", "Hơi",
];
pub(crate) const GIARAI_GIVEN_FEMALE: &[&str] = &[
    "Bla", "Lan", "Mai", "Blơng", "Nguyên", "Ploi", "Yuh", "Ngai", "Bơ", "Ngoan", "Hương", "Nhi",
];

/// Share of Khmer in An Giang named with "Chau" (men) or "Néang" (women) before the given
/// name and no family name.
pub const AN_GIANG_CHAU_NEANG: f64 = 80.0;
/// The word before the given name of a Khmer man named the An Giang way.
pub const CHAU: &str = "Chau";
/// The word before the given name of a Khmer woman named the An Giang way.
pub const NEANG: &str = "Néang";
pub(crate) const KHMER_GIVEN_MALE: &[&str] = &[
    "Sóc Khonl",
    "Sô Phanh",
    "Sóc",
    "Vanh",
    "Thươl",
    "Ra",
    "Chanh Đa",
    "Sang",
    "Sa Rây",
    "Phol",
    "Kha",
    "Bô Pha",
    "Sa Vên",
    "Pích",
    "Ny",
];
pub(crate) const KHMER_GIVEN_FEMALE: &[&str] = &[
    "Sa Rết",
    "Sa Ry",
    "Sô Phia",
    "Sóc Khươl",
    "Chanh Thu",
    "Phol",
    "Ni",
    "Sa Vy",
    "Sóc Thia",
];

/// Share of Chăm men whose given name follows "Văn"; the others bear a two-word Chăm given
/// name ("Đàng Năng Thọ").
pub const CHAM_VAN: f64 = 70.0;
pub(crate) const CHAM_GIVEN_MALE: &[&str] = &[
    "Sơn", "Đạt", "Phú", "Chiến", "Thọ", "Tuyên", "Sương", "Sanh", "Kha", "Thành", "Hải", "Nhân",
    "Dũng", "Nguyên", "Tâm",
];
pub(crate) const CHAM_COMPOUND_MALE: &[&str] = &[
    "Năng Thọ",
    "Đại Tuyên",
    "Quang Sương",
    "Minh Kha",
    "Ngọc Thành",
    "Sanh Cảnh",
    "Bá Trung",
];
pub(crate) const CHAM_GIVEN_FEMALE: &[&str] = &[
    "Hương",
    "Sen",
    "Nhung",
    "Thu",
    "Xuân",
    "Hoa",
    "Mai",
    "Lan",
    "Nga",
    "Thúy",
    "Bích Ngọc",
    "Mỹ Hạnh",
    "Hồng",
];

pub(crate) const RAGLAI_GIVEN_MALE: &[&str] = &[
    "Bốn", "Nhẫn", "Tiến", "Thanh", "Ba", "Sáu", "Đức", "Minh", "Hai", "Năm", "Lâm", "Sa",
];
pub(crate) const RAGLAI_GIVEN_FEMALE: &[&str] = &[
    "Thủy", "Hồng", "Bé", "Mai", "Hoa", "Nhàn", "Lan", "Ba", "Sáu", "Nga",
];

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
