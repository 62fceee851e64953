//! `sandbox06.admin.v1.AdminService`: each call checked against the operator's access choice,
//! then forwarded to the control service of the component it concerns, or to all of them.
//!
//! | admin call | goes to |
//! |---|---|
//! | `CreateFaultRule`, `DeleteFaultRule` | the `FaultControl` of the rule's component |
//! | `ListFaultRules`, `ClearFaultRules` | the `FaultControl` of every component |
//! | `ResetSandbox` | the `StateControl` of every stateful component (or the one named), their `FaultControl`, and the edge's `JournalControl` |
//! | `SaveSnapshot`, `RestoreSnapshot`, `ListSnapshots`, `DeleteSnapshot` | the `StateControl` of every stateful component |
//! | `ListJournal`, `VerifyJournal`, `ClearJournal` | the edge's `JournalControl` |
//! | `FindCitizens` | the population database's `FindCitizens` |
//! | `CreateLifeEvent` | the population database's `CreateLifeEvent` ([`crate::records`]) |
//! | `UnlockAccount` | VNeID's `UnlockAccount` ([`crate::records`]) |
//! | `IssueVneidShareCode` | VNeID's `IssueShareCode` ([`crate::records`]) |
//! | `GiveVneidConsent`, `WithdrawVneidConsent` | VNeID's `GiveConsent`, `WithdrawConsent` ([`crate::records`]) |
//!
//! The control calls carry the admin caller's `x-sandbox06-tenant` header on, so a caller with
//! a tenant lists, deletes and clears its own fault rules and journal entries only, and resets,
//! saves, restores, lists and deletes snapshots of its own tenant's state in every component
//! (the stores are routed by tenant, `sandbox06_store::TenantStores`). A caller without one
//! (the operator) resets every tenant's state with the rest; its snapshots hold the state of
//! calls without a tenant.
//!
//! A fault rule's id is its component's id qualified by the component, `<component>.<id>`
//! (`population-db.f-3`): ids are numbered by each component, and the admin finds the rule's
//! component again from it. A component is stateful when it serves `StateControl`; one that
//! answers `UNIMPLEMENTED` keeps no state and is left out of resets and snapshots.

use std::collections::BTreeMap;
use std::future::Future;

use futures::future::try_join_all;
use sandbox06_proto::admin::{
    self as pb, admin_service_server::AdminService, fault_control_client::FaultControlClient,
    journal_control_client::JournalControlClient, state_control_client::StateControlClient,
};
use sandbox06_proto::population::population_service_client::PopulationServiceClient;
use sandbox06_proto::vneid::consent_service_client::ConsentServiceClient;
use sandbox06_proto::vneid::share_code_service_client::ShareCodeServiceClient;
use sandbox06_proto::vneid::vneid_service_client::VneidServiceClient;
use sandbox06_runtime::caller::Caller;
use sandbox06_runtime::clock::Clock;
use sandbox06_runtime::control_key::CONTROL_KEY_HEADER;
use sandbox06_runtime::{ApiError, PeerChannel, Reason};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::{Interceptor, interceptor::InterceptedService};
use tonic::{Code, Request, Response, Status};

use crate::access::Access;
use crate::error::{AdminReason, from_component};
use crate::records;

mod clock;

/// The edge, as the list of components names it.
pub const GATEWAY: &str = "gateway";
/// The population database, as the list of components names it.
pub const POPULATION_DB: &str = "population-db";
/// The VNeID mock, as the list of components names it.
pub const VNEID: &str = "vneid";

/// Puts the suite's control key on a control call ([`sandbox06_runtime::control_key`]).
#[derive(Clone, Debug, Default)]
pub struct ControlKey(Option<MetadataValue<Ascii>>);

impl ControlKey {
    /// The key `key` (the context's), or none.
    pub fn new(key: Option<String>) -> Self {
        Self(key.and_then(|key| MetadataValue::try_from(key).ok()))
    }
}

