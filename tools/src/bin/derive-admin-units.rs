//! Derives the identity formats' compact reference data (`crates/vn/data/*.tsv`) from the
//! shared GSO administrative-unit lists and from census tables embedded below.
//!
//! ```text
//! cargo run -p sandbox06-tools --bin derive-admin-units -- <shared data dir> <out dir>
//! ```
//!
//! Inputs (in `<shared data dir>`):
//! - `admin-units-pre2025.csv`: `province_code,province_name,district_code,district_name,ward_code,ward_name`
//! - `admin-units-2025.csv`: `province_code,province_name,ward_code,ward_name`
//!
//! Outputs (in `<out dir>`, UTF-8, tab-separated, header first, sorted by code):
//! `provinces.tsv`, `communes-pre2025.tsv`, `communes-2025.tsv`, `ethnic-groups.tsv`,
//! `ethnicities.tsv`, `religions.tsv`. See `crates/vn/data/README.md`.
//!
//! Only the standard library is used. Every derived fact is checked; any inconsistency aborts with
//! a message and a non-zero exit status, and no file is written.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

type Result<T> = std::result::Result<T, String>;

// ---------------------------------------------------------------------------------------------
// Embedded reference tables
// ---------------------------------------------------------------------------------------------

/// Resolution 202/2025/QH15 (in force 1 July 2025): pre-2025 province code → 2025 province code.
/// The successor mapping is derived from the commune codes; this table only checks the result.
const RESOLUTION_202_2025: &[(&str, &str)] = &[
    ("01", "01"), // Hà Nội (unchanged)
    ("02", "08"), // Hà Giang → Tuyên Quang
    ("04", "04"), // Cao Bằng (unchanged)
    ("06", "19"), // Bắc Kạn → Thái Nguyên
    ("08", "08"), // Tuyên Quang
    ("10", "15"), // Lào Cai → Lào Cai (new code of Yên Bái)
    ("11", "11"), // Điện Biên (unchanged)
    ("12", "12"), // Lai Châu (unchanged)
    ("14", "14"), // Sơn La (unchanged)
    ("15", "15"), // Yên Bái → Lào Cai
    ("17", "25"), // Hòa Bình → Phú Thọ
    ("19", "19"), // Thái Nguyên
    ("20", "20"), // Lạng Sơn (unchanged)
    ("22", "22"), // Quảng Ninh (unchanged)
    ("24", "24"), // Bắc Giang → Bắc Ninh (new code 24)
    ("25", "25"), // Phú Thọ
    ("26", "25"), // Vĩnh Phúc → Phú Thọ
    ("27", "24"), // Bắc Ninh → Bắc Ninh (new code 24)
    ("30", "31"), // Hải Dương → Hải Phòng
    ("31", "31"), // Hải Phòng
    ("33", "33"), // Hưng Yên
    ("34", "33"), // Thái Bình → Hưng Yên
    ("35", "37"), // Hà Nam → Ninh Bình
    ("36", "37"), // Nam Định → Ninh Bình
    ("37", "37"), // Ninh Bình
    ("38", "38"), // Thanh Hóa (unchanged)
    ("40", "40"), // Nghệ An (unchanged)
    ("42", "42"), // Hà Tĩnh (unchanged)
    ("44", "44"), // Quảng Bình → Quảng Trị (new code 44)
    ("45", "44"), // Quảng Trị → Quảng Trị (new code 44)
    ("46", "46"), // Huế (unchanged)
    ("48", "48"), // Đà Nẵng
    ("49", "48"), // Quảng Nam → Đà Nẵng
    ("51", "51"), // Quảng Ngãi
    ("52", "52"), // Bình Định → Gia Lai (new code 52)
    ("54", "66"), // Phú Yên → Đắk Lắk
    ("56", "56"), // Khánh Hòa
    ("58", "56"), // Ninh Thuận → Khánh Hòa
    ("60", "68"), // Bình Thuận → Lâm Đồng
    ("62", "51"), // Kon Tum → Quảng Ngãi
    ("64", "52"), // Gia Lai → Gia Lai (new code 52)
    ("66", "66"), // Đắk Lắk
    ("67", "68"), // Đắk Nông → Lâm Đồng
    ("68", "68"), // Lâm Đồng
    ("70", "75"), // Bình Phước → Đồng Nai
    ("72", "80"), // Tây Ninh → Tây Ninh (new code 80)
    ("74", "79"), // Bình Dương → TP Hồ Chí Minh
    ("75", "75"), // Đồng Nai
    ("77", "79"), // Bà Rịa - Vũng Tàu → TP Hồ Chí Minh
    ("79", "79"), // TP Hồ Chí Minh
    ("80", "80"), // Long An → Tây Ninh (new code 80)
    ("82", "82"), // Tiền Giang → Đồng Tháp (new code 82)
    ("83", "86"), // Bến Tre → Vĩnh Long
    ("84", "86"), // Trà Vinh → Vĩnh Long
    ("86", "86"), // Vĩnh Long
    ("87", "82"), // Đồng Tháp → Đồng Tháp (new code 82)
    ("89", "91"), // An Giang → An Giang (new code 91)
    ("91", "91"), // Kiên Giang → An Giang (new code 91)
    ("92", "92"), // Cần Thơ
    ("93", "92"), // Hậu Giang → Cần Thơ
    ("94", "92"), // Sóc Trăng → Cần Thơ
    ("95", "96"), // Bạc Liêu → Cà Mau
    ("96", "96"), // Cà Mau
];

