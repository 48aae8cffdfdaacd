mod cli;
mod http;
mod stdio_raw;
mod stdio_rmcp;
mod support;
mod transform;
