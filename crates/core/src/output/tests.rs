//! Each test plants the hostile situation and asserts the harm is absent:
//! the file that must not change is byte-for-byte the same.

use std::os::unix::fs::PermissionsExt;

use super::*;

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
    roots: Roots,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&root).expect("root");
    std::fs::create_dir_all(&outside).expect("outside");
    let roots = Roots::new([&root]).expect("roots");
    let root = root.canonicalize().expect("canonical");
    Fixture {
        _dir: dir,
        root,
        outside,
        roots,
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o7777
}

/// Names in `dir`, sorted: no temporary file may be left behind.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_dotfile_is_refused_and_left_unchanged() {
    let f = fixture();
    let bashrc = f.root.join(".bashrc");
    std::fs::write(&bashrc, "export PS1='$ '\n").expect("seed");
    std::fs::create_dir_all(f.root.join(".git/hooks")).expect("hooks");
    for path in [".bashrc", ".bashrc.csv", ".git/hooks/pre-commit.csv"] {
        for overwrite in [false, true] {
            let err = write(&f.roots, path, Kind::Csv, b"$(touch /tmp/pwn)\n", overwrite)
                .expect_err(path);
            assert!(matches!(err, OutputError::Hidden { .. }), "{path}: {err}");
        }
    }
    assert_eq!(
        std::fs::read(&bashrc).expect("read"),
        b"export PS1='$ '\n",
        ".bashrc changed"
    );
    assert_eq!(listing(&f.root), [".bashrc", ".git"]);
    assert!(
        listing(&f.root.join(".git/hooks")).is_empty(),
        "nothing planted in hooks"
    );
}

#[test]
fn an_extension_that_does_not_match_the_format_is_refused() {
    let f = fixture();
    for (path, kind) in [
        ("notes.txt", Kind::Csv),
        ("run.sh", Kind::Json),
        ("x.json", Kind::Csv),
        ("csv", Kind::Csv),
        ("feed.csv", Kind::Atom),
    ] {
        let err = write(&f.roots, path, kind, b"x", false).expect_err(path);
        assert!(
            matches!(err, OutputError::Extension { .. }),
            "{path}: {err}"
        );
        assert!(err.to_string().contains(path), "{err}");
    }
    for (path, kind) in [
        ("a.CSV", Kind::Csv),
        ("b.json", Kind::Json),
        ("c.atom", Kind::Atom),
        ("d.xml", Kind::Atom),
        ("e.md", Kind::Markdown),
        ("f.html", Kind::Html),
    ] {
        write(&f.roots, path, kind, b"x", false).expect(path);
    }
    assert_eq!(
        listing(&f.root),
        ["a.CSV", "b.json", "c.atom", "d.xml", "e.md", "f.html"]
    );
}

#[test]
fn a_new_file_is_0600_and_complete() {
    let f = fixture();
    std::fs::create_dir(f.root.join("sub")).expect("sub");
    let written = write(&f.roots, "sub/leads.csv", Kind::Csv, b"a,b\n1,2\n", false).expect("new");
    assert_eq!(written.path, f.root.join("sub/leads.csv"));
    assert_eq!((written.bytes, written.replaced), (8, false));
    assert_eq!(std::fs::read(&written.path).expect("read"), b"a,b\n1,2\n");
    assert_eq!(mode(&written.path), 0o600);
    assert_eq!(listing(&f.root.join("sub")), ["leads.csv"]);
}

#[test]
fn an_existing_file_is_kept_unless_overwrite_then_replaced_0600_without_exec_bit() {
    let f = fixture();
    let target = f.root.join("x.csv");
    std::fs::write(&target, "original\n").expect("seed");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let err = write(&f.roots, "x.csv", Kind::Csv, b"new\n", false).expect_err("exists");
    assert!(matches!(err, OutputError::Exists { .. }), "{err}");
    assert!(err.to_string().contains("overwrite"), "{err}");
    assert_eq!(std::fs::read(&target).expect("read"), b"original\n");
    assert_eq!(mode(&target), 0o755);

    let written = write(&f.roots, "x.csv", Kind::Csv, b"new\n", true).expect("overwrite");
    assert!(written.replaced);
    assert_eq!(std::fs::read(&target).expect("read"), b"new\n");
    assert_eq!(mode(&target), 0o600, "executable bit must be gone");
    assert_eq!(listing(&f.root), ["x.csv"]);
}

#[test]
fn a_symlink_to_a_file_outside_is_never_written_through() {
    let f = fixture();
    let victim = f.outside.join("target.csv");
    std::fs::write(&victim, "secret\n").expect("victim");
    std::os::unix::fs::symlink(&victim, f.root.join("out.csv")).expect("symlink");
    for overwrite in [false, true] {
        assert!(write(&f.roots, "out.csv", Kind::Csv, b"pwned\n", overwrite).is_err());
    }
    assert_eq!(std::fs::read(&victim).expect("read"), b"secret\n");
    // A dangling symlink (to a file not yet existing outside) is not followed either.
    let planned = f.outside.join("planted.csv");
    std::os::unix::fs::symlink(&planned, f.root.join("dangling.csv")).expect("symlink");
    for overwrite in [false, true] {
        assert!(write(&f.roots, "dangling.csv", Kind::Csv, b"pwned\n", overwrite).is_err());
    }
    assert!(
        !planned.exists(),
        "a file was created through a dangling symlink"
    );
    assert_eq!(listing(&f.outside), ["target.csv"]);
}

#[test]
fn a_hard_link_to_a_file_outside_is_never_written_through() {
    let f = fixture();
    let victim = f.outside.join("profile.csv");
    std::fs::write(&victim, "keep me\n").expect("victim");
    std::fs::hard_link(&victim, f.root.join("linked.csv")).expect("hard link");
    let err = write(&f.roots, "linked.csv", Kind::Csv, b"pwned\n", false).expect_err("exists");
    assert!(matches!(err, OutputError::Exists { .. }), "{err}");
    let err = write(&f.roots, "linked.csv", Kind::Csv, b"pwned\n", true).expect_err("nlink");
    assert!(err.to_string().contains("hard links"), "{err}");
    assert_eq!(std::fs::read(&victim).expect("read"), b"keep me\n");
    assert_eq!(listing(&f.root), ["linked.csv"]);
}

#[test]
fn a_directory_symlink_leaving_the_root_is_refused() {
    let f = fixture();
    std::os::unix::fs::symlink(&f.outside, f.root.join("escape")).expect("symlink");
    let err = write(&f.roots, "escape/x.csv", Kind::Csv, b"pwned\n", true).expect_err("outside");
    assert!(matches!(err, OutputError::Roots(_)), "{err}");
    assert!(listing(&f.outside).is_empty());
}

#[test]
fn a_directory_at_the_target_is_refused() {
    let f = fixture();
    std::fs::create_dir(f.root.join("dir.csv")).expect("dir");
    assert!(write(&f.roots, "dir.csv", Kind::Csv, b"x", true).is_err());
    assert!(write(&f.roots, "dir.csv", Kind::Csv, b"x", false).is_err());
    assert!(f.root.join("dir.csv").is_dir());
}

#[test]
fn formula_cells_are_neutralised() {
    for (cell, want) in [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+1+1", "'+1+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("$(touch /tmp/pwn)", "$(touch /tmp/pwn)"),
        ("Ada", "Ada"),
        ("", ""),
    ] {
        assert_eq!(csv_cell(cell), want, "{cell:?}");
    }
}
