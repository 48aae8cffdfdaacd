//! End-to-end tests of the `ffmcp` binary, driven by real MCP clients over
//! stdio and streamable HTTP. One test binary (modules below) keeps link time down.

mod e2e;
