//! Input limits shared by every tool, with errors that say what to change.

use crate::tool::ToolError;

/// Default cap on one text argument of a tool, in bytes.
pub const DEFAULT_MAX_INPUT_BYTES: usize = 2 * 1024 * 1024;

/// Refuses `value` when it is larger than `max` bytes, naming the argument.
pub fn check_size(argument: &str, value: &str, max: usize) -> Result<(), ToolError> {
    if value.len() > max {
        return Err(ToolError::invalid(format!(
            "argument '{argument}' is {} bytes; the limit is {max} bytes",
            value.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_check_names_argument_and_limit() {
        assert!(check_size("text", "abc", 3).is_ok());
        let err = check_size("text", "abcd", 3).expect_err("over the limit");
        assert!(err.message().contains("'text' is 4 bytes; the limit is 3"));
    }
}
