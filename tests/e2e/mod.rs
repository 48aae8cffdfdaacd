mod audit;
mod cli;
mod exec;
mod http;
mod stdio_raw;
mod stdio_rmcp;
mod support;
mod transform;
