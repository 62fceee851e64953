//! Fault injection: every component's server fails on request the way the real system fails,
//! for contract tests (as WireMock or Toxiproxy would, but inside the component, in its own
//! error shape).
//!
//! # Rules
//!
//! A component keeps its rules in a [`FaultRegistry`] (in memory: a restart clears them). The
//! internal gRPC service `sandbox06.admin.v1.FaultControl` ([`FaultControlService`], served
//! by every [`ServerBuilder`](crate::server::ServerBuilder), not listed in reflection and not
//! routed by the edge) creates, lists and deletes them; the administration component forwards
//! the rules it is given to the component they name. A rule
//! (`proto/sandbox06/admin/v1/faults.proto`) selects calls by method (a full method, a
//! service, or every method), and optionally by the `citizen_id` a request message carries at
//! any depth and by the caller's OAuth client (`x-sandbox06-caller-client`), and does one of:
//!
//! - **status**: answers with an error in the component's own shape: `ErrorInfo` in the
//!   suite's domain, one of the component's reasons (those given to
//!   [`ServerBuilder::error_reasons`](crate::server::ServerBuilder::error_reasons)) or a
//!   generic one, and the metadata entry `fault_rule: <id>`. Without a reason the component's
//!   first reason returned with the code is taken, else the runtime's, else the code's own name
//!   (`ALREADY_EXISTS`). A reason the component does not own is refused when the rule is
//!   created (`INVALID_ARGUMENT`, field `rule.status.reason`);
//! - **latency**: delays the call (fixed, uniform or normal), which then goes on; a delay that
//!   reaches the call's deadline ends it with `DEADLINE_EXCEEDED` at the deadline, as the
//!   deadline layer would, and the handler gets what is left of the deadline;
//! - **drop**: resets the call's stream after its response headers (HTTP/2 `RST_STREAM` with
//!   `INTERNAL_ERROR`), as a broken connection: the client's library reports an error of its
//!   own (`INTERNAL` for a tonic client, over TCP or in process); a component calling through
//!   the runtime's clients reports it as `UPSTREAM_FAILED`, as it does a backend that breaks
//!   off;
//! - **down**: answers `UNAVAILABLE` without details, as a library reports a server it cannot
//!   reach. A down rule of every method answers health (`grpc.health.v1.Health`) the same way, so
//!   what watches the component's health sees it down; reflection and the sandbox's controls
//!   (`sandbox06.admin.v1`: FaultControl, StateControl, JournalControl) stay up.
//!
//! Every matching latency rule delays the call (delays add up); the first matching status,
//! drop or down rule ends it. `share` applies a rule to that share of matching calls only,
//! `times` to the first N (then the rule is removed), `ttl`/`expire_time` until then. Each
//! faulted answer carries the response header `x-sandbox06-fault-rule` listing the rules (or
//! `header`) that shaped it. Health is faulted only by rules naming it and by down faults.
//!
//! # The `x-sandbox06-fault` header
//!
//! A call may ask for a fault for itself alone, without a rule:
//!
//! ```text
//! x-sandbox06-fault: <component>: <fault> [<fault>...] [, <component>: <fault>...]...
//! ```
//!
//! where a fault is one of
//!
//! | fault | effect |
//! |---|---|
//! | an error code by name: `unavailable`, `not_found`, `DEADLINE_EXCEEDED`, `resource-exhausted`... | a status fault with that code (and the component's reason for it) |
//! | `reason=<REASON>` | a status fault with one of the component's reasons (with a code: the code must be the reason's) |
//! | `latency=<duration>`, `latency=<min>..<max>` | a fixed or uniform delay, `300ms`, `1.5s`, `250us`, at most 300s |
//! | `drop` | a reset stream |
//! | `down` | unreachable |
//!
//! For example `x-sandbox06-fault: population-db: unavailable, citizen: latency=300ms`, or
//! `population-db: latency=200ms reason=CITIZEN_NOT_FOUND`. At most one of an error code, drop
//! and down per component. A malformed header (or a reason the named component does not own)
//! is refused with `INVALID_ARGUMENT` and the metadata `header: x-sandbox06-fault`, by the
//! first component that reads it.
//!
//! The header travels with the call: the edge forwards it with the call, and every call a
//! handler makes through a client with [`TraceContextInterceptor`](crate::telemetry::TraceContextInterceptor)
//! (or whose headers get [`inject_span_context`](crate::telemetry::inject_span_context))
//! carries it on ([`call_fault_header`]). Each component applies the part naming it, to every
//! call it serves with the header: a citizen call that asks the population database twice
//! meets the database's fault twice.
//!
//! # Tenants: the `x-sandbox06-tenant` header
//!
//! Parallel test jobs sharing one running suite keep their rules apart by naming themselves in
//! the request header `x-sandbox06-tenant` (1 to 64 of `a-z A-Z 0-9 - _ .`; anything else is
//! refused with `INVALID_ARGUMENT` and the metadata `header: x-sandbox06-tenant`, by the first
//! server that reads it, the sandbox's controls included). The header travels with the call
//! exactly as the fault header does ([`call_tenant_header`]).
//!
//! - A rule created by a call with a tenant belongs to that tenant (`FaultRule.tenant`) and
//!   matches only calls carrying the same tenant; a rule created without one matches every call.
//! - A caller with a tenant lists, deletes and clears only its tenant's rules (another tenant's
//!   rule id is `NOT_FOUND`, as an unknown id); a caller without one (the operator) sees and
//!   clears every rule.
//!
//! The edge records the tenant of each call in its journal, which answers a caller with a
//! tenant with that tenant's calls only. Each component's stored state is the tenant's own too
//! (`sandbox06_store::TenantStores`); [`as_tenant`] runs a future as one tenant's call.
//!
//! # Cost
//!
//! With no rule and neither header, a call costs one atomic load and two header lookups; the
//! layer sits inside the trace layer, so a faulted call is traced and counted like any other.

mod action;
mod control;
mod header;
mod layer;
mod random;
mod registry;
mod tenant;

pub use control::FaultControlService;
pub use header::parse_duration;
pub use layer::{FaultBody, FaultFuture, FaultLayer, Faults, call_fault_header};
pub use registry::{FaultRegistry, MAX_DELAY, MAX_RULES};
pub use sandbox06_proto::admin::fault_control_client::FaultControlClient;
/// The refusal of a malformed `x-sandbox06-tenant` (`INVALID_ARGUMENT`, naming the header).
pub use tenant::malformed as malformed_tenant;
pub use tenant::{
    MAX_TENANT_LEN, TENANT_HEADER, as_suite, as_tenant, call_tenant_header, is_tenant, pass_tenant,
    tenant_of, tenant_of_metadata,
};

/// The request header asking for faults on one call (see the module documentation).
pub const FAULT_HEADER: &str = "x-sandbox06-fault";

/// The response header naming the fault rules (or `header`) that shaped an answer.
pub const FAULT_RULE_HEADER: &str = "x-sandbox06-fault-rule";

/// The `ErrorInfo.metadata` key of a status fault: the rule's id, or `header`.
pub const FAULT_RULE_METADATA: &str = "fault_rule";

/// `sandbox06.admin.v1.FaultControl`
pub const FAULT_CONTROL_SERVICE: &str = "sandbox06.admin.v1.FaultControl";

/// The package of the sandbox's own controls (the admin surface, and the control services it
/// calls: `FaultControl`, `StateControl`, `JournalControl`): never faulted, so that a rule can
/// always be listed and cleared, and a reset or a snapshot always reaches the component.
pub const CONTROLS_PACKAGE: &str = "sandbox06.admin.v1.";
