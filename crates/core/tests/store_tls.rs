//! TLS to PostgreSQL: with the throwaway cluster `.ci/run` starts (TLS on,
//! a server certificate from a throwaway CA in `FFMCP_TEST_PG_CA`), a
//! verified connection is encrypted, and an unverifiable server is refused.
//! Against a fake server that declines TLS, `sslmode=require` sends nothing
//! after the TLS request: no startup message, so no user or database name
//! in the clear.

use std::{io::Write, time::Duration};

use ffmcp_core::{Config, store::Store};
use ffmcp_test_support::postgres::fresh_database;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

const CA_ENV: &str = "FFMCP_TEST_PG_CA";

/// The CA file of the test cluster, or `None` after a SKIPPED notice.
fn test_ca(test: &str) -> Option<String> {
    let ca = std::env::var(CA_ENV).ok().filter(|v| !v.is_empty());
    if ca.is_none() {
        assert!(
            std::env::var_os("FFMCP_REQUIRE_OPTIONAL").is_none(),
            "{test}: {CA_ENV} is not set; FFMCP_REQUIRE_OPTIONAL is set, so this is a failure"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: {CA_ENV} is not set (the CA of a TLS-enabled test cluster, as .ci/run starts)"
        );
    }
    ca
}

/// Whether the store's own connection is encrypted, as the server sees it.
async fn encrypted(store: &Store) -> bool {
    store
        .run(|db| {
            db.query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )?
            .get::<bool>(0)
        })
        .await
        .expect("task")
        .expect("pg_stat_ssl")
}

fn with_params(url: &str, params: &str) -> String {
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}{params}")
}

#[tokio::test]
async fn verified_tls_encrypts_and_an_unknown_ca_is_refused() {
    let test = "verified_tls_encrypts_and_an_unknown_ca_is_refused";
    let Some(url) = fresh_database(test).await else {
        return;
    };
    let Some(ca) = test_ca(test) else {
        return;
    };

    // The CA in the URL, libpq's way.
    let store = Store::connect(
        &with_params(&url, &format!("sslmode=verify-full&sslrootcert={ca}")),
        &Config::default(),
    )
    .expect("store");
    assert!(
        encrypted(&store).await,
        "verify-full with the CA: encrypted"
    );

    // The CA from the configuration.
    let config = Config::from_pairs([("FF_DB_CA_FILE", ca.as_str())]);
    let store = Store::connect(&with_params(&url, "sslmode=require"), &config).expect("store");
    assert!(
        encrypted(&store).await,
        "require with FF_DB_CA_FILE: encrypted"
    );

    // A CA named without sslmode asks for TLS.
    let store = Store::connect(&url, &config).expect("store");
    assert!(encrypted(&store).await, "FF_DB_CA_FILE alone: encrypted");

    // Without sslmode or a CA, plain as before.
    let store = Store::connect(&url, &Config::default()).expect("store");
    assert!(!encrypted(&store).await, "no sslmode: plain");

    // The system's trust store does not know the test CA: no connection,
    // and the error says why.
    let store =
        Store::connect(&with_params(&url, "sslmode=require"), &Config::default()).expect("store");
    let refused = store
        .ping()
        .await
        .expect_err("an unknown CA must be refused");
    let text = refused.to_string();
    assert!(
        text.to_lowercase().contains("certificate"),
        "names the certificate problem: {text}"
    );

    // Trusting the CA but naming the server by a host its certificate does
    // not carry (`hostaddr` still reaches the same server): refused, so the
    // host name is verified, not only the chain.
    let wrong_name = url.replace("@127.0.0.1:", "@db.wrong.example:");
    assert_ne!(wrong_name, url, "the test URL names 127.0.0.1");
    let store = Store::connect(
        &with_params(
            &wrong_name,
            &format!("hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={ca}"),
        ),
        &Config::default(),
    )
    .expect("store");
    let refused = store
        .ping()
        .await
        .expect_err("a wrong host name must be refused");
    let text = refused.to_string().to_lowercase();
    assert!(
        text.contains("certificate") && text.contains("not valid for name"),
        "names the host-name mismatch: {text}"
    );
}

#[tokio::test]
async fn require_sends_nothing_in_the_clear_to_a_server_without_tls() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut request = [0u8; 8];
        socket.read_exact(&mut request).await.expect("SSLRequest");
        // "N": this server does not speak TLS.
        socket.write_all(b"N").await.expect("answer");
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut rest)).await;
        (request, rest)
    });

    let store = Store::connect(
        &format!("postgres://secret_user@127.0.0.1:{port}/secret_db?sslmode=require"),
        &Config::from_pairs([("FF_DB_CONNECT_TIMEOUT_MS", "3000")]),
    )
    .expect("store");
    let refused = store.ping().await.expect_err("no TLS, no connection");
    let (request, rest) = server.await.expect("server");

    // The first message was the TLS request (length 8, code 80877103) ...
    assert_eq!(request, [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
    // ... and after the server declined, the client sent nothing more: no
    // startup message naming the user or the database.
    assert!(
        rest.is_empty(),
        "bytes sent after TLS was declined: {:?}",
        String::from_utf8_lossy(&rest)
    );
    assert!(
        refused.to_string().to_lowercase().contains("tls")
            || refused.to_string().to_lowercase().contains("ssl"),
        "says TLS was the problem: {refused}"
    );
}
