//! Replacing a user's client config safely, shared by `ffmcp config claude
//! --write` and `ffmcp audit --fix`: a timestamped backup of the previous
//! text first (0600, never overwriting an older backup), then the new text
//! written to a fresh temporary file in the same directory and renamed over
//! the config, so a crash leaves either the old file or the new one, never
//! half of each. The new file keeps the old one's permission bits.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use crate::error::{IoContext, Result, invalid};

/// Writes `previous` to `<config>.bak-<UTC timestamp>` (0600, created new;
/// `-2`, `-3`… when that name is taken) and returns its path.
pub fn backup(path: &Path, previous: &str) -> Result<PathBuf> {
    let stamp = utc_stamp(std::time::SystemTime::now());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config".to_owned());
    for n in 1..=100 {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let backup = path.with_file_name(format!("{name}.bak-{stamp}{suffix}"));
        match create_private(&backup) {
            Ok(mut file) => {
                file.write_all(previous.as_bytes())
                    .and_then(|()| file.sync_all())
                    .io_context(|| format!("writing the backup {}", backup.display()))?;
                return Ok(backup);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e).io_context(|| format!("creating the backup {}", backup.display()));
            }
        }
    }
    Err(invalid(format!(
        "could not find a free backup name next to {}",
        path.display()
    )))
}

/// Replaces `path` with `text` atomically (temporary file in the same
/// directory, then rename). Keeps the old file's permission bits; a new
/// file is 0600. A symlink is followed: its target is replaced.
pub fn replace_atomically(path: &Path, text: &str) -> Result<()> {
    // A symlinked config (dotfiles) stays a symlink: replace its target.
    let target;
    let path = if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        target = std::fs::canonicalize(path)
            .io_context(|| format!("resolving the symlink {}", path.display()))?;
        target.as_path()
    } else {
        path
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config".to_owned());
    let mode = existing_mode(path);
    let mut attempt = 0u32;
    let (tmp, mut file) = loop {
        attempt += 1;
        let tmp = dir.join(format!(
            ".{name}.ffmcp-tmp-{}-{attempt}",
            std::process::id()
        ));
        match create_private(&tmp) {
            Ok(file) => break (tmp, file),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {}
            Err(e) => return Err(e).io_context(|| format!("creating {}", tmp.display())),
        }
    };
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| set_mode(&file, mode))
        .and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).io_context(|| format!("writing {}", tmp.display()));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).io_context(|| format!("replacing {}", path.display()));
    }
    Ok(())
}

/// Creates a new file readable and writable by the owner only; fails if
/// anything (a file, a symlink) already has the name.
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(unix)]
fn existing_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map_or(0o600, |m| m.permissions().mode() & 0o777)
}

#[cfg(not(unix))]
fn existing_mode(_path: &Path) -> u32 {
    0
}

#[cfg(unix)]
fn set_mode(file: &std::fs::File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &std::fs::File, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// `20261130T180500Z` for a moment (UTC).
pub fn utc_stamp(at: std::time::SystemTime) -> String {
    let secs = at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_utc_calendar_times() {
        let at = |secs| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        assert_eq!(utc_stamp(at(0)), "19700101T000000Z");
        assert_eq!(utc_stamp(at(951_782_400)), "20000229T000000Z");
        assert_eq!(utc_stamp(at(1_796_061_905)), "20261130T180505Z");
    }

    #[cfg(unix)]
    #[test]
    fn backups_are_private_and_never_overwritten_and_replace_keeps_the_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.json");
        std::fs::write(&path, "old").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let first = backup(&path, "old").expect("backup");
        let second = backup(&path, "old").expect("backup");
        assert_ne!(first, second);
        for b in [&first, &second] {
            let mode = std::fs::metadata(b).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", b.display());
            assert_eq!(std::fs::read_to_string(b).expect("read"), "old");
        }
        replace_atomically(&path, "new").expect("replace");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        // A symlinked config keeps its link; the target changes.
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&path, &link).expect("symlink");
        replace_atomically(&link, "newer").expect("replace through the link");
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "newer");
        std::fs::remove_file(&link).expect("unlink");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 3, "no temporary file left: {names:?}");
    }
}
