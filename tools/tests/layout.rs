//! The layout as docs/architecture.md describes it is the layout as the manifests declare it:
//! every crate of the workspace has its row in the layout table (path and package name), every
//! row names a crate that exists, and every dependency's version is declared once, in the root
//! manifest.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read_toml(path: &Path) -> toml::Table {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every workspace member: its directory (as the root manifest writes it) and its manifest.
fn members() -> BTreeMap<String, toml::Table> {
    let root = read_toml(&repo().join("Cargo.toml"));
    root["workspace"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|member| {
            let dir = member.as_str().unwrap().to_owned();
            let manifest = read_toml(&repo().join(&dir).join("Cargo.toml"));
            (dir, manifest)
        })
        .collect()
}

/// The rows of the layout table of docs/architecture.md (the table under "1. Layout" whose
/// header is `| Path | Crate | Owns |`) that name a crate: directory (without its trailing
/// slash) to package name.
fn layout_table() -> BTreeMap<String, String> {
    let doc = std::fs::read_to_string(repo().join("docs/architecture.md")).unwrap();
    let section = doc
        .split("\n## ")
        .find(|s| s.starts_with("1. Layout"))
        .expect("docs/architecture.md has a section \"1. Layout\"");
    section
        .lines()
        .skip_while(|line| !line.starts_with("| Path | Crate |"))
        .skip(2) // the header and its rule
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let path = cells.get(1)?.trim_matches('`').trim_end_matches('/');
            let krate = cells.get(2)?.trim_matches('`');
            // Rows for what is not a crate (deployment files, CI) say "—".
            (krate != "—").then(|| (path.to_owned(), krate.to_owned()))
        })
        .collect()
}

#[test]
fn the_layout_table_lists_every_crate_as_it_is() {
    let table = layout_table();
    let members: BTreeMap<String, String> = members()
        .into_iter()
        .map(|(dir, manifest)| {
            let name = manifest["package"]["name"].as_str().unwrap().to_owned();
            (dir, name)
        })
        .collect();
    assert_eq!(
        table, members,
        "the layout table of docs/architecture.md (left) and the workspace members (right)"
    );
}

/// Every dependency of every member comes from `[workspace.dependencies]`: its version (or path)
/// is written once, in the root manifest, and a member adds features at most.
#[test]
fn every_version_is_declared_once() {
    let root = read_toml(&repo().join("Cargo.toml"));
    let declared = root["workspace"]["dependencies"].as_table().unwrap();
    let mut strays = Vec::new();
    for (dir, manifest) in members() {
        let mut tables = Vec::new();
        for kind in ["dependencies", "dev-dependencies", "build-dependencies"] {
            if let Some(table) = manifest.get(kind).and_then(toml::Value::as_table) {
                tables.push((kind.to_owned(), table.clone()));
            }
        }
        // Target-specific tables, `[target.'cfg(..)'.dependencies]`.
        if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
            for (target, value) in targets {
                for kind in ["dependencies", "dev-dependencies", "build-dependencies"] {
                    if let Some(table) = value.get(kind).and_then(toml::Value::as_table) {
                        tables.push((format!("target.{target}.{kind}"), table.clone()));
                    }
                }
            }
        }
        for (kind, table) in tables {
            for (name, spec) in table {
                let from_workspace = spec
                    .as_table()
                    .and_then(|t| t.get("workspace"))
                    .and_then(toml::Value::as_bool)
                    == Some(true);
                if !from_workspace {
                    strays.push(format!("{dir}/Cargo.toml [{kind}] {name}"));
                } else if !declared.contains_key(&name) {
                    strays.push(format!(
                        "{dir}/Cargo.toml [{kind}] {name}: not in [workspace.dependencies]"
                    ));
                }
            }
        }
    }
    assert!(
        strays.is_empty(),
        "dependencies not taken from [workspace.dependencies]:\n{}",
        strays.join("\n")
    );
}
