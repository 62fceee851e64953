//! `sandbox06.citizen.v1.CitizenService`: the integration adapter in front of the population
//! database. It validates every input first, asks the upstream, and answers with verdicts.

mod convert;
mod read_mask;
pub mod verify;

use std::{pin::Pin, sync::Arc};

use futures::{Stream, StreamExt};
use sandbox06_proto::{
    citizen::{self as api, citizen_service_server::CitizenService},
    population::RecordView,
    types,
};
use sandbox06_runtime::Reason;
use tonic::{Request, Response, Status, Streaming};

use self::verify::{Checks, card_check, current_card_status};
use sandbox06_proto::dates::date_from_proto;
use sandbox06_vn::{CardQr, CitizenId, CivilDate, FieldError, FieldErrorKind, Sex};

use crate::{
    error::{invalid, not_found},
    population::{PopulationClient, UpstreamError},
};

/// Records matched per upstream batch in MatchCitizens.
const MATCH_BATCH: usize = 512;
/// Batches in flight at once in MatchCitizens (order is kept).
const MATCH_PIPELINE: usize = 4;

/// The citizen service.
#[derive(Clone)]
pub struct CitizenApi {
    population: Arc<dyn PopulationClient>,
    reference: CivilDate,
}

impl std::fmt::Debug for CitizenApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CitizenApi")
            .field("reference", &self.reference)
            .finish()
    }
}

fn sex_of(value: i32, field: &str) -> Result<Option<Sex>, FieldError> {
    match types::Sex::try_from(value) {
        Ok(types::Sex::Unspecified) => Ok(None),
        Ok(types::Sex::Male) => Ok(Some(Sex::Male)),
        Ok(types::Sex::Female) => Ok(Some(Sex::Female)),
        Err(_) => Err(FieldError::new(
            FieldErrorKind::Other,
            field,
            format!("must be SEX_MALE or SEX_FEMALE, got {value}"),
        )),
    }
}

/// An unset date, or one with every part zero, is "not provided".
fn optional_date(date: Option<&types::Date>, field: &str) -> Result<Option<CivilDate>, FieldError> {
    match date {
        None => Ok(None),
        Some(d) if d.year == 0 && d.month == 0 && d.day == 0 => Ok(None),
        Some(d) => date_from_proto(d, field).map(Some),
    }
}

fn optional_text(text: &str) -> Option<&str> {
    let t = text.trim();
    (!t.is_empty()).then_some(t)
}

const MAX_NAME_CHARS: usize = 200;
const MAX_ADDRESS_CHARS: usize = 500;

fn bounded<'a>(text: &'a str, field: &str, max: usize) -> Result<Option<&'a str>, FieldError> {
    let t = optional_text(text);
    match t {
        Some(t) if t.chars().count() > max => Err(FieldError::new(
            FieldErrorKind::Other,
            field,
            format!(
                "must be at most {max} characters, got {}",
                t.chars().count()
            ),
        )),
        _ => Ok(t),
    }
}

/// Checks an old 9-digit CMND number: the first non-digit is named, else the length.
fn old_id_number(text: &str, field: &str) -> Result<(), FieldError> {
    let err = |description: String| FieldError::new(FieldErrorKind::Other, field, description);
    if let Some(bad) = text.chars().find(|c| !c.is_ascii_digit()) {
        return Err(err(format!("must contain only digits, found {bad:?}")));
    }
    if text.len() != 9 {
        return Err(err(format!(
            "must be the 9-digit CMND number, got {} digits",
            text.len()
        )));
    }
    Ok(())
}

/// A claim about one person, validated.
struct Claim<'a> {
    citizen_id: CitizenId,
    full_name: Option<&'a str>,
    date_of_birth: Option<CivilDate>,
    sex: Option<Sex>,
}

impl CitizenApi {
    /// A service reading from `population`, with ages and dates judged as of `reference`.
    pub fn new(population: Arc<dyn PopulationClient>, reference: CivilDate) -> Self {
        Self {
            population,
            reference,
        }
    }

    fn parse_id(&self, raw: &str, field: &str) -> Result<CitizenId, FieldError> {
        CitizenId::parse_at(raw, field, self.reference.year())
    }

