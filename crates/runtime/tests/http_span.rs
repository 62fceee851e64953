//! The HTTP span of a request, alone in its process: a subscriber set for one thread sees a
//! span only if no other thread has cached, before it existed, that nobody wants that span, so
//! this test runs in a test binary of its own.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use http::{Request, StatusCode};
use sandbox06_runtime::http::http_service;
use tower::ServiceExt as _;

/// Fields recorded on `http` spans, by name.
#[derive(Clone, Default)]
struct Recorded(Arc<std::sync::Mutex<BTreeMap<String, String>>>);

impl tracing::field::Visit for Recorded {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0
            .lock()
            .unwrap()
            .insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0
            .lock()
            .unwrap()
            .insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Recorded {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _id: &tracing::span::Id,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if attrs.metadata().name() == "http" {
            attrs.record(&mut self.clone());
        }
    }

    fn on_record(
        &self,
        _id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        values.record(&mut self.clone());
    }
}

#[tokio::test]
async fn the_http_span_records_method_route_template_and_status() {
    use tracing_subscriber::layer::SubscriberExt as _;
    let recorded = Recorded::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(recorded.clone()));
    let router = axum::Router::new().route(
        "/citizens/{id}",
        axum::routing::get(|| async { StatusCode::NO_CONTENT }),
    );
    let request = Request::get("/citizens/058090001234")
        .body(Body::empty())
        .unwrap();
    let response = http_service(router, None, 8, "test")
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let fields = recorded.0.lock().unwrap().clone();
    assert_eq!(fields["http.request.method"], "GET");
    assert_eq!(fields["http.route"], "/citizens/{id}");
    assert_eq!(fields["http.response.status_code"], "204");
    assert!(
        !fields.values().any(|value| value.contains("058090001234")),
        "the raw path is never recorded: {fields:?}"
    );
}
