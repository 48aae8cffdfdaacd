//! What a stdio entry really runs: wrappers (`env`, `env -S "…"`, `sudo`,
//! `nohup`, `uv run`, `ffmcp guard`) are peeled into layers so every rule
//! sees each program with its own arguments.

use super::*;

/// One program of a command line, with its arguments.
#[derive(Debug, Clone)]
pub(super) struct Layer {
    /// As written (a path or a name): where it lives matters.
    pub(super) command: String,
    /// Basename, lower-cased, without a Windows executable suffix.
    pub(super) program: String,
    pub(super) args: Vec<String>,
}

/// The layers of an entry, outermost first, and what the wrappers set.
#[derive(Debug, Default)]
pub(super) struct Invocation {
    pub(super) layers: Vec<Layer>,
    /// `NAME=value` words `env` sets for the program it runs.
    pub(super) assignments: Vec<(String, String)>,
    /// The entry runs under `ffmcp guard`; the `--policy` value if given.
    pub(super) guard: Option<GuardCall>,
}

/// `ffmcp guard --policy P -- …`: the policy as written in the config.
#[derive(Debug, Clone)]
pub(super) struct GuardCall {
    pub(super) policy: Option<String>,
}

/// Deepest nesting followed (`env env env …` is not a real config).
const MAX_LAYERS: usize = 8;

impl Invocation {
    pub(super) fn of(command: &str, args: &[String]) -> Invocation {
        let mut inv = Invocation::default();
        let mut current = Some((command.to_owned(), args.to_vec()));
        while let Some((command, args)) = current.take() {
            let program = program_name(&command);
            let inner = if inv.layers.len() + 1 >= MAX_LAYERS {
                None
            } else {
                match program.as_str() {
                    "env" => env_inner(&args, &mut inv.assignments, 0),
                    "sudo" | "doas" | "nohup" | "exec" => plain_inner(&program, &args),
                    "uv" => subcommand(&args, &["run"]).and_then(uv_run_target),
                    "ffmcp" if inv.guard.is_none() => guard_inner(&args).map(|(policy, inner)| {
                        inv.guard = Some(GuardCall { policy });
                        inner
                    }),
                    _ => None,
                }
            };
            inv.layers.push(Layer {
                command,
                program,
                args,
            });
            current = inner;
        }
        inv
    }
}

/// A program and its arguments.
type Program = (String, Vec<String>);
type Inner = Option<Program>;

fn split_first(words: &[String]) -> Inner {
    let (first, rest) = words.split_first()?;
    Some((first.clone(), rest.to_vec()))
}

/// `env [-i] [-u NAME] [-C DIR] [-S "STRING"] [NAME=value]… PROGRAM ARGS`.
fn env_inner(args: &[String], assignments: &mut Vec<(String, String)>, depth: usize) -> Inner {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let a = arg.as_str();
        if a == "--" {
            i += 1;
            break;
        }
        if matches!(a, "-u" | "--unset" | "-C" | "--chdir") {
            i += 2;
            continue;
        }
        // `-S STRING`, `-SSTRING`, `--split-string=STRING`, `-iS STRING`.
        let split = if let Some(s) = a.strip_prefix("--split-string=") {
            Some(s.to_owned())
        } else if a == "--split-string" {
            i += 1;
            args.get(i).cloned()
        } else if a.starts_with('-') && !a.starts_with("--") && a.contains('S') {
            let after = &a[a.find('S').map_or(a.len(), |p| p + 1)..];
            if after.is_empty() {
                i += 1;
                args.get(i).cloned()
            } else {
                Some(after.to_owned())
            }
        } else {
            None
        };
        if let Some(text) = split {
            if depth >= MAX_LAYERS {
                return None; // `-S "-S '-S …'"`: not a real config
            }
            let mut words = shell_words(&text);
            words.extend(args.get(i + 1..).into_iter().flatten().cloned());
            return env_inner(&words, assignments, depth + 1);
        }
        if a.starts_with('-') {
            i += 1;
            continue;
        }
        if let Some((name, value)) = a.split_once('=')
            && is_option_name(name)
        {
            assignments.push((name.to_owned(), value.to_owned()));
            i += 1;
            continue;
        }
        break;
    }
    split_first(&args[i.min(args.len())..])
}

/// `sudo [-E] [-u user] prog`, `nohup prog`, `exec prog`.
fn plain_inner(program: &str, args: &[String]) -> Inner {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        if arg == "--" {
            i += 1;
            break;
        }
        if !arg.starts_with('-') {
            break;
        }
        let valued = program != "nohup" && matches!(arg.as_str(), "-u" | "-g" | "-C" | "-D");
        i += if valued { 2 } else { 1 };
    }
    split_first(&args[i.min(args.len())..])
}

/// `ffmcp guard [--strict] --policy P [--] PROGRAM ARGS`.
fn guard_inner(args: &[String]) -> Option<(Option<String>, Program)> {
    if args.first().map(String::as_str) != Some("guard") {
        return None;
    }
    let mut policy = None;
    let mut i = 1;
    while let Some(arg) = args.get(i) {
        let a = arg.as_str();
        if a == "--" {
            i += 1;
            break;
        }
        if let Some(p) = a.strip_prefix("--policy=") {
            policy = Some(p.to_owned());
        } else if a == "--policy" {
            policy = args.get(i + 1).cloned();
            i += 1;
        } else if !a.starts_with('-') {
            break;
        }
        i += 1;
    }
    let inner = split_first(&args[i.min(args.len())..])?;
    Some((policy, inner))
}

/// Splits like a POSIX shell does for plain words and quotes (no
/// expansion): what `env -S` and `sh -c "prog args"` see.
pub(super) fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => word.extend(chars.next()),
                        _ => word.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}
