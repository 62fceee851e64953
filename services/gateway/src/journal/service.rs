//! `sandbox06.admin.v1.JournalControl` on the edge's own server: list, verify and clear the
//! journal. Never routed, never recorded itself. A caller with a tenant (`x-sandbox06-tenant`)
//! lists, verifies and clears only its tenant's calls.

use std::sync::Arc;
use std::time::SystemTime;

use sandbox06_proto::admin as pb;
use sandbox06_proto::admin::journal_control_server::{JournalControl, JournalControlServer};
use sandbox06_runtime::{ApiError, Reason};
use tonic::{Request, Response, Status};

use super::render;
use super::{Entry, Journal, Protocol};

/// Entries in a page when the request does not say.
const DEFAULT_PAGE_SIZE: usize = 50;
/// The most entries in a page.
const MAX_PAGE_SIZE: u32 = 1000;
/// The highest gRPC status code.
const MAX_CODE: u32 = 16;

/// The journal's control service.
#[derive(Clone, Debug)]
pub(crate) struct JournalService {
    journal: Arc<Journal>,
}

impl JournalService {
    /// The generated server for `journal`.
    pub(crate) fn server(journal: Arc<Journal>) -> JournalControlServer<Self> {
        JournalControlServer::new(Self { journal })
    }
}

fn invalid(field: &str, description: impl Into<String>) -> Status {
    ApiError::invalid_field(Reason::InvalidArgument, field, description).into()
}

/// A filter checked once, matched against every entry.
#[derive(Debug, Default)]
struct Filter {
    /// `pkg.Service/Method`, or `pkg.Service/` for every method of a service.
    method: Option<String>,
    client_id: Option<String>,
    code: Option<i32>,
    reason: Option<String>,
    since: Option<SystemTime>,
    until: Option<SystemTime>,
    protocol: Option<Protocol>,
    /// The caller's tenant, or the one the operator's filter names.
    tenant: Option<String>,
}

fn time_of(
    field: &str,
    timestamp: Option<prost_types::Timestamp>,
) -> Result<Option<SystemTime>, Status> {
    timestamp
        .map(|t| SystemTime::try_from(t).map_err(|e| invalid(field, format!("not a time: {e}"))))
        .transpose()
}

/// The tenant of the caller of `request`, or the refusal of a malformed one.
fn caller_tenant<T>(request: &Request<T>) -> Result<Option<String>, Status> {
    Ok(sandbox06_runtime::faults::tenant_of_metadata(request.metadata())?.map(str::to_owned))
}

impl Filter {
    /// `filter` as asked by a caller of `tenant`, who sees only that tenant's calls.
    fn parse(filter: Option<pb::CallFilter>, tenant: Option<String>) -> Result<Self, Status> {
        let Some(filter) = filter else {
            return Ok(Self {
                tenant,
                ..Self::default()
            });
        };
        let tenant = match (tenant, filter.tenant.as_str()) {
            (tenant, "") => tenant,
            (Some(tenant), asked) if asked == tenant => Some(tenant),
            (Some(tenant), _) => {
                return Err(invalid(
                    "filter.tenant",
                    format!(
                        "a caller of tenant {tenant} sees only its own calls: leave it empty or name {tenant}"
                    ),
                ));
            }
            (None, asked) if sandbox06_runtime::faults::is_tenant(asked.as_bytes()) => {
                Some(asked.to_owned())
            }
            (None, _) => {
                return Err(invalid(
                    "filter.tenant",
                    "a tenant is 1 to 64 of a-z, A-Z, 0-9, '-', '_' and '.'",
                ));
            }
        };
        let method = match filter.method.trim_start_matches('/') {
            "" => None,
            name => {
                let known = match name.split_once('/') {
                    Some(_) => sandbox06_runtime::rpc::contract_method(name).is_some(),
                    None => sandbox06_proto::DESCRIPTOR_POOL
                        .get_service_by_name(name)
                        .is_some(),
                };
                if !known {
                    return Err(invalid(
                        "filter.method",
                        format!(
                            "{} is neither a method (/package.Service/Method) nor a service of the contract",
                            sandbox06_runtime::mask::path(name)
                        ),
                    ));
                }
                Some(if name.contains('/') {
                    name.to_owned()
                } else {
                    format!("{name}/")
                })
            }
        };
        let code = match filter.code {
            Some(code) if code > MAX_CODE => {
                return Err(invalid(
                    "filter.code",
                    format!("a gRPC status code is 0 to {MAX_CODE}, not {code}"),
                ));
            }
            Some(code) => Some(i32::try_from(code).unwrap_or(i32::MAX)),
            None => None,
        };
        let protocol = match pb::Protocol::try_from(filter.protocol) {
            Ok(pb::Protocol::Unspecified) => None,
            Ok(pb::Protocol::Grpc) => Some(Protocol::Grpc),
            Ok(pb::Protocol::GrpcWeb) => Some(Protocol::GrpcWeb),
            Ok(pb::Protocol::Rest) => Some(Protocol::Rest),
            Err(_) => {
                return Err(invalid(
                    "filter.protocol",
                    format!("{} is not a Protocol", filter.protocol),
                ));
            }
        };
        let since = time_of("filter.since", filter.since)?;
        let until = time_of("filter.until", filter.until)?;
        if let (Some(since), Some(until)) = (since, until)
            && until < since
        {
            return Err(invalid("filter.until", "is before filter.since"));
        }
        let text = |value: String| (!value.is_empty()).then_some(value);
        Ok(Self {
            method,
            client_id: text(filter.client_id),
            code,
            reason: text(filter.reason),
            since,
            until,
            protocol,
            tenant,
        })
    }

