//! GetCitizen, VerifyCitizen and VerifyCardQr: one validated request, one upstream lookup, one
//! answer or a [`CitizenError`].

use sandbox06_proto::{
    citizen as api,
    dates::date_to_proto,
    population::{Citizen as Record, RecordView},
    types,
};
use sandbox06_vn::{CardQr, CitizenId, QrForm, Sex};

use super::{
    CitizenApi,
    claim::{
        Claim, MAX_ADDRESS_CHARS, bounded, collect, nothing_claimed, old_id_number, optional_date,
        optional_text,
    },
    convert, read_mask,
    verify::{self, Checks, card_check, current_card_status},
};
use crate::error::CitizenError;

/// What the sandbox did, for the trace: masked number, persona, verdict (never names or dates).
fn trace_outcome(rpc: &str, record: &Record, verdict: api::Verdict) {
    tracing::debug!(
        rpc,
        citizen = %sandbox06_runtime::mask::citizen_id(&record.citizen_id),
        persona = %record.persona,
        verdict = verdict.as_str_name(),
        "verified"
    );
}

impl CitizenApi {
    /// The full record of `id`, which the caller sent as `field` (`shown` as they wrote it).
    async fn record(
        &self,
        id: CitizenId,
        field: &str,
        shown: &str,
    ) -> Result<Record, CitizenError> {
        self.record_in(id, RecordView::Full, field, shown).await
    }

    /// [`Self::record`] in `view`.
    async fn record_in(
        &self,
        id: CitizenId,
        view: RecordView,
        field: &str,
        shown: &str,
    ) -> Result<Record, CitizenError> {
        self.population
            .get(&id.to_string(), view)
            .await
            .map_err(|e| CitizenError::upstream(e, field))?
            .ok_or_else(|| CitizenError::not_found(shown))
    }

    /// GetCitizen: the record, reduced to the read mask, read in the narrowest view of the
    /// population database that holds what the mask keeps ([`read_mask::Mask::view`]).
    pub(super) async fn get(
        &self,
        req: api::GetCitizenRequest,
    ) -> Result<api::GetCitizenResponse, CitizenError> {
        let id = self.parse_id(&req.citizen_id, "citizen_id")?;
        let paths = req.read_mask.map(|m| m.paths).unwrap_or_default();
        let mask = read_mask::validate(&paths)?;
        let record = self
            .record_in(id, mask.view(), "citizen_id", &req.citizen_id)
            .await?;
        let citizen = read_mask::apply(convert::citizen(record), &mask)?;
        Ok(api::GetCitizenResponse {
            citizen: Some(citizen),
        })
    }

    /// VerifyCitizen: a verdict per claimed field, and one overall.
    pub(super) async fn verify(
        &self,
        req: api::VerifyCitizenRequest,
    ) -> Result<api::VerifyCitizenResponse, CitizenError> {
        // Every bad field is reported at once, not just the first.
        let mut bad = Vec::new();
        let claim = self.claim_all(
            &req.citizen_id,
            &req.full_name,
            req.date_of_birth.as_ref(),
            req.sex,
            &mut bad,
        );
        let address = collect(
            bounded(&req.address, "address", MAX_ADDRESS_CHARS),
            &mut bad,
        )
        .flatten();
        let card_issue_date = collect(
            optional_date(req.card_issue_date.as_ref(), "card_issue_date"),
            &mut bad,
        )
        .flatten();
        let old_id = optional_text(&req.old_id_number);
        if let Some(old) = old_id {
            collect(old_id_number(old, "old_id_number"), &mut bad);
        }
        let claim = match claim {
            Some(claim) if bad.is_empty() => claim,
            _ => return Err(CitizenError::Fields(bad)),
        };
        // A claim of nothing would be verified as a match: refuse it instead.
        if claim.is_empty() && address.is_none() && card_issue_date.is_none() && old_id.is_none() {
            return Err(nothing_claimed(
                "full_name, date_of_birth, sex, address, card_issue_date or old_id_number",
            )
            .into());
        }
        let record = self
            .record(claim.citizen_id, "citizen_id", &req.citizen_id)
            .await?;

        let mut checks = Checks::new();
        claim.check(&mut checks, &record);
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
        Ok(api::VerifyCitizenResponse {
            verdict: verdict as i32,
            checks: checks.into_inner(),
            life_status: record.life_status,
            card_status: card_status as i32,
        })
    }

