//! Routes: `provider:model` specs as written in `FF_LLM_PRIMARY`,
//! `FF_LLM_FALLBACKS`, `FF_EMBED_MODEL` and a tool's `model` argument.

use std::{fmt, str::FromStr};

use url::Url;

/// Which wire protocol a route speaks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// Anthropic Messages API (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`).
    Anthropic,
    /// OpenAI Chat Completions (`OPENAI_API_KEY`, `OPENAI_BASE_URL`).
    OpenAi,
    /// Google Gemini `generateContent` (`GEMINI_API_KEY`, `GEMINI_BASE_URL`).
    Gemini,
    /// AWS Bedrock Converse (AWS credential variables, `AWS_REGION`).
    Bedrock,
    /// An OpenAI-compatible server (Ollama, vLLM, llama.cpp) at this base URL.
    OpenAiCompat(Url),
    /// The connected MCP client's own model, via `sampling/createMessage`.
    Sampling,
}

/// One place a completion can come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Route {
    /// Which provider serves it.
    pub provider: ProviderKind,
    /// The provider's model id; for `sampling`, an optional hint (may be empty).
    pub model: String,
}

/// A route spec that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("model route '{spec}' is not valid: {reason}")]
pub struct RouteError {
    /// The spec as written.
    pub spec: String,
    /// What is wrong with it.
    pub reason: String,
}

const FORMS: &str = "expected provider:model with provider one of anthropic, openai, gemini, \
     bedrock, openai-compat (openai-compat:http://host:port/v1#model), or sampling";

impl FromStr for Route {
    type Err = RouteError;

    fn from_str(spec: &str) -> Result<Self, RouteError> {
        let spec = spec.trim();
        let err = |reason: &str| RouteError {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        if spec == "sampling" {
            return Ok(Route {
                provider: ProviderKind::Sampling,
                model: String::new(),
            });
        }
        let Some((provider, model)) = spec.split_once(':') else {
            return Err(err(FORMS));
        };
        let model = model.trim();
        let provider = match provider.trim().to_ascii_lowercase().as_str() {
            "anthropic" => ProviderKind::Anthropic,
            "openai" => ProviderKind::OpenAi,
            "gemini" | "google" => ProviderKind::Gemini,
            "bedrock" => ProviderKind::Bedrock,
            "sampling" => ProviderKind::Sampling,
            "openai-compat" => {
                let Some((base, name)) = model.rsplit_once('#') else {
                    return Err(err(
                        "openai-compat routes name the base URL and the model: \
                         openai-compat:http://127.0.0.1:11434/v1#llama3",
                    ));
                };
                let url = Url::parse(base)
                    .map_err(|e| err(&format!("base URL {base:?} is not an absolute URL ({e})")))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(err("the base URL must be http:// or https://"));
                }
                if !url.username().is_empty() || url.password().is_some() {
                    return Err(err(
                        "put credentials in OPENAI_COMPAT_API_KEY, not in the base URL",
                    ));
                }
                if name.trim().is_empty() {
                    return Err(err("the model name after '#' is empty"));
                }
                return Ok(Route {
                    provider: ProviderKind::OpenAiCompat(url),
                    model: name.trim().to_owned(),
                });
            }
            _ => return Err(err(FORMS)),
        };
        if model.is_empty() && provider != ProviderKind::Sampling {
            return Err(err("the model name after ':' is empty"));
        }
        if model.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("model names contain no whitespace"));
        }
        Ok(Route {
            provider,
            model: model.to_owned(),
        })
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.provider {
            ProviderKind::Anthropic => write!(f, "anthropic:{}", self.model),
            ProviderKind::OpenAi => write!(f, "openai:{}", self.model),
            ProviderKind::Gemini => write!(f, "gemini:{}", self.model),
            ProviderKind::Bedrock => write!(f, "bedrock:{}", self.model),
            ProviderKind::OpenAiCompat(url) => {
                write!(f, "openai-compat:{}#{}", url.as_str(), self.model)
            }
            ProviderKind::Sampling if self.model.is_empty() => f.write_str("sampling"),
            ProviderKind::Sampling => write!(f, "sampling:{}", self.model),
        }
    }
}

