//! Rules: inline code given to shells and interpreters, shells and
//! interpreters that read their program from stdin (the MCP pipe), and
//! download-and-run. `stdio_rules` is the per-program entry point.

use super::*;

// ---------------------------------------------------------------------------
// Rule: inline code (shells and interpreters given code on the command line)

/// Inline code found on a command line: the flag that introduced it and the code.
pub(super) struct InlineCode {
    pub(super) flag: String,
    pub(super) code: Vec<String>,
}

pub(super) fn stdio_rules(layer: &Layer, scrub: &Scrubber) -> Vec<Finding> {
    let (program, args) = (layer.program.as_str(), layer.args.as_slice());
    let mut findings = Vec::new();
    if let Some(inline) = inline_code(program, args) {
        let code = inline.code.join(" ");
        findings.push(finding(
            Severity::High,
            "inline-code",
            format!(
                "`{program} {}` runs code written into the config: {}",
                inline.flag,
                quote(&scrub.apply(&code), 80)
            ),
            "Move the code into a script or a real server binary and point `command` at it; if it has to stay, run it under `ffmcp guard` so a policy bounds what it may do.".into(),
        ));
        // `cmd /c npx pkg`, `sh -c "npx pkg"`: the inner command is audited too.
        let inner: Vec<String> = match inline.code.as_slice() {
            [one] => shell_words(one),
            many => many.to_vec(),
        };
        if let Some((first, rest)) = inner.split_first()
            && program_name(first) != program
        {
            findings.extend(program_rules(&program_name(first), rest));
        }
    } else if let Some(how) = stdin_code(program, args) {
        findings.push(finding(
            Severity::High,
            "stdin-code",
            format!(
                "`{program}` {how}: every message the client sends, including text an agent wrote, is run as code"
            ),
            "Give the program a script file (or use the server's own binary); never a shell or interpreter that reads its program from the MCP pipe.".into(),
        ));
    }
    findings.extend(program_rules(program, args));
    findings.extend(writable_scripts(layer, scrub));
    findings.extend(mcp_remote_over_http(args, scrub));
    findings
}

/// Rules about what one program is asked to fetch or start.
fn program_rules(program: &str, args: &[String]) -> Vec<Finding> {
    let mut findings = unpinned_packages(program, args);
    findings.extend(remote_rules(program, args));
    findings.extend(container_rules(program, args));
    findings
}

/// How a shell or interpreter ends up reading its program from stdin
/// (`sh -s`, `bash` with no script, `python -`), if it does.
pub(super) fn stdin_code(program: &str, args: &[String]) -> Option<String> {
    const SHELLS: &str = "sh bash zsh dash ksh mksh ash fish";
    let shell = listed(SHELLS, program);
    if !(shell || is_python(program) || listed("node nodejs perl ruby", program)) {
        return None;
    }
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let a = arg.as_str();
        if a == "-" {
            return Some("is given `-` (read the program from stdin)".into());
        }
        if a == "--" {
            return match args.get(i + 1) {
                None => Some("has no script after `--`, so it reads its program from stdin".into()),
                Some(next) if next == "-" => {
                    Some("is given `-` (read the program from stdin)".into())
                }
                Some(_) => None,
            };
        }
        if !a.starts_with('-') && !a.starts_with('+') {
            return None; // a script (or a module value we skipped)
        }
        if shell && !a.starts_with("--") && a[1..].contains('s') {
            return Some(format!("`{a}` reads its commands from stdin"));
        }
        let valued = if shell {
            matches!(a, "-o" | "+o" | "-O" | "+O" | "--rcfile" | "--init-file")
        } else if is_python(program) {
            matches!(a, "-W" | "-X" | "-m" | "-c")
        } else {
            listed(
                "-r --require --import --loader -I -M -e -E -C --conditions",
                a,
            )
        };
        if valued && matches!(a, "-m" | "-c" | "-e" | "-E") {
            return None; // a module or inline code: other rules
        }
        i += if valued { 2 } else { 1 };
    }
    Some("has no script, so it reads its program from stdin".into())
}

