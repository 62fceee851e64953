//! The deadline of the call being served, known to its handler: set by the deadline layer
//! ([`crate::deadline`]), read by whatever the handler calls (the client interceptor, the
//! mapping of an upstream's failure). It depends on nothing else of the runtime, so both can.

use std::time::Duration;

tokio::task_local! {
    /// When the call being served must have its answer.
    pub(crate) static CALL_DEADLINE: tokio::time::Instant;
}

/// The time left before the deadline of the call being served, when called from its handler.
pub fn remaining() -> Option<Duration> {
    CALL_DEADLINE
        .try_with(|deadline| deadline.saturating_duration_since(tokio::time::Instant::now()))
        .ok()
}
