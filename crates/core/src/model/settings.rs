//! Provider endpoints and credentials, read from the variables each
//! provider's own SDK uses, so proxies, gateways and test imitations are
//! configured the way users already know.

use std::{fmt, path::PathBuf};

/// Base URL and key of one HTTP provider.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// No trailing slash.
    pub base_url: String,
    /// The key, when set (never printed by `Debug`).
    pub api_key: Option<String>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl Endpoint {
    /// An endpoint; trailing slashes of `base_url` are dropped.
    pub fn new(base_url: impl Into<String>, api_key: Option<String>) -> Self {
        let base_url: String = base_url.into();
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
        }
    }
}

/// Static AWS credentials (the standard environment variables).
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY` (never printed by `Debug`).
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`, for temporary credentials.
    pub session_token: Option<String>,
}

impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Where and as whom Bedrock is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedrockSettings {
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`).
    pub region: Option<String>,
    /// `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` or `AWS_ENDPOINT_URL`; by default
    /// `https://bedrock-runtime.{region}.amazonaws.com`.
    pub endpoint: Option<String>,
    /// Static credentials, when the key id and the secret are both set.
    pub credentials: Option<AwsCredentials>,
    /// Where credentials come from when the static variables are not set
    /// (profiles, web identity, container, instance metadata).
    pub chain: AwsChain,
}

/// The sources of AWS's standard credential chain after the static
/// variables, in the order they are tried, as the AWS SDKs configure them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsChain {
    /// `AWS_PROFILE` (default `default`).
    pub profile: String,
    /// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
    pub credentials_file: Option<PathBuf>,
    /// `AWS_CONFIG_FILE`, else `~/.aws/config`.
    pub config_file: Option<PathBuf>,
    /// `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN` (EKS IRSA and
    /// friends); a profile's `web_identity_token_file` + `role_arn` too.
    pub web_identity: Option<WebIdentity>,
    /// `AWS_ENDPOINT_URL_STS` (or `AWS_ENDPOINT_URL`); by default
    /// `https://sts.{region}.amazonaws.com`.
    pub sts_endpoint: Option<String>,
    /// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on `http://169.254.170.2`)
    /// or `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
    pub container: Option<ContainerEndpoint>,
    /// The instance metadata service (IMDSv2): `AWS_EC2_METADATA_SERVICE_ENDPOINT`,
    /// default `http://169.254.169.254`; `None` when
    /// `AWS_EC2_METADATA_DISABLED=true`.
    pub imds: Option<String>,
}

/// A role assumed with an OIDC token read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebIdentity {
    /// The OIDC token, read each time credentials are fetched (it rotates).
    pub token_file: PathBuf,
    /// The role to assume.
    pub role_arn: String,
    /// `AWS_ROLE_SESSION_NAME`, default `ffmcp`.
    pub session_name: String,
}

/// The ECS/EKS container credential endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct ContainerEndpoint {
    /// The full URL credentials are fetched from.
    pub uri: String,
    /// Read each time credentials are fetched (EKS Pod Identity rotates it).
    pub token_file: Option<PathBuf>,
    /// Never printed by `Debug`.
    pub token: Option<String>,
}

