//! Life events, account unlocks and share codes: the admin's messages (`sandbox06.admin.v1`) to
//! and from the population database's `CreateLifeEvent` and VNeID's `UnlockAccount` and
//! `IssueShareCode`, field for field.
//!
//! A life event keeps the population database's shape (`citizen_id`, `event.<change>.<field>`,
//! `request_id`), so that its refusals name the field the admin's caller sent.

use sandbox06_proto::admin as pb;
use sandbox06_proto::population as pop;
use sandbox06_proto::vneid;
use tonic::{Code, Status};

use crate::error::from_component;

/// The population database's request for the admin's `request`.
pub fn life_event_request(request: pb::CreateLifeEventRequest) -> pop::CreateLifeEventRequest {
    pop::CreateLifeEventRequest {
        citizen_id: request.citizen_id,
        event: request.event.map(life_event),
        request_id: request.request_id,
    }
}

fn life_event(event: pb::LifeEvent) -> pop::LifeEvent {
    use pb::life_event::Change as Admin;
    use pop::life_event::Change as Population;
    pop::LifeEvent {
        effective_date: event.effective_date,
        change: event.change.map(|change| match change {
            Admin::Moved(moved) => Population::Moved(pop::Moved {
                commune_code: moved.commune_code,
                street: moved.street,
            }),
            Admin::Married(married) => Population::Married(pop::Married {
                spouse_citizen_id: married.spouse_citizen_id,
            }),
            Admin::CardReplaced(pb::LifeEventCardReplaced {}) => {
                Population::CardReplaced(pop::CardReplaced {})
            }
            Admin::Died(pb::LifeEventDied {}) => Population::Died(pop::Died {}),
            Admin::VneidChanged(changed) => Population::VneidChanged(pop::VneidChanged {
                level: changed.level,
            }),
        }),
    }
}

/// The admin's answer to a life event on `citizen_id`, from the record the population database
/// answered with.
pub fn life_event_response(
    citizen_id: String,
    answer: pop::CreateLifeEventResponse,
) -> pb::CreateLifeEventResponse {
    let Some(citizen) = answer.citizen else {
        return pb::CreateLifeEventResponse {
            citizen_id,
            ..pb::CreateLifeEventResponse::default()
        };
    };
    pb::CreateLifeEventResponse {
        citizen_id: citizen.citizen_id,
        life_status: citizen.life_status,
        date_of_death: citizen.date_of_death,
        marital_status: citizen.marital_status,
        spouse_citizen_id: citizen
            .spouse
            .map(|spouse| spouse.citizen_id)
            .unwrap_or_default(),
        permanent_address: citizen.permanent_address,
        card: citizen.card,
        vneid: citizen.vneid,
    }
}

/// The admin's answer to an unlock of `citizen_id`, from the account VNeID answered with.
pub fn unlock_response(
    citizen_id: String,
    answer: vneid::UnlockAccountResponse,
) -> pb::UnlockAccountResponse {
    let Some(account) = answer.account else {
        return pb::UnlockAccountResponse {
            citizen_id,
            ..pb::UnlockAccountResponse::default()
        };
    };
    pb::UnlockAccountResponse {
        active: account.status() == vneid::AccountStatus::Active,
        citizen_id: account.citizen_id,
        level: account.level,
    }
}

/// VNeID's request for the admin's share code `request`: the same fields, so that a refusal
/// names the field the admin's caller sent.
pub fn share_code_request(request: pb::IssueVneidShareCodeRequest) -> vneid::IssueShareCodeRequest {
    vneid::IssueShareCodeRequest {
        citizen_id: request.citizen_id,
        facility: request.facility,
        ttl_seconds: request.ttl_seconds,
    }
}

/// The admin's answer with the share code VNeID issued.
pub fn share_code_response(
    answer: vneid::IssueShareCodeResponse,
) -> pb::IssueVneidShareCodeResponse {
    pb::IssueVneidShareCodeResponse {
        share_code: answer.share_code,
        expire_time: answer.expire_time,
    }
}

/// VNeID's request for the admin's consent `request`: the same fields, so that a refusal names
/// the field the admin's caller sent.
pub fn consent_request(request: pb::GiveVneidConsentRequest) -> vneid::GiveConsentRequest {
    vneid::GiveConsentRequest {
        citizen_id: request.citizen_id,
        recipient: request.recipient,
        service_code: request.service_code,
        purpose: request.purpose,
        valid_until: request.valid_until,
    }
}

