//! Provider endpoints and credentials, read from the variables each
//! provider's own SDK uses, so proxies, gateways and test imitations are
//! configured the way users already know.

use std::fmt;

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
            bedrock: BedrockSettings {
                region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")),
                endpoint: var("AWS_ENDPOINT_URL_BEDROCK_RUNTIME")
                    .or_else(|| var("AWS_ENDPOINT_URL")),
                credentials,
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
