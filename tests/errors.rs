//! docs/ERRORS.md lists every error reason, grouped by owner, as each crate declares them.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use sandbox06_runtime::{ErrorReason, error::code_name};

const DOC: &str = include_str!("../docs/ERRORS.md");

/// The table row of a reason, as the page writes it.
fn row(reason: &dyn ErrorReason) -> String {
    format!(
        "| `{}` | `{}` | {} |",
        reason.as_str(),
        code_name(reason.code()),
        reason.when()
    )
}

/// The table rows of the section under `## {heading}`.
fn section_rows(heading: &str) -> Vec<&'static str> {
    let start = DOC
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("docs/ERRORS.md has no section {heading:?}"));
    let section = &DOC[start + 1..];
    let section = &section[..section[3..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 3)];
    section.lines().filter(|line| is_reason_row(line)).collect()
}

/// Whether `line` is a row of a reasons table: its first cell a reason in backticks
/// (`SCREAMING_SNAKE_CASE`), not another table's backticked cell (`401 invalid_client`).
fn is_reason_row(line: &str) -> bool {
    line.strip_prefix("| `")
        .and_then(|rest| rest.split_once("` |"))
        .is_some_and(|(reason, _)| {
            !reason.is_empty() && reason.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        })
}

fn rows(reasons: &[&dyn ErrorReason]) -> Vec<String> {
    reasons.iter().map(|r| row(*r)).collect()
}

/// Every owner of reasons: the runtime's, shared by every service, then each component's own
/// (the component list says which components have them and under which heading).
fn owners() -> Vec<(&'static str, Vec<String>)> {
    let shared: Vec<&dyn ErrorReason> = sandbox06_runtime::error::REASONS
        .iter()
        .map(|r| r as &dyn ErrorReason)
        .collect();
    let mut owners = vec![("Every service", rows(&shared))];
    for component in sandbox06::components() {
        if let Some(own) = component.error_reasons() {
            owners.push((own.heading, rows(&own.reasons)));
        }
    }
    owners
}

#[test]
fn errors_doc_lists_every_reason_of_every_owner() {
    let owners = owners();
    assert!(
        owners.len() >= 5,
        "the components with reasons of their own"
    );
    for (heading, expected) in &owners {
        assert_eq!(
            section_rows(heading),
            *expected,
            "docs/ERRORS.md section {heading:?} must list exactly these rows, in order:\n{}",
            expected.join("\n")
        );
    }
    let documented = DOC.lines().filter(|line| is_reason_row(line)).count();
    let declared: usize = owners.iter().map(|(_, rows)| rows.len()).sum();
    assert_eq!(documented, declared, "rows outside the owners' sections");
}

#[test]
fn an_owner_never_lists_a_reason_twice_nor_redefines_a_generic_one() {
    let generic: Vec<&str> = sandbox06_runtime::error::REASONS
        .iter()
        .map(|r| r.as_str())
        .collect();
    let components: Vec<Vec<&str>> = sandbox06::components()
        .iter()
        .filter_map(|c| c.error_reasons())
        .map(|own| own.reasons.iter().map(|r| r.as_str()).collect())
        .collect();
    assert!(
        components.len() >= 4,
        "the components with reasons of their own"
    );
    for names in std::iter::once(&generic).chain(&components) {
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }
    for names in &components {
        for name in names {
            assert!(!generic.contains(name), "{name} is a generic reason");
        }
    }
}
