//! The suite's clock: the one time every component judges expiry against (tokens, codes,
//! sessions, lockouts, deadlines) and the one "today" it judges dates against (ages, card
//! expiry, insurance validity, life events).
//!
//! It runs on the system clock until the sandbox controls move it: set to a time (running from
//! there, or frozen), advanced, or put back. "Today" starts on the reference date
//! (`population.reference_date`, the date the synthetic country is generated as of) and moves
//! day for day with the clock; once the clock is set to a time, today is that time's date in
//! Vietnam (UTC+7). The country itself stays generated as of the reference date.
//!
//! Every component of one suite shares one [`Clock`] (a cheap handle, given in the
//! [`crate::component::Context`]). A component running apart keeps its own, which the admin
//! component keeps in step through the internal `ClockControl` service every server serves
//! ([`ClockControlService`]): it sends the whole [`ClockSetting`], never a change, so sending
//! it twice, or to two components sharing a clock, moves nothing twice.
//!
//! ```
//! use sandbox06_runtime::clock::Clock;
//! use time::macros::date;
//!
//! let clock = Clock::new(date!(2026 - 11 - 27));
//! let before = clock.now();
//! clock.advance(time::Duration::days(40));
//! assert!(clock.now() - before >= time::Duration::days(40));
//! assert_eq!(clock.today(), date!(2027 - 01 - 06));
//! clock.reset();
//! assert_eq!(clock.today(), date!(2026 - 11 - 27));
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use sandbox06_proto::admin::{
    self as pb,
    clock_control_server::{ClockControl, ClockControlServer},
};
use time::{Date, Duration, OffsetDateTime, UtcOffset};
use tonic::{Request, Response, Status};

use crate::error::{ApiError, Reason};

/// `sandbox06.admin.v1.ClockControl`, served by every server and not listed in reflection.
pub const CLOCK_CONTROL_SERVICE: &str = "sandbox06.admin.v1.ClockControl";

/// The farthest the clock moves from the system time, either way: 100 years.
pub const MAX_OFFSET: Duration = Duration::days(36_500);

/// Marks a running clock in [`State::frozen_ms`].
const RUNNING: i64 = i64::MIN;

/// Vietnam's offset from UTC (no daylight saving).
fn vietnam() -> UtcOffset {
    UtcOffset::from_hms(7, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// The suite's clock; clones share it. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct Clock(Arc<State>);

#[derive(Debug)]
struct State {
    /// Milliseconds added to the system time while running.
    offset_ms: AtomicI64,
    /// The time it stands at while frozen, milliseconds since the epoch; [`RUNNING`] otherwise.
    frozen_ms: AtomicI64,
    /// Days between today and the clock's date in Vietnam.
    date_shift: AtomicI64,
    /// [`State::date_shift`] as the suite started: the reference date minus the date then.
    initial_shift: i64,
    /// The date the country is generated as of.
    reference: Date,
}

/// A clock's whole setting: what the admin sends to every component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockSetting {
    /// Added to the system time while running.
    pub offset: Duration,
    /// The time it stands at, when frozen.
    pub frozen_at: Option<OffsetDateTime>,
    /// Days between today and the clock's date in Vietnam.
    pub date_shift_days: i32,
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.whole_milliseconds()).unwrap_or(if duration.is_negative() {
        i64::MIN + 1
    } else {
        i64::MAX
    })
}

/// The system time in milliseconds since the epoch: one clock read, no calendar work.
fn system_ms() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN + 1, |ms| -ms),
    }
}

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// Vietnam's offset from UTC, in milliseconds.
const VIETNAM_MS: i64 = 7 * 3_600_000;

/// The Julian day of 1970-01-01.
const EPOCH_JULIAN_DAY: i64 = 2_440_588;

fn at_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH
        .checked_add(Duration::milliseconds(ms))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

impl Clock {
    /// A clock on the system time, whose today is `reference` (the reference date).
    pub fn new(reference: Date) -> Self {
        let started = OffsetDateTime::now_utc().to_offset(vietnam()).date();
        let shift = (reference - started).whole_days();
        Self(Arc::new(State {
            offset_ms: AtomicI64::new(0),
            frozen_ms: AtomicI64::new(RUNNING),
            date_shift: AtomicI64::new(shift),
            initial_shift: shift,
            reference,
        }))
    }