/// The admin's answer with the consent VNeID holds.
pub fn consent_response(consent: vneid::Consent) -> pb::VneidConsent {
    pb::VneidConsent {
        consent_id: consent.consent_id,
        citizen_id: consent.citizen_id,
        recipient: consent.recipient,
        service_code: consent.service_code,
        purpose: consent.purpose,
        give_time: consent.give_time,
        valid_until: consent.valid_until,
        withdraw_time: consent.withdraw_time,
    }
}

/// The admin's answer when the population database refused or failed a life event: as
/// [`from_component`] passes on a refusal, and a write conflict too (`WRITE_CONFLICT`,
/// `ABORTED`: nothing was recorded, the caller retries).
pub fn from_population(component: &'static str, status: Status) -> Status {
    if status.code() == Code::Aborted {
        return status;
    }
    from_component(component, status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_change_keeps_its_fields() {
        let changes = [
            pb::life_event::Change::Moved(pb::LifeEventMoved {
                commune_code: "00004".to_owned(),
                street: "12 Hàng Bạc".to_owned(),
            }),
            pb::life_event::Change::Married(pb::LifeEventMarried {
                spouse_citizen_id: "001091012345".to_owned(),
            }),
            pb::life_event::Change::CardReplaced(pb::LifeEventCardReplaced {}),
            pb::life_event::Change::Died(pb::LifeEventDied {}),
            pb::life_event::Change::VneidChanged(pb::LifeEventVneidChanged { level: 3 }),
        ];
        for change in changes {
            let request = pb::CreateLifeEventRequest {
                citizen_id: "079093237890".to_owned(),
                event: Some(pb::LifeEvent {
                    effective_date: Some(sandbox06_proto::types::Date {
                        year: 2026,
                        month: 5,
                        day: 1,
                    }),
                    change: Some(change),
                }),
                request_id: "key-1".to_owned(),
            };
            // The same shape on the wire: the upstream's message reads the admin's bytes.
            let expected = <pop::CreateLifeEventRequest as prost::Message>::decode(
                prost::Message::encode_to_vec(&request).as_slice(),
            )
            .unwrap_or_default();
            assert_eq!(life_event_request(request), expected);
        }
    }

    #[test]
    fn a_closed_account_is_not_active() {
        let answer = |status: vneid::AccountStatus| vneid::UnlockAccountResponse {
            account: Some(vneid::Account {
                citizen_id: "079093237890".to_owned(),
                level: 3,
                status: status as i32,
                ..vneid::Account::default()
            }),
        };
        let unlocked = unlock_response(String::new(), answer(vneid::AccountStatus::Active));
        assert!(unlocked.active);
        assert_eq!(unlocked.citizen_id, "079093237890");
        assert!(!unlock_response(String::new(), answer(vneid::AccountStatus::Closed)).active);
    }

    #[test]
    fn a_share_code_request_keeps_its_fields() {
        let request = pb::IssueVneidShareCodeRequest {
            citizen_id: "001091012345".to_owned(),
            facility: "facilities/hotel-42".to_owned(),
            ttl_seconds: 300,
        };
        // The same shape on the wire: the upstream's message reads the admin's bytes.
        let expected = <vneid::IssueShareCodeRequest as prost::Message>::decode(
            prost::Message::encode_to_vec(&request).as_slice(),
        )
        .unwrap_or_default();
        assert_eq!(share_code_request(request), expected);
        let answer = vneid::IssueShareCodeResponse {
            share_code: "a.b.c".to_owned(),
            expire_time: Some(prost_types::Timestamp {
                seconds: 1_800_000_000,
                nanos: 0,
            }),
        };
        let response = share_code_response(answer.clone());
        assert_eq!(response.share_code, answer.share_code);
        assert_eq!(response.expire_time, answer.expire_time);
    }

    #[test]
    fn a_write_conflict_is_passed_on() {
        let status = from_population("population-db", Status::aborted("retry"));
        assert_eq!(status.code(), Code::Aborted);
        assert_eq!(status.message(), "retry");
    }
}
