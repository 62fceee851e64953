//! Share codes: the VNeID app's QR check-in at a lodging facility (`ShareCodeService`).
//!
//! A share code is a compact JWS (ES256) signed with the mock's own key, whose claims name the
//! holder (`sub`), the one facility it is for (`aud`, `facilities/{id}`), when it was issued
//! and expires (`iat`, `exp`, on the suite's clock), a unique id (`jti`) and the mock as issuer
//! (`iss`). The key lives in the state store under a kept prefix ([`KEPT`]): created once by
//! whichever replica needs it first, shared by every replica on one Redis and every tenant,
//! and left by resets, restores and restarts, so codes already shown stay redeemable.
//!
//! A code is redeemed once: the redemption marks its `jti` used with `put_if_absent`, kept
//! until the code expires, so two replicas on one Redis cannot both redeem it.

use std::sync::Arc;
use std::time::Duration;

use sandbox06_jose::{Alg, SigningKey, VerifyingKey};
use sandbox06_proto::{
    population as pop,
    vneid::{self as pb, share_code_service_server::ShareCodeService},
};
use sandbox06_store::Store;
use sandbox06_vn::{CitizenId, FieldError, FieldErrorKind};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;
use tonic::{Request, Response, Status};

use crate::{Found, Vneid, VneidError};

/// Store key of the share codes' signing key (PKCS#8 DER).
const KEY_KEY: &str = "vneid:share-key";

/// The keys of the VNeID mock's store that are configuration, not state: the share codes'
/// signing key. Every tenant shares them, and resets and restores leave them.
pub const KEPT: &[&str] = &[KEY_KEY];

/// The `iss` of every share code.
pub const ISSUER: &str = "vneid-mock";

/// The `typ` of a share code's header.
const TYP: &str = "vneid-share+jwt";

/// Seconds a code is good for when the request says 0.
pub const DEFAULT_TTL_SECONDS: i32 = 120;
/// The shortest and longest lifetimes a request may ask for, seconds.
pub const TTL_SECONDS: std::ops::RangeInclusive<i32> = 30..=600;

/// The prefix of a facility's name.
const FACILITY_PREFIX: &str = "facilities/";

/// Store key marking a code's `jti` redeemed.
fn used_key(jti: &str) -> String {
    format!("vneid:share-used:{{{jti}}}")
}

/// A share code's claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    iat: i64,
    exp: i64,
    jti: String,
}

/// The share codes' signing key: read from the store, or created there, on first use.
#[derive(Debug)]
pub struct ShareKey {
    store: Arc<dyn Store>,
    key: OnceCell<(SigningKey, VerifyingKey)>,
}

impl ShareKey {
    /// The key kept in `store`; nothing is read until first needed.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            key: OnceCell::new(),
        }
    }

    /// The key, with its public half.
    async fn get(&self) -> Result<&(SigningKey, VerifyingKey), VneidError> {
        self.key.get_or_try_init(|| self.load()).await
    }

    /// Reads the key from the store, creating it first when absent (a replica that loses the
    /// race to store one takes the winner's).
    async fn load(&self) -> Result<(SigningKey, VerifyingKey), VneidError> {
        let der = match self.store.get(KEY_KEY).await? {
            Some(der) => der,
            None => {
                let fresh = SigningKey::generate(Alg::Es256).map_err(key_error)?;
                if self
                    .store
                    .put_if_absent(KEY_KEY, fresh.pkcs8(), None)
                    .await?
                {
                    fresh.pkcs8().to_vec()
                } else {
                    self.store.get(KEY_KEY).await?.ok_or_else(|| {
                        key_error("the share key vanished from the store after it was stored")
                    })?
                }
            }
        };
        let key = SigningKey::from_pkcs8(Alg::Es256, None, der).map_err(key_error)?;
        let public = key.public_jwk().verifying_key().map_err(key_error)?;
        Ok((key, public))
    }
}

