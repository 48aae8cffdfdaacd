//! Prompts and argument completion: the shared mechanics.
//!
//! Each server declares a static [`Catalog`] of [`PromptSpec`]s (name,
//! title, what it is for, its arguments) and renders the text itself; this
//! module does what every server would otherwise repeat, so all of them
//! answer the same way: `prompts/list` from the table, `prompts/get` with
//! the arguments checked (an unknown prompt, an unknown argument or a
//! missing required one is a JSON-RPC invalid-params error naming it), and
//! `completion/complete` resolved to a declared prompt argument, answered
//! prefix-filtered with at most [`MAX_COMPLETIONS`] values and `hasMore`
//! set when cut.

use std::collections::BTreeMap;

use rmcp::{
    ErrorData as McpError,
    model::{
        CompleteRequestParams, CompleteResult, CompletionInfo, GetPromptRequestParams,
        GetPromptResponse, GetPromptResult, ListPromptsResult, Prompt, PromptArgument,
        PromptMessage, Reference, Role,
    },
};

/// The most values one completion answer carries (the protocol's limit).
pub const MAX_COMPLETIONS: usize = CompletionInfo::MAX_VALUES;

/// One argument of a prompt.
#[derive(Debug)]
pub struct ArgSpec {
    /// The argument's name.
    pub name: &'static str,
    /// What to give, for the person filling it in.
    pub description: &'static str,
    /// Whether `prompts/get` refuses a request without it.
    pub required: bool,
}

/// One prompt a server offers.
#[derive(Debug)]
pub struct PromptSpec {
    /// The prompt's name (what `prompts/get` asks for).
    pub name: &'static str,
    /// A short human title.
    pub title: &'static str,
    /// What the prompt does.
    pub description: &'static str,
    /// Its arguments, in the order a client shows them.
    pub args: &'static [ArgSpec],
}

/// A server's prompts.
#[derive(Debug)]
pub struct Catalog(pub &'static [PromptSpec]);

/// The checked arguments of one `prompts/get`.
#[derive(Debug)]
pub struct Arguments {
    /// The prompt asked for.
    pub prompt: &'static PromptSpec,
    values: BTreeMap<String, String>,
}

impl Arguments {
    /// The argument's value, if given and not blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A required argument (present: [`Catalog::arguments`] checked it).
    pub fn required(&self, name: &str) -> &str {
        self.get(name).unwrap_or_default()
    }
}

impl Catalog {
    /// The `prompts/list` answer.
    pub fn list(&self) -> ListPromptsResult {
        ListPromptsResult::with_all_items(self.0.iter().map(to_prompt).collect())
    }

    /// The prompt called `name`, or an invalid-params error naming it and
    /// the prompts there are.
    pub fn find(&self, name: &str) -> Result<&'static PromptSpec, McpError> {
        let table: &'static [PromptSpec] = self.0;
        table.iter().find(|p| p.name == name).ok_or_else(|| {
            McpError::invalid_params(
                format!(
                    "unknown prompt '{name}'; this server offers: {}",
                    self.names()
                ),
                None,
            )
        })
    }

    /// Checks a `prompts/get` request: the prompt exists, every argument is
    /// one it declares and a string, every required one is given.
    pub fn arguments(&self, request: &GetPromptRequestParams) -> Result<Arguments, McpError> {
        let prompt = self.find(&request.name)?;
        let mut values = BTreeMap::new();
        for (key, value) in request.arguments.iter().flatten() {
            if !prompt.args.iter().any(|a| a.name == key) {
                return Err(McpError::invalid_params(
                    format!(
                        "prompt '{}' has no argument '{key}'; its arguments are: {}",
                        prompt.name,
                        arg_names(prompt)
                    ),
                    None,
                ));
            }
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Null => continue,
                _ => {
                    return Err(McpError::invalid_params(
                        format!(
                            "argument '{key}' of prompt '{}' must be a string",
                            prompt.name
                        ),
                        None,
                    ));
                }
            };
            values.insert(key.clone(), text);
        }
        let arguments = Arguments { prompt, values };
        if let Some(missing) = prompt
            .args
            .iter()
            .find(|a| a.required && arguments.get(a.name).is_none())
        {
            return Err(McpError::invalid_params(
                format!(
                    "prompt '{}' needs the argument '{}' ({})",
                    prompt.name, missing.name, missing.description
                ),
                None,
            ));
        }
        Ok(arguments)
    }

    /// Resolves a `completion/complete` request to a declared prompt and
    /// argument: `(prompt, argument)`. A resource reference, an unknown
    /// prompt or an unknown argument is an invalid-params error naming it.
    pub fn completion_target(
        &self,
        request: &CompleteRequestParams,
    ) -> Result<(&'static str, &'static str), McpError> {
        let name = match &request.r#ref {
            Reference::Prompt(p) => p.name.as_str(),
            Reference::Resource(r) => {
                return Err(McpError::invalid_params(
                    format!(
                        "no completion for resource '{}'; this server completes prompt arguments",
                        r.uri
                    ),
                    None,
                ));
            }
            #[allow(unreachable_patterns)] // Reference is non_exhaustive
            _ => {
                return Err(McpError::invalid_params(
                    "unsupported completion reference; use ref/prompt",
                    None,
                ));
            }
        };
        let prompt = self.find(name)?;
        let argument = &request.argument.name;
        let arg = prompt
            .args
            .iter()
            .find(|a| a.name == argument)
            .ok_or_else(|| {
                McpError::invalid_params(
                    format!(
                        "prompt '{}' has no argument '{argument}'; its arguments are: {}",
                        prompt.name,
                        arg_names(prompt)
                    ),
                    None,
                )
            })?;
        Ok((prompt.name, arg.name))
    }

    fn names(&self) -> String {
        self.0.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
    }
}

