//! Framing of newline-delimited JSON-RPC: bounded line splitting and the
//! classification of each line into a message, nothing, or an error answer.
//! Pure code shared by the blocking and the async stdio paths.

use rmcp::{
    RoleServer,
    model::{ErrorCode, ErrorData, JsonRpcError, RequestId},
    service::RxJsonRpcMessage,
};

/// What one line turned out to be.
#[derive(Debug)]
pub(crate) enum Frame {
    Message(Box<RxJsonRpcMessage<RoleServer>>),
    /// Nothing to deliver and nothing to answer (blank line, unknown notification).
    Skip,
    /// Answer with this error and carry on.
    Reject(JsonRpcError),
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

/// Classifies one complete line (without its newline).
pub(crate) fn classify(line: &[u8]) -> Frame {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Frame::Skip;
    }
    if let Err(err) = std::str::from_utf8(line) {
        return Frame::Reject(JsonRpcError::new(
            None,
            ErrorData::new(
                ErrorCode::PARSE_ERROR,
                format!(
                    "parse error: frame is not valid UTF-8 (invalid byte at offset {})",
                    err.valid_up_to()
                ),
                None,
            ),
        ));
    }
    match serde_json::from_slice::<RxJsonRpcMessage<RoleServer>>(line) {
        Ok(message) => Frame::Message(Box::new(message)),
        Err(err) if err.is_syntax() || err.is_eof() => Frame::Reject(JsonRpcError::new(
            None,
            ErrorData::new(
                ErrorCode::PARSE_ERROR,
                format!("parse error: frame is not valid JSON ({err})"),
                None,
            ),
        )),
        Err(err) => invalid_message(line, &err),
    }
}

/// Valid JSON that is not a message this server understands.
fn invalid_message(line: &[u8], err: &serde_json::Error) -> Frame {
    let value: serde_json::Value = match serde_json::from_slice(line) {
        Ok(value) => value,
        Err(_) => serde_json::Value::Null,
    };
    let id = value
        .get("id")
        .and_then(|id| serde_json::from_value::<RequestId>(id.clone()).ok());
    // A notification we cannot decode has nobody waiting for an answer.
    if id.is_none()
        && value
            .get("method")
            .is_some_and(serde_json::Value::is_string)
    {
        tracing::debug!(%err, "ignoring undecodable notification");
        return Frame::Skip;
    }
    Frame::Reject(JsonRpcError::new(
        id,
        ErrorData::new(
            ErrorCode::INVALID_REQUEST,
            format!("invalid request: not a JSON-RPC 2.0 message this server accepts ({err})"),
            None,
        ),
    ))
}

fn oversized(len: usize, max: usize) -> JsonRpcError {
    JsonRpcError::new(
        None,
        ErrorData::new(
            ErrorCode::INVALID_REQUEST,
            format!(
                "frame of {len} bytes exceeds the {max}-byte limit; it was discarded \
                 (raise it with --max-frame-bytes or FF_MAX_FRAME_BYTES)"
            ),
            Some(serde_json::json!({ "frameBytes": len, "maxFrameBytes": max })),
        ),
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
        assert_eq!(code_of(classify(b"[1,2]")), Some(-32600));
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
}
