//! The OpenAPI 3.1 document of the REST side, generated from the same descriptors as the routes:
//! every route with its parameters, request and response schemas (proto comments as
//! descriptions), the errors, the bearer scheme with each operation's scope from its `policy`
//! option, and the request examples beside the contract (`*.examples.json`, personas).
//!
//! Schemas follow the proto3 JSON mapping the edge speaks: lowerCamelCase properties, enums by
//! name, 64-bit integers as strings, well-known types in their JSON forms.

mod controls;
mod examples;
mod operation;
mod schema;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashSet};

use prost_reflect::DescriptorPool;
use serde_json::{Map, Value, json};

pub use self::examples::{Example, ExampleError, examples};
use self::operation::*;
pub use self::schema::citizen_id_pattern;
#[cfg(test)]
pub(crate) use self::schema::enum_schema;
use self::schema::*;
use crate::auth::DISCOVERY_PATH;
use crate::json_map::SCHEMAS;
use crate::rest::routes::RestTable;

/// Where the edge serves the document.
pub const DOCUMENT_PATH: &str = "/openapi.json";
/// Where the edge serves the browsable API page.
pub const DOCS_PATH: &str = "/docs";
/// The token endpoint the document names (the single sign-on's, through the edge).
pub use sandbox06_runtime::token::TOKEN_PATH;

/// The errors every operation documents, with what they mean here.
pub(super) const ERRORS: [(&str, &str); 8] = [
    (
        "400",
        "The request is malformed: bad JSON, an unknown field, a wrong type or an invalid value. `details` has the ErrorInfo reason and a BadRequest naming the field.",
    ),
    (
        "401",
        "No access token, or one that is invalid or expired (`TOKEN_MISSING`, `TOKEN_INVALID`, `TOKEN_EXPIRED`).",
    ),
    (
        "403",
        "The token lacks the operation's scope (`SCOPE_MISSING`).",
    ),
    ("404", "Nothing is found for the request."),
    (
        "413",
        "The request is above the edge's size limit (`REQUEST_TOO_LARGE`).",
    ),
    (
        "429",
        "Too many calls or resources exhausted; retry after a pause.",
    ),
    (
        "503",
        "A service or its upstream is unavailable; retrying is safe.",
    ),
    ("504", "The call's deadline passed."),
];

/// The document's content, generated once per set of routes; [`ApiDocument::for_server`] places
/// it at a base URL.
#[derive(Clone, Debug)]
pub struct ApiDocument {
    document: Value,
    single_sign_on: bool,
    table: RestTable,
    facts: Facts,
}

/// What the suite takes that the contract alone does not say, for the document's schemas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    /// The suite's reference date: ID numbers and dates of birth are taken up to it.
    pub reference: time::Date,
    /// The components the sandbox's controls reach (fault rules, resets), by name; none known
    /// leaves the names unchecked by the document.
    pub components: Vec<String>,
}

impl ApiDocument {
    /// The document of every REST route of `services` in `pool`; `single_sign_on` says whether
    /// the provider's discovery document is served at the same base URL.
    pub fn new(pool: &DescriptorPool, services: &HashSet<String>, single_sign_on: bool) -> Self {
        Self::from_table(
            &RestTable::from_pool(pool, services),
            single_sign_on,
            Facts {
                // The suite's default reference date: the year ID numbers are described for.
                reference: sandbox06_vn::today_in_vietnam(),
                components: Vec::new(),
            },
        )
    }

    /// The document for a suite whose reference date is `reference` (what ID numbers and
    /// dates of birth it takes depend on it).
    pub fn at(self, reference: time::Date) -> Self {
        let facts = Facts {
            reference,
            ..self.facts.clone()
        };
        self.with_facts(facts)
    }

    /// The document for a suite whose controls reach `components` (the names a fault rule or
    /// a reset may give).
    pub fn with_components(self, components: Vec<String>) -> Self {
        let facts = Facts {
            components,
            ..self.facts.clone()
        };
        self.with_facts(facts)
    }

    fn with_facts(self, facts: Facts) -> Self {
        if facts == self.facts {
            return self;
        }
        Self::from_table(&self.table, self.single_sign_on, facts)
    }