/// Population (persons) of each pre-2025 province at the 2019 Population and Housing Census
/// (GSO, "Kết quả toàn bộ Tổng điều tra dân số và nhà ở năm 2019", reference date 1 April 2019).
/// Sum: 96,208,984.
const POPULATION_2019: &[(&str, u64)] = &[
    ("01", 8_053_663), // Hà Nội
    ("02", 854_679),   // Hà Giang
    ("04", 530_341),   // Cao Bằng
    ("06", 313_905),   // Bắc Kạn
    ("08", 784_811),   // Tuyên Quang
    ("10", 730_420),   // Lào Cai
    ("11", 598_856),   // Điện Biên
    ("12", 460_196),   // Lai Châu
    ("14", 1_248_415), // Sơn La
    ("15", 821_030),   // Yên Bái
    ("17", 854_131),   // Hòa Bình
    ("19", 1_286_751), // Thái Nguyên
    ("20", 781_655),   // Lạng Sơn
    ("22", 1_320_324), // Quảng Ninh
    ("24", 1_803_950), // Bắc Giang
    ("25", 1_463_726), // Phú Thọ
    ("26", 1_151_154), // Vĩnh Phúc
    ("27", 1_368_840), // Bắc Ninh
    ("30", 1_892_254), // Hải Dương
    ("31", 2_028_514), // Hải Phòng
    ("33", 1_252_731), // Hưng Yên
    ("34", 1_860_447), // Thái Bình
    ("35", 852_800),   // Hà Nam
    ("36", 1_780_393), // Nam Định
    ("37", 982_487),   // Ninh Bình
    ("38", 3_640_128), // Thanh Hóa
    ("40", 3_327_791), // Nghệ An
    ("42", 1_288_866), // Hà Tĩnh
    ("44", 895_430),   // Quảng Bình
    ("45", 632_375),   // Quảng Trị
    ("46", 1_128_620), // Thừa Thiên Huế
    ("48", 1_134_310), // Đà Nẵng
    ("49", 1_495_812), // Quảng Nam
    ("51", 1_231_697), // Quảng Ngãi
    ("52", 1_486_918), // Bình Định
    ("54", 872_964),   // Phú Yên
    ("56", 1_231_107), // Khánh Hòa
    ("58", 590_467),   // Ninh Thuận
    ("60", 1_230_808), // Bình Thuận
    ("62", 540_438),   // Kon Tum
    ("64", 1_513_847), // Gia Lai
    ("66", 1_869_322), // Đắk Lắk
    ("67", 622_168),   // Đắk Nông
    ("68", 1_296_906), // Lâm Đồng
    ("70", 994_679),   // Bình Phước
    ("72", 1_169_165), // Tây Ninh
    ("74", 2_426_561), // Bình Dương
    ("75", 3_097_107), // Đồng Nai
    ("77", 1_148_313), // Bà Rịa - Vũng Tàu
    ("79", 8_993_082), // TP Hồ Chí Minh
    ("80", 1_688_547), // Long An
    ("82", 1_764_185), // Tiền Giang
    ("83", 1_288_463), // Bến Tre
    ("84", 1_009_168), // Trà Vinh
    ("86", 1_022_791), // Vĩnh Long
    ("87", 1_599_504), // Đồng Tháp
    ("89", 1_908_352), // An Giang
    ("91", 1_723_067), // Kiên Giang
    ("92", 1_235_171), // Cần Thơ
    ("93", 733_017),   // Hậu Giang
    ("94", 1_199_653), // Sóc Trăng
    ("95", 907_236),   // Bạc Liêu
    ("96", 1_194_476), // Cà Mau
];

/// Expected national total of [`POPULATION_2019`].
const POPULATION_2019_TOTAL: u64 = 96_208_984;

/// The 54 ethnic groups with their GSO codes (Decision 121-TCTK/PPCĐ of 2 March 1979, the list
/// used by every census since). Spelling follows current GSO publications; the 1979 list
/// hyphenates some names (Khơ-me, Gia-rai, Ê-đê, Ba-na, Xơ-đăng, Cơ-ho, Ra-glai, Xtiêng, HMông …).
const ETHNIC_GROUPS: &[(&str, &str)] = &[
    ("01", "Kinh"),
    ("02", "Tày"),
    ("03", "Thái"),
    ("04", "Hoa"),
    ("05", "Khmer"),
    ("06", "Mường"),
    ("07", "Nùng"),
    ("08", "H'Mông"),
    ("09", "Dao"),
    ("10", "Gia Rai"),
    ("11", "Ngái"),
    ("12", "Ê Đê"),
    ("13", "Ba Na"),
    ("14", "Xơ Đăng"),
    ("15", "Sán Chay"),
    ("16", "Cơ Ho"),
    ("17", "Chăm"),
    ("18", "Sán Dìu"),
    ("19", "Hrê"),
    ("20", "M'Nông"),
    ("21", "Raglai"),
    ("22", "Stiêng"),
    ("23", "Bru-Vân Kiều"),
    ("24", "Thổ"),
    ("25", "Giáy"),
    ("26", "Cơ Tu"),
    ("27", "Gié Triêng"),
    ("28", "Mạ"),
    ("29", "Khơ Mú"),
    ("30", "Co"),
    ("31", "Tà Ôi"),
    ("32", "Chơ Ro"),
    ("33", "Kháng"),
    ("34", "Xinh Mun"),
    ("35", "Hà Nhì"),
    ("36", "Chu Ru"),
    ("37", "Lào"),
    ("38", "La Chí"),
    ("39", "La Ha"),
    ("40", "Phù Lá"),
    ("41", "La Hủ"),
    ("42", "Lự"),
    ("43", "Lô Lô"),
    ("44", "Chứt"),
    ("45", "Mảng"),
    ("46", "Pà Thẻn"),
    ("47", "Cơ Lao"),
    ("48", "Cống"),
    ("49", "Bố Y"),
    ("50", "Si La"),
    ("51", "Pu Péo"),
    ("52", "Brâu"),
    ("53", "Ơ Đu"),
    ("54", "Rơ Măm"),
];

