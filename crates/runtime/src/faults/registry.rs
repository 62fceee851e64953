//! The rules of one component: validated when created, matched against each call, their
//! lifetimes (times, expiry) consumed atomically.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use sandbox06_proto::admin as pb;
use tonic::Code;

use super::action::{
    Action, CodeReason, Delay, Ending, ReasonError, Reasons, default_message, error_code,
};
use crate::error::{ApiError, Reason, ReasonCode};

/// The longest delay a latency fault may ask for.
pub const MAX_DELAY: Duration = Duration::from_secs(300);

/// The most rules one component keeps.
pub const MAX_RULES: usize = 1000;

/// Which methods a rule applies to, as request paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Methods {
    /// Every method (but health's).
    All,
    /// Every method of a service: the path prefix `/package.Service/`.
    Service(String),
    /// One method: the path `/package.Service/Method`.
    Method(String),
}

impl Methods {
    /// Whether the call at `path` is selected. Health is selected only by name (or by a down
    /// rule, which the caller checks).
    pub(crate) fn selects(&self, path: &str) -> bool {
        match self {
            Methods::All => true,
            Methods::Service(prefix) => path.starts_with(prefix.as_str()),
            Methods::Method(method) => path == method,
        }
    }
}

/// A live rule.
#[derive(Debug)]
pub(crate) struct Live {
    /// The rule as listed (without `applied`): its id, matchers, tenant and share are read
    /// from it.
    pub(crate) shown: pb::FaultRule,
    pub(crate) methods: Methods,
    pub(crate) action: Action,
    /// Calls it may still affect, when limited.
    left: Option<AtomicU32>,
    expires: Option<Instant>,
    applied: AtomicU64,
}

/// `value`, unless empty (a field the rule leaves unset).
fn set(value: &str) -> Option<&str> {
    (!value.is_empty()).then_some(value)
}

impl Live {
    /// Its id (`f-1`).
    pub(crate) fn id(&self) -> &str {
        &self.shown.id
    }

    /// The citizen ID the call's message must carry, if any.
    fn citizen_id(&self) -> Option<&str> {
        set(&self.shown.citizen_id)
    }

    /// The client the call must come from, if any.
    fn client_id(&self) -> Option<&str> {
        set(&self.shown.client_id)
    }

    /// The tenant that created it: it matches that tenant's calls only. None matches every
    /// call.
    fn tenant(&self) -> Option<&str> {
        set(&self.shown.tenant)
    }

    fn expired(&self, now: Instant) -> bool {
        self.expires.is_some_and(|expires| now >= expires)
    }

    /// Draws the share and takes one of the rule's calls: whether it applies to this call.
    fn take(&self) -> bool {
        if !self.shown.share.is_none_or(super::random::chance) {
            return false;
        }
        if let Some(left) = &self.left
            && left
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                .is_err()
        {
            return false;
        }
        self.applied.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Whether its calls are all taken.
    fn spent(&self) -> bool {
        self.left
            .as_ref()
            .is_some_and(|left| left.load(Ordering::Acquire) == 0)
    }

    /// Whether a caller of `tenant` sees (lists, deletes, clears) it: the operator, without a
    /// tenant, sees every rule.
    fn seen_by(&self, tenant: Option<&str>) -> bool {
        tenant.is_none_or(|tenant| self.tenant() == Some(tenant))
    }

    fn listed(&self) -> pb::FaultRule {
        pb::FaultRule {
            applied: self.applied.load(Ordering::Relaxed),
            ..self.shown.clone()
        }
    }
}

/// What the rules do to one call: the delay of every latency rule taken, and the first ending.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) delay: Duration,
    /// The ending and the id of the rule it comes from.
    pub(crate) ending: Option<(Ending, String)>,
    /// The ids of the rules applied.
    pub(crate) applied: Vec<String>,
}

/// Who owns the registry: the component's name and reasons.
#[derive(Debug)]
struct Owner {
    component: &'static str,
    reasons: Reasons,
}

#[derive(Debug)]
struct Inner {
    /// Whether any rule lives: the one load a call makes when there is none.
    active: AtomicBool,
    rules: RwLock<Arc<[Arc<Live>]>>,
    next_id: AtomicU64,
    owner: RwLock<Owner>,
}

