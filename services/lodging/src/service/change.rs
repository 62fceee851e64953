//! Changes of a recorded declaration: amendments, check outs and cancellations. Each is a new
//! revision appended while the declaration still has the revisions read (so two changes never
//! overwrite each other, on one replica or two), with its event and delivery entry in the same
//! step; a request id makes a retry answer the change it made.

use std::collections::HashSet;

use prost::Message as _;
use sandbox06_proto::{
    dates::{time_from_proto, time_to_proto},
    lodging::{self as pb, DeclarationEventType as Ev, DeclarationState},
};
use sandbox06_runtime::caller::Caller;

use super::{Lodging, pending, state_words, time_of};
use crate::error::{BadField, LodgingError};
use crate::facility::Facility;
use crate::input::{self, CLOCK_TOLERANCE, Problems};
use crate::records::{self, Revision};

/// Longest cancellation reason, in characters.
const MAX_REASON_CHARS: usize = 500;

/// Amendable fields, by their paths in `update_mask`.
const AMENDABLE: [&str; 3] = ["guests", "place", "expected_departure_time"];

/// A declaration read for a change.
struct Loaded {
    facility: Facility,
    id: String,
    revisions: Vec<Revision>,
    current: pb::Declaration,
}

/// What a change request names, checked.
struct Target<'a> {
    facility_id: &'a str,
    declaration_id: &'a str,
    request_id: &'a str,
}

impl Target<'_> {
    /// The digest of a change of this declaration: its kind and what the request says of it.
    fn digest(&self, change: &[u8], rest: &[&[u8]]) -> Vec<u8> {
        let mut parts: Vec<&[u8]> = vec![
            change,
            self.facility_id.as_bytes(),
            self.declaration_id.as_bytes(),
        ];
        parts.extend_from_slice(rest);
        records::digest(&parts)
    }
}

impl Lodging {
    /// Reads the declaration a change names. `Err(Ok(declaration))` when the request id made a
    /// change of it already (the retry answers it); `Err(Err(e))` when the change cannot be made.
    async fn load(
        &self,
        caller: &Caller,
        target: &Target<'_>,
        digest: &[u8],
        problems: Problems,
    ) -> Result<Loaded, Result<pb::Declaration, LodgingError>> {
        let facility = self
            .facility(caller, target.facility_id)
            .map_err(Err)?
            .clone();
        let mut problems = problems;
        if target.declaration_id.trim().is_empty() {
            problems
                .0
                .push(BadField::new("declaration_id", "is required"));
        }
        if !target.request_id.is_empty() {
            input::request_id(&mut problems, "request_id", target.request_id);
        }
        if !problems.is_empty() {
            return Err(Err(LodgingError::Invalid(problems.0)));
        }
        let (revisions, current) = self
            .current(&facility.id, target.declaration_id)
            .await
            .map_err(Err)?;
        if !target.request_id.is_empty()
            && let Some(made) = revisions.iter().find(|r| r.request_id == target.request_id)
        {
            return Err(if made.digest == digest {
                Ok(current)
            } else {
                Err(LodgingError::RequestIdReused)
            });
        }
        if current.state != DeclarationState::Staying as i32 {
            return Err(Err(LodgingError::Closed {
                state: state_words(current.state),
            }));
        }
        Ok(Loaded {
            facility,
            id: target.declaration_id.to_owned(),
            revisions,
            current,
        })
    }

    /// Records `next` as the next revision of `loaded`, made by `change`.
    async fn record(
        &self,
        loaded: &Loaded,
        mut next: pb::Declaration,
        change: Ev,
        target: &Target<'_>,
        digest: Vec<u8>,
        departed: Vec<String>,
    ) -> Result<pb::Declaration, LodgingError> {
        let now = self.clock.now();
        let revision = loaded.current.revision + 1;
        next.revision = revision;
        next.update_time = Some(time_to_proto(now));
        next.delivery = Some(pending(revision, now));
        next.etag = records::etag(revision, &digest);
        let stored = Revision {
            declaration: Some(next.clone()),
            request_id: target.request_id.to_owned(),
            digest: digest.clone(),
            change: change as i32,
        };
        let committed = self
            .commit(
                &loaded.facility.id,
                &loaded.id,
                loaded.revisions.len(),
                &stored,
                departed,
            )
            .await?;
        if committed {
            self.index(&loaded.facility.id, &next, &loaded.id).await?;
            return Ok(next);
        }
        // Changed meanwhile: by a retry of this very request, or by another change.
        let (revisions, current) = self.current(&loaded.facility.id, &loaded.id).await?;
        if !target.request_id.is_empty()
            && revisions
                .iter()
                .any(|r| r.request_id == target.request_id && r.digest == digest)
        {
            return Ok(current);
        }
        Err(LodgingError::EtagMismatch)
    }

