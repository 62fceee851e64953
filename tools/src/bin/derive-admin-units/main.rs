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

mod census;
mod csv;

use census::{
    ETHNIC_GROUPS, ETHNIC_SHARES_2019, POPULATION_2019, POPULATION_2019_TOTAL,
    RELIGION_SHARES_2019, RELIGIONS, RESOLUTION_202_2025,
};
use csv::read_table;

// ---------------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------------

/// A test on a 2025 commune, used to narrow the nearest-code search tier by tier.
type CommuneFilter<'a> = Box<dyn Fn(&NewCommune) -> bool + 'a>;

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