/// The fault rules of one component, in memory: what [`FaultControl`](super::FaultControlService)
/// edits and the [`FaultLayer`](super::FaultLayer) applies. Cheap to clone; clones share the
/// rules.
#[derive(Clone, Debug)]
pub struct FaultRegistry {
    inner: Arc<Inner>,
}

impl FaultRegistry {
    /// An empty registry of `component`, whose status faults may name the runtime's generic
    /// reasons only (see [`FaultRegistry::set_reasons`]).
    pub fn new(component: &'static str) -> Self {
        Self {
            inner: Arc::new(Inner {
                active: AtomicBool::new(false),
                rules: RwLock::new(Arc::from(Vec::new())),
                next_id: AtomicU64::new(1),
                owner: RwLock::new(Owner {
                    component,
                    reasons: Reasons::new(Vec::new()),
                }),
            }),
        }
    }

    /// The component the rules belong to.
    pub fn component(&self) -> &'static str {
        self.owner().component
    }

    pub(crate) fn set_component(&self, component: &'static str) {
        self.owner_mut().component = component;
    }

    /// The component's own error reasons, which status faults may name besides the generic
    /// ones; replaces those set before.
    pub fn set_reasons(&self, reasons: impl IntoIterator<Item = ReasonCode>) {
        self.owner_mut().reasons = Reasons::new(reasons.into_iter().collect());
    }

    fn owner(&self) -> std::sync::RwLockReadGuard<'_, Owner> {
        self.inner
            .owner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn owner_mut(&self) -> std::sync::RwLockWriteGuard<'_, Owner> {
        self.inner
            .owner
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Resolves a status fault's reason for this component.
    pub(crate) fn resolve(
        &self,
        code: Option<Code>,
        reason: Option<&str>,
    ) -> Result<ReasonCode, ReasonError> {
        let owner = self.owner();
        owner.reasons.resolve(owner.component, code, reason)
    }

    /// Whether any rule lives (one atomic load).
    #[inline]
    pub fn is_active(&self) -> bool {
        self.inner.active.load(Ordering::Acquire)
    }

    fn snapshot(&self) -> Arc<[Arc<Live>]> {
        Arc::clone(
            &self
                .inner
                .rules
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Replaces the rules with those `keep` keeps; returns the removed ones.
    fn retain(&self, mut keep: impl FnMut(&Live) -> bool) -> Vec<Arc<Live>> {
        let mut rules = self
            .inner
            .rules
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let (kept, removed): (Vec<_>, Vec<_>) = rules.iter().cloned().partition(|rule| keep(rule));
        if !removed.is_empty() {
            self.inner.active.store(!kept.is_empty(), Ordering::Release);
            *rules = Arc::from(kept);
        }
        removed
    }

    /// Drops the rules expired or spent.
    fn prune(&self) {
        let now = Instant::now();
        self.retain(|rule| !rule.expired(now) && !rule.spent());
    }

    /// Validates `rule` and adds it; the rule as listed, with its id and times.
    pub fn create(&self, rule: pb::FaultRule) -> Result<pb::FaultRule, ApiError> {
        self.create_as(rule, None)
    }

    /// [`create`](Self::create) by a caller of `tenant`: the rule matches that tenant's calls
    /// only (every call when none).
    pub fn create_as(
        &self,
        rule: pb::FaultRule,
        tenant: Option<&str>,
    ) -> Result<pb::FaultRule, ApiError> {
        let live = self.validate(rule, tenant)?;
        self.prune();
        let mut rules = self
            .inner
            .rules
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if rules.len() >= MAX_RULES {
            return Err(ApiError::new(
                Reason::InvalidArgument,
                format!(
                    "{} already has {MAX_RULES} fault rules, the most it keeps: delete some first",
                    self.component()
                ),
            )
            .with_metadata("max_rules", MAX_RULES.to_string()));
        }
        let shown = live.listed();
        let mut all: Vec<_> = rules.iter().cloned().collect();
        all.push(Arc::new(live));
        *rules = Arc::from(all);
        self.inner.active.store(true, Ordering::Release);
        tracing::info!(
            component = self.component(),
            rule = %shown.id,
            method = %shown.method,
            tenant = %shown.tenant,
            "fault rule created"
        );
        Ok(shown)
    }

    /// The live rules, oldest first.
    pub fn list(&self) -> Vec<pb::FaultRule> {
        self.list_as(None)
    }

    /// The live rules a caller of `tenant` sees, oldest first: that tenant's, or every rule
    /// without a tenant.
    pub fn list_as(&self, tenant: Option<&str>) -> Vec<pb::FaultRule> {
        self.prune();
        self.snapshot()
            .iter()
            .filter(|rule| rule.seen_by(tenant))
            .map(|rule| rule.listed())
            .collect()
    }

    /// Removes the rule `id`; it as it was removed.
    pub fn delete(&self, id: &str) -> Result<pb::FaultRule, ApiError> {
        self.delete_as(id, None)
    }

    /// [`delete`](Self::delete) by a caller of `tenant`: another tenant's rule is not found,
    /// as an unknown id is.
    pub fn delete_as(&self, id: &str, tenant: Option<&str>) -> Result<pb::FaultRule, ApiError> {
        self.prune();
        let removed = self.retain(|rule| rule.id() != id || !rule.seen_by(tenant));
        removed.first().map(|rule| rule.listed()).ok_or_else(|| {
            let error = if id.is_empty() {
                ApiError::invalid_field(Reason::InvalidArgument, "id", "required")
            } else {
                ApiError::new(
                    CodeReason(Code::NotFound),
                    format!(
                        "{} has no fault rule {} (it may have ended)",
                        self.component(),
                        crate::error::quote(id)
                    ),
                )
            };
            error.with_metadata("id", crate::error::bounded(id.to_owned(), 64))
        })
    }

    /// Removes every rule; how many there were.
    pub fn clear(&self) -> usize {
        self.clear_as(None)
    }

    /// Removes the rules a caller of `tenant` sees (that tenant's, or every rule without a
    /// tenant); how many there were.
    pub fn clear_as(&self, tenant: Option<&str>) -> usize {
        let mut rules = self
            .inner
            .rules
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let (kept, removed): (Vec<_>, Vec<_>) = rules
            .iter()
            .cloned()
            .partition(|rule| !rule.seen_by(tenant));
        if kept.is_empty() {
            // With no rule left, ids start from f-1 again, as after a restart: a test that
            // clears (or resets) before each case sees the same ids every run.
            self.inner.next_id.store(1, Ordering::Relaxed);
        }
        if !removed.is_empty() {
            self.inner.active.store(!kept.is_empty(), Ordering::Release);
            *rules = Arc::from(kept);
        }
        drop(rules);
        let removed = removed.len();
        if removed > 0 {
            tracing::info!(
                component = self.component(),
                removed,
                tenant = tenant.unwrap_or_default(),
                "fault rules cleared"
            );
        }
        removed
    }

    /// The rules that may apply to a call at `path` from `client_id` of `tenant`, before its
    /// message is read; whether one of them matches on the message's citizen ID.
    pub(crate) fn candidates(
        &self,
        path: &str,
        client_id: Option<&str>,
        tenant: Option<&str>,
        health: bool,
    ) -> (Vec<Arc<Live>>, bool) {
        let now = Instant::now();
        let mut stale = false;
        let mut needs_message = false;
        let found: Vec<Arc<Live>> = self
            .snapshot()
            .iter()
            .filter(|rule| {
                if rule.expired(now) || rule.spent() {
                    stale = true;
                    return false;
                }
                // Health only by name, or by a down rule of every method.
                let selected = match &rule.methods {
                    Methods::All => !health || matches!(rule.action, Action::End(Ending::Down)),
                    named => named.selects(path),
                };
                selected
                    && rule
                        .client_id()
                        .is_none_or(|wanted| client_id == Some(wanted))
                    && rule.tenant().is_none_or(|wanted| tenant == Some(wanted))
            })
            .inspect(|rule| needs_message |= rule.citizen_id().is_some())
            .cloned()
            .collect();
        if stale {
            self.prune();
        }
        (found, needs_message)
    }

    /// What `candidates` do to a call whose message carries `has_citizen` (a citizen ID test).
    pub(crate) fn plan(
        &self,
        candidates: &[Arc<Live>],
        has_citizen: impl Fn(&str) -> bool,
    ) -> Plan {
        let mut plan = Plan::default();
        let mut spent = false;
        for rule in candidates {
            if !rule.citizen_id().is_none_or(&has_citizen) {
                continue;
            }
            let ends = matches!(rule.action, Action::End(_));
            if ends && plan.ending.is_some() {
                continue;
            }
            if !rule.take() {
                continue;
            }
            spent |= rule.spent();
            plan.applied.push(rule.id().to_owned());
            match &rule.action {
                Action::Delay(delay) => plan.delay = plan.delay.saturating_add(delay.draw()),
                Action::End(ending) => plan.ending = Some((ending.clone(), rule.id().to_owned())),
            }
        }
        if spent {
            self.prune();
        }
        plan
    }

    /// `rule` checked and made live, or the error naming the field at fault.
    fn validate(&self, rule: pb::FaultRule, tenant: Option<&str>) -> Result<Live, ApiError> {
        let invalid = |field: &str, description: String| {
            ApiError::invalid_field(
                Reason::InvalidArgument,
                format!("rule.{field}"),
                description,
            )
        };
        let component = self.component();
        if !rule.component.is_empty() && rule.component != component {
            return Err(invalid(
                "component",
                format!(
                    "{} is not this component ({component}): send the rule to the component it names",
                    crate::error::quote(&rule.component)
                ),
            ));
        }
        let methods = methods_of(&rule.method).map_err(|text| invalid("method", text))?;
        let action = match &rule.action {
            None => {
                return Err(invalid(
                    "action",
                    "required: one of status, latency, drop, down".to_owned(),
                ));
            }
            Some(pb::fault_rule::Action::Status(status)) => {
                let code = match status.code {
                    0 => None,
                    number => Some(error_code(number).ok_or_else(|| {
                        invalid(
                            "status.code",
                            format!("{number} is not an error code: 1 (CANCELLED) to 16 (UNAUTHENTICATED)"),
                        )
                    })?),
                };
                let reason = (!status.reason.is_empty()).then_some(status.reason.as_str());
                let reason = self.resolve(code, reason).map_err(|error| match error {
                    ReasonError::Code(text) => invalid("status.code", text),
                    ReasonError::Reason(text) => invalid("status.reason", text),
                })?;
                let message = if status.message.is_empty() {
                    default_message(reason)
                } else {
                    crate::error::bounded(status.message.clone(), 1024)
                };
                Action::End(Ending::Status(ApiError::new(reason, message)))
            }
            Some(pb::fault_rule::Action::Latency(latency)) => {
                Action::Delay(delay_of(latency).map_err(|(field, text)| invalid(&field, text))?)
            }
            Some(pb::fault_rule::Action::Drop(_)) => Action::End(Ending::Drop),
            Some(pb::fault_rule::Action::Down(_)) => Action::End(Ending::Down),
        };
        if let Some(share) = rule.share
            && !(share > 0.0 && share <= 1.0)
        {
            return Err(invalid(
                "share",
                format!("{share} is not a share: more than 0, at most 1 (unset for every call)"),
            ));
        }
        let create_time = SystemTime::now();
        let now = Instant::now();
        let expires = match (&rule.ttl, &rule.expire_time) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "ttl",
                    "give ttl or expire_time, not both".to_owned(),
                ));
            }
            (Some(ttl), None) => {
                let ttl = Duration::try_from(*ttl)
                    .ok()
                    .filter(|ttl| !ttl.is_zero())
                    .ok_or_else(|| invalid("ttl", "must be positive".to_owned()))?;
                Some((create_time + ttl, now + ttl))
            }
            (None, Some(at)) => {
                let at = SystemTime::try_from(*at)
                    .ok()
                    .filter(|at| *at > create_time)
                    .ok_or_else(|| invalid("expire_time", "must be in the future".to_owned()))?;
                let left = at.duration_since(create_time).unwrap_or_default();
                Some((at, now + left))
            }
            (None, None) => None,
        };
        let id = format!("f-{}", self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        let shown = pb::FaultRule {
            id,
            component: component.to_owned(),
            ttl: None,
            expire_time: expires.map(|(at, _)| at.into()),
            applied: 0,
            create_time: Some(create_time.into()),
            // Output only: the creating call's tenant, whatever the rule said.
            tenant: tenant.unwrap_or_default().to_owned(),
            ..rule
        };
        Ok(Live {
            left: (shown.times > 0).then(|| AtomicU32::new(shown.times)),
            expires: expires.map(|(_, at)| at),
            applied: AtomicU64::new(0),
            methods,
            action,
            shown,
        })
    }
}

