//! Who may call what: the per-method policy read from the contract's `sandbox06.options.v1.policy`
//! option, and the [`Authorizer`] the gateway consults on every forwarded request.

use std::collections::HashMap;

use futures::future::BoxFuture;
use http::HeaderMap;
use prost_reflect::DescriptorPool;
pub use sandbox06_proto::sandbox06::options::v1::MethodPolicy;
use sandbox06_runtime::ApiError;
pub use sandbox06_runtime::caller::Caller;

/// Full name of the method option carrying a [`MethodPolicy`].
pub const POLICY_OPTION: &str = "sandbox06.options.v1.policy";

/// One gRPC method as the gateway sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodInfo {
    /// `/package.Service/Method`
    pub path: String,
    /// `package.Service`
    pub service: String,
    /// `Method`
    pub method: String,
    /// The declared policy; `None` for methods outside the contract or without the option.
    pub policy: Option<MethodPolicy>,
}

impl MethodInfo {
    /// The scope a caller needs, when the method declares one and is not public.
    pub fn required_scope(&self) -> Option<&str> {
        self.policy
            .as_ref()
            .filter(|policy| !policy.public && !policy.scope.is_empty())
            .map(|policy| policy.scope.as_str())
    }
}

/// Errors of [`PolicyTable::from_pool`].
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The descriptor pool does not define the policy option.
    #[error("descriptor pool has no extension {0}")]
    MissingOption(&'static str),
    /// A method's option does not decode as a `MethodPolicy`.
    #[error("policy of {path} does not decode: {source}")]
    Decode {
        /// The method.
        path: String,
        /// Why.
        source: prost::DecodeError,
    },
}

/// Every method of the contract by path, with its policy.
#[derive(Clone, Debug, Default)]
pub struct PolicyTable {
    methods: HashMap<String, MethodInfo>,
}

impl PolicyTable {
    /// Reads every method of every service in `pool`.
    pub fn from_pool(pool: &DescriptorPool) -> Result<Self, PolicyError> {
        let extension = pool
            .get_extension_by_name(POLICY_OPTION)
            .ok_or(PolicyError::MissingOption(POLICY_OPTION))?;
        let mut methods = HashMap::new();
        for service in pool.services() {
            for method in service.methods() {
                let path = format!("/{}/{}", service.full_name(), method.name());
                let options = method.options();
                let policy = if options.has_extension(&extension) {
                    let value = options.get_extension(&extension);
                    match value.as_message() {
                        Some(message) => {
                            Some(message.transcode_to::<MethodPolicy>().map_err(|source| {
                                PolicyError::Decode {
                                    path: path.clone(),
                                    source,
                                }
                            })?)
                        }
                        None => None,
                    }
                } else {
                    None
                };
                methods.insert(
                    path.clone(),
                    MethodInfo {
                        path,
                        service: service.full_name().to_owned(),
                        method: method.name().to_owned(),
                        policy,
                    },
                );
            }
        }
        Ok(Self { methods })
    }

    /// Number of methods that declare a policy.
    pub fn declared(&self) -> usize {
        self.methods.values().filter(|m| m.policy.is_some()).count()
    }

    /// The method at `path` (`/package.Service/Method`).
    pub fn get(&self, path: &str) -> Option<&MethodInfo> {
        self.methods.get(path)
    }

    /// Every method, in no particular order.
    pub fn methods(&self) -> impl Iterator<Item = &MethodInfo> {
        self.methods.values()
    }
}

/// Decides who a request comes from and whether it may go through; the gateway asks it before
/// forwarding each request, then passes the [`Caller`] to the backend in headers
/// (see [`sandbox06_runtime::caller`]).
pub trait Authorizer: Send + Sync + 'static {
    /// The caller of a gRPC call to `method`, allowed through; the error (`UNAUTHENTICATED`,
    /// `PERMISSION_DENIED`) otherwise.
    fn authorize<'a>(
        &'a self,
        method: &'a MethodInfo,
        headers: &'a HeaderMap,
    ) -> BoxFuture<'a, Result<Caller, ApiError>>;

    /// The caller of an HTTP request, to an edge-local route or forwarded to a backend. HTTP routes declare no policy, so
    /// the backend decides what the caller may do; an error (`UNAUTHENTICATED`) refuses the
    /// request. Anonymous unless implemented.
    fn identify<'a>(&'a self, headers: &'a HeaderMap) -> BoxFuture<'a, Result<Caller, ApiError>> {
        let _ = headers;
        Box::pin(async { Ok(Caller::anonymous()) })
    }
}

/// Lets every call through as an anonymous caller (no authentication yet); the gateway span
/// still records the scope each method requires.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

impl Authorizer for AllowAll {
    fn authorize<'a>(
        &'a self,
        method: &'a MethodInfo,
        _headers: &'a HeaderMap,
    ) -> BoxFuture<'a, Result<Caller, ApiError>> {
        tracing::Span::current().record("auth.scope", method.required_scope().unwrap_or(""));
        Box::pin(async { Ok(Caller::anonymous()) })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The contract as shipped, custom options included.
    fn contract_pool() -> &'static DescriptorPool {
        &sandbox06_proto::DESCRIPTOR_POOL
    }

    #[test]
    fn verify_citizen_requires_citizen_verify() {
        let table = PolicyTable::from_pool(contract_pool()).unwrap();
        let method = table
            .get("/sandbox06.citizen.v1.CitizenService/VerifyCitizen")
            .unwrap();
        assert_eq!(method.service, "sandbox06.citizen.v1.CitizenService");
        assert_eq!(method.method, "VerifyCitizen");
        assert_eq!(method.policy.as_ref().unwrap().scope, "citizen.verify");
        assert_eq!(method.required_scope(), Some("citizen.verify"));
    }

    #[test]
    fn personal_data_is_flagged() {
        let table = PolicyTable::from_pool(contract_pool()).unwrap();
        let method = table
            .get("/sandbox06.upstream.population.v1.PopulationService/GetCitizen")
            .unwrap();
        let policy = method.policy.as_ref().unwrap();
        assert!(policy.personal_data);
        assert_eq!(policy.scope, "population.read");
    }

    /// Every method of the contract, routed or not (a mock's methods are policed when it is
    /// reached through the edge by a test or a tool), says who may call it.
    #[test]
    fn every_method_of_the_contract_has_a_policy() {
        let table = PolicyTable::from_pool(contract_pool()).unwrap();
        let contract: Vec<_> = table
            .methods()
            .filter(|m| m.service.starts_with("sandbox06."))
            .collect();
        assert!(contract.len() > 10, "{} methods", contract.len());
        for method in contract {
            assert!(method.policy.is_some(), "{} has no policy", method.path);
        }
    }
}
