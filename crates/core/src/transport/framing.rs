//! Framing of JSON-RPC: bounded line splitting for stdio, and the decoding
//! of one message (a stdio line or an HTTP body) into a message, nothing, or
//! an error answer. Pure code shared by the stdio paths and the HTTP body
//! check, so both transports answer the same bytes the same way.
//!
//! Error answers that cannot name a request carry `"id": null`, as JSON-RPC
//! 2.0 requires (rmcp's own `JsonRpcError` omits the field instead, which
//! strict 2.0 clients reject).

use rmcp::{
    RoleServer,
    model::{ClientRequest, ErrorCode, ErrorData, JsonRpcMessage, RequestId},
    service::RxJsonRpcMessage,
};
use serde_json::Value;

/// What one line turned out to be.
#[derive(Debug)]
pub(crate) enum Frame {
    Message(Box<RxJsonRpcMessage<RoleServer>>),
    /// Nothing to deliver and nothing to answer (blank line, unknown notification).
    Skip,
    /// Answer with this error and carry on.
    Reject(ErrorFrame),
}

/// A JSON-RPC error response as written on the wire: `id` is `null` (not
/// absent) when the request's id could not be read.
#[derive(Debug, serde::Serialize)]
pub(crate) struct ErrorFrame {
    jsonrpc: &'static str,
    pub(crate) id: Option<RequestId>,
    pub(crate) error: ErrorData,
}

impl ErrorFrame {
    pub(crate) fn new(id: Option<RequestId>, code: ErrorCode, message: String) -> Self {
        Self::with_data(id, code, message, None)
    }

    pub(crate) fn with_data(
        id: Option<RequestId>,
        code: ErrorCode,
        message: String,
        data: Option<Value>,
    ) -> Self {
        Self {
            jsonrpc: "2.0",
            id,
            error: ErrorData::new(code, message, data),
        }
    }
}

/// A finished line from [`LineSplitter`].
#[derive(Debug, PartialEq)]
pub(crate) enum Line<'a> {
    Complete(&'a [u8]),
    /// A line longer than the limit, already skipped; carries its length.
    Oversized(usize),
}

/// Splits a byte stream into lines without ever buffering more than the
/// limit. Callers feed it whatever their reader has available and consume
/// the bytes it reports; it keeps partial lines between calls, so an async
/// caller stays cancel-safe (nothing is consumed without being recorded).
#[derive(Debug)]
pub(crate) struct LineSplitter {
    buf: Vec<u8>,
    max: usize,
    overflow: Option<usize>,
    finished: bool,
}

impl LineSplitter {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            buf: Vec::new(),
            max,
            overflow: None,
            finished: false,
        }
    }

    /// Takes bytes from `available`; returns how many were consumed and
    /// whether a line ended. The line is then read with [`Self::line`].
    pub(crate) fn feed(&mut self, available: &[u8]) -> (usize, bool) {
        if self.finished {
            self.buf.clear();
            self.overflow = None;
            self.finished = false;
        }
        let newline = available.iter().position(|b| *b == b'\n');
        let content = newline.unwrap_or(available.len());
        match self.overflow.as_mut() {
            Some(len) => *len += content,
            None if self.buf.len() + content > self.max => {
                self.overflow = Some(self.buf.len() + content);
                self.buf = Vec::new();
            }
            None => self.buf.extend_from_slice(&available[..content]),
        }
        self.finished = newline.is_some();
        (newline.map_or(available.len(), |i| i + 1), self.finished)
    }

    /// At end of input: the unterminated last line, if any.
    pub(crate) fn finish(&mut self) -> bool {
        let pending = !self.finished && (self.overflow.is_some() || !self.buf.is_empty());
        self.finished = true;
        pending
    }

    /// The line that just ended.
    pub(crate) fn line(&self) -> Line<'_> {
        match self.overflow {
            Some(len) => Line::Oversized(len),
            None => Line::Complete(&self.buf),
        }
    }

    /// What to do with the line that just ended.
    pub(crate) fn frame(&self) -> Frame {
        match self.line() {
            Line::Complete(line) => classify(line),
            Line::Oversized(len) => Frame::Reject(oversized(len, self.max)),
        }
    }
}

/// Classifies one complete stdio line (without its newline).
pub(crate) fn classify(line: &[u8]) -> Frame {
    match decode(line) {
        Ok(message) => Frame::Message(message),
        Err(Problem::Blank | Problem::UndecodableNotification) => Frame::Skip,
        Err(Problem::Answer(error)) => Frame::Reject(*error),
    }
}

/// Decodes one HTTP request body. Unlike a stdio line, every body gets an
/// answer: an empty body is a parse error, and a notification that cannot be
/// decoded is refused (HTTP must say whether it accepted the input).
pub(crate) fn decode_body(
    body: &[u8],
) -> Result<Box<RxJsonRpcMessage<RoleServer>>, Box<ErrorFrame>> {
    decode(body).map_err(|problem| match problem {
        Problem::Answer(error) => error,
        Problem::Blank => Box::new(ErrorFrame::new(
            None,
            ErrorCode::PARSE_ERROR,
            "parse error: the request body is empty; send one JSON-RPC message".into(),
        )),
        Problem::UndecodableNotification => Box::new(ErrorFrame::new(
            None,
            ErrorCode::INVALID_REQUEST,
            "invalid request: this notification's params do not match its method".into(),
        )),
    })
}

