//! Hardened stdio transport: newline-delimited JSON-RPC on stdin/stdout.
//!
//! rmcp ships a stdio transport, but it does not give the guarantees ffmcp
//! promises (checked against rmcp 3.11): an oversized line is dropped without
//! any answer, and a line that is not JSON is ignored silently, so a client
//! waits forever for a response. This module replaces that framing layer and
//! keeps rmcp's service loop on top of it (framing rules in the module `framing`):
//!
//! * a line longer than the frame limit is discarded while it streams in
//!   (memory never grows past the limit) and answered with a JSON-RPC error
//!   `-32600` whose message names the limit and how to raise it;
//! * a line that is not UTF-8 or not JSON, or a batch, is answered with `-32700`;
//! * well-formed JSON that is not a JSON-RPC message is answered with
//!   `-32600`, echoing its `id` when it has one, and with `"id": null` when
//!   the id is of a type JSON-RPC forbids (rmcp would drop such a request
//!   without a word);
//! * in every case the server keeps serving the next line.
//!
//! Two I/O paths, one set of rules. When stdin/stdout are pipes or sockets
//! (what MCP clients give a server), they are driven non-blocking on the
//! runtime itself, so a request costs no thread hand-offs. Anything else (a
//! terminal, a file, an in-memory stream in tests) is served by one blocking
//! reader thread and one writer thread.
//!
//! stdout belongs to the protocol. [`protect_stdout`] moves the protocol onto
//! a private duplicate of fd 1 and points fd 1 itself at stderr, so a stray
//! write from any library (ours, a dependency, C code) lands on stderr and can
//! never corrupt the JSON-RPC stream.

use std::{
    fs::File,
    io::{self, BufRead, BufReader, Read, Write},
    sync::Arc,
    thread,
};

use rmcp::{
    RoleServer,
    service::{RxJsonRpcMessage, TxJsonRpcMessage},
    transport::Transport,
};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt},
    sync::{Mutex, mpsc},
};

use super::framing::{Frame, LineSplitter};

/// Default cap on one incoming JSON-RPC frame (one line), in bytes.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 4 * 1024 * 1024;

/// How many parsed messages may wait for the service loop before the reader
/// thread stops reading stdin (back-pressure instead of unbounded buffering).
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

type AsyncOut = Box<dyn AsyncWrite + Send + Unpin>;
type AsyncIn = Box<dyn AsyncRead + Send + Unpin>;

/// The protocol's output: a private handle on what was fd 1 at start.
pub struct ProtocolOut(OutKind);

enum OutKind {
    Blocking(Box<dyn Write + Send>),
    /// The isolated protocol fd; made async or blocking once stdin is known.
    #[cfg(unix)]
    Fd(std::os::fd::OwnedFd),
}

impl ProtocolOut {
    /// Wraps any blocking writer (tests use a socket or an in-memory pipe).
    pub fn new(writer: impl Write + Send + 'static) -> Self {
        Self(OutKind::Blocking(Box::new(writer)))
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
        use rustix::stdio;
        let isolated = rustix::io::dup(stdio::stdout())
            .and_then(|protocol| stdio::dup2_stdout(stdio::stderr()).map(|()| protocol));
        match isolated {
            Ok(fd) => return ProtocolOut(OutKind::Fd(fd)),
            Err(err) => {
                tracing::warn!(%err, "could not isolate stdout; stray output could corrupt the protocol stream");
            }
        }
    }
    ProtocolOut::new(io::stdout())
}

/// A server-side rmcp [`Transport`] with the framing guarantees described in
/// the module docs.
pub struct StdioTransport {
    inbound: Inbound,
    outbound: Option<Outbound>,
}

enum Inbound {
    /// Messages parsed by the reader thread.
    Thread(mpsc::Receiver<RxJsonRpcMessage<RoleServer>>),
    /// Read and parsed in `receive` itself.
    Async(tokio::io::BufReader<AsyncIn>, LineSplitter),
}

#[derive(Clone)]
enum Outbound {
    Thread(mpsc::Sender<Vec<u8>>),
    Async(Arc<Mutex<AsyncOut>>),
}

impl Outbound {
    async fn write(self, frame: Vec<u8>) -> io::Result<()> {
        match self {
            Outbound::Thread(sender) => sender.send(frame).await.map_err(|_| closed()),
            Outbound::Async(out) => {
                let mut out = out.lock().await;
                out.write_all(&frame).await?;
                out.flush().await
            }
        }
    }
}

