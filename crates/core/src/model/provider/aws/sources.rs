//! The chain's network sources: STS `AssumeRoleWithWebIdentity`, the
//! ECS/EKS container endpoint and IMDSv2. Each answer is read with a small
//! cap and parsed into [`Resolved`]; every error is one line naming the
//! endpoint and what was wrong (never a credential).

use std::{net::Ipv6Addr, time::Duration};

use serde_json::Value;
use url::Url;

use super::{Resolved, parse_timestamp};
use crate::model::settings::{AwsChain, AwsCredentials, ContainerEndpoint, WebIdentity};

/// No credential answer is larger than this.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// IMDS session tokens live this long (the SDKs' default).
const IMDS_TOKEN_TTL_SECS: &str = "21600";

/// The client for the instance metadata and container endpoints: no proxy
/// (a proxy would see the credentials, and could not reach a link-local
/// address anyway), no redirects, and short timeouts, as the SDKs use (an
/// absent metadata service must not hold a model call for long).
pub(super) fn local_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .user_agent(concat!("ffmcp/", env!("CARGO_PKG_VERSION")))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| format!("could not build the AWS metadata client: {e}"))
}

/// Exchanges the token in `identity.token_file` for role credentials.
pub(super) async fn web_identity(
    http: &reqwest::Client,
    chain: &AwsChain,
    region: &str,
    identity: &WebIdentity,
) -> Result<Resolved, String> {
    let token = tokio::fs::read_to_string(&identity.token_file)
        .await
        .map_err(|e| format!("cannot read {}: {e}", identity.token_file.display()))?;
    let token = token.trim();
    if token.is_empty() {
        return Err(format!("{} is empty", identity.token_file.display()));
    }
    let endpoint = chain
        .sts_endpoint
        .clone()
        .unwrap_or_else(|| format!("https://sts.{region}.amazonaws.com"));
    let endpoint = format!("{}/", endpoint.trim_end_matches('/'));
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("Action", "AssumeRoleWithWebIdentity")
        .append_pair("Version", "2011-06-15")
        .append_pair("RoleArn", &identity.role_arn)
        .append_pair("RoleSessionName", &identity.session_name)
        .append_pair("WebIdentityToken", token)
        .finish();
    let response = http
        .post(&endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .map_err(|e| format!("STS at {endpoint} did not answer: {e}"))?;
    let status = response.status().as_u16();
    let body = read(response)
        .await
        .map_err(|e| format!("STS at {endpoint}: {e}"))?;
    if !(200..300).contains(&status) {
        let message = xml_text(&body, "Message").unwrap_or_else(|| "no message".into());
        let code = xml_text(&body, "Code").unwrap_or_default();
        return Err(format!(
            "STS at {endpoint} refused AssumeRoleWithWebIdentity for {} (HTTP {status} {code}: {message})",
            identity.role_arn
        ));
    }
    let field = |name: &str| {
        xml_text(&body, name).ok_or_else(|| format!("STS at {endpoint} answered without <{name}>"))
    };
    Ok(Resolved {
        credentials: AwsCredentials {
            access_key_id: field("AccessKeyId")?,
            secret_access_key: field("SecretAccessKey")?,
            session_token: Some(field("SessionToken")?),
        },
        source: format!("web identity ({})", identity.role_arn),
        expires: Some(
            parse_timestamp(&field("Expiration")?)
                .ok_or_else(|| format!("STS at {endpoint} sent an unreadable <Expiration>"))?,
        ),
    })
}

/// Asks the ECS/EKS container endpoint.
pub(super) async fn container(
    client: &reqwest::Client,
    container: &ContainerEndpoint,
) -> Result<Resolved, String> {
    let url =
        Url::parse(&container.uri).map_err(|e| format!("{:?} is not a URL: {e}", container.uri))?;
    check_container_url(&url)?;
    let token = match (&container.token_file, &container.token) {
        (Some(file), _) => Some(
            tokio::fs::read_to_string(file)
                .await
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?
                .trim()
                .to_owned(),
        ),
        (None, token) => token.clone(),
    };
    let mut request = client.get(url.clone());
    if let Some(token) = token {
        request = request.header("authorization", token);
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("{url} did not answer: {e}"))?;
    let status = response.status().as_u16();
    let body = read(response).await.map_err(|e| format!("{url}: {e}"))?;
    if !(200..300).contains(&status) {
        return Err(format!("{url} answered HTTP {status}"));
    }
    credentials_json(&body, "container").map_err(|e| format!("{url}: {e}"))
}

/// The container endpoint may be any HTTPS URL, but plain HTTP only to a
/// loopback address or the ECS (`169.254.170.2`) and EKS
/// (`169.254.170.23`, `fd00:ec2::23`) agents, as the AWS SDKs require.
fn check_container_url(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" => {
            let allowed = match url.host() {
                Some(url::Host::Ipv4(ip)) => {
                    ip.is_loopback()
                        || ip.octets() == [169, 254, 170, 2]
                        || ip.octets() == [169, 254, 170, 23]
                }
                Some(url::Host::Ipv6(ip)) => {
                    ip.is_loopback() || ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23)
                }
                Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
                None => false,
            };
            if allowed {
                Ok(())
            } else {
                Err(format!(
                    "{url} is plain HTTP to a host that is not loopback or the ECS/EKS agent; \
                     AWS_CONTAINER_CREDENTIALS_FULL_URI must be HTTPS there"
                ))
            }
        }
        other => Err(format!("{url} has scheme {other:?}; only http and https")),
    }
}

