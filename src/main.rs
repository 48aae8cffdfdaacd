//! The `ffmcp` binary: parse arguments, pick a transport, serve. Nothing else.
//!
//! `ffmcp <server>` serves one server on stdio, `ffmcp <server> --http ADDR`
//! on streamable HTTP at `/mcp`, `ffmcp serve` every server on one port.

mod cli;

use std::{io::Write, process::ExitCode};

fn main() -> ExitCode {
    ffmcp_core::logging::init();
    let servers = ffmcp_core::Servers::new(vec![ffmcp_transform::spec()]);
    let command = match cli::parse(&servers) {
        Ok(command) => command,
        Err(err) => err.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("ffmcp")
        .build()
    {
        Ok(rt) => rt,
        Err(err) => return fail(&format!("could not start the async runtime: {err}")),
    };
    match runtime.block_on(cli::run(command, &servers)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&format!("{err:#}")),
    }
}

fn fail(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "ffmcp: error: {message}");
    ExitCode::FAILURE
}
