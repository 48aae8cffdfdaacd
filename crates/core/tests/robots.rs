//! `fetch::robots` against Google's matcher on real robots.txt files: the
//! same verdict for every agent and path tried, and a deciding rule that
//! always agrees with the verdict. The oracle is the `robotstxt` crate's
//! parser and group logic (a port of Google's C++ `robots.cc`) with
//! [`GoogleMatch`], a line-by-line port of the C++ pattern matcher: the
//! crate's own matcher `insert`s where the C++ assigns, which loses matches
//! such as `Disallow: */B00M3E1HJY` on `/x/B00M3E1HJY` (in amazon.com's file).
//!
//! The files in `tests/fixtures/robots/` are a sample of the robots.txt
//! files fetched from popular sites that protego 0.7.0 ships as test data
//! (BSD-3-Clause, tests/test_data). `FF_ROBOTS_CORPUS=<dir>` runs the same
//! comparison on every file of a directory (e.g. all 4,231 of protego's).

use std::path::{Path, PathBuf};

use ffmcp_core::fetch::robots::{Robots, pattern_matches};
use robotstxt::matcher::{RobotsMatchStrategy, RobotsMatcher};

/// Google's C++ `RobotsMatchStrategy::Matches`, longest match priority.
#[derive(Debug, Default)]
struct GoogleMatch;

impl RobotsMatchStrategy for GoogleMatch {
    fn match_allow(&self, path: &str, pattern: &str) -> i32 {
        if Self::matches(path, pattern) {
            i32::try_from(pattern.len()).unwrap_or(i32::MAX)
        } else {
            -1
        }
    }

    fn match_disallow(&self, path: &str, pattern: &str) -> i32 {
        self.match_allow(path, pattern)
    }

    /// The set of path positions reachable after each pattern byte.
    fn matches(path: &str, pattern: &str) -> bool {
        let (path, pattern) = (path.as_bytes(), pattern.as_bytes());
        let mut pos = vec![0usize; path.len() + 1];
        let mut numpos = 1;
        for (i, &pat) in pattern.iter().enumerate() {
            if pat == b'$' && i + 1 == pattern.len() {
                return pos[numpos - 1] == path.len();
            }
            if pat == b'*' {
                numpos = path.len() - pos[0] + 1;
                for j in 1..numpos {
                    pos[j] = pos[j - 1] + 1;
                }
            } else {
                let mut kept = 0;
                for j in 0..numpos {
                    if pos[j] < path.len() && path[pos[j]] == pat {
                        pos[kept] = pos[j] + 1;
                        kept += 1;
                    }
                }
                numpos = kept;
                if numpos == 0 {
                    return false;
                }
            }
        }
        true
    }
}

/// The oracle's verdict; none where the crate panics (it slices a line cut
/// at its length limit inside a multi-byte character).
fn google_allows(robots_txt: &str, agent: &str, url: &str) -> Option<bool> {
    std::panic::catch_unwind(|| {
        RobotsMatcher::<GoogleMatch>::default().one_agent_allowed_by_robots(robots_txt, agent, url)
    })
    .ok()
}

#[test]
fn patterns_match_like_googles_matcher() {
    let patterns = [
        "/",
        "/a",
        "/a$",
        "/*",
        "/*$",
        "/*.pdf$",
        "/a*b",
        "/a*b$",
        "/*/*/tree/master",
        "/*/*/tree/master$",
        "$",
        "*",
        "/a$b",
        "/**b",
        "/a*",
        "/a*$",
        "/x*y*z",
        "*/b",
        "*/b$",
        "*b*",
        "/a*a*b",
        "/a%2Fb",
    ];
    let paths = [
        "/",
        "/a",
        "/ab",
        "/a/b.pdf",
        "/a/b.pdf?x",
        "/axxb/c",
        "/axxb",
        "/a$b",
        "/google/robotstxt/tree/master",
        "/google/robotstxt/tree/master/x",
        "/xyz",
        "/xzy",
        "/b",
        "/x/b",
        "/x/b/c",
        "/aab",
        "/aaab",
        "/a%2Fb",
    ];
    for pattern in patterns {
        for path in paths {
            assert_eq!(
                pattern_matches(pattern, path),
                GoogleMatch::matches(path, pattern),
                "{pattern} on {path}"
            );
        }
    }
}

/// Agents tried on every file: ours, a big crawler, and an unknown one.
const AGENTS: &[&str] = &["ffmcp", "Googlebot", "Bingbot", "SomeUnknownBot"];

fn fixture_files() -> Vec<PathBuf> {
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/robots")];
    if let Ok(extra) = std::env::var("FF_ROBOTS_CORPUS") {
        dirs.push(PathBuf::from(extra));
    }
    let mut files: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap_or_else(|e| panic!("{}: {e}", d.display())))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Paths that exercise the file's own rules: each pattern made concrete
