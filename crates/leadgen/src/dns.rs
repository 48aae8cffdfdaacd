//! MX lookups: whether an email domain accepts mail.
//!
//! The resolving is hickory-resolver's (tokio runtime, plain UDP and TCP
//! only: no DNS-over-TLS/HTTPS features, so no second TLS stack). It asks
//! every nameserver of /etc/resolv.conf, retries over TCP when a UDP answer
//! comes back truncated (a domain with many MX records), and times out per
//! attempt. Before the question, a non-ASCII domain becomes its IDNA
//! punycode form (`bücher.example` → `xn--bcher-kva.example`). The server can
//! be pinned (`FF_LEADGEN_DNS`) so tests answer from 127.0.0.1.

use std::{
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use hickory_resolver::{
    TokioResolver,
    config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts},
    net::{NetError, runtime::TokioRuntimeProvider},
    proto::rr::{Name, RData},
};

/// Environment variable: the DNS server for MX lookups (`IP:PORT` or `IP`).
pub const DNS_ENV: &str = "FF_LEADGEN_DNS";

/// Tries per nameserver and connection before a lookup gives up.
const ATTEMPTS: usize = 2;

/// The answer to one MX question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxAnswer {
    /// Mail exchangers, lowest preference first.
    Found(Vec<String>),
    /// The domain exists but has no MX records.
    NoRecords,
    /// The domain does not exist.
    NoDomain,
}

/// Why a lookup gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("no DNS server configured: set {DNS_ENV} (e.g. 1.1.1.1) or /etc/resolv.conf")]
    NoServer,
    #[error("'{0}' is not a DNS server address (IP or IP:PORT)")]
    BadServer(String),
    #[error("'{0}' is not a domain name")]
    BadDomain(String),
    #[error("the DNS server did not answer in time")]
    Timeout,
    #[error("DNS: {0}")]
    Failed(String),
}

/// Which nameservers answer MX questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nameservers {
    /// Every nameserver of the system configuration (/etc/resolv.conf).
    System,
    /// One server, UDP and TCP on the same port.
    At(SocketAddr),
}

impl From<SocketAddr> for Nameservers {
    fn from(addr: SocketAddr) -> Self {
        Self::At(addr)
    }
}

/// The nameservers to ask: `FF_LEADGEN_DNS`, else the system's.
pub fn server_from_env() -> Result<Nameservers, DnsError> {
    if let Ok(value) = std::env::var(DNS_ENV)
        && !value.trim().is_empty()
    {
        return parse_server(&value).map(Nameservers::At);
    }
    Ok(Nameservers::System)
}

/// `1.1.1.1`, `127.0.0.1:5353`, `[::1]:53`.
pub fn parse_server(value: &str) -> Result<SocketAddr, DnsError> {
    let value = value.trim();
    value
        .parse::<SocketAddr>()
        .or_else(|_| value.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
        .map_err(|_| DnsError::BadServer(value.to_owned()))
}

/// A resolver for MX questions; cheap to clone (one shared cache).
#[derive(Clone)]
pub struct MxResolver {
    resolver: TokioResolver,
    /// The longest one lookup may take, whatever the resolver's retries do.
    deadline: Duration,
}

impl std::fmt::Debug for MxResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MxResolver")
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl MxResolver {
    /// A resolver asking `servers`, waiting at most `timeout` per attempt.
    pub fn new(servers: Nameservers, timeout: Duration) -> Result<Self, DnsError> {
        let (config, mut options) = match servers {
            Nameservers::System => {
                let (config, options) = hickory_resolver::system_conf::read_system_conf()
                    .map_err(|_| DnsError::NoServer)?;
                if config.name_servers().is_empty() {
                    return Err(DnsError::NoServer);
                }
                (config, options)
            }
            Nameservers::At(addr) => {
                let mut server = NameServerConfig::udp_and_tcp(addr.ip());
                for connection in &mut server.connections {
                    connection.port = addr.port();
                }
                let config = ResolverConfig::from_name_servers(vec![server]);
                (config, ResolverOpts::default())
            }
        };
        options.timeout = timeout;
        options.attempts = ATTEMPTS;
        options.use_hosts_file = ResolveHosts::Never;
        let mut builder =
            TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
        *builder.options_mut() = options;
        let resolver = builder
            .build()
            .map_err(|e| DnsError::Failed(e.to_string()))?;
        // Every try of every connection timing out, plus slack: a hard bound.
        let tries = u32::try_from(ATTEMPTS * 2 + 1).unwrap_or(u32::MAX);
        Ok(Self {
            resolver,
            deadline: timeout.saturating_mul(tries),
        })
    }

    /// The MX records of `domain` (IDNA applied).
    pub async fn mx(&self, domain: &str) -> Result<MxAnswer, DnsError> {
        let name = query_name(domain)?;
        let lookup = tokio::time::timeout(self.deadline, self.resolver.mx_lookup(name)).await;
        let lookup = match lookup {
            Err(_) => return Err(DnsError::Timeout),
            Ok(Err(e)) => return answer_from_error(&e),
            Ok(Ok(lookup)) => lookup,
        };
        let mut found: Vec<(u16, String)> = lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::MX(mx) => Some((mx.preference, host_name(&mx.exchange))),
                _ => None,
            })
            .collect();
        found.sort();
        found.dedup();
        // RFC 7505 "null MX": a single "." exchanger means no mail accepted.
        if found.is_empty() || (found.len() == 1 && found[0].1.is_empty()) {
            return Ok(MxAnswer::NoRecords);
        }
        Ok(MxAnswer::Found(found.into_iter().map(|(_, n)| n).collect()))
    }
}

/// Asks `servers` for the MX records of `domain` (`timeout` per attempt).
pub async fn mx(
    servers: impl Into<Nameservers>,
    domain: &str,
    timeout: Duration,
) -> Result<MxAnswer, DnsError> {
    MxResolver::new(servers.into(), timeout)?.mx(domain).await
}

/// The fully qualified ASCII name to ask about: IDNA (punycode) for
/// non-ASCII labels, a final dot so no search domain is appended.
pub fn query_name(domain: &str) -> Result<Name, DnsError> {
    let bad = || DnsError::BadDomain(domain.to_owned());
    let trimmed = domain.trim().trim_end_matches('.');
    if trimmed.is_empty() {
        return Err(bad());
    }
    let ascii = idna::domain_to_ascii(trimmed).map_err(|_| bad())?;
    if ascii.split('.').any(str::is_empty) {
        return Err(bad());
    }
    Name::from_ascii(format!("{ascii}.")).map_err(|_| bad())
}

fn host_name(name: &Name) -> String {
    name.to_ascii().trim_end_matches('.').to_ascii_lowercase()
}

fn answer_from_error(error: &NetError) -> Result<MxAnswer, DnsError> {
    if error.is_nx_domain() {
        Ok(MxAnswer::NoDomain)
    } else if error.is_no_records_found() {
        Ok(MxAnswer::NoRecords)
    } else if matches!(error, NetError::Timeout) {
        Err(DnsError::Timeout)
    } else {
        Err(DnsError::Failed(error.to_string()))
    }
}
