//! Filesystem roots: every escape is refused with a message naming it, and
//! nothing outside the roots is ever handed out.

use std::os::unix::{fs::symlink, net::UnixListener};

use ffmcp_core::roots::{Roots, RootsError};

struct Fixture {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    outside: std::path::PathBuf,
    roots: Roots,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(root.join("docs")).expect("mkdir");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::write(root.join("docs/a.txt"), "inside").expect("write");
    std::fs::write(outside.join("secret.txt"), "secret").expect("write");
    symlink(outside.join("secret.txt"), root.join("escape.txt")).expect("symlink");
    symlink(&outside, root.join("escape_dir")).expect("symlink");
    symlink(root.join("docs/a.txt"), root.join("inner_link.txt")).expect("symlink");
    let roots = Roots::new([&root]).expect("roots");
    Fixture {
        _dir: dir,
        root: root.canonicalize().expect("canonical"),
        outside,
        roots,
    }
}

#[test]
fn paths_inside_a_root_are_allowed() {
    let f = fixture();
    let by_absolute = f
        .roots
        .check_read(f.root.join("docs/a.txt").to_str().expect("utf-8"))
        .expect("allowed");
    assert_eq!(by_absolute.as_path(), f.root.join("docs/a.txt"));
    let by_relative = f
        .roots
        .check_read("docs/a.txt")
        .expect("relative to the first root");
    assert_eq!(by_relative, by_absolute);
    let through_inner_link = f
        .roots
        .check_read("inner_link.txt")
        .expect("a link that stays inside");
    assert_eq!(through_inner_link, by_absolute);
}

#[test]
fn escapes_are_refused_with_a_clear_error() {
    let f = fixture();
    let outside_abs = f.outside.join("secret.txt");
    let outside_abs = outside_abs.to_str().expect("utf-8");
    let cases: Vec<(String, &str)> = vec![
        ("../outside/secret.txt".into(), "contains '..'"),
        ("docs/../../outside/secret.txt".into(), "contains '..'"),
        (outside_abs.into(), "outside the allowed roots"),
        ("escape.txt".into(), "outside the allowed roots"),
        ("escape_dir/secret.txt".into(), "outside the allowed roots"),
        ("/etc/passwd".into(), "outside the allowed roots"),
        ("docs/a.txt\0.png".into(), "NUL byte"),
        ("".into(), "empty"),
        ("docs".into(), "is a directory"),
        ("/dev/null".into(), "outside the allowed roots"),
        ("missing.txt".into(), "does not exist"),
    ];
    for (path, needle) in cases {
        let err = f.roots.check_read(&path).expect_err(&path).to_string();
        assert!(err.contains(needle), "{path:?}: {err}");
    }
}

#[test]
fn special_files_inside_a_root_are_refused() {
    let f = fixture();
    let _listener = UnixListener::bind(f.root.join("sock")).expect("socket");
    let err = f.roots.check_read("sock").expect_err("socket").to_string();
    assert!(err.contains("socket"), "{err}");
    let fifo = f.root.join("fifo");
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .expect("mkfifo");
    let err = f.roots.check_read("fifo").expect_err("fifo").to_string();
    assert!(err.contains("FIFO"), "{err}");
}

#[test]
fn writes_stay_inside_and_never_follow_symlinks() {
    let f = fixture();
    let target = f.roots.check_write("docs/new.md").expect("new file inside");
    assert_eq!(target.as_path(), f.root.join("docs/new.md"));
    assert!(
        f.roots.check_write("docs/a.txt").is_ok(),
        "overwriting a regular file inside"
    );
    for (path, needle) in [
        ("escape.txt", "symbolic link"),
        ("escape_dir/new.txt", "outside the allowed roots"),
        ("nodir/new.txt", "its directory"),
        ("../x.txt", "contains '..'"),
    ] {
        let err = f.roots.check_write(path).expect_err(path).to_string();
        assert!(err.contains(needle), "{path}: {err}");
    }
    assert!(!f.outside.join("new.txt").exists());
}

#[test]
fn no_roots_means_no_local_paths() {
    let err = Roots::default()
        .check_read("/etc/hostname")
        .expect_err("no roots");
    assert_eq!(err, RootsError::NoRoots);
    assert!(err.to_string().contains("FF_ROOTS"));
    let bad = Roots::new(["/definitely/not/here"]).expect_err("missing root");
    assert!(bad.to_string().contains("/definitely/not/here"));
}

