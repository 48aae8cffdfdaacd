//! MX lookups against an in-process DNS server on 127.0.0.1 that answers
//! over UDP and TCP on one port, can truncate its UDP answers, can stay
//! silent, and records every question it was asked.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use ffmcp_leadgen::{
    Lead,
    dns::{self, DnsError, MxAnswer},
    enrich::{check_email, lookup_domains},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, UdpSocket},
};

/// MX records per domain (`None`: NXDOMAIN; empty: no records).
pub type Zones = HashMap<String, Option<Vec<(u16, String)>>>;

/// Which transport a question came over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// A running fixture DNS server.
pub struct DnsFixture {
    pub addr: SocketAddr,
    /// Every question name, as received on the wire, with its transport.
    pub asked: Arc<Mutex<Vec<(Transport, String)>>>,
}

impl DnsFixture {
    pub fn questions(&self) -> Vec<(Transport, String)> {
        self.asked.lock().expect("log").clone()
    }
}

/// How the fixture behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct Behaviour {
    /// UDP answers carry at most this many records and set TC when cut.
    pub udp_max_answers: Option<usize>,
    /// Read questions, never answer (TCP connections are held open).
    pub silent: bool,
}

/// Starts a server answering from `zones`.
pub async fn start(zones: Zones, behaviour: Behaviour) -> DnsFixture {
    let (udp, tcp) = bind_pair().await;
    let addr = udp.local_addr().expect("addr");
    let zones = Arc::new(zones);
    let asked: Arc<Mutex<Vec<(Transport, String)>>> = Arc::default();
    {
        let (zones, asked) = (zones.clone(), asked.clone());
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok((n, from)) = udp.recv_from(&mut buf).await {
                let Some((name, reply)) = answer(&buf[..n], &zones, behaviour.udp_max_answers)
                else {
                    continue;
                };
                asked.lock().expect("log").push((Transport::Udp, name));
                if !behaviour.silent {
                    let _ = udp.send_to(&reply, from).await;
                }
            }
        });
    }
    let log = asked.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = tcp.accept().await {
            let (zones, asked) = (zones.clone(), log.clone());
            tokio::spawn(async move {
                loop {
                    let mut len = [0u8; 2];
                    if stream.read_exact(&mut len).await.is_err() {
                        return;
                    }
                    let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
                    if stream.read_exact(&mut query).await.is_err() {
                        return;
                    }
                    let Some((name, reply)) = answer(&query, &zones, None) else {
                        return;
                    };
                    asked.lock().expect("log").push((Transport::Tcp, name));
                    if behaviour.silent {
                        continue;
                    }
                    let mut framed = u16::try_from(reply.len())
                        .expect("len")
                        .to_be_bytes()
                        .to_vec();
                    framed.extend_from_slice(&reply);
                    if stream.write_all(&framed).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    DnsFixture { addr, asked }
}

/// A UDP socket and a TCP listener on the same 127.0.0.1 port.
async fn bind_pair() -> (UdpSocket, TcpListener) {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
        let addr = udp.local_addr().expect("addr");
        if let Ok(tcp) = TcpListener::bind(addr).await {
            return (udp, tcp);
        }
    }
    panic!("no free port for UDP and TCP together");
}

/// The question name and the reply to one query.
fn answer(query: &[u8], zones: &Zones, max_answers: Option<usize>) -> Option<(String, Vec<u8>)> {
    let mut pos = 12;
    let mut labels = Vec::new();
    while *query.get(pos)? != 0 {
        let len = usize::from(query[pos]);
        labels.push(String::from_utf8_lossy(query.get(pos + 1..pos + 1 + len)?).to_string());
        pos += 1 + len;
    }
    let question_end = pos + 5;
    let name = labels.join(".");
    let mut out = query.get(..question_end)?.to_vec();
    out[2] = 0x80 | (query[2] & 0x01);
    out[3] = 0x80;
    out[4..12].copy_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    match zones.get(&name.to_ascii_lowercase()) {
        None | Some(None) => out[3] |= 3,
        Some(Some(records)) => {
            let keep = max_answers.unwrap_or(usize::MAX).min(records.len());
            if keep < records.len() {
                out[2] |= 0x02;
            }
            out[6..8].copy_from_slice(&u16::try_from(keep).expect("count").to_be_bytes());
            for (pref, host) in &records[..keep] {
                let mut rdata = pref.to_be_bytes().to_vec();
                for label in host.split('.').filter(|l| !l.is_empty()) {
                    rdata.push(u8::try_from(label.len()).expect("label"));
                    rdata.extend_from_slice(label.as_bytes());
                }
                rdata.push(0);
                out.extend_from_slice(&[0xc0, 0x0c, 0, 15, 0, 1, 0, 0, 1, 0]);
                out.extend_from_slice(&u16::try_from(rdata.len()).expect("rdata").to_be_bytes());
                out.extend_from_slice(&rdata);
            }
        }
    }
    Some((name, out))
}

fn lead(email: &str) -> Lead {
    Lead {
        emails: vec![email.into()],
        ..Lead::default()
    }
}

/// 40 MX records do not fit a 512-byte UDP answer: the server sends two with
/// TC set, and the lookup asks again over TCP and gets all forty.
#[tokio::test]
async fn truncated_udp_answer_is_retried_over_tcp_for_the_full_mx_set() {
    let records: Vec<(u16, String)> = (0..40u16)
        .rev()
        .map(|i| (i, format!("mx{i:02}.big.example")))
        .collect();
    let zones = Zones::from([("big.example".to_owned(), Some(records))]);
    let server = start(
        zones,
        Behaviour {
            udp_max_answers: Some(2),
            ..Behaviour::default()
        },
    )
    .await;
    let answer = dns::mx(server.addr, "big.example", Duration::from_secs(2)).await;
    let expected: Vec<String> = (0..40).map(|i| format!("mx{i:02}.big.example")).collect();
    assert_eq!(answer, Ok(MxAnswer::Found(expected)));
    let asked = server.questions();
    assert_eq!(
        asked.first(),
        Some(&(Transport::Udp, "big.example".to_owned())),
        "{asked:?}"
    );
    assert!(
        asked.contains(&(Transport::Tcp, "big.example".to_owned())),
        "no TCP retry: {asked:?}"
    );
}

/// A non-ASCII email domain goes on the wire as punycode, never as UTF-8.
#[tokio::test]
async fn idna_domain_is_asked_as_punycode() {
    let zones = Zones::from([(
        "xn--bcher-kva.example".to_owned(),
        Some(vec![(10, "mail.xn--bcher-kva.example".to_owned())]),
    )]);
    let server = start(zones, Behaviour::default()).await;
    assert_eq!(
        dns::mx(server.addr, "Bücher.example", Duration::from_secs(2)).await,
        Ok(MxAnswer::Found(vec!["mail.xn--bcher-kva.example".into()]))
    );
    let leads = [lead("anna@bücher.example")];
    let cache = lookup_domains(&leads, Ok(server.addr.into()), Duration::from_secs(2)).await;
    let check = check_email("anna@bücher.example", &cache);
    assert_eq!(check.mx, "found", "{check:?}");
    let asked = server.questions();
    assert!(!asked.is_empty());
    for (_, name) in &asked {
        assert_eq!(
            name.to_ascii_lowercase(),
            "xn--bcher-kva.example",
            "{asked:?}"
        );
    }
}

/// A server that never answers: the lookup ends with "did not answer in
/// time" within its attempt budget, and the batch goes on.
#[tokio::test]
async fn silent_server_times_out_with_a_clear_error() {
    let server = start(
        Zones::new(),
        Behaviour {
            silent: true,
            ..Behaviour::default()
        },
    )
    .await;
    let start_at = Instant::now();
    let answer = dns::mx(server.addr, "acme.com", Duration::from_millis(200)).await;
    let took = start_at.elapsed();
    assert_eq!(answer, Err(DnsError::Timeout));
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(!server.questions().is_empty(), "the server was never asked");
    assert_eq!(
        DnsError::Timeout.to_string(),
        "the DNS server did not answer in time"
    );

    let leads = [lead("jane@acme.com"), lead("joe@other.example")];
    let start_at = Instant::now();
    let cache = lookup_domains(&leads, Ok(server.addr.into()), Duration::from_millis(200)).await;
    assert!(start_at.elapsed() < Duration::from_secs(3));
    for email in ["jane@acme.com", "joe@other.example"] {
        let check = check_email(email, &cache);
        assert_eq!(check.mx, "unknown");
        assert!(
            check
                .mx_error
                .as_deref()
                .is_some_and(|e| e.contains("did not answer")),
            "{check:?}"
        );
    }
}

/// Names that are not domains fail before any question is sent.
#[tokio::test]
async fn bad_domains_are_refused_without_a_query() {
    let server = start(Zones::new(), Behaviour::default()).await;
    let too_long = format!("{}.example", "a".repeat(64));
    for domain in ["", ".", "a..b", too_long.as_str(), "exa mple.com"] {
        let answer = dns::mx(server.addr, domain, Duration::from_secs(1)).await;
        assert_eq!(
            answer,
            Err(DnsError::BadDomain(domain.to_owned())),
            "{domain:?}"
        );
    }
    assert!(server.questions().is_empty(), "{:?}", server.questions());
    assert_eq!(
        dns::parse_server("not-an-ip"),
        Err(DnsError::BadServer("not-an-ip".into()))
    );
}
