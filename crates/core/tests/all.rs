//! Integration tests of ffmcp-core's transport and tool conventions, with a
//! real rmcp client on the other end of an in-process socket.

mod fetch;
mod panic_guard;
mod roots;
