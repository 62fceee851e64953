//! `StateControl` over a real socket, as the admin component calls it: reset keeping the
//! configuration keys, snapshots saved, listed, restored and deleted, and its errors.

#![allow(clippy::unwrap_used)] // a test fails loudly on the first unexpected value

use std::net::SocketAddr;
use std::sync::Arc;

use sandbox06_proto::admin::{self as pb, state_control_client::StateControlClient};
use sandbox06_runtime::config::Limits;
use sandbox06_runtime::error::{field_violations_of, reason_of};
use sandbox06_runtime::server::{ServerBuilder, bind};
use sandbox06_store::control::StateService;
use sandbox06_store::{CheckedStore, MemoryStore, Store};
use tonic::Code;
use tonic::transport::Channel;

/// Configuration kept through resets and restores.
const KEEP: &[&str] = &["sso:keys"];

/// A component's server with the state controls of `store`; a client of it.
async fn serve(store: Arc<dyn Store>) -> StateControlClient<Channel> {
    let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let builder = ServerBuilder::new(&Limits::default())
        .component("state-test")
        .add_service(
            StateService::new("the test component's state store", store)
                .keeping(KEEP)
                .into_server(),
        );
    tokio::spawn(builder.serve(listener, std::future::pending()));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    StateControlClient::new(channel)
}

fn save(name: &str) -> pb::SaveSnapshotRequest {
    pb::SaveSnapshotRequest { name: name.into() }
}

fn restore(name: &str) -> pb::RestoreSnapshotRequest {
    pb::RestoreSnapshotRequest { name: name.into() }
}

fn delete(name: &str) -> pb::DeleteSnapshotRequest {
    pb::DeleteSnapshotRequest { name: name.into() }
}

#[tokio::test]
async fn reset_and_snapshots_over_the_wire() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let mut client = serve(Arc::clone(&store)).await;
    store.put("sso:keys", b"signing keys", None).await.unwrap();
    store.put("sso:session:a", b"session", None).await.unwrap();
    store
        .append("population:{overlay}:events:1", b"married")
        .await
        .unwrap();

    let saved = client
        .save_snapshot(save("after-login"))
        .await
        .unwrap()
        .into_inner()
        .snapshot
        .unwrap();
    assert_eq!(saved.name, "after-login");
    assert_eq!(saved.key_count, 2, "the kept key is not state");
    assert!(saved.saved_at_ms > 0);

    // The reset forgets the state and keeps the configuration.
    client.reset(pb::ResetRequest {}).await.unwrap();
    assert_eq!(store.get("sso:session:a").await.unwrap(), None);
    assert!(
        store
            .list("population:{overlay}:events:1")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.get("sso:keys").await.unwrap(),
        Some(b"signing keys".to_vec())
    );

    // The snapshot outlived the reset and brings the state back, without what came after.
    store.put("sso:session:b", b"later", None).await.unwrap();
    let listed = client
        .list_snapshots(pb::ListSnapshotsRequest {})
        .await
        .unwrap()
        .into_inner()
        .snapshots;
    assert_eq!(listed, vec![saved.clone()]);
    let restored = client
        .restore_snapshot(restore("after-login"))
        .await
        .unwrap()
        .into_inner()
        .snapshot
        .unwrap();
    assert_eq!(restored, saved);
    assert_eq!(
        store.get("sso:session:a").await.unwrap(),
        Some(b"session".to_vec())
    );
    assert_eq!(store.get("sso:session:b").await.unwrap(), None);
    assert_eq!(
        store.list("population:{overlay}:events:1").await.unwrap(),
        vec![b"married".to_vec()]
    );

    let deleted = client.delete_snapshot(delete("after-login")).await.unwrap();
    assert!(deleted.into_inner().deleted);
    assert!(
        client
            .list_snapshots(pb::ListSnapshotsRequest {})
            .await
            .unwrap()
            .into_inner()
            .snapshots
            .is_empty()
    );
}

