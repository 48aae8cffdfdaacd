//! `core::output`: the one way tools write a file for the user (exports,
//! reports).
//!
//! A tool argument names the file, and that argument may come from a
//! prompt-injected agent. So a write must not become a way to plant code:
//! replacing `~/.bashrc` or a git hook, writing through a hard link or a
//! symlink to a file outside the roots, or leaving a world-readable file of
//! personal data. [`write()`] therefore:
//!
//! - checks the path against the [`Roots`] (`Roots::check_write`), then
//!   refuses any component below the root that starts with `.` (dotfiles,
//!   `.git/hooks`, `.config`) and any file name whose extension does not
//!   match the format ([`Kind`]);
//! - reaches the directory from the root one component at a time with
//!   `O_DIRECTORY|O_NOFOLLOW`, so a directory swapped for a symlink after
//!   the check is not followed;
//! - writes the whole content to a fresh temporary file in that directory
//!   (`O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600, fsynced), and only then puts
//!   it in place: a new file by `linkat` (fails if the name appeared
//!   meanwhile, like `O_EXCL`), a replacement by `rename` — which swaps the
//!   directory entry and never writes into the old inode, so a hard link or
//!   symlink at the target is not written through. A failed write leaves no
//!   partial file and the old file as it was;
//! - replaces an existing file only when the call says `overwrite`, and even
//!   then refuses a target that is a symlink, not a regular file, or has more
//!   than one link (checked with `fstat` on the target opened `O_NOFOLLOW`).
//!
//! The result is always a regular file of mode 0600 owned by the server's
//! user; an executable bit on a replaced file is gone.
//!
//! [`csv_cell`] is the shared spreadsheet-formula defence for CSV exports
//! (the csv crate does the RFC 4180 quoting).

use std::{
    borrow::Cow,
    io::Write,
    path::{Component, Path, PathBuf},
};

use crate::{
    roots::{Roots, RootsError},
    tool::ToolError,
};

/// What is written; decides the file name extensions accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `.csv`
    Csv,
    /// `.json`
    Json,
    /// An Atom feed: `.atom` or `.xml`.
    Atom,
    /// `.md` or `.markdown`
    Markdown,
    /// `.html` or `.htm`
    Html,
}

impl Kind {
    /// Accepted extensions, lowercase, without the dot; the first is the usual one.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Kind::Csv => &["csv"],
            Kind::Json => &["json"],
            Kind::Atom => &["atom", "xml"],
            Kind::Markdown => &["md", "markdown"],
            Kind::Html => &["html", "htm"],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Csv => "CSV",
            Kind::Json => "JSON",
            Kind::Atom => "Atom",
            Kind::Markdown => "Markdown",
            Kind::Html => "HTML",
        }
    }
}

/// A file [`write()`] put in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Where the file now is (resolved, inside the roots).
    pub path: PathBuf,
    /// Bytes written.
    pub bytes: usize,
    /// An existing file was replaced (`overwrite` was given and used).
    pub replaced: bool,
}

/// Why a file was not written. Messages name the path and what would work.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The path is not inside the allowed roots (or no roots are set).
    #[error(transparent)]
    Roots(#[from] RootsError),
    #[error(
        "path '{path}' has a component starting with '.' ('{component}'); dotfiles and hidden directories are never written"
    )]
    /// A path component starts with `.`.
    Hidden {
        /// The path as given.
        path: String,
        /// The hidden component.
        component: String,
    },
    #[error("path '{path}' must end in {expected} for {kind} output")]
    /// The extension does not match what is written.
    Extension {
        /// The path as given.
        path: String,
        /// The accepted extensions, for the message.
        expected: String,
        /// What is written (`CSV`, `JSON`, …).
        kind: &'static str,
    },
    #[error("'{path}' already exists; pass \"overwrite\": true to replace it")]
    /// The file exists and `overwrite` was not given.
    Exists {
        /// The path as given.
        path: String,
    },
    #[error("refusing to write '{path}': it is {what}")]
    /// The target is not a regular file we may replace (a symlink, a
    /// directory, a file with several links, …).
    Unsafe {
        /// The path as given.
        path: String,
        /// What the target is.
        what: String,
    },
    #[error("could not write '{path}': {reason}")]
    /// Creating, writing or renaming the file failed.
    Io {
        /// The path as given.
        path: String,
        /// The operating system's error.
        reason: String,
    },
}

impl From<OutputError> for ToolError {
    fn from(err: OutputError) -> Self {
        match err {
            OutputError::Io { .. } => ToolError::upstream(err.to_string()),
            _ => ToolError::invalid(format!("argument 'path': {err}")),
        }
    }
}

