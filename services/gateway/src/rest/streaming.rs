//! Streaming REST calls: a client stream's requests as NDJSON lines, a server stream's answers
//! as NDJSON lines or Server-Sent Events, as they come; an error after the first answer is the
//! last line (or a `status` event).

use axum::body::Body;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::{HeaderValue, Request, Response};
use http_body_util::BodyExt as _;
use prost_reflect::{DeserializeOptions, DynamicMessage, MessageDescriptor, SerializeOptions};
use sandbox06_runtime::error::client_status;
use sandbox06_runtime::{ApiError, Reason};
use serde_json::Value;

use super::routes::RestRoute;
use super::transcode::{frame, undecodable_answer, unwritable_answer};
use super::{Forward, call};
use crate::json_map::{bad_request, check_json};

/// The JSON line of an error in a stream that has begun.
fn error_line(status: &tonic::Status) -> Bytes {
    Bytes::from(format!("{}\n", status_json(status)))
}

/// The Status of a stream that failed, as the JSON body a unary call would have had.
fn status_json(status: &tonic::Status) -> Value {
    let http = sandbox06_runtime::http::http_status(status.code());
    sandbox06_runtime::http::error_body(http, status)
}

/// A streaming RPC over NDJSON (`application/x-ndjson`): each line of the request body is one
/// request message, each answer one line of the response, in order, as they come. A first line
/// that is no record, and a refusal of the call, are the usual Status response; an error after
/// that is the last line.
pub(super) async fn transcode_stream(
    route: &RestRoute,
    request: Request<Body>,
    forward: Forward,
    max_bytes: usize,
) -> Result<Response<Body>, ApiError> {
    use futures::StreamExt as _;
    let (parts, body) = request.into_parts();
    let input = route.input.clone();
    // The first record decides the HTTP status: until it is read, nothing is sent, so a body
    // whose first line is no record is refused with 400 (413 above the limit), as a unary body
    // would be.
    let mut data = body.into_data_stream();
    let mut pending = BytesMut::new();
    let mut skipped = 0usize;
    loop {
        if let Some(end) = pending.iter().position(|b| *b == b'\n') {
            if pending[..end].iter().all(u8::is_ascii_whitespace) {
                pending.advance(end + 1);
                skipped += 1;
                continue;
            }
            parse_line(&input, &pending[..end], skipped + 1)?;
            break;
        }
        if pending.len() > max_bytes {
            return Err(ApiError::new(
                Reason::RequestTooLarge,
                format!("a line is above the limit of {max_bytes} bytes"),
            )
            .with_metadata("limit_bytes", max_bytes.to_string()));
        }
        match data.next().await {
            Some(Ok(chunk)) => pending.extend_from_slice(&chunk),
            Some(Err(error)) => {
                drain_later(data);
                return Err(body_broke(error.into_inner(), max_bytes));
            }
            None => {
                if !pending.iter().all(u8::is_ascii_whitespace) {
                    parse_line(&input, &pending, skipped + 1)?;
                }
                break;
            }
        }
    }
    // A later line that does not parse ends the requests; it is reported as the last answer.
    let broken: std::sync::Arc<std::sync::Mutex<Option<ApiError>>> = Default::default();
    let broken_in = std::sync::Arc::clone(&broken);
    let lines = futures::stream::unfold(
        (data, pending, skipped, false),
        move |(mut data, mut pending, mut line_no, done)| {
            let input = input.clone();
            let broken = std::sync::Arc::clone(&broken_in);
            async move {
                if done {
                    return None;
                }
                loop {
                    if let Some(end) = pending.iter().position(|b| *b == b'\n') {
                        let line = pending.split_to(end + 1);
                        line_no += 1;
                        let text = &line[..line.len() - 1];
                        if text.iter().all(u8::is_ascii_whitespace) {
                            continue;
                        }
                        return match parse_line(&input, text, line_no) {
                            Ok(framed) => Some((
                                Ok::<_, std::io::Error>(framed),
                                (data, pending, line_no, false),
                            )),
                            Err(error) => {
                                if let Ok(mut slot) = broken.lock() {
                                    *slot = Some(error);
                                }
                                None
                            }
                        };
                    }
                    if pending.len() > max_bytes {
                        if let Ok(mut slot) = broken.lock() {
                            *slot = Some(ApiError::new(
                                Reason::RequestTooLarge,
                                format!("a line is above the limit of {max_bytes} bytes"),
                            ));
                        }
                        return None;
                    }
                    match data.next().await {
                        Some(Ok(chunk)) => pending.extend_from_slice(&chunk),
                        Some(Err(error)) => {
                            // The body broke off: the records so far are not the whole batch,
                            // and the answer must not end as if they were.
                            if let Ok(mut slot) = broken.lock() {
                                *slot = Some(body_broke(error.into_inner(), max_bytes));
                            }
                            // The records so far are answered; the last line says the batch
                            // was cut.
                            drain_later(data);
                            return None;
                        }
                        None if pending.iter().all(u8::is_ascii_whitespace) => return None,
                        None => pending.put_u8(b'\n'),
                    }
                }
            }
        },
    );
    let body = match call(route, &parts.headers, Body::from_stream(lines), forward).await? {
        Ok(body) => body,
        Err(refused) => return Ok(refused),
    };
    Ok(stream_response(route, &parts.headers, body, broken))
}

