//! Structured output: a reply validated against the caller's JSON schema,
//! with one repair round before failing clearly.

use serde_json::Value;

use super::{
    request::{Message, OutputSchema, Request},
    router::{Call, ModelError, Response, Router},
};

/// A reply that parsed and matched the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonResponse {
    /// The parsed reply.
    pub value: Value,
    /// The call that produced `value` (the repair call when `repaired`).
    pub response: Response,
    /// Whether the first reply failed validation and was repaired.
    pub repaired: bool,
}

impl Router {
    /// Like [`Router::complete`], but asks for JSON matching `schema`,
    /// validates the reply, and when it does not match, sends the reply
    /// back once with the validation errors for a corrected version.
    pub async fn complete_json(
        &self,
        request: &Request,
        schema: &Value,
        call: &Call,
    ) -> Result<JsonResponse, ModelError> {
        let validator = jsonschema::validator_for(schema)
            .map_err(|e| ModelError::InvalidSchema(e.to_string()))?;
        let mut request = request.clone();
        if request.schema.is_none() {
            request.schema = Some(OutputSchema {
                name: "result".to_owned(),
                schema: schema.clone(),
            });
        }
        let first = self.complete(&request, call).await?;
        let problem = match check(&first.text, &validator) {
            Ok(value) => {
                return Ok(JsonResponse {
                    value,
                    response: first,
                    repaired: false,
                });
            }
            Err(problem) => problem,
        };
        // The problem quotes the reply, so it stays out of the log.
        tracing::info!(route = %first.route, "model reply failed validation; asking once for a repair");
        let mut repair = request.clone();
        repair.messages.push(Message::assistant(first.text.clone()));
        repair.messages.push(Message::user(format!(
            "That reply is not valid: {problem}. Reply again with only the corrected JSON value \
             matching the schema: no prose, no code fences."
        )));
        // The route that answered is asked to repair its own reply.
        let repair_call = Call {
            routes: Some(vec![first.route.clone()]),
            ..call.clone()
        };
        let mut second = self.complete(&repair, &repair_call).await?;
        second.attempts += first.attempts;
        second.fallbacks += first.fallbacks;
        second.usage.input_tokens += first.usage.input_tokens;
        second.usage.output_tokens += first.usage.output_tokens;
        second.cost_usd = match (first.cost_usd, second.cost_usd) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        match check(&second.text, &validator) {
            Ok(value) => Ok(JsonResponse {
                value,
                response: second,
                repaired: true,
            }),
            Err(problem) => Err(ModelError::InvalidOutput {
                route: second.route.to_string(),
                problem,
            }),
        }
    }
}

/// Parses `text` as JSON (tolerating code fences and prose around one
/// object or array) and validates it; the error names up to three problems.
fn check(text: &str, validator: &jsonschema::Validator) -> Result<Value, String> {
    let value = extract_json(text)?;
    let problems: Vec<String> = validator
        .iter_errors(&value)
        .take(3)
        .map(|e| {
            let path = e.instance_path().to_string();
            if path.is_empty() {
                e.to_string()
            } else {
                format!("at {path}: {e}")
            }
        })
        .collect();
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(problems.join("; "))
    }
}

/// The JSON value in a model reply.
pub(crate) fn extract_json(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    if let Ok(value) = serde_json::from_str(trimmed) {
        return Ok(value);
    }
    let unfenced = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|rest| rest.trim_end().strip_suffix("```"))
        .map(str::trim);
    if let Some(inner) = unfenced
        && let Ok(value) = serde_json::from_str(inner)
    {
        return Ok(value);
    }
    for (open, close) in [('{', '}'), ('[', ']')] {
        if let (Some(start), Some(end)) = (trimmed.find(open), trimmed.rfind(close))
            && start < end
            && let Ok(value) = serde_json::from_str(&trimmed[start..=end])
        {
            return Ok(value);
        }
    }
    let shown: String = trimmed.chars().take(80).collect();
    Err(format!("the reply is not JSON (it starts {shown:?})"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn finds_json_in_common_wrappings() {
        for text in [
            r#"{"a":1}"#,
            "```json\n{\"a\":1}\n```",
            "```\n{\"a\":1}\n```",
            "Here you go: {\"a\":1} Hope it helps.",
        ] {
            assert_eq!(extract_json(text), Ok(json!({"a": 1})), "{text}");
        }
        assert!(extract_json("no json here").is_err());
    }

    #[test]
    fn names_the_failing_place() {
        let schema =
            json!({"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]});
        let validator = jsonschema::validator_for(&schema).expect("schema");
        assert_eq!(check(r#"{"n":2}"#, &validator), Ok(json!({"n": 2})));
        let err = check(r#"{"n":"x"}"#, &validator).expect_err("wrong type");
        assert!(err.contains("/n"), "{err}");
        let err = check("{}", &validator).expect_err("missing");
        assert!(err.contains("\"n\""), "{err}");
    }
}