/// Neutralises a CSV cell a spreadsheet would run as a formula: a cell
/// starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading
/// `'` (OWASP "CSV injection"). Quoting is left to the csv writer.
pub fn csv_cell(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// Writes `contents` to `path` (a tool argument) under `roots` as described
/// in the module docs. Blocking; see [`write_async`].
pub fn write(
    roots: &Roots,
    path: &str,
    kind: Kind,
    contents: &[u8],
    overwrite: bool,
) -> Result<Written, OutputError> {
    let plan = plan(roots, path, kind)?;
    imp::write(
        &plan.root,
        &plan.below,
        &plan.name,
        path,
        contents,
        overwrite,
    )
    .map(|replaced| Written {
        path: plan.target,
        bytes: contents.len(),
        replaced,
    })
}

/// The checks of [`write()`] that need no writing (roots, hidden components,
/// extension), so a tool can refuse a bad path before doing the work.
/// Returns the file that would be written.
pub fn check(roots: &Roots, path: &str, kind: Kind) -> Result<PathBuf, OutputError> {
    plan(roots, path, kind).map(|plan| plan.target)
}

/// Where a checked write goes.
struct Plan {
    /// The root containing the target.
    root: PathBuf,
    /// The target relative to `root`.
    below: PathBuf,
    name: String,
    target: PathBuf,
}

fn plan(roots: &Roots, path: &str, kind: Kind) -> Result<Plan, OutputError> {
    let allowed = roots.check_write(path)?;
    let target = allowed.as_path();
    let root = roots
        .iter()
        .filter(|root| target.starts_with(root))
        .max_by_key(|root| root.as_os_str().len())
        .ok_or_else(|| OutputError::Unsafe {
            path: path.to_owned(),
            what: "outside the allowed roots".into(),
        })?;
    let below = target.strip_prefix(root).unwrap_or(target);
    for component in below.components() {
        if let Component::Normal(name) = component
            && name.to_string_lossy().starts_with('.')
        {
            return Err(OutputError::Hidden {
                path: path.to_owned(),
                component: name.to_string_lossy().into_owned(),
            });
        }
    }
    let name = below
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    if !kind
        .extensions()
        .iter()
        .any(|ext| lower.len() > ext.len() + 1 && lower.ends_with(&format!(".{ext}")))
    {
        let expected: Vec<String> = kind.extensions().iter().map(|e| format!(".{e}")).collect();
        return Err(OutputError::Extension {
            path: path.to_owned(),
            expected: expected.join(" or "),
            kind: kind.name(),
        });
    }
    Ok(Plan {
        root: root.to_path_buf(),
        below: below.to_path_buf(),
        name,
        target: target.to_path_buf(),
    })
}

/// [`write_async`] for a tool call: an existing file is replaced when the
/// call says `overwrite`, or when the person behind the client said yes
/// to the question this asks otherwise ([`crate::confirm`]; sessions that
/// cannot be asked get the "already exists" error).
pub async fn write_for_call(
    ctx: &rmcp::service::RequestContext<rmcp::RoleServer>,
    roots: Roots,
    path: String,
    kind: Kind,
    contents: Vec<u8>,
    overwrite: bool,
) -> Result<Written, ToolError> {
    let overwrite = overwrite || crate::confirm::granted(ctx, "overwrite", &path);
    match write_async(roots, path.clone(), kind, contents, overwrite).await {
        Err(err @ OutputError::Exists { .. }) => {
            Err(crate::confirm::ask_overwrite(ctx, &path, err.into()))
        }
        other => other.map_err(ToolError::from),
    }
}

/// [`write()`] on the blocking pool.
pub async fn write_async(
    roots: Roots,
    path: String,
    kind: Kind,
    contents: Vec<u8>,
    overwrite: bool,
) -> Result<Written, OutputError> {
    let shown = path.clone();
    tokio::task::spawn_blocking(move || write(&roots, &path, kind, &contents, overwrite))
        .await
        .map_err(|e| OutputError::Io {
            path: shown,
            reason: e.to_string(),
        })?
}

#[cfg(unix)]
mod imp {
    use std::{fs::File, os::fd::OwnedFd};

    use rustix::{
        fs::{AtFlags, FileType, Mode, OFlags},
        io::Errno,
    };

    use super::*;

    /// Puts `contents` at `root/below` (named `name`); true if it replaced a file.
    pub(super) fn write(
        root: &Path,
        below: &Path,
        name: &str,
        shown: &str,
        contents: &[u8],
        overwrite: bool,
    ) -> Result<bool, OutputError> {
        let io = |what: &str, e: Errno| OutputError::Io {
            path: shown.to_owned(),
            reason: format!("{what}: {e}"),
        };
        let dir = open_dir(root, below).map_err(|e| io("opening its directory", e))?;
        if overwrite {
            match check_existing(&dir, name, shown)? {
                Existing::None => {}
                Existing::Regular => {
                    let temp = write_temp(&dir, contents).map_err(|e| io("writing", e))?;
                    let renamed = rustix::fs::renameat(&dir, temp.as_str(), &dir, name);
                    if let Err(e) = renamed {
                        let _ = rustix::fs::unlinkat(&dir, temp.as_str(), AtFlags::empty());
                        return Err(io("replacing the file", e));
                    }
                    let _ = rustix::fs::fsync(&dir);
                    return Ok(true);
                }
            }
        }
        let temp = write_temp(&dir, contents).map_err(|e| io("writing", e))?;
        let linked = rustix::fs::linkat(&dir, temp.as_str(), &dir, name, AtFlags::empty());
        let _ = rustix::fs::unlinkat(&dir, temp.as_str(), AtFlags::empty());
        match linked {
            Ok(()) => {}
            Err(Errno::EXIST) => {
                return Err(OutputError::Exists {
                    path: shown.to_owned(),
                });
            }
            // A filesystem without hard links: create the target O_EXCL.
            Err(_) => write_exclusive(&dir, name, contents).map_err(|e| match e {
                Errno::EXIST => OutputError::Exists {
                    path: shown.to_owned(),
                },
                e => io("writing", e),
            })?,
        }
        let _ = rustix::fs::fsync(&dir);
        Ok(false)
    }

    /// The directory holding the target, reached from the root without
    /// following any symlink below it.
    fn open_dir(root: &Path, below: &Path) -> Result<OwnedFd, Errno> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let mut dir = rustix::fs::open(root, flags, Mode::empty())?;
        if let Some(parent) = below.parent() {
            for component in parent.components() {
                let Component::Normal(part) = component else {
                    return Err(Errno::INVAL);
                };
                dir = rustix::fs::openat(&dir, part, flags | OFlags::NOFOLLOW, Mode::empty())?;
            }
        }
        Ok(dir)
    }

    enum Existing {
        None,
        Regular,
    }

    /// What is at the target now; refuses symlinks, special files and
    /// files with more than one link.
    fn check_existing(dir: &OwnedFd, name: &str, shown: &str) -> Result<Existing, OutputError> {
        let refuse = |what: String| OutputError::Unsafe {
            path: shown.to_owned(),
            what,
        };
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(dir, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(Existing::None),
            Err(Errno::LOOP) => return Err(refuse("a symbolic link".into())),
            Err(e) => {
                return Err(OutputError::Io {
                    path: shown.to_owned(),
                    reason: format!("opening the existing file: {e}"),
                });
            }
        };
        let stat = rustix::fs::fstat(&fd).map_err(|e| OutputError::Io {
            path: shown.to_owned(),
            reason: format!("inspecting the existing file: {e}"),
        })?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
            return Err(refuse("not a regular file".into()));
        }
        if stat.st_nlink > 1 {
            return Err(refuse(format!(
                "a file with {} hard links (writing would change the other names too)",
                stat.st_nlink
            )));
        }
        Ok(Existing::Regular)
    }

    /// A fresh hidden temporary file in `dir` holding `contents`, fsynced.
    fn write_temp(dir: &OwnedFd, contents: &[u8]) -> Result<String, Errno> {
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW;
        for _ in 0..16 {
            let temp = format!(
                ".ffmcp-{}-{:016x}.tmp",
                std::process::id(),
                fastrand::u64(..)
            );
            match rustix::fs::openat(dir, temp.as_str(), flags | OFlags::CLOEXEC, mode()) {
                Ok(fd) => {
                    return match fill(fd, contents) {
                        Ok(()) => Ok(temp),
                        Err(e) => {
                            let _ = rustix::fs::unlinkat(dir, temp.as_str(), AtFlags::empty());
                            Err(e)
                        }
                    };
                }
                Err(Errno::EXIST) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Errno::EXIST)
    }

    fn write_exclusive(dir: &OwnedFd, name: &str, contents: &[u8]) -> Result<(), Errno> {
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(dir, name, flags, mode())?;
        fill(fd, contents).inspect_err(|_| {
            let _ = rustix::fs::unlinkat(dir, name, AtFlags::empty());
        })
    }

    fn fill(fd: OwnedFd, contents: &[u8]) -> Result<(), Errno> {
        // The umask can only remove bits; make 0600 exact.
        rustix::fs::fchmod(&fd, mode())?;
        let mut file = File::from(fd);
        file.write_all(contents)
            .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))?;
        rustix::fs::fsync(&file)
    }

    fn mode() -> Mode {
        Mode::from_raw_mode(0o600)
    }
}

#[cfg(not(unix))]
mod imp {
    use super::*;

    pub(super) fn write(
        _root: &Path,
        _below: &Path,
        _name: &str,
        shown: &str,
        _contents: &[u8],
        _overwrite: bool,
    ) -> Result<bool, OutputError> {
        Err(OutputError::Io {
            path: shown.to_owned(),
            reason: "writing files is supported on Unix only".into(),
        })
    }
}

#[cfg(test)]
mod tests;
