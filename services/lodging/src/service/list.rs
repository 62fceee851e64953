//! Listing declarations: newest arrival first, over one facility's arrivals index or several
//! merged (the facility id `-`), or over a document number's index, filtered and paged by a
//! cursor (the last arrival and declaration given), so a page never repeats or skips one
//! while others are declared.

use std::collections::HashSet;

use prost::Message as _;
use sandbox06_proto::{
    dates::time_from_proto,
    lodging::{self as pb, DeadlineVerdict, DeclarationState, DeliveryStatus},
};
use sandbox06_runtime::{caller::Caller, digest::hex};
use sandbox06_store::ScoreRange;

use super::{Lodging, ms};
use crate::error::{BadField, LodgingError};
use crate::records;

/// Most declarations in one page.
pub const PAGE_SIZE_MAX: i32 = 500;
/// Declarations in a page when the caller names no size.
const PAGE_SIZE_DEFAULT: i32 = 50;
/// Most facilities in one page.
const FACILITY_PAGE_MAX: i32 = 500;
/// Declarations read for one page at most, filtered or not: a page may hold fewer than asked
/// (its token goes on).
const SCAN_MAX: usize = 2_000;
/// Above every member: the cursor of a first page.
const TOP: &str = "~";

/// A page token: where the previous page ended, and the filters it was for.
#[derive(Clone, PartialEq, prost::Message)]
struct PageToken {
    #[prost(bytes = "vec", tag = "1")]
    filters: Vec<u8>,
    #[prost(int64, tag = "2")]
    score: i64,
    #[prost(string, tag = "3")]
    member: String,
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Where candidates come from: a sorted set whose members are `<facility>/<id>`, or one
/// facility's arrivals (members are ids), read downwards from `score`, skipping the `skip`
/// members of that score already read.
struct Source {
    key: String,
    facility: Option<String>,
    buffer: std::collections::VecDeque<(i64, String)>,
    score: i64,
    skip: usize,
    done: bool,
}

impl Source {
    fn new(key: String, facility: Option<String>, score: i64) -> Self {
        Self {
            key,
            facility,
            buffer: Default::default(),
            score,
            skip: 0,
            done: false,
        }
    }
}

/// Whether `a` comes after `b` in the listing's order (newest arrival first, then member
/// descending).
fn after(a: &(i64, String), b: &(i64, String)) -> bool {
    (a.0, a.1.as_str()) < (b.0, b.1.as_str())
}

impl Lodging {
    /// Fills a source's buffer with members after `start`, `n` at a time.
    async fn refill(
        &self,
        source: &mut Source,
        min: i64,
        start: &(i64, String),
        n: usize,
    ) -> Result<(), LodgingError> {
        while source.buffer.is_empty() && !source.done {
            let batch = self
                .store
                .zrange(
                    &source.key,
                    ScoreRange {
                        min,
                        max: source.score,
                        rev: true,
                        offset: source.skip,
                        limit: n,
                    },
                )
                .await?;
            source.done = batch.len() < n;
            if let Some(last) = batch.last() {
                if last.score == source.score {
                    source.skip += batch.len();
                } else {
                    source.skip = batch.iter().filter(|e| e.score == last.score).count();
                    source.score = last.score;
                }
            }
            for scored in batch {
                let member = match &source.facility {
                    Some(f) => format!("{f}/{}", scored.member),
                    None => scored.member,
                };
                let entry = (scored.score, member);
                if after(&entry, start) {
                    source.buffer.push_back(entry);
                }
            }
        }
        Ok(())
    }