    /// A clock on the system time whose today is the date in Vietnam.
    pub fn system() -> Self {
        Self::new(OffsetDateTime::now_utc().to_offset(vietnam()).date())
    }

    /// Now, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        let frozen = self.0.frozen_ms.load(Ordering::Relaxed);
        if frozen != RUNNING {
            return frozen;
        }
        system_ms().saturating_add(self.0.offset_ms.load(Ordering::Relaxed))
    }

    /// Now.
    pub fn now(&self) -> OffsetDateTime {
        at_ms(self.now_ms())
    }

    /// Now, in whole seconds since the Unix epoch (what JWT claims hold).
    pub fn unix_seconds(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// The suite's today: see the [module docs](self). Integer arithmetic on one clock read:
    /// records judge their dates by it, once or more each.
    pub fn today(&self) -> Date {
        let days = self.now_ms().saturating_add(VIETNAM_MS).div_euclid(DAY_MS)
            + self.0.date_shift.load(Ordering::Relaxed);
        i32::try_from(EPOCH_JULIAN_DAY + days)
            .ok()
            .and_then(|julian| Date::from_julian_day(julian).ok())
            .unwrap_or(self.0.reference)
    }

    /// The date the country is generated as of.
    pub fn reference_date(&self) -> Date {
        self.0.reference
    }

    /// Whether the clock stands still.
    pub fn is_frozen(&self) -> bool {
        self.0.frozen_ms.load(Ordering::Relaxed) != RUNNING
    }

    /// How far the clock is from the system time now.
    pub fn offset(&self) -> Duration {
        Duration::milliseconds(self.now_ms().saturating_sub(system_ms()))
    }

    /// Sets the clock to `at`, frozen there when `freeze`; today becomes `at`'s date in Vietnam.
    pub fn set(&self, at: OffsetDateTime, freeze: bool) {
        let at_ms = millis(at - OffsetDateTime::UNIX_EPOCH);
        self.0.date_shift.store(0, Ordering::Relaxed);
        // The offset is the one a running clock at `at` has, frozen or not: the setting shows
        // where the clock stands either way.
        self.0
            .offset_ms
            .store(at_ms.saturating_sub(system_ms()), Ordering::Relaxed);
        self.0
            .frozen_ms
            .store(if freeze { at_ms } else { RUNNING }, Ordering::Relaxed);
    }

    /// Moves the clock forward by `by` (a frozen clock stays frozen, `by` later).
    pub fn advance(&self, by: Duration) {
        let by = millis(by);
        if self.is_frozen() {
            self.0.frozen_ms.fetch_add(by, Ordering::Relaxed);
        } else {
            self.0.offset_ms.fetch_add(by, Ordering::Relaxed);
        }
    }

    /// Back on the system time, today back on the reference date.
    pub fn reset(&self) {
        self.0.offset_ms.store(0, Ordering::Relaxed);
        self.0.frozen_ms.store(RUNNING, Ordering::Relaxed);
        self.0
            .date_shift
            .store(self.0.initial_shift, Ordering::Relaxed);
    }

    /// The clock's whole setting.
    pub fn setting(&self) -> ClockSetting {
        let frozen = self.0.frozen_ms.load(Ordering::Relaxed);
        ClockSetting {
            offset: Duration::milliseconds(self.0.offset_ms.load(Ordering::Relaxed)),
            frozen_at: (frozen != RUNNING).then(|| at_ms(frozen)),
            date_shift_days: i32::try_from(self.0.date_shift.load(Ordering::Relaxed))
                .unwrap_or_default(),
        }
    }

    /// Takes `setting` as its own, whole.
    pub fn apply(&self, setting: ClockSetting) {
        self.0
            .offset_ms
            .store(millis(setting.offset), Ordering::Relaxed);
        self.0.frozen_ms.store(
            setting
                .frozen_at
                .map_or(RUNNING, |at| millis(at - OffsetDateTime::UNIX_EPOCH)),
            Ordering::Relaxed,
        );
        self.0
            .date_shift
            .store(i64::from(setting.date_shift_days), Ordering::Relaxed);
    }

    /// The clock as the controls show it.
    pub fn to_proto(&self) -> pb::Clock {
        let now = self.now();
        pb::Clock {
            time: Some(timestamp_to_proto(now)),
            today: Some(sandbox06_proto::dates::date_to_proto(self.today())),
            frozen: self.is_frozen(),
            offset: Some(duration_to_proto(self.offset())),
            reference_date: Some(sandbox06_proto::dates::date_to_proto(self.reference_date())),
            setting: Some(self.setting().to_proto()),
        }
    }

    /// The internal `ClockControl` service over this clock.
    pub fn control(&self) -> ClockControlServer<ClockControlService> {
        ClockControlServer::new(ClockControlService(self.clone()))
    }
}