pub(super) fn inline_code(program: &str, args: &[String]) -> Option<InlineCode> {
    match program {
        "sh" | "bash" | "zsh" | "dash" | "ksh" | "mksh" | "ash" | "fish" => shell_inline(args),
        "cmd" => cmd_inline(args),
        "node" | "nodejs" | "bun" => node_inline(args),
        "perl" => cluster_inline(args, &['e', 'E'], &['I', 'M', 'm', 'x', 'C', 'F', 'd', 'D']),
        "ruby" => cluster_inline(args, &['e'], &['r', 'I', 'C', 'E', 'K', 'x', 'F', 'i', '0']),
        "deno" => {
            let sub = args.iter().position(|a| !a.starts_with('-'))?;
            (args[sub] == "eval").then(|| InlineCode {
                flag: "eval".into(),
                code: args[sub + 1..].to_vec(),
            })
        }
        "powershell" | "pwsh" => powershell_inline(args, program == "powershell"),
        "npx" | "bunx" | "pnpx" => npm_exec_args(args).call,
        "npm" => subcommand(args, &["exec", "x"]).and_then(|rest| npm_exec_args(rest).call),
        "pnpm" => subcommand(args, &["dlx"]).and_then(|rest| npm_exec_args(rest).call),
        p if is_python(p) => python_inline(args),
        _ => None,
    }
}

pub(super) fn is_python(program: &str) -> bool {
    program == "py"
        || ["python", "pypy"].iter().any(|base| {
            program
                .strip_prefix(base)
                .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
        })
}

pub(super) fn code_from(flag: &str, attached: &str, args: &[String], next: usize) -> InlineCode {
    let code = if attached.is_empty() {
        args.get(next).cloned().into_iter().collect()
    } else {
        vec![attached.to_owned()]
    };
    InlineCode {
        flag: flag.to_owned(),
        code,
    }
}

/// `sh -c CODE`, `bash -lc CODE`, `fish --command CODE`.
pub(super) fn shell_inline(args: &[String]) -> Option<InlineCode> {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let a = arg.as_str();
        if a == "--" || a == "-" {
            return None;
        }
        if let Some(code) = a.strip_prefix("--command=") {
            return Some(code_from("--command", code, args, i + 1));
        }
        if a == "--command" {
            return Some(code_from(a, "", args, i + 1));
        }
        if matches!(a, "-o" | "+o" | "-O" | "+O" | "--rcfile" | "--init-file") {
            i += 2;
            continue;
        }
        if a.starts_with("--") || a.starts_with('+') {
            i += 1;
            continue;
        }
        if let Some(cluster) = a.strip_prefix('-') {
            if cluster.contains('c') {
                return Some(code_from(a, "", args, i + 1));
            }
            i += 1;
            continue;
        }
        return None; // a script file: not inline code
    }
    None
}

/// `cmd /c CODE` (also `/k`, `/r`, and `/cCODE`).
pub(super) fn cmd_inline(args: &[String]) -> Option<InlineCode> {
    for (i, arg) in args.iter().enumerate() {
        let lower = arg.to_ascii_lowercase();
        if matches!(lower.as_str(), "/c" | "/k" | "/r") {
            return Some(InlineCode {
                flag: arg.clone(),
                code: args[i + 1..].to_vec(),
            });
        }
        if lower.starts_with("/c") || lower.starts_with("/k") {
            let mut code = vec![arg[2..].to_owned()];
            code.extend(args[i + 1..].iter().cloned());
            return Some(InlineCode {
                flag: arg[..2].to_owned(),
                code,
            });
        }
        if !arg.starts_with('/') {
            return None;
        }
    }
    None
}

/// `python -c CODE`, also clustered (`-Ic`); `-m module` and scripts are not inline.
pub(super) fn python_inline(args: &[String]) -> Option<InlineCode> {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let a = arg.as_str();
        if a == "--" || a == "-" || !a.starts_with('-') {
            return None;
        }
        if a.starts_with("--") {
            i += 1;
            continue;
        }
        let cluster = &a[1..];
        let mut skip_next = false;
        for (j, ch) in cluster.char_indices() {
            match ch {
                'c' => return Some(code_from(a, &cluster[j + 1..], args, i + 1)),
                'm' => return None,
                'W' | 'X' => {
                    skip_next = j + 1 == cluster.len();
                    break;
                }
                _ => {}
            }
        }
        i += if skip_next { 2 } else { 1 };
    }
    None
}

/// `node -e CODE`, `--eval`, `-p`/`--print`, clusters like `-pe`.
pub(super) fn node_inline(args: &[String]) -> Option<InlineCode> {
    const VALUE_OPTS: &str = "-r --require --import --loader --experimental-loader -C --conditions \
        --input-type --env-file --title";
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let a = arg.as_str();
        if a == "--" || a == "-" || !a.starts_with('-') {
            return None;
        }
        for long in ["--eval", "--print"] {
            if a == long {
                return Some(code_from(a, "", args, i + 1));
            }
            if let Some(code) = a.strip_prefix(long).and_then(|r| r.strip_prefix('=')) {
                return Some(code_from(long, code, args, i + 1));
            }
        }
        if listed(VALUE_OPTS, a) {
            i += 2;
            continue;
        }
        if !a.starts_with("--") && a[1..].chars().any(|c| c == 'e' || c == 'p') {
            return Some(code_from(a, "", args, i + 1));
        }
        i += 1;
    }
    None
}

