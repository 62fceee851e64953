//! The data subjects' consents (`ConsentService`): what a citizen allows a recipient to receive
//! from one data service for one purpose, until a day, until withdrawn.
//!
//! A holder's consents are one list in the store (`vneid:consents:{<citizen_id>}`), each change
//! appended as the consent's whole new state (given, then withdrawn): the last state of each id
//! is the consent. Consents outlive nothing else: a reset clears them with the rest.

use prost::Message as _;
use sandbox06_proto::{
    dates::{date_from_proto, date_to_proto},
    vneid::{self as pb, consent_service_server::ConsentService},
};
use sandbox06_runtime::{clock::timestamp_to_proto, mask};
use sandbox06_vn::{CitizenId, FieldError, FieldErrorKind, printable_token};
use sandbox06_world::rules::add_years;
use tonic::{Request, Response, Status};

use crate::{Vneid, VneidError};

/// Longest recipient, service code or purpose.
const MAX_TEXT: usize = 64;
/// Longest term of a consent, in years.
const MAX_YEARS: i32 = 5;

fn consents_key(citizen_id: &str) -> String {
    format!("vneid:consents:{{{citizen_id}}}")
}

impl Vneid {
    /// Every consent of a holder, as its last state, newest first.
    async fn consents_of(&self, citizen_id: &str) -> Result<Vec<pb::Consent>, VneidError> {
        let mut latest: Vec<pb::Consent> = Vec::new();
        for bytes in self.store.list(&consents_key(citizen_id)).await? {
            let Ok(consent) = pb::Consent::decode(bytes.as_slice()) else {
                continue;
            };
            match latest
                .iter_mut()
                .find(|c| c.consent_id == consent.consent_id)
            {
                Some(slot) => *slot = consent,
                None => latest.push(consent),
            }
        }
        latest.reverse();
        Ok(latest)
    }

    /// GiveConsent.
    pub async fn give_consent(
        &self,
        req: pb::GiveConsentRequest,
    ) -> Result<pb::Consent, VneidError> {
        CitizenId::parse_field(&req.citizen_id, "citizen_id")?;
        printable_token(&req.recipient, "recipient", MAX_TEXT, true)?;
        printable_token(&req.service_code, "service_code", MAX_TEXT, true)?;
        printable_token(&req.purpose, "purpose", MAX_TEXT, true)?;
        let today = self.clock.today();
        let latest = add_years(today, MAX_YEARS);
        let valid_until = match &req.valid_until {
            None => add_years(today, 1),
            Some(date) => {
                let day = date_from_proto(date, "valid_until")?;
                if day < today || day > latest {
                    return Err(FieldError::new(
                        FieldErrorKind::Date,
                        "valid_until",
                        format!("a consent runs from today ({today}) to at most {latest}"),
                    )
                    .into());
                }
                day
            }
        };
        let found = self.find(&req.citizen_id).await?;
        found.usable()?;
        // Named by what it allows and how many the holder gave before: the same in every
        // suite that records the same consents (a test can name it), never one id twice.
        let given = self.consents_of(&found.account.citizen_id).await?.len();
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        for part in [
            found.account.citizen_id.as_str(),
            &req.recipient,
            &req.service_code,
            &req.purpose,
            &given.to_string(),
        ] {
            ctx.update(part.as_bytes());
            ctx.update(&[0]);
        }
        let id = sandbox06_runtime::digest::hex(&ctx.finish().as_ref()[..6]).to_ascii_uppercase();
        let consent = pb::Consent {
            consent_id: format!("CS-{id}"),
            citizen_id: found.account.citizen_id,
            recipient: req.recipient,
            service_code: req.service_code,
            purpose: req.purpose,
            give_time: Some(timestamp_to_proto(self.clock.now())),
            valid_until: Some(date_to_proto(valid_until)),
            withdraw_time: None,
        };
        self.store
            .append(&consents_key(&consent.citizen_id), &consent.encode_to_vec())
            .await?;
        tracing::info!(
            citizen = %mask::citizen_id(&consent.citizen_id),
            recipient = %consent.recipient,
            service = %consent.service_code,
            "consent given"
        );
        Ok(consent)
    }

    /// WithdrawConsent.
    pub async fn withdraw_consent(
        &self,
        req: pb::WithdrawConsentRequest,
    ) -> Result<pb::Consent, VneidError> {
        let holder = CitizenId::parse_field(&req.citizen_id, "citizen_id")?.to_string();
        let Some(mut consent) = self
            .consents_of(&holder)
            .await?
            .into_iter()
            .find(|c| c.consent_id == req.consent_id)
        else {
            return Err(VneidError::ConsentNotFound(format!(
                "the holder has no consent {:?}",
                req.consent_id
            )));
        };
        if consent.withdraw_time.is_none() {
            consent.withdraw_time = Some(timestamp_to_proto(self.clock.now()));
            self.store
                .append(&consents_key(&consent.citizen_id), &consent.encode_to_vec())
                .await?;
        }
        Ok(consent)
    }

    /// CheckConsent.
    pub async fn check_consent(
        &self,
        req: pb::CheckConsentRequest,
    ) -> Result<pb::CheckConsentResponse, VneidError> {
        let holder = CitizenId::parse_field(&req.citizen_id, "citizen_id")?.to_string();
        let today = self.clock.today();
        let consent = self
            .consents_of(&holder)
            .await?
            .into_iter()
            .find(|c| {
                c.recipient == req.recipient
                    && c.service_code == req.service_code
                    && c.purpose == req.purpose
                    && c.withdraw_time.is_none()
                    && c.valid_until
                        .as_ref()
                        .and_then(|d| date_from_proto(d, "valid_until").ok())
                        .is_some_and(|until| until >= today)
            })
            .ok_or_else(|| {
                VneidError::ConsentNotFound(
                    "the holder has no consent in force for this recipient, data service and purpose"
                        .into(),
                )
            })?;
        Ok(pb::CheckConsentResponse {
            consent: Some(consent),
        })
    }
}

fn respond<T>(answer: Result<T, VneidError>) -> Result<Response<T>, Status> {
    answer.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl ConsentService for Vneid {
    async fn give_consent(
        &self,
        request: Request<pb::GiveConsentRequest>,
    ) -> Result<Response<pb::Consent>, Status> {
        respond(Vneid::give_consent(self, request.into_inner()).await)
    }

    async fn withdraw_consent(
        &self,
        request: Request<pb::WithdrawConsentRequest>,
    ) -> Result<Response<pb::Consent>, Status> {
        respond(Vneid::withdraw_consent(self, request.into_inner()).await)
    }

    async fn list_consents(
        &self,
        request: Request<pb::ListConsentsRequest>,
    ) -> Result<Response<pb::ListConsentsResponse>, Status> {
        let request = request.into_inner();
        respond(
            async {
                CitizenId::parse_field(&request.citizen_id, "citizen_id")?;
                Ok(pb::ListConsentsResponse {
                    consents: self.consents_of(&request.citizen_id).await?,
                })
            }
            .await,
        )
    }

    async fn check_consent(
        &self,
        request: Request<pb::CheckConsentRequest>,
    ) -> Result<Response<pb::CheckConsentResponse>, Status> {
        respond(Vneid::check_consent(self, request.into_inner()).await)
    }
}
