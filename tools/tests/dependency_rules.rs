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
                "sandbox06-country",
                "sandbox06-population-db",
                "sandbox06-lodging-registry",
                "sandbox06-store",
                "sandbox06",
            ],
        );
    }
}

#[test]
fn the_single_sign_on_reaches_vneid_and_the_population_database_over_grpc() {
    // It owns state (sessions, codes, refresh tokens, keys); citizens' data, and the personas
    // of the login page's picker, come from the mocks over gRPC.
    assert_none(
        "sandbox06-sso",
        &[
            "sandbox06-population-db",
            "sandbox06-vneid",
            "sandbox06-world",
            "sandbox06-country",
            "sandbox06",
        ],
    );
}

/// The mocks of national systems share the country's configuration and its contract types
/// through `sandbox06-country`; neither imports the other to read them.
#[test]
fn upstream_mocks_share_the_country_not_each_other() {
    assert_none("sandbox06-vneid", &["sandbox06-population-db"]);
    assert_none("sandbox06-population-db", &["sandbox06-vneid"]);
    for upstream in ["sandbox06-vneid", "sandbox06-population-db"] {
        assert!(
            closure(upstream).contains("sandbox06-country"),
            "{upstream} reads the country through sandbox06-country"
        );
    }
}

#[test]
fn shared_crates_name_no_component() {
    let components = [
        "sandbox06-gateway",
        "sandbox06-citizen",
        "sandbox06-population-db",
        "sandbox06-vneid",
        "sandbox06-lodging-registry",
        "sandbox06-sso",
        "sandbox06",
    ];
    for shared in [
        "sandbox06-runtime",
        "sandbox06-store",
        "sandbox06-vn",
        "sandbox06-world",
        "sandbox06-country",
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
        "sandbox06-lodging-registry",
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

/// The manifest path of each workspace crate, by package name.
fn manifests() -> BTreeMap<String, PathBuf> {
    let root: toml::Table = std::fs::read_to_string(repo().join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    root["workspace"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|member| {
            let dir = repo().join(member.as_str().unwrap());
            let manifest: toml::Table = std::fs::read_to_string(dir.join("Cargo.toml"))
                .unwrap()
                .parse()
                .unwrap();
            (
                manifest["package"]["name"].as_str().unwrap().to_owned(),
                dir,
            )
        })
        .collect()
}

/// A crate's build script: `package.build` when set, else `build.rs` when it exists.
fn build_script(dir: &Path) -> Option<PathBuf> {
    let manifest: toml::Table = std::fs::read_to_string(dir.join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    match manifest["package"].get("build") {
        Some(toml::Value::String(path)) => Some(dir.join(path)),
        Some(toml::Value::Boolean(false)) => None,
        _ => Some(dir.join("build.rs")).filter(|path| path.is_file()),
    }
}

/// Test settings (a Redis URL, a browser on the path) never reach what `cargo run --release`
/// builds: the only build script under the binary is the contract's, which watches its own files.
/// A script that watched a missing path or a changing variable would rebuild every crate above
/// it on every build.
#[test]
fn the_binary_builds_no_test_settings() {
    let dirs = manifests();
    let mut under_binary = closure("sandbox06");
    under_binary.insert("sandbox06".to_owned());
    for name in &under_binary {
        let Some(dir) = dirs.get(name) else { continue };
        let Some(script) = build_script(dir) else {
            continue;
        };
        assert_eq!(name, "sandbox06-proto", "{name} has a build script");
        let source = std::fs::read_to_string(&script).unwrap();
        assert!(
            !source.contains("rerun-if-env-changed"),
            "{name}'s build script reruns on a variable"
        );
        assert!(
            source.contains("rerun-if-changed"),
            "{name}'s build script watches its inputs"
        );
    }
}

/// No build script watches a fixed absolute path or `PATH`: a path missing on some machine, or a
/// `PATH` that differs between shells, reruns the script and rebuilds everything above it.
#[test]
fn no_build_script_watches_a_fixed_absolute_path() {
    for (name, dir) in manifests() {
        let Some(script) = build_script(&dir) else {
            continue;
        };
        let source = std::fs::read_to_string(&script).unwrap();
        // PATH differs from shell to shell: watching it reruns the script as often.
        assert!(
            !source.contains("rerun-if-env-changed=PATH"),
            "{name}'s build script reruns when PATH differs"
        );
        for line in source.lines().filter(|l| l.contains("rerun-if-changed=")) {
            let watched = line.split("rerun-if-changed=").nth(1).unwrap_or_default();
            assert!(
                !watched.starts_with('/'),
                "{name}'s build script watches a fixed path: {line}"
            );
        }
    }
}
