//! Bounded MCP sessions: one budget of live sessions shared by every endpoint
//! of the process, enforced around rmcp's `LocalSessionManager`.
//!
//! rmcp keeps every session in memory (its server handler, channels and
//! caches) until the client deletes it or rmcp's idle timer (`keep_alive`)
//! ends it, and it has no cap of its own. [`CappedSessions`] delegates
//! everything to a `LocalSessionManager` and counts: creating a session above
//! the budget fails, and closing one (DELETE, idle expiry, shutdown) gives its
//! place back. The admission check answers `initialize` above the cap with a
//! clear 503 before rmcp is involved; the count here is the strict backstop
//! for initializes that race past that check.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures::Stream;
use rmcp::{
    model::{ClientJsonRpcMessage, ServerJsonRpcMessage},
    transport::streamable_http_server::session::{
        ServerSseMessage, SessionId, SessionManager,
        local::{LocalSessionManager, LocalSessionManagerError, SessionConfig, SessionError},
    },
};

/// Default cap on live MCP sessions per process.
pub const DEFAULT_MAX_SESSIONS: usize = 1000;
/// Default idle time after which a session is ended and its memory freed.
pub const DEFAULT_SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// The live-session count of one process against its cap.
#[derive(Debug)]
pub struct SessionBudget {
    max: usize,
    live: AtomicUsize,
}

impl SessionBudget {
    /// A budget of `max` live sessions, none taken.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            live: AtomicUsize::new(0),
        }
    }

    /// The cap.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Sessions alive now (created and not yet closed).
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }

    /// No place is free: a new session would be refused.
    pub fn is_full(&self) -> bool {
        self.live() >= self.max
    }

    /// Takes a place if one is free.
    fn try_take(&self) -> bool {
        self.live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok()
    }

    fn give_back(&self) {
        let _ = self
            .live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }
}

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CappedSessionError {
    #[error(
        "the server already holds its limit of {0} live MCP sessions; close idle sessions \
         (HTTP DELETE) or raise --max-sessions / FF_MAX_SESSIONS"
    )]
    /// The budget is spent (the cap).
    Full(usize),
    /// rmcp's session manager failed.
    #[error(transparent)]
    Local(#[from] LocalSessionManagerError),
}

/// A `LocalSessionManager` that counts its sessions against a shared budget.
#[derive(Debug)]
pub struct CappedSessions {
    inner: LocalSessionManager,
    budget: Arc<SessionBudget>,
}

impl CappedSessions {
    /// Sessions end after `idle_timeout` without traffic (rmcp's `keep_alive`).
    pub fn new(budget: Arc<SessionBudget>, idle_timeout: Duration) -> Self {
        let mut inner = LocalSessionManager::default();
        inner.session_config = {
            let mut config = SessionConfig::default();
            config.keep_alive = Some(idle_timeout);
            config
        };
        Self { inner, budget }
    }
}

impl SessionManager for CappedSessions {
    type Error = CappedSessionError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        if !self.budget.try_take() {
            return Err(CappedSessionError::Full(self.budget.max()));
        }
        self.inner.create_session().await.map_err(|err| {
            self.budget.give_back();
            err.into()
        })
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        Ok(self.inner.initialize_session(id, message).await?)
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        Ok(self.inner.has_session(id).await?)
    }

    /// Removes the session (once, however many paths close it) and frees its place.
    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        let handle = self.inner.sessions.write().await.remove(id);
        let Some(handle) = handle else {
            return Ok(());
        };
        self.budget.give_back();
        match handle.close().await {
            // The worker already exited: nothing left to stop.
            Ok(()) | Err(SessionError::SessionServiceTerminated) => Ok(()),
            Err(err) => Err(LocalSessionManagerError::from(err).into()),
        }
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.create_stream(id, message).await?)
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        Ok(self.inner.accept_message(id, message).await?)
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.create_standalone_stream(id).await?)
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.resume(id, last_event_id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn budget_caps_creation_and_closing_frees_the_place() {
        let budget = Arc::new(SessionBudget::new(2));
        let sessions = CappedSessions::new(budget.clone(), Duration::from_secs(60));
        let (a, _ta) = sessions.create_session().await.expect("first");
        let (_b, _tb) = sessions.create_session().await.expect("second");
        assert!(budget.is_full());
        let refused = sessions
            .create_session()
            .await
            .err()
            .expect("third refused");
        assert!(matches!(refused, CappedSessionError::Full(2)), "{refused}");
        sessions.close_session(&a).await.expect("close");
        // Closing twice (DELETE, then the worker ending) frees one place only.
        sessions.close_session(&a).await.expect("close again");
        assert_eq!(budget.live(), 1);
        assert!(!sessions.has_session(&a).await.expect("lookup"));
        let _c = sessions.create_session().await.expect("a place again");
        assert_eq!(budget.live(), 2);
    }
}