/// Why some bytes are not a message to deliver.
enum Problem {
    Blank,
    /// A notification we cannot decode: nobody waits for an answer.
    UndecodableNotification,
    Answer(Box<ErrorFrame>),
}

fn decode(bytes: &[u8]) -> Result<Box<RxJsonRpcMessage<RoleServer>>, Problem> {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::Blank);
    }
    if let Err(err) = std::str::from_utf8(bytes) {
        return Err(Problem::Answer(Box::new(ErrorFrame::new(
            None,
            ErrorCode::PARSE_ERROR,
            format!(
                "parse error: frame is not valid UTF-8 (invalid byte at offset {})",
                err.valid_up_to()
            ),
        ))));
    }
    match serde_json::from_slice::<RxJsonRpcMessage<RoleServer>>(bytes) {
        // rmcp decodes a known method whose params do not fit as a custom
        // request; an `initialize` without a version must not get that far
        // (over HTTP rmcp would then ask for a session id instead).
        Ok(JsonRpcMessage::Request(request)) if is_undecoded_initialize(&request.request) => Err(
            Problem::Answer(Box::new(initialize_without_version(Some(request.id)))),
        ),
        Ok(message) => Ok(Box::new(message)),
        Err(err) if err.is_syntax() || err.is_eof() => {
            Err(Problem::Answer(Box::new(ErrorFrame::new(
                None,
                ErrorCode::PARSE_ERROR,
                format!("parse error: frame is not valid JSON ({err})"),
            ))))
        }
        Err(err) => Err(invalid_message(bytes, &err)),
    }
}

/// Valid JSON that is not a message this server understands.
fn invalid_message(bytes: &[u8], err: &serde_json::Error) -> Problem {
    let value: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    let answer = |id, code, message| Problem::Answer(Box::new(ErrorFrame::new(id, code, message)));
    if value.is_array() {
        return answer(
            None,
            ErrorCode::PARSE_ERROR,
            "parse error: JSON-RPC batches (arrays) are not accepted (MCP dropped batching in \
             2025-06-18); send each message on its own"
                .into(),
        );
    }
    let Some(object) = value.as_object() else {
        return answer(
            None,
            ErrorCode::INVALID_REQUEST,
            format!(
                "invalid request: a JSON-RPC message is a JSON object, not {}",
                describe(&value)
            ),
        );
    };
    let method = object.get("method");
    let id = match object.get("id") {
        None => None,
        Some(raw) => match serde_json::from_value::<RequestId>(raw.clone()) {
            Ok(id) => Some(id),
            // JSON-RPC 2.0: an id that cannot be read is answered with id null.
            Err(_) => {
                return answer(
                    None,
                    ErrorCode::INVALID_REQUEST,
                    format!(
                        "invalid request: \"id\" must be a string or an integer, not {}",
                        describe(raw)
                    ),
                );
            }
        },
    };
    if id.is_none() && method.is_some_and(Value::is_string) {
        tracing::debug!(%err, "ignoring undecodable notification");
        return Problem::UndecodableNotification;
    }
    if method.and_then(Value::as_str) == Some("initialize")
        && !object
            .get("params")
            .and_then(|p| p.get("protocolVersion"))
            .is_some_and(Value::is_string)
    {
        return Problem::Answer(Box::new(initialize_without_version(id)));
    }
    answer(
        id,
        ErrorCode::INVALID_REQUEST,
        format!("invalid request: not a JSON-RPC 2.0 message this server accepts ({err})"),
    )
}

fn is_undecoded_initialize(request: &ClientRequest) -> bool {
    matches!(request, ClientRequest::CustomRequest(c) if c.method == "initialize")
}

fn initialize_without_version(id: Option<RequestId>) -> ErrorFrame {
    ErrorFrame::new(
        id,
        ErrorCode::INVALID_PARAMS,
        "invalid params: initialize needs params.protocolVersion, the MCP version the client \
         speaks (e.g. \"2025-11-25\")"
            .into(),
    )
}