impl StdioTransport {
    /// Serves the process's own stdin, and `out` (see [`protect_stdout`]).
    pub fn stdio(out: ProtocolOut, options: StdioOptions) -> Self {
        #[cfg(unix)]
        if let OutKind::Fd(out_fd) = out.0 {
            let input = match rustix::io::dup(rustix::stdio::stdin()) {
                Ok(in_fd) => unix::async_reader(in_fd),
                Err(err) => {
                    tracing::warn!(%err, "could not duplicate stdin; serving it blocking");
                    return Self::new(io::stdin(), ProtocolOut::new(File::from(out_fd)), options);
                }
            };
            return match (input, unix::async_writer(out_fd)) {
                (Ok(input), Ok(writer)) => Self {
                    inbound: Inbound::Async(
                        tokio::io::BufReader::with_capacity(64 * 1024, input),
                        LineSplitter::new(options.max_frame_bytes),
                    ),
                    outbound: Some(Outbound::Async(Arc::new(Mutex::new(writer)))),
                },
                (_, Err(out_fd)) => {
                    // Making stdin async may already have set O_NONBLOCK on
                    // its (shared) file description, and a parent such as a
                    // Node launcher may have too: the blocking reader needs
                    // it off, or reads fail with EAGAIN.
                    unix::set_blocking(rustix::stdio::stdin());
                    Self::new(io::stdin(), ProtocolOut::new(File::from(out_fd)), options)
                }
                // stdin is a terminal or a file, stdout a pipe: read blocking, write async.
                (Err(_), Ok(writer)) => {
                    unix::set_blocking(rustix::stdio::stdin());
                    Self::with_outbound(
                        io::stdin(),
                        Outbound::Async(Arc::new(Mutex::new(writer))),
                        options,
                    )
                }
            };
        }
        Self::new(io::stdin(), out, options)
    }

    /// Serves any blocking reader and writer, on two dedicated threads.
    pub fn new(input: impl Read + Send + 'static, out: ProtocolOut, options: StdioOptions) -> Self {
        let writer: Box<dyn Write + Send> = match out.0 {
            OutKind::Blocking(writer) => writer,
            #[cfg(unix)]
            OutKind::Fd(fd) => Box::new(File::from(fd)),
        };
        let (out_tx, out_rx) = mpsc::channel::<Vec<u8>>(OUTBOUND_QUEUE);
        spawn_named("ffmcp-stdout", move || write_loop(writer, out_rx));
        Self::with_outbound(input, Outbound::Thread(out_tx), options)
    }