/// The share key cannot be made or read: logged here, answered in the suite's words.
fn key_error(error: impl std::fmt::Display) -> VneidError {
    tracing::error!(error = %error, "share code key not usable");
    VneidError::ShareKey(error.to_string())
}

/// `facility` as `facilities/{id}`; refused naming `field` otherwise.
fn facility(value: &str, field: &'static str) -> Result<String, VneidError> {
    let id = value.strip_prefix(FACILITY_PREFIX).unwrap_or_default();
    let fine = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if fine {
        Ok(value.to_owned())
    } else {
        let description = if value.is_empty() {
            "required: the facility as facilities/{facility_id}".to_owned()
        } else {
            "must be facilities/{facility_id}, the id 1 to 64 letters, digits, '-', '_' or '.'"
                .to_owned()
        };
        Err(FieldError::new(FieldErrorKind::Other, field, description).into())
    }
}

/// The lifetime a request asks for, seconds.
fn ttl_seconds(asked: i32) -> Result<i64, VneidError> {
    match asked {
        0 => Ok(i64::from(DEFAULT_TTL_SECONDS)),
        s if TTL_SECONDS.contains(&s) => Ok(i64::from(s)),
        _ => Err(FieldError::new(
            FieldErrorKind::Other,
            "ttl_seconds",
            format!(
                "must be {} to {} seconds, or 0 for {DEFAULT_TTL_SECONDS}",
                TTL_SECONDS.start(),
                TTL_SECONDS.end()
            ),
        )
        .into()),
    }
}

/// `unix` seconds as a timestamp.
fn timestamp(unix: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: unix,
        nanos: 0,
    }
}

/// `unix` seconds as RFC 3339.
fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// The data a code releases, from the holder's record.
fn shared(found: Found) -> pb::SharedCitizen {
    let residence_address = found
        .address
        .and_then(|address| address.current.or(address.pre_2025))
        .map(|address| address.text)
        .unwrap_or_default();
    let account = found.account;
    pb::SharedCitizen {
        citizen_id: account.citizen_id,
        full_name: account.full_name,
        date_of_birth: account.date_of_birth,
        sex: account.sex,
        residence_address,
        level: account.level,
    }
}

impl Vneid {
    /// Issues a share code of `request.citizen_id`'s data for `request.facility`.
    pub async fn issue_share_code(
        &self,
        request: pb::IssueShareCodeRequest,
    ) -> Result<pb::IssueShareCodeResponse, VneidError> {
        CitizenId::parse_field(&request.citizen_id, "citizen_id")?;
        let aud = facility(&request.facility, "facility")?;
        let ttl = ttl_seconds(request.ttl_seconds)?;
        let found = self.find(&request.citizen_id).await?;
        found.usable()?;
        let (key, _) = self.share_key.get().await?;
        let now = self.clock.unix_seconds();
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub: found.account.citizen_id,
            aud,
            iat: now,
            exp: now + ttl,
            jti: sandbox06_jose::random_token(16),
        };
        let share_code = key.sign(TYP, &claims).map_err(key_error)?;
        Ok(pb::IssueShareCodeResponse {
            share_code,
            expire_time: Some(timestamp(claims.exp)),
        })
    }

    /// Redeems `request.share_code` for `request.facility`: the holder's data.
    pub async fn redeem_share_code(
        &self,
        request: pb::RedeemShareCodeRequest,
    ) -> Result<pb::RedeemShareCodeResponse, VneidError> {
        if request.share_code.trim().is_empty() {
            return Err(FieldError::new(
                FieldErrorKind::Other,
                "share_code",
                "required: the share code exactly as scanned",
            )
            .into());
        }
        let redeemer = facility(&request.facility, "facility")?;
        let claims = self.verify(request.share_code.trim()).await?;
        let now = self.clock.unix_seconds();
        if now >= claims.exp {
            return Err(VneidError::ShareCodeExpired {
                expire_time: rfc3339(claims.exp),
            });
        }
        if claims.aud != redeemer {
            return Err(VneidError::ShareCodeOtherFacility);
        }
        let used = used_key(&claims.jti);
        if request.validate_only && self.store.get(&used).await?.is_some() {
            return Err(VneidError::ShareCodeUsed);
        }
        // The holder's record as it is now: a death recorded since closes the account.
        let found = self.find_in(&claims.sub, pop::RecordView::Address).await?;
        found.usable()?;
        if !request.validate_only {
            let left = u64::try_from(claims.exp - now).unwrap_or(1);
            if !self
                .store
                .put_if_absent(&used, b"1", Some(Duration::from_secs(left)))
                .await?
            {
                return Err(VneidError::ShareCodeUsed);
            }
        }
        Ok(pb::RedeemShareCodeResponse {
            citizen: Some(shared(found)),
            share_code_id: claims.jti,
        })
    }

    /// The claims of `code` when it is a code of this mock with a signature that verifies.
    async fn verify(&self, code: &str) -> Result<Claims, VneidError> {
        let (_, public) = self.share_key.get().await?;
        let invalid = |why: &dyn std::fmt::Display| {
            tracing::info!(reason = "SHARE_CODE_INVALID", why = %why, "share code refused");
            VneidError::ShareCodeInvalid
        };
        let verified =
            sandbox06_jose::verify(code, std::slice::from_ref(public)).map_err(|e| invalid(&e))?;
        if verified.header.typ.as_deref() != Some(TYP) {
            return Err(invalid(&"another type"));
        }
        let claims: Claims = serde_json::from_value(serde_json::Value::Object(verified.claims))
            .map_err(|e| invalid(&e))?;
        if claims.iss != ISSUER {
            return Err(invalid(&"another issuer"));
        }
        Ok(claims)
    }
}

