//! The SSRF-safe HTTP client.
//!
//! How each guarantee is kept:
//! - **Only checked addresses are dialled.** Host names are resolved by
//!   `CheckedResolver`, reqwest's resolver for this client: it returns only
//!   addresses that pass the [`FetchPolicy`], so the connection goes to an
//!   address we checked, never to a second answer from DNS (no rebinding
//!   window). IP-literal hosts never reach a resolver; [`Fetcher`] checks
//!   them itself. The `url` crate has already normalised decimal, octal and
//!   hex IPv4 spellings (`http://2130706433/` is `127.0.0.1`).
//! - **No proxy.** Environment proxies would resolve the target for us;
//!   they are ignored.
//! - **Redirects by hand.** reqwest follows none; every hop is re-checked
//!   (scheme, literal address, DNS) and at most `max_redirects` are taken.
//! - **Bounded bodies.** Bodies are read chunk by chunk and decoded here
//!   (`fetch::decode`) into a buffer that refuses bytes past the cap, so a
//!   gzip or brotli bomb stops at the same cap as a plain body; the
//!   `Content-Encoding` the server sent stays in [`Fetched`].
//! - **Time limits** on connect, each read, and the whole exchange.
//! - **Politeness**: a clear user agent, per-host concurrency and spacing,
//!   optional robots.txt (Google's rules, our linear matcher: [`super::robots`]).

use std::{
    collections::HashMap,
    error::Error as StdError,
    fmt,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::future::BoxFuture;
use reqwest::{
    StatusCode,
    dns::{Addrs, Name, Resolve, Resolving},
    header::{self, HeaderMap},
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::{Host, Url};

use super::policy::FetchPolicy;

/// The User-Agent every ffmcp request carries.
pub const USER_AGENT: &str = concat!(
    "ffmcp/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/ffmcp/ffmcp)"
);
/// The robots.txt product token ffmcp obeys (besides `*`).
pub const ROBOTS_AGENT: &str = "ffmcp";

/// Largest robots.txt read (Google reads 500 KiB).
const MAX_ROBOTS_BYTES: u64 = 512 * 1024;
/// How long a fetched robots.txt is trusted.
const ROBOTS_TTL: Duration = Duration::from_secs(3600);
/// Per-host gates kept before idle ones are dropped.
const MAX_TRACKED_HOSTS: usize = 1024;

/// Limits of a [`Fetcher`]; every field has a safe default.
#[derive(Debug, Clone)]
pub struct FetchLimits {
    /// Largest body accepted, counted after decompression.
    pub max_body_bytes: u64,
    /// Redirect hops followed before giving up.
    pub max_redirects: usize,
    /// Time to establish a connection (TCP + TLS).
    pub connect_timeout: Duration,
    /// Longest silence while reading.
    pub read_timeout: Duration,
    /// Deadline for one request, redirects included.
    pub total_timeout: Duration,
    /// Requests in flight to one host at a time.
    pub per_host_concurrency: usize,
    /// Minimum spacing between request starts to one host.
    pub per_host_interval: Duration,
}

impl Default for FetchLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(20),
            total_timeout: Duration::from_secs(60),
            per_host_concurrency: 4,
            per_host_interval: Duration::ZERO,
        }
    }
}

