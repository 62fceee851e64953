//! The edge's route table, built once from the component list and the contract before the server
//! starts, then shared read-only by every request: each gRPC method of a routed service with its
//! backend and policy, each REST route with the method it reaches, and the backends' HTTP
//! prefixes.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use http::Uri;
use http::uri::Scheme;
use prost_reflect::DescriptorPool;
use sandbox06_runtime::PeerChannel;
use sandbox06_runtime::telemetry::split_grpc_path;
use sandbox06_runtime::{ApiError, Reason};
use tonic::transport::Channel;

use crate::http_proxy::{HttpRoute, normalize_prefix};
use crate::policy::{MethodInfo, PolicyTable};
use crate::rest::routes::RestTable;
use crate::{Backend, GatewayError};

/// Where one gRPC method goes, and what the contract says of it.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    /// Component name, for spans and errors.
    pub(crate) backend: Arc<str>,
    /// Shared channel of that backend: in-process when it is served in this process.
    pub(crate) channel: PeerChannel,
    /// The method, with its policy (`None` for a method outside the contract).
    pub(crate) info: MethodInfo,
    /// Whether the contract has the method; any other name is masked in spans (it could carry
    /// personal data).
    pub(crate) known: bool,
}

/// One backend's gRPC side, for the health mirrors.
pub(crate) struct BackendServices {
    pub(crate) name: String,
    pub(crate) channel: Channel,
    pub(crate) services: Vec<String>,
}

/// Every route of the edge.
pub(crate) struct RouteTable {
    /// Every method of the contract on a routed service, by `/package.Service/Method`.
    methods: HashMap<String, Target>,
    /// Every routed service, by full name, for methods the contract does not have.
    services: HashMap<String, (Arc<str>, PeerChannel)>,
    /// Services the contract defines: an unknown method of one is not found at the edge.
    contract_services: HashSet<String>,
    /// The REST routes; each reaches a method of `methods`.
    rest: RestTable,
    /// The backends' HTTP prefixes.
    pub(crate) http: Vec<HttpRoute>,
    pub(crate) backends: Vec<BackendServices>,
    pub(crate) policies_declared: usize,
}

impl std::fmt::Debug for RouteTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteTable")
            .field("methods", &self.methods.len())
            .field("rest", &self.rest.len())
            .field("http", &self.http.len())
            .finish_non_exhaustive()
    }
}

/// A backend's HTTP base: plain `http` with a host, as every hop inside the suite is.
fn http_base(url: &str) -> Option<(Scheme, http::uri::Authority)> {
    let uri: Uri = url.parse().ok()?;
    let scheme = uri.scheme().cloned().filter(|s| *s == Scheme::HTTP)?;
    Some((scheme, uri.authority()?.clone()))
}

impl RouteTable {
    /// The routes of `backends`, with the methods, policies and REST rules of `pool`.
    pub(crate) fn build(
        backends: Vec<Backend>,
        pool: &DescriptorPool,
    ) -> Result<Self, GatewayError> {
        let policies = PolicyTable::from_pool(pool)?;
        let mut services: HashMap<String, (Arc<str>, PeerChannel)> = HashMap::new();
        let mut http: HashMap<String, HttpRoute> = HashMap::new();
        let mut mirrored = Vec::new();
        for backend in backends {
            let channel = sandbox06_runtime::peer_channel(&backend.url).map_err(|source| {
                GatewayError::Backend {
                    backend: backend.name.clone(),
                    source,
                }
            })?;
            let name: Arc<str> = Arc::from(backend.name.as_str());
            for service in &backend.services {
                if let Some((existing, _)) = services.get(service) {
                    return Err(GatewayError::DuplicateService {
                        service: service.clone(),
                        first: existing.to_string(),
                        second: backend.name,
                    });
                }
                services.insert(service.clone(), (Arc::clone(&name), channel.clone()));
            }
            for prefix in &backend.http_prefixes {
                let Some(prefix) = normalize_prefix(prefix) else {
                    return Err(GatewayError::InvalidPrefix {
                        backend: backend.name,
                        prefix: prefix.clone(),
                    });
                };
                if let Some(existing) = http.get(&prefix) {
                    return Err(GatewayError::DuplicatePrefix {
                        prefix,
                        first: existing.backend.to_string(),
                        second: backend.name,
                    });
                }
                let Some((scheme, authority)) = http_base(&backend.url) else {
                    return Err(GatewayError::HttpUrl {
                        backend: backend.name,
                        url: backend.url,
                    });
                };
                http.insert(
                    prefix.clone(),
                    HttpRoute {
                        prefix,
                        backend: Arc::clone(&name),
                        scheme,
                        authority,
                    },
                );
            }
            tracing::info!(backend = %backend.name, url = %backend.url, services = ?backend.services, http_prefixes = ?backend.http_prefixes, "routing backend");
            mirrored.push(BackendServices {
                name: backend.name,
                // The health mirrors ask the backend's listener itself.
                channel: channel.tcp().clone(),
                services: backend.services,
            });
        }
        let methods: HashMap<String, Target> = policies
            .methods()
            .filter_map(|info| {
                let (backend, channel) = services.get(&info.service)?;
                Some((
                    info.path.clone(),
                    Target {
                        backend: Arc::clone(backend),
                        channel: channel.clone(),
                        info: info.clone(),
                        known: true,
                    },
                ))
            })
            .collect();
        let routed: HashSet<String> = services.keys().cloned().collect();
        let mut rest = RestTable::from_pool(pool, &routed);
        // Every REST route is a method of a routed service; one that is not has nowhere to go.
        rest.retain(|route| methods.contains_key(&route.grpc_path));
        tracing::debug!(routes = rest.len(), "REST routes from the contract");
        Ok(Self {
            contract_services: policies.methods().map(|m| m.service.clone()).collect(),
            policies_declared: policies.declared(),
            methods,
            services,
            rest,
            http: http.into_values().collect(),
            backends: mirrored,
        })
    }

