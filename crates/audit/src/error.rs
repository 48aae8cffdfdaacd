//! [`AuditError`]: why an audit, a fix or a config write produced nothing.
//! Every message names the file and what was wrong with it, because it ends
//! as the one line the user of `ffmcp audit` reads.

/// Why an audit, a fix or a config write could not finish.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A file could not be read, written or resolved; `what` names it and
    /// the step (`"reading /x/config.json"`).
    #[error("{what}: {error}")]
    Io { what: String, error: std::io::Error },
    /// The input is not what the command needs (not found, not JSON, too
    /// big, the wrong shape); the message says what would be right.
    #[error("{0}")]
    Invalid(String),
}

/// A result whose error is an [`AuditError`].
pub type Result<T, E = AuditError> = std::result::Result<T, E>;

/// An [`AuditError::Invalid`] with `message`.
pub(crate) fn invalid(message: impl Into<String>) -> AuditError {
    AuditError::Invalid(message.into())
}

/// Names the file and step an I/O error is about.
pub(crate) trait IoContext<T> {
    fn io_context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn io_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|error| AuditError::Io {
            what: what(),
            error,
        })
    }
}