/// A JSON value's kind, for error messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(n) if n.is_f64() => format!("a fraction ({n})"),
        Value::Number(n) => format!("a number outside the 64-bit integer range ({n})"),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn oversized(len: usize, max: usize) -> ErrorFrame {
    ErrorFrame::with_data(
        None,
        ErrorCode::INVALID_REQUEST,
        format!(
            "frame of {len} bytes exceeds the {max}-byte limit; it was discarded \
             (raise it with --max-frame-bytes or FF_MAX_FRAME_BYTES)"
        ),
        Some(serde_json::json!({ "frameBytes": len, "maxFrameBytes": max })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize, chunk: usize) -> Vec<String> {
        let mut splitter = LineSplitter::new(max);
        let mut out = Vec::new();
        let mut push = |s: &LineSplitter| match s.line() {
            Line::Complete(l) => out.push(String::from_utf8_lossy(l).into_owned()),
            Line::Oversized(n) => out.push(format!("<oversized {n}>")),
        };
        let mut rest = input;
        while !rest.is_empty() {
            let window = &rest[..rest.len().min(chunk)];
            let (used, done) = splitter.feed(window);
            rest = &rest[used..];
            if done {
                push(&splitter);
            }
        }
        if splitter.finish() {
            push(&splitter);
        }
        out
    }

    #[test]
    fn splits_and_bounds_lines_whatever_the_chunking() {
        for chunk in [1, 3, 64 * 1024] {
            assert_eq!(lines(b"a\nbb\n", 4, chunk), ["a", "bb"]);
            assert_eq!(lines(b"abcdef\nok\n", 4, chunk), ["<oversized 6>", "ok"]);
            assert_eq!(lines(b"abcd\n", 4, chunk), ["abcd"]);
            assert_eq!(lines(b"tail", 8, chunk), ["tail"]);
            assert_eq!(lines(b"toolongtail", 4, chunk), ["<oversized 11>"]);
            assert!(lines(b"", 4, chunk).is_empty());
        }
    }

    #[test]
    fn oversized_line_spanning_many_reads_is_measured_whole() {
        let mut input = vec![b'x'; 200_000];
        input.extend_from_slice(b"\n{}\n");
        assert_eq!(lines(&input, 1000, 8192), ["<oversized 200000>", "{}"]);
    }

    fn code_of(frame: Frame) -> Option<i32> {
        match frame {
            Frame::Reject(e) => Some(e.error.code.0),
            _ => None,
        }
    }

    #[test]
    fn classifies_frames() {
        assert_eq!(code_of(classify(b"{not json")), Some(-32700));
        assert_eq!(code_of(classify(b"\xff\xfe")), Some(-32700));
        assert_eq!(code_of(classify(b"[1,2]")), Some(-32700), "batches");
        assert_eq!(code_of(classify(b"42")), Some(-32600));
        assert!(matches!(classify(b"   "), Frame::Skip));
        assert!(matches!(
            classify(
                br#"{"jsonrpc":"2.0","method":"notifications/unknown-thing","params":{"x":1}}"#
            ),
            Frame::Skip | Frame::Message(_)
        ));
        assert!(matches!(
            classify(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
            Frame::Message(_)
        ));
    }

    #[test]
    fn invalid_request_echoes_its_id() {
        let Frame::Reject(err) = classify(br#"{"jsonrpc":"2.0","id":7,"method":42}"#) else {
            panic!("expected a rejection");
        };
        assert_eq!(err.id, Some(RequestId::Number(7)));
        assert_eq!(err.error.code, ErrorCode::INVALID_REQUEST);
    }

    #[test]
    fn unreadable_ids_get_invalid_request_with_id_null() {
        for id in ["null", "{}", "[1]", "true", "1.5", "18446744073709551616"] {
            let line = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#);
            let Frame::Reject(err) = classify(line.as_bytes()) else {
                panic!("id {id}: expected a rejection");
            };
            assert_eq!(err.error.code, ErrorCode::INVALID_REQUEST, "id {id}");
            let wire = serde_json::to_value(&err).expect("serialises");
            assert!(wire["id"].is_null(), "id {id}: {wire}");
            assert!(
                wire.as_object().is_some_and(|o| o.contains_key("id")),
                "{wire}"
            );
        }
        // An integral float is an integer written differently: accepted.
        assert!(matches!(
            classify(br#"{"jsonrpc":"2.0","id":2.0,"method":"ping"}"#),
            Frame::Message(_)
        ));
    }

    #[test]
    fn initialize_without_protocol_version_is_invalid_params() {
        let line = br#"{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#;
        let Frame::Reject(err) = classify(line) else {
            panic!("expected a rejection");
        };
        assert_eq!(err.id, Some(RequestId::Number(3)));
        assert_eq!(err.error.code, ErrorCode::INVALID_PARAMS);
        assert!(err.error.message.contains("protocolVersion"));
        // The HTTP body check gives the same answer.
        let body_err = decode_body(line).expect_err("rejected");
        assert_eq!(body_err.error, err.error);
    }

    #[test]
    fn http_bodies_always_get_an_answer() {
        assert_eq!(
            decode_body(b"").expect_err("empty").error.code,
            ErrorCode::PARSE_ERROR
        );
        assert_eq!(
            decode_body(b"{oops").expect_err("bad json").error.code,
            ErrorCode::PARSE_ERROR
        );
        assert_eq!(
            decode_body(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#)
                .expect_err("batch")
                .error
                .code,
            ErrorCode::PARSE_ERROR
        );
        assert!(decode_body(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).is_ok());
    }
}
