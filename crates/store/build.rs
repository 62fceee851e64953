//! Marks the Redis-backed tests as ignored, with the reason, when no Redis URL is set, so a run
//! says how many did not run; `bash .ci/run` sets the URL and they run.

const REDIS_URL_ENV: &str = "SANDBOX06_TEST_REDIS_URL";

fn main() {
    println!("cargo::rustc-check-cfg=cfg(redis_url_set)");
    println!("cargo::rerun-if-env-changed={REDIS_URL_ENV}");
    if std::env::var(REDIS_URL_ENV).is_ok_and(|url| !url.trim().is_empty()) {
        println!("cargo::rustc-cfg=redis_url_set");
    }
}
