//! Secrets stored in a config: found by shape, by name and inside URLs,
//! judged by their value (a short plain word is not a high finding, a
//! placeholder at most low), and never printed.

use serde_json::{Value, json};

use super::tests::{probes, rules};
use super::*;

fn rules_for(entry: Value) -> Vec<&'static str> {
    let report = audit(&json!({ "mcpServers": { "s": entry } }), &probes()).expect("object");
    report.findings().map(|f| f.rule).collect()
}

/// `severity:rule` of every finding for one entry, sorted.
fn judged(entry: &Value) -> Vec<String> {
    let report = audit(&json!({ "mcpServers": { "s": entry } }), &probes()).expect("object");
    let mut got: Vec<String> = report
        .findings()
        .map(|f| format!("{}:{}", f.severity.as_str(), f.rule))
        .collect();
    got.sort();
    got
}

fn check(table: &[(Value, &[&str])]) {
    for (entry, expected) in table {
        let mut expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        expected.sort();
        assert_eq!(judged(entry), expected, "{entry}");
    }
}

fn check_args(table: &[(&str, &[&str], &[&str])]) {
    for (command, args, expected) in table {
        assert_eq!(&rules(command, args), expected, "{command} {args:?}");
    }
}

fn run(command: &str, args: &[&str]) -> Value {
    json!({ "command": command, "args": args })
}

fn env(vars: Value) -> Value {
    json!({ "command": "/usr/local/bin/server", "env": vars })
}

#[test]
fn secrets_in_env() {
    let cases: &[(Value, &[&str])] = &[
        (json!({ "API_KEY": "abcd1234efgh5678" }), &["secret-in-env"]),
        (
            json!({ "GITHUB_TOKEN": "ghp_EXAMPLEexampleEXAMPLEexampleEXAMPLE0" }),
            &["secret-in-env"],
        ),
        (json!({ "DB_PASSWORD": "hunter2" }), &["secret-in-env"]),
        (
            json!({ "Auth_Header": "Bearer abcdefgh12345678" }),
            &["secret-in-env"],
        ),
        // A token shape is a secret whatever the variable is called.
        (
            json!({ "OPTIONS": "--key=AKIAIOSFODNN7EXAMPLE" }),
            &["secret-in-env"],
        ),
        (json!({ "API_KEY": "${API_KEY}" }), &[]),
        (json!({ "API_KEY": "$API_KEY" }), &[]),
        (json!({ "API_KEY": "%API_KEY%" }), &[]),
        (json!({ "API_KEY": "${env:API_KEY}" }), &[]),
        (json!({ "API_KEY": "op://vault/item/key" }), &[]),
        (json!({ "API_KEY": "" }), &[]),
        (
            json!({ "GOOGLE_APPLICATION_CREDENTIALS": "/home/me/sa.json" }),
            &[],
        ),
        (json!({ "TOKEN_FILE": "secret.txt" }), &[]),
        (json!({ "AUTH_ENABLED": "true" }), &[]),
        (json!({ "MAX_TOKENS": "4096" }), &[]),
        (json!({ "LOG_LEVEL": "debug" }), &[]),
    ];
    for (env, expected) in cases {
        let got = rules_for(json!({ "command": "/usr/bin/server", "env": env }));
        assert_eq!(&got, expected, "{env}");
    }
}

#[test]
fn secrets_in_args() {
    let secret: &[&str] = &["secret-in-args"];
    let clean: &[&str] = &[];
    check_args(&[
        ("/opt/s", &["--api-key=abcd1234efgh5678"], secret),
        ("/opt/s", &["--token", "abcd1234efgh5678"], secret),
        ("/opt/s", &["--client-secret", "abcd1234efgh5678"], secret),
        (
            "/opt/s",
            &["sk-ant-api03-EXAMPLEexampleEXAMPLEexample"],
            secret,
        ),
        (
            "/opt/s",
            &["--key", "sk-proj-EXAMPLE0example1EXAMPLE2"],
            secret,
        ),
        (
            "/opt/s",
            &["github_pat_EXAMPLE0example1EXAMPLE2example"],
            secret,
        ),
        ("/opt/s", &["xoxb-1234567890-EXAMPLE"], secret),
        ("/opt/s", &["AKIAIOSFODNN7EXAMPLE"], secret),
        ("/opt/s", &["AIzaSyEXAMPLEexampleEXAMPLEexample012"], secret),
        (
            "/opt/s",
            &["--header", "Authorization: Bearer abcdefgh12345678"],
            secret,
        ),
        (
            "/opt/s",
            &["--header", "X-API-Key: abcd1234efgh5678"],
            secret,
        ),
        ("env", &["API_KEY=abcd1234efgh5678", "/opt/s"], secret),
        (
            "/opt/s",
            &["https://user:p4ssw0rd-example@api.example.com/mcp"],
            secret,
        ),
        (
            "/opt/s",
            &["https://api.example.com/mcp?api_key=abcd1234efgh5678"],
            secret,
        ),
        ("/opt/s", &["--api-key=${API_KEY}"], clean),
        ("/opt/s", &["--token", "$TOKEN"], clean),
        (
            "/opt/s",
            &["--header", "Authorization: Bearer ${TOKEN}"],
            clean,
        ),
        (
            "/opt/s",
            &["--header", "Authorization:${AUTH_HEADER}"],
            clean,
        ),
        ("/opt/s", &["--token-file", "/run/secrets/token"], clean),
        ("/opt/s", &["--max-tokens", "1000"], clean),
        ("/opt/s", &["--task-runner-for-everything-and-more"], clean),
        ("/opt/s", &["--model", "sk-learn"], clean),
        ("/opt/s", &["https://api.example.com/mcp?page=2"], clean),
        (
            "/opt/s",
            &["--header=X-Auth-Mode: on", "plain-value-abcdef"],
            clean,
        ),
    ]);
}