    /// Whether `entry` passes every part of the filter but the reason: cheap, so checked
    /// under the journal's lock.
    fn matches_but_reason(&self, entry: &Entry) -> bool {
        let facts = &entry.facts;
        let method = facts.method.trim_start_matches('/');
        self.method.as_deref().is_none_or(|wanted| {
            if wanted.ends_with('/') {
                method.starts_with(wanted)
            } else {
                method == wanted
            }
        }) && self
            .client_id
            .as_deref()
            .is_none_or(|wanted| facts.client_id.as_deref() == Some(wanted))
            && self.code.is_none_or(|wanted| entry.code() == wanted)
            && self.since.is_none_or(|since| entry.time >= since)
            && self.until.is_none_or(|until| entry.time < until)
            && self.protocol.is_none_or(|wanted| facts.protocol == wanted)
            && entry.seen_by(self.tenant.as_deref())
    }

    /// Whether `entry`'s reason is the one asked for: it decodes the entry's status, so it is
    /// checked outside the journal's lock, which every call the edge ends takes.
    fn matches_reason(&self, entry: &Entry) -> bool {
        self.reason
            .as_deref()
            .is_none_or(|wanted| render::reason(entry) == wanted)
    }

    /// Whether `entry` passes the whole filter.
    #[cfg(test)]
    fn matches(&self, entry: &Entry) -> bool {
        self.matches_but_reason(entry) && self.matches_reason(entry)
    }
}

impl JournalService {
    /// The entries older than `below` that `filter` matches, newest first, at most `limit`;
    /// and the number dropped since the last clear. The reason, when asked for, is matched
    /// once the lock is let go, on the entries the rest of the filter took.
    fn find(&self, filter: &Filter, below: u64, limit: usize) -> (Vec<Arc<Entry>>, u64) {
        let cheap = |entry: &Entry| entry.sequence < below && filter.matches_but_reason(entry);
        if filter.reason.is_none() {
            return self.journal.select(cheap, |count| count < limit);
        }
        let (candidates, dropped) = self.journal.select(cheap, |_| true);
        let found = candidates
            .into_iter()
            .filter(|entry| filter.matches_reason(entry))
            .take(limit)
            .collect();
        (found, dropped)
    }

    /// How many entries `filter` matches; and the number dropped since the last clear.
    fn count(&self, filter: &Filter) -> (u64, u64) {
        if filter.reason.is_none() {
            let mut count: u64 = 0;
            let (_, dropped) = self.journal.select(
                |entry| {
                    if filter.matches_but_reason(entry) {
                        count += 1;
                    }
                    false
                },
                |_| true,
            );
            return (count, dropped);
        }
        let (found, dropped) = self.find(filter, u64::MAX, usize::MAX);
        (found.len() as u64, dropped)
    }
}

#[tonic::async_trait]
impl JournalControl for JournalService {
    async fn list_journal(
        &self,
        request: Request<pb::ListJournalRequest>,
    ) -> Result<Response<pb::ListJournalResponse>, Status> {
        let tenant = caller_tenant(&request)?;
        let request = request.into_inner();
        let filter = Filter::parse(request.filter, tenant)?;
        let page_size = match request.page_size {
            0 => DEFAULT_PAGE_SIZE,
            size if size > MAX_PAGE_SIZE => {
                return Err(invalid(
                    "page_size",
                    format!("at most {MAX_PAGE_SIZE} entries a page, not {size}"),
                ));
            }
            size => size as usize,
        };
        let below = match request.page_token.as_str() {
            "" => u64::MAX,
            token => token.parse::<u64>().map_err(|_| {
                invalid(
                    "page_token",
                    "not a token this journal gave; leave it empty for the newest entries",
                )
            })?,
        };
        // One more than the page, to know whether another follows.
        let (mut found, dropped) = self.find(&filter, below, page_size.saturating_add(1));
        let next_page_token = if found.len() > page_size {
            found.truncate(page_size);
            found
                .last()
                .map(|entry| entry.sequence.to_string())
                .unwrap_or_default()
        } else {
            String::new()
        };
        let bodies = self.journal.bodies();
        Ok(Response::new(pb::ListJournalResponse {
            entries: found
                .iter()
                .map(|entry| render::entry(entry, bodies))
                .collect(),
            next_page_token,
            dropped,
        }))
    }

