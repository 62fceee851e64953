//! Population statistics and the holders of a social insurance number over the country of 100
//! million: one province (Khánh Hòa of the 2025 units, two provinces before), the whole country,
//! and a social insurance number looked up with and without the holder's birth year.
//!
//! `cargo bench -p sandbox06-population-db --bench statistics` (add `-- --quick` for a short run).

#![allow(clippy::unwrap_used)] // a benchmark stops on the first surprise

use std::{hint::black_box, sync::Arc};

use criterion::{Criterion, criterion_group, criterion_main};
use sandbox06_population_db::PopulationDb;
use sandbox06_proto::{
    population::{self as pop, population_service_server::PopulationService},
    types::{AdminEra, PopulationStatisticsRequest},
};
use sandbox06_store::MemoryStore;
use sandbox06_world::{Country, View};
use tonic::Request;

fn statistics(c: &mut Criterion) {
    let country = Arc::new(Country::new(
        6,
        100_000_000,
        time::macros::date!(2026 - 11 - 27),
    ));
    let db = PopulationDb::new(country.clone(), Arc::new(MemoryStore::new()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("statistics");
    for (name, code) in [("province", "56"), ("country", "")] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let request = PopulationStatisticsRequest {
                    province_code: code.into(),
                    era: AdminEra::Current as i32,
                    band_years: 5,
                };
                black_box(
                    db.get_population_statistics(Request::new(request))
                        .await
                        .unwrap(),
                )
            })
        });
    }
    group.finish();

    // An insured citizen of Khánh Hòa.
    let range = country.province_range(56).unwrap();
    let (id, number) = range
        .filter_map(|i| country.citizen_at(i))
        .find_map(|id| {
            let card = country.person(id, View::Full)?.insurance?;
            Some((id, card.social_insurance_number))
        })
        .unwrap();
    let mut group = c.benchmark_group("insured");
    for (name, year) in [("with_birth_year", id.birth_year()), ("any_year", 0)] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let request = pop::FindInsuredCitizensRequest {
                    social_insurance_number: number.clone(),
                    birth_year: year,
                };
                black_box(
                    db.find_insured_citizens(Request::new(request))
                        .await
                        .unwrap(),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, statistics);
criterion_main!(benches);