/// Whether the caller asked for Server-Sent Events (`Accept: text/event-stream`).
fn wants_events(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.contains("text/event-stream"))
}

/// One answer of a stream, or the error that ends it.
enum Streamed {
    Answer(Value),
    Error(tonic::Status),
}

impl Streamed {
    /// The NDJSON line.
    fn line(&self) -> Bytes {
        match self {
            Streamed::Answer(json) => {
                let mut text = json.to_string();
                text.push('\n');
                Bytes::from(text)
            }
            Streamed::Error(status) => error_line(status),
        }
    }

    /// The Server-Sent Event: `data:` with the answer (its position as `id:`), or a `status`
    /// event with the Status (not `error`, which an `EventSource` also fires on a lost
    /// connection).
    fn event(&self, index: usize) -> Bytes {
        match self {
            Streamed::Answer(json) => Bytes::from(format!("id: {index}\ndata: {json}\n\n")),
            Streamed::Error(status) => {
                Bytes::from(format!("event: status\ndata: {}\n\n", status_json(status)))
            }
        }
    }
}

/// The answers of a streaming call as they come, in order: NDJSON, one line each, or
/// Server-Sent Events when the caller asks for them. An error after the first answer is the
/// last line (or a `status` event); `broken` holds a request line that did not parse.
pub(super) fn stream_response(
    route: &RestRoute,
    headers: &http::HeaderMap,
    body: tonic::body::Body,
    broken: std::sync::Arc<std::sync::Mutex<Option<ApiError>>>,
) -> Response<Body> {
    use futures::StreamExt as _;
    let output = route.output.clone();
    let answers = futures::stream::unfold(
        (body, BytesMut::new(), false),
        move |(mut body, mut pending, finished)| {
            let output = output.clone();
            let broken = std::sync::Arc::clone(&broken);
            async move {
                if finished {
                    return None;
                }
                let taken = || broken.lock().ok().and_then(|mut slot| slot.take());
                loop {
                    // A whole message in hand: its answer.
                    if pending.len() >= 5 {
                        let len =
                            u32::from_be_bytes([pending[1], pending[2], pending[3], pending[4]])
                                as usize;
                        if pending.len() >= 5 + len {
                            let mut message = pending.split_to(5 + len);
                            message.advance(5);
                            let item = DynamicMessage::decode(output.clone(), message.freeze())
                                .map_err(|e| tonic::Status::from(undecodable_answer(&output, &e)))
                                .and_then(|answer| {
                                    answer
                                        .serialize_with_options(
                                            serde_json::value::Serializer,
                                            &SerializeOptions::new(),
                                        )
                                        .map_err(|e| {
                                            tonic::Status::from(unwritable_answer(&output, &e))
                                        })
                                })
                                .map_or_else(Streamed::Error, Streamed::Answer);
                            return Some((item, (body, pending, false)));
                        }
                    }
                    match body.frame().await {
                        Some(Ok(frame)) => {
                            if let Some(data) = frame.data_ref() {
                                pending.extend_from_slice(data);
                            } else if let Some(trailers) = frame.trailers_ref() {
                                let status = tonic::Status::from_header_map(trailers);
                                // A request line that broke the stream says why first.
                                let last = match (taken(), status) {
                                    (Some(error), _) => Some(tonic::Status::from(error)),
                                    (None, Some(status)) if status.code() != tonic::Code::Ok => {
                                        Some(client_status(status))
                                    }
                                    _ => None,
                                };
                                return last.map(|status| {
                                    (Streamed::Error(status), (body, pending, true))
                                });
                            }
                        }
                        Some(Err(status)) => {
                            // A request that broke off says why, rather than how the call ended;
                            // a transport's failure in the suite's words, not the library's.
                            let status =
                                taken().map_or_else(|| client_status(status), tonic::Status::from);
                            return Some((Streamed::Error(status), (body, pending, true)));
                        }
                        None => {
                            return taken().map(|error| {
                                (
                                    Streamed::Error(tonic::Status::from(error)),
                                    (body, pending, true),
                                )
                            });
                        }
                    }
                }
            }
        },
    );
    let events = wants_events(headers);
    let encoded = answers.enumerate().map(move |(index, item)| {
        Ok::<_, std::io::Error>(if events {
            item.event(index)
        } else {
            item.line()
        })
    });
    let mut response = Response::new(Body::from_stream(encoded));
    let content_type = if events {
        "text/event-stream"
    } else {
        "application/x-ndjson"
    };
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    headers.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    response
}