impl ClockSetting {
    /// As the `ClockControl` service sends it.
    pub fn to_proto(&self) -> pb::ClockSetting {
        pb::ClockSetting {
            offset: Some(duration_to_proto(self.offset)),
            frozen_time: self.frozen_at.map(timestamp_to_proto),
            date_shift_days: self.date_shift_days,
        }
    }

    /// From the `ClockControl` message, refusing what no clock takes with the field named.
    pub fn from_proto(setting: &pb::ClockSetting) -> Result<Self, ApiError> {
        let offset = match &setting.offset {
            Some(offset) => duration_from_proto(offset, "offset")?,
            None => Duration::ZERO,
        };
        if offset.abs() > MAX_OFFSET {
            return Err(out_of_range("offset"));
        }
        let frozen_at = setting
            .frozen_time
            .as_ref()
            .map(|at| timestamp_from_proto(at, "frozen_time"))
            .transpose()?;
        if i64::from(setting.date_shift_days).abs() > MAX_OFFSET.whole_days() {
            return Err(out_of_range("date_shift_days"));
        }
        Ok(Self {
            offset,
            frozen_at,
            date_shift_days: setting.date_shift_days,
        })
    }
}

fn out_of_range(field: &str) -> ApiError {
    ApiError::invalid_field(
        Reason::InvalidArgument,
        field,
        format!(
            "must move the clock at most {} days from the system time",
            MAX_OFFSET.whole_days()
        ),
    )
}

pub use sandbox06_proto::dates::time_to_proto as timestamp_to_proto;

/// A protobuf time, within 100 years of now, or the caller's error naming `field`.
pub fn timestamp_from_proto(
    at: &prost_types::Timestamp,
    field: &str,
) -> Result<OffsetDateTime, ApiError> {
    let time = sandbox06_proto::dates::time_from_proto(at, field).map_err(|error| {
        ApiError::invalid_field(Reason::InvalidArgument, error.field, error.description)
    })?;
    if (time - OffsetDateTime::now_utc()).abs() > MAX_OFFSET {
        return Err(out_of_range(field));
    }
    Ok(time)
}

/// A duration as protobuf writes it.
pub fn duration_to_proto(duration: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: duration.whole_seconds(),
        nanos: duration.subsec_nanoseconds(),
    }
}

/// A protobuf duration, or the caller's error naming `field`.
pub fn duration_from_proto(
    duration: &prost_types::Duration,
    field: &str,
) -> Result<Duration, ApiError> {
    let same_sign = (duration.seconds >= 0 && duration.nanos >= 0)
        || (duration.seconds <= 0 && duration.nanos <= 0);
    if duration.nanos.abs() >= 1_000_000_000 || !same_sign {
        return Err(ApiError::invalid_field(
            Reason::InvalidArgument,
            field,
            "is not a duration: nanos must be within ±999999999 and have the sign of seconds",
        ));
    }
    if duration.seconds.unsigned_abs() > MAX_OFFSET.whole_seconds().unsigned_abs() {
        return Err(out_of_range(field));
    }
    Ok(Duration::seconds(duration.seconds) + Duration::nanoseconds(i64::from(duration.nanos)))
}

/// The `ClockControl` service of one server: see the [module docs](self).
#[derive(Clone, Debug)]
pub struct ClockControlService(Clock);

