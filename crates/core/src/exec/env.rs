//! What a child's environment may contain: a fixed base (`PATH`, `LANG`,
//! `TMPDIR`, `HOME`) plus names a spec or guard policy lists, never one of
//! the loader and interpreter hooks that would let the environment run code.

use std::path::Path;

/// `PATH` inside the sandbox.
pub(super) const CHILD_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Environment variables that change how a program loads or interprets
/// code; no spec or policy can pass them.
pub fn is_dangerous_env(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.starts_with("LD_")
        || upper.starts_with("DYLD_")
        || upper.starts_with("MALLOC_")
        || matches!(
            upper.as_str(),
            "GCONV_PATH"
                | "GLIBC_TUNABLES"
                | "LOCPATH"
                | "NLSPATH"
                | "HOSTALIASES"
                | "RESOLV_HOST_CONF"
                | "BASH_ENV"
                | "ENV"
                | "SHELLOPTS"
                | "BASHOPTS"
                | "PS4"
                | "IFS"
                | "CDPATH"
                | "PYTHONPATH"
                | "PYTHONHOME"
                | "PYTHONSTARTUP"
                | "PYTHONINSPECT"
                | "PERL5LIB"
                | "PERL5OPT"
                | "PERLLIB"
                | "RUBYOPT"
                | "RUBYLIB"
                | "NODE_OPTIONS"
                | "NODE_PATH"
                | "JAVA_TOOL_OPTIONS"
                | "_JAVA_OPTIONS"
                | "JDK_JAVA_OPTIONS"
                | "GIT_SSH_COMMAND"
                | "GIT_EXEC_PATH"
                | "EDITOR"
                | "VISUAL"
                | "PAGER"
                | "PATH"
        )
}

/// The child's whole environment: the base four plus the `passthrough`
/// names that are set here and not dangerous. `tmp` is its `TMPDIR` and
/// `HOME` (the per-call directory).
pub fn child_env(passthrough: &[String], tmp: &Path) -> Vec<(String, String)> {
    let lang = std::env::var("LANG")
        .ok()
        .filter(|l| {
            l.len() <= 32
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '@'))
        })
        .unwrap_or_else(|| "C.UTF-8".to_owned());
    let tmp = tmp.to_string_lossy().into_owned();
    let mut env = vec![
        ("PATH".to_owned(), CHILD_PATH.to_owned()),
        ("LANG".to_owned(), lang),
        ("TMPDIR".to_owned(), tmp.clone()),
        ("HOME".to_owned(), tmp),
    ];
    for name in passthrough {
        if is_dangerous_env(name) {
            continue;
        }
        if let Ok(value) = std::env::var(name) {
            // A listed HOME, LANG or TMPDIR replaces the default.
            env.retain(|(n, _)| n != name);
            env.push((name.clone(), value));
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::{ExecError, ProgramSpec};

    #[test]
    fn dangerous_environment_names() {
        for name in [
            "LD_PRELOAD",
            "ld_library_path",
            "DYLD_INSERT_LIBRARIES",
            "PYTHONPATH",
            "NODE_OPTIONS",
            "BASH_ENV",
            "GLIBC_TUNABLES",
        ] {
            assert!(is_dangerous_env(name), "{name}");
        }
        for name in ["TESSDATA_PREFIX", "OMP_THREAD_LIMIT", "LANG"] {
            assert!(!is_dangerous_env(name), "{name}");
        }
        let spec = ProgramSpec::new("cat").env(["LD_PRELOAD"]);
        assert!(matches!(
            spec.validate(),
            Err(ExecError::InvalidSpec { .. })
        ));
    }
}