    fn claim<'a>(
        &self,
        citizen_id: &str,
        full_name: &'a str,
        date_of_birth: Option<&types::Date>,
        sex: i32,
    ) -> Result<Claim<'a>, FieldError> {
        let citizen_id = self.parse_id(citizen_id, "citizen_id")?;
        let full_name = bounded(full_name, "full_name", MAX_NAME_CHARS)?;
        let date_of_birth = optional_date(date_of_birth, "date_of_birth")?;
        if let Some(d) = date_of_birth
            && d > self.reference
        {
            return Err(FieldError::new(
                FieldErrorKind::Date,
                "date_of_birth",
                format!("{d} is in the future"),
            ));
        }
        let sex = sex_of(sex, "sex")?;
        Ok(Claim {
            citizen_id,
            full_name,
            date_of_birth,
            sex,
        })
    }

    fn identity_checks(
        checks: &mut Checks,
        claim: &Claim<'_>,
        record: &sandbox06_proto::population::Citizen,
    ) {
        checks.name("full_name", claim.full_name, &record.full_name);
        match claim.date_of_birth {
            Some(d) => checks.push(
                "date_of_birth",
                verify::date_verdict(d, record.date_of_birth.as_ref()),
                "",
            ),
            None => checks.push("date_of_birth", api::FieldVerdict::NotProvided, ""),
        }
        match claim.sex {
            Some(s) => checks.push("sex", verify::sex_verdict(s, record.sex), ""),
            None => checks.push("sex", api::FieldVerdict::NotProvided, ""),
        }
    }
}

/// What the sandbox did, for the trace: masked number, persona, verdict (never names or dates).
fn trace_outcome(rpc: &str, record: &sandbox06_proto::population::Citizen, verdict: api::Verdict) {
    tracing::debug!(
        rpc,
        citizen = %sandbox06_runtime::mask::citizen_id(&record.citizen_id),
        persona = %record.persona,
        verdict = verdict.as_str_name(),
        "verified"
    );
}

type MatchStream = Pin<Box<dyn Stream<Item = Result<api::MatchCitizensResponse, Status>> + Send>>;

/// A record's failure that is not the caller's: the population database's.
fn upstream_record_error(e: &UpstreamError) -> api::RecordError {
    let (code, reason, message) = match e {
        UpstreamError::Unavailable(m) => (
            tonic::Code::Unavailable,
            Reason::UpstreamUnavailable,
            format!("population database unavailable, retry the record: {m}"),
        ),
        UpstreamError::Refused(s) => (
            tonic::Code::Internal,
            Reason::UpstreamFailed,
            format!("population database refused the request: {}", s.message()),
        ),
        UpstreamError::Failed(m) => (
            tonic::Code::Internal,
            Reason::UpstreamFailed,
            format!("population database failed: {m}"),
        ),
    };
    api::RecordError {
        code: code as i32,
        reason: reason.as_str().to_owned(),
        field: String::new(),
        message,
    }
}

fn upstream_failed(message: String) -> api::RecordError {
    upstream_record_error(&UpstreamError::Failed(message))
}

fn record_error(index: i64, key: String, e: &FieldError) -> api::MatchCitizensResponse {
    let reason: Reason = match e.kind {
        FieldErrorKind::CitizenId => Reason::InvalidCitizenId,
        FieldErrorKind::Date => Reason::InvalidDate,
        _ => Reason::InvalidArgument,
    };
    api::MatchCitizensResponse {
        record_key: key,
        index,
        result: Some(api::match_citizens_response::Result::Error(
            api::RecordError {
                code: tonic::Code::InvalidArgument as i32,
                reason: reason.as_str().to_owned(),
                field: e.field.clone(),
                message: e.description.clone(),
            },
        )),
    }
}

#[tonic::async_trait]
impl CitizenService for CitizenApi {
    async fn get_citizen(
        &self,
        request: Request<api::GetCitizenRequest>,
    ) -> Result<Response<api::GetCitizenResponse>, Status> {
        let req = request.into_inner();
        let id = self
            .parse_id(&req.citizen_id, "citizen_id")
            .map_err(invalid)?;
        let paths = req.read_mask.map(|m| m.paths).unwrap_or_default();
        read_mask::validate(&paths)?;
        let record = self
            .population
            .get(&id.to_string(), RecordView::Full)
            .await?
            .ok_or_else(|| not_found(&req.citizen_id))?;
        let citizen = read_mask::apply(convert::citizen(record), &paths)?;
        Ok(Response::new(api::GetCitizenResponse {
            citizen: Some(citizen),
        }))
    }

