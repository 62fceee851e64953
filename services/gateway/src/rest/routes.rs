//! The REST routes of the contract: each unary or streaming RPC's `google.api.http` rule as a
//! path template (literals, `{field}`, `{field=**}`, a `:verb`), matched against a request's
//! method and path; a path that matches under another method is a 405 naming those allowed.

use std::collections::HashSet;

use axum::body::Body;
use http::{HeaderValue, Method, Response};
use prost_reflect::{DescriptorPool, MessageDescriptor, MethodDescriptor};
use sandbox06_runtime::http::status_response;
use sandbox06_runtime::{ApiError, Reason};

/// Full name of the HTTP rule option.
const HTTP_OPTION: &str = "google.api.http";

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    Literal(String),
    /// `{field}` or `{field=*}`: one segment.
    Variable(String),
    /// `{field=**}`: the rest of the path.
    Rest(String),
}

/// One REST route of one RPC.
#[derive(Clone, Debug)]
pub(crate) struct RestRoute {
    pub(crate) method: Method,
    /// The path template as written in the rule, e.g. `/v1/citizens/{citizen_id}:verify`: the
    /// `http.route` of its spans (never the path, which may carry personal data).
    pub(crate) template: String,
    pub(crate) segments: Vec<Segment>,
    pub(crate) verb: Option<String>,
    /// `*` for the whole message, a field name for one field, `None` for no body.
    pub(crate) body: Option<String>,
    /// `/package.Service/Method`.
    pub(crate) grpc_path: String,
    pub(crate) input: MessageDescriptor,
    pub(crate) output: MessageDescriptor,
    pub(crate) descriptor: MethodDescriptor,
}

/// What a path is to the table.
pub(crate) enum Found<'a> {
    /// The route at this index of the table, with the path's variables.
    Route(usize, &'a RestRoute, Vec<(String, String)>),
    WrongMethod(Vec<Method>),
    Nothing,
}

/// Every REST route of the routed services.
#[derive(Clone, Debug, Default)]
pub(crate) struct RestTable {
    routes: Vec<RestRoute>,
}

fn parse_template(template: &str) -> Option<(Vec<Segment>, Option<String>)> {
    let path = template.strip_prefix('/')?;
    // The verb follows the last ':' that is not inside a variable.
    let mut depth = 0;
    let mut verb_at = None;
    for (i, c) in path.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ':' if depth == 0 => verb_at = Some(i),
            _ => {}
        }
    }
    let (path, verb) = match verb_at {
        Some(i) => (&path[..i], Some(path[i + 1..].to_owned())),
        None => (path, None),
    };
    let mut segments = Vec::new();
    for part in path.split('/') {
        if let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            match inner.split_once('=') {
                None | Some((_, "*")) => {
                    segments.push(Segment::Variable(inner.split('=').next()?.to_owned()));
                }
                Some((field, "**")) => segments.push(Segment::Rest(field.to_owned())),
                // Multi-segment patterns are not in the contract.
                Some(_) => return None,
            }
        } else if part.contains(['{', '}']) {
            return None;
        } else {
            segments.push(Segment::Literal(part.to_owned()));
        }
    }
    Some((segments, verb))
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl RestRoute {
    /// `path` without its leading `/` and this route's verb, if it can be this route's.
    fn strip<'p>(&self, path: &'p str) -> Option<&'p str> {
        let path = path.strip_prefix('/')?;
        match &self.verb {
            Some(verb) => path.strip_suffix(verb.as_str())?.strip_suffix(':'),
            // A custom verb (`:verify`) at the end is another route's.
            None if path
                .rsplit('/')
                .next()
                .is_some_and(|last| last.contains(':')) =>
            {
                None
            }
            None => Some(path),
        }
    }

    /// Whether `path`'s segments fit this route's template, without taking anything from it.
    fn fits(&self, path: &str) -> bool {
        let Some(path) = self.strip(path) else {
            return false;
        };
        let mut parts = path.split('/');
        for segment in &self.segments {
            match segment {
                Segment::Literal(literal) => {
                    if parts.next() != Some(literal.as_str()) {
                        return false;
                    }
                }
                Segment::Variable(_) => {
                    if parts.next().is_none_or(str::is_empty) {
                        return false;
                    }
                }
                Segment::Rest(_) => return true,
            }
        }
        parts.next().is_none()
    }

    /// The path variables when `path` is this route's.
    #[cfg(test)]
    fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        self.fits(path).then(|| self.vars(path)).flatten()
    }

    /// The path variables of a `path` that [`Self::fits`] this route: none when one of them
    /// is not percent-encoded right.
    fn vars(&self, path: &str) -> Option<Vec<(String, String)>> {
        let mut parts = self.strip(path)?.split('/');
        let mut vars = Vec::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(_) => {
                    parts.next();
                }
                Segment::Variable(field) => {
                    vars.push((field.clone(), percent_decode(parts.next()?)?));
                }
                Segment::Rest(field) => {
                    let rest = parts.by_ref().collect::<Vec<_>>().join("/");
                    vars.push((field.clone(), percent_decode(&rest)?));
                }
            }
        }
        Some(vars)
    }
}

