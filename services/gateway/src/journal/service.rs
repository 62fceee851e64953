//! `sandbox06.admin.v1.JournalControl` on the edge's own server: list, verify and clear the
//! journal. Never routed, never recorded itself.

use std::sync::Arc;
use std::time::SystemTime;

use sandbox06_proto::admin as pb;
use sandbox06_proto::admin::journal_control_server::{JournalControl, JournalControlServer};
use sandbox06_runtime::{ApiError, Reason};
use tonic::{Request, Response, Status};

use super::render::{self, method_of};
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
}

fn time_of(
    field: &str,
    timestamp: Option<prost_types::Timestamp>,
) -> Result<Option<SystemTime>, Status> {
    timestamp
        .map(|t| SystemTime::try_from(t).map_err(|e| invalid(field, format!("not a time: {e}"))))
        .transpose()
}

impl Filter {
    fn parse(filter: Option<pb::CallFilter>) -> Result<Self, Status> {
        let Some(filter) = filter else {
            return Ok(Self::default());
        };
        let method = match filter.method.trim_start_matches('/') {
            "" => None,
            name => {
                let known = match name.split_once('/') {
                    Some(_) => method_of(name).is_some(),
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
        })
    }

    fn matches(&self, entry: &Entry) -> bool {
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
            && self
                .reason
                .as_deref()
                .is_none_or(|wanted| render::reason(entry) == wanted)
            && self.since.is_none_or(|since| entry.time >= since)
            && self.until.is_none_or(|until| entry.time < until)
            && self.protocol.is_none_or(|wanted| facts.protocol == wanted)
    }
}

#[tonic::async_trait]
impl JournalControl for JournalService {
    async fn list_journal(
        &self,
        request: Request<pb::ListJournalRequest>,
    ) -> Result<Response<pb::ListJournalResponse>, Status> {
        let request = request.into_inner();
        let filter = Filter::parse(request.filter)?;
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
        let (mut found, dropped) = self.journal.select(
            |entry| entry.sequence < below && filter.matches(entry),
            |count| count <= page_size,
        );
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
        let request = request.into_inner();
        let filter = Filter::parse(request.filter)?;
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
        let mut count: u64 = 0;
        let (_, dropped) = self.journal.select(
            |entry| {
                if filter.matches(entry) {
                    count += 1;
                }
                false
            },
            |_| true,
        );
        Ok(Response::new(pb::VerifyJournalResponse {
            count,
            matched: compare(count, expected),
            dropped,
        }))
    }

    async fn clear_journal(
        &self,
        _request: Request<pb::ClearJournalRequest>,
    ) -> Result<Response<pb::ClearJournalResponse>, Status> {
        let cleared = self.journal.clear();
        Ok(Response::new(pb::ClearJournalResponse {
            cleared: cleared as u64,
        }))
    }
}
