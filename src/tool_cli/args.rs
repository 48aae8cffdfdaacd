//! A tool's arguments from command-line words, read against the tool's
//! input schema (the one `tools/list` sends): `--name value` per property,
//! typed by the schema, and `--help` written from it. Nothing here knows a
//! particular tool: a new tool or argument shows up on the command line
//! with its schema.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// One property of a tool's input schema, as the command line sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The property name (`max_pages`); the flag is `--max-pages`.
    pub name: String,
    pub kind: Kind,
    pub required: bool,
    pub description: Option<String>,
    pub default: Option<Value>,
    /// The values an enumerated string may take.
    pub choices: Vec<String>,
}

/// The JSON type of a property (`null` alternatives dropped).
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    String,
    Integer,
    Number,
    Boolean,
    /// Repeat the flag, or give a JSON array.
    Array(Box<Kind>),
    /// A JSON object.
    Object,
    /// Anything: JSON when it parses, else a string.
    Any,
}

impl Kind {
    fn label(&self) -> String {
        match self {
            Kind::String => "string".into(),
            Kind::Integer => "integer".into(),
            Kind::Number => "number".into(),
            Kind::Boolean => "boolean".into(),
            Kind::Array(item) => format!("{}…", item.label()),
            Kind::Object => "JSON object".into(),
            Kind::Any => "JSON".into(),
        }
    }
}

impl Param {
    /// `--max-pages`.
    pub fn flag(&self) -> String {
        format!("--{}", self.name.replace('_', "-"))
    }
}

/// The properties of an input schema, in schema order.
pub fn params(schema: &Map<String, Value>) -> Vec<Param> {
    let empty = Map::new();
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, property)| {
            let (kind, choices) = kind_of(property, defs, 0);
            let description = property
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| {
                    resolve(property, defs)
                        .and_then(|p| p.get("description"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                });
            Param {
                name: name.clone(),
                kind,
                required: required.contains(&name.as_str()),
                description,
                default: property.get("default").filter(|d| !d.is_null()).cloned(),
                choices,
            }
        })
        .collect()
}

/// A local `$ref` (`#/$defs/Name`) resolved.
fn resolve<'a>(schema: &'a Value, defs: &'a Map<String, Value>) -> Option<&'a Value> {
    let reference = schema.get("$ref")?.as_str()?;
    defs.get(reference.strip_prefix("#/$defs/")?)
}