#[test]
fn client_roots_apply_alone_and_only_narrow_configured_ones() {
    let fx = fixture();
    let docs = fx.root.join("docs");
    let uri = |p: &std::path::Path| format!("file://{}", p.display());
    // No FF_ROOTS: the client's roots are the roots.
    let from_client = Roots::default().narrowed_by(&[uri(&docs), "https://x.example/".into()]);
    assert_eq!(from_client.iter().collect::<Vec<_>>(), vec![docs.as_path()]);
    assert!(
        from_client
            .check_read(docs.join("a.txt").to_str().expect("utf8"))
            .is_ok()
    );
    // Configured roots are the ceiling: a client root inside narrows…
    let narrowed = fx.roots.narrowed_by(&[uri(&docs)]);
    assert_eq!(narrowed.iter().collect::<Vec<_>>(), vec![docs.as_path()]);
    // …and one outside cannot widen them.
    let widened = fx.roots.narrowed_by(&[uri(&fx.outside)]);
    assert_eq!(widened, fx.roots);
    let err = widened
        .check_read(fx.outside.join("secret.txt").to_str().expect("utf8"))
        .expect_err("outside stays outside");
    assert!(err.to_string().contains("outside"), "{err}");
    // Junk URIs are ignored.
    assert!(
        Roots::default()
            .narrowed_by(&["file:///no/such/dir".into(), "nonsense".into()])
            .is_empty()
    );
}

#[test]
fn errors_never_tell_what_lies_outside_the_roots() {
    let f = fixture();
    std::os::unix::fs::symlink(f.outside.join("no-such-file"), f.root.join("dangling.txt"))
        .expect("symlink");
    let outside = f.outside.display().to_string();
    let message = |path: &str| {
        f.roots
            .check_read(path)
            .expect_err(path)
            .to_string()
            .replace(path, "<path>")
    };
    let existing = message(f.outside.join("secret.txt").to_str().expect("utf-8"));
    let expected = format!(
        "path '<path>' is outside the allowed roots ({})",
        f.root.display()
    );
    assert_eq!(existing, expected);
    for path in [
        f.outside
            .join("no-such-file")
            .to_str()
            .expect("utf-8")
            .to_owned(),
        "/etc/shadow".to_owned(),
        "/nonexistent/dir/file.pdf".to_owned(),
        "escape.txt".to_owned(),
        "dangling.txt".to_owned(),
        "escape_dir/secret.txt".to_owned(),
        "escape_dir/no-such-file".to_owned(),
    ] {
        let text = message(&path);
        assert_eq!(text, expected, "{path}");
        assert!(!text.contains(&outside), "{path}: {text}");
    }
    let write = f
        .roots
        .check_write("escape_dir/new.txt")
        .expect_err("write outside")
        .to_string();
    assert!(!write.contains(&outside), "{write}");
}

#[test]
fn a_symlink_swapped_in_after_the_check_cannot_lead_the_open_out() {
    let f = fixture();
    // The final component swapped for a link to a file outside.
    let checked = f.roots.check_read("docs/a.txt").expect("allowed");
    std::fs::remove_file(f.root.join("docs/a.txt")).expect("rm");
    symlink(f.outside.join("secret.txt"), f.root.join("docs/a.txt")).expect("swap");
    let err = checked
        .open_read()
        .expect_err("the swapped link is not followed out");
    assert_ne!(err.kind(), std::io::ErrorKind::NotFound, "{err}");

    // A directory on the way swapped for a link to a directory outside.
    std::fs::write(f.root.join("docs/b.txt"), "inside b").expect("write");
    std::fs::write(f.outside.join("b.txt"), "secret b").expect("write");
    let checked = f.roots.check_read("docs/b.txt").expect("allowed");
    std::fs::rename(f.root.join("docs"), f.root.join("docs.old")).expect("mv");
    symlink(&f.outside, f.root.join("docs")).expect("swap dir");
    let result = checked.open_read();
    assert!(result.is_err(), "opened through a swapped directory");

    // An untouched path opens and reads normally.
    std::fs::write(f.root.join("plain.txt"), "plain").expect("write");
    let mut text = String::new();
    use std::io::Read;
    f.roots
        .check_read("plain.txt")
        .expect("allowed")
        .open_read()
        .expect("open")
        .read_to_string(&mut text)
        .expect("read");
    assert_eq!(text, "plain");
}
