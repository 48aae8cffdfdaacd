//! Hardened stdio transport: newline-delimited JSON-RPC on stdin/stdout.
//!
//! rmcp ships a stdio transport, but it does not give the guarantees ffmcp
//! promises (checked against rmcp 3.11): an oversized line is dropped without
//! any answer, and a line that is not JSON is ignored silently, so a client
//! waits forever for a response. This module replaces that framing layer and
//! keeps rmcp's service loop on top of it:
//!
//! * a line longer than the frame limit is discarded while it streams in
//!   (memory never grows past the limit) and answered with a JSON-RPC error
//!   `-32600` whose message names the limit and how to raise it;
//! * a line that is not UTF-8 or not JSON is answered with `-32700`;
//! * well-formed JSON that is not a JSON-RPC message is answered with
//!   `-32600`, echoing its `id` when it has one;
//! * in every case the server keeps serving the next line.
//!
//! stdout belongs to the protocol. [`protect_stdout`] moves the protocol onto
//! a private duplicate of fd 1 and points fd 1 itself at stderr, so a stray
//! write from any library (ours, a dependency, C code) lands on stderr and can
//! never corrupt the JSON-RPC stream.

use std::{
    fs::File,
    io::{self, BufRead, BufReader, Read, Write},
    thread,
};

use rmcp::{
    RoleServer,
    model::{ErrorCode, ErrorData, JsonRpcError, RequestId},
    service::{RxJsonRpcMessage, TxJsonRpcMessage},
    transport::Transport,
};
use tokio::sync::mpsc;

/// Default cap on one incoming JSON-RPC frame (one line), in bytes.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 4 * 1024 * 1024;

/// How many parsed messages may wait for the service loop before the reader
/// stops reading stdin (back-pressure instead of unbounded buffering).
const INBOUND_QUEUE: usize = 64;
/// How many outgoing frames may wait for the writer thread.
const OUTBOUND_QUEUE: usize = 256;

/// Options for [`StdioTransport`].
#[derive(Debug, Clone)]
pub struct StdioOptions {
    /// Largest accepted frame in bytes (excluding the newline).
    pub max_frame_bytes: usize,
}

impl Default for StdioOptions {
    fn default() -> Self {
        Self {
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
        }
    }
}

/// The protocol's output: a private handle on what was fd 1 at start.
pub struct ProtocolOut(Box<dyn Write + Send>);

impl ProtocolOut {
    /// Wraps any writer (tests use an in-memory pipe).
    pub fn new(writer: impl Write + Send + 'static) -> Self {
        Self(Box::new(writer))
    }
}

/// Duplicates fd 1 for the protocol and redirects fd 1 to stderr, so that
/// nothing but protocol frames can ever reach the client's stdout pipe.
///
/// Falls back to plain stdout (with a warning) where the platform cannot do
/// this; the workspace lints still forbid `print!` everywhere.
pub fn protect_stdout() -> ProtocolOut {
    #[cfg(unix)]
    {
        match redirect_stdout_to_stderr() {
            Ok(file) => return ProtocolOut::new(file),
            Err(err) => {
                tracing::warn!(%err, "could not isolate stdout; stray output could corrupt the protocol stream");
            }
        }
    }
    ProtocolOut::new(io::stdout())
}

#[cfg(unix)]
fn redirect_stdout_to_stderr() -> io::Result<File> {
    use rustix::stdio;
    let protocol = rustix::io::dup(stdio::stdout())?;
    stdio::dup2_stdout(stdio::stderr())?;
    Ok(File::from(protocol))
}

/// A server-side rmcp [`Transport`] over a byte reader and writer, with the
/// framing guarantees described in the module docs.
///
/// Reading and writing happen on two dedicated OS threads. Blocking pipes
/// are then never polled from the async runtime, `receive` is trivially
/// cancel-safe (it only awaits a channel), and a slow client cannot stall
/// the runtime's workers.
pub struct StdioTransport {
    inbound: mpsc::Receiver<RxJsonRpcMessage<RoleServer>>,
    outbound: Option<mpsc::Sender<Vec<u8>>>,
}

impl StdioTransport {
    /// Serves the process's own stdin, and `out` (see [`protect_stdout`]).
    pub fn stdio(out: ProtocolOut, options: StdioOptions) -> Self {
        Self::new(io::stdin(), out, options)
    }

    /// Serves any reader/writer pair.
    pub fn new(input: impl Read + Send + 'static, out: ProtocolOut, options: StdioOptions) -> Self {
        let (out_tx, out_rx) = mpsc::channel::<Vec<u8>>(OUTBOUND_QUEUE);
        let (in_tx, in_rx) = mpsc::channel(INBOUND_QUEUE);

        spawn_named("ffmcp-stdout", move || write_loop(out, out_rx));
        let errors = out_tx.clone();
        spawn_named("ffmcp-stdin", move || {
            read_loop(input, options.max_frame_bytes, &in_tx, &errors);
        });

        Self {
            inbound: in_rx,
            outbound: Some(out_tx),
        }
    }
}

fn spawn_named(name: &str, f: impl FnOnce() + Send + 'static) {
    if let Err(err) = thread::Builder::new().name(name.to_owned()).spawn(f) {
        tracing::error!(%err, thread = name, "could not start stdio thread");
    }
}

