//! A minimal DNS client for one question type, MX, over UDP: enough to tell
//! whether an email domain accepts mail, with no resolver library. The
//! server address is configurable (`FF_LEADGEN_DNS`) so tests answer from
//! 127.0.0.1.

use std::{net::SocketAddr, time::Duration};

use tokio::net::UdpSocket;

/// Environment variable: the DNS server for MX lookups (`IP:PORT` or `IP`).
pub const DNS_ENV: &str = "FF_LEADGEN_DNS";

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
    #[error("the DNS server did not answer in time")]
    Timeout,
    #[error("DNS: {0}")]
    Failed(String),
}

/// The DNS server to ask: `FF_LEADGEN_DNS`, else the first `nameserver`
/// of /etc/resolv.conf.
pub fn server_from_env() -> Result<SocketAddr, DnsError> {
    if let Ok(value) = std::env::var(DNS_ENV)
        && !value.trim().is_empty()
    {
        return parse_server(&value);
    }
    let conf = std::fs::read_to_string("/etc/resolv.conf").map_err(|_| DnsError::NoServer)?;
    conf.lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .find_map(|s| parse_server(s.trim()).ok())
        .ok_or(DnsError::NoServer)
}

/// `1.1.1.1`, `127.0.0.1:5353`, `[::1]:53`.
pub fn parse_server(value: &str) -> Result<SocketAddr, DnsError> {
    let value = value.trim();
    value
        .parse::<SocketAddr>()
        .or_else(|_| {
            value
                .parse::<std::net::IpAddr>()
                .map(|ip| SocketAddr::new(ip, 53))
        })
        .map_err(|_| DnsError::BadServer(value.to_owned()))
}

/// Asks `server` for the MX records of `domain` (two tries of `timeout`).
pub async fn mx(server: SocketAddr, domain: &str, timeout: Duration) -> Result<MxAnswer, DnsError> {
    let bind: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(bind)
        .await
        .map_err(|e| DnsError::Failed(e.to_string()))?;
    socket
        .connect(server)
        .await
        .map_err(|e| DnsError::Failed(e.to_string()))?;
    let id = fastrand::u16(..);
    let query = encode_query(id, domain)
        .ok_or_else(|| DnsError::Failed(format!("'{domain}' is not a domain name")))?;
    let mut buf = vec![0u8; 4096];
    for _ in 0..2 {
        socket
            .send(&query)
            .await
            .map_err(|e| DnsError::Failed(e.to_string()))?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let received = tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await;
            let Ok(received) = received else { break };
            let n = received.map_err(|e| DnsError::Failed(e.to_string()))?;
            if n >= 2 && u16::from_be_bytes([buf[0], buf[1]]) == id {
                return decode_mx(&buf[..n]);
            }
        }
    }
    Err(DnsError::Timeout)
}

/// A recursive MX query for `domain`.
pub fn encode_query(id: u16, domain: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(32 + domain.len());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in domain.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        out.push(u8::try_from(label.len()).ok()?);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out.extend_from_slice(&[0, 15, 0, 1]);
    Some(out)
}

/// Reads the MX answers of a response.
pub fn decode_mx(msg: &[u8]) -> Result<MxAnswer, DnsError> {
    let bad = || DnsError::Failed("malformed DNS response".into());
    if msg.len() < 12 {
        return Err(bad());
    }
    let rcode = msg[3] & 0x0f;
    match rcode {
        0 => {}
        3 => return Ok(MxAnswer::NoDomain),
        2 => return Err(DnsError::Failed("server failure (SERVFAIL)".into())),
        5 => return Err(DnsError::Failed("query refused".into())),
        other => return Err(DnsError::Failed(format!("response code {other}"))),
    }
    let qd = u16::from_be_bytes([msg[4], msg[5]]);
    let an = u16::from_be_bytes([msg[6], msg[7]]);
    let mut pos = 12;
    for _ in 0..qd {
        pos = skip_name(msg, pos).ok_or_else(bad)? + 4;
    }
    let mut found: Vec<(u16, String)> = Vec::new();
    for _ in 0..an {
        pos = skip_name(msg, pos).ok_or_else(bad)?;
        let head = msg.get(pos..pos + 10).ok_or_else(bad)?;
        let rtype = u16::from_be_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_be_bytes([head[8], head[9]]));
        let rdata = pos + 10;
        if msg.len() < rdata + len {
            return Err(bad());
        }
        if rtype == 15 && len >= 3 {
            let preference = u16::from_be_bytes([msg[rdata], msg[rdata + 1]]);
            let name = read_name(msg, rdata + 2).ok_or_else(bad)?;
            found.push((preference, name));
        }
        pos = rdata + len;
    }
    if found.is_empty() {
        return Ok(MxAnswer::NoRecords);
    }
    found.sort();
    // RFC 7505 "null MX": a single "." exchanger means no mail accepted.
    if found.len() == 1 && found[0].1.is_empty() {
        return Ok(MxAnswer::NoRecords);
    }
    Ok(MxAnswer::Found(found.into_iter().map(|(_, n)| n).collect()))
}

fn skip_name(msg: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *msg.get(pos)?;
        match len {
            0 => return Some(pos + 1),
            l if l & 0xc0 == 0xc0 => return Some(pos + 2),
            l => pos += 1 + usize::from(l),
        }
    }
}

fn read_name(msg: &[u8], mut pos: usize) -> Option<String> {
    let mut labels: Vec<String> = Vec::new();
    for _ in 0..64 {
        let len = *msg.get(pos)?;
        if len == 0 {
            return Some(labels.join("."));
        }
        if len & 0xc0 == 0xc0 {
            let low = *msg.get(pos + 1)?;
            pos = (usize::from(len & 0x3f) << 8) | usize::from(low);
            continue;
        }
        let label = msg.get(pos + 1..pos + 1 + usize::from(len))?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        pos += 1 + usize::from(len);
    }
    None
}
