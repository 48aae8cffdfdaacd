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
//! Known limit: the check and the later open are two steps, so a process
//! that can swap a symlink inside a root between them could redirect the
//! open. Roots are meant to be directories the user controls.

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
pub struct AllowedPath(PathBuf);

impl AllowedPath {
    pub fn as_path(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for AllowedPath {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

/// Why a path was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RootsError {
    #[error(
        "no filesystem roots are configured, so local paths cannot be used; set {ROOTS_ENV} to the directories ffmcp may read (e.g. {ROOTS_ENV}=$HOME/Documents)"
    )]
    NoRoots,
    #[error("root '{0}' cannot be used: {1}")]
    BadRoot(String, String),
    #[error("path is empty")]
    Empty,
    #[error("path '{0}' contains a NUL byte")]
    Nul(String),
    #[error(
        "path '{0}' contains '..'; give a path inside the allowed roots without parent references"
    )]
    ParentReference(String),
    #[error("path '{path}' does not exist or cannot be read ({reason})")]
    Missing { path: String, reason: String },
    #[error("path '{path}' resolves to '{resolved}', which is outside the allowed roots ({roots})")]
    Outside {
        path: String,
        resolved: String,
        roots: String,
    },
    #[error("path '{path}' is a {kind}, not a regular file")]
    NotRegular { path: String, kind: &'static str },
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
    pub fn from_env() -> Result<Self, RootsError> {
        match std::env::var_os(ROOTS_ENV) {
            Some(list) if !list.is_empty() => {
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

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Path> {
        self.0.iter().map(PathBuf::as_path)
    }

    /// An existing regular file to read. Relative paths are taken relative
    /// to the first root.
    pub fn check_read(&self, path: &str) -> Result<AllowedPath, RootsError> {
        let candidate = self.candidate(path)?;
        let resolved = candidate.canonicalize().map_err(|e| RootsError::Missing {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        self.inside(path, &resolved)?;
        let kind = file_kind(&resolved, path)?;
        if kind != "regular file" {
            return Err(RootsError::NotRegular {
                path: path.to_owned(),
                kind,
            });
        }
        Ok(AllowedPath(resolved))
    }

    /// A file to create or overwrite: its directory must exist inside a
    /// root, and an existing target must be a regular file (not a symlink).
    pub fn check_write(&self, path: &str) -> Result<AllowedPath, RootsError> {
        let candidate = self.candidate(path)?;
        let (Some(parent), Some(name)) = (candidate.parent(), candidate.file_name()) else {
            return Err(RootsError::Empty);
        };
        let parent = parent.canonicalize().map_err(|e| RootsError::Missing {
            path: path.to_owned(),
            reason: format!("its directory: {e}"),
        })?;
        let target = parent.join(name);
        self.inside(path, &target)?;
        match std::fs::symlink_metadata(&target) {
            Ok(meta) if meta.file_type().is_symlink() => Err(RootsError::NotRegular {
                path: path.to_owned(),
                kind: "symbolic link",
            }),
            Ok(_) => match file_kind(&target, path)? {
                "regular file" => Ok(AllowedPath(target)),
                kind => Err(RootsError::NotRegular {
                    path: path.to_owned(),
                    kind,
                }),
            },
            Err(_) => Ok(AllowedPath(target)),
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

    fn inside(&self, path: &str, resolved: &Path) -> Result<(), RootsError> {
        if self.0.iter().any(|root| resolved.starts_with(root)) {
            Ok(())
        } else {
            Err(RootsError::Outside {
                path: path.to_owned(),
                resolved: resolved.display().to_string(),
                roots: self.to_string(),
            })
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
