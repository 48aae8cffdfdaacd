//! Content decoding of response bodies (gzip, deflate, brotli).
//!
//! Done here rather than by reqwest for two reasons: reqwest drops the
//! `Content-Encoding` header when it decodes, so no caller could tell what
//! the server sent (seo's compression check needs exactly that), and the
//! decoder writes into a sink that refuses bytes past the cap, so a bomb
//! stops at the limit as it is produced, one decoder buffer at a time.
//! A coding we did not ask for (`Accept-Encoding: gzip, br, deflate`) is
//! passed through as sent, as reqwest does.

use std::io::{self, Write};

use reqwest::header::{self, HeaderMap};

/// What `Accept-Encoding` offers.
pub(super) const ACCEPTED: &str = "gzip, br, deflate";

/// Why a body could not be decoded.
#[derive(Debug)]
pub(super) enum DecodeError {
    /// The decoded body passed the cap.
    TooLarge,
    /// The encoded stream is corrupt.
    Corrupt {
        coding: &'static str,
        reason: String,
    },
}

/// The server's `Content-Encoding`, lower-cased, when it names one other
/// than `identity`.
pub(super) fn content_encoding(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_ENCODING)?.to_str().ok()?;
    let value = value.trim().to_ascii_lowercase();
    (!value.is_empty() && value != "identity").then_some(value)
}

/// Decodes a body chunk by chunk into a capped buffer.
pub(super) struct BodyDecoder {
    state: State,
    seen_input: bool,
}

enum State {
    Identity(Capped),
    Gzip(flate2::write::MultiGzDecoder<Capped>),
    Deflate(flate2::write::ZlibDecoder<Capped>),
    Brotli(Box<brotli_decompressor::DecompressorWriter<Capped>>),
}

impl BodyDecoder {
    /// A decoder for `encoding` (from [`content_encoding`]); unknown or
    /// stacked codings are kept as sent.
    pub(super) fn new(encoding: Option<&str>, limit: u64) -> Self {
        let sink = Capped {
            body: Vec::new(),
            limit,
            over: false,
        };
        let state = match encoding {
            Some("gzip" | "x-gzip") => State::Gzip(flate2::write::MultiGzDecoder::new(sink)),
            Some("deflate") => State::Deflate(flate2::write::ZlibDecoder::new(sink)),
            Some("br") => State::Brotli(Box::new(brotli_decompressor::DecompressorWriter::new(
                sink, 8192,
            ))),
            _ => State::Identity(sink),
        };
        Self {
            state,
            seen_input: false,
        }
    }

    /// Feeds one chunk of the encoded body.
    pub(super) fn push(&mut self, chunk: &[u8]) -> Result<(), DecodeError> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.seen_input = true;
        let result = match &mut self.state {
            State::Identity(sink) => sink.write_all(chunk),
            State::Gzip(d) => d.write_all(chunk),
            State::Deflate(d) => d.write_all(chunk),
            State::Brotli(d) => d.write_all(chunk),
        };
        result.map_err(|e| self.error(&e))
    }

    /// The decoded body, once the encoded body has ended.
    pub(super) fn finish(mut self) -> Result<Vec<u8>, DecodeError> {
        // No body at all (a 204, a 304, a HEAD-like answer): nothing to
        // decode, whatever the header says.
        if !self.seen_input {
            return Ok(Vec::new());
        }
        let ended = match &mut self.state {
            State::Identity(_) => Ok(()),
            State::Gzip(d) => d.try_finish(),
            State::Deflate(d) => d.try_finish(),
            State::Brotli(d) => d.close(),
        };
        ended.map_err(|e| self.error(&e))?;
        let coding = self.coding();
        let early = |e: io::Error| DecodeError::Corrupt {
            coding,
            reason: e.to_string(),
        };
        match self.state {
            State::Identity(sink) => Ok(sink.body),
            State::Gzip(d) => d.finish().map(|s| s.body).map_err(early),
            State::Deflate(d) => d.finish().map(|s| s.body).map_err(early),
            State::Brotli(d) => d
                .into_inner()
                .map(|s| s.body)
                .map_err(|_| DecodeError::Corrupt {
                    coding,
                    reason: "the stream ended early".to_owned(),
                }),
        }
    }

    fn coding(&self) -> &'static str {
        match self.state {
            State::Identity(_) => "identity",
            State::Gzip(_) => "gzip",
            State::Deflate(_) => "deflate",
            State::Brotli(_) => "br",
        }
    }

    fn error(&self, e: &io::Error) -> DecodeError {
        let over = match &self.state {
            State::Identity(s) => s.over,
            State::Gzip(d) => d.get_ref().over,
            State::Deflate(d) => d.get_ref().over,
            State::Brotli(d) => d.get_ref().over,
        };
        if over {
            DecodeError::TooLarge
        } else {
            DecodeError::Corrupt {
                coding: self.coding(),
                reason: e.to_string(),
            }
        }
    }
}

/// The message of the sink's refusal.
const OVER_CAP: &str = "decoded body over the cap";

/// A buffer that refuses to grow past `limit`.
struct Capped {
    body: Vec<u8>,
    limit: u64,
    over: bool,
}

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.body.len() as u64 + buf.len() as u64 > self.limit {
            self.over = true;
            return Err(io::Error::other(OVER_CAP));
        }
        self.body.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
