//! Rules: where the command lives, and plain-HTTP remotes.

use super::*;

// ---------------------------------------------------------------------------
// Rule: where the command lives

pub(super) fn command_location(
    command: &str,
    world_writable: &dyn Fn(&Path) -> bool,
    scrub: &Scrubber,
) -> Option<Finding> {
    if command.contains("://") {
        return None; // `uv run https://…`: the remote-source rule's business
    }
    let shown = scrub.apply(command);
    let normal = command.to_ascii_lowercase().replace('\\', "/");
    let temp_prefix = [
        "/tmp/",
        "/var/tmp/",
        "/dev/shm/",
        "/private/tmp/",
        "/private/var/tmp/",
    ]
    .iter()
    .any(|p| normal.starts_with(p));
    let temp_marker = [
        "%temp%",
        "%tmp%",
        "$tmpdir",
        "${tmpdir}",
        "$env:temp",
        "/appdata/local/temp/",
        "/windows/temp/",
    ]
    .iter()
    .any(|m| normal.contains(m));
    let writable_fix = "Install the executable into a directory only you (or root) can write, such as ~/.local/bin or /usr/local/bin, and point `command` there.".to_owned();
    if temp_prefix || temp_marker {
        return Some(finding(
            Severity::High,
            "writable-path",
            format!(
                "the command `{shown}` lives in a temporary directory other users or programs can write to"
            ),
            writable_fix,
        ));
    }
    let absolute = is_absolute(command);
    if absolute
        && let Some(parent) = Path::new(command).parent()
        && !parent.as_os_str().is_empty()
        && world_writable(parent)
    {
        return Some(finding(
            Severity::High,
            "writable-path",
            format!(
                "the command `{shown}` is in {}, which any user can write to",
                parent.display()
            ),
            writable_fix,
        ));
    }
    let has_dir = command.contains(['/', '\\']);
    let expanded = command.starts_with(['~', '$', '%']);
    if has_dir && !absolute && !expanded {
        return Some(finding(
            Severity::Low,
            "relative-command",
            format!(
                "the command `{shown}` is a relative path: it depends on the directory the client starts servers in"
            ),
            "Use an absolute path; clients do not start servers from your project directory."
                .into(),
        ));
    }
    None
}

pub(super) fn is_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    path.starts_with('/')
        || path.starts_with("\\\\")
        || (b.len() > 2
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && matches!(b[2], b'\\' | b'/'))
}

// ---------------------------------------------------------------------------
// Rule: plain-http remotes

pub(super) fn insecure_remote(url: &str, what: &str, scrub: &Scrubber) -> Option<Finding> {
    let lower = url.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("ws://"))?;
    let host = url_host(rest);
    if is_loopback(&host) {
        return None;
    }
    Some(finding(
        Severity::High,
        "insecure-remote",
        format!(
            "{what} {} uses plain http to {host}: requests, replies and credentials travel unencrypted and can be altered",
            quote(&scrub.apply(url), 100)
        ),
        "Use https://; plain http is acceptable only to loopback (localhost, 127.0.0.1, [::1])."
            .into(),
    ))
}

/// A stdio bridge (`mcp-remote`) pointed at a plain-http URL is a plain-http remote.
pub(super) fn mcp_remote_over_http(args: &[String], scrub: &Scrubber) -> Vec<Finding> {
    if !args.iter().any(|a| a.contains("mcp-remote")) {
        return Vec::new();
    }
    args.iter()
        .filter_map(|a| insecure_remote(a, "the mcp-remote URL", scrub))
        .collect()
}

/// The host of `rest` (a URL after its `scheme://`), lower-cased, no port.
pub(super) fn url_host(rest: &str) -> String {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    if let Some(v6) = host_port.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("").to_owned();
    }
    host_port.split(':').next().unwrap_or("").to_owned()
}

pub(super) fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}