    /// Amends a declaration still open.
    pub async fn update(
        &self,
        caller: &Caller,
        r: pb::UpdateDeclarationRequest,
    ) -> Result<pb::Declaration, LodgingError> {
        let target = Target {
            facility_id: &r.facility_id,
            declaration_id: &r.declaration_id,
            request_id: &r.request_id,
        };
        let digest = target.digest(
            b"update",
            &[
                &r.declaration
                    .as_ref()
                    .map(|d| d.encode_to_vec())
                    .unwrap_or_default(),
                &r.update_mask
                    .as_ref()
                    .map(|m| m.encode_to_vec())
                    .unwrap_or_default(),
            ],
        );
        let mut problems = Problems::default();
        let Some(sent) = r.declaration.as_ref() else {
            // Refused with the other bad fields, after the facility's permission.
            let missing = BadField::new("declaration", "is required");
            problems.0.push(missing.clone());
            return match self.load(caller, &target, &digest, problems).await {
                Err(answer) => answer,
                Ok(_) => Err(LodgingError::Invalid(vec![missing])),
            };
        };
        // Without a mask, the amendable fields the request sets.
        let paths: Vec<&str> = match &r.update_mask {
            Some(mask) if !mask.paths.is_empty() => mask.paths.iter().map(String::as_str).collect(),
            _ => AMENDABLE
                .into_iter()
                .filter(|path| match *path {
                    "guests" => !sent.guests.is_empty(),
                    "place" => sent.place.is_some(),
                    _ => sent.expected_departure_time.is_some(),
                })
                .collect(),
        };
        for path in &paths {
            if !AMENDABLE.contains(path) {
                problems.0.push(BadField::new(
                    "update_mask",
                    format!(
                        "{path:?} cannot be amended; the amendable fields are guests, place and expected_departure_time"
                    ),
                ));
            }
        }
        let loaded = match self.load(caller, &target, &digest, problems).await {
            Ok(loaded) => loaded,
            Err(answer) => return answer,
        };
        let expected_name = format!(
            "facilities/{}/declarations/{}",
            loaded.facility.id, loaded.id
        );
        let mut problems = Problems::default();
        if !sent.name.is_empty() && sent.name != expected_name {
            problems.0.push(BadField::new(
                "declaration.name",
                format!("is not the declaration's name, {expected_name}"),
            ));
        }
        if !sent.etag.is_empty() && sent.etag != loaded.current.etag {
            return Err(LodgingError::EtagMismatch);
        }
        if problems.is_empty() && paths.is_empty() {
            // Nothing to amend: the declaration as it is, no new revision.
            return Ok(loaded.current);
        }
        let now = self.clock.now();
        let today = self.clock.today();
        let mut next = loaded.current.clone();
        let arrival = time_of(next.arrival_time.as_ref()).unwrap_or(now);
        if paths.contains(&"expected_departure_time") {
            let field = "declaration.expected_departure_time";
            match sent.expected_departure_time.as_ref() {
                None => problems.0.push(BadField::new(field, "is required")),
                Some(at) => match time_from_proto(at, field) {
                    Ok(d) if d <= arrival => {
                        problems
                            .0
                            .push(BadField::new(field, "is not after arrival_time"));
                    }
                    Ok(_) => next.expected_departure_time = Some(*at),
                    Err(e) => problems.0.push(BadField::new(e.field, e.description)),
                },
            }
        }
        if paths.contains(&"place") {
            input::place(
                &mut problems,
                "declaration",
                &loaded.facility,
                sent.place.as_ref(),
            );
            next.place = sent.place.clone();
        }
        let mut drafts = Vec::new();
        if paths.contains(&"guests") {
            let departed: HashSet<String> = loaded
                .current
                .guests
                .iter()
                .filter(|g| g.departure_time.is_some())
                .map(|g| g.guest_id.clone())
                .collect();
            drafts = input::guests(
                &mut problems,
                "declaration",
                &loaded.facility,
                &sent.guests,
                today,
                &departed,
            );
            for (i, d) in drafts.iter().enumerate() {
                if departed.contains(&d.guest.guest_id) {
                    problems.0.push(BadField::new(
                        format!("declaration.guests[{i}].guest_id"),
                        "names a guest who has checked out",
                    ));
                }
            }
        }
        if !problems.is_empty() {
            return Err(LodgingError::Invalid(problems.0));
        }
        if paths.contains(&"guests") {
            self.redeem_shares(&loaded.facility, &mut drafts, false)
                .await?;
            let mut guests: Vec<pb::Guest> = loaded
                .current
                .guests
                .iter()
                .filter(|g| g.departure_time.is_some())
                .cloned()
                .collect();
            guests.extend(drafts.into_iter().map(|d| d.guest));
            next.guests = guests;
        }
        let departure = time_of(next.expected_departure_time.as_ref()).unwrap_or(now);
        next.findings = self
            .judge(
                &loaded.facility,
                &loaded.id,
                &next.guests,
                arrival,
                departure,
            )
            .await?;
        self.record(&loaded, next, Ev::Updated, &target, digest, Vec::new())
            .await
    }

