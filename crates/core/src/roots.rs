//! Filesystem roots: the only directories ffmcp tools may read or write.
//!
//! Every tool that takes a local path turns it into an [`AllowedPath`]
//! through [`Roots`] once, at the boundary, and then trusts the type. A path
//! is accepted only if, after resolving every symlink, it lies inside one of
//! the configured roots. Refused with a message naming the path and the
//! roots: NUL bytes, `..` components, empty paths, symlinks that leave a
//! root, device files, FIFOs and sockets, and any path at all when no root
//! is configured.
//!
//! Errors never tell what lies outside the roots: a path outside (existing
//! or not, directly or through a symlink) gets one message, "outside the
//! allowed roots", without the resolved target.
//!
//! Check-then-open: [`AllowedPath::open_read`] opens the checked path again
//! with `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)` relative to its
//! root (Linux 5.6+), so a symlink swapped in after the check cannot lead the
//! open out of the root; where the kernel lacks openat2 it falls back to an
//! `O_NOFOLLOW` open of the canonical path.

use std::{
    fmt,
    path::{Component, Path, PathBuf},
};

use crate::tool::ToolError;

/// Environment variable listing the roots (OS path-list syntax, `:` on Unix).
pub const ROOTS_ENV: &str = "FF_ROOTS";

/// How long a client gets to answer `roots/list`.
const CLIENT_ROOTS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The directories tools may touch, canonicalised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roots(Vec<PathBuf>);

/// A path checked against [`Roots`]: canonical and inside a root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedPath {
    path: PathBuf,
    /// The root it was found under.
    root: PathBuf,
}

impl AllowedPath {
    /// The resolved path (symlinks followed), inside its root.
    pub fn as_path(&self) -> &Path {
        &self.path
    }

    /// The root this path lies under.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Opens the file for reading, resolving it again beneath its root (see
    /// the module docs), and checks that what was opened is a regular file.
    /// Blocking: call it off the async workers for anything but tests.
    pub fn open_read(&self) -> std::io::Result<std::fs::File> {
        let file = std::fs::File::from(open_beneath(&self.root, &self.path)?);
        if !file.metadata()?.is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        Ok(file)
    }
}

impl AsRef<Path> for AllowedPath {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

/// Opens `path` (inside `root`) read-only without following a symlink out
/// of `root`, without blocking on a FIFO and without becoming a
/// controlling terminal.
#[cfg(target_os = "linux")]
fn open_beneath(root: &Path, path: &Path) -> std::io::Result<std::os::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    let relative = path.strip_prefix(root).map_err(|_| {
        std::io::Error::new(std::io::ErrorKind::PermissionDenied, "outside its root")
    })?;
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
    let dir = rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let relative = if relative.as_os_str().is_empty() {
        Path::new(".")
    } else {
        relative
    };
    match rustix::fs::openat2(
        &dir,
        relative,
        flags,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
    ) {
        Err(rustix::io::Errno::NOSYS) => Ok(rustix::fs::open(
            path,
            flags | OFlags::NOFOLLOW,
            Mode::empty(),
        )?),
        Err(rustix::io::Errno::XDEV) => Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the path left its root while being opened",
        )),
        other => Ok(other?),
    }
}

#[cfg(not(target_os = "linux"))]
fn open_beneath(_root: &Path, path: &Path) -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)?;
    Ok(file.into())
}

/// Why a path was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RootsError {
    #[error(
        "no filesystem roots are configured, so local paths cannot be used; set {ROOTS_ENV} to the directories ffmcp may read (e.g. {ROOTS_ENV}=$HOME/Documents)"
    )]
    /// No roots are configured, so no local path is allowed.
    NoRoots,
    /// A configured root does not exist or cannot be resolved: the root
    /// and the reason.
    #[error("root '{0}' cannot be used: {1}")]
    BadRoot(String, String),
    /// The path is the empty string.
    #[error("path is empty")]
    Empty,
    /// The path contains a NUL byte (the path, escaped).
    #[error("path '{0}' contains a NUL byte")]
    Nul(String),
    #[error(
        "path '{0}' contains '..'; give a path inside the allowed roots without parent references"
    )]
    /// The path contains a `..` component (the path as given).
    ParentReference(String),
    /// The path does not resolve inside the roots, or cannot be read.
    #[error("path '{path}' does not exist inside the allowed roots or cannot be read ({reason})")]
    Missing {
        /// The path as given.
        path: String,
        /// The operating system's error.
        reason: String,
    },
    /// One message for every path outside the roots, whether it exists or
    /// not and wherever a symlink points.
    #[error("path '{path}' is outside the allowed roots ({roots})")]
    Outside {
        /// The path as given.
        path: String,
        /// The configured roots, for the message.
        roots: String,
    },
    /// The path names a directory, device, socket or FIFO where a regular
    /// file is needed.
    #[error("path '{path}' is a {kind}, not a regular file")]
    NotRegular {
        /// The path as given.
        path: String,
        /// What it is instead.
        kind: &'static str,
    },
}