/// Non-Kinh ethnic groups at or above about 1% of each pre-2025 province's population, in percent,
/// approximately as in the 2019 census (hand-compiled, rounded; see the data README). Kinh is the
/// remainder and is not listed. Provinces with no group above ~1% have an empty list.
const ETHNIC_SHARES_2019: &[(&str, &[(&str, f64)])] = &[
    ("01", &[("Mường", 1.1)]),
    (
        "02",
        &[
            ("H'Mông", 32.0),
            ("Tày", 23.0),
            ("Dao", 15.0),
            ("Nùng", 9.9),
            ("Giáy", 2.0),
            ("La Chí", 1.6),
        ],
    ),
    (
        "04",
        &[
            ("Tày", 40.5),
            ("Nùng", 31.0),
            ("H'Mông", 11.8),
            ("Dao", 10.5),
        ],
    ),
    (
        "06",
        &[("Tày", 52.5), ("Dao", 17.0), ("Nùng", 9.7), ("H'Mông", 6.7)],
    ),
    (
        "08",
        &[
            ("Tày", 25.0),
            ("Dao", 11.4),
            ("Sán Chay", 8.2),
            ("H'Mông", 2.6),
            ("Sán Dìu", 1.5),
            ("Nùng", 1.4),
        ],
    ),
    (
        "10",
        &[
            ("H'Mông", 25.0),
            ("Tày", 15.0),
            ("Dao", 14.3),
            ("Giáy", 4.6),
            ("Nùng", 4.0),
            ("Phù Lá", 1.2),
        ],
    ),
    (
        "11",
        &[
            ("H'Mông", 38.0),
            ("Thái", 32.5),
            ("Khơ Mú", 3.4),
            ("Dao", 1.0),
            ("Lào", 1.0),
            ("Hà Nhì", 1.0),
        ],
    ),
    (
        "12",
        &[
            ("H'Mông", 38.0),
            ("Thái", 25.0),
            ("Dao", 13.0),
            ("Hà Nhì", 3.5),
            ("La Hủ", 2.5),
            ("Giáy", 1.2),
            ("Lự", 1.2),
            ("Lào", 1.2),
            ("Khơ Mú", 1.0),
            ("Mảng", 1.0),
        ],
    ),
    (
        "14",
        &[
            ("Thái", 53.2),
            ("H'Mông", 17.6),
            ("Mường", 7.6),
            ("Xinh Mun", 2.1),
            ("Dao", 1.6),
            ("Khơ Mú", 1.2),
        ],
    ),
    (
        "15",
        &[
            ("Tày", 18.5),
            ("H'Mông", 12.0),
            ("Dao", 11.5),
            ("Thái", 6.5),
            ("Nùng", 2.0),
            ("Mường", 1.3),
        ],
    ),
    (
        "17",
        &[("Mường", 63.3), ("Thái", 3.9), ("Tày", 2.8), ("Dao", 1.9)],
    ),
    (
        "19",
        &[
            ("Tày", 11.3),
            ("Nùng", 5.6),
            ("Sán Dìu", 3.6),
            ("Sán Chay", 2.5),
            ("Dao", 2.1),
        ],
    ),
    ("20", &[("Nùng", 42.0), ("Tày", 35.5), ("Dao", 3.7)]),
    (
        "22",
        &[
            ("Dao", 4.7),
            ("Tày", 3.5),
            ("Sán Dìu", 1.6),
            ("Sán Chay", 1.5),
        ],
    ),
    (
        "24",
        &[
            ("Nùng", 4.6),
            ("Tày", 2.6),
            ("Sán Chay", 1.8),
            ("Sán Dìu", 1.7),
            ("Dao", 1.5),
            ("Hoa", 1.0),
        ],
    ),
    ("25", &[("Mường", 13.0), ("Dao", 1.1)]),
    ("26", &[("Sán Dìu", 2.7)]),
    ("27", &[]),
    ("30", &[]),
    ("31", &[]),
    ("33", &[]),
    ("34", &[]),
    ("35", &[]),
    ("36", &[]),
    ("37", &[("Mường", 2.4)]),
    ("38", &[("Mường", 9.8), ("Thái", 6.4)]),
    (
        "40",
        &[
            ("Thái", 10.2),
            ("Thổ", 2.2),
            ("Khơ Mú", 1.3),
            ("H'Mông", 1.1),
        ],
    ),
    ("42", &[]),
    ("44", &[("Bru-Vân Kiều", 2.0)]),
    ("45", &[("Bru-Vân Kiều", 11.9), ("Tà Ôi", 3.2)]),
    ("46", &[("Tà Ôi", 2.3), ("Cơ Tu", 1.4)]),
    ("48", &[]),
    (
        "49",
        &[("Cơ Tu", 3.6), ("Xơ Đăng", 2.7), ("Gié Triêng", 1.5)],
    ),
    ("51", &[("Hrê", 10.7), ("Co", 2.5)]),
    ("52", &[("Ba Na", 1.4)]),
    ("54", &[("Ê Đê", 2.8), ("Chăm", 2.7)]),
    ("56", &[("Raglai", 4.0)]),
    ("58", &[("Chăm", 12.0), ("Raglai", 10.0)]),
    ("60", &[("Chăm", 3.1), ("Raglai", 1.4)]),
    (
        "62",
        &[
            ("Xơ Đăng", 25.5),
            ("Ba Na", 12.5),
            ("Gié Triêng", 6.0),
            ("Gia Rai", 4.4),
        ],
    ),
    ("64", &[("Gia Rai", 30.6), ("Ba Na", 11.6)]),
    (
        "66",
        &[
            ("Ê Đê", 17.7),
            ("Nùng", 4.1),
            ("Tày", 3.0),
            ("M'Nông", 2.4),
            ("H'Mông", 1.2),
            ("Dao", 1.1),
            ("Thái", 1.0),
            ("Mường", 1.0),
        ],
    ),
    (
        "67",
        &[
            ("M'Nông", 10.5),
            ("Nùng", 6.0),
            ("H'Mông", 6.0),
            ("Tày", 4.6),
            ("Dao", 2.5),
            ("Mạ", 1.4),
            ("Ê Đê", 1.0),
            ("Thái", 1.0),
        ],
    ),
    (
        "68",
        &[
            ("Cơ Ho", 11.6),
            ("Mạ", 2.5),
            ("Nùng", 1.7),
            ("Chu Ru", 1.5),
            ("Tày", 1.4),
            ("Hoa", 1.0),
        ],
    ),
    (
        "70",
        &[
            ("Stiêng", 8.9),
            ("Nùng", 2.5),
            ("Tày", 1.9),
            ("Khmer", 1.7),
            ("M'Nông", 1.0),
            ("Hoa", 1.0),
        ],
    ),
    ("72", &[]),
    ("74", &[("Khmer", 1.0)]),
    ("75", &[("Hoa", 3.0)]),
    ("77", &[("Hoa", 1.2)]),
    ("79", &[("Hoa", 4.5)]),
    ("80", &[]),
    ("82", &[]),
    ("83", &[]),
    ("84", &[("Khmer", 31.6)]),
    ("86", &[("Khmer", 2.1)]),
    ("87", &[]),
    ("89", &[("Khmer", 3.9)]),
    ("91", &[("Khmer", 12.2), ("Hoa", 1.4)]),
    ("92", &[("Khmer", 1.7), ("Hoa", 1.1)]),
    ("93", &[("Khmer", 3.0)]),
    ("94", &[("Khmer", 30.2), ("Hoa", 5.0)]),
    ("95", &[("Khmer", 7.5), ("Hoa", 2.2)]),
    ("96", &[("Khmer", 2.3)]),
];

