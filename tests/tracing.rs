//! One trace across every hop: the caller's W3C trace context reaches the gateway, the citizen
//! service and the population database, each hop's span is a child of the previous one, and
//! each hop is exported under its own component's `service.name`, although all of them run in
//! this one process.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::collections::BTreeSet;

use opentelemetry::Key;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanData;
use sandbox06_proto::citizen::GetCitizenRequest;
use sandbox06_testkit::spans::telemetry;
use sandbox06_testkit::{personas, start};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const MATCH_TRACE_ID: &str = "5cf92f3577b34da6a3ce929d0e0e4737";
const SERVICES_TRACE_ID: &str = "6df92f3577b34da6a3ce929d0e0e4738";
const HTTP_TRACE_ID: &str = "7ef92f3577b34da6a3ce929d0e0e4739";
const REST_TRACE_ID: &str = "8af92f3577b34da6a3ce929d0e0e473a";

/// A GetCitizen of the happy-path persona, continuing the caller's trace `trace`.
fn traced_get_citizen(trace: &str) -> tonic::Request<GetCitizenRequest> {
    let mut request = tonic::Request::new(GetCitizenRequest {
        citizen_id: personas::HAPPY_PATH.into(),
        read_mask: None,
    });
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{trace}-00f067aa0ba902b7-01").parse().unwrap(),
    );
    request
}

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