impl Interceptor for ControlKey {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(key) = &self.0 {
            request
                .metadata_mut()
                .insert(CONTROL_KEY_HEADER, key.clone());
        }
        // The admin caller's tenant: the components' controls answer for that tenant alone.
        sandbox06_runtime::faults::pass_tenant(request.metadata_mut());
        Ok(request)
    }
}

/// A channel to a component's control services.
type ControlChannel = InterceptedService<PeerChannel, ControlKey>;

/// Another component, as the admin calls it.
#[derive(Clone)]
pub struct Target {
    /// Its name in the list of components, which the admin's errors name it by.
    pub name: &'static str,
    /// The channel to its server (in-process under `up`).
    pub channel: PeerChannel,
    /// The key its control services take calls with.
    key: ControlKey,
}

impl Target {
    /// `name`'s target over `channel`, its control calls carrying `key`.
    pub fn new(name: &'static str, channel: PeerChannel, key: ControlKey) -> Self {
        Self { name, channel, key }
    }

    fn faults(&self) -> FaultControlClient<ControlChannel> {
        FaultControlClient::with_interceptor(self.channel.clone(), self.key.clone())
    }

    fn state(&self) -> StateControlClient<ControlChannel> {
        StateControlClient::with_interceptor(self.channel.clone(), self.key.clone())
    }

    fn journal(&self) -> JournalControlClient<ControlChannel> {
        JournalControlClient::with_interceptor(self.channel.clone(), self.key.clone())
    }

    /// What the component answered, as the admin's answer.
    fn answer<T>(&self, answered: Result<Response<T>, Status>) -> Result<T, Status> {
        answered
            .map(Response::into_inner)
            .map_err(|status| from_component(self.name, status))
    }
}

/// The admin service over the other components of the suite.
#[derive(Clone)]
pub struct Admin {
    access: Access,
    targets: Vec<Target>,
    /// The suite's clock, as the admin keeps it and sends it to every component.
    clock: Clock,
}

impl Admin {
    /// The admin under `access`, calling `targets` (every other component of the suite).
    pub fn new(access: Access, targets: Vec<Target>) -> Self {
        Self {
            access,
            targets,
            clock: Clock::system(),
        }
    }

    /// The same admin keeping `clock`, the suite's (`Context::clock`).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Whether the caller of `request` may use the admin surface.
    fn allow<T>(&self, request: &Request<T>) -> Result<(), Status> {
        self.access
            .check(&Caller::from_metadata(request.metadata()))
            .map_err(Status::from)
    }

    /// The target named `name`, if the admin has one.
    fn find(&self, name: &str) -> Option<&Target> {
        self.targets.iter().find(|target| target.name == name)
    }

    /// The component named `name` (given in the request's `field`).
    fn target(&self, field: &str, name: &str) -> Result<&Target, Status> {
        if name.is_empty() {
            return Err(ApiError::invalid_field(
                Reason::InvalidArgument,
                field,
                format!("required: one of {}", self.names()),
            )
            .into());
        }
        self.find(name).ok_or_else(|| {
            ApiError::invalid_field(
                Reason::InvalidArgument,
                field,
                format!("no component is named {name:?}: one of {}", self.names()),
            )
            .into()
        })
    }