    /// VerifyCardQr: the card's fields against the record.
    pub(super) async fn verify_qr(
        &self,
        req: api::VerifyCardQrRequest,
    ) -> Result<api::VerifyCardQrResponse, CitizenError> {
        let qr = CardQr::parse(&req.payload, self.today().year())?;
        let id = qr.citizen_id.to_string();
        let record = self
            .record(qr.citizen_id, "payload.citizen_id", &id)
            .await?;

        let mut checks = Checks::new();
        let claim = Claim {
            citizen_id: qr.citizen_id,
            full_name: Some(qr.full_name.clone()),
            date_of_birth: Some(qr.date_of_birth),
            sex: Some(qr.sex),
        };
        claim.check(&mut checks, &record);
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
        Ok(api::VerifyCardQrResponse {
            card: Some(api::CardQr {
                citizen_id: id,
                old_id_number: qr.old_id_number.clone().unwrap_or_default(),
                full_name: qr.full_name.clone(),
                date_of_birth: Some(date_to_proto(qr.date_of_birth)),
                sex: match qr.sex {
                    Sex::Male => types::Sex::Male,
                    Sex::Female => types::Sex::Female,
                } as i32,
                address: qr.address.clone(),
                issue_date: Some(date_to_proto(qr.issue_date)),
            }),
            verdict: verdict as i32,
            checks: checks.into_inner(),
            life_status: record.life_status,
            card_status: card_status as i32,
            address_stale: address == verify::AddressVerdict::Previous,
            qr_form: match qr.form {
                QrForm::ChipCccd7 => api::QrForm::ChipCccd7Fields,
                QrForm::CanCuoc11 => api::QrForm::CanCuoc11Fields,
            } as i32,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sandbox06_proto::{citizen::citizen_service_server::CitizenService, population as pb};
    use sandbox06_runtime::{
        ApiError, Reason,
        error::{field_violations_of, reason_of},
    };
    use time::macros::date;
    use tonic::{Code, Request, Status};

    use super::*;
    use crate::population::{PopulationClient, UpstreamError};

    /// A population database that refuses every number it is asked for, as its own adapter
    /// would: with its own field path.
    struct Refusing;

    #[tonic::async_trait]
    impl PopulationClient for Refusing {
        async fn get(
            &self,
            _citizen_id: &str,
            _view: RecordView,
        ) -> Result<Option<pb::Citizen>, UpstreamError> {
            let status: Status = ApiError::invalid_field(
                Reason::InvalidArgument,
                "citizen_id",
                "is retired in this database",
            )
            .into();
            Err(crate::population::failure(&status))
        }

        async fn batch_identities(
            &self,
            _citizen_ids: Vec<String>,
        ) -> Result<Vec<crate::population::IdentityResult>, UpstreamError> {
            Ok(Vec::new())
        }
    }

    fn fields(status: &Status) -> Vec<String> {
        field_violations_of(status)
            .into_iter()
            .map(|v| v.field)
            .collect()
    }

    #[tokio::test]
    async fn a_refused_number_is_named_by_the_callers_field() {
        let api = CitizenApi::new(Arc::new(Refusing), date!(2026 - 11 - 27));
        let status = api
            .get_citizen(Request::new(api::GetCitizenRequest {
                citizen_id: "001090012345".into(),
                read_mask: None,
            }))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(reason_of(&status).as_deref(), Some("INVALID_ARGUMENT"));
        assert_eq!(fields(&status), ["citizen_id"]);
        assert_eq!(status.message(), "citizen_id: is retired in this database");

        // In a card QR, the number is a part of the payload.
        let payload =
            "001090012345|264123456|Nguyễn Văn An|01011990|Nam|Thôn 1, Xã An Khánh|15042021";
        let status = api
            .verify_card_qr(Request::new(api::VerifyCardQrRequest {
                payload: payload.into(),
            }))
            .await
            .unwrap_err();
        assert_eq!(fields(&status), ["payload.citizen_id"]);
    }

    /// A population database that knows one citizen and notes the views it is asked for.
    #[derive(Default)]
    struct Noting {
        views: std::sync::Mutex<Vec<RecordView>>,
    }

    #[tonic::async_trait]
    impl PopulationClient for Noting {
        async fn get(
            &self,
            citizen_id: &str,
            view: RecordView,
        ) -> Result<Option<pb::Citizen>, UpstreamError> {
            self.views.lock().unwrap().push(view);
            Ok(Some(pb::Citizen {
                citizen_id: citizen_id.to_owned(),
                full_name: "Nguyễn Văn An".into(),
                ethnicity: "Kinh".into(),
                ..Default::default()
            }))
        }

        async fn batch_identities(
            &self,
            _citizen_ids: Vec<String>,
        ) -> Result<Vec<crate::population::IdentityResult>, UpstreamError> {
            Ok(Vec::new())
        }
    }

    #[tokio::test]
    async fn a_mask_of_identity_fields_reads_the_basic_view() {
        let population = Arc::new(Noting::default());
        let api = CitizenApi::new(population.clone(), date!(2026 - 11 - 27));
        let get = |paths: &[&str]| api::GetCitizenRequest {
            citizen_id: "001090012345".into(),
            read_mask: (!paths.is_empty()).then(|| prost_types::FieldMask {
                paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            }),
        };
        let answer = api
            .get_citizen(Request::new(get(&["full_name", "card.status"])))
            .await
            .unwrap()
            .into_inner();
        let citizen = answer.citizen.unwrap();
        assert_eq!(citizen.full_name, "Nguyễn Văn An");
        assert_eq!(citizen.citizen_id, "");
        for paths in [&[][..], &["full_name", "ethnicity"]] {
            api.get_citizen(Request::new(get(paths))).await.unwrap();
        }
        assert_eq!(
            *population.views.lock().unwrap(),
            [RecordView::Basic, RecordView::Full, RecordView::Full]
        );
    }
}
