//! What a model call carries in and what one provider answers, independent
//! of any provider's wire format.

use serde::Serialize;
use serde_json::Value;

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The caller (the tool's prompt).
    User,
    /// The model (an earlier reply, e.g. before a repair request).
    Assistant,
}

/// One turn of the conversation (text only).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub text: String,
}

impl Message {
    /// A user turn.
    pub fn user(text: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            text: text.into(),
        }
    }

    /// An assistant turn.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            text: text.into(),
        }
    }
}

/// A JSON schema the reply must match. Providers with native structured
/// output (OpenAI `json_schema`, Gemini `responseJsonSchema`) get it
/// natively; the others get it in the system prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputSchema {
    /// A short identifier (`[a-zA-Z0-9_-]`, OpenAI requires one).
    pub name: String,
    /// The JSON Schema itself.
    pub schema: Value,
}

/// One model call.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Instructions; sent as each provider's system prompt.
    pub system: Option<String>,
    /// The conversation, starting with a user message.
    pub messages: Vec<Message>,
    /// Upper bound on generated tokens.
    pub max_tokens: u32,
    /// Sampling temperature; `None` leaves the provider's default.
    pub temperature: Option<f32>,
    /// Ask for JSON matching this schema.
    pub schema: Option<OutputSchema>,
}

impl Request {
    /// A single user prompt with a 1024-token budget.
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            system: None,
            messages: vec![Message::user(prompt)],
            max_tokens: 1024,
            temperature: None,
            schema: None,
        }
    }

    /// Sets the system prompt.
    pub fn with_system(mut self, system: impl Into<String>) -> Self {
        self.system = Some(system.into());
        self
    }

    /// Sets the generated-token budget.
    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    /// Sets the sampling temperature.
    pub fn with_temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Asks for JSON matching `schema`, named `name`.
    pub fn with_schema(mut self, name: impl Into<String>, schema: Value) -> Self {
        self.schema = Some(OutputSchema {
            name: name.into(),
            schema,
        });
        self
    }

    /// The temperature as a JSON number written the way it was given
    /// (`0.2`, not f32's `0.20000000298023224`).
    pub(crate) fn temperature_json(&self) -> Option<serde_json::Value> {
        let t = self.temperature?;
        let shortest: f64 = t.to_string().parse().unwrap_or(f64::from(t));
        Some(serde_json::json!(shortest))
    }

    /// The system prompt with the output schema spelled out, for providers
    /// without native structured output.
    pub(crate) fn system_with_schema(&self) -> Option<String> {
        let Some(schema) = &self.schema else {
            return self.system.clone();
        };
        let instruction = format!(
            "{SCHEMA_MARKER}\n{}\nReply with only the JSON value: no prose, no code fences.",
            schema.schema
        );
        Some(match &self.system {
            Some(system) => format!("{system}\n\n{instruction}"),
            None => instruction,
        })
    }
}

/// The line that introduces the schema in a system prompt (the imitation
/// looks for it, as a model would read it).
pub const SCHEMA_MARKER: &str = "Your reply must be a JSON value matching this JSON Schema:";

/// Token counts as the provider reported them (0 when it reports none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Input tokens (system prompt and messages).
    pub input_tokens: u64,
    /// Tokens generated.
    pub output_tokens: u64,
}

/// One provider's answer to one attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The generated text (text blocks joined).
    pub text: String,
    /// The model that answered, as the provider names it.
    pub model: String,
    /// Tokens of this attempt.
    pub usage: Usage,
    /// The provider's stop reason, verbatim (`end_turn`, `stop`, `STOP`, ...).
    pub stop_reason: Option<String>,
}