    /// Lists the facilities the caller is bound to.
    pub fn list_facilities(
        &self,
        caller: &Caller,
        r: &pb::ListFacilitiesRequest,
    ) -> Result<pb::ListFacilitiesResponse, LodgingError> {
        if !(0..=FACILITY_PAGE_MAX).contains(&r.page_size) {
            return Err(LodgingError::Invalid(vec![BadField::new(
                "page_size",
                format!("is 0 to {FACILITY_PAGE_MAX}; got {}", r.page_size),
            )]));
        }
        let size = if r.page_size == 0 {
            PAGE_SIZE_DEFAULT
        } else {
            r.page_size
        } as usize;
        let start = if r.page_token.is_empty() {
            None
        } else {
            let token = unhex(&r.page_token)
                .and_then(|b| String::from_utf8(b).ok())
                .filter(|t| t.starts_with("facilities/"))
                .ok_or_else(|| {
                    LodgingError::Invalid(vec![BadField::new(
                        "page_token",
                        "is not a token of ListFacilities",
                    )])
                })?;
            Some(token)
        };
        let bound = self.facilities.bound(caller);
        let rest: Vec<&pb::Facility> = bound
            .iter()
            .map(|f| &f.resource)
            .filter(|f| start.as_ref().is_none_or(|s| f.name.as_str() > s.as_str()))
            .collect();
        let facilities: Vec<pb::Facility> = rest.iter().take(size).map(|f| (*f).clone()).collect();
        let next_page_token = if rest.len() > size {
            facilities
                .last()
                .map(|f| hex(f.name.as_bytes()))
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(pb::ListFacilitiesResponse {
            facilities,
            next_page_token,
        })
    }

    /// Lists declarations.
    pub async fn list(
        &self,
        caller: &Caller,
        r: pb::ListDeclarationsRequest,
    ) -> Result<pb::ListDeclarationsResponse, LodgingError> {
        if r.facility_id.trim().is_empty() {
            return Err(LodgingError::Invalid(vec![BadField::new(
                "facility_id",
                "is required: a facility id, or - for every facility the caller is bound to",
            )]));
        }
        let facilities = self.facilities.named(caller, &r.facility_id)?;
        let mut bad = Vec::new();
        if !(0..=PAGE_SIZE_MAX).contains(&r.page_size) {
            bad.push(BadField::new(
                "page_size",
                format!("is 0 to {PAGE_SIZE_MAX}; got {}", r.page_size),
            ));
        }
        let mut time = |at: Option<&prost_types::Timestamp>, field: &str| {
            at.and_then(|t| match time_from_proto(t, field) {
                Ok(t) => Some(ms(t)),
                Err(e) => {
                    bad.push(BadField::new(e.field, e.description));
                    None
                }
            })
        };
        let from = time(r.arrival_after.as_ref(), "arrival_after");
        let until = time(r.arrival_before.as_ref(), "arrival_before");
        if DeclarationState::try_from(r.state).is_err() {
            bad.push(BadField::new(
                "state",
                format!("{} is not a state", r.state),
            ));
        }
        if DeadlineVerdict::try_from(r.deadline_verdict).is_err() {
            bad.push(BadField::new(
                "deadline_verdict",
                format!("{} is not a verdict", r.deadline_verdict),
            ));
        }
        if DeliveryStatus::try_from(r.delivery_status).is_err() {
            bad.push(BadField::new(
                "delivery_status",
                format!("{} is not a delivery status", r.delivery_status),
            ));
        }
        if r.document_number.chars().count() > 64 {
            bad.push(BadField::new("document_number", "is at most 64 characters"));
        }
        let mut filters = r.clone();
        filters.page_size = 0;
        filters.page_token = String::new();
        let filters = records::digest(&[&filters.encode_to_vec()]);
        let cursor = if r.page_token.is_empty() {
            None
        } else {
            match unhex(&r.page_token).and_then(|b| PageToken::decode(b.as_slice()).ok()) {
                Some(token) if token.filters == filters => Some((token.score, token.member)),
                _ => {
                    bad.push(BadField::new(
                        "page_token",
                        "is not a token of ListDeclarations with these filters",
                    ));
                    None
                }
            }
        };
        if !bad.is_empty() {
            return Err(LodgingError::Invalid(bad));
        }
        if let (Some(from), Some(until)) = (from, until)
            && until <= from
        {
            // A range no arrival falls in (it ends before it starts): nothing, at once.
            return Ok(pb::ListDeclarationsResponse::default());
        }
        let size = if r.page_size == 0 {
            PAGE_SIZE_DEFAULT
        } else {
            r.page_size
        } as usize;
        let min = from.unwrap_or(i64::MIN / 2);
        let max = until.map_or(i64::MAX / 2, |u| u - 1);
        let start = cursor.unwrap_or((max, TOP.to_owned()));
        let start = if start.0 > max {
            (max, TOP.to_owned())
        } else {
            start
        };
        let allowed: HashSet<&str> = facilities.iter().map(|f| f.id.as_str()).collect();
        let mut sources: Vec<Source> = if r.document_number.trim().is_empty() {
            facilities
                .iter()
                .map(|f| Source::new(records::arrivals_key(&f.id), Some(f.id.clone()), start.0))
                .collect()
        } else {
            vec![Source::new(
                records::stays_key(&format!("#{}", r.document_number.trim())),
                None,
                start.0,
            )]
        };
        let batch = (size + 1).min(500);
        let mut declarations = Vec::new();
        let mut scanned = 0;
        let mut last: Option<(i64, String)> = None;
        let mut more = false;
        loop {
            for source in &mut sources {
                self.refill(source, min, &start, batch).await?;
            }
            let Some(best) = sources
                .iter_mut()
                .filter(|s| !s.buffer.is_empty())
                .min_by(|a, b| {
                    let (x, y) = (&a.buffer[0], &b.buffer[0]);
                    (y.0, y.1.as_str()).cmp(&(x.0, x.1.as_str()))
                })
            else {
                break;
            };
            if declarations.len() == size || scanned == SCAN_MAX {
                more = true;
                break;
            }
            let Some(entry) = best.buffer.pop_front() else {
                break;
            };
            scanned += 1;
            let Some((facility, id)) = entry.1.split_once('/') else {
                continue;
            };
            last = Some(entry.clone());
            if !allowed.contains(facility) {
                continue;
            }
            let declaration = match self.current(facility, id).await {
                Ok((_, d)) => d,
                Err(LodgingError::DeclarationNotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            if matches(&r, &declaration) {
                declarations.push(declaration);
            }
        }
        let next_page_token = match (more, last) {
            (true, Some((score, member))) => hex(&PageToken {
                filters,
                score,
                member,
            }
            .encode_to_vec()),
            _ => String::new(),
        };
        Ok(pb::ListDeclarationsResponse {
            declarations,
            next_page_token,
        })
    }
}

/// Whether `d` meets the filters of `r` that the index does not apply.
fn matches(r: &pb::ListDeclarationsRequest, d: &pb::Declaration) -> bool {
    let delivery = d.delivery.as_ref().map_or(0, |x| x.status);
    let verdict = d.deadline.as_ref().map_or(0, |x| x.verdict);
    (r.state == 0 || r.state == d.state)
        && (r.deadline_verdict == 0 || r.deadline_verdict == verdict)
        && (r.delivery_status == 0 || r.delivery_status == delivery)
        && (!r.has_findings || !d.findings.is_empty())
        && (r.document_number.trim().is_empty()
            || d.guests
                .iter()
                .any(|g| super::document_numbers(g).contains(&r.document_number.trim())))
}
