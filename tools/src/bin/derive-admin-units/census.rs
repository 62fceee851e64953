//! The reference tables embedded in the program: the 2025 province merger, the 2019 census's
//! population by province, ethnic groups and religions, and their shares by province.

/// Resolution 202/2025/QH15 (in force 1 July 2025): pre-2025 province code → 2025 province code.
/// The successor mapping is derived from the commune codes; this table only checks the result.
pub(crate) const RESOLUTION_202_2025: &[(&str, &str)] = &[
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
pub(crate) const POPULATION_2019: &[(&str, u64)] = &[
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
pub(crate) const POPULATION_2019_TOTAL: u64 = 96_208_984;

/// The 54 ethnic groups with their GSO codes (Decision 121-TCTK/PPCĐ of 2 March 1979, the list
/// used by every census since). Spelling follows current GSO publications; the 1979 list
/// hyphenates some names (Khơ-me, Gia-rai, Ê-đê, Ba-na, Xơ-đăng, Cơ-ho, Ra-glai, Xtiêng, HMông …).
pub(crate) const ETHNIC_GROUPS: &[(&str, &str)] = &[
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
pub(crate) const ETHNIC_SHARES_2019: &[(&str, &[(&str, f64)])] = &[
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
pub(crate) const RELIGIONS: &[&str] = &[
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
pub(crate) const RELIGION_SHARES_2019: &[(&str, &[(&str, f64)])] = &[
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
