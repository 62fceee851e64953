//! `sandbox06.admin.v1.StateControl`, the sandbox controls of one stateful component: reset its
//! store to the seeded state, and save, restore, list and delete named snapshots of it. Each
//! stateful component adds it to its own server beside its services; the edge does not route
//! it, the admin component calls it.
//!
//! ```no_run
//! # fn demo(store: std::sync::Arc<dyn sandbox06_store::Store>, limits: &sandbox06_runtime::config::Limits) {
//! use sandbox06_runtime::server::ServerBuilder;
//! use sandbox06_store::control::StateService;
//!
//! let builder = ServerBuilder::new(limits).component("sso").add_service(
//!     StateService::new("the single sign-on's state store", store)
//!         // Configuration kept in the store, not state: reset and restore leave it.
//!         .keeping(&["sso:keys"])
//!         .into_server(),
//! );
//! # }
//! ```
//!
//! A component's seeded state is an empty store: what it computes from its configuration (the
//! generated population, the personas, the registered clients) is not in the store, and
//! everything in the store was written since it started, except the configuration it keeps
//! there, which it names as prefixes to keep ([`StateService::keeping`]; see
//! [`crate::snapshot`]).
//!
//! Tenants: the component's store routes by the caller's tenant ([`crate::tenant`]), and the
//! admin passes the caller's `x-sandbox06-tenant` on, so a caller with a tenant resets, ages,
//! saves, restores, lists and deletes snapshots of its own tenant's state; a caller without one
//! (the operator) resets and ages the component's state and every tenant's, and its snapshots
//! are of the state of calls without a tenant. Give the service the same `keep` prefixes the
//! store was opened with ([`StoreConfig::open_checked`](crate::StoreConfig::open_checked)).
//!
//! Errors: a malformed snapshot name is `INVALID_ARGUMENT`, `INVALID_ARGUMENT`, with a field
//! violation on `name`; an unknown snapshot is `NOT_FOUND`, [`StateReason::SnapshotNotFound`],
//! naming `name` too; a failed store is `UNAVAILABLE`, `UPSTREAM_UNAVAILABLE`, with
//! `metadata.backend` `store`, logged here.

use std::sync::Arc;

use crate::{SnapshotInfo, Store, StoreError};
use sandbox06_proto::admin::{
    self as pb,
    state_control_server::{StateControl, StateControlServer},
};
use tonic::{Code, Request, Response, Status};

use sandbox06_runtime::error::{ApiError, ErrorReason, Reason};

/// Why a state control call failed, beyond the generic reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateReason {
    /// No snapshot of this component has the name.
    SnapshotNotFound,
    /// A call naming a tenant, to a component whose state every tenant shares.
    SharedByTenants,
}

/// Every reason the state control owns, in documentation order.
pub const REASONS: &[StateReason] = &[StateReason::SnapshotNotFound, StateReason::SharedByTenants];

impl ErrorReason for StateReason {
    fn as_str(&self) -> &'static str {
        match self {
            StateReason::SnapshotNotFound => "SNAPSHOT_NOT_FOUND",
            StateReason::SharedByTenants => "STATE_SHARED_BY_TENANTS",
        }
    }

    fn code(&self) -> Code {
        match self {
            StateReason::SnapshotNotFound => Code::NotFound,
            StateReason::SharedByTenants => Code::Unimplemented,
        }
    }

    fn when(&self) -> &'static str {
        match self {
            StateReason::SnapshotNotFound => {
                "No snapshot of the component has the name (`RestoreSnapshot`, `DeleteSnapshot`); `ListSnapshots` lists the saved ones."
            }
            StateReason::SharedByTenants => {
                "A call naming a tenant asked for the state of a component whose state every tenant shares (the single sign-on's): a tenant has none of its own to reset, age or snapshot. The admin surface leaves such a component out of a tenant's reset and snapshots."
            }
        }
    }
}

/// The `StateControl` service over one component's store.
#[derive(Clone, Debug)]
pub struct StateService {
    store: Arc<dyn Store>,
    /// Prefixes of the keys that are configuration, left by a reset and a restore.
    keep: &'static [&'static str],
    /// The store in the words of an error, e.g. "the single sign-on's state store".
    system: &'static str,
    /// Whether every tenant shares the store (it is not routed by tenant).
    shared: bool,
}

impl StateService {
    /// The controls of `store`, named `system` in errors ("the population database's state
    /// store"); every key is state until [`StateService::keeping`] says otherwise.
    pub fn new(system: &'static str, store: Arc<dyn Store>) -> Self {
        Self {
            store,
            keep: &[],
            system,
            shared: false,
        }
    }

    /// The store is shared by every tenant (opened with
    /// [`StoreConfig::open_checked_shared`](crate::StoreConfig::open_checked_shared)): a call
    /// naming a tenant is answered `UNIMPLEMENTED`, [`StateReason::SharedByTenants`], which the
    /// admin surface reads as "no state of the tenant's here".
    pub fn shared_by_tenants(mut self) -> Self {
        self.shared = true;
        self
    }

    /// Refuses a tenant's call to a store every tenant shares.
    fn tenant_has_state(&self) -> Result<(), Status> {
        if self.shared && sandbox06_runtime::faults::call_tenant_header().is_some() {
            return Err(ApiError::new(
                StateReason::SharedByTenants,
                format!(
                    "{} is shared by every tenant: a tenant has no state of its own there",
                    self.system
                ),
            )
            .into());
        }
        Ok(())
    }