fn resource_attribute(resource: &Resource, key: &'static str) -> String {
    resource
        .get(&Key::from_static_str(key))
        .map(|v| v.to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn one_get_citizen_trace_shows_each_components_service_name() {
    let (provider, collector) = telemetry();
    let h = start().await;
    h.citizens()
        .get_citizen(traced_get_citizen(SERVICES_TRACE_ID))
        .await
        .unwrap();
    h.suite.stop().await.unwrap();
    provider.force_flush().unwrap();

    let spans = collector.trace(SERVICES_TRACE_ID);
    let services: BTreeSet<String> = spans
        .iter()
        .map(|(resource, _)| resource_attribute(resource, "service.name"))
        .collect();
    assert_eq!(
        services,
        BTreeSet::from(["citizen".into(), "gateway".into(), "population-db".into()])
    );
    for (resource, _) in &spans {
        assert_eq!(
            resource_attribute(resource, "service.namespace"),
            "sandbox06"
        );
        assert!(!resource_attribute(resource, "service.version").is_empty());
    }
    // Each hop's spans under its own name: the edge's server span and the `gateway` span
    // beneath it, the citizen service's server span, the population database's.
    let hops: BTreeSet<String> = spans
        .iter()
        .map(|(resource, span)| {
            format!(
                "{} {} {}",
                resource_attribute(resource, "service.name"),
                span.name,
                attribute(span, "rpc.service").unwrap_or_default()
            )
        })
        .collect();
    for hop in [
        "gateway gateway sandbox06.citizen.v1.CitizenService",
        "gateway /sandbox06.citizen.v1.CitizenService/GetCitizen sandbox06.citizen.v1.CitizenService",
        "citizen /sandbox06.citizen.v1.CitizenService/GetCitizen sandbox06.citizen.v1.CitizenService",
        "population-db /sandbox06.upstream.population.v1.PopulationService/GetCitizen sandbox06.upstream.population.v1.PopulationService",
    ] {
        assert!(hops.contains(hop), "{hop} missing from {hops:#?}");
    }
}

#[tokio::test]
async fn an_http_request_is_traced_under_its_component() {
    let (provider, collector) = telemetry();
    let h = start().await;
    let request = http::Request::get("/metrics")
        .header(
            "traceparent",
            format!("00-{HTTP_TRACE_ID}-00f067aa0ba902b7-01"),
        )
        .body(String::new())
        .unwrap();
    let (status, _) = sandbox06_testkit::http1(h.suite.edge, request).await;
    assert_eq!(status, http::StatusCode::OK);
    h.suite.stop().await.unwrap();
    provider.force_flush().unwrap();

    let spans = collector.trace(HTTP_TRACE_ID);
    let http_span = spans
        .iter()
        .find(|(_, span)| attribute(span, "http.route").as_deref() == Some("/metrics"))
        .unwrap_or_else(|| panic!("no http span in {spans:#?}"));
    assert_eq!(resource_attribute(&http_span.0, "service.name"), "gateway");
    assert_eq!(
        attribute(&http_span.1, "http.response.status_code").as_deref(),
        Some("200")
    );
}

#[tokio::test]
async fn a_rest_call_is_traced_through_every_hop_under_its_route_template() {
    let (provider, collector) = telemetry();
    let h = start().await;
    let request = http::Request::get(format!("/v1/citizens/{}", personas::HAPPY_PATH))
        .header("authorization", format!("Bearer {}", h.token))
        .header(
            "traceparent",
            format!("00-{REST_TRACE_ID}-00f067aa0ba902b7-01"),
        )
        .body(String::new())
        .unwrap();
    let (status, body) = sandbox06_testkit::http1(h.suite.edge, request).await;
    assert_eq!(status, http::StatusCode::OK, "{body}");
    h.suite.stop().await.unwrap();
    provider.force_flush().unwrap();

    let spans = collector.trace(REST_TRACE_ID);
    // The edge's HTTP span names the route by its template, not by the ID number in the path.
    let http_span = spans
        .iter()
        .find(|(_, span)| attribute(span, "http.route").is_some())
        .unwrap_or_else(|| panic!("no http span in {spans:#?}"));
    assert_eq!(
        attribute(&http_span.1, "http.route").as_deref(),
        Some("/v1/citizens/{citizen_id}")
    );
    for (_, span) in &spans {
        for (key, value) in span
            .attributes
            .iter()
            .map(|kv| (kv.key.as_str(), kv.value.to_string()))
        {
            assert!(
                !value.contains(personas::HAPPY_PATH),
                "{key} of {} carries the ID number: {value}",
                span.name
            );
        }
    }
    // The gRPC hops beneath it: the edge's, the citizen service's, the population database's,
    // each a child of another span of the trace.
    let services: Vec<String> = spans
        .iter()
        .filter_map(|(resource, span)| {
            attribute(span, "rpc.service").map(|_| resource_attribute(resource, "service.name"))
        })
        .collect();
    for component in ["gateway", "citizen", "population-db"] {
        assert!(
            services.iter().any(|s| s == component),
            "{component} missing from {services:?}"
        );
    }
    let ids: Vec<_> = spans
        .iter()
        .map(|(_, s)| s.span_context.span_id())
        .collect();
    for (_, s) in &spans {
        let parent = s.parent_span_id;
        assert!(
            ids.contains(&parent) || format!("{parent}") == "00f067aa0ba902b7",
            "{} has a foreign parent",
            s.name
        );
    }
}

#[tokio::test]
async fn the_callers_trace_reaches_every_hop() {
    let (provider, collector) = telemetry();
    let h = start().await;
    h.citizens()
        .get_citizen(traced_get_citizen(TRACE_ID))
        .await
        .unwrap();
    // A streaming call's upstream batches belong to its trace too.
    let mut stream = tonic::Request::new(tokio_stream::iter([
        sandbox06_proto::citizen::MatchCitizensRequest {
            record_key: "a".into(),
            citizen_id: personas::HAPPY_PATH.into(),
            full_name: "Nguyễn Văn Hùng".into(),
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

    let spans: Vec<SpanData> = collector
        .trace(TRACE_ID)
        .into_iter()
        .map(|(_, span)| span)
        .collect();
    let names: Vec<String> = spans
        .iter()
        .map(|s| {
            format!(
                "{}:{}",
                s.name,
                attribute(s, "rpc.service").unwrap_or_default()
            )
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
    let batch_spans = collector
        .trace(MATCH_TRACE_ID)
        .iter()
        .filter(|(_, s)| s.name.contains("BatchGetCitizens"))
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
