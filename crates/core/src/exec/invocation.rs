//! [`Invocation`]: one call being built, slot by slot. Every method
//! validates its slot (allowlisted flag, typed option value, checked input
//! path, plain output name, literal after `--`), so a finished invocation
//! can only be a command line the spec allows.

use std::path::PathBuf;

use super::{ExecError, MAX_ARG_BYTES, MAX_ARGS, MAX_ARGV_BYTES, MAX_WORD_BYTES, Program};
use crate::roots::AllowedPath;

/// A value for an option slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptValue {
    /// An integer, written in decimal.
    Int(i64),
    /// A word that may not start with `-` (so it can never be an option).
    Word(String),
}

impl From<i64> for OptValue {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<u32> for OptValue {
    fn from(v: u32) -> Self {
        Self::Int(i64::from(v))
    }
}

impl From<&str> for OptValue {
    fn from(v: &str) -> Self {
        Self::Word(v.to_owned())
    }
}

#[derive(Debug, Clone)]
pub(super) enum Slot {
    Text(String),
    /// A file in the per-call directory, by name.
    Output(String),
}

/// Whether `name` is a plain file name for the per-call directory.
fn plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with(['-', '.'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// One call being built; every method validates its slot.
#[derive(Debug)]
pub struct Invocation<'p> {
    pub(super) program: &'p Program,
    pub(super) args: Vec<Slot>,
    after_dashdash: bool,
    pub(super) inputs: Vec<PathBuf>,
    pub(super) stdin: Option<Vec<u8>>,
    /// Input files written into the per-call directory before the run.
    pub(super) data: Vec<(String, Vec<u8>)>,
    bytes: usize,
}

impl<'p> Invocation<'p> {
    pub(super) fn new(program: &'p Program) -> Self {
        Self {
            program,
            args: Vec::new(),
            after_dashdash: false,
            inputs: Vec::new(),
            stdin: None,
            data: Vec::new(),
            bytes: 0,
        }
    }
    fn invalid(&self, reason: String) -> ExecError {
        ExecError::InvalidArgument {
            program: self.program.name().to_owned(),
            reason,
        }
    }

    fn push(&mut self, slot: Slot) -> Result<(), ExecError> {
        let text = match &slot {
            Slot::Text(t) | Slot::Output(t) => t,
        };
        if text.contains('\0') {
            return Err(self.invalid("an argument contains a NUL byte".to_owned()));
        }
        if text.len() > MAX_ARG_BYTES {
            return Err(self.invalid(format!(
                "an argument is {} bytes; the limit is {MAX_ARG_BYTES}",
                text.len()
            )));
        }
        self.bytes += text.len() + 1;
        if self.bytes > MAX_ARGV_BYTES || self.args.len() >= MAX_ARGS {
            return Err(self.invalid(format!(
                "the command line exceeds {MAX_ARGV_BYTES} bytes or {MAX_ARGS} arguments"
            )));
        }
        self.args.push(slot);
        Ok(())
    }

    fn before_literals(&self, what: &str) -> Result<(), ExecError> {
        if self.after_dashdash {
            Err(self.invalid(format!("{what} cannot follow a literal argument")))
        } else {
            Ok(())
        }
    }

    /// An allowlisted flag.
    pub fn flag(mut self, flag: &str) -> Result<Self, ExecError> {
        if !self.program.spec.flags.iter().any(|f| f == flag) {
            return Err(ExecError::UnknownFlag {
                program: self.program.name().to_owned(),
                flag: flag.chars().take(64).collect(),
            });
        }
        self.before_literals("a flag")?;
        self.push(Slot::Text(flag.to_owned()))?;
        Ok(self)
    }

    /// An allowlisted option and its value, as two arguments.
    pub fn option(mut self, option: &str, value: impl Into<OptValue>) -> Result<Self, ExecError> {
        if !self.program.spec.options.iter().any(|f| f == option) {
            return Err(ExecError::UnknownFlag {
                program: self.program.name().to_owned(),
                flag: option.chars().take(64).collect(),
            });
        }
        self.before_literals("an option")?;
        let value = match value.into() {
            OptValue::Int(n) => n.to_string(),
            OptValue::Word(w) => {
                if w.starts_with('-') {
                    return Err(ExecError::OptionLike {
                        program: self.program.name().to_owned(),
                        value: w.chars().take(64).collect(),
                    });
                }
                if w.is_empty() || w.len() > MAX_WORD_BYTES || w.chars().any(char::is_control) {
                    return Err(self.invalid(format!(
                        "the value of {option} must be 1 to {MAX_WORD_BYTES} bytes without control characters"
                    )));
                }
                w
            }
        };
        self.push(Slot::Text(option.to_owned()))?;
        self.push(Slot::Text(value))?;
        Ok(self)
    }

    /// A fixed token the spec allows (e.g. `-` for stdout).
    pub fn token(mut self, token: &str) -> Result<Self, ExecError> {
        if !self.program.spec.tokens.iter().any(|t| t == token) {
            return Err(ExecError::UnknownFlag {
                program: self.program.name().to_owned(),
                flag: token.chars().take(64).collect(),
            });
        }
        self.push(Slot::Text(token.to_owned()))?;
        Ok(self)
    }

    /// A file under the allowed roots, readable (only) by the program.
    pub fn input(mut self, path: &AllowedPath) -> Result<Self, ExecError> {
        let text = path
            .as_path()
            .to_str()
            .ok_or_else(|| self.invalid("input paths must be valid UTF-8".to_owned()))?
            .to_owned();
        // Canonical and absolute: it starts with '/', never with '-'.
        debug_assert!(text.starts_with('/'));
        self.inputs.push(path.as_path().to_path_buf());
        self.push(Slot::Text(text))?;
        Ok(self)
    }

    /// A file the program writes in the per-call directory; read back into
    /// [`Output::files`](super::Output::files).
    pub fn output(mut self, name: &str) -> Result<Self, ExecError> {
        self.check_file_name(name)?;
        self.push(Slot::Output(name.to_owned()))?;
        Ok(self)
    }

    /// A file with `bytes`, written into the per-call directory before the
    /// program starts and passed as its absolute path (for in-memory input:
    /// a downloaded PDF, a rendered page image).
    pub fn input_data(mut self, name: &str, bytes: Vec<u8>) -> Result<Self, ExecError> {
        self.check_file_name(name)?;
        if self.data.iter().any(|(n, _)| n == name) {
            return Err(self.invalid(format!("input file '{name}' given twice")));
        }
        self.push(Slot::Output(name.to_owned()))?;
        self.data.push((name.to_owned(), bytes));
        Ok(self)
    }

    fn check_file_name(&self, name: &str) -> Result<(), ExecError> {
        if plain_file_name(name) {
            Ok(())
        } else {
            Err(self.invalid(format!(
                "file name '{}' must be a plain file name ([A-Za-z0-9._-], not starting with - or .)",
                name.chars().take(64).collect::<String>()
            )))
        }
    }

    /// Free text, passed verbatim as one argument after `--`.
    pub fn literal(mut self, value: &str) -> Result<Self, ExecError> {
        if !self.after_dashdash {
            self.push(Slot::Text("--".to_owned()))?;
            self.after_dashdash = true;
        }
        self.push(Slot::Text(value.to_owned()))?;
        Ok(self)
    }

    /// Bytes written to the program's stdin (closed afterwards).
    pub fn stdin(mut self, bytes: Vec<u8>) -> Self {
        self.stdin = Some(bytes);
        self
    }
}