/// The methods a rule's `method` names: empty, a service, or a service's method, each known to
/// the contract (or health).
fn methods_of(method: &str) -> Result<Methods, String> {
    let name = method.trim_start_matches('/');
    if name.is_empty() {
        return Ok(Methods::All);
    }
    let (service, method_name) = match name.split_once('/') {
        Some((service, method)) => (service, Some(method)),
        None => (name, None),
    };
    let known_methods: Option<Vec<String>> = if service == crate::server::HEALTH_SERVICE {
        Some(vec!["Check".to_owned(), "Watch".to_owned()])
    } else {
        sandbox06_proto::DESCRIPTOR_POOL
            .get_service_by_name(service)
            .map(|found| found.methods().map(|m| m.name().to_owned()).collect())
    };
    let Some(known_methods) = known_methods else {
        return Err(format!(
            "{} is not a service of the contract: a full method (package.Service/Method), a service, or empty for every method",
            crate::error::quote(method)
        ));
    };
    if format!("{service}.").starts_with(super::CONTROLS_PACKAGE) {
        return Err(format!(
            "{service} is one of the sandbox's controls, which are never faulted"
        ));
    }
    match method_name {
        None => Ok(Methods::Service(format!("/{service}/"))),
        Some(wanted) if known_methods.iter().any(|m| m == wanted) => {
            Ok(Methods::Method(format!("/{service}/{wanted}")))
        }
        Some(wanted) => Err(format!(
            "{service} has no method {}: one of {}",
            crate::error::quote(wanted),
            known_methods.join(", ")
        )),
    }
}

