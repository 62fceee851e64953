//! Finding citizens by filter in a country of 100 million: a page of 20 for a typical filter
//! (women of 30 to 40 born in Khánh Hòa with a chip CCCD and a level-2 VNeID account), for one
//! that needs the full record (divorced men), for a rare one (Chăm in Ninh Thuận), and one call
//! of a filter that matches nobody without being provably empty (the work bound).
//!
//! `cargo bench -p sandbox06-world --bench find` (add `-- --quick` for a short run).

#![allow(clippy::unwrap_used)] // a benchmark stops on the first surprise

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sandbox06_vn::Sex;
use sandbox06_world::{
    Country,
    find::{CardFilter, Filter, Search},
    person::{CardKind, Marital, Vneid},
};

/// The work bound the population database gives one call.
const BUDGET: u64 = 50_000;

fn find(c: &mut Criterion) {
    let country = Country::new(6, 100_000_000, time::macros::date!(2026 - 11 - 27));
    let filters = [
        (
            "typical",
            Filter {
                provinces: country.provinces_of(56, true),
                min_age: Some(30),
                max_age: Some(40),
                sex: Some(Sex::Female),
                card: Some(CardFilter::Kind(CardKind::CccdChip)),
                vneid: Some(Vneid::Level2),
                ..Filter::default()
            },
        ),
        (
            "full_record",
            Filter {
                sex: Some(Sex::Male),
                min_age: Some(35),
                marital: Some(Marital::Divorced),
                ..Filter::default()
            },
        ),
        (
            "rare",
            Filter {
                provinces: country.provinces_of(58, false),
                ethnicity: Some("Chăm"),
                min_age: Some(60),
                ..Filter::default()
            },
        ),
        (
            "nobody",
            Filter {
                max_age: Some(4),
                card: Some(CardFilter::Kind(CardKind::Cmnd)),
                ..Filter::default()
            },
        ),
    ];
    let mut group = c.benchmark_group("find_page_of_20");
    group.sample_size(20);
    for (name, filter) in &filters {
        group.bench_function(*name, |b| {
            b.iter(|| {
                black_box(country.find(
                    black_box(filter),
                    Search {
                        from: 0,
                        limit: 20,
                        budget: BUDGET,
                    },
                    &|_| None,
                ))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, find);
criterion_main!(benches);
