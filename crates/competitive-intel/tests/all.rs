//! competitive-intel against fixtures served in-process on 127.0.0.1
//! (explicitly allowed: `FetchPolicy::public_only().allow("127.0.0.1")`).

mod checks;
mod claims;
mod limits;
mod samples;
mod support;
mod worst_case;
