//! The mock of VNeID, the national electronic identity (Decree 69/2024/NĐ-CP): accounts of the
//! synthetic country's citizens and the ways the app lets a holder prove who they are.
//!
//! Accounts are not a list: the synthetic country's VNeID facet says whether a citizen has an
//! account, and the population database's record (read over its gRPC API) the changes
//! recorded since (a new level, a death that closes the account). What VNeID itself owns, the
//! wrong attempts that lock an account and the unlocking, is kept in the state store.

pub mod component;
mod consent;
mod error;
pub mod share;

use std::sync::Arc;

use sandbox06_country::contract;
use sandbox06_proto::{
    population::{self as pop, population_service_client::PopulationServiceClient},
    types,
    vneid::{self as pb, authenticate_request::Method, vneid_service_server::VneidService},
};
use sandbox06_runtime::PeerChannel;
use sandbox06_runtime::clock::Clock;
use sandbox06_runtime::telemetry::TraceContextInterceptor;
use sandbox06_store::Store;
use sandbox06_vn::CitizenId;
use sandbox06_world::Country;
use tonic::{Code, Request, Response, Status, service::interceptor::InterceptedService};

pub use error::{REASONS, VneidError, VneidReason};

/// The password every sandbox account accepts (the app's own password rules do not apply).
pub const SANDBOX_PASSWORD: &str = "Sandbox06@VNeID";
/// The one-time code every sandbox account accepts.
pub const SANDBOX_ONE_TIME_CODE: &str = "060606";
/// Wrong passwords or codes that lock an account.
pub const MAX_FAILED_ATTEMPTS: u32 = 5;
/// The persona whose account is locked until unlocked.
pub const LOCKED_PERSONA: &str = "vneid-locked";
/// The persona who rejects every approval asked in the app.
pub const REJECTING_PERSONA: &str = "vneid-app-rejects";

/// Mobile prefixes of Vietnam's networks (Viettel, VinaPhone, MobiFone) after the 2018
/// renumbering, without the leading 0.
const MOBILE_PREFIXES: [&str; 24] = [
    "86", "96", "97", "98", "32", "33", "34", "35", "36", "37", "38", "39", "88", "91", "94", "83",
    "84", "85", "89", "90", "93", "70", "77", "79",
];

/// The mobile number an account was registered with: the same for the same ID number, spread
/// over the networks' prefixes, E.164. Synthetic, like every citizen of the sandbox.
pub fn registered_phone(citizen_id: &str) -> String {
    let hash = sandbox06_runtime::digest::fnv1a(citizen_id.bytes());
    let prefix = MOBILE_PREFIXES[(hash % MOBILE_PREFIXES.len() as u64) as usize];
    format!("+84{prefix}{:07}", (hash >> 16) % 10_000_000)
}

/// Where the holders' records come from.
#[tonic::async_trait]
pub trait Holders: Send + Sync + 'static {
    /// The record of the citizen with this number in `view` (the basic view, or the address
    /// view for what a share code releases); `None` when no citizen has it.
    async fn holder(
        &self,
        citizen_id: &str,
        view: pop::RecordView,
    ) -> Result<Option<pop::Citizen>, Status>;
}

/// The population database over gRPC, continuing the caller's trace.
#[derive(Debug, Clone)]
pub struct GrpcHolders {
    client: PopulationServiceClient<InterceptedService<PeerChannel, TraceContextInterceptor>>,
}

impl GrpcHolders {
    /// A client over `channel`.
    pub fn new(channel: impl Into<PeerChannel>) -> Self {
        Self {
            client: PopulationServiceClient::with_interceptor(
                channel.into(),
                TraceContextInterceptor,
            ),
        }
    }
}

#[tonic::async_trait]
impl Holders for GrpcHolders {
    async fn holder(
        &self,
        citizen_id: &str,
        view: pop::RecordView,
    ) -> Result<Option<pop::Citizen>, Status> {
        let request = pop::GetCitizenRequest {
            citizen_id: citizen_id.to_owned(),
            // The account, with its recorded changes, is part of the basic record (and of the
            // address view).
            view: view as i32,
        };
        match self.client.clone().get_citizen(request).await {
            Ok(r) => Ok(r.into_inner().citizen),
            Err(s) if s.code() == Code::NotFound => Ok(None),
            Err(s) => Err(s),
        }
    }
}