    async fn verify_citizen(
        &self,
        request: Request<api::VerifyCitizenRequest>,
    ) -> Result<Response<api::VerifyCitizenResponse>, Status> {
        let req = request.into_inner();
        let claim = self
            .claim(
                &req.citizen_id,
                &req.full_name,
                req.date_of_birth.as_ref(),
                req.sex,
            )
            .map_err(invalid)?;
        let address = bounded(&req.address, "address", MAX_ADDRESS_CHARS).map_err(invalid)?;
        let card_issue_date =
            optional_date(req.card_issue_date.as_ref(), "card_issue_date").map_err(invalid)?;
        let old_id = optional_text(&req.old_id_number);
        if let Some(old) = old_id {
            old_id_number(old, "old_id_number").map_err(invalid)?;
        }
        let record = self
            .population
            .get(&claim.citizen_id.to_string(), RecordView::Full)
            .await?
            .ok_or_else(|| not_found(&req.citizen_id))?;

        let mut checks = Checks::new();
        Self::identity_checks(&mut checks, &claim, &record);
        checks.address("address", address, &record);
        let (card_verdict, card_status) = match card_issue_date {
            Some(issued) => card_check(issued, &record),
            None => (api::FieldVerdict::NotProvided, current_card_status(&record)),
        };
        checks.push("card_issue_date", card_verdict, "");
        checks.old_id_number("old_id_number", old_id, &record.old_id_number);
        let card_usable = card_issue_date.is_none() || card_status == types::CardStatus::Valid;
        let verdict = checks.verdict(record.life_status, card_usable);
        trace_outcome("verify_citizen", &record, verdict);
        Ok(Response::new(api::VerifyCitizenResponse {
            verdict: verdict as i32,
            checks: checks.into_inner(),
            life_status: record.life_status,
            card_status: card_status as i32,
        }))
    }

    async fn verify_card_qr(
        &self,
        request: Request<api::VerifyCardQrRequest>,
    ) -> Result<Response<api::VerifyCardQrResponse>, Status> {
        let req = request.into_inner();
        let qr = CardQr::parse(&req.payload, self.reference.year()).map_err(invalid)?;
        let id = qr.citizen_id.to_string();
        let record = self
            .population
            .get(&id, RecordView::Full)
            .await?
            .ok_or_else(|| not_found(&id))?;

        let mut checks = Checks::new();
        let claim = Claim {
            citizen_id: qr.citizen_id,
            full_name: Some(&qr.full_name),
            date_of_birth: Some(qr.date_of_birth),
            sex: Some(qr.sex),
        };
        Self::identity_checks(&mut checks, &claim, &record);
        checks.old_id_number(
            "old_id_number",
            qr.old_id_number.as_deref(),
            &record.old_id_number,
        );
        let address = checks.address("address", optional_text(&qr.address), &record);
        let (card_verdict, card_status) = card_check(qr.issue_date, &record);
        checks.push("issue_date", card_verdict, "");
        let card_usable = card_status == types::CardStatus::Valid;
        let verdict = checks.verdict(record.life_status, card_usable);
        trace_outcome("verify_card_qr", &record, verdict);
        Ok(Response::new(api::VerifyCardQrResponse {
            card: Some(api::CardQr {
                citizen_id: id,
                old_id_number: qr.old_id_number.clone().unwrap_or_default(),
                full_name: qr.full_name.clone(),
                date_of_birth: Some(sandbox06_proto::dates::date_to_proto(qr.date_of_birth)),
                sex: match qr.sex {
                    Sex::Male => types::Sex::Male,
                    Sex::Female => types::Sex::Female,
                } as i32,
                address: qr.address.clone(),
                issue_date: Some(sandbox06_proto::dates::date_to_proto(qr.issue_date)),
            }),
            verdict: verdict as i32,
            checks: checks.into_inner(),
            life_status: record.life_status,
            card_status: card_status as i32,
            address_stale: address == verify::AddressVerdict::Previous,
        }))
    }

    type MatchCitizensStream = MatchStream;

    async fn match_citizens(
        &self,
        request: Request<Streaming<api::MatchCitizensRequest>>,
    ) -> Result<Response<Self::MatchCitizensStream>, Status> {
        Ok(Response::new(self.match_stream(request.into_inner())))
    }
}

impl CitizenApi {
    /// The results of a MatchCitizens stream: batches matched concurrently, order kept.
    fn match_stream<S>(&self, inbound: S) -> MatchStream
    where
        S: Stream<Item = Result<api::MatchCitizensRequest, Status>> + Send + 'static,
    {
        let service = self.clone();
        let mut next_index: i64 = 0;
        // The stream is polled after the handler returned, outside the call's span: each batch
        // re-enters it, so its upstream calls continue the caller's trace.
        let span = tracing::Span::current();
        let batches = inbound.ready_chunks(MATCH_BATCH).map(move |chunk| {
            let start = next_index;
            next_index += chunk.len() as i64;
            let service = service.clone();
            tracing::Instrument::instrument(
                async move { service.match_batch(start, chunk).await },
                span.clone(),
            )
        });
        let out = batches
            .buffered(MATCH_PIPELINE)
            .flat_map(futures::stream::iter);
        Box::pin(out)
    }

