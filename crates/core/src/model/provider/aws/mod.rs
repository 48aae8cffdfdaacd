//! AWS's standard credential chain, for the Bedrock client only: static
//! variables, then the shared config/credentials files (`AWS_PROFILE`),
//! then a web-identity token exchanged at STS, then the ECS/EKS container
//! endpoint, then the EC2 instance metadata service (IMDSv2). Temporary
//! credentials are cached until five minutes before they expire; one caller
//! resolves while the others wait.
//!
//! # Why hand-written (decision, 2026-12)
//!
//! `aws-config` is the SDK's chain. It brings the smithy runtime, its own
//! HTTP stack and ~60 crates, needs a newer Rust than our MSRV (as
//! `aws-sigv4` does, see [`super::sigv4`]), and covers far more than a
//! model client needs (SSO, `credential_process`, assume-role chains). The
//! five sources here are each one or two small HTTP exchanges with
//! documented shapes; profiles are a small INI dialect. What is not
//! supported (SSO, `credential_process`, `source_profile` role chains) is
//! reported by name when a profile asks for it.
//!
//! # The instance metadata and container endpoints
//!
//! `169.254.169.254` and the container endpoint hand out credentials to
//! whoever asks from the machine. They are reached only here, with a client
//! of their own (no proxy, no redirects, short timeouts), never through
//! `core::fetch`: a tool's URL can never reach them, and the fetch policy
//! keeps refusing link-local addresses. A container `FULL_URI` over plain
//! HTTP must be a loopback or the ECS/EKS agent address, as the SDKs demand.

mod profile;
mod sources;

use std::{
    sync::Mutex,
    time::{Duration, SystemTime},
};

use super::{Failure, ProviderError};
use crate::model::settings::{AwsChain, AwsCredentials};

pub(crate) use profile::profile_region;

/// Credentials are refreshed this long before they expire.
const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);
/// After a failed resolution the chain is not walked again for this long
/// (an absent instance metadata service costs a connect timeout each time).
const RETRY_FAILED_AFTER: Duration = Duration::from_secs(10);

/// Credentials that a source handed out.
#[derive(Clone)]
pub(crate) struct Resolved {
    pub(crate) credentials: AwsCredentials,
    /// Which source: `environment`, `profile default`, `web identity`,
    /// `container`, `instance metadata`.
    pub(crate) source: String,
    pub(crate) expires: Option<SystemTime>,
}

/// The chain, its clients and its cache.
pub(crate) struct CredentialChain {
    static_credentials: Option<AwsCredentials>,
    chain: AwsChain,
    region: Option<String>,
    /// STS is a public AWS endpoint: the model client (and its proxy).
    http: reqwest::Client,
    /// Instance metadata and container endpoints: never a proxy.
    local: Result<reqwest::Client, String>,
    cache: tokio::sync::Mutex<Option<Resolved>>,
    failed: Mutex<Option<(SystemTime, String)>>,
}

impl CredentialChain {
    pub(crate) fn new(
        static_credentials: Option<AwsCredentials>,
        chain: AwsChain,
        region: Option<String>,
        http: reqwest::Client,
    ) -> Self {
        Self {
            static_credentials,
            chain,
            region,
            http,
            local: sources::local_client(),
            cache: tokio::sync::Mutex::new(None),
            failed: Mutex::new(None),
        }
    }

    /// Why no credentials can come from anywhere, when that is known
    /// without asking a server: no static variables, no profile files, no
    /// web identity, no container endpoint, and instance metadata disabled;
    /// or the last walk of the chain failed moments ago.
    pub(crate) fn missing(&self) -> Option<String> {
        if self.static_credentials.is_some() {
            return None;
        }
        if let Some((_, why)) = self.recent_failure() {
            return Some(why);
        }
        let files = [&self.chain.credentials_file, &self.chain.config_file]
            .into_iter()
            .flatten()
            .any(|f| f.is_file());
        let anything = files
            || self.chain.web_identity.is_some()
            || self.chain.container.is_some()
            || self.chain.imds.is_some();
        (!anything).then(|| {
            "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, no \
             shared credentials or config file, no web identity or container credentials, and \
             instance metadata is disabled"
                .to_owned()
        })
    }

    fn recent_failure(&self) -> Option<(SystemTime, String)> {
        let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        failed
            .as_ref()
            .filter(|(at, _)| at.elapsed().is_ok_and(|e| e < RETRY_FAILED_AFTER))
            .cloned()
    }