    /// Records departures.
    pub async fn check_out(
        &self,
        caller: &Caller,
        r: pb::CheckOutDeclarationRequest,
    ) -> Result<pb::Declaration, LodgingError> {
        let target = Target {
            facility_id: &r.facility_id,
            declaration_id: &r.declaration_id,
            request_id: &r.request_id,
        };
        let digest = target.digest(
            b"checkOut",
            &[
                r.guest_ids.join("\n").as_bytes(),
                &r.departure_time
                    .as_ref()
                    .map(|t| t.encode_to_vec())
                    .unwrap_or_default(),
            ],
        );
        let mut problems = Problems::default();
        let now = self.clock.now();
        let departure = match r.departure_time.as_ref() {
            None => Some(now),
            Some(at) => match time_from_proto(at, "departure_time") {
                Ok(t) if t > now + CLOCK_TOLERANCE => {
                    problems.0.push(BadField::new(
                        "departure_time",
                        "is in the future on the suite's clock: a departure is recorded once it happened",
                    ));
                    None
                }
                Ok(t) => Some(t),
                Err(e) => {
                    problems.0.push(BadField::new(e.field, e.description));
                    None
                }
            },
        };
        let loaded = match self.load(caller, &target, &digest, problems).await {
            Ok(loaded) => loaded,
            Err(answer) => return answer,
        };
        let departure = departure.unwrap_or(now);
        if time_of(loaded.current.arrival_time.as_ref()).is_some_and(|a| departure < a) {
            return Err(LodgingError::Invalid(vec![BadField::new(
                "departure_time",
                "is before the declaration's arrival_time",
            )]));
        }
        let mut next = loaded.current.clone();
        let staying: Vec<String> = next
            .guests
            .iter()
            .filter(|g| g.departure_time.is_none())
            .map(|g| g.guest_id.clone())
            .collect();
        let leaving: Vec<String> = if r.guest_ids.is_empty() {
            staying.clone()
        } else {
            let mut seen = HashSet::new();
            for id in &r.guest_ids {
                if !staying.contains(id) || !seen.insert(id) {
                    return Err(LodgingError::GuestNotFound {
                        guest_id: id.clone(),
                    });
                }
            }
            r.guest_ids.clone()
        };
        for guest in &mut next.guests {
            if leaving.contains(&guest.guest_id) {
                guest.departure_time = Some(time_to_proto(departure));
            }
        }
        if next.guests.iter().all(|g| g.departure_time.is_some()) {
            next.state = DeclarationState::CheckedOut as i32;
        }
        self.record(&loaded, next, Ev::CheckedOut, &target, digest, leaving)
            .await
    }

    /// Cancels a declaration made in error.
    pub async fn cancel(
        &self,
        caller: &Caller,
        r: pb::CancelDeclarationRequest,
    ) -> Result<pb::Declaration, LodgingError> {
        let target = Target {
            facility_id: &r.facility_id,
            declaration_id: &r.declaration_id,
            request_id: &r.request_id,
        };
        let digest = target.digest(b"cancel", &[r.reason.as_bytes()]);
        let mut problems = Problems::default();
        if r.reason.trim().is_empty() {
            problems.0.push(BadField::new(
                "reason",
                "is required: why the declaration was made in error",
            ));
        } else if r.reason.chars().count() > MAX_REASON_CHARS
            || r.reason.chars().any(char::is_control)
        {
            problems.0.push(BadField::new(
                "reason",
                format!("is at most {MAX_REASON_CHARS} characters, with no control characters"),
            ));
        }
        let loaded = match self.load(caller, &target, &digest, problems).await {
            Ok(loaded) => loaded,
            Err(answer) => return answer,
        };
        let mut next = loaded.current.clone();
        next.state = DeclarationState::Cancelled as i32;
        next.cancel_reason = r.reason.trim().to_owned();
        self.record(&loaded, next, Ev::Cancelled, &target, digest, Vec::new())
            .await
    }
}
