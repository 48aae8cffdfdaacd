//! Integration tests of ffmcp-core's transport and tool conventions, with a
//! real rmcp client on the other end of an in-process socket.

// Tests and tools start processes directly; shipped code goes through ffmcp_core::exec.
#![allow(clippy::disallowed_methods)]

mod breaker_clock;
mod bus;
mod cancel_grace;
mod client_roots;
mod fetch;
mod harness;
mod model;
mod panic_guard;
mod robots;
mod roots;
mod store;
mod store_tls;
mod subscriptions;
