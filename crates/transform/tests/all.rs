//! transform's integration tests, one binary.

mod worst_case;
