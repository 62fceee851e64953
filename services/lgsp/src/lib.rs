//! The province's data integration and sharing platform (LGSP, model 14,
//! `sandbox06.lgsp.v1.LgspService`): a catalogue of data services ([`catalogue`]), the agencies,
//! consumers and agreements ([`registry`]), one exchange call routed to the provider (the
//! suite's citizen service through the edge, or a national service through the NDXP mock), and
//! an audit log chained by hashes ([`audit`]).
//!
//! An exchange is judged before anything is asked of a provider: the caller's client names the
//! consumer; the consumer needs an agreement for the service in force on the suite's today,
//! for the purpose asked (sensitive data need it named); an agreement resting on consent needs
//! the data subject's consent recorded in VNeID; the agreement's daily quota is counted in a
//! sorted set per agreement and day (the transaction ids), added first and taken back when over
//! or when the provider fails, so concurrent exchanges never pass it. Every exchange, allowed
//! or refused, is appended to the audit log before the caller gets its answer.
//!
//! State (every key under the hash tag `{lgsp}`, each tenant's own):
//! - `lgsp:{lgsp}:audit`: the audit log;
//! - `lgsp:{lgsp}:tx:<consumer>:<transaction>`: an answered exchange (the request's SHA-256 and
//!   the response), so a retry answers the same;
//! - `lgsp:{lgsp}:quota:<agreement>:<yyyymmdd>`: the transactions counted against a quota.

pub mod audit;
pub mod catalogue;
pub mod component;
mod error;
mod grpc;
pub mod lodging;
mod providers;
pub mod registry;

use std::sync::Arc;

use prost::Message as _;
use sandbox06_proto::{
    lgsp::{self as pb, exchange_request::Request as Typed, exchange_response::Result as Answer},
    types::DataClassification,
};
use sandbox06_runtime::{caller::Caller, clock::Clock, clock::timestamp_to_proto, mask};
use sandbox06_store::Store;
use sandbox06_vn::{CitizenId, FieldError, FieldErrorKind, printable_token};

pub use error::{LgspError, LgspReason, REASONS};
pub use providers::{Consents, GrpcConsents, Providers};

use audit::AuditLog;
use catalogue::{DataService, Provider};
use registry::{Agreement, Basis, Consumer, Registry};

/// Longest transaction id.
const MAX_TRANSACTION_ID: usize = 128;
/// Longest purpose code.
const MAX_PURPOSE: usize = 64;
/// How long a transaction stays reserved while it is served, at most: a process that stops
/// mid-exchange leaves a reservation that lapses.
const RESERVATION_TTL: std::time::Duration = std::time::Duration::from_secs(30);
/// ListExchanges' default and largest page.
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 500;
/// The scope that sees every consumer's agreements and exchanges.
pub const AUDIT_SCOPE: &str = "lgsp.audit";

/// The platform.
#[derive(Clone)]
pub struct Lgsp {
    registry: Arc<Registry>,
    subjects: SubjectKey,
    store: Arc<dyn Store>,
    audit: AuditLog,
    clock: Clock,
    providers: Providers,
}

impl std::fmt::Debug for Lgsp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lgsp")
            .field("agreements", &self.registry.agreements.len())
            .finish_non_exhaustive()
    }
}

/// The key of the subjects' digests: an HMAC key from a secret of the suite, so that a digest
/// next to a masked ID number cannot be reversed by trying the hidden digits.
#[derive(Clone)]
pub struct SubjectKey(Arc<ring::hmac::Key>);

impl SubjectKey {
    /// A key from `secret`.
    pub fn new(secret: &[u8]) -> Self {
        Self(Arc::new(ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            secret,
        )))
    }

    /// The digest "who read my data" matches a citizen on.
    pub fn digest(&self, citizen_id: &str) -> String {
        sandbox06_runtime::digest::hex(ring::hmac::sign(&self.0, citizen_id.as_bytes()).as_ref())
    }
}

/// The citizen a request names, when it names one by ID number.
fn subject_of(request: &Typed) -> Option<String> {
    let id = match request {
        Typed::CitizenVerify(r) => &r.citizen_id,
        Typed::HealthInsuranceCheck(r) => &r.card_code,
        Typed::Citizen(r) => &r.citizen_id,
        Typed::JudicialRecord(r) => &r.citizen_id,
        Typed::PopulationStatistics(_) | Typed::LodgingCount(_) => return None,
    };
    let id = id.trim();
    (id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())).then(|| id.to_owned())
}

