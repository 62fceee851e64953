//! One trace across every hop: the caller's W3C trace context reaches the gateway, the citizen
//! service and the population database, and each hop's span is a child of the previous one.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use opentelemetry::trace::{TraceId, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use sandbox06_proto::citizen::GetCitizenRequest;
use sandbox06_testkit::personas;
use sandbox06_testkit::start;
use tracing_subscriber::layer::SubscriberExt;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const MATCH_TRACE_ID: &str = "5cf92f3577b34da6a3ce929d0e0e4737";

#[tokio::test]
async fn the_callers_trace_reaches_every_hop() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let h = start().await;
    let mut request = tonic::Request::new(GetCitizenRequest {
        citizen_id: personas::HAPPY_PATH.into(),
        read_mask: None,
    });
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{TRACE_ID}-00f067aa0ba902b7-01")
            .parse()
            .unwrap(),
    );
    h.citizens().get_citizen(request).await.unwrap();
    // A streaming call's upstream batches belong to its trace too.
    let mut stream = tonic::Request::new(tokio_stream::iter([
        sandbox06_proto::citizen::MatchCitizensRequest {
            record_key: "a".into(),
            citizen_id: personas::HAPPY_PATH.into(),
            ..Default::default()
        },
    ]));
    stream.metadata_mut().insert(
        "traceparent",
        format!("00-{MATCH_TRACE_ID}-00f067aa0ba902b7-01")
            .parse()
            .unwrap(),
    );
    let mut responses = h
        .citizens()
        .match_citizens(stream)
        .await
        .unwrap()
        .into_inner();
    while responses.message().await.unwrap().is_some() {}
    h.suite.stop().await.unwrap();
    provider.force_flush().unwrap();

    let trace_id = TraceId::from_hex(TRACE_ID).unwrap();
    let spans: Vec<_> = exporter
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .filter(|s| s.span_context.trace_id() == trace_id)
        .collect();
    let names: Vec<String> = spans
        .iter()
        .map(|s| {
            let service = s
                .attributes
                .iter()
                .find(|kv| kv.key.as_str() == "rpc.service")
                .map(|kv| kv.value.to_string());
            format!("{}:{}", s.name, service.unwrap_or_default())
        })
        .collect();
    let count = |name: &str| names.iter().filter(|n| n.as_str() == name).count();
    // The edge's server span and its forwarding span, the citizen service's server span, and
    // the population database's server span.
    assert_eq!(
        count("gateway:sandbox06.citizen.v1.CitizenService"),
        1,
        "{names:?}"
    );
    assert_eq!(
        count(
            "/sandbox06.citizen.v1.CitizenService/GetCitizen:sandbox06.citizen.v1.CitizenService"
        ),
        2,
        "{names:?}"
    );
    assert_eq!(
        count(
            "/sandbox06.upstream.population.v1.PopulationService/GetCitizen:sandbox06.upstream.population.v1.PopulationService"
        ),
        1,
        "{names:?}"
    );
    let match_trace = TraceId::from_hex(MATCH_TRACE_ID).unwrap();
    let batch_spans = exporter
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .filter(|s| s.span_context.trace_id() == match_trace && s.name.contains("BatchGetCitizens"))
        .count();
    assert_eq!(
        batch_spans, 1,
        "the upstream batch of MatchCitizens is not in the caller's trace"
    );
    // Every span of the trace hangs off another span of it, or off the caller's.
    let ids: Vec<_> = spans.iter().map(|s| s.span_context.span_id()).collect();
    for s in &spans {
        let parent = s.parent_span_id;
        assert!(
            ids.contains(&parent) || format!("{parent}") == "00f067aa0ba902b7",
            "{} has a foreign parent",
            s.name
        );
    }
}