    pub(crate) fn from_table(table: &RestTable, single_sign_on: bool, facts: Facts) -> Self {
        let examples = examples().unwrap_or_else(|error| {
            tracing::warn!(%error, "request examples left out of the API document");
            Vec::new()
        });
        let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
        let mut tags: BTreeMap<String, Value> = BTreeMap::new();
        let mut roots = Vec::new();
        let mut scopes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for route in table.routes() {
            let method = &route.descriptor;
            let service = method.parent_service();
            let tag = service.name().to_owned();
            tags.entry(tag.clone()).or_insert_with(|| {
                let mut entry = json!({"name": tag, "x-grpc-service": service.full_name()});
                if let Some(text) = comment(service.parent_file_descriptor_proto(), service.path())
                {
                    entry["description"] = Value::String(text);
                }
                entry
            });
            roots.push(route.input.clone());
            roots.push(route.output.clone());
            let policy = policy_of(method);
            if let Some(scope) = policy
                .as_ref()
                .filter(|p| !p.scope.is_empty())
                .map(|p| p.scope.clone())
            {
                scopes.entry(scope).or_default().push(format!(
                    "{}.{}",
                    service.name(),
                    method.name()
                ));
            }
            let mine: Vec<&Example> = examples
                .iter()
                .filter(|e| e.service == service.full_name() && e.method == method.name())
                .collect();
            let operation = operation(route, policy.as_ref(), &mine, &facts);
            paths
                .entry(openapi_path(route))
                .or_default()
                .insert(route.method.as_str().to_ascii_lowercase(), operation);
        }
        let mut components = schemas(roots, &facts);
        components.insert("google.rpc.Status".to_owned(), status_schema());
        let mut responses = Map::new();
        for (code, text) in ERRORS {
            responses.insert(
                format!("Error{code}"),
                json!({
                    "description": text,
                    "content": {"application/json": {"schema": {"$ref": format!("{SCHEMAS}google.rpc.Status")}}}
                }),
            );
        }
        let scope_text: Map<String, Value> = scopes
            .iter()
            .map(|(scope, methods)| {
                (
                    scope.clone(),
                    Value::String(format!("Calls {}", methods.join(", "))),
                )
            })
            .collect();
        let mut security = vec![json!({"bearer": []})];
        let mut security_schemes = json!({
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "An access token of the single sign-on: `sandbox06 token --client demo-hospital`, or any OAuth 2.0 flow of a registered client. Each operation names the scope it needs.",
            }
        });
        if single_sign_on {
            // First, as importers take the first scheme they can use: Postman gets a token with
            // it ("Get New Access Token"), Swagger UI too.
            security.insert(0, json!({"oauth2": []}));
            security.push(json!({"sso": []}));
            security_schemes["oauth2"] = json!({
                "type": "oauth2",
                "description": "The single sign-on's client-credentials grant, for a system: client `sandbox06-admin` (secret `sandbox06-admin-secret`) may have every scope listed; a demo client only its own (`demo-hospital`: `citizen.read citizen.verify citizen.match`).",
                "flows": {
                    "clientCredentials": {
                        "tokenUrl": TOKEN_PATH,
                        "scopes": scope_text.clone(),
                    },
                },
            });
            security_schemes["sso"] = json!({
                "type": "openIdConnect",
                "openIdConnectUrl": DISCOVERY_PATH,
                "description": "The suite's OpenID Connect provider (VNeID single sign-on): authorization code with PKCE for a person, client credentials for a system.",
            });
        }
        let document = json!({
            "openapi": "3.1.0",
            "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
            "info": {
                "title": "sandbox06",
                "version": env!("CARGO_PKG_VERSION"),
                "summary": "Local sandbox of Vietnam's Project 06 identity integrations, with synthetic citizens.",
                "description": INFO,
                "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
            },
            "servers": [{"url": "http://127.0.0.1:4606"}],
            "tags": tags.into_values().collect::<Vec<_>>(),
            "security": security,
            "paths": paths,
            "components": {
                "schemas": components,
                "responses": responses,
                "securitySchemes": security_schemes,
                "x-scopes": scope_text,
            },
        });
        Self {
            document,
            single_sign_on,
            table: table.clone(),
            facts,
        }
    }

    /// The document with `base` (such as `http://127.0.0.1:4606`) as its server, and the
    /// discovery URL of the single sign-on under it.
    pub fn for_server(&self, base: &str) -> Value {
        let base = base.trim_end_matches('/');
        let mut document = self.document.clone();
        document["servers"] = json!([{"url": base, "description": "the sandbox06 edge"}]);
        if self.single_sign_on {
            document["components"]["securitySchemes"]["sso"]["openIdConnectUrl"] =
                Value::String(format!("{base}{DISCOVERY_PATH}"));
            document["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] =
                Value::String(format!("{base}{TOKEN_PATH}"));
        }
        document
    }
}

pub(super) const INFO: &str = "Every RPC of the suite as REST/JSON, at the route its proto declares (`google.api.http`), on the same port as gRPC, with the same tokens, policies, limits and errors.\n\n\
- **Tokens**: `Authorization: Bearer <access token>` of the single sign-on; each operation names its scope. `sandbox06 token --client demo-hospital` prints one.\n\
- **JSON**: the canonical proto3 JSON mapping: lowerCamelCase fields (snake_case is accepted too), enums by name, 64-bit integers as strings, `read_mask` as a comma-separated query parameter.\n\
- **Errors**: the `google.rpc.Status` as JSON with the HTTP status of its code; `details` carry the ErrorInfo reason and, for bad input, the offending field.\n\
- **Streams**: client-streaming RPCs take NDJSON (`application/x-ndjson`, one request per line) and answer NDJSON, one result per line, in order.\n\
- **Personas**: the examples use the hand-written personas (`sandbox06 personas`).\n\n\
The same API is served over gRPC (with reflection) and gRPC-Web on this port.";