impl Transport<RoleServer> for StdioTransport {
    type Error = io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let sender = self.outbound.clone();
        async move {
            let sender = sender.ok_or_else(closed)?;
            let frame = encode(&item)?;
            sender.send(frame).await.map_err(|_| closed())
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        self.inbound.recv().await
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.outbound = None;
        self.inbound.close();
        Ok(())
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "stdio transport is closed")
}

fn encode(item: &impl serde::Serialize) -> io::Result<Vec<u8>> {
    let mut frame = serde_json::to_vec(item)?;
    frame.push(b'\n');
    Ok(frame)
}

fn write_loop(mut out: ProtocolOut, mut frames: mpsc::Receiver<Vec<u8>>) {
    while let Some(frame) = frames.blocking_recv() {
        // Write and flush each frame whole; coalesce what is already queued.
        let mut result = out.0.write_all(&frame);
        while result.is_ok() {
            match frames.try_recv() {
                Ok(next) => result = out.0.write_all(&next),
                Err(_) => break,
            }
        }
        if let Err(err) = result.and_then(|()| out.0.flush()) {
            tracing::debug!(%err, "stdout closed; stopping writer");
            return;
        }
    }
}

/// What one line turned out to be.
#[derive(Debug)]
pub(crate) enum Frame {
    Message(Box<RxJsonRpcMessage<RoleServer>>),
    /// Nothing to deliver and nothing to answer (blank line, unknown notification).
    Skip,
    /// Answer with this error and carry on.
    Reject(JsonRpcError),
}

fn read_loop(
    input: impl Read,
    max_frame_bytes: usize,
    inbound: &mpsc::Sender<RxJsonRpcMessage<RoleServer>>,
    errors: &mpsc::Sender<Vec<u8>>,
) {
    let mut reader = BoundedLines::new(input, max_frame_bytes);
    loop {
        let frame = match reader.next_line() {
            Ok(Line::Complete(line)) => classify(line),
            Ok(Line::Oversized(len)) => Frame::Reject(oversized(len, max_frame_bytes)),
            Ok(Line::Eof) => return,
            Err(err) => {
                tracing::error!(%err, "reading stdin failed; closing");
                return;
            }
        };
        match frame {
            Frame::Message(message) => {
                if inbound.blocking_send(*message).is_err() {
                    return;
                }
            }
            Frame::Skip => {}
            Frame::Reject(error) => {
                tracing::warn!(code = error.error.code.0, message = %error.error.message, "rejected incoming frame");
                let Ok(bytes) = encode(&error) else { continue };
                if errors.blocking_send(bytes).is_err() {
                    return;
                }
            }
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

/// One read from [`BoundedLines`].
#[derive(Debug, PartialEq)]
pub(crate) enum Line<'a> {
    Complete(&'a [u8]),
    /// A line longer than the limit, already skipped; carries its length.
    Oversized(usize),
    Eof,
}

/// Newline-delimited reader whose buffer never grows past the limit.
pub(crate) struct BoundedLines<R> {
    reader: BufReader<R>,
    buf: Vec<u8>,
    max: usize,
}

impl<R: Read> BoundedLines<R> {
    pub(crate) fn new(input: R, max: usize) -> Self {
        Self {
            reader: BufReader::with_capacity(64 * 1024, input),
            buf: Vec::new(),
            max,
        }
    }

    pub(crate) fn next_line(&mut self) -> io::Result<Line<'_>> {
        self.buf.clear();
        let mut overflow: Option<usize> = None;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(bytes) => bytes,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
            if available.is_empty() {
                // EOF: a trailing line without a newline is still a frame.
                return Ok(match overflow {
                    Some(len) => Line::Oversized(len),
                    None if self.buf.is_empty() => Line::Eof,
                    None => Line::Complete(&self.buf),
                });
            }
            let newline = available.iter().position(|b| *b == b'\n');
            let take = newline.map_or(available.len(), |i| i + 1);
            let content = newline.unwrap_or(available.len());
            match overflow.as_mut() {
                Some(len) => *len += content,
                None if self.buf.len() + content > self.max => {
                    overflow = Some(self.buf.len() + content);
                    self.buf = Vec::new();
                }
                None => self.buf.extend_from_slice(&available[..content]),
            }
            self.reader.consume(take);
            if newline.is_some() {
                return Ok(match overflow {
                    Some(len) => Line::Oversized(len),
                    None => Line::Complete(&self.buf),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<String> {
        let mut reader = BoundedLines::new(input, max);
        let mut out = Vec::new();
        loop {
            match reader.next_line().expect("in-memory read") {
                Line::Complete(l) => out.push(String::from_utf8_lossy(l).into_owned()),
                Line::Oversized(n) => out.push(format!("<oversized {n}>")),
                Line::Eof => return out,
            }
        }
    }

    #[test]
    fn splits_and_bounds_lines() {
        assert_eq!(lines(b"a\nbb\n", 4), ["a", "bb"]);
        assert_eq!(lines(b"abcdef\nok\n", 4), ["<oversized 6>", "ok"]);
        assert_eq!(lines(b"abcd\n", 4), ["abcd"]);
        assert_eq!(lines(b"tail", 8), ["tail"]);
        assert_eq!(lines(b"toolongtail", 4), ["<oversized 11>"]);
        assert!(lines(b"", 4).is_empty());
    }

    #[test]
    fn oversized_line_spanning_buffer_refills_is_measured_whole() {
        let mut input = vec![b'x'; 200_000];
        input.extend_from_slice(b"\n{}\n");
        assert_eq!(lines(&input, 1000), ["<oversized 200000>", "{}"]);
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
