//! Marks the Redis-backed tests as ignored, with the reason, when no Redis URL is set, and the
//! browser tests when no Chromium is found, so a run says how many did not run; `bash .ci/run`
//! sets the URL and installs Chromium, and they run.

const REDIS_URL_ENV: &str = "SANDBOX06_TEST_REDIS_URL";
const CHROMIUM_ENV: &str = "SANDBOX06_TEST_CHROMIUM";

/// Whether a Chromium binary is named or on the path.
fn chromium_found() -> bool {
    if std::env::var(CHROMIUM_ENV).is_ok_and(|path| !path.trim().is_empty()) {
        return true;
    }
    let paths = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&paths).any(|dir| {
        ["chromium", "chromium-browser"]
            .iter()
            .any(|name| dir.join(name).is_file())
    })
}

fn main() {
    println!("cargo::rustc-check-cfg=cfg(redis_url_set)");
    println!("cargo::rustc-check-cfg=cfg(chromium_found)");
    println!("cargo::rerun-if-env-changed={CHROMIUM_ENV}");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-changed=/usr/bin/chromium");
    if chromium_found() {
        println!("cargo::rustc-cfg=chromium_found");
    }
    println!("cargo::rerun-if-env-changed={REDIS_URL_ENV}");
    if std::env::var(REDIS_URL_ENV).is_ok_and(|url| !url.trim().is_empty()) {
        println!("cargo::rustc-cfg=redis_url_set");
    }
}