#[tokio::test]
async fn an_unknown_snapshot_is_not_found_naming_the_field_and_deleting_it_is_no_error() {
    let mut client = serve(Arc::new(MemoryStore::new())).await;
    let status = client
        .restore_snapshot(restore("missing"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert_eq!(reason_of(&status).as_deref(), Some("SNAPSHOT_NOT_FOUND"));
    assert_eq!(status.message(), "name: no snapshot is named \"missing\"");
    assert_eq!(field_violations_of(&status)[0].field, "name");
    // A clean-up runs whether or not the snapshot was saved.
    let deleted = client.delete_snapshot(delete("missing")).await.unwrap();
    assert!(!deleted.into_inner().deleted);
}

#[tokio::test]
async fn a_malformed_name_is_an_invalid_argument_naming_the_field() {
    // The store checks the names it takes; a checked store does not take a refused name for
    // its backend being down.
    let checked = Arc::new(CheckedStore::new(Arc::new(
        sandbox06_store::TenantStores::memory(KEEP),
    )));
    for store in [
        Arc::new(MemoryStore::new()) as Arc<dyn Store>,
        Arc::clone(&checked) as Arc<dyn Store>,
    ] {
        refuses_malformed_names(serve(store).await).await;
    }
    assert!(checked.is_up());
}

async fn refuses_malformed_names(mut client: StateControlClient<Channel>) {
    for name in ["", "a:b", "{tag}", "-dash", &"x".repeat(65), "tên"] {
        for status in [
            client.save_snapshot(save(name)).await.unwrap_err(),
            client.restore_snapshot(restore(name)).await.unwrap_err(),
            client.delete_snapshot(delete(name)).await.unwrap_err(),
        ] {
            assert_eq!(status.code(), Code::InvalidArgument, "{name}: {status:?}");
            assert_eq!(reason_of(&status).as_deref(), Some("INVALID_ARGUMENT"));
            assert!(
                status.message().starts_with("name: snapshot name "),
                "{}",
                status.message()
            );
            let violations = field_violations_of(&status);
            assert_eq!(violations.len(), 1);
            assert_eq!(violations[0].field, "name");
            assert!(violations[0].description.contains("A-Z, a-z, 0-9"));
        }
    }
}

#[tokio::test]
async fn a_failed_store_is_unavailable() {
    let memory = Arc::new(MemoryStore::new());
    let store = Arc::new(CheckedStore::new(memory));
    // A read of the wrong kind fails, which marks the checked store down: every operation
    // then fails at once, as while its backend does not answer.
    store.put("value", b"v", None).await.unwrap();
    assert!(store.list("value").await.is_err());
    assert!(!store.is_up());
    let mut client = serve(store).await;
    for status in [
        client.reset(pb::ResetRequest {}).await.unwrap_err(),
        client.save_snapshot(save("s")).await.unwrap_err(),
        client.restore_snapshot(restore("s")).await.unwrap_err(),
        client
            .list_snapshots(pb::ListSnapshotsRequest {})
            .await
            .unwrap_err(),
        client.delete_snapshot(delete("s")).await.unwrap_err(),
    ] {
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        assert_eq!(reason_of(&status).as_deref(), Some("UPSTREAM_UNAVAILABLE"));
        assert_eq!(
            status.message(),
            "the test component's state store cannot be reached; retry later"
        );
    }
}

/// `request` as a call of `tenant`.
fn of_tenant<T>(tenant: &str, request: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(request);
    request
        .metadata_mut()
        .insert("x-sandbox06-tenant", tenant.parse().unwrap());
    request
}

#[tokio::test]
async fn a_tenant_past_the_memory_limit_is_told_so_not_that_the_store_is_down() {
    use sandbox06_store::{MAX_MEMORY_TENANTS, TenantStores};
    use tonic_types::StatusExt as _;

    let store = Arc::new(CheckedStore::new(Arc::new(TenantStores::memory(KEEP))));
    // Every place taken.
    for n in 0..MAX_MEMORY_TENANTS {
        sandbox06_runtime::faults::as_tenant(&format!("t{n}"), store.put("k", b"v", None))
            .unwrap()
            .await
            .unwrap();
    }
    let mut client = serve(Arc::clone(&store) as Arc<dyn Store>).await;
    let status = client
        .list_snapshots(of_tenant("one-too-many", pb::ListSnapshotsRequest {}))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(reason_of(&status).as_deref(), Some("TENANTS_FULL"));
    assert!(status.message().contains("reset"), "{}", status.message());
    let info = status.get_details_error_info().unwrap();
    assert_eq!(info.metadata["max_tenants"], MAX_MEMORY_TENANTS.to_string());
    // No backend failed: the store is not taken for down, and a known tenant goes on.
    assert!(store.is_up());
    client
        .list_snapshots(of_tenant("t7", pb::ListSnapshotsRequest {}))
        .await
        .unwrap();
    // An operator's reset frees the places.
    client.reset(pb::ResetRequest {}).await.unwrap();
    client
        .list_snapshots(of_tenant("one-too-many", pb::ListSnapshotsRequest {}))
        .await
        .unwrap();
}

#[test]
fn each_refusal_of_a_tenant_has_a_status_of_its_own() {
    use sandbox06_store::{Refusal, StoreError, TenantRefusal, tenant::REFUSED};
    use tonic_types::StatusExt as _;

    let refused = |refusal| StoreError {
        refusal: Some(Refusal::Tenant(refusal)),
        ..StoreError::new(REFUSED, "get", "refused")
    };
    let status = refused(TenantRefusal::Malformed).into_status("the store");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(reason_of(&status).as_deref(), Some("INVALID_ARGUMENT"));
    assert_eq!(
        status.get_details_error_info().unwrap().metadata["header"],
        "x-sandbox06-tenant"
    );
    let status = refused(TenantRefusal::TooMany).into_status("the store");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(reason_of(&status).as_deref(), Some("TENANTS_FULL"));
    let status = refused(TenantRefusal::MixedKeys).into_status("the store");
    assert_eq!(status.code(), Code::Internal);
    // A backend's failure stays unavailable.
    let status = StoreError::new("redis", "get", "Connection refused").into_status("the store");
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason_of(&status).as_deref(), Some("UPSTREAM_UNAVAILABLE"));
}