/// (`*` → `x`, `$` dropped), with and without a suffix, plus a few generic ones.
fn paths_for(robots_txt: &str) -> Vec<String> {
    let mut paths: Vec<String> = ["/", "/index.html", "/search?q=a", "/a/b/c", "/wp-admin/x"]
        .iter()
        .map(|p| (*p).to_owned())
        .collect();
    for line in robots_txt.lines().take(400) {
        let Some((key, value)) = line.split('#').next().unwrap_or("").split_once(':') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        if key != "allow" && key != "disallow" {
            continue;
        }
        let value = value.trim();
        if value.is_empty() || !value.is_ascii() {
            continue;
        }
        let concrete = value.trim_end_matches('$').replace('*', "x");
        let concrete = if concrete.starts_with('/') {
            concrete
        } else {
            format!("/{concrete}")
        };
        paths.push(format!("{concrete}z"));
        paths.push(concrete);
    }
    paths.sort();
    paths.dedup();
    // At most 60, spread over the file: the oracle re-parses per question.
    let step = paths.len().div_ceil(60).max(1);
    paths.into_iter().step_by(step).collect()
}

/// Named agents of the file (product tokens), a few of them.
fn named_agents(robots_txt: &str) -> Vec<String> {
    let mut agents: Vec<String> = robots_txt
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("user-agent")
                .then(|| v.trim())
        })
        .filter(|v| !v.starts_with('*'))
        .map(|v| {
            v.chars()
                .take_while(|c| c.is_ascii_alphabetic() || *c == '-' || *c == '_')
                .collect::<String>()
        })
        .filter(|v| !v.is_empty())
        .collect();
    agents.dedup();
    agents.truncate(4);
    agents
}

#[test]
#[allow(clippy::print_stderr)] // one summary line, shown with --nocapture
fn verdicts_match_googles_matcher_on_real_robots_txt() {
    let files = fixture_files();
    assert!(files.len() >= 20, "only {} fixture files", files.len());
    let (mut compared, mut disallowed, mut differences) = (0usize, 0usize, Vec::new());
    let mut oracle_failed = 0usize;
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue; // not UTF-8: the fetcher decodes before parsing
        };
        let robots = Robots::parse(&text);
        // Google's C++ skips a UTF-8 byte order mark; the crate compares its
        // bytes against characters and never does (27 of protego's 4,231
        // files start with one: the only differences in that corpus).
        let oracle_text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut agents: Vec<String> = AGENTS.iter().map(|a| (*a).to_owned()).collect();
        agents.extend(named_agents(&text));
        for path in paths_for(&text) {
            let url = format!("https://site.test{path}");
            for agent in &agents {
                let ours = robots.decide(agent, &url);
                let Some(google) = google_allows(oracle_text, agent, &url) else {
                    oracle_failed += 1;
                    continue;
                };
                compared += 1;
                disallowed += usize::from(!ours.allowed);
                if ours.allowed != google {
                    differences.push(format!(
                        "{} {agent} {path}: ours {} google {google}",
                        file.display(),
                        ours.allowed
                    ));
                }
                // The quoted rule and the verdict cannot disagree.
                if let Some(rule) = &ours.rule {
                    assert_eq!(
                        rule.allow,
                        ours.allowed,
                        "{} {agent} {path}: {rule:?}",
                        file.display()
                    );
                    let lines = text.split(['\n', '\r']).count();
                    assert!(rule.line >= 1 && rule.line <= lines, "{rule:?}");
                }
            }
        }
    }
    eprintln!(
        "robots corpus: {} files, {compared} verdicts compared, {disallowed} disallowed, \
         {oracle_failed} not answered by the oracle, {} differences",
        files.len(),
        differences.len()
    );
    assert!(
        differences.is_empty(),
        "{} differences:\n{}",
        differences.len(),
        differences.join("\n")
    );
    assert!(
        disallowed > compared / 20,
        "the corpus hardly exercises Disallow rules"
    );
}

/// The quoted rule is the line of the file it says it is, and its pattern
/// matches the path that it decided.
#[test]
fn the_quoted_rule_is_in_the_file_and_matches_the_path() {
    for file in fixture_files().iter().take(40) {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let lines: Vec<&str> = text.split(['\n']).collect();
        // Files with lone CR line ends number lines differently from `split('\n')`.
        if text.contains('\r') && !text.contains("\r\n") {
            continue;
        }
        let robots = Robots::parse(&text);
        for path in paths_for(&text) {
            let url = format!("https://site.test{path}");
            let d = robots.decide("Googlebot", &url);
            let Some(rule) = d.rule else { continue };
            let line = lines[rule.line - 1];
            assert!(
                line.contains(rule.pattern.as_str()),
                "{} line {}: {line:?} vs {rule:?}",
                file.display(),
                rule.line
            );
            let escaped_ascii = rule.pattern.is_ascii() && !rule.pattern.contains('%');
            if escaped_ascii && !rule.pattern.contains("index.htm") {
                assert!(pattern_matches(&rule.pattern, &path), "{rule:?} on {path}");
            }
        }
    }
}