    /// The target of the gRPC call at `path` (`/package.Service/Method`): borrowed for a method
    /// of the contract, made up for a method the contract does not know on a service it does
    /// not define either (the backend answers it; the authorizer still decides first).
    pub(crate) fn grpc(&self, path: &str) -> Result<Cow<'_, Target>, ApiError> {
        if let Some(target) = self.methods.get(path) {
            return Ok(Cow::Borrowed(target));
        }
        let Some((service, method)) = split_grpc_path(path) else {
            return Err(method_not_found(path));
        };
        let Some((backend, channel)) = self.services.get(service) else {
            tracing::debug!(path = %sandbox06_runtime::mask::path(path), "no backend for service");
            return Err(method_not_found(path));
        };
        // A method the contract does not have, on a service it does: the edge knows the answer.
        if self.contract_services.contains(service) {
            return Err(method_not_found(path));
        }
        Ok(Cow::Owned(Target {
            backend: Arc::clone(backend),
            channel: channel.clone(),
            info: MethodInfo {
                path: path.to_owned(),
                service: service.to_owned(),
                method: method.to_owned(),
                policy: None,
            },
            known: false,
        }))
    }

    /// The REST routes.
    pub(crate) fn rest(&self) -> &RestTable {
        &self.rest
    }

    /// The method the REST route at `index` of [`RouteTable::rest`] reaches.
    pub(crate) fn rest_target(&self, index: usize) -> Option<&Target> {
        self.methods.get(&self.rest.route(index)?.grpc_path)
    }

    /// The routes of the HTTP prefixes, as routing reads them (`/oidc/` is `/oidc`).
    pub(crate) fn http_prefixes(&self) -> impl Iterator<Item = &str> {
        self.http.iter().map(|route| route.prefix.as_str())
    }

    /// Whether a backend serves the HTTP prefix `prefix`.
    pub(crate) fn serves_http(&self, prefix: &str) -> bool {
        self.http.iter().any(|route| route.prefix == prefix)
    }
}

/// No routed method at `path`, the path masked.
pub(crate) fn method_not_found(path: &str) -> ApiError {
    let path = sandbox06_runtime::mask::path(path);
    ApiError::new(
        Reason::MethodNotFound,
        format!("no service or method routed at {path}"),
    )
    .with_metadata("path", path)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn citizen(url: &str) -> Backend {
        Backend::new("citizen", url, ["sandbox06.citizen.v1.CitizenService"])
    }

    #[tokio::test]
    async fn contract_methods_are_resolved_once_and_rest_routes_reach_them() {
        let table = RouteTable::build(
            vec![citizen("http://127.0.0.1:1")],
            &sandbox06_proto::DESCRIPTOR_POOL,
        )
        .unwrap();
        let path = "/sandbox06.citizen.v1.CitizenService/GetCitizen";
        let target = table.grpc(path).unwrap();
        assert!(matches!(target, Cow::Borrowed(_)));
        assert_eq!(&*target.backend, "citizen");
        assert!(target.known);
        assert_eq!(table.rest().len(), 4);
        for (index, route) in table.rest().routes().enumerate() {
            assert_eq!(table.rest_target(index).unwrap().info.path, route.grpc_path);
        }
        // A method the contract lacks on a service it has: not found at the edge.
        let missing = table
            .grpc("/sandbox06.citizen.v1.CitizenService/Nope")
            .unwrap_err();
        assert_eq!(missing.reason, Reason::MethodNotFound.into());
        assert!(table.grpc("/nope.Service/Call").is_err());
        assert!(table.grpc("not a path").is_err());
    }

    #[tokio::test]
    async fn a_service_claimed_twice_is_refused() {
        let error = RouteTable::build(
            vec![citizen("http://127.0.0.1:1"), citizen("http://127.0.0.1:2")],
            &sandbox06_proto::DESCRIPTOR_POOL,
        )
        .unwrap_err();
        assert!(matches!(error, GatewayError::DuplicateService { .. }));
    }
}