/// The citizen an answer is about, when the request did not name one.
fn subject_of_answer(answer: &Answer) -> Option<String> {
    match answer {
        Answer::HealthInsuranceCheck(r) => r
            .card
            .as_ref()
            .map(|c| c.citizen_id.clone())
            .filter(|id| !id.is_empty()),
        _ => None,
    }
}

/// The request field of a typed request.
fn field_of(request: &Typed) -> &'static str {
    match request {
        Typed::CitizenVerify(_) => "citizen_verify",
        Typed::HealthInsuranceCheck(_) => "health_insurance_check",
        Typed::Citizen(_) => "citizen",
        Typed::JudicialRecord(_) => "judicial_record",
        Typed::PopulationStatistics(_) => "population_statistics",
        Typed::LodgingCount(_) => "lodging_count",
    }
}

/// What an exchange was judged under.
struct Allowed<'a> {
    agreement: &'a Agreement,
    consent_id: Option<String>,
}

/// A stored answer: the request's digest, then the response.
#[derive(Clone, PartialEq, prost::Message)]
struct StoredAnswer {
    #[prost(bytes = "vec", tag = "1")]
    digest: Vec<u8>,
    #[prost(message, optional, tag = "2")]
    response: Option<pb::ExchangeResponse>,
}

impl Lgsp {
    /// The platform over `store`, with `registry`, judging days by `clock`, asking `providers`.
    pub fn new(
        registry: Arc<Registry>,
        subjects: SubjectKey,
        store: Arc<dyn Store>,
        clock: Clock,
        providers: Providers,
    ) -> Self {
        Self {
            audit: AuditLog::new(store.clone()),
            registry,
            subjects,
            store,
            clock,
            providers,
        }
    }

    /// The consumer the caller calls as.
    fn consumer(&self, caller: &Caller) -> Result<&Consumer, LgspError> {
        caller
            .client_id
            .as_deref()
            .and_then(|client| self.registry.consumer_of(client))
            .ok_or_else(|| LgspError::ConsumerNotRegistered {
                client_id: caller.client_id.clone().unwrap_or_default(),
            })
    }

    fn quota_key(agreement: &Agreement, day: sandbox06_vn::CivilDate) -> String {
        format!(
            "lgsp:{{lgsp}}:quota:{}:{:04}{:02}{:02}",
            agreement.config.agreement_id,
            day.year(),
            day.month() as u8,
            day.day()
        )
    }

    /// ListAgreements.
    pub async fn agreements(
        &self,
        caller: &Caller,
        req: pb::ListAgreementsRequest,
    ) -> Result<pb::ListAgreementsResponse, LgspError> {
        let consumer_id = if caller.has_scope(AUDIT_SCOPE) && !req.consumer_id.is_empty() {
            Some(req.consumer_id)
        } else if caller.has_scope(AUDIT_SCOPE) && self.consumer(caller).is_err() {
            None
        } else {
            Some(self.consumer(caller)?.config.consumer_id.clone())
        };
        let today = self.clock.today();
        let mut agreements = Vec::new();
        for agreement in self.registry.agreements.values() {
            if consumer_id
                .as_ref()
                .is_some_and(|c| *c != agreement.config.consumer_id)
            {
                continue;
            }
            let used = self.store.zcard(&Self::quota_key(agreement, today)).await?;
            agreements.push(agreement.to_proto(used));
        }
        Ok(pb::ListAgreementsResponse { agreements })
    }