/// Perl/Ruby style: short options cluster (`-lne`); `inline` flags take the
/// code, `valued` flags take the rest of the cluster (or the next argument).
pub(super) fn cluster_inline(
    args: &[String],
    inline: &[char],
    valued: &[char],
) -> Option<InlineCode> {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let a = arg.as_str();
        if a == "--" || a == "-" || !a.starts_with('-') {
            return None;
        }
        if a.starts_with("--") {
            i += 1;
            continue;
        }
        let cluster = &a[1..];
        let mut skip_next = false;
        for (j, ch) in cluster.char_indices() {
            if inline.contains(&ch) {
                return Some(code_from(a, &cluster[j + 1..], args, i + 1));
            }
            if valued.contains(&ch) {
                skip_next = j + 1 == cluster.len();
                break;
            }
        }
        i += if skip_next { 2 } else { 1 };
    }
    None
}

/// `powershell -Command CODE` (any unambiguous prefix, `-c`), `-EncodedCommand`
/// (`-e`, `-ec`, `-enc`...). Windows PowerShell also runs a bare positional
/// argument as a command; pwsh treats it as a script file.
pub(super) fn powershell_inline(
    args: &[String],
    positional_is_command: bool,
) -> Option<InlineCode> {
    const VALUE_PARAMS: &str = "executionpolicy ex ep windowstyle w workingdirectory wd outputformat of o \
        inputformat if psconsolefile version v settingsfile configurationname config \
        configurationfile custompipename";
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let lower = arg.to_ascii_lowercase();
        let name = lower
            .strip_prefix("--")
            .or_else(|| lower.strip_prefix('-'))
            .or_else(|| lower.strip_prefix('/'));
        let Some(name) = name else {
            if positional_is_command && !lower.ends_with(".ps1") {
                return Some(InlineCode {
                    flag: "(positional command)".into(),
                    code: args[i..].to_vec(),
                });
            }
            return None;
        };
        let is_prefix_of = |full: &str| !name.is_empty() && full.starts_with(name);
        if name == "ec" || is_prefix_of("command") || is_prefix_of("encodedcommand") {
            return Some(code_from(arg, "", args, i + 1));
        }
        if name == "f" || (name.len() >= 2 && is_prefix_of("file")) {
            return None;
        }
        i += if listed(VALUE_PARAMS, name) { 2 } else { 1 };
    }
    None
}

// ---------------------------------------------------------------------------
// Rule: download-and-run

/// Describes a pipe into a shell or interpreter, `iex`/`Invoke-Expression`,
/// or a shell fed by a download (`bash <(curl ...)`), if `line` has one.
pub(super) fn pipe_to_shell(line: &str) -> Option<String> {
    const RUNNERS: &str =
        "sh bash zsh dash ksh mksh ash fish cmd perl ruby node pwsh powershell iex";
    let bytes = line.as_bytes();
    for (idx, _) in line.match_indices('|') {
        if (idx > 0 && bytes[idx - 1] == b'|') || bytes.get(idx + 1) == Some(&b'|') {
            continue;
        }
        let words = line[idx + 1..].split_whitespace().skip_while(|w| {
            matches!(
                *w,
                "sudo" | "env" | "exec" | "command" | "-E" | "/usr/bin/env"
            ) || w.contains('=')
        });
        if let Some(word) = words.take(1).next() {
            let name = program_name(word.trim_matches(|c| c == '"' || c == '\''));
            if listed(RUNNERS, &name) || is_python(&name) {
                return Some(format!("`| {name}`"));
            }
        }
    }
    let lower = line.to_ascii_lowercase();
    if lower.contains("invoke-expression") {
        return Some("`Invoke-Expression`".into());
    }
    if has_word(&lower, "iex") {
        return Some("`iex`".into());
    }
    for fetch in ["<(curl", "<(wget", "$(curl", "$(wget", "`curl", "`wget"] {
        if lower.contains(fetch) {
            return Some(format!("`{fetch} ...`"));
        }
    }
    None
}

/// `word` occurs in `text` with no letter, digit, `_` or `-` on either side.
pub(super) fn has_word(text: &str, word: &str) -> bool {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}