/// Religion names used in `religions.tsv` ("Không", no religion, is the remainder).
const RELIGIONS: &[&str] = &[
    "Phật giáo",
    "Công giáo",
    "Tin lành",
    "Cao Đài",
    "Phật giáo Hòa Hảo",
    "Hồi giáo",
    "Bà-la-môn",
];

/// Religions at or above about 1% of each pre-2025 province's population, in percent, roughly as
/// in the 2019 census (followers as declared; hand-compiled and approximate, see the data README).
/// "Không" (no religion) is the remainder and is not listed.
const RELIGION_SHARES_2019: &[(&str, &[(&str, f64)])] = &[
    ("01", &[("Công giáo", 2.2), ("Phật giáo", 1.4)]),
    ("02", &[("Tin lành", 3.0)]),
    ("04", &[]),
    ("06", &[]),
    ("08", &[]),
    ("10", &[("Tin lành", 2.0), ("Công giáo", 1.0)]),
    ("11", &[("Tin lành", 7.5)]),
    ("12", &[("Tin lành", 8.5)]),
    ("14", &[("Tin lành", 3.0)]),
    ("15", &[("Tin lành", 1.5)]),
    ("17", &[("Công giáo", 1.5)]),
    ("19", &[("Công giáo", 1.5)]),
    ("20", &[]),
    ("22", &[("Công giáo", 1.5), ("Phật giáo", 1.2)]),
    ("24", &[("Công giáo", 2.0)]),
    ("25", &[("Công giáo", 3.0)]),
    ("26", &[("Công giáo", 3.0)]),
    ("27", &[("Công giáo", 1.0)]),
    ("30", &[("Công giáo", 2.0)]),
    ("31", &[("Công giáo", 3.0), ("Phật giáo", 1.5)]),
    ("33", &[("Công giáo", 3.5)]),
    ("34", &[("Công giáo", 8.0)]),
    ("35", &[("Công giáo", 5.5)]),
    ("36", &[("Công giáo", 23.0)]),
    ("37", &[("Công giáo", 16.0)]),
    ("38", &[("Công giáo", 4.0)]),
    ("40", &[("Công giáo", 7.5)]),
    ("42", &[("Công giáo", 10.0)]),
    ("44", &[("Công giáo", 7.5)]),
    ("45", &[("Công giáo", 6.0), ("Phật giáo", 2.5)]),
    ("46", &[("Phật giáo", 28.0), ("Công giáo", 4.5)]),
    (
        "48",
        &[("Phật giáo", 14.0), ("Công giáo", 4.5), ("Cao Đài", 1.3)],
    ),
    (
        "49",
        &[("Phật giáo", 6.0), ("Cao Đài", 1.8), ("Công giáo", 1.5)],
    ),
    ("51", &[("Phật giáo", 3.5)]),
    ("52", &[("Phật giáo", 7.5), ("Công giáo", 2.3)]),
    (
        "54",
        &[("Phật giáo", 10.0), ("Công giáo", 4.0), ("Tin lành", 1.0)],
    ),
    (
        "56",
        &[("Phật giáo", 15.0), ("Công giáo", 10.0), ("Tin lành", 1.3)],
    ),
    (
        "58",
        &[
            ("Công giáo", 12.0),
            ("Phật giáo", 6.0),
            ("Bà-la-môn", 4.0),
            ("Hồi giáo", 4.0),
        ],
    ),
    (
        "60",
        &[
            ("Phật giáo", 12.0),
            ("Công giáo", 8.0),
            ("Bà-la-môn", 1.2),
            ("Cao Đài", 1.0),
        ],
    ),
    (
        "62",
        &[("Công giáo", 30.0), ("Tin lành", 3.0), ("Phật giáo", 1.5)],
    ),
    (
        "64",
        &[("Tin lành", 12.0), ("Công giáo", 10.5), ("Phật giáo", 3.5)],
    ),
    (
        "66",
        &[("Tin lành", 11.5), ("Công giáo", 10.5), ("Phật giáo", 5.0)],
    ),
    (
        "67",
        &[("Tin lành", 13.0), ("Công giáo", 10.0), ("Phật giáo", 4.0)],
    ),
    (
        "68",
        &[("Công giáo", 23.0), ("Tin lành", 10.0), ("Phật giáo", 10.0)],
    ),
    (
        "70",
        &[("Công giáo", 10.0), ("Phật giáo", 5.0), ("Tin lành", 2.5)],
    ),
    (
        "72",
        &[("Cao Đài", 16.0), ("Phật giáo", 8.0), ("Công giáo", 2.5)],
    ),
    (
        "74",
        &[("Phật giáo", 6.0), ("Công giáo", 5.5), ("Cao Đài", 1.0)],
    ),
    (
        "75",
        &[
            ("Công giáo", 28.0),
            ("Phật giáo", 10.0),
            ("Tin lành", 1.5),
            ("Cao Đài", 1.5),
        ],
    ),
    (
        "77",
        &[("Công giáo", 17.0), ("Phật giáo", 10.0), ("Tin lành", 1.0)],
    ),
    (
        "79",
        &[("Phật giáo", 9.0), ("Công giáo", 8.0), ("Tin lành", 1.0)],
    ),
    (
        "80",
        &[("Phật giáo", 4.5), ("Cao Đài", 3.5), ("Công giáo", 2.0)],
    ),
    (
        "82",
        &[("Phật giáo", 7.0), ("Cao Đài", 3.0), ("Công giáo", 2.5)],
    ),
    (
        "83",
        &[("Phật giáo", 6.0), ("Cao Đài", 5.0), ("Công giáo", 3.5)],
    ),
    (
        "84",
        &[("Phật giáo", 32.0), ("Cao Đài", 2.5), ("Công giáo", 2.0)],
    ),
    (
        "86",
        &[("Phật giáo", 8.0), ("Công giáo", 4.5), ("Cao Đài", 3.5)],
    ),
    (
        "87",
        &[
            ("Phật giáo Hòa Hảo", 7.5),
            ("Phật giáo", 5.0),
            ("Công giáo", 2.0),
            ("Cao Đài", 2.0),
        ],
    ),
    (
        "89",
        &[
            ("Phật giáo Hòa Hảo", 34.0),
            ("Phật giáo", 7.0),
            ("Công giáo", 1.5),
            ("Cao Đài", 1.0),
        ],
    ),
    (
        "91",
        &[
            ("Phật giáo", 15.0),
            ("Phật giáo Hòa Hảo", 3.5),
            ("Công giáo", 3.5),
            ("Cao Đài", 2.0),
        ],
    ),
    (
        "92",
        &[
            ("Phật giáo Hòa Hảo", 8.0),
            ("Phật giáo", 6.0),
            ("Công giáo", 2.0),
            ("Cao Đài", 1.5),
        ],
    ),
    (
        "93",
        &[
            ("Phật giáo Hòa Hảo", 6.0),
            ("Phật giáo", 6.0),
            ("Công giáo", 2.5),
            ("Cao Đài", 1.5),
        ],
    ),
    (
        "94",
        &[("Phật giáo", 30.0), ("Công giáo", 1.5), ("Cao Đài", 1.0)],
    ),
    (
        "95",
        &[("Phật giáo", 12.0), ("Công giáo", 3.0), ("Cao Đài", 2.0)],
    ),
    (
        "96",
        &[("Phật giáo", 6.0), ("Công giáo", 3.5), ("Cao Đài", 2.5)],
    ),
];

