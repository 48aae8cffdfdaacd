//! Bedrock's credential chain against loopback imitations of each source:
//! a shared credentials/config file with profiles, STS
//! `AssumeRoleWithWebIdentity`, the ECS/EKS container endpoint and IMDSv2.
//! Each test points the Bedrock route at the provider imitation, which
//! verifies the SigV4 signature, so a call that succeeds was signed with the
//! credentials the source handed out.

use std::{
    path::Path,
    time::{Duration, SystemTime},
};

use ffmcp_core::{
    config::Config,
    fetch::{FetchRequest, Fetcher},
    model::{
        AwsChain, ContainerEndpoint, Failure, ProviderSettings, Providers, Request, WebIdentity,
    },
};
use ffmcp_test_support::{
    http::{FixtureServer, Reply},
    imitation::{AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, Imitation},
};

use super::{imitation, route};

const MODEL: &str = "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0";

fn request() -> Request {
    Request::new("Say hello").with_max_tokens(16)
}

/// The imitation's settings with no static credentials and `chain` as the
/// only way to find some.
fn chained(imitation: &Imitation, chain: AwsChain) -> ProviderSettings {
    let mut settings = imitation.settings();
    settings.bedrock.credentials = None;
    settings.bedrock.chain = chain;
    settings
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

/// An RFC 3339 UTC time `from_now` ahead.
fn expiry(from_now: Duration) -> String {
    let secs = (SystemTime::now() + from_now)
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn credentials_json(expires_in: Duration) -> String {
    serde_json::json!({
        "Code": "Success",
        "AccessKeyId": AWS_ACCESS_KEY_ID,
        "SecretAccessKey": AWS_SECRET_ACCESS_KEY,
        "Token": "temporary-session-token",
        "Expiration": expiry(expires_in),
    })
    .to_string()
}

/// `AWS_PROFILE` picks a section of the credentials file; the region comes
/// from the config file's profile when `AWS_REGION` is unset; both files
/// are named by the SDK's variables.
#[tokio::test]
async fn profiles_from_the_shared_files_sign_bedrock_calls() {
    let imitation = imitation().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let credentials = write(
        dir.path(),
        "credentials",
        &format!(
            "[default]\naws_access_key_id = AKIDWRONG\naws_secret_access_key = wrong\n\n\
             [ci]\naws_access_key_id = {AWS_ACCESS_KEY_ID}\naws_secret_access_key = {AWS_SECRET_ACCESS_KEY}\n"
        ),
    );
    let config = write(
        dir.path(),
        "config",
        "[default]\nregion = eu-west-3\n[profile ci]\nregion = us-east-1\n",
    );
    let base = imitation.base_url();
    let vars = [
        ("AWS_PROFILE", "ci".to_owned()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            credentials.display().to_string(),
        ),
        ("AWS_CONFIG_FILE", config.display().to_string()),
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", base),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ];
    let settings = ProviderSettings::from_lookup(&|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    });
    assert_eq!(settings.bedrock.region.as_deref(), Some("us-east-1"));
    assert!(settings.bedrock.credentials.is_none());
    let providers = Providers::new(settings);
    assert_eq!(providers.missing_setup(&route(MODEL)), None);
    let done = providers
        .complete(&route(MODEL), &request(), None)
        .await
        .expect("signed with the ci profile's keys");
    assert!(done.text.contains("claude-3-5-sonnet"), "{}", done.text);

    // The default profile holds other keys: the imitation refuses them.
    let mut chain = AwsChain::none();
    chain.credentials_file = Some(credentials);
    let err = Providers::new(chained(&imitation, chain))
        .complete(&route(MODEL), &request(), None)
        .await
        .expect_err("wrong keys");
    assert_eq!(err.failure, Failure::Status(403));

    // A profile that needs what ffmcp does not do says so by name.
    let sso = write(
        dir.path(),
        "sso-config",
        "[profile corp]\nsso_session = corp\nregion = us-east-1\n",
    );
    let chain = AwsChain {
        profile: "corp".into(),
        config_file: Some(sso),
        ..AwsChain::none()
    };
    let err = Providers::new(chained(&imitation, chain))
        .complete(&route(MODEL), &request(), None)
        .await
        .expect_err("sso is not supported");
    assert_eq!(err.failure, Failure::Unavailable);
    assert!(
        err.message.contains("profile corp: uses `sso_session`"),
        "{err}"
    );
}

/// The token file's OIDC token goes to STS as AssumeRoleWithWebIdentity; the
/// temporary credentials (with their session token, signed) are cached
/// until five minutes before they expire.
#[tokio::test]
async fn web_identity_tokens_are_exchanged_at_sts_and_cached_until_expiry() {
    let imitation = imitation().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = write(dir.path(), "token", "eyJ.oidc.token\n");
    for (lifetime, expected_sts_calls) in
        [(Duration::from_secs(3600), 1), (Duration::from_secs(60), 2)]
    {
        let sts = FixtureServer::start().await;
        sts.route_fn("/", move |seen| {
            let form: Vec<(String, String)> = url::form_urlencoded::parse(&seen.body)
                .into_owned()
                .collect();
            let has = |k: &str, v: &str| form.iter().any(|(a, b)| a == k && b == v);
            if seen.method != "POST"
                || !has("Action", "AssumeRoleWithWebIdentity")
                || !has("RoleArn", "arn:aws:iam::123456789012:role/ffmcp")
                || !has("WebIdentityToken", "eyJ.oidc.token")
            {
                return Reply::ok(
                    "text/xml",
                    "<ErrorResponse><Error><Code>InvalidIdentityToken</Code>\
                     <Message>bad request</Message></Error></ErrorResponse>",
                )
                .with_status(400);
            }
            Reply::ok(
                "text/xml",
                format!(
                    "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>\
                     <Credentials><AccessKeyId>{AWS_ACCESS_KEY_ID}</AccessKeyId>\
                     <SecretAccessKey>{AWS_SECRET_ACCESS_KEY}</SecretAccessKey>\
                     <SessionToken>sts-session-token</SessionToken>\
                     <Expiration>{}</Expiration></Credentials>\
                     </AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
                    expiry(lifetime)
                ),
            )
        });
        let chain = AwsChain {
            web_identity: Some(WebIdentity {
                token_file: token_file.clone(),
                role_arn: "arn:aws:iam::123456789012:role/ffmcp".into(),
                session_name: "ffmcp".into(),
            }),
            sts_endpoint: Some(sts.base()),
            ..AwsChain::none()
        };
        let providers = Providers::new(chained(&imitation, chain));
        for _ in 0..2 {
            providers
                .complete(&route(MODEL), &request(), None)
                .await
                .expect("signed with the role's credentials");
        }
        assert_eq!(
            sts.requests().len(),
            expected_sts_calls,
            "lifetime {lifetime:?}"
        );
    }
    let sent = imitation.requests();
    assert!(
        sent.iter()
            .all(|r| r.header("x-amz-security-token") == Some("sts-session-token")),
        "the session token travels with every signed call"
    );
    assert!(
        sent.iter().all(|r| r
            .header("authorization")
            .is_some_and(|a| a.contains("x-amz-security-token"))),
        "and is signed"
    );
}

/// The container endpoint (ECS `RELATIVE_URI`, EKS `FULL_URI`) is asked
/// with the token from the token file, read afresh each time.
#[tokio::test]
async fn container_credentials_are_fetched_with_the_authorization_token() {
    let imitation = imitation().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = write(dir.path(), "eks-token", "pod-identity-token\n");
    let agent = FixtureServer::start().await;
    agent.route_fn("/v1/credentials", |seen| {
        if seen.header("authorization") == Some("pod-identity-token") {
            Reply::ok(
                "application/json",
                credentials_json(Duration::from_secs(3600)),
            )
        } else {
            Reply::status(401)
        }
    });
    let chain = AwsChain {
        container: Some(ContainerEndpoint {
            uri: agent.url("/v1/credentials"),
            token_file: Some(token_file.clone()),
            token: None,
        }),
        ..AwsChain::none()
    };
    let providers = Providers::new(chained(&imitation, chain.clone()));
    providers
        .complete(&route(MODEL), &request(), None)
        .await
        .expect("signed with the container's credentials");
    assert_eq!(agent.requests().len(), 1);

    // A wrong token: the agent refuses, and the error says where and how.
    write(dir.path(), "eks-token", "stale");
    let err = Providers::new(chained(&imitation, chain))
        .complete(&route(MODEL), &request(), None)
        .await
        .expect_err("refused");
    assert_eq!(err.failure, Failure::Unavailable);
    assert!(
        err.message.contains("container endpoint:") && err.message.contains("HTTP 401"),
        "{err}"
    );
}

/// IMDSv2: a PUT for a session token, then the role name and its
/// credentials with that token; no IMDSv1 request (no token) is ever made.
/// The credentials are cached: a second call asks nothing.
#[tokio::test]
async fn instance_metadata_v2_token_then_role_credentials() {
    let imitation = imitation().await;
    let imds = FixtureServer::start().await;
    imds.route_fn("/latest/api/token", |seen| {
        if seen.method == "PUT"
            && seen
                .header("x-aws-ec2-metadata-token-ttl-seconds")
                .is_some()
        {
            Reply::text("imds-session")
        } else {
            Reply::status(405)
        }
    });
    let with_token = |body: String| {
        move |seen: &ffmcp_test_support::http::Seen| {
            if seen.header("x-aws-ec2-metadata-token") == Some("imds-session") {
                Reply::text(body.clone())
            } else {
                Reply::status(401)
            }
        }
    };
    imds.route_fn(
        "/latest/meta-data/iam/security-credentials/",
        with_token("ffmcp-instance-role\n".into()),
    );
    imds.route_fn(
        "/latest/meta-data/iam/security-credentials/ffmcp-instance-role",
        with_token(credentials_json(Duration::from_secs(6 * 3600))),
    );
    let chain = AwsChain {
        imds: Some(imds.base()),
        ..AwsChain::none()
    };
    let providers = Providers::new(chained(&imitation, chain));
    for _ in 0..2 {
        providers
            .complete(&route(MODEL), &request(), None)
            .await
            .expect("signed with the instance role's credentials");
    }
    let asked: Vec<(String, String)> = imds
        .requests()
        .into_iter()
        .map(|s| (s.method, s.path))
        .collect();
    assert_eq!(
        asked,
        [
            ("PUT".to_owned(), "/latest/api/token".to_owned()),
            (
                "GET".to_owned(),
                "/latest/meta-data/iam/security-credentials/".to_owned()
            ),
            (
                "GET".to_owned(),
                "/latest/meta-data/iam/security-credentials/ffmcp-instance-role".to_owned()
            ),
        ]
    );
}

/// When no source answers, the call is unavailable (the router moves to
/// the next route) with every source's answer in the message, and the
/// route's status says so without asking again at once.
#[tokio::test]
async fn an_empty_chain_is_unavailable_and_names_every_source() {
    let imitation = imitation().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let chain = AwsChain {
        imds: Some(format!("http://{closed}")),
        ..AwsChain::none()
    };
    let providers = Providers::new(chained(&imitation, chain));
    let err = providers
        .complete(&route(MODEL), &request(), None)
        .await
        .expect_err("nothing answers");
    assert_eq!(err.failure, Failure::Unavailable);
    assert!(
        err.message
            .contains("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: not set")
            && err.message.contains("profile default: not found")
            && err.message.contains("instance metadata:"),
        "{err}"
    );
    assert!(
        providers
            .missing_setup(&route(MODEL))
            .is_some_and(|m| m.contains("instance metadata")),
    );
    assert!(imitation.requests().is_empty(), "nothing unsigned was sent");

    let nothing = Providers::new(chained(&imitation, AwsChain::none()));
    assert!(
        nothing
            .missing_setup(&route(MODEL))
            .is_some_and(|m| m.contains("instance metadata is disabled")),
    );
}

/// The metadata endpoint is the model client's alone: configuring it does
/// not open it to tools. A fetch of the same URL (as a tool would make) is
/// refused and the imitation never sees a connection.
#[tokio::test]
async fn tools_cannot_reach_the_metadata_endpoint() {
    let imds = FixtureServer::start().await;
    imds.route("/latest/api/token", Reply::text("imds-session"));
    let config = Config::from_pairs([("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.base())]);
    let fetcher = Fetcher::from_config(&config).expect("fetcher");
    for url in [
        imds.url("/latest/api/token"),
        "http://169.254.169.254/latest/api/token".to_owned(),
        "http://169.254.170.2/v2/credentials".to_owned(),
    ] {
        let err = fetcher
            .fetch(FetchRequest::get(url.clone()))
            .await
            .expect_err("refused");
        assert!(err.is_refusal(), "{url}: {err}");
    }
    assert_eq!(imds.connections(), 0);
}
