//! The `ffmcp` binary: parse arguments, pick a transport, serve. Nothing else.
//!
//! `ffmcp <server>` serves one server on stdio, `ffmcp <server> --http ADDR`
//! on streamable HTTP at `/mcp`, `ffmcp serve` every server on one port;
//! `ffmcp <server> <tool> …` runs one tool (see `tool_cli`).

mod cli;
mod client_config;
mod db;
mod doctor;
mod in_process;
mod operator;
mod registry_json;
mod tool_cli;

use std::{io::Write, process::ExitCode};

/// mimalloc rather than glibc's malloc: glibc keeps what freed HTTP
/// sessions held, so each cycle of 1,000 sessions opened and closed
/// (`cargo xtask bench sessions`) left the server further above its idle
/// size (+98, +130, +141 MiB over three cycles); with mimalloc the same
/// binary stayed at +73, +70, +78 MiB (measured by preloading Debian's
/// libmimalloc; glibc's arena tunables changed nothing).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // `ffmcp __sandbox-exec …`: confine this process and exec the target;
    // never returns in that case. Must run before anything starts a thread.
    ffmcp_core::exec::run_if_requested();
    ffmcp_core::logging::init();
    let servers = ffmcp_core::Servers::new(vec![
        ffmcp_coderag::spec(),
        ffmcp_competitive_intel::spec(),
        ffmcp_docparse::spec(),
        ffmcp_leadgen::spec(),
        ffmcp_seo::spec(),
        ffmcp_transform::spec(),
    ]);
    let invocation = match cli::parse(&servers) {
        Ok(invocation) => invocation,
        Err(err) => err.exit(),
    };
    // stdio serves one client whose requests arrive one line at a time: a
    // single-threaded runtime avoids cross-thread wake-ups on every message
    // (measured: ~4x lower round-trip latency). Large inputs still go to the
    // blocking pool (`cpu_work`). HTTP serves many clients: multi-threaded,
    // with each connection on one of a few single-threaded runtimes
    // (core::transport::http::connections).
    let mut builder = if invocation.command.is_stdio() {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().thread_name("ffmcp").build() {
        Ok(rt) => rt,
        Err(err) => return fail(&format!("could not start the async runtime: {err}")),
    };
    match runtime.block_on(cli::run(invocation, &servers)) {
        Ok(code) => code,
        Err(err) => fail(&format!("{err:#}")),
    }
}

fn fail(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "ffmcp: error: {message}");
    ExitCode::FAILURE
}