fn kind_of(schema: &Value, defs: &Map<String, Value>, depth: usize) -> (Kind, Vec<String>) {
    if depth > 8 {
        return (Kind::Any, Vec::new());
    }
    if let Some(target) = resolve(schema, defs) {
        return kind_of(target, defs, depth + 1);
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let choices = values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        return (Kind::String, choices);
    }
    if let Some(constant) = schema.get("const").and_then(Value::as_str) {
        return (Kind::String, vec![constant.to_owned()]);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(variants) = schema.get(key).and_then(Value::as_array) {
            let kinds: Vec<(Kind, Vec<String>)> = variants
                .iter()
                .filter(|v| v.get("type").and_then(Value::as_str) != Some("null"))
                .map(|v| kind_of(v, defs, depth + 1))
                .collect();
            // Enumerations split into one-value variants (documented
            // enums) come back as strings with their choices merged.
            if kinds.iter().all(|(k, _)| *k == Kind::String) && !kinds.is_empty() {
                let choices = kinds.into_iter().flat_map(|(_, c)| c).collect();
                return (Kind::String, choices);
            }
            return match kinds.as_slice() {
                [(kind, choices)] => (kind.clone(), choices.clone()),
                _ => (Kind::Any, Vec::new()),
            };
        }
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let types: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
    let kind = match types.as_slice() {
        ["string"] => Kind::String,
        ["integer"] => Kind::Integer,
        ["number"] => Kind::Number,
        ["boolean"] => Kind::Boolean,
        ["object"] => Kind::Object,
        ["array"] => {
            let item = schema
                .get("items")
                .map_or(Kind::Any, |items| kind_of(items, defs, depth + 1).0);
            Kind::Array(Box::new(item))
        }
        [] if schema.get("properties").is_some() => Kind::Object,
        _ => Kind::Any,
    };
    (kind, Vec::new())
}

/// What the words asked for.
#[derive(Debug, PartialEq)]
pub enum Words {
    /// `--help` / `-h`.
    Help,
    /// Call the tool.
    Call(Parsed),
}

/// Arguments read from the words.
#[derive(Debug, Default, PartialEq)]
pub struct Parsed {
    pub arguments: Map<String, Value>,
    /// `--json`: print the structured result.
    pub structured: bool,
    /// The one word without a flag, placed by the caller (see `bare`).
    pub bare: Option<String>,
}

/// Reads `words` (everything after the tool name) against `params`. Errors
/// name the flag and what it takes.
pub fn parse(params: &[Param], words: &[String]) -> Result<Words, String> {
    let mut parsed = Parsed::default();
    let own_json = params.iter().any(|p| p.name == "json");
    let mut words = words.iter();
    let mut only_bare = false;
    while let Some(word) = words.next() {
        if word == "--" && !only_bare {
            only_bare = true;
            continue;
        }
        if only_bare || !word.starts_with("--") {
            if word == "-h" && !only_bare {
                return Ok(Words::Help);
            }
            if let Some(first) = &parsed.bare {
                return Err(format!(
                    "one bare argument at most (got '{first}' and '{word}'); give the others as --name value"
                ));
            }
            parsed.bare = Some(word.clone());
            continue;
        }
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_owned())),
            None => (word.as_str(), None),
        };
        let name = flag.trim_start_matches("--").replace('-', "_");
        if name == "help" {
            return Ok(Words::Help);
        }
        if name == "json" && !own_json && inline.is_none() {
            parsed.structured = true;
            continue;
        }
        let negated = name.strip_prefix("no_").and_then(|n| {
            params
                .iter()
                .find(|p| p.name == n && p.kind == Kind::Boolean)
        });
        let param = match (params.iter().find(|p| p.name == name), negated) {
            (Some(param), _) => param,
            (None, Some(param)) if inline.is_none() => {
                parsed
                    .arguments
                    .insert(param.name.clone(), Value::Bool(false));
                continue;
            }
            _ => return Err(unknown(flag, params)),
        };
        let value = match (&param.kind, inline) {
            (_, Some(value)) => value,
            (Kind::Boolean, None) => match words.as_slice().first().map(String::as_str) {
                Some(v @ ("true" | "false")) => {
                    let v = v.to_owned();
                    words.next();
                    v
                }
                _ => "true".to_owned(),
            },
            (_, None) => words
                .next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value ({})", param.kind.label()))?,
        };
        add(&mut parsed.arguments, param, flag, &value)?;
    }
    Ok(Words::Call(parsed))
}

fn unknown(flag: &str, params: &[Param]) -> String {
    if params.is_empty() {
        return format!("unknown argument '{flag}': this tool takes no arguments");
    }
    let known: Vec<String> = params.iter().map(Param::flag).collect();
    format!(
        "unknown argument '{flag}'; this tool takes {}",
        known.join(", ")
    )
}