#[test]
fn secrets_in_remote_entries() {
    let cases: &[(Value, &[&str])] = &[
        (
            json!({ "url": "https://x.example.com/mcp", "headers": { "Authorization": "Bearer abcdefgh12345678" } }),
            &["secret-in-headers"],
        ),
        (
            json!({ "url": "https://x.example.com/mcp", "headers": { "Authorization": "Bearer ${TOKEN}" } }),
            &[],
        ),
        (
            json!({ "url": "https://x.example.com/mcp?token=abcd1234efgh5678" }),
            &["secret-in-url"],
        ),
    ];
    for (entry, expected) in cases {
        assert_eq!(&rules_for(entry.clone()), expected, "{entry}");
    }
}

#[test]
fn secrets_are_never_printed() {
    let secrets = [
        "ghp_EXAMPLEexampleEXAMPLEexampleEXAMPLE0",
        "abcd1234efgh5678",
        "p4ssw0rd-example",
        "zyxw9876vuts5432",
    ];
    let config = json!({ "mcpServers": {
        "a": {
            "command": "bash",
            "args": ["-c", "GITHUB_TOKEN=ghp_EXAMPLEexampleEXAMPLEexampleEXAMPLE0 exec server --token abcd1234efgh5678"],
            "env": { "PASSWORD": "zyxw9876vuts5432" },
        },
        "b": { "command": "/opt/s", "args": ["--token", "abcd1234efgh5678"] },
        "c": { "url": "http://user:p4ssw0rd-example@mcp.example.com/mcp" },
    }});
    let report = audit(&config, &probes()).expect("object");
    let text = render_text(Path::new("c.json"), &report);
    let json = render_json(Path::new("c.json"), &report).to_string();
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} in:\n{text}");
        assert!(!json.contains(secret), "{secret} in:\n{json}");
    }
    assert!(text.contains("ghp_…"), "{text}");
    assert!(text.contains("abcd…"), "{text}");
}

#[test]
fn redaction_keeps_four_characters_of_long_secrets_only() {
    assert_eq!(redact("sk-ant-api03-abcdef"), "sk-a…");
    assert_eq!(redact("hunter2"), "…");
    assert_eq!(redact("ü-long-secret-value"), "ü-lo…");
}

#[test]
fn secrets_are_judged_by_their_value() {
    check(&[
        // Credentials inside URLs, whatever the variable is called.
        (
            env(json!({ "DATABASE_URL": "postgres://user:pass@db.example.com/app" })),
            &["high:secret-in-env"],
        ),
        (
            env(json!({ "REDIS_URL": "redis://:s3cr3t-value@10.0.0.5:6379" })),
            &["high:secret-in-env"],
        ),
        (
            env(json!({ "DATABASE_URL": "postgres://user:${DB_PASSWORD}@db/app" })),
            &[],
        ),
        (
            env(json!({ "DATABASE_URL": "postgres://localhost/app" })),
            &[],
        ),
        // A short plain word is not a high-severity secret.
        (env(json!({ "NOTSECRET": "hello" })), &["low:secret-in-env"]),
        (
            env(json!({ "DB_PASSWORD": "hunter2" })),
            &["medium:secret-in-env"],
        ),
        (
            env(json!({ "API_KEY": "abcd1234efgh5678" })),
            &["high:secret-in-env"],
        ),
        // Placeholders are at most low.
        (
            env(json!({ "GITHUB_TOKEN": "<your-token>" })),
            &["low:placeholder-secret"],
        ),
        (
            env(json!({ "API_TOKEN": "changeme" })),
            &["low:placeholder-secret"],
        ),
        (
            env(json!({ "ANTHROPIC_API_KEY": "REPLACE_WITH_YOUR_KEY" })),
            &["low:placeholder-secret"],
        ),
        (
            env(json!({ "SECRET_KEY": "xxxxxxxxxxxx" })),
            &["low:placeholder-secret"],
        ),
        (env(json!({ "API_TOKEN": "${API_TOKEN}" })), &[]),
        // Real values that merely mention a secret word are not placeholders.
        (
            env(json!({ "DB_PASSWORD": "myPassword123!" })),
            &["high:secret-in-env"],
        ),
        (
            env(
                json!({ "GOOGLE_CREDENTIALS": "{\"type\":\"service_account\",\"private_key_id\":\"8f2a61c0d9\"}" }),
            ),
            &["high:secret-in-env"],
        ),
        (
            run("/opt/s", &["--token", "your-token-here"]),
            &["low:placeholder-secret"],
        ),
    ]);
}

#[test]
fn url_credentials_are_redacted() {
    let report = audit(
        &json!({ "mcpServers": { "db": env(json!({
            "DATABASE_URL": "postgres://admin:Tr0ub4dor-and-3@db.example.com/app",
            "SHORT_URL": "mysql://root:pass@127.0.0.1/x",
        })) } }),
        &probes(),
    )
    .expect("object");
    let text = render_text(Path::new("c.json"), &report);
    let json = render_json(Path::new("c.json"), &report).to_string();
    for out in [&text, &json] {
        assert!(!out.contains("Tr0ub4dor-and-3"), "{out}");
        assert!(!out.contains(":pass@"), "{out}");
    }
    assert_eq!(report.count(Severity::High), 2, "{text}");
    // A short password is redacted as a word, not inside other words.
    assert!(text.contains("holds a password (…)"), "{text}");
}
