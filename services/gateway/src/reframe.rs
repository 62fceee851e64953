//! Requests are forwarded a whole gRPC message at a time: a caller that splits its messages into
//! tiny DATA frames does so on its own connection to the edge only, never on the connection the
//! edge shares between every caller of a service.
//!
//! Every frame the edge sends a backend then holds at least one whole message (5 bytes or more),
//! which the HTTP/2 windows of [`sandbox06_runtime::http2`] are sized for: such frames cannot run
//! out the receiver's small-frame budget, whatever the caller does.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};

/// Length of a gRPC message's prefix: compressed flag (1 byte) and big-endian length (4 bytes).
const PREFIX_LEN: usize = 5;

/// How many bytes at the start of `bytes` are whole gRPC messages.
fn whole_messages(bytes: &[u8]) -> usize {
    let mut at = 0;
    while let Some(prefix) = bytes.get(at..at + PREFIX_LEN) {
        let len = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]) as usize;
        let end = at.saturating_add(PREFIX_LEN).saturating_add(len);
        if end > bytes.len() {
            break;
        }
        at = end;
    }
    at
}

pin_project_lite::pin_project! {
    /// A request body passed on a whole message at a time. Frames that are already whole
    /// messages pass untouched, without a copy; pieces are gathered until they make one. The
    /// size of one message is bounded before this by the edge's message limit.
    pub(crate) struct WholeMessages<B> {
        #[pin]
        inner: B,
        partial: BytesMut,
        trailers: Option<http::HeaderMap>,
        ended: bool,
    }
}

impl<B> WholeMessages<B> {
    pub(crate) fn new(inner: B) -> Self {
        Self {
            inner,
            partial: BytesMut::new(),
            trailers: None,
            ended: false,
        }
    }
}

impl<B> Body for WholeMessages<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let mut this = self.project();
        loop {
            if *this.ended {
                // What is left is not a whole message; the backend says so (a truncated
                // message is the caller's error).
                if !this.partial.is_empty() {
                    return Poll::Ready(Some(Ok(Frame::data(this.partial.split().freeze()))));
                }
                return Poll::Ready(this.trailers.take().map(|t| Ok(Frame::trailers(t))));
            }
            match this.inner.as_mut().poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                Poll::Ready(None) => *this.ended = true,
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) if this.partial.is_empty() && whole_messages(&data) == data.len() => {
                        if data.is_empty() {
                            continue;
                        }
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                    Ok(data) => {
                        this.partial.extend_from_slice(&data);
                        let whole = whole_messages(this.partial);
                        if whole > 0 {
                            return Poll::Ready(Some(Ok(Frame::data(
                                this.partial.split_to(whole).freeze(),
                            ))));
                        }
                    }
                    // Trailers end the body; a frame of any other kind has nothing to pass on.
                    Err(frame) => {
                        if let Ok(trailers) = frame.into_trailers() {
                            *this.trailers = Some(trailers);
                            *this.ended = true;
                        }
                    }
                },
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.partial.is_empty() && self.trailers.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let mut hint = self.inner.size_hint();
        let buffered = self.partial.len() as u64;
        hint.set_lower(hint.lower().saturating_add(buffered));
        if let Some(upper) = hint.upper() {
            hint.set_upper(upper.saturating_add(buffered));
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use http_body_util::{BodyExt, StreamBody};

    fn message(payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0];
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// The frames a body of `chunks` is passed on as.
    async fn forwarded(chunks: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        let frames = chunks
            .into_iter()
            .map(|c| Ok::<_, std::convert::Infallible>(Frame::data(Bytes::from(c))));
        let mut body = WholeMessages::new(StreamBody::new(futures::stream::iter(frames)));
        let mut out = Vec::new();
        while let Some(frame) = body.frame().await {
            out.push(frame.unwrap().into_data().unwrap().to_vec());
        }
        out
    }

    #[test]
    fn whole_messages_are_counted_by_their_prefixes() {
        let two = [message(b"ab"), message(b"")].concat();
        assert_eq!(whole_messages(&two), 12);
        assert_eq!(whole_messages(&two[..11]), 7);
        assert_eq!(whole_messages(&two[..4]), 0);
        assert_eq!(whole_messages(&[]), 0);
        // A length that overflows is never whole.
        assert_eq!(whole_messages(&[0, 255, 255, 255, 255, 1]), 0);
    }

    #[tokio::test]
    async fn frames_of_whole_messages_pass_as_they_are() {
        let chunks = vec![message(b"first"), [message(b"a"), message(b"b")].concat()];
        assert_eq!(forwarded(chunks.clone()).await, chunks);
    }

    #[tokio::test]
    async fn a_message_sent_a_byte_at_a_time_is_passed_on_whole() {
        let whole = message(b"one record");
        let bytes: Vec<Vec<u8>> = whole.iter().map(|b| vec![*b]).collect();
        assert_eq!(forwarded(bytes).await, vec![whole]);
    }

    #[tokio::test]
    async fn pieces_and_empty_frames_become_whole_messages_and_a_truncated_end_is_kept() {
        let first = message(b"first");
        let second = message(b"second");
        let chunks = vec![
            first[..3].to_vec(),
            Vec::new(),
            [&first[3..], &second[..2]].concat(),
            second[2..].to_vec(),
            vec![0, 0, 0],
        ];
        assert_eq!(forwarded(chunks).await, vec![first, second, vec![0, 0, 0]]);
    }
}