/// Adds one value of `param` (repeated flags extend an array).
fn add(
    arguments: &mut Map<String, Value>,
    param: &Param,
    flag: &str,
    raw: &str,
) -> Result<(), String> {
    if let Kind::Array(item) = &param.kind {
        let values = match serde_json::from_str::<Value>(raw) {
            Ok(Value::Array(values)) if raw.trim_start().starts_with('[') => values,
            _ => vec![typed(item, flag, raw)?],
        };
        let entry = arguments
            .entry(param.name.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = entry {
            list.extend(values);
        }
        return Ok(());
    }
    if arguments.contains_key(&param.name) {
        return Err(format!("{flag} was given twice"));
    }
    arguments.insert(param.name.clone(), typed(&param.kind, flag, raw)?);
    Ok(())
}

/// `raw` as a JSON value of `kind`.
pub fn typed(kind: &Kind, flag: &str, raw: &str) -> Result<Value, String> {
    Ok(match kind {
        Kind::String => Value::String(raw.to_owned()),
        Kind::Integer => Value::from(
            raw.trim()
                .parse::<i64>()
                .map_err(|_| format!("{flag} takes a whole number, got '{raw}'"))?,
        ),
        Kind::Number => raw
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("{flag} takes a number, got '{raw}'"))?,
        Kind::Boolean => match raw.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(format!("{flag} takes true or false, got '{raw}'")),
        },
        Kind::Object => match serde_json::from_str::<Value>(raw) {
            Ok(value @ Value::Object(_)) => value,
            Ok(_) | Err(_) => {
                return Err(format!(
                    "{flag} takes a JSON object, e.g. {flag} '{{\"key\": \"value\"}}'"
                ));
            }
        },
        Kind::Array(_) | Kind::Any => {
            serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()))
        }
    })
}

/// Which arguments a bare word fills, for `--help`.
#[derive(Debug, Default)]
pub struct Bare {
    /// When the word is a URL.
    pub url: Option<String>,
    /// Otherwise.
    pub other: Option<String>,
}

/// `--help` for one tool, from its schema.
pub fn help(server: &str, tool: &rmcp::model::Tool, params: &[Param], bare: &Bare) -> String {
    let shown = tool.name.replace('_', "-");
    let mut text = String::new();
    let title = tool.title.as_deref().unwrap_or(&tool.name);
    let _ = writeln!(text, "{title}\n");
    if let Some(description) = &tool.description {
        let _ = writeln!(text, "{}\n", description.trim());
    }
    let bare_word = if bare.url.is_some() || bare.other.is_some() {
        " [ARG]"
    } else {
        ""
    };
    let _ = writeln!(
        text,
        "Usage: ffmcp {server} {shown} [ARGUMENTS]{bare_word}\n       ffmcp call {server} {} --json '{{…}}'\n",
        tool.name
    );
    if params.is_empty() {
        text.push_str("Arguments: none\n");
    } else {
        text.push_str("Arguments:\n");
        for param in params {
            let value = match param.kind {
                Kind::Boolean => String::new(),
                _ if !param.choices.is_empty() => format!(" <{}>", param.choices.join("|")),
                _ => format!(" <{}>", param.kind.label()),
            };
            let _ = writeln!(text, "  {}{value}", param.flag());
            let mut notes = Vec::new();
            if param.required {
                notes.push("required".to_owned());
            }
            if let Some(default) = &param.default {
                notes.push(format!("default: {default}"));
            }
            if matches!(param.kind, Kind::Array(_)) {
                notes.push("repeatable, or a JSON array".to_owned());
            }
            if param.kind == Kind::Boolean {
                notes.push(format!("--no-{} for false", param.flag()[2..].to_owned()));
            }
            match (bare.url.as_deref(), bare.other.as_deref()) {
                (Some(u), Some(o)) if u == param.name && o == param.name => {
                    notes.push("also the bare argument".to_owned());
                }
                (Some(u), _) if u == param.name => {
                    notes.push("also the bare argument when it is a URL".to_owned());
                }
                (_, Some(o)) if o == param.name => {
                    notes.push("also the bare argument".to_owned());
                }
                _ => {}
            }
            let description = param.description.as_deref().unwrap_or("").trim();
            let _ = write!(
                text,
                "          {}",
                description.replace('\n', "\n          ")
            );
            if !notes.is_empty() {
                let _ = write!(text, " [{}]", notes.join("; "));
            }
            text.push('\n');
        }
    }
    text.push_str(
        "\nOptions:\n  --json\n          Print the structured result (structuredContent) as JSON instead of the text\n  -h, --help\n          Print this help\n",
    );
    text.push_str(EXIT_CODES);
    text
}