    /// Matches one batch of a MatchCitizens stream; a broken inbound stream ends the call.
    async fn match_batch(
        &self,
        start: i64,
        chunk: Vec<Result<api::MatchCitizensRequest, Status>>,
    ) -> Vec<Result<api::MatchCitizensResponse, Status>> {
        let mut out: Vec<Result<api::MatchCitizensResponse, Status>> =
            Vec::with_capacity(chunk.len());
        let mut claims = Vec::with_capacity(chunk.len());
        let mut lookup = Vec::with_capacity(chunk.len());
        for (offset, item) in chunk.into_iter().enumerate() {
            let index = start + offset as i64;
            match item {
                Err(status) => {
                    // The caller's stream broke (e.g. a message over the size limit): stop here.
                    claims.push(Err(status));
                    break;
                }
                Ok(req) => {
                    let parsed = self
                        .claim(
                            &req.citizen_id,
                            &req.full_name,
                            req.date_of_birth.as_ref(),
                            req.sex,
                        )
                        .map(|c| {
                            (
                                c.citizen_id,
                                c.full_name.map(str::to_owned),
                                c.date_of_birth,
                                c.sex,
                            )
                        });
                    if let Ok((id, ..)) = &parsed {
                        lookup.push(id.to_string());
                    }
                    claims.push(Ok((index, req.record_key, parsed)));
                }
            }
        }
        let records = if lookup.is_empty() {
            Ok(Vec::new())
        } else {
            self.population.batch_get(lookup, RecordView::Basic).await
        };
        // An upstream failure fails the batch's records, each on its own; the stream goes on.
        let mut records = records.map(Vec::into_iter);
        for claim in claims {
            let (index, key, parsed) = match claim {
                Err(status) => {
                    out.push(Err(status));
                    break;
                }
                Ok(c) => c,
            };
            let (id, full_name, date_of_birth, sex) = match parsed {
                Err(e) => {
                    out.push(Ok(record_error(index, key, &e)));
                    continue;
                }
                Ok(p) => p,
            };
            let wanted = id.to_string();
            let found = match &mut records {
                Err(e) => Err(upstream_record_error(e)),
                Ok(results) => match results.next() {
                    None => Err(upstream_failed(
                        "it returned fewer results than numbers asked".to_owned(),
                    )),
                    Some(r) if r.citizen_id != wanted => Err(upstream_failed(format!(
                        "it returned the result of another number ({}) in this record's place",
                        sandbox06_runtime::mask::citizen_id(&r.citizen_id)
                    ))),
                    Some(r) if !r.invalid_reason.is_empty() => Err(upstream_failed(format!(
                        "it refused a number the service accepted: {}",
                        r.invalid_reason
                    ))),
                    Some(r) => match r.citizen {
                        Some(c) if c.citizen_id != wanted => Err(upstream_failed(format!(
                            "it returned the record of another number ({}) in this record's place",
                            sandbox06_runtime::mask::citizen_id(&c.citizen_id)
                        ))),
                        other => Ok(other),
                    },
                },
            };
            let result = match found {
                Err(e) => api::match_citizens_response::Result::Error(e),
                Ok(None) => api::match_citizens_response::Result::Error(api::RecordError {
                    code: tonic::Code::NotFound as i32,
                    reason: Reason::CitizenNotFound.as_str().to_owned(),
                    field: "citizen_id".to_owned(),
                    message: "no citizen has this personal ID number".to_owned(),
                }),
                Ok(Some(record)) => {
                    let claim = Claim {
                        citizen_id: id,
                        full_name: full_name.as_deref(),
                        date_of_birth,
                        sex,
                    };
                    let mut checks = Checks::new();
                    Self::identity_checks(&mut checks, &claim, &record);
                    let verdict = checks.verdict(record.life_status, true);
                    let v = checks.into_inner();
                    let at = |i: usize| v.get(i).map_or(0, |c| c.verdict);
                    api::match_citizens_response::Result::Match(api::RecordMatch {
                        verdict: verdict as i32,
                        full_name: at(0),
                        date_of_birth: at(1),
                        sex: at(2),
                        life_status: record.life_status,
                    })
                }
            };
            out.push(Ok(api::MatchCitizensResponse {
                record_key: key,
                index,
                result: Some(result),
            }));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use sandbox06_proto::population as pb;
    use time::macros::date;

    use super::*;

    /// A population database that cannot be reached.
    struct Down;

    #[tonic::async_trait]
    impl PopulationClient for Down {
        async fn get(
            &self,
            _citizen_id: &str,
            _view: RecordView,
        ) -> Result<Option<pb::Citizen>, UpstreamError> {
            Err(UpstreamError::Unavailable("connection refused".into()))
        }

        async fn batch_get(
            &self,
            _citizen_ids: Vec<String>,
            _view: RecordView,
        ) -> Result<Vec<pb::BatchGetCitizensResult>, UpstreamError> {
            Err(UpstreamError::Unavailable("connection refused".into()))
        }
    }

    /// A population database answering in the wrong order.
    struct Reversed;

    #[tonic::async_trait]
    impl PopulationClient for Reversed {
        async fn get(
            &self,
            _citizen_id: &str,
            _view: RecordView,
        ) -> Result<Option<pb::Citizen>, UpstreamError> {
            Ok(None)
        }

        async fn batch_get(
            &self,
            citizen_ids: Vec<String>,
            _view: RecordView,
        ) -> Result<Vec<pb::BatchGetCitizensResult>, UpstreamError> {
            Ok(citizen_ids
                .into_iter()
                .rev()
                .map(|id| pb::BatchGetCitizensResult {
                    citizen: Some(pb::Citizen {
                        citizen_id: id.clone(),
                        ..Default::default()
                    }),
                    citizen_id: id,
                    invalid_reason: String::new(),
                })
                .collect())
        }
    }

    fn request(index: usize, citizen_id: &str) -> Result<api::MatchCitizensRequest, Status> {
        Ok(api::MatchCitizensRequest {
            record_key: format!("r{index}"),
            citizen_id: citizen_id.to_owned(),
            ..Default::default()
        })
    }

    fn error_of(response: &api::MatchCitizensResponse) -> &api::RecordError {
        match &response.result {
            Some(api::match_citizens_response::Result::Error(e)) => e,
            other => panic!(
                "record {}: expected an error, got {other:?}",
                response.index
            ),
        }
    }

    #[tokio::test]
    async fn an_unavailable_upstream_fails_each_record_and_the_stream_goes_on() {
        let api = CitizenApi::new(Arc::new(Down), date!(2026 - 11 - 27));
        // More than one batch, with a malformed number in each.
        let total = MATCH_BATCH + 100;
        let bad = [3, MATCH_BATCH + 7];
        let requests: Vec<_> = (0..total)
            .map(|i| {
                let id = if bad.contains(&i) {
                    "12345"
                } else if i % 2 == 0 {
                    "001090012345"
                } else {
                    "079195034567"
                };
                request(i, id)
            })
            .collect();
        let out: Vec<_> = api
            .match_stream(futures::stream::iter(requests))
            .collect()
            .await;
        assert_eq!(out.len(), total, "one result per record, none dropped");
        for (i, response) in out.into_iter().enumerate() {
            let response = response.unwrap();
            assert_eq!(response.index, i as i64);
            assert_eq!(response.record_key, format!("r{i}"));
            let e = error_of(&response);
            if bad.contains(&i) {
                assert_eq!(e.code, tonic::Code::InvalidArgument as i32, "{e:?}");
                assert_eq!(e.field, "citizen_id");
            } else {
                assert_eq!(e.code, tonic::Code::Unavailable as i32, "{e:?}");
                assert_eq!(e.reason, "UPSTREAM_UNAVAILABLE");
                assert!(e.field.is_empty(), "{e:?}");
                assert!(e.message.contains("unavailable"), "{}", e.message);
            }
        }
    }

    #[tokio::test]
    async fn results_for_other_numbers_are_not_matched() {
        let api = CitizenApi::new(Arc::new(Reversed), date!(2026 - 11 - 27));
        let requests = vec![request(0, "001090012345"), request(1, "079195034567")];
        let out: Vec<_> = api
            .match_stream(futures::stream::iter(requests))
            .collect()
            .await;
        assert_eq!(out.len(), 2);
        for response in out {
            let e = error_of(response.as_ref().unwrap()).clone();
            assert_eq!(e.code, tonic::Code::Internal as i32, "{e:?}");
            assert_eq!(e.reason, "UPSTREAM_FAILED");
        }
    }

    #[test]
    fn old_id_numbers_name_the_first_non_digit_else_the_length() {
        let e = old_id_number("12345678a", "old_id_number").unwrap_err();
        assert_eq!(e.description, "must contain only digits, found 'a'");
        assert_eq!(e.field, "old_id_number");
        let e = old_id_number("1234567", "old_id_number").unwrap_err();
        assert_eq!(
            e.description,
            "must be the 9-digit CMND number, got 7 digits"
        );
        assert!(old_id_number("012345678", "old_id_number").is_ok());
    }
}