    async fn verify_journal(
        &self,
        request: Request<pb::VerifyJournalRequest>,
    ) -> Result<Response<pb::VerifyJournalResponse>, Status> {
        let tenant = caller_tenant(&request)?;
        let request = request.into_inner();
        let filter = Filter::parse(request.filter, tenant)?;
        let expected = request.expected_count;
        let compare: fn(u64, u64) -> bool = match pb::Comparison::try_from(request.comparison) {
            Ok(pb::Comparison::Exactly) => |count, expected| count == expected,
            Ok(pb::Comparison::AtLeast) => |count, expected| count >= expected,
            Ok(pb::Comparison::AtMost) => |count, expected| count <= expected,
            Ok(pb::Comparison::MoreThan) => |count, expected| count > expected,
            Ok(pb::Comparison::LessThan) => |count, expected| count < expected,
            Ok(pb::Comparison::Unspecified) | Err(_) => {
                return Err(invalid(
                    "comparison",
                    "say how the count compares: COMPARISON_EXACTLY, COMPARISON_AT_LEAST, COMPARISON_AT_MOST, COMPARISON_MORE_THAN or COMPARISON_LESS_THAN",
                ));
            }
        };
        let (count, dropped) = self.count(&filter);
        Ok(Response::new(pb::VerifyJournalResponse {
            count,
            matched: compare(count, expected),
            dropped,
        }))
    }

    async fn clear_journal(
        &self,
        request: Request<pb::ClearJournalRequest>,
    ) -> Result<Response<pb::ClearJournalResponse>, Status> {
        let tenant = caller_tenant(&request)?;
        let cleared = self.journal.clear_as(tenant.as_deref());
        Ok(Response::new(pb::ClearJournalResponse {
            cleared: cleared as u64,
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use super::*;
    use crate::journal::{Facts, JournalConfig};

    fn tenant_filter(filter: &str, caller: Option<&str>) -> Result<Filter, Status> {
        Filter::parse(
            Some(pb::CallFilter {
                tenant: filter.to_owned(),
                ..Default::default()
            }),
            caller.map(str::to_owned),
        )
    }

    #[test]
    fn a_tenant_sees_its_own_calls_and_the_operator_chooses() {
        let journal = Journal::new(JournalConfig::default());
        for tenant in [Some("job-a"), Some("job-b"), Some("job-a"), None] {
            journal.commit(
                SystemTime::now(),
                Duration::ZERO,
                Facts {
                    code: Some(0),
                    tenant: tenant.map(http::HeaderValue::from_static),
                    ..Facts::default()
                },
            );
        }
        let count = |filter: &Filter| {
            journal
                .select(|entry| filter.matches(entry), |_| true)
                .0
                .len()
        };
        assert_eq!(count(&Filter::parse(None, None).unwrap()), 4);
        assert_eq!(
            count(&Filter::parse(None, Some("job-a".into())).unwrap()),
            2
        );
        assert_eq!(count(&tenant_filter("job-b", None).unwrap()), 1);
        assert_eq!(count(&tenant_filter("job-a", Some("job-a")).unwrap()), 2);
        // A tenant names no other; a malformed tenant is refused.
        for (filter, caller) in [("job-b", Some("job-a")), ("job b", None)] {
            let status = tenant_filter(filter, caller).unwrap_err();
            assert_eq!(status.code(), tonic::Code::InvalidArgument);
            assert!(status.message().starts_with("filter.tenant"), "{status:?}");
        }
        // A tenant's clear forgets its own calls.
        assert_eq!(journal.clear_as(Some("job-a")), 2);
        assert_eq!(count(&Filter::parse(None, None).unwrap()), 2);
        assert_eq!(journal.clear_as(None), 2);
    }

    #[tokio::test]
    async fn the_reason_filter_pages_and_counts_as_the_others_do() {
        let journal = Journal::new(JournalConfig::default());
        for reason in [
            Some("TOKEN_MISSING"),
            None,
            Some("SCOPE_MISSING"),
            Some("TOKEN_MISSING"),
            Some("TOKEN_MISSING"),
        ] {
            journal.commit(
                SystemTime::now(),
                Duration::ZERO,
                Facts {
                    code: Some(if reason.is_some() { 16 } else { 0 }),
                    reason: reason.map(str::to_owned),
                    ..Facts::default()
                },
            );
        }
        let service = JournalService {
            journal: Arc::clone(&journal),
        };
        let filter = || {
            Some(pb::CallFilter {
                reason: "TOKEN_MISSING".into(),
                ..Default::default()
            })
        };
        let page = |token: String| pb::ListJournalRequest {
            filter: filter(),
            page_size: 2,
            page_token: token,
        };
        let first = service
            .list_journal(Request::new(page(String::new())))
            .await
            .unwrap()
            .into_inner();
        let sequences =
            |entries: &[pb::JournalEntry]| entries.iter().map(|e| e.sequence).collect::<Vec<_>>();
        assert_eq!(sequences(&first.entries), [5, 4]);
        assert_eq!(first.next_page_token, "4");
        let second = service
            .list_journal(Request::new(page(first.next_page_token)))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(sequences(&second.entries), [1]);
        assert!(second.next_page_token.is_empty());
        let verified = service
            .verify_journal(Request::new(pb::VerifyJournalRequest {
                filter: filter(),
                expected_count: 3,
                comparison: pb::Comparison::Exactly.into(),
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((verified.count, verified.matched), (3, true));
    }
}
