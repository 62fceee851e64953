//! The layout's dependency rules, checked on the crates' manifests (direct and transitive
//! dependencies within the workspace): pure crates stay pure, services reach their upstreams
//! only over gRPC, and only the binary knows every component.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every workspace crate by package name: (its normal dependencies, its dev-dependencies).
fn workspace() -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> {
    let root: toml::Table = std::fs::read_to_string(repo().join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let members = root["workspace"]["members"].as_array().unwrap();
    let names = |table: Option<&toml::Value>| -> BTreeSet<String> {
        table
            .and_then(toml::Value::as_table)
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default()
    };
    members
        .iter()
        .map(|member| {
            let path = repo().join(member.as_str().unwrap()).join("Cargo.toml");
            let manifest: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
            let name = manifest["package"]["name"].as_str().unwrap().to_owned();
            (
                name,
                (
                    names(manifest.get("dependencies")),
                    names(manifest.get("dev-dependencies")),
                ),
            )
        })
        .collect()
}

/// What `name` depends on when built for use (not for its own tests), transitively.
fn closure(name: &str) -> BTreeSet<String> {
    let crates = workspace();
    let mut seen = BTreeSet::new();
    let mut todo = vec![name.to_owned()];
    while let Some(next) = todo.pop() {
        let Some((deps, _)) = crates.get(&next) else {
            continue;
        };
        for dep in deps {
            if seen.insert(dep.clone()) {
                todo.push(dep.clone());
            }
        }
    }
    seen
}

fn assert_none(name: &str, forbidden: &[&str]) {
    let deps = closure(name);
    for f in forbidden {
        assert!(
            !deps.contains(*f),
            "{name} must not depend on {f}: {deps:?}"
        );
    }
}

#[test]
fn identity_formats_and_the_country_are_pure() {
    let runtime_things = [
        "sandbox06-runtime",
        "sandbox06-store",
        "sandbox06-proto",
        "tonic",
        "redis",
        "tokio",
        "serde",
    ];
    assert_none("sandbox06-vn", &runtime_things);
    assert_none("sandbox06-world", &runtime_things);
    assert!(closure("sandbox06-world").contains("sandbox06-vn"));
}

#[test]
fn services_reach_their_upstreams_over_grpc_only() {
    for service in ["sandbox06-citizen", "sandbox06-gateway"] {
        assert_none(
            service,
            &[
                "sandbox06-world",
                "sandbox06-population-db",
                "sandbox06-store",
                "sandbox06",
            ],
        );
    }
}

#[test]
fn the_single_sign_on_reaches_vneid_and_the_population_database_over_grpc() {
    // It owns state (sessions, codes, refresh tokens, keys) and reads the world's persona
    // table for the login page's picker; citizens' data comes from the mocks over gRPC.
    assert_none(
        "sandbox06-sso",
        &["sandbox06-population-db", "sandbox06-vneid", "sandbox06"],
    );
}

#[test]
fn shared_crates_name_no_component() {
    let components = [
        "sandbox06-gateway",
        "sandbox06-citizen",
        "sandbox06-population-db",
        "sandbox06-vneid",
        "sandbox06-sso",
        "sandbox06",
    ];
    for shared in [
        "sandbox06-runtime",
        "sandbox06-store",
        "sandbox06-vn",
        "sandbox06-world",
        "sandbox06-proto",
        "sandbox06-jose",
    ] {
        assert_none(shared, &components);
    }
}

#[test]
fn only_the_binary_knows_every_component() {
    let crates = workspace();
    let components = [
        "sandbox06-gateway",
        "sandbox06-citizen",
        "sandbox06-population-db",
        "sandbox06-vneid",
        "sandbox06-sso",
    ];
    for (name, (deps, _)) in &crates {
        let known = components.iter().filter(|c| deps.contains(**c)).count();
        // The binary, and the end-to-end tests and tools that look at the whole suite.
        if !["sandbox06", "sandbox06-tests", "sandbox06-tools"].contains(&name.as_str()) {
            assert!(known <= 1, "{name} depends on {known} components: {deps:?}");
        }
    }
    let binary = &crates["sandbox06"].0;
    for component in components {
        assert!(binary.contains(component), "the binary lists {component}");
    }
}
