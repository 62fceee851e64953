//! Marks the Redis-backed tests as ignored, with the reason, when no Redis URL is set, and the
//! browser tests when no Chromium is found, and the test through Postman's own importer when no
//! directory with it is named, so a run says how many did not run; `bash .ci/run`
//! sets the URL and installs Chromium and the importer, and they run.
//!
//! Only this test package has a build script of this kind, and it watches only itself and
//! the three variables: a script that watched a missing path, the path's directories or `PATH`
//! itself would rerun (and relink every test) whenever the machine or the shell differed. A
//! browser installed after a first build is found once `SANDBOX06_TEST_CHROMIUM` names it.

use std::path::PathBuf;

const REDIS_URL_ENV: &str = "SANDBOX06_TEST_REDIS_URL";
const CHROMIUM_ENV: &str = "SANDBOX06_TEST_CHROMIUM";
const OPENAPI_TO_POSTMAN_ENV: &str = "SANDBOX06_TEST_OPENAPI_TO_POSTMAN";
const CHROMIUM_NAMES: [&str; 2] = ["chromium", "chromium-browser"];

/// The absolute directories of the path that exist.
fn path_dirs() -> Vec<PathBuf> {
    let paths = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&paths)
        .filter(|dir| dir.is_absolute() && dir.is_dir())
        .collect()
}

/// Whether a Chromium binary is named or on the path.
fn chromium_found(dirs: &[PathBuf]) -> bool {
    if std::env::var(CHROMIUM_ENV).is_ok_and(|path| !path.trim().is_empty()) {
        return true;
    }
    dirs.iter()
        .any(|dir| CHROMIUM_NAMES.iter().any(|name| dir.join(name).is_file()))
}

fn main() {
    println!("cargo::rustc-check-cfg=cfg(redis_url_set)");
    println!("cargo::rustc-check-cfg=cfg(chromium_found)");
    println!("cargo::rustc-check-cfg=cfg(openapi_to_postman_set)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed={CHROMIUM_ENV}");
    if chromium_found(&path_dirs()) {
        println!("cargo::rustc-cfg=chromium_found");
    }
    println!("cargo::rerun-if-env-changed={OPENAPI_TO_POSTMAN_ENV}");
    if std::env::var(OPENAPI_TO_POSTMAN_ENV).is_ok_and(|dir| !dir.trim().is_empty()) {
        println!("cargo::rustc-cfg=openapi_to_postman_set");
    }
    println!("cargo::rerun-if-env-changed={REDIS_URL_ENV}");
    if std::env::var(REDIS_URL_ENV).is_ok_and(|url| !url.trim().is_empty()) {
        println!("cargo::rustc-cfg=redis_url_set");
    }
}