/// An account with what the service needs to decide on it.
struct Found {
    account: pb::Account,
    persona: String,
    /// The permanent address, when the record was read in the address view.
    address: Option<types::Address>,
}

impl Found {
    /// Whether the holder can use the account now: refused when it is closed or locked.
    fn usable(&self) -> Result<(), VneidError> {
        match self.account.status() {
            pb::AccountStatus::Closed => Err(VneidError::Closed),
            pb::AccountStatus::Locked => Err(VneidError::Locked),
            _ => Ok(()),
        }
    }
}

/// The VNeID service.
#[derive(Clone)]
pub struct Vneid {
    country: Arc<Country>,
    holders: Arc<dyn Holders>,
    store: Arc<dyn Store>,
    /// The suite's clock: what share codes expire on.
    clock: Clock,
    /// The key share codes are signed with, read from the store (or created there) once.
    share_key: Arc<share::ShareKey>,
}

impl std::fmt::Debug for Vneid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vneid").finish_non_exhaustive()
    }
}

fn failures_key(id: &str) -> String {
    format!("vneid:{{{id}}}:failures")
}

fn unlocked_key(id: &str) -> String {
    format!("vneid:{{{id}}}:unlocked")
}

impl Vneid {
    /// A service with the accounts of `country`, reading holders' records from `holders` and
    /// keeping account states in `store`.
    pub fn new(country: Arc<Country>, holders: Arc<dyn Holders>, store: Arc<dyn Store>) -> Self {
        Self {
            country,
            holders,
            share_key: Arc::new(share::ShareKey::new(store.clone())),
            store,
            clock: Clock::system(),
        }
    }

    /// The same service judging share codes' expiry on `clock` (the suite's).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    async fn find(&self, citizen_id: &str) -> Result<Found, VneidError> {
        self.find_in(citizen_id, pop::RecordView::Basic).await
    }

    /// The account of `citizen_id`, its holder's record read in `view`.
    async fn find_in(&self, citizen_id: &str, view: pop::RecordView) -> Result<Found, VneidError> {
        let parsed = CitizenId::parse_field(citizen_id, "citizen_id")?;
        let id = parsed.to_string();
        let holder = self
            .holders
            .holder(&id, view)
            .await
            .map_err(VneidError::Population)?
            .ok_or_else(|| VneidError::not_found(citizen_id))?;
        let deceased = holder.life_status() == types::LifeStatus::Deceased;
        let has_level = |v: &types::VneidAccount| {
            matches!(
                v.level(),
                types::VneidLevel::VneidLevel1 | types::VneidLevel::VneidLevel2
            )
        };
        // The record's level carries the changes recorded since; a death clears it, so a
        // closed account keeps the level the country gave it.
        let vneid = match holder.vneid.filter(has_level) {
            Some(v) => v,
            None if deceased => self
                .country
                .vneid_account(parsed)
                .map(|a| contract::vneid_account(a.level, Some(a.activated_on)))
                .ok_or_else(|| VneidError::not_found(citizen_id))?,
            None => return Err(VneidError::not_found(citizen_id)),
        };
        let failures = self.store.list(&failures_key(&id)).await?.len() as u32;
        let persona_locked =
            holder.persona == LOCKED_PERSONA && self.store.get(&unlocked_key(&id)).await?.is_none();
        let status = if deceased {
            pb::AccountStatus::Closed
        } else if failures >= MAX_FAILED_ATTEMPTS || persona_locked {
            pb::AccountStatus::Locked
        } else {
            pb::AccountStatus::Active
        };
        Ok(Found {
            account: pb::Account {
                phone_number: registered_phone(&id),
                citizen_id: id,
                level: vneid.level,
                level_since: vneid.activated_on,
                status: status as i32,
                full_name: holder.full_name,
                date_of_birth: holder.date_of_birth,
                sex: holder.sex,
                failed_attempts: failures.min(MAX_FAILED_ATTEMPTS) as i32,
                max_failed_attempts: MAX_FAILED_ATTEMPTS as i32,
            },
            persona: holder.persona,
            address: holder.permanent_address,
        })
    }

    /// Counts a wrong password or code; the error to answer with.
    async fn wrong(&self, account: &pb::Account, what: &'static str) -> VneidError {
        let key = failures_key(&account.citizen_id);
        if let Err(e) = self.store.append(&key, b"1").await {
            return e.into();
        }
        let failed = match self.store.list(&key).await {
            Ok(list) => list.len() as u32,
            Err(e) => return e.into(),
        };
        if failed >= MAX_FAILED_ATTEMPTS {
            tracing::info!(
                reason = "ACCOUNT_LOCKED",
                "account locked after wrong attempts"
            );
            VneidError::Locked
        } else {
            VneidError::WrongCredentials {
                what,
                attempts_left: MAX_FAILED_ATTEMPTS - failed,
            }
        }
    }

    /// Authenticates a holder: the account as it is after, and the methods used.
    pub async fn authenticate(
        &self,
        request: pb::AuthenticateRequest,
    ) -> Result<pb::AuthenticateResponse, VneidError> {
        let found = self.find(&request.citizen_id).await?;
        found.usable()?;
        let Found {
            mut account,
            persona,
            ..
        } = found;
        let amr = match request.method {
            None => return Err(VneidError::MethodMissing),
            Some(Method::Password(p)) if p == SANDBOX_PASSWORD => "pwd",
            Some(Method::Password(_)) => return Err(self.wrong(&account, "password").await),
            Some(Method::OneTimeCode(c)) if c.trim() == SANDBOX_ONE_TIME_CODE => "otp",
            Some(Method::OneTimeCode(_)) => {
                return Err(self.wrong(&account, "one-time code").await);
            }
            Some(Method::AppApproval(_)) if persona == REJECTING_PERSONA => {
                return Err(VneidError::ApprovalRejected);
            }
            Some(Method::AppApproval(_)) => "swk",
        };
        if account.failed_attempts > 0 {
            self.store
                .delete(&failures_key(&account.citizen_id))
                .await?;
            account.failed_attempts = 0;
        }
        Ok(pb::AuthenticateResponse {
            account: Some(account),
            amr: vec![amr.to_owned()],
        })
    }

    /// Unlocks an account: its wrong attempts are forgotten.
    pub async fn unlock(&self, citizen_id: &str) -> Result<pb::Account, VneidError> {
        let Found {
            mut account,
            persona,
            ..
        } = self.find(citizen_id).await?;
        let id = &account.citizen_id;
        self.store.delete(&failures_key(id)).await?;
        if persona == LOCKED_PERSONA {
            self.store.put(&unlocked_key(id), b"1", None).await?;
        }
        account.failed_attempts = 0;
        if account.status() == pb::AccountStatus::Locked {
            account.set_status(pb::AccountStatus::Active);
        }
        Ok(account)
    }
}

