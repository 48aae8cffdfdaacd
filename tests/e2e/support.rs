//! The `ffmcp` binary under test, and what only these tests need; the
//! generic spawners and call helpers live in `ffmcp_test_support::client`.

pub use ffmcp_test_support::client::{
    Client, HttpProc, Proc, TIMEOUT, call, error_text, http_client, initialize_request,
    optional_programs, structured, text_of,
};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ffmcp")
}

/// An rmcp client talking to `ffmcp <server>` over stdio.
pub async fn stdio_client(server: &str) -> Client {
    ffmcp_test_support::client::stdio_client(bin(), &[server], &[]).await
}

/// An rmcp client talking to `ffmcp <server>` over stdio, with extra
/// environment variables.
pub async fn stdio_client_env(server: &str, env: &[(&str, &str)]) -> Client {
    ffmcp_test_support::client::stdio_client(bin(), &[server], env).await
}

/// A stdio session with `ffmcp ARGS` set up by hand (initialize +
/// initialized), for raw-frame tests.
pub fn raw_stdio(args: &[&str]) -> Proc {
    ffmcp_test_support::client::raw_stdio(bin(), args)
}

/// Every variable the model layer reads, cleared so the host's own keys
/// never leak into a test.
pub const MODEL_VARS: &[&str] = &[
    "FF_LLM_PRIMARY",
    "FF_EMBED_MODEL",
    "FF_LLM_FALLBACKS",
    "FF_LLM_TIMEOUT_MS",
    "FF_LLM_MAX_ATTEMPTS",
    "FF_LLM_BACKOFF_MS",
    "FF_LLM_BACKOFF_MAX_MS",
    "FF_LLM_RETRY_AFTER_CAP_MS",
    "FF_LLM_BREAKER_FAILURES",
    "FF_LLM_COOLDOWN_MS",
    "FF_LLM_PRICES",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_COMPAT_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GEMINI_BASE_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
];

/// The interpreter the sandbox tests confine as a hostile child.
pub const PYTHON: &str = "/usr/bin/python3";
/// How to get it.
pub const PYTHON_HINT: &str = "apt-get install python3";

/// Whether [`PYTHON`] is installed; when not, `test` should return early
/// (see [`optional_programs`]).
pub fn python_available(test: &str) -> bool {
    optional_programs(test, &[PYTHON], PYTHON_HINT)
}
