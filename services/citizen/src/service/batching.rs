//! MatchCitizens as a stream: records grouped in batches, one upstream call per batch,
//! batches pipelined with their order kept. Each record's result is `matching`'s.

use futures::{Stream, StreamExt};
use sandbox06_proto::citizen as api;
use tonic::Status;

use super::{
    CitizenApi, MatchStream,
    claim::nothing_claimed,
    matching::{malformed_record, match_record},
};

/// Records matched per upstream batch in MatchCitizens.
const MATCH_BATCH: usize = 512;
/// Batches in flight at once in MatchCitizens (order is kept).
const MATCH_PIPELINE: usize = 4;

impl CitizenApi {
    /// The results of a MatchCitizens stream: batches matched concurrently, order kept.
    pub(super) fn match_stream<S>(&self, inbound: S) -> MatchStream
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
        let mut out = Vec::with_capacity(chunk.len());
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
                    // The rule of VerifyCitizen: a record that claims nothing besides its
                    // number is refused, before any lookup, rather than matched.
                    let claim = self
                        .claim(
                            &req.citizen_id,
                            &req.full_name,
                            req.date_of_birth.as_ref(),
                            req.sex,
                        )
                        .and_then(|claim| {
                            if claim.is_empty() {
                                Err(nothing_claimed("full_name, date_of_birth or sex"))
                            } else {
                                Ok(claim)
                            }
                        });
                    if let Ok(claim) = &claim {
                        lookup.push(claim.citizen_id.to_string());
                    }
                    claims.push(Ok((index, req.record_key, claim)));
                }
            }
        }
        let records = if lookup.is_empty() {
            Ok(Vec::new())
        } else {
            self.population.batch_identities(lookup).await
        };
        // An upstream failure fails the batch's records, each on its own; the stream goes on.
        let mut records = records.map(Vec::into_iter);
        for claim in claims {
            let (index, record_key, claim) = match claim {
                Err(status) => {
                    out.push(Err(status));
                    break;
                }
                Ok(c) => c,
            };
            let result = match claim {
                Err(e) => malformed_record(e),
                Ok(claim) => {
                    let answer = match &mut records {
                        Err(e) => Err(&*e),
                        Ok(results) => Ok(results.next()),
                    };
                    match_record(&claim, answer)
                }
            };
            out.push(Ok(api::MatchCitizensResponse {
                record_key,
                index,
                result: Some(result),
            }));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sandbox06_proto::population::{self as pb, RecordView};
    use time::macros::date;

    use super::*;
    use crate::population::{
        BACKEND, Identity, IdentityResult, PopulationClient, SYSTEM, UpstreamError,
    };

    /// A population database that cannot be reached.
    struct Down;

    #[tonic::async_trait]
    impl PopulationClient for Down {
        async fn get(
            &self,
            _citizen_id: &str,
            _view: RecordView,
        ) -> Result<Option<pb::Citizen>, UpstreamError> {
            Err(UpstreamError::unavailable(BACKEND, SYSTEM))
        }

        async fn batch_identities(
            &self,
            _citizen_ids: Vec<String>,
        ) -> Result<Vec<IdentityResult>, UpstreamError> {
            Err(UpstreamError::unavailable(BACKEND, SYSTEM))
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

        async fn batch_identities(
            &self,
            citizen_ids: Vec<String>,
        ) -> Result<Vec<IdentityResult>, UpstreamError> {
            Ok(citizen_ids
                .into_iter()
                .rev()
                .map(|id| IdentityResult {
                    citizen: Some(Identity {
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
            full_name: "Nguyễn Văn An".to_owned(),
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
                assert!(e.message.contains("cannot be reached"), "{}", e.message);
                // What the transport said is logged, not answered.
                assert!(!e.message.contains("connection refused"), "{}", e.message);
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

    /// A population database where every number is Nguyễn Văn An, counting the numbers it is
    /// asked for.
    #[derive(Default)]
    struct Everyone {
        asked: std::sync::atomic::AtomicUsize,
    }

    fn an(id: &str) -> pb::Citizen {
        pb::Citizen {
            citizen_id: id.to_owned(),
            full_name: "Nguyễn Văn An".into(),
            sex: sandbox06_proto::types::Sex::Male as i32,
            life_status: sandbox06_proto::types::LifeStatus::Alive as i32,
            ..Default::default()
        }
    }

    fn identity(id: &str) -> Identity {
        let an = an(id);
        Identity {
            citizen_id: an.citizen_id,
            full_name: an.full_name,
            date_of_birth: an.date_of_birth,
            sex: an.sex,
            life_status: an.life_status,
        }
    }

    #[tonic::async_trait]
    impl PopulationClient for Everyone {
        async fn get(
            &self,
            citizen_id: &str,
            _view: RecordView,
        ) -> Result<Option<pb::Citizen>, UpstreamError> {
            self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(Some(an(citizen_id)))
        }

        async fn batch_identities(
            &self,
            citizen_ids: Vec<String>,
        ) -> Result<Vec<IdentityResult>, UpstreamError> {
            self.asked
                .fetch_add(citizen_ids.len(), std::sync::atomic::Ordering::SeqCst);
            Ok(citizen_ids
                .into_iter()
                .map(|id| IdentityResult {
                    citizen: Some(identity(&id)),
                    citizen_id: id,
                    invalid_reason: String::new(),
                })
                .collect())
        }
    }

    #[tokio::test]
    async fn a_claim_of_nothing_is_refused_alike_by_verify_and_match() {
        use sandbox06_proto::citizen::citizen_service_server::CitizenService as _;
        use sandbox06_runtime::error::{field_violations_of, reason_of};
        let population = Arc::new(Everyone::default());
        let api = CitizenApi::new(population.clone(), date!(2026 - 11 - 27));
        // (name, sex): nothing, blanks only, then a real claim.
        for (name, sex, refused) in [
            ("", 0, true),
            ("   ", 0, true),
            ("Nguyễn Văn An", 0, false),
            ("", sandbox06_proto::types::Sex::Male as i32, false),
        ] {
            let before = population.asked.load(std::sync::atomic::Ordering::SeqCst);
            let verified = api
                .verify_citizen(tonic::Request::new(api::VerifyCitizenRequest {
                    citizen_id: "001090012345".into(),
                    full_name: name.into(),
                    sex,
                    ..Default::default()
                }))
                .await;
            let matched: Vec<_> = api
                .match_stream(futures::stream::iter([Ok(api::MatchCitizensRequest {
                    record_key: "a".into(),
                    citizen_id: "001090012345".into(),
                    full_name: name.into(),
                    sex,
                    ..Default::default()
                })]))
                .collect()
                .await;
            let matched = matched[0].as_ref().unwrap().result.clone().unwrap();
            if refused {
                let status = verified.unwrap_err();
                let api::match_citizens_response::Result::Error(e) = matched else {
                    panic!("{name:?}: MatchCitizens matched a claim of nothing: {matched:?}");
                };
                assert_eq!(status.code(), tonic::Code::InvalidArgument);
                assert_eq!(e.code, status.code() as i32, "{name:?}");
                assert_eq!(Some(e.reason.as_str()), reason_of(&status).as_deref());
                let fields: Vec<String> = field_violations_of(&status)
                    .into_iter()
                    .map(|v| v.field)
                    .collect();
                assert_eq!(fields, std::slice::from_ref(&e.field));
                assert_eq!(e.field, "full_name");
                assert!(
                    e.message
                        .starts_with("claim at least one field besides citizen_id"),
                    "{}",
                    e.message
                );
                // Refused before any lookup, as a malformed record is.
                assert_eq!(
                    population.asked.load(std::sync::atomic::Ordering::SeqCst),
                    before
                );
            } else {
                let verdict = verified.unwrap().into_inner().verdict;
                let api::match_citizens_response::Result::Match(m) = matched else {
                    panic!("{name:?}: {matched:?}");
                };
                assert_eq!(verdict, api::Verdict::Match as i32);
                assert_eq!(m.verdict, verdict);
            }
        }
    }
}