#[tonic::async_trait]
impl VneidService for Vneid {
    async fn get_account(
        &self,
        request: Request<pb::GetAccountRequest>,
    ) -> Result<Response<pb::GetAccountResponse>, Status> {
        let found = self.find(&request.into_inner().citizen_id).await?;
        Ok(Response::new(pb::GetAccountResponse {
            account: Some(found.account),
        }))
    }

    async fn authenticate(
        &self,
        request: Request<pb::AuthenticateRequest>,
    ) -> Result<Response<pb::AuthenticateResponse>, Status> {
        Ok(Response::new(
            Vneid::authenticate(self, request.into_inner()).await?,
        ))
    }

    async fn unlock_account(
        &self,
        request: Request<pb::UnlockAccountRequest>,
    ) -> Result<Response<pb::UnlockAccountResponse>, Status> {
        let account = self.unlock(&request.into_inner().citizen_id).await?;
        Ok(Response::new(pb::UnlockAccountResponse {
            account: Some(account),
        }))
    }

    async fn list_persona_accounts(
        &self,
        _request: Request<pb::ListPersonaAccountsRequest>,
    ) -> Result<Response<pb::ListPersonaAccountsResponse>, Status> {
        Ok(Response::new(pb::ListPersonaAccountsResponse {
            personas: persona_accounts(),
        }))
    }
}

/// The hand-written personas as the app knows them, in the persona table's order.
fn persona_accounts() -> Vec<pb::PersonaAccount> {
    sandbox06_world::personas::PERSONAS
        .iter()
        .map(|spec| pb::PersonaAccount {
            citizen_id: spec.id.to_owned(),
            persona_key: spec.key.to_owned(),
            full_name: spec.name.to_owned(),
            level: contract::vneid_level(spec.vneid) as i32,
        })
        .collect()
}
