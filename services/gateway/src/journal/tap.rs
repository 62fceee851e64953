//! The bodies of a call as they pass through the edge, seen by its [`Recording`]: each data
//! frame is counted (gRPC frame headers) and copied while the side's bound allows; trailers give
//! the call's status. Nothing is parsed beyond the 5-byte frame headers.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::{Captured, Recording};

/// Which part of a call a [`Tap`] sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// The request's gRPC frames, toward the backend.
    Request,
    /// The answer's gRPC frames and trailers.
    Response,
    /// The answer as the caller receives it (REST): only holds the recording until it ends.
    Outer,
}

/// Counts the messages of a gRPC body from its 5-byte frame headers, across data frames.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FrameCounter {
    /// Messages whose header was seen.
    pub(crate) messages: u32,
    /// Header bytes of the next message seen so far (0 to 4).
    header: [u8; 5],
    header_len: usize,
    /// Payload bytes of the current message still to pass.
    remaining: usize,
}

impl FrameCounter {
    /// Counts the frames starting in `data`.
    pub(crate) fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.remaining > 0 {
                let skip = self.remaining.min(data.len());
                self.remaining -= skip;
                data = &data[skip..];
                continue;
            }
            let take = (5 - self.header_len).min(data.len());
            self.header[self.header_len..self.header_len + take].copy_from_slice(&data[..take]);
            self.header_len += take;
            data = &data[take..];
            if self.header_len == 5 {
                self.header_len = 0;
                self.messages = self.messages.saturating_add(1);
                let length = [
                    self.header[1],
                    self.header[2],
                    self.header[3],
                    self.header[4],
                ];
                self.remaining = u32::from_be_bytes(length) as usize;
            }
        }
    }
}

impl Captured {
    /// Counts `data` and keeps it when it fits under `max` bytes (`None`: bodies are not kept).
    fn take(&mut self, data: &Bytes, max: Option<usize>) {
        self.counter.feed(data);
        let Some(max) = max else {
            return;
        };
        // Kept up to the first chunk that does not fit, never past it: a later, smaller chunk
        // would leave a gap in the frames.
        if !self.truncated && self.bytes.len() + data.len() <= max {
            self.bytes.extend_from_slice(data);
        } else {
            self.truncated = true;
        }
    }
}

pin_project_lite::pin_project! {
    /// A body passed on untouched while its [`Recording`] sees it.
    pub(crate) struct Tap<B> {
        #[pin]
        inner: B,
        recording: Recording,
        side: Side,
        max: Option<usize>,
    }
}

impl<B> Tap<B> {
    pub(crate) fn new(inner: B, recording: Recording, side: Side) -> Self {
        let max = recording.max_body_bytes();
        Self {
            inner,
            recording,
            side,
            max,
        }
    }
}

impl<B> Body for Tap<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = std::task::ready!(this.inner.poll_frame(cx));
        if let Some(Ok(frame)) = &polled {
            let (side, max) = (*this.side, *this.max);
            match side {
                Side::Request => {
                    if let Some(data) = frame.data_ref() {
                        this.recording.with(|facts| facts.request.take(data, max));
                    }
                }
                Side::Response => {
                    if let Some(data) = frame.data_ref() {
                        this.recording.with(|facts| facts.response.take(data, max));
                    } else if let Some(trailers) = frame.trailers_ref() {
                        this.recording.with(|facts| facts.status_from(trailers));
                    }
                }
                Side::Outer => {}
            }
        }
        Poll::Ready(polled)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0];
        out.extend_from_slice(&u32::try_from(payload.len()).unwrap_or(0).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn frames_are_counted_across_chunks() {
        let mut body = frame(b"hello");
        body.extend(frame(b""));
        body.extend(frame(&[7; 300]));
        for split in [1, 2, 3, 5, 7, 64, body.len()] {
            let mut counter = FrameCounter::default();
            for chunk in body.chunks(split) {
                counter.feed(chunk);
            }
            assert_eq!(counter.messages, 3, "chunks of {split}");
        }
    }
}
