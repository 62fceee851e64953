//! The HTTP/2 settings of every server and client of the suite, chosen so that flow control
//! pushes back on a sender before the HTTP/2 library's protection against small frames closes
//! the connection.
//!
//! The library keeps a budget for buffered DATA frames smaller than 256 bytes: each costs it
//! `256 - len`, a frame read by the application gives its cost back, and a connection whose
//! budget runs out is closed with `GOAWAY ENHANCE_YOUR_CALM` — every call on it fails, whoever
//! made it. The budget is half the connection's receive window. gRPC messages are often small
//! (a MatchCitizens record is about 40 bytes, so each costs more than five times its size), and
//! a service that waits on its upstream stops reading; with the libraries' default windows
//! (1 MiB for the connection, as much for one stream) a few thousand such records buffered
//! across the streams of one connection were enough to close it.
//!
//! So the budget is made larger than anything flow control lets in: what one connection can
//! buffer is bounded by its streams' windows ([`stream_window`] times the number of concurrent
//! streams, 16 MiB at the default 256), while the connection window, and with it the budget, is
//! [`CONNECTION_WINDOW`] (2 GiB, the most HTTP/2 allows: a budget of 1 GiB). Frames of 4 bytes or more can never
//! exhaust it: a sender filling every window is stopped by flow control, and waits. Every frame
//! the edge forwards holds a whole gRPC message, 5 bytes at least.

use std::time::Duration;

/// Receive window of one stream: what a sender may have in flight on one call before it must
/// wait for the receiver to read. With more concurrent streams than 256, see [`stream_window`].
pub const STREAM_WINDOW: u32 = 64 * 1024;

/// Smallest stream window [`stream_window`] gives.
const MIN_STREAM_WINDOW: u32 = 16 * 1024;

/// The receive window of one stream on a connection carrying up to `max_concurrent_streams`:
/// [`STREAM_WINDOW`], smaller past 256 streams so that the streams together still cannot
/// exhaust the small-frame budget (up to 1,024 streams; past that, frames under 16 bytes could).
pub fn stream_window(max_concurrent_streams: u32) -> u32 {
    // Frames of 4 bytes cost 63 times their size: the windows together must stay within 1/128
    // of the connection window, so that filling them costs less than the budget, half of it.
    let share = (u64::from(CONNECTION_WINDOW) + 1) / 128 / u64::from(max_concurrent_streams.max(1));
    u32::try_from(share).map_or(STREAM_WINDOW, |share| {
        share.clamp(MIN_STREAM_WINDOW, STREAM_WINDOW)
    })
}

/// Receive window of a whole connection, the largest HTTP/2 allows. Never the limit in
/// practice (the streams' windows are); it sets the small-frame budget, half of it.
pub const CONNECTION_WINDOW: u32 = (1 << 31) - 1;

/// Largest DATA frame accepted, the protocol's default.
pub const MAX_FRAME_SIZE: u32 = 16 * 1024;

/// Largest header block accepted (headers or trailers), in bytes.
pub const MAX_HEADER_LIST_SIZE: u32 = 16 * 1024;

/// Largest header block a client of the suite accepts in answers (headers or trailers), in
/// bytes: far above what any server of the suite sends
/// ([`crate::metadata_limit::MAX_RESPONSE_METADATA_BYTES`]), so that a peer's oversized answer
/// is read and fails its own call, instead of the HTTP/2 library giving up on the whole
/// connection (`COMPRESSION_ERROR`, `ENHANCE_YOUR_CALM`) and with it every call it carries.
pub const MAX_RESPONSE_HEADER_LIST_SIZE: u32 = 256 * 1024;

/// How often an HTTP/2 connection is pinged, so a dead peer is noticed.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);

/// How long a keepalive ping may stay unanswered.
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Streams a peer may reset before they are answered, per connection, before the connection is
/// closed (the protection against rapid resets).
pub const MAX_PENDING_ACCEPT_RESET_STREAMS: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;

    /// The library's cost of a buffered frame of `len` bytes.
    fn cost(len: u64) -> u64 {
        256u64.saturating_sub(len)
    }

    #[test]
    fn flow_control_stops_a_sender_before_the_small_frame_budget_runs_out() {
        let budget = u64::from(CONNECTION_WINDOW) / 2;
        let default = crate::config::Limits::default().max_concurrent_streams;
        for streams in [1, 100, default, 1024] {
            let window = u64::from(stream_window(streams));
            for len in 4..256u64 {
                // Every stream's window filled with frames of `len` bytes.
                let frames = u64::from(streams) * window / len;
                assert!(
                    frames * cost(len) <= budget,
                    "{streams} streams of {len}-byte frames: {} > {budget}",
                    frames * cost(len)
                );
            }
        }
        assert_eq!(stream_window(default), STREAM_WINDOW);
    }
}