impl ProviderKind {
    /// The provider's name as written in a route.
    pub fn name(&self) -> &'static str {
        match self {
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::OpenAi => "openai",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Bedrock => "bedrock",
            ProviderKind::OpenAiCompat(_) => "openai-compat",
            ProviderKind::Sampling => "sampling",
        }
    }

    /// Whether the provider has an embeddings API this layer speaks
    /// (OpenAI `/embeddings`, Gemini `batchEmbedContents`, and
    /// OpenAI-compatible servers).
    pub fn embeds(&self) -> bool {
        matches!(
            self,
            ProviderKind::OpenAi | ProviderKind::Gemini | ProviderKind::OpenAiCompat(_)
        )
    }
}

/// A route as a tool's `model` argument names it, before the router checks
/// it against the configuration (see [`Router`](super::Router)'s
/// `authorize`): a tool argument may choose among configured providers and
/// routes, never where ffmcp connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestedRoute {
    /// A full route spec; an `openai-compat` one names a base URL, which must
    /// be the base URL of a configured route.
    Route(Route),
    /// `openai-compat:MODEL` without a URL: this model on the configured
    /// OpenAI-compatible server.
    CompatModel(String),
}

impl fmt::Display for RequestedRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestedRoute::Route(route) => route.fmt(f),
            RequestedRoute::CompatModel(model) => write!(f, "openai-compat:{model}"),
        }
    }
}

/// Parses a tool's `model` argument (comma-separated, blanks ignored).
pub fn parse_requested_routes(list: &str) -> Result<Vec<RequestedRoute>, RouteError> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|spec| {
            let compat_model = spec
                .split_once(':')
                .filter(|(provider, rest)| {
                    provider.trim().eq_ignore_ascii_case("openai-compat")
                        && !rest.contains('#')
                        && !rest.contains("://")
                })
                .map(|(_, rest)| rest.trim());
            match compat_model {
                Some("") => Err(RouteError {
                    spec: spec.to_owned(),
                    reason: "the model name after ':' is empty".to_owned(),
                }),
                Some(model) if model.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                    Err(RouteError {
                        spec: spec.to_owned(),
                        reason: "model names contain no whitespace".to_owned(),
                    })
                }
                Some(model) => Ok(RequestedRoute::CompatModel(model.to_owned())),
                None => spec.parse().map(RequestedRoute::Route),
            }
        })
        .collect()
}

/// Parses a comma-separated route list; blank entries are ignored.
pub fn parse_routes(list: &str) -> Result<Vec<Route>, RouteError> {
    list.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(str::parse)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_each_form() {
        for (spec, provider, model) in [
            (
                "anthropic:claude-sonnet-4-5",
                "anthropic",
                "claude-sonnet-4-5",
            ),
            ("openai:gpt-4o", "openai", "gpt-4o"),
            ("gemini:gemini-2.5-pro", "gemini", "gemini-2.5-pro"),
            (
                "bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0",
                "bedrock",
                "anthropic.claude-3-5-sonnet-20240620-v1:0",
            ),
            (
                "openai-compat:http://127.0.0.1:11434/v1#llama3",
                "openai-compat",
                "llama3",
            ),
            ("sampling", "sampling", ""),
            ("sampling:claude", "sampling", "claude"),
        ] {
            let route: Route = spec.parse().expect(spec);
            assert_eq!(route.provider.name(), provider, "{spec}");
            assert_eq!(route.model, model, "{spec}");
            assert_eq!(route.to_string(), spec);
        }
    }

    #[test]
    fn rejects_with_the_reason() {
        for (spec, needle) in [
            ("gpt-4o", "expected provider:model"),
            ("mistral:large", "expected provider:model"),
            ("openai:", "empty"),
            ("openai-compat:http://x/v1", "base URL and the model"),
            ("openai-compat:ftp://x/v1#m", "http://"),
            ("openai-compat:http://u:p@x/v1#m", "OPENAI_COMPAT_API_KEY"),
        ] {
            let err = spec.parse::<Route>().expect_err(spec).to_string();
            assert!(err.contains(needle), "{spec}: {err}");
        }
    }

    #[test]
    fn lists_split_on_commas() {
        let routes = parse_routes(" anthropic:a , openai:b,,").expect("valid");
        assert_eq!(routes.len(), 2);
        assert_eq!(routes[1].to_string(), "openai:b");
    }
}