    /// Judges an exchange: the agreement (and consent) it is allowed under.
    async fn judge<'a>(
        &'a self,
        consumer: &'a Consumer,
        service: &DataService,
        purpose: &str,
        subject: Option<&str>,
    ) -> Result<Allowed<'a>, LgspError> {
        let consumer_id = &consumer.config.consumer_id;
        let all: Vec<&Agreement> = self
            .registry
            .agreements_for(consumer_id, service.code)
            .collect();
        let Some(latest) = all.iter().max_by_key(|a| a.valid_until) else {
            return Err(LgspError::NoAgreement {
                consumer_id: consumer_id.clone(),
                service_code: service.code.to_owned(),
            });
        };
        let today = self.clock.today();
        let in_force: Vec<&Agreement> = all.iter().copied().filter(|a| a.in_force(today)).collect();
        if in_force.is_empty() {
            return Err(LgspError::AgreementExpired {
                agreement_id: latest.config.agreement_id.clone(),
                valid_from: latest.valid_from.to_string(),
                valid_until: latest.valid_until.to_string(),
                today: today.to_string(),
            });
        }
        let agreed = in_force
            .iter()
            .map(|a| a.config.purpose.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let agreement = if purpose.is_empty() {
            if service.classification == DataClassification::Sensitive {
                return Err(LgspError::PurposeRequired {
                    service_code: service.code.to_owned(),
                    agreed,
                });
            }
            // A law-based agreement when there is one: consent is asked for only when needed.
            in_force
                .iter()
                .copied()
                .find(|a| a.config.legal_basis_kind == Basis::Law)
                .unwrap_or(in_force[0])
        } else {
            in_force
                .iter()
                .copied()
                .find(|a| a.config.purpose == purpose)
                .ok_or_else(|| LgspError::PurposeNotAgreed {
                    purpose: purpose.to_owned(),
                    service_code: service.code.to_owned(),
                    agreed,
                })?
        };
        let consent_id = match agreement.config.legal_basis_kind {
            Basis::Law => None,
            Basis::Consent => {
                let no_consent = |why: String| LgspError::NoConsent {
                    agreement_id: agreement.config.agreement_id.clone(),
                    why,
                };
                let Some(subject) = subject else {
                    return Err(no_consent(format!(
                        "agreement {} rests on the data subject's consent: name the citizen by ID number",
                        agreement.config.agreement_id
                    )));
                };
                let found = self
                    .providers
                    .consents
                    .consent(
                        subject,
                        consumer_id,
                        service.code,
                        &agreement.config.purpose,
                    )
                    .await?;
                Some(found.ok_or_else(|| {
                    no_consent(format!(
                        "citizen {} has given {consumer_id} no consent in force for {} ({})",
                        mask::citizen_id(subject),
                        service.code,
                        agreement.config.purpose
                    ))
                })?)
            }
        };
        Ok(Allowed {
            agreement,
            consent_id,
        })
    }

    /// Counts the exchange against the agreement's quota for today; refused when it is used.
    async fn count(&self, agreement: &Agreement, transaction: &str) -> Result<String, LgspError> {
        let key = Self::quota_key(agreement, self.clock.today());
        let score = self.clock.now().unix_timestamp();
        self.store.zadd(&key, transaction, score).await?;
        if self.store.zcard(&key).await? > u64::from(agreement.config.daily_quota) {
            self.store.zrem(&key, transaction).await?;
            return Err(LgspError::QuotaExceeded {
                agreement_id: agreement.config.agreement_id.clone(),
                daily_quota: agreement.config.daily_quota,
            });
        }
        Ok(key)
    }

    /// Exchange.
    pub async fn exchange(
        &self,
        caller: &Caller,
        req: pb::ExchangeRequest,
    ) -> Result<pb::ExchangeResponse, LgspError> {
        printable_token(
            &req.transaction_id,
            "transaction_id",
            MAX_TRANSACTION_ID,
            true,
        )?;
        printable_token(&req.purpose, "purpose", MAX_PURPOSE, false)?;
        // Refusals before any agreement is looked at are audited too: who tried what.
        let attempt = || pb::AuditEntry {
            time: Some(timestamp_to_proto(self.clock.now())),
            client_id: caller.client_id.clone().unwrap_or_default(),
            service_code: req.service_code.clone(),
            transaction_id: req.transaction_id.clone(),
            purpose: req.purpose.clone(),
            ..Default::default()
        };
        let named = req.request.as_ref().and_then(subject_of);
        let consumer = match self.consumer(caller) {
            Ok(consumer) => consumer,
            Err(refusal) => {
                return Err(self
                    .refused(attempt(), named.as_deref(), None, refusal)
                    .await);
            }
        };
        let with_consumer = || pb::AuditEntry {
            consumer_id: consumer.config.consumer_id.clone(),
            agency_code: consumer.agency_code.clone(),
            ..attempt()
        };
        let Some(service) = catalogue::service(&req.service_code) else {
            let refusal = LgspError::ServiceNotFound(req.service_code.clone());
            return Err(self
                .refused(with_consumer(), named.as_deref(), None, refusal)
                .await);
        };
        let typed = match &req.request {
            Some(typed) if field_of(typed) == service.request_field => typed.clone(),
            _ => {
                let refusal = LgspError::RequestMismatch {
                    service: service.code,
                    expected: service.request_field,
                };
                return Err(self
                    .refused(with_consumer(), named.as_deref(), None, refusal)
                    .await);
            }
        };
        if let Typed::CitizenVerify(r) = &typed {
            CitizenId::parse_field(&r.citizen_id, "citizen_verify.citizen_id")?;
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, &req.encode_to_vec());
        let tx_key = format!(
            "lgsp:{{lgsp}}:tx:{}:{}",
            consumer.config.consumer_id, req.transaction_id
        );
        // The transaction is reserved before it is judged: a concurrent call of the same
        // transaction is told so (ABORTED) rather than served twice, a retry of an answered
        // one gets its answer, and one of another request is refused. The reservation lapses
        // if this process stops before it answers.
        let reservation = StoredAnswer {
            digest: digest.as_ref().to_vec(),
            response: None,
        };
        if !self
            .store
            .put_if_absent(&tx_key, &reservation.encode_to_vec(), Some(RESERVATION_TTL))
            .await?
        {
            return match self
                .replay(&tx_key, digest.as_ref(), &req.transaction_id)
                .await?
            {
                Some(first) => Ok(first),
                None => Err(LgspError::TransactionInProgress(req.transaction_id.clone())),
            };
        }
        let served: Result<pb::ExchangeResponse, LgspError> = async {
            let subject = named;
            let mut entry = with_consumer();
            let allowed = match self
                .judge(consumer, service, &req.purpose, subject.as_deref())
                .await
            {
                Ok(allowed) => allowed,
                Err(refusal) => {
                    return Err(self.refused(entry, subject.as_deref(), None, refusal).await);
                }
            };
            let agreement = allowed.agreement;
            entry.agreement_id = agreement.config.agreement_id.clone();
            entry.legal_basis = allowed.consent_id.clone().map_or_else(
                || agreement.config.legal_basis.clone(),
                |c| format!("consent {c}"),
            );
            if entry.purpose.is_empty() {
                entry.purpose = agreement.config.purpose.clone();
            }
            let quota_key = match self.count(agreement, &req.transaction_id).await {
                Ok(key) => key,
                Err(refusal) => {
                    return Err(self.refused(entry, subject.as_deref(), None, refusal).await);
                }
            };
            let answer = match service.provider {
                Provider::Citizen => self.providers.citizen(typed).await,
                Provider::Lodging => match &typed {
                    Typed::LodgingCount(r) => self
                        .providers
                        .lodging
                        .count(r)
                        .await
                        .map(Answer::LodgingCount),
                    _ => Err(LgspError::RequestMismatch {
                        service: service.code,
                        expected: service.request_field,
                    }),
                },
                Provider::National => {
                    self.providers
                        .national(
                            &self.registry.platform.agency_code,
                            service.code,
                            &consumer.config.consumer_id,
                            &req.transaction_id,
                            &entry.purpose,
                            typed,
                        )
                        .await
                }
            };
            let answer = match answer {
                Ok(answer) => answer,
                // The provider judged the request (a malformed field, a citizen no one is, an
                // identity that is not the record's): counted, as an answer would be, so refusals
                // cannot probe without limit.
                Err(refusal @ LgspError::ProviderRefused(_)) => {
                    return Err(self.refused(entry, subject.as_deref(), None, refusal).await);
                }
                Err(failure) => {
                    // Not served: not counted.
                    self.store.zrem(&quota_key, &req.transaction_id).await?;
                    let kind = pb::ExchangeOutcome::ProviderFailed;
                    return Err(self
                        .refused(entry, subject.as_deref(), Some(kind), failure)
                        .await);
                }
            };
            let subject = subject.or_else(|| subject_of_answer(&answer));
            self.set_subject(&mut entry, subject.as_deref());
            entry.outcome = pb::ExchangeOutcome::Answered as i32;
            entry.time = Some(timestamp_to_proto(self.clock.now()));
            let written = self.audit.append(entry).await?;
            let response = pb::ExchangeResponse {
                transaction_id: req.transaction_id.clone(),
                exchange_id: written.sequence,
                service_code: service.code.to_owned(),
                agreement_id: agreement.config.agreement_id.clone(),
                consent_id: allowed.consent_id.unwrap_or_default(),
                answered_at: written.time,
                replayed: false,
                result: Some(answer),
            };
            Ok(response)
        }
        .await;
        let response = match served {
            Ok(response) => response,
            Err(error) => {
                // Not answered: a retry is judged anew.
                if let Err(store) = self.store.delete(&tx_key).await {
                    tracing::warn!(%store, "a transaction's reservation could not be released");
                }
                return Err(error);
            }
        };
        let stored = StoredAnswer {
            digest: digest.as_ref().to_vec(),
            response: Some(response.clone()),
        };
        self.store
            .put(&tx_key, &stored.encode_to_vec(), None)
            .await?;
        Ok(response)
    }

    /// The stored answer of a transaction: `None` when there is none; refused when it was
    /// another request.
    async fn replay(
        &self,
        key: &str,
        digest: &[u8],
        transaction: &str,
    ) -> Result<Option<pb::ExchangeResponse>, LgspError> {
        let Some(bytes) = self.store.get(key).await? else {
            return Ok(None);
        };
        let stored = StoredAnswer::decode(bytes.as_slice()).unwrap_or_default();
        if stored.digest != digest {
            return Err(LgspError::TransactionReused(transaction.to_owned()));
        }
        Ok(stored.response.map(|mut r| {
            r.replayed = true;
            r
        }))
    }

    /// Writes a refused or failed exchange to the audit log; the error to answer.
    async fn refused(
        &self,
        mut entry: pb::AuditEntry,
        subject: Option<&str>,
        outcome: Option<pb::ExchangeOutcome>,
        error: LgspError,
    ) -> LgspError {
        self.set_subject(&mut entry, subject);
        entry.outcome = outcome.unwrap_or(pb::ExchangeOutcome::Refused) as i32;
        entry.reason = error.reason();
        match self.audit.append(entry).await {
            Ok(_) => error,
            // Nothing is answered that is not audited.
            Err(store) => LgspError::Store(store),
        }
    }

    /// ListExchanges.
    pub async fn exchanges(
        &self,
        caller: &Caller,
        req: pb::ListExchangesRequest,
    ) -> Result<pb::ListExchangesResponse, LgspError> {
        let own = if caller.has_scope(AUDIT_SCOPE) {
            None
        } else {
            Some(self.consumer(caller)?.config.consumer_id.clone())
        };
        let size = match req.page_size {
            0 => DEFAULT_PAGE,
            n if n > 0 && (n as usize) <= MAX_PAGE => n as usize,
            n => {
                return Err(FieldError::new(
                    FieldErrorKind::Other,
                    "page_size",
                    format!("1 to {MAX_PAGE}, got {n}"),
                )
                .into());
            }
        };
        let before = if req.page_token.is_empty() {
            i64::MAX
        } else {
            req.page_token.parse::<i64>().map_err(|_| {
                FieldError::new(
                    FieldErrorKind::Other,
                    "page_token",
                    "not a token of this method",
                )
            })?
        };
        let digest = if req.citizen_id.is_empty() {
            None
        } else {
            let id = CitizenId::parse_field(&req.citizen_id, "citizen_id")?;
            Some(self.subjects.digest(&id.to_string()))
        };
        let mut matching = self
            .audit
            .entries()
            .await?
            .into_iter()
            .rev()
            .filter(|e| e.sequence < before)
            .filter(|e| own.as_ref().is_none_or(|c| *c == e.consumer_id))
            .filter(|e| req.consumer_id.is_empty() || req.consumer_id == e.consumer_id)
            .filter(|e| req.service_code.is_empty() || req.service_code == e.service_code)
            .filter(|e| digest.as_ref().is_none_or(|d| *d == e.subject_digest));
        let entries: Vec<pb::AuditEntry> = matching.by_ref().take(size).collect();
        let next_page_token = match (entries.last(), matching.next()) {
            (Some(last), Some(_)) => last.sequence.to_string(),
            _ => String::new(),
        };
        Ok(pb::ListExchangesResponse {
            entries,
            next_page_token,
        })
    }

    /// VerifyAuditLog.
    pub async fn verify(&self) -> Result<pb::VerifyAuditLogResponse, LgspError> {
        let v = self.audit.verify().await?;
        Ok(pb::VerifyAuditLogResponse {
            valid: v.broken.is_none(),
            entries: v.entries,
            first_invalid_sequence: v.broken.as_ref().map_or(0, |(at, _)| *at),
            problem: v.broken.map(|(_, why)| why).unwrap_or_default(),
            head_hash: v.head_hash,
        })
    }

    /// ListAgencies.
    pub fn agencies(&self) -> pb::ListAgenciesResponse {
        pb::ListAgenciesResponse {
            agencies: self
                .registry
                .agencies
                .values()
                .map(|a| pb::Agency {
                    agency_code: a.agency_code.clone(),
                    name: a.name.clone(),
                    consumers: a
                        .consumers
                        .iter()
                        .map(|c| pb::Consumer {
                            consumer_id: c.consumer_id.clone(),
                            name: c.name.clone(),
                            client_id: c.client_id.clone(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

impl Lgsp {
    /// Records whose data an entry is about, masked, and its digest.
    fn set_subject(&self, entry: &mut pb::AuditEntry, subject: Option<&str>) {
        if let Some(id) = subject {
            entry.subject = mask::citizen_id(id);
            entry.subject_digest = self.subjects.digest(id);
        }
    }
}