    fn names(&self) -> String {
        self.targets
            .iter()
            .map(|target| target.name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The target named `only`, or every target.
    fn chosen<'a>(&'a self, only: Option<&'a Target>) -> Vec<&'a Target> {
        match only {
            Some(target) => vec![target],
            None => self.targets.iter().collect(),
        }
    }

    /// `call` on every target (or on the one `only` names) at once, each answer with its
    /// target, in the targets' order; the first failure fails the whole.
    async fn each<'a, T, F, Fut>(
        &'a self,
        only: Option<&'a Target>,
        call: F,
    ) -> Result<Vec<(&'a Target, T)>, Status>
    where
        F: Fn(&'a Target) -> Fut,
        Fut: Future<Output = Result<T, Status>> + 'a,
    {
        try_join_all(self.chosen(only).into_iter().map(|target| {
            let answer = call(target);
            async move { answer.await.map(|value| (target, value)) }
        }))
        .await
    }

    /// `call` on the `StateControl` of every stateful target (or of the one named `only`),
    /// each answer with its target; a target without state is left out.
    async fn each_stateful<'a, T, F, Fut>(
        &'a self,
        only: Option<&'a Target>,
        call: F,
    ) -> Result<Vec<(&'a Target, T)>, Status>
    where
        F: Fn(StateControlClient<ControlChannel>) -> Fut,
        Fut: Future<Output = Result<Response<T>, Status>> + 'a,
    {
        let answers = try_join_all(self.chosen(only).into_iter().map(|target| {
            let answer = call(target.state());
            async move {
                match answer.await {
                    Err(status) if status.code() == Code::Unimplemented => Ok(None),
                    answered => target.answer(answered).map(|value| Some((target, value))),
                }
            }
        }))
        .await?;
        Ok(answers.into_iter().flatten().collect())
    }

    fn known(&self, name: &str) -> Result<&Target, Status> {
        self.find(name).ok_or_else(|| {
            Status::from(ApiError::new(
                Reason::Internal,
                format!("the admin was started without the component {name}"),
            ))
        })
    }

    /// The snapshots each stateful component keeps.
    async fn snapshot_lists(&self) -> Result<Vec<Vec<pb::Snapshot>>, Status> {
        let lists = self
            .each_stateful(None, |mut state| async move {
                state
                    .list_snapshots(pb::ListSnapshotsRequest::default())
                    .await
            })
            .await?;
        Ok(lists.into_iter().map(|(_, list)| list.snapshots).collect())
    }

    /// Removes the fault rules of every target (or of the one `only` names); how many.
    async fn clear_rules(&self, only: Option<&Target>) -> Result<u32, Status> {
        let cleared = self
            .each(only, |target| async move {
                target.answer(
                    target
                        .faults()
                        .clear_fault_rules(pb::ClearFaultRulesRequest::default())
                        .await,
                )
            })
            .await?;
        Ok(cleared.iter().map(|(_, cleared)| cleared.removed).sum())
    }

    /// `request`, once allowed, to the edge's journal by `call`: its answer as the admin's.
    async fn on_journal<T, R, F, Fut>(
        &self,
        request: Request<T>,
        call: F,
    ) -> Result<Response<R>, Status>
    where
        F: FnOnce(JournalControlClient<ControlChannel>, T) -> Fut,
        Fut: Future<Output = Result<Response<R>, Status>>,
    {
        self.allow(&request)?;
        let gateway = self.known(GATEWAY)?;
        gateway
            .answer(call(gateway.journal(), request.into_inner()).await)
            .map(Response::new)
    }
}

/// `rule` with its id qualified by its component, as the admin shows it.
fn qualified(target: &Target, mut rule: pb::FaultRule) -> pb::FaultRule {
    rule.id = format!("{}.{}", target.name, rule.id);
    if rule.component.is_empty() {
        rule.component = target.name.to_owned();
    }
    rule
}

/// Snapshots of several components, one per name: the key counts added up, the latest save.
fn merged(lists: Vec<Vec<pb::Snapshot>>) -> Vec<pb::Snapshot> {
    let mut by_name: BTreeMap<String, pb::Snapshot> = BTreeMap::new();
    for snapshot in lists.into_iter().flatten() {
        by_name
            .entry(snapshot.name.clone())
            .and_modify(|seen| {
                seen.key_count += snapshot.key_count;
                seen.saved_at_ms = seen.saved_at_ms.max(snapshot.saved_at_ms);
            })
            .or_insert(snapshot);
    }
    by_name.into_values().collect()
}

/// One snapshot saved (or restored) by several components, as [`merged`] tells it.
fn merged_one(answers: impl Iterator<Item = Option<pb::Snapshot>>) -> Option<pb::Snapshot> {
    merged(vec![answers.flatten().collect()]).pop()
}

fn not_found_snapshot(name: &str) -> Status {
    ApiError::invalid_field(
        AdminReason::SnapshotNotFound,
        "name",
        format!("no snapshot is named {name:?}"),
    )
    .into()
}

#[tonic::async_trait]
impl AdminService for Admin {
    async fn create_fault_rule(
        &self,
        request: Request<pb::CreateFaultRuleRequest>,
    ) -> Result<Response<pb::FaultRule>, Status> {
        self.allow(&request)?;
        let request = request.into_inner();
        let component = request
            .rule
            .as_ref()
            .map(|rule| rule.component.as_str())
            .unwrap_or_default();
        let target = self.target("rule.component", component)?;
        let rule = target.answer(target.faults().create_fault_rule(request).await)?;
        Ok(Response::new(qualified(target, rule)))
    }

    async fn list_fault_rules(
        &self,
        request: Request<pb::ListFaultRulesRequest>,
    ) -> Result<Response<pb::ListFaultRulesResponse>, Status> {
        self.allow(&request)?;
        let lists = self
            .each(None, |target| async move {
                target.answer(
                    target
                        .faults()
                        .list_fault_rules(pb::ListFaultRulesRequest::default())
                        .await,
                )
            })
            .await?;
        let rules = lists
            .into_iter()
            .flat_map(|(target, list)| list.rules.into_iter().map(|rule| qualified(target, rule)))
            .collect();
        Ok(Response::new(pb::ListFaultRulesResponse { rules }))
    }

    async fn delete_fault_rule(
        &self,
        request: Request<pb::DeleteFaultRuleRequest>,
    ) -> Result<Response<pb::DeleteFaultRuleResponse>, Status> {
        self.allow(&request)?;
        let id = request.into_inner().id;
        let Some((component, local)) = id.split_once('.') else {
            return Err(ApiError::invalid_field(
                Reason::InvalidArgument,
                "id",
                "a rule id as the admin gives it: <component>.<id>, e.g. population-db.f-3",
            )
            .into());
        };
        let target = self.target("id", component)?;
        let deleted = target.answer(
            target
                .faults()
                .delete_fault_rule(pb::DeleteFaultRuleRequest {
                    id: local.to_owned(),
                })
                .await,
        )?;
        Ok(Response::new(pb::DeleteFaultRuleResponse {
            rule: deleted.rule.map(|rule| qualified(target, rule)),
        }))
    }

    async fn clear_fault_rules(
        &self,
        request: Request<pb::ClearFaultRulesRequest>,
    ) -> Result<Response<pb::ClearFaultRulesResponse>, Status> {
        self.allow(&request)?;
        let removed = self.clear_rules(None).await?;
        Ok(Response::new(pb::ClearFaultRulesResponse { removed }))
    }

    async fn reset_sandbox(
        &self,
        request: Request<pb::ResetSandboxRequest>,
    ) -> Result<Response<pb::ResetSandboxResponse>, Status> {
        self.allow(&request)?;
        let component = request.into_inner().component;
        let only = if component.is_empty() {
            None
        } else {
            Some(self.target("component", &component)?)
        };
        // The control calls carry the caller's tenant: a tenant's reset clears its own state,
        // fault rules and journal entries; the operator's clears every tenant's too.
        let reset = self
            .each_stateful(only, |mut state| async move {
                state.reset(pb::ResetRequest::default()).await
            })
            .await?;
        // The seeded state runs on the system time: a whole reset puts the clock back too.
        if only.is_none() && sandbox06_runtime::faults::call_tenant_header().is_none() {
            self.clock_reset_everywhere().await?;
        }
        let fault_rules_removed = self.clear_rules(only).await?;
        let journal_entries_cleared = if only.is_none() {
            let gateway = self.known(GATEWAY)?;
            gateway
                .answer(
                    gateway
                        .journal()
                        .clear_journal(pb::ClearJournalRequest::default())
                        .await,
                )?
                .cleared
        } else {
            0
        };
        Ok(Response::new(pb::ResetSandboxResponse {
            components: reset
                .into_iter()
                .map(|(target, _)| target.name.to_owned())
                .collect(),
            fault_rules_removed,
            journal_entries_cleared,
        }))
    }

    async fn save_snapshot(
        &self,
        request: Request<pb::SaveSnapshotRequest>,
    ) -> Result<Response<pb::SaveSnapshotResponse>, Status> {
        self.allow(&request)?;
        let request = request.into_inner();
        let saved = self
            .each_stateful(None, |mut state| {
                let request = request.clone();
                async move { state.save_snapshot(request).await }
            })
            .await?;
        let snapshot = merged_one(saved.into_iter().map(|(_, answer)| answer.snapshot));
        Ok(Response::new(pb::SaveSnapshotResponse { snapshot }))
    }

    async fn restore_snapshot(
        &self,
        request: Request<pb::RestoreSnapshotRequest>,
    ) -> Result<Response<pb::RestoreSnapshotResponse>, Status> {
        self.allow(&request)?;
        let request = request.into_inner();
        // Every stateful component must have it before any is restored: a snapshot missing in
        // one would leave the sandbox half restored.
        let lists = self.snapshot_lists().await?;
        let missing = lists
            .iter()
            .any(|list| !list.iter().any(|snapshot| snapshot.name == request.name));
        if missing || lists.is_empty() {
            return Err(not_found_snapshot(&request.name));
        }
        let restored = self
            .each_stateful(None, |mut state| {
                let request = request.clone();
                async move { state.restore_snapshot(request).await }
            })
            .await?;
        let snapshot = merged_one(restored.into_iter().map(|(_, answer)| answer.snapshot));
        Ok(Response::new(pb::RestoreSnapshotResponse { snapshot }))
    }

    async fn list_snapshots(
        &self,
        request: Request<pb::ListSnapshotsRequest>,
    ) -> Result<Response<pb::ListSnapshotsResponse>, Status> {
        self.allow(&request)?;
        Ok(Response::new(pb::ListSnapshotsResponse {
            snapshots: merged(self.snapshot_lists().await?),
        }))
    }

    async fn delete_snapshot(
        &self,
        request: Request<pb::DeleteSnapshotRequest>,
    ) -> Result<Response<pb::DeleteSnapshotResponse>, Status> {
        self.allow(&request)?;
        let request = request.into_inner();
        let answers = self
            .each_stateful(None, |mut state| {
                let request = request.clone();
                async move { state.delete_snapshot(request).await }
            })
            .await?;
        Ok(Response::new(pb::DeleteSnapshotResponse {
            deleted: answers.iter().any(|(_, answer)| answer.deleted),
        }))
    }

    async fn list_journal(
        &self,
        request: Request<pb::ListJournalRequest>,
    ) -> Result<Response<pb::ListJournalResponse>, Status> {
        self.on_journal(request, |mut journal, asked| async move {
            journal.list_journal(asked).await
        })
        .await
    }

    async fn verify_journal(
        &self,
        request: Request<pb::VerifyJournalRequest>,
    ) -> Result<Response<pb::VerifyJournalResponse>, Status> {
        self.on_journal(request, |mut journal, asked| async move {
            journal.verify_journal(asked).await
        })
        .await
    }

    async fn clear_journal(
        &self,
        request: Request<pb::ClearJournalRequest>,
    ) -> Result<Response<pb::ClearJournalResponse>, Status> {
        self.on_journal(request, |mut journal, asked| async move {
            journal.clear_journal(asked).await
        })
        .await
    }

    async fn find_citizens(
        &self,
        request: Request<pb::FindCitizensRequest>,
    ) -> Result<Response<pb::FindCitizensResponse>, Status> {
        self.allow(&request)?;
        let population = self.known(POPULATION_DB)?;
        let mut client = PopulationServiceClient::new(population.channel.clone());
        population
            .answer(client.find_citizens(request.into_inner()).await)
            .map(Response::new)
    }

    async fn create_life_event(
        &self,
        request: Request<pb::CreateLifeEventRequest>,
    ) -> Result<Response<pb::CreateLifeEventResponse>, Status> {
        self.allow(&request)?;
        let population = self.known(POPULATION_DB)?;
        let request = request.into_inner();
        let citizen_id = request.citizen_id.clone();
        let mut client = PopulationServiceClient::new(population.channel.clone());
        let answer = client
            .create_life_event(records::life_event_request(request))
            .await
            .map_err(|status| records::from_population(population.name, status))?;
        Ok(Response::new(records::life_event_response(
            citizen_id,
            answer.into_inner(),
        )))
    }

    async fn unlock_account(
        &self,
        request: Request<pb::UnlockAccountRequest>,
    ) -> Result<Response<pb::UnlockAccountResponse>, Status> {
        self.allow(&request)?;
        let vneid = self.known(VNEID)?;
        let citizen_id = request.into_inner().citizen_id;
        let mut client = VneidServiceClient::new(vneid.channel.clone());
        let answer = vneid.answer(
            client
                .unlock_account(sandbox06_proto::vneid::UnlockAccountRequest {
                    citizen_id: citizen_id.clone(),
                })
                .await,
        )?;
        Ok(Response::new(records::unlock_response(citizen_id, answer)))
    }

    async fn issue_vneid_share_code(
        &self,
        request: Request<pb::IssueVneidShareCodeRequest>,
    ) -> Result<Response<pb::IssueVneidShareCodeResponse>, Status> {
        self.allow(&request)?;
        let vneid = self.known(VNEID)?;
        let mut client = ShareCodeServiceClient::new(vneid.channel.clone());
        let answer = vneid.answer(
            client
                .issue_share_code(records::share_code_request(request.into_inner()))
                .await,
        )?;
        Ok(Response::new(records::share_code_response(answer)))
    }

    async fn give_vneid_consent(
        &self,
        request: Request<pb::GiveVneidConsentRequest>,
    ) -> Result<Response<pb::VneidConsent>, Status> {
        self.allow(&request)?;
        let vneid = self.known(VNEID)?;
        let mut client = ConsentServiceClient::new(vneid.channel.clone());
        let answer = vneid.answer(
            client
                .give_consent(records::consent_request(request.into_inner()))
                .await,
        )?;
        Ok(Response::new(records::consent_response(answer)))
    }

    async fn withdraw_vneid_consent(
        &self,
        request: Request<pb::WithdrawVneidConsentRequest>,
    ) -> Result<Response<pb::VneidConsent>, Status> {
        self.allow(&request)?;
        let vneid = self.known(VNEID)?;
        let mut client = ConsentServiceClient::new(vneid.channel.clone());
        let request = request.into_inner();
        let answer = vneid.answer(
            client
                .withdraw_consent(sandbox06_proto::vneid::WithdrawConsentRequest {
                    citizen_id: request.citizen_id,
                    consent_id: request.consent_id,
                })
                .await,
        )?;
        Ok(Response::new(records::consent_response(answer)))
    }

    async fn get_clock(
        &self,
        request: Request<pb::GetClockRequest>,
    ) -> Result<Response<pb::Clock>, Status> {
        self.clock_now(&request).map(Response::new)
    }

    async fn set_clock(
        &self,
        request: Request<pb::SetClockRequest>,
    ) -> Result<Response<pb::Clock>, Status> {
        self.set_clock_to(request).await.map(Response::new)
    }

    async fn advance_clock(
        &self,
        request: Request<pb::AdvanceClockRequest>,
    ) -> Result<Response<pb::Clock>, Status> {
        self.advance_clock_by(request).await.map(Response::new)
    }

    async fn reset_clock(
        &self,
        request: Request<pb::ResetClockRequest>,
    ) -> Result<Response<pb::Clock>, Status> {
        self.reset_clock_for(request).await.map(Response::new)
    }
}