/// Why a fetch did not produce a response.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The text given is not a URL.
    #[error("'{url}' is not a valid URL: {reason}")]
    InvalidUrl {
        /// The text as given.
        url: String,
        /// What the URL parser objected to.
        reason: String,
    },
    #[error(
        "only http and https URLs can be fetched; '{scheme}:' is refused (local files are read by path, under the allowed roots)"
    )]
    /// A scheme other than http or https (`file:`, `ftp:`, …).
    Scheme {
        /// The refused scheme, without the colon.
        scheme: String,
    },
    #[error("URLs with embedded credentials (user:password@) are not fetched: '{url}'")]
    /// The URL carries `user:password@`; credentials are never sent.
    Credentials {
        /// The URL as given.
        url: String,
    },
    #[error(
        "refused to fetch {url}: {host} resolves to {addr}, {reason}. To allow it, add it to FF_ALLOW_HOSTS (a name, IP or CIDR) or set FF_ALLOW_PRIVATE_NETWORK=1"
    )]
    /// The SSRF guard: the host resolves to an address that is not
    /// public (loopback, private, link-local, metadata, …).
    Blocked {
        /// The URL (or redirect target) that was refused.
        url: String,
        /// Its host name.
        host: String,
        /// The address the host resolved to.
        addr: IpAddr,
        /// Which kind of non-public address it is.
        reason: &'static str,
    },
    #[error("could not resolve host '{host}': {reason}")]
    /// Name resolution failed.
    Dns {
        /// The host that did not resolve.
        host: String,
        /// The resolver's error.
        reason: String,
    },
    #[error("stopped after {limit} redirects at {url}")]
    /// More redirects than the policy allows.
    TooManyRedirects {
        /// The URL reached when the limit was hit.
        url: String,
        /// The redirect limit.
        limit: usize,
    },
    #[error("redirect from {url} has an invalid Location header")]
    /// A 3xx response whose `Location` is missing or not a URL.
    BadRedirect {
        /// The URL that answered with the redirect.
        url: String,
    },
    #[error(
        "the body of {url} is larger than the {limit}-byte limit (counted after decompression)"
    )]
    /// The decompressed body passed the size cap; reading stopped there.
    TooLarge {
        /// The URL whose body was too large.
        url: String,
        /// The cap in bytes.
        limit: u64,
    },
    #[error("{url} timed out ({what})")]
    /// A time limit expired.
    Timeout {
        /// The URL being fetched.
        url: String,
        /// What timed out: connecting, waiting for the response, reading
        /// the body, or the total time limit.
        what: &'static str,
    },
    #[error("robots.txt of {origin} disallows {url} for the {agent} user agent")]
    /// The site's robots.txt disallows the URL for our user agent.
    RobotsDisallowed {
        /// The disallowed URL.
        url: String,
        /// The origin whose robots.txt decided.
        origin: String,
        /// The user-agent token matched against robots.txt.
        agent: &'static str,
    },
    #[error("could not fetch {url}: {reason}")]
    /// Any other network or protocol failure.
    Transport {
        /// The URL being fetched.
        url: String,
        /// The HTTP client's error.
        reason: String,
    },
}

impl FetchError {
    /// True when the request was refused by policy (SSRF guard, scheme,
    /// robots) rather than failing on the network.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::Scheme { .. }
                | Self::Credentials { .. }
                | Self::Blocked { .. }
                | Self::RobotsDisallowed { .. }
                | Self::InvalidUrl { .. }
        )
    }
}

/// Name resolution, injectable so tests can make a public-looking name
/// resolve to loopback.
pub trait Lookup: Send + Sync + 'static {
    /// All addresses of `host`.
    fn lookup(&self, host: &str) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>>;
}

/// The operating system's resolver.
#[derive(Debug, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: &str) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>> {
        let host = host.to_owned();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

/// A resolver answer refused by the policy; travels through reqwest's error
/// chain and is turned back into [`FetchError::Blocked`].
#[derive(Debug)]
struct BlockedAddr {
    host: String,
    addr: IpAddr,
    reason: &'static str,
}

impl fmt::Display for BlockedAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} resolves to {}, {}",
            self.host, self.addr, self.reason
        )
    }
}

impl StdError for BlockedAddr {}

/// A failed lookup, kept typed for the same reason.
#[derive(Debug)]
struct LookupFailed {
    host: String,
    reason: String,
}

impl fmt::Display for LookupFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not resolve {}: {}", self.host, self.reason)
    }
}

impl StdError for LookupFailed {}

