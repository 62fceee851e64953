//! The suite's clock through the admin: it changes its own clock, then sends the whole new
//! setting to every component's `ClockControl` (components running apart keep one time;
//! under `up` they share the clock, and the setting, sent whole, moves nothing twice), and
//! when time moved forward, ages every stateful component's stored lifetimes by as much.

use sandbox06_proto::admin::{self as pb, clock_control_client::ClockControlClient};
use sandbox06_runtime::clock::{Clock, duration_from_proto, timestamp_from_proto};
use sandbox06_runtime::error::{ApiError, Reason};
use tonic::{Request, Status};

use super::{Admin, ControlChannel, Target};
use crate::error::AdminReason;

impl Target {
    fn clock(&self) -> ClockControlClient<ControlChannel> {
        ClockControlClient::with_interceptor(self.channel.clone(), self.key.clone())
    }
}

/// `field`, required and missing.
fn required(field: &str, example: &str) -> Status {
    ApiError::invalid_field(
        Reason::InvalidArgument,
        field,
        format!("is required, e.g. {example}"),
    )
    .into()
}

impl Admin {
    /// The suite's clock as the admin keeps it.
    pub(super) fn clock_now(
        &self,
        request: &Request<pb::GetClockRequest>,
    ) -> Result<pb::Clock, Status> {
        self.allow(request)?;
        Ok(self.clock.to_proto())
    }

    /// SetClock: the clock set to the request's time, everywhere.
    pub(super) async fn set_clock_to(
        &self,
        request: Request<pb::SetClockRequest>,
    ) -> Result<pb::Clock, Status> {
        self.allow(&request)?;
        let request = request.into_inner();
        let time = request
            .time
            .as_ref()
            .ok_or_else(|| required("time", "\"2027-01-01T08:00:00+07:00\""))?;
        let at = timestamp_from_proto(time, "time")?;
        self.moved(|clock| clock.set(at, request.freeze)).await
    }

    /// AdvanceClock: the clock moved forward everywhere.
    pub(super) async fn advance_clock_by(
        &self,
        request: Request<pb::AdvanceClockRequest>,
    ) -> Result<pb::Clock, Status> {
        self.allow(&request)?;
        let by = request
            .get_ref()
            .by
            .as_ref()
            .ok_or_else(|| required("by", "\"3600s\""))?;
        let by = duration_from_proto(by, "by")?;
        if !by.is_positive() {
            return Err(ApiError::invalid_field(
                Reason::InvalidArgument,
                "by",
                "must be positive: the clock advances forward (SetClock sets it back)",
            )
            .into());
        }
        self.moved(|clock| clock.advance(by)).await
    }

    /// ResetClock: the system time and the reference date again, everywhere.
    pub(super) async fn reset_clock_for(
        &self,
        request: Request<pb::ResetClockRequest>,
    ) -> Result<pb::Clock, Status> {
        self.allow(&request)?;
        self.clock_reset_everywhere().await
    }

    /// The clock reset, on every component.
    pub(super) async fn clock_reset_everywhere(&self) -> Result<pb::Clock, Status> {
        self.moved(Clock::reset).await
    }

    /// `change` applied to the admin's clock, its setting sent to every component, and the
    /// time it moved forward passed in every stateful component's store. Refused to a caller
    /// naming a tenant: every tenant shares the clock.
    async fn moved(&self, change: impl FnOnce(&Clock)) -> Result<pb::Clock, Status> {
        if sandbox06_runtime::faults::call_tenant_header().is_some() {
            return Err(ApiError::new(
                AdminReason::ClockShared,
                "the suite's clock is shared by every tenant: move it with a call that names none",
            )
            .with_metadata("header", sandbox06_runtime::faults::TENANT_HEADER)
            .into());
        }
        let before = self.clock.now();
        change(&self.clock);
        let forward = self.clock.now() - before;
        let setting = self.clock.setting().to_proto();
        self.each(None, |target| async move {
            target.answer(target.clock().apply_clock_setting(setting).await)
        })
        .await?;
        // Lifetimes age only forward, and not for the instant the calls took.
        if let Ok(by) = std::time::Duration::try_from(forward)
            && by >= std::time::Duration::from_secs(1)
        {
            let by = sandbox06_runtime::clock::duration_to_proto(forward);
            self.each_stateful(None, |mut state| async move {
                state.pass_time(pb::PassTimeRequest { by: Some(by) }).await
            })
            .await?;
        }
        Ok(self.clock.to_proto())
    }
}
