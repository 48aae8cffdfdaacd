//! How long list and read results stay fresh: the cache hints of
//! SEP-2549 (`ttlMs`, `cacheScope`), in one place so every server says the
//! same thing for the same kind of result.
//!
//! A hint must be true. What is fixed for the life of a process (tool,
//! prompt and resource-template lists, static resources like
//! `docparse://formats`) is public and fresh for [`PROCESS_MS`]: it changes
//! only when the binary or its configuration does, which restarts the
//! process. A job or crawl that is still running is stale at once
//! (`ttlMs: 0`); a finished one is fresh briefly when it can still be
//! resumed ([`RESUMABLE_MS`]), longer when nothing can change it but
//! deletion ([`SETTLED_MS`]); both private. Results without a hint (the
//! changing `intel://` feeds, `ffmcp://stats`) get rmcp's default for
//! 2026-07-28 clients: `ttlMs: 0`, private. Anything a
//! client can subscribe to also announces its changes, so a cached copy
//! never has to be trusted past an update.

use rmcp::model::CacheScope;

/// Fresh for the process's life (bounded, so a restart with new
/// configuration is seen within the hour).
pub const PROCESS_MS: u64 = 3_600_000;
/// A finished job: changes only if it is deleted.
pub const SETTLED_MS: u64 = 300_000;
/// Paused, cancelled or kept-for-resume work: a `resume` call changes it.
pub const RESUMABLE_MS: u64 = 10_000;

/// The same for every client and user: lists and static resources.
pub const SHARED: CacheScope = CacheScope::Public;
/// The user's own data (jobs, crawls): never served to another user.
pub const PRIVATE: CacheScope = CacheScope::Private;
