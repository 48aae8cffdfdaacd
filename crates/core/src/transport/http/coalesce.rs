//! A quick answer leaves in one write.
//!
//! rmcp answers a POST in a session with an event stream whose frames come
//! one at a time: a priming event (the id a client resumes from) at once,
//! the JSON-RPC response when the handler is done, then the end. hyper
//! writes what is ready whenever the body has nothing more, so a tool call
//! that takes 20 µs still costs two or three `writev`s, and the client
//! wakes up for each.
//!
//! [`gather`] holds such a reply for at most [`WAIT`] and collects the
//! frames that arrive within it. A reply that ends within the wait (most
//! calls) goes out whole, with a `Content-Length`, in one write. A longer
//! one goes out at the end of the wait with what it has so far (the
//! priming event at least) and streams the rest as before, so a slow call
//! only shows its headers up to [`WAIT`] later; its progress notifications
//! and its answer are not delayed after that.
//!
//! Only POST replies are held: a `GET` stream is a standing channel whose
//! first event may be minutes away.

use std::time::Duration;

use axum::{
    body::{Body, Bytes},
    http::header,
    response::Response,
};
use futures::StreamExt;
use http_body_util::BodyExt;

/// How long an event-stream reply is held to gather its frames.
pub(super) const WAIT: Duration = Duration::from_millis(2);

/// `response` with the frames its event stream yields within [`WAIT`]
/// sent as one; other responses unchanged.
pub(super) async fn gather(response: Response) -> Response {
    let is_event_stream = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if !is_event_stream {
        return response;
    }
    let (parts, mut body) = response.into_parts();
    let mut gathered = Vec::new();
    let deadline = tokio::time::sleep(WAIT);
    tokio::pin!(deadline);
    let ended = loop {
        tokio::select! {
            biased;
            frame = body.frame() => match frame {
                None => break true,
                Some(Ok(frame)) => {
                    // An event stream has data frames only; anything else
                    // (trailers) ends the gathering and is dropped, as
                    // `into_data_stream` below drops it too.
                    match frame.into_data() {
                        Ok(data) => gathered.extend_from_slice(&data),
                        Err(_) => break false,
                    }
                }
                Some(Err(err)) => {
                    // What came before the error still goes out, then the
                    // error ends the body as it would have.
                    let head = futures::stream::iter([
                        Ok(Bytes::from(gathered)),
                        Err(err),
                    ]);
                    return Response::from_parts(parts, Body::from_stream(head));
                }
            },
            () = &mut deadline => break false,
        }
    };
    if ended {
        return Response::from_parts(parts, Body::from(gathered));
    }
    let head = futures::stream::once(async move { Ok(Bytes::from(gathered)) });
    let rest = head.chain(body.into_data_stream());
    Response::from_parts(parts, Body::from_stream(rest))
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use super::*;

    fn event_stream(body: Body) -> Response {
        Response::builder()
            .header(header::CONTENT_TYPE, "text/event-stream")
            .body(body)
            .unwrap()
    }

    #[tokio::test]
    async fn a_stream_that_ends_within_the_wait_becomes_one_body_with_a_length() {
        let frames = futures::stream::iter(["data: \n\n", "data: {\"id\":1}\n\n"])
            .map(|s| Ok::<_, Infallible>(Bytes::from(s)));
        let response = gather(event_stream(Body::from_stream(frames))).await;
        let body = response.into_body();
        assert_eq!(
            axum::body::HttpBody::size_hint(&body).exact(),
            Some(24),
            "a whole reply is sent with its length, in one write"
        );
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"data: \n\ndata: {\"id\":1}\n\n");
    }

    #[tokio::test]
    async fn a_slow_stream_goes_out_after_the_wait_and_keeps_streaming() {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, Infallible>>(4);
        tx.send(Ok(Bytes::from("data: \n\n"))).await.unwrap();
        let body = Body::from_stream(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)));
        let started = std::time::Instant::now();
        let response = gather(event_stream(body)).await;
        let waited = started.elapsed();
        assert!(
            waited >= WAIT && waited < Duration::from_secs(2),
            "held for the wait only: {waited:?}"
        );
        let mut body = response.into_body();
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&first[..], b"data: \n\n", "what came within the wait");
        tx.send(Ok(Bytes::from("data: {\"id\":1}\n\n")))
            .await
            .unwrap();
        let second = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(
            &second[..],
            b"data: {\"id\":1}\n\n",
            "later frames still stream"
        );
        drop(tx);
        assert!(body.frame().await.is_none());
    }

    #[tokio::test]
    async fn other_responses_are_left_alone() {
        let response = Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let response = gather(response).await;
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"{}");
    }
}