    /// Leaves the keys starting with one of `prefixes` out of resets, snapshots and restores:
    /// configuration the component keeps in its store, such as signing keys.
    pub fn keeping(mut self, prefixes: &'static [&'static str]) -> Self {
        self.keep = prefixes;
        self
    }

    /// The gRPC server of this service, to add to a component's server.
    pub fn into_server(self) -> StateControlServer<Self> {
        StateControlServer::new(self)
    }

    /// The store failed, or refused the call's tenant: answered as
    /// [`StoreError::into_api_error`] says; a snapshot name the store refused (it checks the
    /// names it takes), naming the request's field.
    fn failed(&self, error: StoreError) -> Status {
        if let Some(invalid) = error.snapshot_name_refused() {
            return ApiError::invalid_field(Reason::InvalidArgument, "name", invalid.to_string())
                .into();
        }
        error.into_status(self.system)
    }
}

fn not_found(name: &str) -> Status {
    ApiError::invalid_field(
        StateReason::SnapshotNotFound,
        "name",
        format!("no snapshot is named {name:?}"),
    )
    .into()
}

fn snapshot(info: SnapshotInfo) -> pb::Snapshot {
    pb::Snapshot {
        name: info.name,
        saved_at_ms: info.saved_at_ms,
        key_count: i64::try_from(info.key_count).unwrap_or(i64::MAX),
    }
}

#[tonic::async_trait]
impl StateControl for StateService {
    async fn pass_time(
        &self,
        request: Request<pb::PassTimeRequest>,
    ) -> Result<Response<pb::PassTimeResponse>, Status> {
        self.tenant_has_state()?;
        let by = request
            .get_ref()
            .by
            .as_ref()
            .ok_or_else(|| {
                Status::from(ApiError::invalid_field(
                    Reason::InvalidArgument,
                    "by",
                    "is required: how much time passes, e.g. \"3600s\"",
                ))
            })
            .and_then(|by| Ok(sandbox06_runtime::clock::duration_from_proto(by, "by")?))?;
        let by = std::time::Duration::try_from(by)
            .ok()
            .filter(|by| !by.is_zero())
            .ok_or_else(|| {
                Status::from(ApiError::invalid_field(
                    Reason::InvalidArgument,
                    "by",
                    "must be positive: time only passes forward",
                ))
            })?;
        let passed = self
            .store
            .pass_time(by)
            .await
            .map_err(|error| self.failed(error))?;
        tracing::info!(
            by_ms = by.as_millis() as u64,
            expired = passed.expired,
            aged = passed.aged,
            "time passed"
        );
        Ok(Response::new(pb::PassTimeResponse {
            expired: passed.expired,
            aged: passed.aged,
        }))
    }

    async fn reset(
        &self,
        _request: Request<pb::ResetRequest>,
    ) -> Result<Response<pb::ResetResponse>, Status> {
        self.tenant_has_state()?;
        self.store
            .reset(self.keep)
            .await
            .map_err(|error| self.failed(error))?;
        tracing::info!(backend = self.store.backend(), "state reset");
        Ok(Response::new(pb::ResetResponse {}))
    }

    async fn save_snapshot(
        &self,
        request: Request<pb::SaveSnapshotRequest>,
    ) -> Result<Response<pb::SaveSnapshotResponse>, Status> {
        self.tenant_has_state()?;
        let request = request.into_inner();
        let name = request.name.as_str();
        let info = self
            .store
            .snapshot_save(name, self.keep)
            .await
            .map_err(|error| self.failed(error))?;
        tracing::info!(snapshot = name, keys = info.key_count, "state saved");
        Ok(Response::new(pb::SaveSnapshotResponse {
            snapshot: Some(snapshot(info)),
        }))
    }

    async fn restore_snapshot(
        &self,
        request: Request<pb::RestoreSnapshotRequest>,
    ) -> Result<Response<pb::RestoreSnapshotResponse>, Status> {
        self.tenant_has_state()?;
        let request = request.into_inner();
        let name = request.name.as_str();
        let info = self
            .store
            .snapshot_restore(name, self.keep)
            .await
            .map_err(|error| self.failed(error))?
            .ok_or_else(|| not_found(name))?;
        tracing::info!(snapshot = name, keys = info.key_count, "state restored");
        Ok(Response::new(pb::RestoreSnapshotResponse {
            snapshot: Some(snapshot(info)),
        }))
    }

    async fn list_snapshots(
        &self,
        _request: Request<pb::ListSnapshotsRequest>,
    ) -> Result<Response<pb::ListSnapshotsResponse>, Status> {
        self.tenant_has_state()?;
        let listed = self
            .store
            .snapshot_list()
            .await
            .map_err(|error| self.failed(error))?;
        Ok(Response::new(pb::ListSnapshotsResponse {
            snapshots: listed.into_iter().map(snapshot).collect(),
        }))
    }

    async fn delete_snapshot(
        &self,
        request: Request<pb::DeleteSnapshotRequest>,
    ) -> Result<Response<pb::DeleteSnapshotResponse>, Status> {
        self.tenant_has_state()?;
        let request = request.into_inner();
        let name = request.name.as_str();
        let deleted = self
            .store
            .snapshot_delete(name)
            .await
            .map_err(|error| self.failed(error))?;
        if deleted {
            tracing::info!(snapshot = name, "snapshot deleted");
        }
        Ok(Response::new(pb::DeleteSnapshotResponse { deleted }))
    }
}