/// A rendered prompt: one user message carrying `text`.
pub fn rendered(prompt: &PromptSpec, text: String) -> GetPromptResponse {
    let mut result = GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]);
    result.description = Some(prompt.description.to_owned());
    result.into()
}

/// The completion answer for `prefix` from `candidates`: the matching
/// values (case-sensitive prefix, first [`MAX_COMPLETIONS`] in the order
/// given, duplicates dropped), `hasMore` when more matched.
pub fn complete<I>(candidates: I, prefix: &str) -> CompleteResult
where
    I: IntoIterator,
    I::Item: Into<String>,
{
    let mut values: Vec<String> = Vec::new();
    let mut more = false;
    for value in candidates.into_iter().map(Into::into) {
        if !value.starts_with(prefix) || values.contains(&value) {
            continue;
        }
        if values.len() == MAX_COMPLETIONS {
            more = true;
            break;
        }
        values.push(value);
    }
    let info = CompletionInfo::with_pagination(values, None, more)
        .expect("at most MAX_COMPLETIONS values were kept");
    CompleteResult::new(info)
}

/// No suggestions (a free-text argument).
pub fn nothing() -> CompleteResult {
    complete(std::iter::empty::<String>(), "")
}

fn to_prompt(spec: &PromptSpec) -> Prompt {
    let args = spec
        .args
        .iter()
        .map(|a| {
            PromptArgument::new(a.name)
                .with_description(a.description)
                .with_required(a.required)
        })
        .collect();
    Prompt::new(spec.name, Some(spec.description), Some(args)).with_title(spec.title)
}

fn arg_names(prompt: &PromptSpec) -> String {
    if prompt.args.is_empty() {
        return "(none)".to_owned();
    }
    prompt
        .args
        .iter()
        .map(|a| a.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_is_prefix_filtered_capped_and_flags_more() {
        let many = (0..250).map(|i| format!("job-{i:03}"));
        let result = complete(many, "job-");
        assert_eq!(result.completion.values.len(), 100);
        assert_eq!(result.completion.has_more, Some(true));
        assert!(
            result
                .completion
                .values
                .iter()
                .all(|v| v.starts_with("job-"))
        );

        let few = complete(["json", "yaml", "toml", "csv"], "y");
        assert_eq!(few.completion.values, vec!["yaml"]);
        assert_eq!(few.completion.has_more, Some(false));
    }
}