impl RestTable {
    /// The routes of every method of `services` in `pool` with an HTTP rule.
    pub(crate) fn from_pool(pool: &DescriptorPool, services: &HashSet<String>) -> Self {
        let Some(extension) = pool.get_extension_by_name(HTTP_OPTION) else {
            return Self::default();
        };
        let mut routes = Vec::new();
        for service in pool.services() {
            if !services.contains(service.full_name()) {
                continue;
            }
            for method in service.methods() {
                let options = method.options();
                if !options.has_extension(&extension) {
                    continue;
                }
                let value = options.get_extension(&extension);
                let Some(rule) = value.as_message() else {
                    continue;
                };
                let text = |name: &str| {
                    rule.get_field_by_name(name)
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .filter(|v| !v.is_empty())
                };
                let verbs = [
                    ("get", Method::GET),
                    ("post", Method::POST),
                    ("put", Method::PUT),
                    ("delete", Method::DELETE),
                    ("patch", Method::PATCH),
                ];
                let Some((http_method, template)) = verbs
                    .iter()
                    .find_map(|(name, m)| text(name).map(|t| (m.clone(), t)))
                else {
                    continue;
                };
                let Some((segments, verb)) = parse_template(&template) else {
                    tracing::warn!(template, "HTTP rule not understood; no REST route");
                    continue;
                };
                routes.push(RestRoute {
                    method: http_method,
                    template: template.clone(),
                    segments,
                    verb,
                    body: text("body"),
                    grpc_path: format!("/{}/{}", service.full_name(), method.name()),
                    input: method.input(),
                    output: method.output(),
                    descriptor: method.clone(),
                });
            }
        }
        Self { routes }
    }

    /// Number of routes.
    pub(crate) fn len(&self) -> usize {
        self.routes.len()
    }

    /// The route at `index`, as [`RestTable::find`] numbers them.
    pub(crate) fn route(&self, index: usize) -> Option<&RestRoute> {
        self.routes.get(index)
    }

    /// The routes, in the contract's order.
    pub(crate) fn routes(&self) -> impl Iterator<Item = &RestRoute> {
        self.routes.iter()
    }

    /// Keeps the routes `keep` says.
    pub(crate) fn retain(&mut self, keep: impl FnMut(&RestRoute) -> bool) {
        self.routes.retain(keep);
    }

    /// What `method` at `path` is to the table.
    pub(crate) fn find(&self, method: &Method, path: &str) -> Found<'_> {
        let mut allowed = Vec::new();
        for (index, route) in self.routes.iter().enumerate() {
            if !route.fits(path) {
                continue;
            }
            if route.method == *method {
                // Only the route taken pays for its variables.
                if let Some(vars) = route.vars(path) {
                    return Found::Route(index, route, vars);
                }
            } else if route.vars(path).is_some() {
                allowed.push(route.method.clone());
            }
        }
        if allowed.is_empty() {
            Found::Nothing
        } else {
            Found::WrongMethod(allowed)
        }
    }
}

/// The 405 answer to `method` on a path that `allowed` methods take, with `Allow`.
pub(crate) fn not_allowed(method: &Method, allowed: &[Method]) -> Response<Body> {
    let allow = allowed
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let mut response = status_response(&tonic::Status::from(
        ApiError::new(
            Reason::HttpMethodNotAllowed,
            format!("{method} is not allowed here; allowed: {allow}"),
        )
        .with_metadata("allowed", allow.clone()),
    ));
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(http::header::ALLOW, value);
    }
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn templates_with_variables_and_verbs_match_paths() {
        let (segments, verb) = parse_template("/v1/citizens/{citizen_id}:verify").unwrap();
        assert_eq!(verb.as_deref(), Some("verify"));
        assert_eq!(
            segments,
            vec![
                Segment::Literal("v1".into()),
                Segment::Literal("citizens".into()),
                Segment::Variable("citizen_id".into())
            ]
        );
        let table = RestTable::from_pool(
            &sandbox06_proto::DESCRIPTOR_POOL,
            &["sandbox06.citizen.v1.CitizenService".to_owned()]
                .into_iter()
                .collect(),
        );
        assert_eq!(table.len(), 4);
        match table.find(&Method::POST, "/v1/citizens/001091012345:verify") {
            Found::Route(_, route, vars) => {
                assert!(route.grpc_path.ends_with("/VerifyCitizen"));
                assert_eq!(vars, vec![("citizen_id".into(), "001091012345".into())]);
            }
            _ => panic!("the verify route"),
        }
        match table.find(&Method::GET, "/v1/citizens/001091012345") {
            Found::Route(_, route, _) => assert!(route.grpc_path.ends_with("/GetCitizen")),
            _ => panic!("the get route"),
        }
        assert!(matches!(
            table.find(&Method::DELETE, "/v1/citizens/001091012345"),
            Found::WrongMethod(_)
        ));
        assert!(matches!(
            table.find(&Method::GET, "/v1/nothing"),
            Found::Nothing
        ));
        assert!(matches!(
            table.find(&Method::POST, "/v1/cards:verifyQr"),
            Found::Route(..)
        ));
    }

    #[test]
    fn a_path_fits_before_its_variables_are_taken() {
        let table = RestTable::from_pool(
            &sandbox06_proto::DESCRIPTOR_POOL,
            &["sandbox06.citizen.v1.CitizenService".to_owned()]
                .into_iter()
                .collect(),
        );
        let mut route = table.routes().next().unwrap().clone();
        route.verb = None;
        route.segments = vec![
            Segment::Literal("v1".into()),
            Segment::Variable("a".into()),
            Segment::Rest("b".into()),
        ];
        assert_eq!(
            route.matches("/v1/x%20y/c/d"),
            Some(vec![("a".into(), "x y".into()), ("b".into(), "c/d".into())])
        );
        assert_eq!(
            route.matches("/v1/x"),
            Some(vec![("a".into(), "x".into()), ("b".into(), String::new())])
        );
        assert!(route.fits("/v1/%zz/c"));
        assert_eq!(route.matches("/v1/%zz/c"), None, "not percent-encoding");
        assert_eq!(route.matches("/v1//c"), None, "an empty variable");
        assert_eq!(route.matches("/v2/x"), None);
        assert_eq!(route.matches("/v1/x:verb"), None, "another route's verb");
    }
}
