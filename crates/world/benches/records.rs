//! Generating records by ID number: full records (what GetCitizen answers, household and health
//! insurance included), basic records (identity, cards and VNeID account) and identity records
//! (what MatchCitizens compares: name, date of birth, sex and life), for citizens spread over a
//! country of 100 million, as the suite benchmark's `sandbox06 up` generates them.
//!
//! `cargo bench -p sandbox06-world --bench records` (add `-- --quick` for a short run).

#![allow(clippy::unwrap_used)] // a benchmark stops on the first surprise

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sandbox06_vn::CitizenId;
use sandbox06_world::{Country, View};

/// Citizens per measured iteration.
const SAMPLE: u64 = 1_000;

/// The country `sandbox06 up` serves by default.
fn country() -> Country {
    Country::new(6, 100_000_000, time::macros::date!(2026 - 11 - 27))
}

/// `SAMPLE` generated citizens spread evenly over the whole country.
fn sample(country: &Country) -> Vec<CitizenId> {
    let step = country.population() / SAMPLE;
    (0..SAMPLE)
        .map(|i| country.citizen_at(i * step).unwrap())
        .collect()
}

fn records(c: &mut Criterion) {
    let country = country();
    let ids = sample(&country);
    let mut group = c.benchmark_group("records");
    group.throughput(Throughput::Elements(SAMPLE));
    group.sample_size(20);
    for (name, view) in [
        ("full", View::Full),
        ("basic", View::Basic),
        ("identity", View::Identity),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                for &id in &ids {
                    black_box(country.person(black_box(id), view));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, records);
criterion_main!(benches);