#[tonic::async_trait]
impl ShareCodeService for Vneid {
    async fn issue_share_code(
        &self,
        request: Request<pb::IssueShareCodeRequest>,
    ) -> Result<Response<pb::IssueShareCodeResponse>, Status> {
        Ok(Response::new(
            Vneid::issue_share_code(self, request.into_inner()).await?,
        ))
    }

    async fn redeem_share_code(
        &self,
        request: Request<pb::RedeemShareCodeRequest>,
    ) -> Result<Response<pb::RedeemShareCodeResponse>, Status> {
        Ok(Response::new(
            Vneid::redeem_share_code(self, request.into_inner()).await?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use sandbox06_proto::types;
    use sandbox06_runtime::clock::Clock;
    use sandbox06_runtime::error::reason_of;
    use sandbox06_store::MemoryStore;
    use tonic::Code;

    use super::*;
    use crate::Holders;

    /// The holder every test shares with: a level 2 account.
    const HOLDER: &str = "001091012345";
    /// A holder whose death is recorded.
    const DECEASED: &str = "001091054321";
    const FACILITY: &str = "facilities/hotel-42";

    /// Two records, as the population database would answer them.
    struct Records;

    #[tonic::async_trait]
    impl Holders for Records {
        async fn holder(
            &self,
            citizen_id: &str,
            view: pop::RecordView,
        ) -> Result<Option<pop::Citizen>, Status> {
            let alive = citizen_id == HOLDER;
            if !alive && citizen_id != DECEASED {
                return Ok(None);
            }
            let address = types::Address {
                current: Some(types::AdministrativeAddress {
                    text: "Số 12 phố Hàng Bạc, Phường Hoàn Kiếm, Thành phố Hà Nội".to_owned(),
                    ..types::AdministrativeAddress::default()
                }),
                pre_2025: None,
            };
            Ok(Some(pop::Citizen {
                citizen_id: citizen_id.to_owned(),
                full_name: "Nguyễn Văn An".to_owned(),
                date_of_birth: Some(types::Date {
                    year: 1991,
                    month: 3,
                    day: 14,
                }),
                sex: types::Sex::Male as i32,
                life_status: if alive {
                    types::LifeStatus::Alive
                } else {
                    types::LifeStatus::Deceased
                } as i32,
                vneid: Some(types::VneidAccount {
                    level: types::VneidLevel::VneidLevel2 as i32,
                    activated_on: None,
                }),
                permanent_address: (view == pop::RecordView::Address).then_some(address),
                ..pop::Citizen::default()
            }))
        }
    }

    fn service_on(store: Arc<dyn Store>) -> (Vneid, Clock) {
        let clock = Clock::system();
        let country = sandbox06_world::Country::new(1, 100, clock.today());
        let service =
            Vneid::new(Arc::new(country), Arc::new(Records), store).with_clock(clock.clone());
        (service, clock)
    }

    fn service() -> (Vneid, Clock) {
        service_on(Arc::new(MemoryStore::new()))
    }

    fn issue_request(ttl_seconds: i32) -> pb::IssueShareCodeRequest {
        pb::IssueShareCodeRequest {
            citizen_id: HOLDER.to_owned(),
            facility: FACILITY.to_owned(),
            ttl_seconds,
        }
    }

    fn redeem_request(
        code: &str,
        facility: &str,
        validate_only: bool,
    ) -> pb::RedeemShareCodeRequest {
        pb::RedeemShareCodeRequest {
            share_code: code.to_owned(),
            facility: facility.to_owned(),
            validate_only,
        }
    }

    async fn issue(service: &Vneid) -> String {
        service
            .issue_share_code(issue_request(0))
            .await
            .expect("issued")
            .share_code
    }

    /// The reason and the first field a refusal names.
    fn refusal(error: VneidError) -> (Code, String, String) {
        let status = Status::from(error);
        let field = tonic_types::StatusExt::get_details_bad_request(&status)
            .and_then(|bad| bad.field_violations.first().map(|v| v.field.clone()))
            .unwrap_or_default();
        (status.code(), reason_of(&status).unwrap_or_default(), field)
    }

    #[tokio::test]
    async fn a_code_releases_the_holders_data_once() {
        let (service, clock) = service();
        let issued = service.issue_share_code(issue_request(0)).await.unwrap();
        let expire = issued.expire_time.unwrap().seconds;
        let now = clock.unix_seconds();
        assert!((expire - now - 120).abs() <= 1, "{expire} {now}");

        let checked = service
            .redeem_share_code(redeem_request(&issued.share_code, FACILITY, true))
            .await
            .unwrap();
        let redeemed = service
            .redeem_share_code(redeem_request(&issued.share_code, FACILITY, false))
            .await
            .unwrap();
        assert_eq!(checked, redeemed);
        let citizen = redeemed.citizen.unwrap();
        assert_eq!(citizen.citizen_id, HOLDER);
        assert_eq!(citizen.full_name, "Nguyễn Văn An");
        assert_eq!(citizen.level, types::VneidLevel::VneidLevel2 as i32);
        assert!(citizen.residence_address.starts_with("Số 12 phố Hàng Bạc"));
        assert_eq!(redeemed.share_code_id.len(), 22);

        for validate_only in [false, true] {
            let again = service
                .redeem_share_code(redeem_request(&issued.share_code, FACILITY, validate_only))
                .await
                .unwrap_err();
            assert_eq!(refusal(again).1, "SHARE_CODE_USED");
        }
    }

    #[tokio::test]
    async fn a_code_is_for_its_facility_and_its_time() {
        let (service, clock) = service();
        let code = issue(&service).await;
        let other = service
            .redeem_share_code(redeem_request(&code, "facilities/another", false))
            .await
            .unwrap_err();
        assert_eq!(
            refusal(other),
            (
                Code::PermissionDenied,
                "SHARE_CODE_OTHER_FACILITY".to_owned(),
                "facility".to_owned()
            )
        );
        clock.advance(time::Duration::seconds(121));
        let late = service
            .redeem_share_code(redeem_request(&code, FACILITY, false))
            .await
            .unwrap_err();
        let (code, reason, _) = refusal(late);
        assert_eq!(
            (code, reason.as_str()),
            (Code::FailedPrecondition, "SHARE_CODE_EXPIRED")
        );
    }

    #[tokio::test]
    async fn only_this_mocks_codes_verify() {
        let (service, _) = service();
        let code = issue(&service).await;
        let mut tampered = code.clone();
        let last = if tampered.ends_with('A') { "B" } else { "A" };
        tampered.pop();
        tampered.push_str(last);
        let (mine, _) = service_on(Arc::new(MemoryStore::new()));
        let foreign = issue(&mine).await;
        let unsigned = {
            let (header, rest) = code.split_once('.').unwrap();
            let payload = rest.split_once('.').unwrap().0;
            format!("{header}.{payload}.")
        };
        for bad in [tampered, foreign, unsigned, "garbage".to_owned()] {
            let refused = service
                .redeem_share_code(redeem_request(&bad, FACILITY, false))
                .await
                .unwrap_err();
            assert_eq!(
                refusal(refused),
                (
                    Code::InvalidArgument,
                    "SHARE_CODE_INVALID".to_owned(),
                    "share_code".to_owned()
                ),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn replicas_on_one_store_share_the_key_and_the_marks() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let (one, _) = service_on(store.clone());
        let (two, _) = service_on(store);
        let code = issue(&one).await;
        two.redeem_share_code(redeem_request(&code, FACILITY, false))
            .await
            .unwrap();
        let again = one
            .redeem_share_code(redeem_request(&code, FACILITY, false))
            .await
            .unwrap_err();
        assert_eq!(refusal(again).1, "SHARE_CODE_USED");
    }

    #[tokio::test]
    async fn bad_requests_name_their_fields() {
        let (service, _) = service();
        let cases = [
            (
                pb::IssueShareCodeRequest {
                    citizen_id: "12".to_owned(),
                    ..issue_request(0)
                },
                "INVALID_CITIZEN_ID",
                "citizen_id",
            ),
            (
                pb::IssueShareCodeRequest {
                    facility: "hotel-42".to_owned(),
                    ..issue_request(0)
                },
                "INVALID_ARGUMENT",
                "facility",
            ),
            (
                pb::IssueShareCodeRequest {
                    facility: "facilities/".to_owned(),
                    ..issue_request(0)
                },
                "INVALID_ARGUMENT",
                "facility",
            ),
            (issue_request(29), "INVALID_ARGUMENT", "ttl_seconds"),
            (issue_request(601), "INVALID_ARGUMENT", "ttl_seconds"),
            (issue_request(-1), "INVALID_ARGUMENT", "ttl_seconds"),
        ];
        for (request, reason, field) in cases {
            let refused = service.issue_share_code(request).await.unwrap_err();
            let (code, got_reason, got_field) = refusal(refused);
            assert_eq!(code, Code::InvalidArgument);
            assert_eq!((got_reason.as_str(), got_field.as_str()), (reason, field));
        }
        for ttl in [30, 600] {
            service.issue_share_code(issue_request(ttl)).await.unwrap();
        }
        let empty = service
            .redeem_share_code(redeem_request("", FACILITY, false))
            .await
            .unwrap_err();
        assert_eq!(refusal(empty).2, "share_code");
        let code = issue(&service).await;
        let no_facility = service
            .redeem_share_code(redeem_request(&code, "", false))
            .await
            .unwrap_err();
        assert_eq!(refusal(no_facility).2, "facility");
    }

    #[tokio::test]
    async fn only_usable_accounts_share() {
        let (service, _) = service();
        let cases = [
            ("079093000001", "ACCOUNT_NOT_FOUND"),
            (DECEASED, "ACCOUNT_CLOSED"),
        ];
        for (citizen_id, reason) in cases {
            let refused = service
                .issue_share_code(pb::IssueShareCodeRequest {
                    citizen_id: citizen_id.to_owned(),
                    ..issue_request(0)
                })
                .await
                .unwrap_err();
            assert_eq!(refusal(refused).1, reason, "{citizen_id}");
        }
    }
}