/// A latency fault's delay, or the field at fault (below `rule.`) and why.
fn delay_of(latency: &pb::LatencyFault) -> Result<Delay, (String, String)> {
    use pb::latency_fault::Delay as D;
    let duration = |field: &str, value: &Option<prost_types::Duration>, zero_ok: bool| {
        let out = |text: &str| (format!("latency.{field}"), text.to_owned());
        let value = value.ok_or_else(|| out("required"))?;
        let value = Duration::try_from(value).map_err(|_| out("must not be negative"))?;
        if value > MAX_DELAY {
            return Err(out("at most 300s"));
        }
        if value.is_zero() && !zero_ok {
            return Err(out("must be positive"));
        }
        Ok(value)
    };
    match &latency.delay {
        None => Err((
            "latency".to_owned(),
            "required: one of fixed, uniform, normal".to_owned(),
        )),
        Some(D::Fixed(fixed)) => Ok(Delay::Fixed(duration("fixed", &Some(*fixed), false)?)),
        Some(D::Uniform(uniform)) => {
            let min = duration("uniform.min", &uniform.min, true)?;
            let max = duration("uniform.max", &uniform.max, false)?;
            if max < min {
                return Err((
                    "latency.uniform.max".to_owned(),
                    "must not be below min".to_owned(),
                ));
            }
            Ok(Delay::Uniform(min, max))
        }
        Some(D::Normal(normal)) => Ok(Delay::Normal(
            duration("normal.mean", &normal.mean, false)?,
            duration("normal.stddev", &normal.stddev, true)?,
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn rule(times: u32) -> pb::FaultRule {
        pb::FaultRule {
            times,
            action: Some(pb::fault_rule::Action::Drop(pb::DropFault {})),
            ..Default::default()
        }
    }

    #[test]
    fn calls_racing_for_a_rules_times_take_exactly_that_many() {
        let registry = FaultRegistry::new("db");
        registry.create(rule(25)).unwrap();
        assert!(registry.is_active());
        let taken = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..100 {
                        let (candidates, _) = registry.candidates("/a.B/C", None, None, false);
                        let plan = registry.plan(&candidates, |_| false);
                        if plan.ending.is_some() {
                            taken.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        assert_eq!(taken.into_inner(), 25);
        assert!(registry.list().is_empty());
        assert!(!registry.is_active());
    }

    #[test]
    fn ids_are_numbered_and_rules_listed_oldest_first() {
        let registry = FaultRegistry::new("db");
        let first = registry.create(rule(0)).unwrap();
        let second = registry.create(rule(0)).unwrap();
        assert_eq!((first.id.as_str(), second.id.as_str()), ("f-1", "f-2"));
        let listed: Vec<_> = registry.list().into_iter().map(|r| r.id).collect();
        assert_eq!(listed, ["f-1", "f-2"]);
        assert_eq!(registry.delete("f-1").unwrap().id, "f-1");
        assert_eq!(registry.delete("f-1").unwrap_err().code(), Code::NotFound);
        assert_eq!(registry.clear(), 1);
        assert!(!registry.is_active());
    }

    #[test]
    fn a_tenants_rule_matches_and_shows_to_that_tenant_only() {
        let registry = FaultRegistry::new("db");
        let a = registry.create_as(rule(0), Some("job-a")).unwrap();
        let b = registry.create_as(rule(0), Some("job-b")).unwrap();
        let shared = registry.create(rule(0)).unwrap();
        assert_eq!(
            (a.tenant.as_str(), b.tenant.as_str(), shared.tenant.as_str()),
            ("job-a", "job-b", "")
        );
        let matched = |tenant| {
            let (found, _) = registry.candidates("/a.B/C", None, tenant, false);
            found
                .iter()
                .map(|r| r.id().to_owned())
                .collect::<Vec<String>>()
        };
        assert_eq!(matched(Some("job-a")), [a.id.as_str(), shared.id.as_str()]);
        assert_eq!(matched(Some("job-b")), [b.id.as_str(), shared.id.as_str()]);
        assert_eq!(matched(None), [shared.id.as_str()]);
        assert_eq!(matched(Some("job-c")), [shared.id.as_str()]);
        // Listed to its tenant, every rule to the operator.
        let listed = |tenant| {
            registry
                .list_as(tenant)
                .into_iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(listed(Some("job-a")), [a.id.as_str()]);
        assert_eq!(listed(None).len(), 3);
        // Another tenant's rule is not found, as an unknown id.
        let error = registry.delete_as(&b.id, Some("job-a")).unwrap_err();
        assert_eq!(error.code(), Code::NotFound);
        assert_eq!(registry.delete_as(&b.id, Some("job-b")).unwrap().id, b.id);
        // A tenant clears its own; ids go on while other rules live.
        registry.create_as(rule(0), Some("job-b")).unwrap();
        assert_eq!(registry.clear_as(Some("job-a")), 1);
        assert_eq!(listed(None).len(), 2);
        assert_eq!(registry.create(rule(0)).unwrap().id, "f-5");
        assert_eq!(registry.clear_as(None), 3);
        assert!(!registry.is_active());
        assert_eq!(registry.create(rule(0)).unwrap().id, "f-1");
    }

    #[test]
    fn health_is_faulted_only_by_name_or_by_down() {
        let registry = FaultRegistry::new("db");
        registry.create(rule(0)).unwrap();
        let health = "/grpc.health.v1.Health/Check";
        assert!(registry.candidates(health, None, None, true).0.is_empty());
        registry
            .create(pb::FaultRule {
                action: Some(pb::fault_rule::Action::Down(pb::DownFault {})),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(registry.candidates(health, None, None, true).0.len(), 1);
        registry
            .create(pb::FaultRule {
                method: "grpc.health.v1.Health".into(),
                ..rule(0)
            })
            .unwrap();
        assert_eq!(registry.candidates(health, None, None, true).0.len(), 2);
    }
}