    fn with_outbound(
        input: impl Read + Send + 'static,
        outbound: Outbound,
        options: StdioOptions,
    ) -> Self {
        let (in_tx, in_rx) = mpsc::channel(INBOUND_QUEUE);
        let errors = outbound.clone();
        let runtime = tokio::runtime::Handle::try_current().ok();
        spawn_named("ffmcp-stdin", move || {
            read_loop(input, options.max_frame_bytes, &in_tx, &errors, runtime);
        });
        Self {
            inbound: Inbound::Thread(in_rx),
            outbound: Some(outbound),
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
        let outbound = self.outbound.clone();
        let frame = encode(&item);
        async move { outbound.ok_or_else(closed)?.write(frame?).await }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        match &mut self.inbound {
            Inbound::Thread(receiver) => receiver.recv().await,
            Inbound::Async(reader, splitter) => loop {
                // Cancel-safe: `fill_buf` consumes nothing, and feeding the
                // splitter and consuming happen together with no await between.
                let available = match reader.fill_buf().await {
                    Ok(bytes) => bytes,
                    Err(err) => {
                        tracing::error!(%err, "reading stdin failed; closing");
                        return None;
                    }
                };
                let ended = if available.is_empty() {
                    if !splitter.finish() {
                        return None;
                    }
                    true
                } else {
                    let (used, ended) = splitter.feed(available);
                    reader.consume(used);
                    ended
                };
                if !ended {
                    continue;
                }
                match splitter.frame() {
                    Frame::Message(message) => return Some(*message),
                    Frame::Skip => {}
                    Frame::Reject(error) => {
                        tracing::warn!(code = error.error.code.0, message = %error.error.message, "rejected incoming frame");
                        if let (Some(out), Ok(frame)) = (self.outbound.clone(), encode(&error)) {
                            // Answered off this future so `receive` stays cancel-safe.
                            tokio::spawn(async move {
                                if let Err(err) = out.write(frame).await {
                                    tracing::debug!(%err, "could not send error frame");
                                }
                            });
                        }
                    }
                }
            },
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.outbound = None;
        if let Inbound::Thread(receiver) = &mut self.inbound {
            receiver.close();
        }
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

fn write_loop(mut out: Box<dyn Write + Send>, mut frames: mpsc::Receiver<Vec<u8>>) {
    while let Some(frame) = frames.blocking_recv() {
        // Write and flush each frame whole; coalesce what is already queued.
        let mut result = out.write_all(&frame);
        while result.is_ok() {
            match frames.try_recv() {
                Ok(next) => result = out.write_all(&next),
                Err(_) => break,
            }
        }
        if let Err(err) = result.and_then(|()| out.flush()) {
            tracing::debug!(%err, "stdout closed; stopping writer");
            return;
        }
    }
}

fn read_loop(
    input: impl Read,
    max_frame_bytes: usize,
    inbound: &mpsc::Sender<RxJsonRpcMessage<RoleServer>>,
    outbound: &Outbound,
    runtime: Option<tokio::runtime::Handle>,
) {
    let mut reader = BufReader::with_capacity(64 * 1024, input);
    let mut splitter = LineSplitter::new(max_frame_bytes);
    loop {
        let available = match reader.fill_buf() {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => {
                tracing::error!(%err, "reading stdin failed; closing");
                return;
            }
        };
        if available.is_empty() {
            if !splitter.finish() {
                return;
            }
        } else {
            let (used, ended) = splitter.feed(available);
            reader.consume(used);
            if !ended {
                continue;
            }
        }
        match splitter.frame() {
            Frame::Message(message) => {
                if inbound.blocking_send(*message).is_err() {
                    return;
                }
            }
            Frame::Skip => {}
            Frame::Reject(error) => {
                tracing::warn!(code = error.error.code.0, message = %error.error.message, "rejected incoming frame");
                let Ok(frame) = encode(&error) else { continue };
                let sent = match outbound {
                    Outbound::Thread(sender) => sender.blocking_send(frame).is_ok(),
                    Outbound::Async(_) => match &runtime {
                        Some(handle) => handle.block_on(outbound.clone().write(frame)).is_ok(),
                        None => false,
                    },
                };
                if !sent {
                    return;
                }
            }
        }
    }
}

/// Non-blocking pipes and sockets on Unix.
#[cfg(unix)]
mod unix {
    use std::os::fd::OwnedFd;

    use rustix::fs::{FileType, fstat};

    use super::{AsyncIn, AsyncOut};

    fn kind(fd: &OwnedFd) -> Option<FileType> {
        fstat(fd).ok().map(|st| FileType::from_raw_mode(st.st_mode))
    }

    /// `fd` as an async reader when it is a pipe or a socket; else `fd` back.
    pub(super) fn async_reader(fd: OwnedFd) -> Result<AsyncIn, OwnedFd> {
        let Ok(copy) = fd.try_clone() else {
            return Err(fd);
        };
        match kind(&fd) {
            Some(FileType::Fifo) => tokio::net::unix::pipe::Receiver::from_owned_fd(copy)
                .map(|p| Box::new(p) as AsyncIn)
                .map_err(|_| fd),
            Some(FileType::Socket) => socket(copy).map(|s| Box::new(s) as AsyncIn).ok_or(fd),
            _ => Err(fd),
        }
    }

    /// `fd` as an async writer when it is a pipe or a socket; else `fd` back.
    pub(super) fn async_writer(fd: OwnedFd) -> Result<AsyncOut, OwnedFd> {
        let Ok(copy) = fd.try_clone() else {
            return Err(fd);
        };
        match kind(&fd) {
            Some(FileType::Fifo) => tokio::net::unix::pipe::Sender::from_owned_fd(copy)
                .map(|p| Box::new(p) as AsyncOut)
                .map_err(|_| fd),
            Some(FileType::Socket) => socket(copy).map(|s| Box::new(s) as AsyncOut).ok_or(fd),
            _ => Err(fd),
        }
    }

    /// Clears O_NONBLOCK on `fd` (best effort).
    pub(super) fn set_blocking(fd: impl std::os::fd::AsFd) {
        use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
        if let Ok(flags) = fcntl_getfl(&fd)
            && flags.contains(OFlags::NONBLOCK)
        {
            let _ = fcntl_setfl(&fd, flags - OFlags::NONBLOCK);
        }
    }

    fn socket(fd: OwnedFd) -> Option<tokio::net::UnixStream> {
        let std = std::os::unix::net::UnixStream::from(fd);
        std.set_nonblocking(true).ok()?;
        tokio::net::UnixStream::from_std(std).ok()
    }
}