// ---------------------------------------------------------------------------------------------
// CSV reading
// ---------------------------------------------------------------------------------------------

/// Parses RFC 4180 CSV: quoted fields (with `""` escapes and embedded separators/newlines),
/// LF or CRLF line ends, an optional UTF-8 byte-order mark. Blank lines are skipped.
/// A test on a 2025 commune, used to narrow the nearest-code search tier by tier.
type CommuneFilter<'a> = Box<dyn Fn(&NewCommune) -> bool + 'a>;

fn parse_csv(text: &str) -> Result<Vec<Vec<String>>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut field_started_quoted = false;
    let mut chars = text.chars().peekable();
    let mut line = 1usize;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !field_started_quoted => {
                in_quotes = true;
                field_started_quoted = true;
            }
            '"' => return Err(format!("line {line}: stray quote inside an unquoted field")),
            ',' => {
                row.push(std::mem::take(&mut field));
                field_started_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                line += 1;
                row.push(std::mem::take(&mut field));
                field_started_quoted = false;
                if !(row.len() == 1 && row[0].is_empty()) {
                    rows.push(std::mem::take(&mut row));
                } else {
                    row.clear();
                }
            }
            _ => {
                if field_started_quoted {
                    return Err(format!("line {line}: text after a closing quote"));
                }
                field.push(c);
            }
        }
    }
    if in_quotes {
        return Err("unterminated quoted field at end of file".into());
    }
    if !field.is_empty() || !row.is_empty() || field_started_quoted {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

/// Reads a CSV file and returns its records as maps keyed by the requested column names.
fn read_table(path: &Path, columns: &[&str]) -> Result<Vec<Vec<String>>> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rows = parse_csv(&text)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .into_iter();
    let header = rows
        .next()
        .ok_or_else(|| format!("{}: empty file", path.display()))?;
    let idx: Vec<usize> = columns
        .iter()
        .map(|c| {
            header
                .iter()
                .position(|h| h.trim() == *c)
                .ok_or_else(|| format!("{}: no column {c:?} in header {header:?}", path.display()))
        })
        .collect::<Result<_>>()?;
    let mut out = Vec::new();
    for (n, row) in rows.enumerate() {
        if row.len() != header.len() {
            return Err(format!(
                "{}: record {} has {} fields, header has {}",
                path.display(),
                n + 2,
                row.len(),
                header.len()
            ));
        }
        // One space between words: the source lists write a few names with two.
        let rec: Vec<String> = idx
            .iter()
            .map(|&i| row[i].split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        for v in &rec {
            if v.is_empty() || v.contains(['\t', '\n', '\r']) {
                return Err(format!(
                    "{}: record {}: empty field or tab/newline in {v:?}",
                    path.display(),
                    n + 2
                ));
            }
        }
        out.push(rec);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct OldCommune {
    province: String,
    district: String,
    district_name: String,
    code: String,
    name: String,
}

#[derive(Debug, Clone)]
struct NewCommune {
    province: String,
    code: String,
    name: String,
}

fn code_number(code: &str) -> Result<u32> {
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("not a numeric code: {code:?}"));
    }
    code.parse::<u32>()
        .map_err(|e| format!("code {code:?}: {e}"))
}

fn check_code(code: &str, len: usize, what: &str) -> Result<()> {
    if code.len() != len || code_number(code).is_err() {
        return Err(format!("{what} code {code:?} is not {len} digits"));
    }
    Ok(())
}

/// How a pre-2025 commune was placed in a 2025 commune.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Method {
    /// The 2025 file has a commune with the same code.
    SameCode,
    /// Nearest code among the 2025 communes whose codes come from the same old district.
    NearestSameDistrict,
    /// Nearest code among the 2025 communes whose codes come from the same old province.
    NearestSameProvince,
    /// Nearest code among all 2025 communes of the successor province.
    NearestSuccessor,
}