#[tonic::async_trait]
impl ClockControl for ClockControlService {
    async fn get_clock(
        &self,
        _request: Request<pb::GetClockRequest>,
    ) -> Result<Response<pb::Clock>, Status> {
        Ok(Response::new(self.0.to_proto()))
    }

    async fn apply_clock_setting(
        &self,
        request: Request<pb::ClockSetting>,
    ) -> Result<Response<pb::Clock>, Status> {
        let setting = ClockSetting::from_proto(request.get_ref())?;
        self.0.apply(setting);
        tracing::info!(
            offset_ms = millis(setting.offset),
            frozen = setting.frozen_at.is_some(),
            date_shift_days = setting.date_shift_days,
            "clock set"
        );
        Ok(Response::new(self.0.to_proto()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn today_starts_on_the_reference_date_and_moves_with_the_clock() {
        let clock = Clock::new(date!(2026 - 11 - 27));
        assert_eq!(clock.today(), date!(2026 - 11 - 27));
        clock.advance(Duration::days(3));
        assert_eq!(clock.today(), date!(2026 - 11 - 30));
        clock.reset();
        assert_eq!(clock.today(), date!(2026 - 11 - 27));
        assert!(clock.offset().abs() < Duration::seconds(1));
    }

    #[test]
    fn a_set_time_is_the_time_and_its_date_in_vietnam_is_today() {
        let clock = Clock::new(date!(2026 - 11 - 27));
        // 18:30 UTC is 01:30 the next day in Vietnam.
        clock.set(datetime!(2030-02-28 18:30 UTC), true);
        assert_eq!(clock.now(), datetime!(2030-02-28 18:30 UTC));
        assert_eq!(clock.today(), date!(2030 - 03 - 01));
        assert!(clock.is_frozen());
        clock.advance(Duration::hours(1));
        assert_eq!(clock.now(), datetime!(2030-02-28 19:30 UTC));
        clock.set(datetime!(2030-02-28 18:30 UTC), false);
        assert!(!clock.is_frozen());
        assert!(clock.now() - datetime!(2030-02-28 18:30 UTC) < Duration::seconds(5));
    }

    #[test]
    fn today_is_the_calendar_date_in_vietnam_of_the_clocks_time() {
        let clock = Clock::new(date!(2026 - 11 - 27));
        for at in [
            datetime!(2026-12-31 16:59:59.999 UTC),
            datetime!(2026-12-31 17:00 UTC),
            datetime!(2028-02-28 17:00 UTC),
            datetime!(1969-12-31 16:59 UTC),
            datetime!(1969-12-31 17:00 UTC),
            datetime!(2100-03-01 00:00 UTC),
        ] {
            clock.set(at, true);
            assert_eq!(clock.today(), at.to_offset(vietnam()).date(), "{at}");
        }
    }

    #[test]
    fn a_setting_applied_twice_moves_nothing_twice() {
        let clock = Clock::new(date!(2026 - 11 - 27));
        clock.advance(Duration::days(2));
        let setting = clock.setting();
        let other = Clock::new(date!(2026 - 11 - 27));
        other.apply(setting);
        other.apply(setting);
        assert_eq!(other.today(), date!(2026 - 11 - 29));
        assert_eq!(other.setting(), setting);
        let round = ClockSetting::from_proto(&setting.to_proto()).unwrap();
        assert_eq!(round, setting);
    }

    #[test]
    fn settings_beyond_a_century_or_malformed_are_refused_naming_the_field() {
        let far = pb::ClockSetting {
            offset: Some(duration_to_proto(Duration::days(40_000))),
            ..pb::ClockSetting::default()
        };
        let error = Status::from(ClockSetting::from_proto(&far).unwrap_err());
        assert_eq!(error.code(), tonic::Code::InvalidArgument);
        assert!(error.message().contains("offset"), "{error:?}");
        let mixed = prost_types::Duration {
            seconds: 5,
            nanos: -1,
        };
        assert!(duration_from_proto(&mixed, "by").is_err());
        let bad = prost_types::Timestamp {
            seconds: 0,
            nanos: -5,
        };
        assert!(timestamp_from_proto(&bad, "time").is_err());
    }
}
