//! End-to-end tests of the `ffmcp` binary, driven by real MCP clients over
//! stdio and streamable HTTP. One test binary (modules below) keeps link time down.

// Tests and tools start processes directly; shipped code goes through ffmcp_core::exec.
#![allow(clippy::disallowed_methods)]

mod e2e;