    /// Credentials to sign with now: the cached ones while they are fresh,
    /// else the first source of the chain that answers.
    pub(crate) async fn credentials(&self) -> Result<Resolved, ProviderError> {
        if let Some(credentials) = &self.static_credentials {
            return Ok(Resolved {
                credentials: credentials.clone(),
                source: "environment".into(),
                expires: None,
            });
        }
        let mut cache = self.cache.lock().await;
        let now = SystemTime::now();
        if let Some(resolved) = cache.as_ref()
            && resolved.expires.is_none_or(|e| now + REFRESH_BEFORE < e)
        {
            return Ok(resolved.clone());
        }
        if let Some((_, why)) = self.recent_failure() {
            return Err(ProviderError::new(Failure::Unavailable, why));
        }
        match self.resolve().await {
            Ok(resolved) => {
                tracing::debug!(source = %resolved.source, "AWS credentials resolved");
                *cache = Some(resolved.clone());
                Ok(resolved)
            }
            Err(why) => {
                *self.failed.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((SystemTime::now(), why.clone()));
                Err(ProviderError::new(Failure::Unavailable, why))
            }
        }
    }

    /// Walks the chain once; the error names what each source said.
    async fn resolve(&self) -> Result<Resolved, String> {
        let mut tried: Vec<String> =
            vec!["AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: not set".into()];
        let profile_name = if self.chain.profile.is_empty() {
            "default"
        } else {
            self.chain.profile.as_str()
        };
        let profile = profile::load(&self.chain, profile_name).await;
        match profile {
            Ok(Some(profile::Profile::Static(credentials))) => {
                return Ok(Resolved {
                    credentials,
                    source: format!("profile {profile_name}"),
                    expires: None,
                });
            }
            Ok(Some(profile::Profile::WebIdentity(identity))) => {
                match sources::web_identity(&self.http, &self.chain, self.region(), &identity).await
                {
                    Ok(resolved) => return Ok(resolved),
                    Err(why) => tried.push(format!("profile {profile_name}: {why}")),
                }
            }
            Ok(None) => tried.push(format!("profile {profile_name}: not found")),
            Err(why) => tried.push(format!("profile {profile_name}: {why}")),
        }
        if let Some(identity) = &self.chain.web_identity {
            match sources::web_identity(&self.http, &self.chain, self.region(), identity).await {
                Ok(resolved) => return Ok(resolved),
                Err(why) => tried.push(format!("web identity: {why}")),
            }
        }
        let local = self.local.as_ref();
        if let Some(container) = &self.chain.container {
            let answer = match local {
                Ok(client) => sources::container(client, container).await,
                Err(why) => Err(why.to_owned()),
            };
            match answer {
                Ok(resolved) => return Ok(resolved),
                Err(why) => tried.push(format!("container endpoint: {why}")),
            }
        }
        if let Some(endpoint) = &self.chain.imds {
            let answer = match local {
                Ok(client) => sources::instance_metadata(client, endpoint).await,
                Err(why) => Err(why.to_owned()),
            };
            match answer {
                Ok(resolved) => return Ok(resolved),
                Err(why) => tried.push(format!("instance metadata: {why}")),
            }
        }
        Err(format!("no AWS credentials found ({})", tried.join("; ")))
    }

    fn region(&self) -> &str {
        self.region.as_deref().unwrap_or("us-east-1")
    }
}

/// `2026-12-01T10:00:00Z` (fractions and `±hh:mm` offsets allowed) as a
/// time; `None` when it is not one.
pub(crate) fn parse_timestamp(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let (date, rest) = text.split_once(['T', 't', ' '])?;
    let mut ymd = date.splitn(3, '-');
    let year: i64 = ymd.next()?.parse().ok()?;
    let month: u32 = ymd.next()?.parse().ok()?;
    let day: u32 = ymd.next()?.parse().ok()?;
    let (clock, offset_secs) = if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
        (clock, 0i64)
    } else {
        let at = rest.rfind(['+', '-'])?;
        let (clock, offset) = rest.split_at(at);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let (h, m) = offset[1..].split_once(':')?;
        let offset = h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60;
        (clock, sign * offset)
    };
    let clock = clock.split('.').next()?;
    let mut hms = clock.splitn(3, ':');
    let hour: i64 = hms.next()?.parse().ok()?;
    let minute: i64 = hms.next()?.parse().ok()?;
    let second: i64 = hms.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second.min(60) - offset_secs;
    let secs = u64::try_from(secs).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// (year, month, day) to days since 1970-01-01 (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::parse_timestamp;

    #[test]
    fn timestamps_parse_as_aws_writes_them() {
        let at = |secs: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(at(0)));
        assert_eq!(
            parse_timestamp("2026-12-01T10:00:00Z"),
            Some(at(1_796_119_200))
        );
        assert_eq!(
            parse_timestamp("2026-12-01T10:00:00.000Z"),
            Some(at(1_796_119_200))
        );
        assert_eq!(
            parse_timestamp("2026-12-01T12:00:00+02:00"),
            Some(at(1_796_119_200))
        );
        assert_eq!(
            parse_timestamp("2024-02-29T00:00:00Z"),
            Some(at(1_709_164_800))
        );
        for bad in ["", "yesterday", "2026-13-01T00:00:00Z", "2026-12-01"] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }
}