/// reqwest's resolver for this client: answers only with checked addresses.
struct CheckedResolver {
    policy: Arc<FetchPolicy>,
    lookup: Arc<dyn Lookup>,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let lookup = Arc::clone(&self.lookup);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let ips = lookup.lookup(&host).await.map_err(|e| LookupFailed {
                host: host.clone(),
                reason: e.to_string(),
            })?;
            let allowed = checked_addrs(&policy, &host, &ips)?;
            let addrs: Addrs = Box::new(allowed.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The addresses of `host` the policy allows; an error naming the first
/// refused one when none is allowed.
fn checked_addrs(
    policy: &FetchPolicy,
    host: &str,
    ips: &[IpAddr],
) -> Result<Vec<IpAddr>, Box<dyn StdError + Send + Sync>> {
    let mut refused = None;
    let mut allowed = Vec::with_capacity(ips.len());
    for &ip in ips {
        match policy.check(host, ip) {
            Ok(()) => allowed.push(ip),
            Err(reason) => {
                refused.get_or_insert(BlockedAddr {
                    host: host.to_owned(),
                    addr: ip,
                    reason,
                });
            }
        }
    }
    match (allowed.is_empty(), refused) {
        (false, _) => Ok(allowed),
        (true, Some(blocked)) => Err(Box::new(blocked)),
        (true, None) => Err(Box::new(LookupFailed {
            host: host.to_owned(),
            reason: "no addresses".to_owned(),
        })),
    }
}

/// One request.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    /// The URL to GET.
    pub url: String,
    /// The Accept header; `*/*` when absent.
    pub accept: Option<String>,
    /// Check robots.txt first and refuse disallowed URLs.
    pub respect_robots: bool,
    /// A lower body cap than the fetcher's, for this request.
    pub max_body_bytes: Option<u64>,
    /// Extra request headers (e.g. `If-None-Match` for a conditional GET),
    /// sent on every hop.
    pub headers: Vec<(String, String)>,
}

impl FetchRequest {
    /// A plain GET of `url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            accept: None,
            respect_robots: false,
            max_body_bytes: None,
            headers: Vec::new(),
        }
    }

    /// Adds a request header. A name or value that is not valid HTTP makes
    /// the fetch fail with [`FetchError::Transport`], never panic.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the Accept header.
    pub fn accept(mut self, accept: impl Into<String>) -> Self {
        self.accept = Some(accept.into());
        self
    }

    /// Obeys robots.txt for this request.
    pub fn respect_robots(mut self, yes: bool) -> Self {
        self.respect_robots = yes;
        self
    }

    /// Caps the body of this request below the fetcher's limit.
    pub fn max_body_bytes(mut self, limit: u64) -> Self {
        self.max_body_bytes = Some(limit);
        self
    }
}

/// A fetched response, body complete.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL asked for.
    pub requested: Url,
    /// The URL that answered, after redirects.
    pub url: Url,
    /// Each redirect hop taken, in order (`requested` excluded).
    pub redirects: Vec<Url>,
    /// The final response's HTTP status code.
    pub status: u16,
    /// The final response's headers, as sent (`Content-Encoding` and
    /// `Content-Length` describe the body on the wire, not `body`).
    pub headers: HeaderMap,
    /// The `Content-Encoding` the server sent (`gzip`, `br`, `deflate`),
    /// lower-cased; `None` for none or `identity`. `body` is decoded.
    pub content_encoding: Option<String>,
    /// The body, decoded.
    pub body: Vec<u8>,
    /// From request start to the last body byte.
    pub elapsed: Duration,
}

impl Fetched {
    /// The media type of the body (`text/html`), lowercased, parameters dropped.
    pub fn media_type(&self) -> Option<String> {
        let value = self.headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
        let media = value.split(';').next()?.trim().to_ascii_lowercase();
        (!media.is_empty()).then_some(media)
    }