impl From<RootsError> for ToolError {
    fn from(err: RootsError) -> Self {
        ToolError::invalid(err.to_string())
    }
}

impl Roots {
    /// Canonicalises each root; each must be an existing directory.
    pub fn new<I, P>(roots: I) -> Result<Self, RootsError>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        let mut canonical = Vec::new();
        for root in roots {
            let root = root.as_ref();
            let shown = root.display().to_string();
            let resolved = root
                .canonicalize()
                .map_err(|e| RootsError::BadRoot(shown.clone(), e.to_string()))?;
            if !resolved.is_dir() {
                return Err(RootsError::BadRoot(shown, "not a directory".into()));
            }
            if !canonical.contains(&resolved) {
                canonical.push(resolved);
            }
        }
        Ok(Self(canonical))
    }

    /// Roots from `FF_ROOTS`; none when it is unset or empty.
    pub fn from_config(config: &crate::config::Config) -> Result<Self, RootsError> {
        match config.get(ROOTS_ENV) {
            Some(list) => {
                Self::new(std::env::split_paths(&list).filter(|p| !p.as_os_str().is_empty()))
            }
            _ => Ok(Self::default()),
        }
    }

    /// The roots for one request: `self` (from `FF_ROOTS`) combined with
    /// the roots the MCP client announces, when it supports `roots/list`.
    ///
    /// - No configured roots: the client's roots are used as they are.
    /// - Configured roots: they are the ceiling. Client roots inside them
    ///   narrow the set; client roots outside are ignored (logged), and if
    ///   none is inside, the configured roots apply unchanged.
    ///
    /// Only `file://` URIs naming existing directories count.
    ///
    /// `roots/list` is deprecated by SEP-2577 but still what desktop clients
    /// send; when rmcp drops it this falls back to the configured roots.
    #[allow(deprecated)]
    pub async fn for_client(&self, peer: &rmcp::Peer<rmcp::RoleServer>) -> Roots {
        let supports = peer
            .peer_info()
            .is_some_and(|info| info.capabilities.roots.is_some());
        if !supports {
            return self.clone();
        }
        let listed = tokio::time::timeout(CLIENT_ROOTS_TIMEOUT, peer.list_roots()).await;
        let uris: Vec<String> = match listed {
            Ok(Ok(result)) => result.roots.into_iter().map(|r| r.uri).collect(),
            Ok(Err(e)) => {
                tracing::debug!("roots/list failed: {e}");
                return self.clone();
            }
            Err(_) => {
                tracing::warn!("the client did not answer roots/list in time");
                return self.clone();
            }
        };
        self.narrowed_by(&uris)
    }

    /// The combination rule of [`Roots::for_client`], on `file://` URIs.
    pub fn narrowed_by(&self, client_uris: &[String]) -> Roots {
        let client: Vec<PathBuf> = client_uris
            .iter()
            .filter_map(|uri| url::Url::parse(uri).ok())
            .filter(|url| url.scheme() == "file")
            .filter_map(|url| url.to_file_path().ok())
            .filter_map(|path| path.canonicalize().ok())
            .filter(|path| path.is_dir())
            .collect();
        if self.is_empty() {
            let mut roots = Roots::default();
            for path in client {
                if !roots.0.contains(&path) {
                    roots.0.push(path);
                }
            }
            return roots;
        }
        let (inside, outside): (Vec<PathBuf>, Vec<PathBuf>) = client
            .into_iter()
            .partition(|path| self.0.iter().any(|root| path.starts_with(root)));
        for path in &outside {
            tracing::warn!(
                path = %path.display(),
                "the client announced a root outside {ROOTS_ENV}; ignored"
            );
        }
        if inside.is_empty() {
            self.clone()
        } else {
            Roots(inside)
        }
    }

    /// No roots: every local path is refused.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The roots, canonical.
    pub fn iter(&self) -> impl Iterator<Item = &Path> {
        self.0.iter().map(PathBuf::as_path)
    }

    /// An existing regular file to read. Relative paths are taken relative
    /// to the first root.
    pub fn check_read(&self, path: &str) -> Result<AllowedPath, RootsError> {
        let candidate = self.candidate(path)?;
        let resolved = candidate
            .canonicalize()
            .map_err(|e| self.unresolvable(path, &candidate, &e))?;
        let root = self.inside(path, &resolved)?;
        let kind = file_kind(&resolved, path)?;
        if kind != "regular file" {
            return Err(RootsError::NotRegular {
                path: path.to_owned(),
                kind,
            });
        }
        Ok(AllowedPath {
            path: resolved,
            root,
        })
    }

    /// A file to create or overwrite: its directory must exist inside a
    /// root, and an existing target must be a regular file (not a symlink).
    pub fn check_write(&self, path: &str) -> Result<AllowedPath, RootsError> {
        let candidate = self.candidate(path)?;
        let (Some(parent), Some(name)) = (candidate.parent(), candidate.file_name()) else {
            return Err(RootsError::Empty);
        };
        let parent =
            parent
                .canonicalize()
                .map_err(|e| match self.unresolvable(path, parent, &e) {
                    RootsError::Missing { path, reason } => RootsError::Missing {
                        path,
                        reason: format!("its directory: {reason}"),
                    },
                    other => other,
                })?;
        let target = parent.join(name);
        let root = self.inside(path, &target)?;
        let allowed = AllowedPath { path: target, root };
        match std::fs::symlink_metadata(&allowed.path) {
            Ok(meta) if meta.file_type().is_symlink() => Err(RootsError::NotRegular {
                path: path.to_owned(),
                kind: "symbolic link",
            }),
            Ok(_) => match file_kind(&allowed.path, path)? {
                "regular file" => Ok(allowed),
                kind => Err(RootsError::NotRegular {
                    path: path.to_owned(),
                    kind,
                }),
            },
            Err(_) => Ok(allowed),
        }
    }

    /// Lexical checks, then the absolute path to resolve.
    fn candidate(&self, path: &str) -> Result<PathBuf, RootsError> {
        if path.contains('\0') {
            return Err(RootsError::Nul(path.replace('\0', "\\0")));
        }
        if path.trim().is_empty() {
            return Err(RootsError::Empty);
        }
        let Some(first) = self.0.first() else {
            return Err(RootsError::NoRoots);
        };
        let given = Path::new(path);
        if given.components().any(|c| c == Component::ParentDir) {
            return Err(RootsError::ParentReference(path.to_owned()));
        }
        Ok(if given.is_absolute() {
            given.to_path_buf()
        } else {
            first.join(given)
        })
    }

    /// The root `resolved` lies under, or the one "outside" error.
    fn inside(&self, path: &str, resolved: &Path) -> Result<PathBuf, RootsError> {
        self.0
            .iter()
            .find(|root| resolved.starts_with(root))
            .cloned()
            .ok_or_else(|| self.outside(path))
    }

    fn outside(&self, path: &str) -> RootsError {
        RootsError::Outside {
            path: path.to_owned(),
            roots: self.to_string(),
        }
    }

    /// The error for a path that could not be resolved. "Missing" only when
    /// the path lies lexically inside a root with no symlink on the way
    /// (nothing about the world outside is revealed); otherwise "outside".
    fn unresolvable(&self, path: &str, candidate: &Path, err: &std::io::Error) -> RootsError {
        let Some(root) = self.0.iter().find(|root| candidate.starts_with(root)) else {
            return self.outside(path);
        };
        let mut prefix = root.clone();
        if let Ok(rest) = candidate.strip_prefix(root) {
            for part in rest.components() {
                prefix.push(part);
                match std::fs::symlink_metadata(&prefix) {
                    Ok(meta) if meta.file_type().is_symlink() => return self.outside(path),
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        }
        RootsError::Missing {
            path: path.to_owned(),
            reason: match err.kind() {
                std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
                _ => err.to_string(),
            },
        }
    }
}

impl fmt::Display for Roots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.0.iter().map(|r| r.display().to_string()).collect();
        f.write_str(&list.join(", "))
    }
}

fn file_kind(resolved: &Path, path: &str) -> Result<&'static str, RootsError> {
    let meta = std::fs::metadata(resolved).map_err(|e| RootsError::Missing {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let ft = meta.file_type();
    if ft.is_file() {
        return Ok("regular file");
    }
    if ft.is_dir() {
        return Ok("directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return Ok("FIFO");
        }
        if ft.is_socket() {
            return Ok("socket");
        }
        if ft.is_block_device() || ft.is_char_device() {
            return Ok("device file");
        }
    }
    Ok("special file")
}