/// IMDSv2: a session token by PUT, then the role name, then its credentials.
pub(super) async fn instance_metadata(
    client: &reqwest::Client,
    endpoint: &str,
) -> Result<Resolved, String> {
    let base = endpoint.trim_end_matches('/');
    let token_url = format!("{base}/latest/api/token");
    let response = client
        .put(&token_url)
        .header("x-aws-ec2-metadata-token-ttl-seconds", IMDS_TOKEN_TTL_SECS)
        .send()
        .await
        .map_err(|e| format!("{base} did not answer: {e}"))?;
    let status = response.status().as_u16();
    let token = read(response)
        .await
        .map_err(|e| format!("{token_url}: {e}"))?;
    if status != 200 {
        return Err(format!("{token_url} answered HTTP {status} (IMDSv2 token)"));
    }
    let token = token.trim().to_owned();
    let get = |path: String| {
        let token = token.clone();
        async move {
            let response = client
                .get(&path)
                .header("x-aws-ec2-metadata-token", token)
                .send()
                .await
                .map_err(|e| format!("{path} did not answer: {e}"))?;
            let status = response.status().as_u16();
            let body = read(response).await.map_err(|e| format!("{path}: {e}"))?;
            if status == 200 {
                Ok(body)
            } else {
                Err(format!("{path} answered HTTP {status}"))
            }
        }
    };
    let roles_url = format!("{base}/latest/meta-data/iam/security-credentials/");
    let roles = get(roles_url.clone()).await?;
    let role = roles
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .ok_or_else(|| format!("{roles_url} names no role (no instance profile attached)"))?;
    if !role
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    {
        return Err(format!("{roles_url} sent a role name that is not one"));
    }
    let body = get(format!("{roles_url}{role}")).await?;
    credentials_json(&body, "instance metadata").map_err(|e| format!("{roles_url}{role}: {e}"))
}

/// `{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}`, the shape
/// both the container endpoint and IMDS answer with.
fn credentials_json(body: &str, source: &str) -> Result<Resolved, String> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("the answer is not JSON ({e})"))?;
    if let Some(code) = value["Code"].as_str()
        && code != "Success"
    {
        return Err(format!("the answer says {code:?}"));
    }
    let field = |name: &str| {
        value[name]
            .as_str()
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("the answer has no {name}"))
    };
    let expires = match value["Expiration"].as_str() {
        Some(text) => Some(
            parse_timestamp(text)
                .ok_or_else(|| "the answer's Expiration is unreadable".to_owned())?,
        ),
        None => None,
    };
    Ok(Resolved {
        credentials: AwsCredentials {
            access_key_id: field("AccessKeyId")?,
            secret_access_key: field("SecretAccessKey")?,
            session_token: value["Token"].as_str().map(str::to_owned),
        },
        source: source.to_owned(),
        expires,
    })
}

/// The body as text, at most [`MAX_ANSWER_BYTES`].
async fn read(mut response: reqwest::Response) -> Result<String, String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("the answer broke off: {e}"))?
    {
        if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(format!(
                "the answer is larger than {MAX_ANSWER_BYTES} bytes"
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| "the answer is not UTF-8".to_owned())
}

/// The text of the first `<name>` element, entities decoded.
fn xml_text(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    let text = xml[start..end]
        .trim()
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    Some(text)
}

#[cfg(test)]
mod tests {
    use url::Url;

    use super::check_container_url;

    #[test]
    fn container_urls_over_http_must_be_local() {
        for ok in [
            "http://169.254.170.2/v2/credentials/x",
            "http://169.254.170.23/v1/credentials",
            "http://[fd00:ec2::23]/v1/credentials",
            "http://127.0.0.1:8080/creds",
            "http://localhost/creds",
            "https://creds.example.com/x",
        ] {
            let url = Url::parse(ok).expect("url");
            assert!(check_container_url(&url).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.5/creds",
            "http://evil.example/creds",
            "ftp://127.0.0.1/x",
        ] {
            let url = Url::parse(bad).expect("url");
            assert!(check_container_url(&url).is_err(), "{bad}");
        }
    }
}