impl fmt::Debug for ContainerEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContainerEndpoint")
            .field("uri", &self.uri)
            .field("token_file", &self.token_file)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl AwsChain {
    /// Reads the chain's variables through `var` (blank values are unset).
    fn from_lookup(var: &dyn Fn(&str) -> Option<String>) -> Self {
        let home = var("HOME").map(PathBuf::from);
        let aws_file = |name: &str| home.as_ref().map(|h| h.join(".aws").join(name));
        let web_identity = match (var("AWS_WEB_IDENTITY_TOKEN_FILE"), var("AWS_ROLE_ARN")) {
            (Some(token_file), Some(role_arn)) => Some(WebIdentity {
                token_file: token_file.into(),
                role_arn,
                session_name: var("AWS_ROLE_SESSION_NAME").unwrap_or_else(|| "ffmcp".into()),
            }),
            _ => None,
        };
        let container = var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            .map(|relative| format!("http://169.254.170.2{relative}"))
            .or_else(|| var("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
            .map(|uri| ContainerEndpoint {
                uri,
                token_file: var("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").map(PathBuf::from),
                token: var("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
            });
        let imds_disabled =
            var("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        Self {
            profile: var("AWS_PROFILE").unwrap_or_else(|| "default".into()),
            credentials_file: var("AWS_SHARED_CREDENTIALS_FILE")
                .map(PathBuf::from)
                .or_else(|| aws_file("credentials")),
            config_file: var("AWS_CONFIG_FILE")
                .map(PathBuf::from)
                .or_else(|| aws_file("config")),
            web_identity,
            sts_endpoint: var("AWS_ENDPOINT_URL_STS").or_else(|| var("AWS_ENDPOINT_URL")),
            container,
            imds: (!imds_disabled).then(|| {
                var("AWS_EC2_METADATA_SERVICE_ENDPOINT")
                    .unwrap_or_else(|| "http://169.254.169.254".into())
            }),
        }
    }

    /// No source beyond the static variables (tests, or a process that
    /// wants only those).
    pub fn none() -> Self {
        Self::default()
    }
}

/// Every provider's endpoint and credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSettings {
    /// `ANTHROPIC_BASE_URL` (default `https://api.anthropic.com`; requests go
    /// to `/v1/messages`) and `ANTHROPIC_API_KEY`.
    pub anthropic: Endpoint,
    /// `OPENAI_BASE_URL` (default `https://api.openai.com/v1`; requests go to
    /// `/chat/completions`) and `OPENAI_API_KEY`.
    pub openai: Endpoint,
    /// `GEMINI_BASE_URL` (default `https://generativelanguage.googleapis.com`;
    /// requests go to `/v1beta/models/{model}:generateContent`) and
    /// `GEMINI_API_KEY` or `GOOGLE_API_KEY`.
    pub gemini: Endpoint,
    /// AWS Bedrock: region, endpoint, credentials.
    pub bedrock: BedrockSettings,
    /// `OPENAI_COMPAT_API_KEY`: bearer token for `openai-compat` routes
    /// (most local servers need none).
    pub compat_api_key: Option<String>,
    /// `FF_LLM_PROXY`: the one proxy model calls go through. The usual
    /// `HTTPS_PROXY`/`ALL_PROXY` variables are ignored on purpose: whoever
    /// can set them could read every key in transit.
    pub proxy: Option<String>,
}

impl Default for ProviderSettings {
    /// The providers' public endpoints and no credentials.
    fn default() -> Self {
        Self::from_lookup(&|_| None)
    }
}

impl ProviderSettings {
    /// Reads the settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let credentials = match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(access_key_id), Some(secret_access_key)) => Some(AwsCredentials {
                access_key_id,
                secret_access_key,
                session_token: var("AWS_SESSION_TOKEN"),
            }),
            _ => None,
        };
        Self {
            anthropic: Endpoint::new(
                var("ANTHROPIC_BASE_URL").unwrap_or_else(|| "https://api.anthropic.com".into()),
                var("ANTHROPIC_API_KEY"),
            ),
            openai: Endpoint::new(
                var("OPENAI_BASE_URL").unwrap_or_else(|| "https://api.openai.com/v1".into()),
                var("OPENAI_API_KEY"),
            ),
            gemini: Endpoint::new(
                var("GEMINI_BASE_URL")
                    .unwrap_or_else(|| "https://generativelanguage.googleapis.com".into()),
                var("GEMINI_API_KEY").or_else(|| var("GOOGLE_API_KEY")),
            ),
            bedrock: {
                let chain = AwsChain::from_lookup(&var);
                BedrockSettings {
                    region: var("AWS_REGION")
                        .or_else(|| var("AWS_DEFAULT_REGION"))
                        .or_else(|| super::provider::aws::profile_region(&chain)),
                    endpoint: var("AWS_ENDPOINT_URL_BEDROCK_RUNTIME")
                        .or_else(|| var("AWS_ENDPOINT_URL")),
                    credentials,
                    chain,
                }
            },
            compat_api_key: var("OPENAI_COMPAT_API_KEY"),
            proxy: var("FF_LLM_PROXY"),
        }
    }

    /// Every configured secret value (keys, AWS secrets), so that error
    /// text quoting a provider's reply never carries one back out.
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets: Vec<String> = [
            &self.anthropic.api_key,
            &self.openai.api_key,
            &self.gemini.api_key,
            &self.compat_api_key,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
        if let Some(aws) = &self.bedrock.credentials {
            secrets.push(aws.access_key_id.clone());
            secrets.push(aws.secret_access_key.clone());
            secrets.extend(aws.session_token.clone());
        }
        if let Some(container) = &self.bedrock.chain.container {
            secrets.extend(container.token.clone());
        }
        if let Some(proxy) = self.proxy.as_deref().and_then(|p| url::Url::parse(p).ok())
            && let Some(password) = proxy.password()
        {
            secrets.push(password.to_owned());
        }
        secrets.retain(|s| s.trim().len() >= 4);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets
    }

    /// Reads the settings from the configuration.
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self::from_lookup(&|name| config.lookup(name))
    }
}