/// The exit statuses of a tool run from the command line.
pub const EXIT_CODES: &str = "\nExit status: 0 done, 1 internal error, 2 bad input (arguments, paths), 3 upstream failure (a site, a model provider), 130 interrupted (Ctrl-C cancels the call)\n";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Map<String, Value> {
        let Value::Object(schema) = json!({
            "type": "object",
            "required": ["text", "to"],
            "$defs": {"Format": {"type": "string", "enum": ["json", "yaml"]}},
            "properties": {
                "text": {"type": "string", "description": "The text."},
                "to": {"$ref": "#/$defs/Format"},
                "from": {"anyOf": [{"$ref": "#/$defs/Format"}, {"type": "null"}]},
                "max_pages": {"type": ["integer", "null"], "default": null},
                "pretty": {"type": "boolean", "default": true},
                "ratio": {"type": "number"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "schema": {"type": "object"}
            }
        }) else {
            unreachable!()
        };
        schema
    }

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn schema_properties_become_typed_params() {
        let params = params(&schema());
        let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "text",
                "to",
                "from",
                "max_pages",
                "pretty",
                "ratio",
                "tags",
                "schema"
            ]
        );
        assert_eq!(params[1].choices, ["json", "yaml"]);
        assert!(params[1].required && !params[2].required);
        assert_eq!(params[2].choices, ["json", "yaml"]);
        assert_eq!(params[3].kind, Kind::Integer);
        assert_eq!(params[3].default, None, "a null default is no default");
        assert_eq!(params[4].default, Some(json!(true)));
        assert_eq!(params[6].kind, Kind::Array(Box::new(Kind::String)));
        assert_eq!(params[7].kind, Kind::Object);
    }

    #[test]
    fn words_become_typed_arguments() {
        let params = params(&schema());
        let table: &[(&[&str], Value)] = &[
            (
                &["--text", "hi", "--to", "yaml"],
                json!({"text": "hi", "to": "yaml"}),
            ),
            (
                &["--max-pages=7", "--ratio", "0.5"],
                json!({"max_pages": 7, "ratio": 0.5}),
            ),
            (&["--pretty"], json!({"pretty": true})),
            (&["--pretty", "false"], json!({"pretty": false})),
            (&["--no-pretty"], json!({"pretty": false})),
            (&["--pretty=false"], json!({"pretty": false})),
            (&["--tags", "a", "--tags", "b"], json!({"tags": ["a", "b"]})),
            (&["--tags", "[\"a\",\"b\"]"], json!({"tags": ["a", "b"]})),
            (
                &["--schema", "{\"type\":\"object\"}"],
                json!({"schema": {"type": "object"}}),
            ),
            (&["--text", "--not-a-flag"], json!({"text": "--not-a-flag"})),
        ];
        for (input, expected) in table {
            let Ok(Words::Call(parsed)) = parse(&params, &words(input)) else {
                panic!("{input:?} did not parse");
            };
            assert_eq!(&Value::Object(parsed.arguments), expected, "{input:?}");
        }
        let Ok(Words::Call(parsed)) = parse(&params, &words(&["file.txt", "--json"])) else {
            panic!("parses");
        };
        assert_eq!(parsed.bare.as_deref(), Some("file.txt"));
        assert!(parsed.structured);
        assert_eq!(
            parse(&params, &words(&["--to", "x", "--help"])),
            Ok(Words::Help)
        );
    }

    #[test]
    fn bad_words_are_refused_naming_the_flag() {
        let params = params(&schema());
        let table: &[(&[&str], &str)] = &[
            (
                &["--nope", "1"],
                "unknown argument '--nope'; this tool takes --text, --to",
            ),
            (
                &["--max-pages", "many"],
                "--max-pages takes a whole number, got 'many'",
            ),
            (&["--ratio", "x"], "--ratio takes a number"),
            (&["--text"], "--text needs a value (string)"),
            (&["--text", "a", "--text", "b"], "--text was given twice"),
            (&["--schema", "[1]"], "--schema takes a JSON object"),
            (&["a", "b"], "one bare argument at most"),
        ];
        for (input, expected) in table {
            let err = parse(&params, &words(input)).expect_err("refused");
            assert!(err.contains(expected), "{input:?}: {err}");
        }
    }
}
