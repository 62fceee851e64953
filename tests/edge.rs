//! The edge as a whole: health and reflection for the suite, unknown methods.

use sandbox06_runtime::error::reason_of;
use sandbox06_testkit::start;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

#[tokio::test]
async fn health_answers_for_the_suite_and_each_service() {
    let h = start().await;
    let mut health = HealthClient::new(h.edge.clone());
    for service in ["", "sandbox06.citizen.v1.CitizenService"] {
        let r = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.status, ServingStatus::Serving as i32, "{service:?}");
    }
    let err = health
        .check(HealthCheckRequest {
            service: "no.such.Service".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn reflection_lists_and_describes_the_services() {
    let h = start().await;
    let mut reflection = ServerReflectionClient::new(h.edge.clone());
    let ask = |request: MessageRequest| {
        tokio_stream::iter([ServerReflectionRequest {
            host: String::new(),
            message_request: Some(request),
        }])
    };
    let mut responses = reflection
        .server_reflection_info(ask(MessageRequest::ListServices(String::new())))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) =
        responses.message().await.unwrap().unwrap().message_response
    else {
        panic!("not a list");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "sandbox06.citizen.v1.CitizenService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    let mut responses = reflection
        .server_reflection_info(ask(MessageRequest::FileContainingSymbol(
            "sandbox06.citizen.v1.CitizenService".into(),
        )))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::FileDescriptorResponse(files)) =
        responses.message().await.unwrap().unwrap().message_response
    else {
        panic!("no descriptor");
    };
    assert!(!files.file_descriptor_proto.is_empty());
    h.suite.stop().await.unwrap();
}

#[tokio::test]
async fn an_unknown_service_is_unimplemented_with_a_reason() {
    let h = start().await;
    let mut client = tonic::client::Grpc::new(h.edge.clone());
    client.ready().await.unwrap();
    let path = http::uri::PathAndQuery::from_static("/sandbox06.nothing.v1.Nothing/Get");
    let err = client
        .unary::<(), (), _>(
            tonic::Request::new(()),
            path,
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unimplemented);
    assert_eq!(reason_of(&err).as_deref(), Some("METHOD_NOT_FOUND"));
    h.suite.stop().await.unwrap();
}