/// Reads what is left of a request body the call no longer uses, for a while, so that an
/// HTTP/1.1 client still sending it reads the answer instead of a reset connection.
fn drain_later(mut data: axum::body::BodyDataStream) {
    use futures::StreamExt as _;
    tokio::spawn(async move {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while data.next().await.is_some() {}
        })
        .await;
    });
}

/// Why a request body broke off: above the size limit, or cut by the client.
fn body_broke(error: axum::BoxError, max_bytes: usize) -> ApiError {
    if error
        .downcast_ref::<sandbox06_runtime::http::BodyTooLarge>()
        .is_some()
    {
        ApiError::new(
            Reason::RequestTooLarge,
            format!("the request body is above the limit of {max_bytes} bytes"),
        )
        .with_metadata("limit_bytes", max_bytes.to_string())
    } else {
        // The transport's words (hyper's) stay in the log.
        tracing::info!(%error, "a request body broke off");
        ApiError::new(
            Reason::InvalidArgument,
            "the request body broke off before its end",
        )
    }
}

/// One NDJSON request line as a gRPC frame.
fn parse_line(input: &MessageDescriptor, text: &[u8], line: usize) -> Result<Bytes, ApiError> {
    if let Ok(value) = serde_json::from_slice::<Value>(text) {
        check_json(input, &value, "").map_err(|error| {
            use tonic_types::StatusExt as _;
            let status = tonic::Status::from(error);
            let field = status
                .get_details_bad_request()
                .and_then(|details| details.field_violations.first().map(|v| v.field.clone()))
                .unwrap_or_default();
            bad_request(
                &format!("line {line}: {field}"),
                format!("line {line}: {}", status.message()),
            )
        })?;
    }
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    let message = DynamicMessage::deserialize_with_options(
        input.clone(),
        &mut deserializer,
        &DeserializeOptions::new(),
    )
    .and_then(|m| deserializer.end().map(|()| m))
    .map_err(|e| bad_request("body", format!("line {line}: {e}")))?;
    Ok(frame(&message))
}