fn nearest<'a>(
    target: u32,
    candidates: impl Iterator<Item = &'a NewCommune>,
) -> Option<&'a NewCommune> {
    // Smallest distance; ties go to the lower code (deterministic).
    candidates
        .filter_map(|c| {
            code_number(&c.code)
                .ok()
                .map(|n| (target.abs_diff(n), n, c))
        })
        .min_by_key(|&(d, n, _)| (d, n))
        .map(|(_, _, c)| c)
}

fn run(src: &Path, out: &Path) -> Result<()> {
    // ---- read -------------------------------------------------------------------------------
    let old_rows = read_table(
        &src.join("admin-units-pre2025.csv"),
        &[
            "province_code",
            "province_name",
            "district_code",
            "district_name",
            "ward_code",
            "ward_name",
        ],
    )?;
    let new_rows = read_table(
        &src.join("admin-units-2025.csv"),
        &["province_code", "province_name", "ward_code", "ward_name"],
    )?;

    let mut old_provinces: BTreeMap<String, String> = BTreeMap::new();
    let mut old_communes: BTreeMap<String, OldCommune> = BTreeMap::new();
    let mut districts: BTreeMap<String, (String, String)> = BTreeMap::new();
    for r in &old_rows {
        check_code(&r[0], 2, "province")?;
        check_code(&r[2], 3, "district")?;
        check_code(&r[4], 5, "commune")?;
        if let Some(prev) = old_provinces
            .insert(r[0].clone(), r[1].clone())
            .filter(|prev| *prev != r[1])
        {
            return Err(format!(
                "pre-2025 province {} has two names: {prev:?}, {:?}",
                r[0], r[1]
            ));
        }
        let district = (r[0].clone(), r[3].clone());
        if let Some(prev) = districts
            .insert(r[2].clone(), district.clone())
            .filter(|prev| *prev != district)
        {
            return Err(format!(
                "pre-2025 district {} is inconsistent: {prev:?} vs {:?}",
                r[2],
                (&r[0], &r[3])
            ));
        }
        let c = OldCommune {
            province: r[0].clone(),
            district: r[2].clone(),
            district_name: r[3].clone(),
            code: r[4].clone(),
            name: r[5].clone(),
        };
        if old_communes.insert(c.code.clone(), c).is_some() {
            return Err(format!("pre-2025 commune code {} appears twice", r[4]));
        }
    }

    let mut new_provinces: BTreeMap<String, String> = BTreeMap::new();
    let mut new_communes: BTreeMap<String, NewCommune> = BTreeMap::new();
    for r in &new_rows {
        check_code(&r[0], 2, "province")?;
        check_code(&r[2], 5, "commune")?;
        if let Some(prev) = new_provinces
            .insert(r[0].clone(), r[1].clone())
            .filter(|prev| *prev != r[1])
        {
            return Err(format!(
                "2025 province {} has two names: {prev:?}, {:?}",
                r[0], r[1]
            ));
        }
        let c = NewCommune {
            province: r[0].clone(),
            code: r[2].clone(),
            name: r[3].clone(),
        };
        if new_communes.insert(c.code.clone(), c).is_some() {
            return Err(format!("2025 commune code {} appears twice", r[2]));
        }
    }
    eprintln!(
        "read {} pre-2025 communes ({} districts, {} provinces), {} 2025 communes ({} provinces)",
        old_communes.len(),
        districts.len(),
        old_provinces.len(),
        new_communes.len(),
        new_provinces.len()
    );
    if old_provinces.len() != 63 || new_provinces.len() != 34 {
        return Err(format!(
            "expected 63 pre-2025 and 34 2025 provinces, found {} and {}",
            old_provinces.len(),
            new_provinces.len()
        ));
    }

    // ---- successor provinces: majority vote over shared commune codes ---------------------------
    let mut votes: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    let mut shared = 0usize;
    for n in new_communes.values() {
        if let Some(o) = old_communes.get(&n.code) {
            shared += 1;
            *votes
                .entry(o.province.as_str())
                .or_default()
                .entry(n.province.as_str())
                .or_default() += 1;
        }
    }
    let mut successor: BTreeMap<String, String> = BTreeMap::new();
    let mut problems = Vec::new();
    for p in old_provinces.keys() {
        let Some(v) = votes.get(p.as_str()) else {
            problems.push(format!(
                "pre-2025 province {p}: no 2025 commune shares a code with it"
            ));
            continue;
        };
        let mut ranked: Vec<(&str, usize)> = v.iter().map(|(k, n)| (*k, *n)).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        if ranked.len() > 1 {
            eprintln!(
                "note: pre-2025 province {p} has shared codes in several 2025 provinces: {ranked:?}"
            );
            if ranked[0].1 == ranked[1].1 {
                problems.push(format!(
                    "pre-2025 province {p}: ambiguous majority {ranked:?}"
                ));
                continue;
            }
        }
        successor.insert(p.clone(), ranked[0].0.to_owned());
    }
    let expected: BTreeMap<&str, &str> = RESOLUTION_202_2025.iter().copied().collect();
    for (p, s) in &successor {
        match expected.get(p.as_str()) {
            Some(e) if e == s => {}
            Some(e) => problems.push(format!(
                "province {p}: derived successor {s}, Resolution 202/2025 says {e}"
            )),
            None => problems.push(format!(
                "province {p} is missing from the Resolution 202/2025 table"
            )),
        }
    }
    if expected.len() != 63 || expected.keys().any(|p| !old_provinces.contains_key(*p)) {
        problems.push(
            "the Resolution 202/2025 table does not list exactly the 63 provinces of the data"
                .into(),
        );
    }
    let successor_set: BTreeSet<&String> = successor.values().collect();
    if successor_set.len() != 34
        || successor_set
            .iter()
            .any(|s| !new_provinces.contains_key(*s))
    {
        problems.push(format!(
            "successors cover {} 2025 provinces, expected all 34",
            successor_set.len()
        ));
    }
    let unchanged = successor
        .iter()
        .filter(|(p, s)| p == s && successor.values().filter(|x| x == s).count() == 1);
    let unchanged: Vec<&String> = unchanged.map(|(p, _)| p).collect();
    if unchanged.len() != 11 {
        problems.push(format!(
            "expected 11 provinces unchanged, found {}: {unchanged:?}",
            unchanged.len()
        ));
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    eprintln!(
        "successors: {shared} of {} 2025 commune codes also exist before 2025; all 63 provinces agree with Resolution 202/2025 ({} unchanged)",
        new_communes.len(),
        unchanged.len()
    );

    // ---- commune mapping --------------------------------------------------------------------
    let mut by_new_province: HashMap<&str, Vec<&NewCommune>> = HashMap::new();
    for n in new_communes.values() {
        by_new_province
            .entry(n.province.as_str())
            .or_default()
            .push(n);
    }
    // Old district (and province) each 2025 commune code comes from: the commune's own district when
    // the code existed before 2025; for a code new in 2025 (11 of them: island special zones, and
    // wards that reused a code abolished before the pre-2025 snapshot), the district of the nearest
    // pre-2025 code in the same successor province, if the new code lies within that district's
    // code range. Island special zones fall outside every range and get no district.
    let mut district_range: HashMap<&str, (u32, u32)> = HashMap::new();
    for o in old_communes.values() {
        let n = code_number(&o.code)?;
        let r = district_range.entry(o.district.as_str()).or_insert((n, n));
        *r = (r.0.min(n), r.1.max(n));
    }
    let mut origin: HashMap<&str, (&str, &str)> = HashMap::new();
    for n in new_communes.values() {
        if let Some(o) = old_communes.get(&n.code) {
            origin.insert(n.code.as_str(), (o.district.as_str(), o.province.as_str()));
            continue;
        }
        let target = code_number(&n.code)?;
        let closest = old_communes
            .values()
            .filter(|o| successor[&o.province] == n.province)
            .filter_map(|o| {
                code_number(&o.code)
                    .ok()
                    .map(|c| (target.abs_diff(c), c, o))
            })
            .min_by_key(|&(d, c, _)| (d, c));
        let attributed = closest.filter(|(_, _, o)| {
            let (lo, hi) = district_range[o.district.as_str()];
            (lo..=hi).contains(&target)
        });
        match attributed {
            Some((_, _, o)) => {
                eprintln!(
                    "new code {} {} attributed to old district {} {}",
                    n.code, n.name, o.district, o.district_name
                );
                origin.insert(n.code.as_str(), (o.district.as_str(), o.province.as_str()));
            }
            None => eprintln!("new code {} {} has no old district", n.code, n.name),
        }
    }
    let mut mapping: Vec<(&OldCommune, &NewCommune, Method)> =
        Vec::with_capacity(old_communes.len());
    for o in old_communes.values() {
        let succ = successor[&o.province].as_str();
        if let Some(n) = new_communes.get(&o.code) {
            if n.province != succ {
                return Err(format!(
                    "commune {} ({}) kept its code but lies in 2025 province {}, not the successor {succ}",
                    o.code, o.name, n.province
                ));
            }
            mapping.push((o, n, Method::SameCode));
            continue;
        }
        let target = code_number(&o.code)?;
        let pool = by_new_province
            .get(succ)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let from = |n: &NewCommune| origin.get(n.code.as_str()).copied();
        let tiers: [(Method, CommuneFilter); 3] = [
            (
                Method::NearestSameDistrict,
                Box::new(|n| from(n).is_some_and(|(d, _)| d == o.district)),
            ),
            (
                Method::NearestSameProvince,
                Box::new(|n| from(n).is_some_and(|(_, p)| p == o.province)),
            ),
            (Method::NearestSuccessor, Box::new(|_| true)),
        ];
        let found = tiers.iter().find_map(|(m, keep)| {
            nearest(target, pool.iter().copied().filter(|n| keep(n))).map(|n| (n, *m))
        });
        let Some((n, m)) = found else {
            return Err(format!("no 2025 commune found for {} ({})", o.code, o.name));
        };
        mapping.push((o, n, m));
    }
    // Checks: every target exists and lies in the successor province.
    let mut per_method: BTreeMap<Method, usize> = BTreeMap::new();
    let mut received: BTreeMap<&str, usize> = BTreeMap::new();
    for (o, n, m) in &mapping {
        *per_method.entry(*m).or_default() += 1;
        *received.entry(n.code.as_str()).or_default() += 1;
        let n2 = new_communes
            .get(&n.code)
            .ok_or_else(|| format!("mapped to unknown 2025 commune {}", n.code))?;
        if n2.province != successor[&o.province] {
            return Err(format!(
                "commune {} mapped outside its successor province",
                o.code
            ));
        }
    }
    let empty: Vec<&NewCommune> = new_communes
        .values()
        .filter(|n| !received.contains_key(n.code.as_str()))
        .collect();
    eprintln!("commune mapping: {per_method:?}");
    eprintln!(
        "{} of {} 2025 communes receive no pre-2025 commune: {}",
        empty.len(),
        new_communes.len(),
        empty
            .iter()
            .map(|n| format!("{} {}", n.code, n.name))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // ---- embedded tables: checks ------------------------------------------------------------
    let population: BTreeMap<&str, u64> = POPULATION_2019.iter().copied().collect();
    let total: u64 = population.values().sum();
    if population.len() != 63 || population.keys().any(|p| !old_provinces.contains_key(*p)) {
        return Err("the 2019 population table does not list exactly the 63 provinces".into());
    }
    if total != POPULATION_2019_TOTAL {
        return Err(format!(
            "2019 populations sum to {total}, expected {POPULATION_2019_TOTAL}"
        ));
    }
    let group_names: BTreeSet<&str> = ETHNIC_GROUPS.iter().map(|(_, n)| *n).collect();
    let group_codes: BTreeSet<&str> = ETHNIC_GROUPS.iter().map(|(c, _)| *c).collect();
    if ETHNIC_GROUPS.len() != 54 || group_names.len() != 54 || group_codes.len() != 54 {
        return Err("the ethnic group table must have 54 distinct codes and names".into());
    }
    let religion_names: BTreeSet<&str> = RELIGIONS.iter().copied().collect();
    check_shares("ethnicities", ETHNIC_SHARES_2019, &old_provinces, |n| {
        group_names.contains(n) && n != "Kinh"
    })?;
    check_shares("religions", RELIGION_SHARES_2019, &old_provinces, |n| {
        religion_names.contains(n)
    })?;
    report_national("ethnic", ETHNIC_SHARES_2019, &population, total);
    report_national("religion", RELIGION_SHARES_2019, &population, total);

    // ---- write --------------------------------------------------------------------------------
    let mut files: Vec<(&str, String)> = Vec::new();

    let mut s = String::from("code\tname\tcode_2025\tname_2025\tpopulation\n");
    for (p, name) in &old_provinces {
        let succ = &successor[p];
        let _ = writeln!(
            s,
            "{p}\t{name}\t{succ}\t{}\t{}",
            new_provinces[succ],
            population[p.as_str()]
        );
    }
    files.push(("provinces.tsv", s));

    let mut s = String::from(
        "province_code\tdistrict_code\tdistrict_name\tcommune_code\tcommune_name\tcommune_code_2025\n",
    );
    for (o, n, _) in &mapping {
        let _ = writeln!(
            s,
            "{}\t{}\t{}\t{}\t{}\t{}",
            o.province, o.district, o.district_name, o.code, o.name, n.code
        );
    }
    files.push(("communes-pre2025.tsv", s));

    let mut s = String::from("province_code\tcommune_code\tcommune_name\n");
    for n in new_communes.values() {
        let _ = writeln!(s, "{}\t{}\t{}", n.province, n.code, n.name);
    }
    files.push(("communes-2025.tsv", s));

    let mut s = String::from("code\tname\n");
    for (c, n) in ETHNIC_GROUPS {
        let _ = writeln!(s, "{c}\t{n}");
    }
    files.push(("ethnic-groups.tsv", s));

    files.push((
        "ethnicities.tsv",
        shares_tsv("ethnicity", ETHNIC_SHARES_2019),
    ));
    files.push((
        "religions.tsv",
        shares_tsv("religion", RELIGION_SHARES_2019),
    ));

    fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    for (name, content) in &files {
        let path = out.join(name);
        fs::write(&path, content).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!(
            "wrote {} ({} rows, {} bytes)",
            path.display(),
            content.lines().count() - 1,
            content.len()
        );
    }
    Ok(())
}

fn check_shares(
    what: &str,
    table: &[(&str, &[(&str, f64)])],
    provinces: &BTreeMap<String, String>,
    known: impl Fn(&str) -> bool,
) -> Result<()> {
    let listed: BTreeSet<&str> = table.iter().map(|(p, _)| *p).collect();
    if table.len() != 63 || listed.len() != 63 || listed.iter().any(|p| !provinces.contains_key(*p))
    {
        return Err(format!(
            "the {what} table does not list exactly the 63 provinces once each"
        ));
    }
    for (p, rows) in table {
        let names: BTreeSet<&str> = rows.iter().map(|(n, _)| *n).collect();
        if names.len() != rows.len() {
            return Err(format!("{what} {p}: a name is listed twice"));
        }
        if let Some((n, _)) = rows.iter().find(|(n, _)| !known(n)) {
            return Err(format!("{what} {p}: unknown name {n:?}"));
        }
        let sum: f64 = rows.iter().map(|(_, v)| v).sum();
        if rows.iter().any(|(_, v)| !(0.5..100.0).contains(v)) || sum >= 100.0 {
            return Err(format!("{what} {p}: shares out of range (sum {sum})"));
        }
    }
    Ok(())
}

/// Prints the national shares implied by a per-province table (a sanity check, to stderr).
fn report_national(
    what: &str,
    table: &[(&str, &[(&str, f64)])],
    population: &BTreeMap<&str, u64>,
    total: u64,
) {
    let mut national: BTreeMap<&str, f64> = BTreeMap::new();
    for (p, rows) in table {
        for (n, v) in *rows {
            *national.entry(n).or_default() += v * population[p] as f64 / total as f64;
        }
    }
    let mut v: Vec<_> = national.into_iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    let text: Vec<String> = v.iter().map(|(n, x)| format!("{n} {x:.2}%")).collect();
    eprintln!(
        "implied national {what} shares (listed groups only): {}",
        text.join(", ")
    );
}

fn shares_tsv(column: &str, table: &[(&str, &[(&str, f64)])]) -> String {
    let mut sorted: Vec<&(&str, &[(&str, f64)])> = table.iter().collect();
    sorted.sort_by_key(|(p, _)| *p);
    let mut s = format!("province_code\t{column}\tpercent\n");
    for (p, rows) in sorted {
        for (n, v) in *rows {
            let _ = writeln!(s, "{p}\t{n}\t{v:.1}");
        }
    }
    s
}

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [src, out] = args.as_slice() else {
        eprintln!("usage: derive-admin-units <shared data dir> <out dir>");
        return ExitCode::from(2);
    };
    match run(src, out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("derive-admin-units: error:\n{e}");
            ExitCode::FAILURE
        }
    }
}