    /// True for 2xx statuses.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Concurrency and spacing for one host.
struct HostGate {
    permits: Arc<Semaphore>,
    next_start: tokio::sync::Mutex<Instant>,
}

#[derive(Clone)]
enum RobotsRules {
    /// robots.txt body.
    Rules(Arc<str>),
    AllowAll,
    /// RFC 9309 §2.3.1.4: an unreachable robots.txt means "disallow all".
    DisallowAll(String),
}

struct Inner {
    client: reqwest::Client,
    policy: Arc<FetchPolicy>,
    limits: FetchLimits,
    hosts: Mutex<HashMap<String, Arc<HostGate>>>,
    robots: Mutex<HashMap<String, (Instant, RobotsRules)>>,
}

/// The SSRF-safe fetcher. Cheap to clone; clones share connections, host
/// gates and the robots.txt cache.
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

impl fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fetcher")
            .field("policy", &self.inner.policy)
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Fetcher`].
pub struct FetcherBuilder {
    policy: FetchPolicy,
    limits: FetchLimits,
    lookup: Arc<dyn Lookup>,
}

impl FetcherBuilder {
    /// Which addresses may be reached.
    pub fn policy(mut self, policy: FetchPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Size, time and politeness limits.
    pub fn limits(mut self, limits: FetchLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Replaces the system resolver (tests).
    pub fn lookup(mut self, lookup: Arc<dyn Lookup>) -> Self {
        self.lookup = lookup;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Fetcher, FetchError> {
        let policy = Arc::new(self.policy);
        let resolver = CheckedResolver {
            policy: Arc::clone(&policy),
            lookup: self.lookup,
        };
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            // Decoding is ours (`decode`): the cap, and the header kept.
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .dns_resolver(resolver)
            .connect_timeout(self.limits.connect_timeout)
            .read_timeout(self.limits.read_timeout)
            .timeout(self.limits.total_timeout)
            .https_only(false)
            .build()
            .map_err(|e| FetchError::Transport {
                url: String::new(),
                reason: format!("could not build the HTTP client: {e}"),
            })?;
        Ok(Fetcher {
            inner: Arc::new(Inner {
                client,
                policy,
                limits: self.limits,
                hosts: Mutex::new(HashMap::new()),
                robots: Mutex::new(HashMap::new()),
            }),
        })
    }
}

impl Fetcher {
    /// A builder with the public-only policy, default limits and the system
    /// resolver.
    pub fn builder() -> FetcherBuilder {
        FetcherBuilder {
            policy: FetchPolicy::public_only(),
            limits: FetchLimits::default(),
            lookup: Arc::new(SystemLookup),
        }
    }

    /// A fetcher with the policy from `FF_ALLOW_HOSTS` /
    /// `FF_ALLOW_PRIVATE_NETWORK` and default limits.
    pub fn from_config(config: &crate::config::Config) -> Result<Self, FetchError> {
        let policy = FetchPolicy::from_config(config).map_err(|reason| FetchError::InvalidUrl {
            url: super::policy::ALLOW_HOSTS_ENV.to_owned(),
            reason,
        })?;
        Self::builder().policy(policy).build()
    }

    /// The policy in force.
    pub fn policy(&self) -> &FetchPolicy {
        &self.inner.policy
    }

    /// GETs `url` with default options.
    pub async fn get(&self, url: &str) -> Result<Fetched, FetchError> {
        self.fetch(FetchRequest::get(url)).await
    }

    /// Performs `request`: checks, redirects, body cap.
    pub async fn fetch(&self, request: FetchRequest) -> Result<Fetched, FetchError> {
        let requested = parse_url(&request.url)?;
        let started = Instant::now();
        let deadline = started + self.inner.limits.total_timeout;
        let limit = request
            .max_body_bytes
            .map_or(self.inner.limits.max_body_bytes, |l| {
                l.min(self.inner.limits.max_body_bytes)
            });
        let mut url = requested.clone();
        let mut redirects = Vec::new();
        loop {
            self.check_target(&url)?;
            if request.respect_robots {
                self.check_robots(&url).await?;
            }
            let response = {
                let _permit = self.host_permit(&url).await;
                let mut builder = self
                    .inner
                    .client
                    .get(url.clone())
                    .header(header::ACCEPT, request.accept.as_deref().unwrap_or("*/*"));
                if !request
                    .headers
                    .iter()
                    .any(|(name, _)| name.eq_ignore_ascii_case("accept-encoding"))
                {
                    builder = builder.header(header::ACCEPT_ENCODING, super::decode::ACCEPTED);
                }
                for (name, value) in &request.headers {
                    builder = builder.header(name.as_str(), value.as_str());
                }
                if let Some(left) = deadline.checked_duration_since(Instant::now()) {
                    builder = builder.timeout(left);
                } else {
                    return Err(FetchError::Timeout {
                        url: url.to_string(),
                        what: "total time limit",
                    });
                }
                let response = builder.send().await.map_err(|e| map_error(&url, &e))?;
                if is_redirect(response.status()) {
                    response
                } else {
                    let status = response.status().as_u16();
                    let headers = response.headers().clone();
                    let content_encoding = super::decode::content_encoding(&headers);
                    let body =
                        read_capped(response, &url, limit, content_encoding.as_deref()).await?;
                    return Ok(Fetched {
                        requested,
                        url,
                        redirects,
                        status,
                        headers,
                        content_encoding,
                        body,
                        elapsed: started.elapsed(),
                    });
                }
            };
            if redirects.len() >= self.inner.limits.max_redirects {
                return Err(FetchError::TooManyRedirects {
                    url: url.to_string(),
                    limit: self.inner.limits.max_redirects,
                });
            }
            let next = response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|loc| url.join(loc).ok())
                .ok_or_else(|| FetchError::BadRedirect {
                    url: url.to_string(),
                })?;
            redirects.push(next.clone());
            url = next;
        }
    }

    /// Scheme, credentials and IP-literal checks (names are checked by the
    /// resolver as they are dialled).
    fn check_target(&self, url: &Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Scheme {
                scheme: url.scheme().to_owned(),
            });
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::Credentials { url: redact(url) });
        }
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(Host::Domain(_)) => return Ok(()),
            None => {
                return Err(FetchError::InvalidUrl {
                    url: url.to_string(),
                    reason: "no host".to_owned(),
                });
            }
        };
        let host = url.host_str().unwrap_or_default();
        self.inner
            .policy
            .check(host, ip)
            .map_err(|reason| FetchError::Blocked {
                url: url.to_string(),
                host: host.to_owned(),
                addr: ip,
                reason,
            })
    }

    /// Waits for a concurrency slot and the spacing interval of the host.
    async fn host_permit(&self, url: &Url) -> Option<OwnedSemaphorePermit> {
        let key = url.host_str()?.to_ascii_lowercase();
        let gate = {
            let mut hosts = self.inner.hosts.lock().unwrap_or_else(|p| p.into_inner());
            if hosts.len() >= MAX_TRACKED_HOSTS {
                hosts.retain(|_, gate| Arc::strong_count(gate) > 1);
            }
            Arc::clone(hosts.entry(key).or_insert_with(|| {
                Arc::new(HostGate {
                    permits: Arc::new(Semaphore::new(
                        self.inner.limits.per_host_concurrency.max(1),
                    )),
                    next_start: tokio::sync::Mutex::new(Instant::now()),
                })
            }))
        };
        let permit = Arc::clone(&gate.permits).acquire_owned().await.ok();
        let interval = self.inner.limits.per_host_interval;
        if !interval.is_zero() {
            let mut next = gate.next_start.lock().await;
            let now = Instant::now();
            if *next > now {
                tokio::time::sleep(*next - now).await;
            }
            *next = Instant::now() + interval;
        }
        permit
    }

    /// Refuses `url` when its origin's robots.txt disallows it.
    async fn check_robots(&self, url: &Url) -> Result<(), FetchError> {
        let origin = url.origin().ascii_serialization();
        let cached = {
            let cache = self.inner.robots.lock().unwrap_or_else(|p| p.into_inner());
            cache
                .get(&origin)
                .filter(|(at, _)| at.elapsed() < ROBOTS_TTL)
                .map(|(_, rules)| rules.clone())
        };
        let rules = match cached {
            Some(rules) => rules,
            None => {
                let rules = self.load_robots(&origin).await?;
                let mut cache = self.inner.robots.lock().unwrap_or_else(|p| p.into_inner());
                if cache.len() >= MAX_TRACKED_HOSTS {
                    cache.retain(|_, (at, _)| at.elapsed() < ROBOTS_TTL);
                }
                cache.insert(origin.clone(), (Instant::now(), rules.clone()));
                rules
            }
        };
        let allowed = match &rules {
            RobotsRules::AllowAll => true,
            RobotsRules::Rules(body) => robots_allows(body, url.as_str()),
            RobotsRules::DisallowAll(why) => {
                tracing::debug!(%origin, why, "robots.txt unreachable; disallowing");
                false
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(FetchError::RobotsDisallowed {
                url: url.to_string(),
                origin,
                agent: ROBOTS_AGENT,
            })
        }
    }

    async fn load_robots(&self, origin: &str) -> Result<RobotsRules, FetchError> {
        let request = FetchRequest::get(format!("{origin}/robots.txt"))
            .accept("text/plain")
            .max_body_bytes(MAX_ROBOTS_BYTES);
        match Box::pin(self.fetch(request)).await {
            Ok(fetched) if fetched.is_success() => Ok(RobotsRules::Rules(Arc::from(
                String::from_utf8_lossy(&fetched.body).as_ref(),
            ))),
            // RFC 9309 §2.3.1.3: 4xx means no restrictions.
            Ok(fetched) if (400..500).contains(&fetched.status) => Ok(RobotsRules::AllowAll),
            Ok(fetched) => Ok(RobotsRules::DisallowAll(format!(
                "status {}",
                fetched.status
            ))),
            // A refusal is the caller's answer, not the site's.
            Err(err) if err.is_refusal() => Err(err),
            // A body over the cap: Google reads only the first 500 KiB; we
            // would rather not guess at a truncated file.
            Err(err) => Ok(RobotsRules::DisallowAll(err.to_string())),
        }
    }
}

/// Google's rules, for `ffmcp` then `*`, matched in linear time.
pub fn robots_allows(robots_txt: &str, url: &str) -> bool {
    super::robots::agent_allowed(robots_txt, ROBOTS_AGENT, url)
}

fn parse_url(raw: &str) -> Result<Url, FetchError> {
    let trimmed = raw.trim();
    Url::parse(trimmed).map_err(|e| FetchError::InvalidUrl {
        url: trimmed.chars().take(200).collect(),
        reason: e.to_string(),
    })
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// `url` without its credentials, for messages.
fn redact(url: &Url) -> String {
    let mut clean = url.clone();
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean.to_string()
}

/// Reads and decodes the body, stopping at `limit` decoded bytes.
async fn read_capped(
    mut response: reqwest::Response,
    url: &Url,
    limit: u64,
    encoding: Option<&str>,
) -> Result<Vec<u8>, FetchError> {
    use super::decode::{BodyDecoder, DecodeError};
    let failed = |e: DecodeError| match e {
        DecodeError::TooLarge => FetchError::TooLarge {
            url: url.to_string(),
            limit,
        },
        DecodeError::Corrupt { coding, reason } => FetchError::Transport {
            url: url.to_string(),
            reason: format!("the {coding}-encoded body is corrupt: {reason}"),
        },
    };
    // Content-Length describes the encoded body, which a plain body is, so
    // it can refuse early; an encoded one is counted as it is decoded.
    if encoding.is_none() && response.content_length().is_some_and(|len| len > limit) {
        return Err(failed(DecodeError::TooLarge));
    }
    let mut decoder = BodyDecoder::new(encoding, limit);
    while let Some(chunk) = response.chunk().await.map_err(|e| map_error(url, &e))? {
        decoder.push(&chunk).map_err(failed)?;
    }
    decoder.finish().map_err(failed)
}

/// Turns a reqwest error into a [`FetchError`], recovering our own typed
/// resolver errors from its source chain.
fn map_error(url: &Url, err: &reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(cause) = source {
        if let Some(blocked) = cause.downcast_ref::<BlockedAddr>() {
            return FetchError::Blocked {
                url: url.to_string(),
                host: blocked.host.clone(),
                addr: blocked.addr,
                reason: blocked.reason,
            };
        }
        if let Some(failed) = cause.downcast_ref::<LookupFailed>() {
            return FetchError::Dns {
                host: failed.host.clone(),
                reason: failed.reason.clone(),
            };
        }
        source = cause.source();
    }
    if err.is_timeout() {
        let what = if err.is_connect() {
            "connect"
        } else if err.is_body() || err.is_decode() {
            "reading the body"
        } else {
            "waiting for the response"
        };
        return FetchError::Timeout {
            url: url.to_string(),
            what,
        };
    }
    let mut reason = err.to_string();
    let mut cause = err.source();
    while let Some(inner) = cause {
        reason.push_str(": ");
        reason.push_str(&inner.to_string());
        cause = inner.source();
    }
    FetchError::Transport {
        url: url.to_string(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_keeps_only_allowed_addresses() {
        let policy = FetchPolicy::public_only();
        let ips: Vec<IpAddr> = vec![
            "10.0.0.1".parse().expect("ip"),
            "93.184.215.14".parse().expect("ip"),
        ];
        let allowed = checked_addrs(&policy, "mixed.example", &ips).expect("one public");
        assert_eq!(allowed, vec![ips[1]]);
        let err = checked_addrs(&policy, "evil.example", &ips[..1]).expect_err("private only");
        let blocked = err.downcast_ref::<BlockedAddr>().expect("typed");
        assert_eq!(blocked.addr, ips[0]);
        assert_eq!(blocked.reason, "a private address");
    }

    #[test]
    fn robots_matching_follows_google() {
        let txt = "User-agent: *\nDisallow: /private\nAllow: /private/ok\n\nUser-agent: ffmcp\nDisallow: /no-ffmcp\n";
        // A group naming ffmcp replaces the * group for us.
        assert!(robots_allows(txt, "https://a.example/private"));
        assert!(!robots_allows(txt, "https://a.example/no-ffmcp/x"));
        let star = "User-agent: *\nDisallow: /private\nAllow: /private/ok$\n";
        assert!(!robots_allows(star, "https://a.example/private/x"));
        assert!(robots_allows(star, "https://a.example/private/ok"));
        assert!(robots_allows(star, "https://a.example/public"));
        // Garbage is not a rule.
        assert!(robots_allows(
            "\u{feff}ünïcödé: ✓\n\0\0Disallow",
            "https://a.example/"
        ));
    }
}
