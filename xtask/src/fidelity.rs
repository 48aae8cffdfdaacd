//! `cargo xtask fidelity pdf DIR`: text fidelity and speed of the docparse
//! PDF engine against poppler's `pdftotext` (default mode, no `-layout`)
//! on every `*.pdf` in DIR.
//!
//! Similarity is character-level: both texts are split into pages at form
//! feeds, ligatures are expanded and every whitespace run becomes one
//! space; per page the Levenshtein distance is computed (Myers/Hyyrö
//! bit-parallel, so whole books stay fast), and a file's similarity is
//! `1 - Σ distance / Σ max(len)`. Word-F1 ignores order: both texts become
//! multisets of words (same normalisation), precision and recall count the
//! words in common, and F1 is their harmonic mean; the run reports the
//! median and the 10th percentile over files of both measures, and the
//! errors (a file docparse refuses scores 0). Throughput is pages per
//! second of wall time: pdftotext as a process per file, docparse
//! in-process (parse and render), both single-threaded.
//!
//! pdftotext is a reference, not the truth: it joins glyph runs that are
//! drawn apart (sample rows in font specimens), splits Arabic harakat off
//! their letters and garbles scripts it cannot map. So where a PDF's own
//! source ships beside it (`NAME.pdf.source.EXT`: the OpenDocument,
//! InDesign, Word or HTML file a font package's documentation was printed
//! from; `fidelity corpus` puts them there), both docparse and pdftotext are
//! also scored against the authors' text (word F1 over letter-and-mark
//! words, `fidelity_docs::words`), side by side.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use ffmcp_docparse::{
    ParseOptions,
    model::Block,
    render::{OutputFormat, render, render_blocks},
};

struct Row {
    name: String,
    pages: u32,
    similarity: f64,
    word_f1: f64,
    ours: Duration,
    theirs: Duration,
    error: Option<String>,
}

pub fn pdf(dir: &Path) -> anyhow::Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf")))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no *.pdf files in {}", dir.display());
    }
    let mut rows = Vec::new();
    let mut refused = 0;
    // (docparse, pdftotext) word F1 against the PDF's own source.
    let mut sourced: Vec<(f64, f64)> = Vec::new();
    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(path)?;
        let started = Instant::now();
        let output = Command::new("pdftotext")
            .args(["-enc", "UTF-8"])
            .arg(path)
            .arg("-")
            .output()
            .context("running pdftotext (apt-get install poppler-utils)")?;
        let theirs = started.elapsed();
        let reference = String::from_utf8_lossy(&output.stdout).into_owned();
        // pdftotext refuses it too (a user password, a broken file): no
        // reference to score against; listed, not counted.
        if !output.status.success() {
            let ours = ffmcp_docparse::formats::pdf::parse(&bytes, &ParseOptions::default());
            println!(
                "{name:<40} refused by pdftotext ({}); docparse: {}",
                String::from_utf8_lossy(&output.stderr)
                    .lines()
                    .last()
                    .unwrap_or_default(),
                match ours {
                    Ok(_) => "read".to_owned(),
                    Err(e) => format!("refused too ({e})"),
                }
            );
            refused += 1;
            continue;
        }
        let started = Instant::now();
        let parsed = ffmcp_docparse::formats::pdf::parse(&bytes, &ParseOptions::default());
        let (ours_text, pages, error) = match parsed {
            Ok(doc) => (paged_text(&doc), doc.metadata.pages.unwrap_or(0), None),
            Err(e) => (String::new(), 0, Some(e.to_string())),
        };
        let ours = started.elapsed();
        let similarity = similarity(&ours_text, &reference);
        let word_f1 = word_f1(&ours_text, &reference);
        if let Some(source) = source_text(path)? {
            let source = crate::fidelity_docs::words(&source);
            let f1 = |text: &str| {
                let (recall, precision) =
                    crate::fidelity_docs::overlap(&source, &crate::fidelity_docs::words(text));
                if recall + precision == 0.0 {
                    0.0
                } else {
                    2.0 * recall * precision / (recall + precision)
                }
            };
            let (ours_f1, theirs_f1) = (f1(&ours_text), f1(&reference));
            println!(
                "{name:<40} against its source: docparse {ours_f1:.4}  pdftotext {theirs_f1:.4}"
            );
            sourced.push((ours_f1, theirs_f1));
        }
        println!(
            "{name:<40} {pages:>5} pages  similarity {similarity:.4}  word-F1 {word_f1:.4}  ours {:>8.1} ms  pdftotext {:>8.1} ms{}",
            ours.as_secs_f64() * 1000.0,
            theirs.as_secs_f64() * 1000.0,
            error
                .as_deref()
                .map(|e| format!("  ERROR {e}"))
                .unwrap_or_default()
        );
        rows.push(Row {
            name,
            pages,
            similarity,
            word_f1,
            ours,
            theirs,
            error,
        });
    }
    let (median, p10) = median_p10(rows.iter().map(|r| r.similarity).collect());
    let (f1_median, f1_p10) = median_p10(rows.iter().map(|r| r.word_f1).collect());
    let worst = rows
        .iter()
        .min_by(|a, b| a.similarity.total_cmp(&b.similarity))
        .context("no rows")?;
    let pages: u32 = rows.iter().map(|r| r.pages).sum();
    let ours: f64 = rows.iter().map(|r| r.ours.as_secs_f64()).sum();
    let theirs: f64 = rows.iter().map(|r| r.theirs.as_secs_f64()).sum();
    println!();
    println!(
        "files {}  errors {}  (and {refused} that pdftotext refuses, not counted)",
        rows.len(),
        rows.iter().filter(|r| r.error.is_some()).count()
    );
    println!(
        "similarity median {median:.4}  p10 {p10:.4}  worst {:.4} ({})",
        worst.similarity, worst.name
    );
    let worst_f1 = rows
        .iter()
        .min_by(|a, b| a.word_f1.total_cmp(&b.word_f1))
        .context("no rows")?;
    println!(
        "word-F1 median {f1_median:.4}  p10 {f1_p10:.4}  worst {:.4} ({})",
        worst_f1.word_f1, worst_f1.name
    );
    if !sourced.is_empty() {
        let (ours_median, ours_p10) = median_p10(sourced.iter().map(|s| s.0).collect());
        let (theirs_median, theirs_p10) = median_p10(sourced.iter().map(|s| s.1).collect());
        let mean = |v: &dyn Fn(&(f64, f64)) -> f64| {
            sourced.iter().map(v).sum::<f64>() / sourced.len() as f64
        };
        println!(
            "against the authors' sources ({} files): docparse word-F1 median {ours_median:.4} p10 {ours_p10:.4} mean {:.4}; pdftotext median {theirs_median:.4} p10 {theirs_p10:.4} mean {:.4}; docparse at least as close on {} files",
            sourced.len(),
            mean(&|s| s.0),
            mean(&|s| s.1),
            sourced.iter().filter(|s| s.0 >= s.1 - 1e-9).count()
        );
    }
    println!(
        "throughput: docparse {:.0} pages/s, pdftotext {:.0} pages/s ({pages} pages; ratio {:.2}x)",
        f64::from(pages) / ours.max(1e-9),
        f64::from(pages) / theirs.max(1e-9),
        theirs / ours.max(1e-9)
    );
    if let Some(biggest) = files
        .iter()
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
    {
        let exe = std::env::current_exe()?;
        let out = Command::new(exe)
            .args(["fidelity", "rss"])
            .arg(biggest)
            .output()?;
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
    Ok(())
}

/// The text of the document `pdf` was printed from, when it ships beside
/// it as `NAME.pdf.source.EXT` (read by `fidelity_reference.py --source`).
fn source_text(pdf: &Path) -> anyhow::Result<Option<String>> {
    let has_source = ["odt", "idml", "docx", "html"]
        .iter()
        .any(|ext| Path::new(&format!("{}.source.{ext}", pdf.display())).is_file());
    if !has_source {
        return Ok(None);
    }
    let out = Command::new("python3")
        .arg(crate::fidelity_docs::root().join("xtask/bench/fidelity_reference.py"))
        .arg("--source")
        .arg(pdf)
        .output()
        .context("running fidelity_reference.py --source")?;
    if !out.status.success() {
        bail!(
            "reading the source of {}: {}",
            pdf.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// The document's plain text with one form feed per page, blank pages
/// included (the renderer drops leading empty pages, which would shift the
/// page alignment with pdftotext). The "Form fields" table after the pages
/// is left out: pdftotext has no counterpart (it draws the widgets'
/// appearances in place instead), so its field names would count as noise.
fn paged_text(doc: &ffmcp_docparse::Document) -> String {
    let mut out = String::new();
    let mut page: Vec<Block> = Vec::new();
    let fields = doc.blocks.iter().position(|b| {
        matches!(b, Block::Table(t) if t.name.as_deref() == Some("Form fields") && t.page.is_none())
    });
    let end = match fields {
        // The table and its heading.
        Some(at) => at.saturating_sub(1),
        None => doc.blocks.len(),
    };
    let flush = |page: &mut Vec<Block>, out: &mut String| {
        if !page.is_empty() {
            out.push_str(&render_blocks(page, OutputFormat::Text));
            out.push('\u{c}');
            page.clear();
        }
    };
    for block in &doc.blocks[..end] {
        if matches!(block, Block::PageBreak { .. }) {
            flush(&mut page, &mut out);
        }
        page.push(block.clone());
    }
    flush(&mut page, &mut out);
    out
}

/// Prints docparse's plain text of one file (to diff against pdftotext).
pub fn text(path: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(path)?;
    let doc = ffmcp_docparse::formats::pdf::parse(&bytes, &ParseOptions::default())?;
    print!("{}", render(&doc, OutputFormat::Text));
    for warning in &doc.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(())
}

/// Parses one file and prints the peak resident set size of this process.
pub fn rss(path: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(path)?;
    let doc = ffmcp_docparse::formats::pdf::parse(&bytes, &ParseOptions::default())?;
    let text = render(&doc, OutputFormat::Text);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    println!(
        "peak RSS parsing {} ({} pages, {} chars of text, input {} bytes): {peak}",
        path.display(),
        doc.metadata.pages.unwrap_or(0),
        text.chars().count(),
        bytes.len()
    );
    Ok(())
}

/// Normalised page texts: ligatures expanded, directional marks dropped,
/// whitespace runs as one space.
fn pages(text: &str) -> Vec<Vec<char>> {
    let mut pages: Vec<Vec<char>> = text
        .split('\u{c}')
        .map(|page| {
            let mut out = Vec::new();
            for word in page.split_whitespace() {
                if !out.is_empty() {
                    out.push(' ');
                }
                for c in word.chars() {
                    match c {
                        '\u{FB00}' => out.extend("ff".chars()),
                        '\u{FB01}' => out.extend("fi".chars()),
                        '\u{FB02}' => out.extend("fl".chars()),
                        '\u{FB03}' => out.extend("ffi".chars()),
                        '\u{FB04}' => out.extend("ffl".chars()),
                        // Directional marks pdftotext puts around
                        // right-to-left text: invisible, not content.
                        '\u{200E}'
                        | '\u{200F}'
                        | '\u{202A}'..='\u{202E}'
                        | '\u{2066}'..='\u{2069}' => {}
                        c => out.push(c),
                    }
                }
            }
            out
        })
        .collect();
    while pages.last().is_some_and(Vec::is_empty) {
        pages.pop();
    }
    pages
}

/// The median and the 10th percentile (nearest rank) of `values`.
fn median_p10(mut values: Vec<f64>) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    };
    let rank = (n as f64 * 0.1).ceil() as usize;
    (median, values[rank.clamp(1, n) - 1])
}

/// Bag-of-words F1 of `ours` against `reference` (1 when both are empty).
fn word_f1(ours: &str, reference: &str) -> f64 {
    let bag = |text: &str| {
        let mut words: HashMap<String, usize> = HashMap::new();
        for page in pages(text) {
            let page: String = page.into_iter().collect();
            for word in page.split(' ').filter(|w| !w.is_empty()) {
                *words.entry(word.to_owned()).or_default() += 1;
            }
        }
        words
    };
    let (a, b) = (bag(ours), bag(reference));
    let (total_a, total_b) = (a.values().sum::<usize>(), b.values().sum::<usize>());
    if total_a == 0 && total_b == 0 {
        return 1.0;
    }
    let common: usize = a
        .iter()
        .map(|(w, n)| (*n).min(b.get(w).copied().unwrap_or(0)))
        .sum();
    if common == 0 {
        return 0.0;
    }
    let precision = common as f64 / total_a as f64;
    let recall = common as f64 / total_b as f64;
    2.0 * precision * recall / (precision + recall)
}

/// `1 - distance / max(len)` over pages.
fn similarity(ours: &str, reference: &str) -> f64 {
    let (a, b) = (pages(ours), pages(reference));
    let (mut distance, mut total) = (0usize, 0usize);
    if a.len() == b.len() {
        for (x, y) in a.iter().zip(&b) {
            distance += levenshtein(x, y);
            total += x.len().max(y.len());
        }
    } else {
        let x: Vec<char> = a.join(&' ');
        let y: Vec<char> = b.join(&' ');
        distance = levenshtein(&x, &y);
        total = x.len().max(y.len());
    }
    if total == 0 {
        1.0
    } else {
        1.0 - distance as f64 / total as f64
    }
}

/// Levenshtein distance, Myers' bit-vector algorithm in Hyyrö's blocked
/// form: O(len(a) · len(b) / 64).
fn levenshtein(a: &[char], b: &[char]) -> usize {
    if a.is_empty() {
        return b.len();
    }
    if b.is_empty() {
        return a.len();
    }
    let m = a.len();
    let blocks = m.div_ceil(64);
    let mut alphabet: HashMap<char, usize> = HashMap::new();
    for &c in a {
        let next = alphabet.len();
        alphabet.entry(c).or_insert(next);
    }
    let mut peq = vec![0u64; alphabet.len() * blocks];
    for (i, c) in a.iter().enumerate() {
        peq[alphabet[c] * blocks + i / 64] |= 1 << (i % 64);
    }
    let mut pv = vec![u64::MAX; blocks];
    let mut mv = vec![0u64; blocks];
    let last_bit = 1u64 << ((m - 1) % 64);
    let mut score = m;
    for c in b {
        let row = alphabet.get(c).map(|&i| &peq[i * blocks..(i + 1) * blocks]);
        let mut hin: i32 = 1;
        for k in 0..blocks {
            let eq0 = row.map_or(0, |r| r[k]);
            let (p, mm) = (pv[k], mv[k]);
            let xv = eq0 | mm;
            let eq = eq0 | u64::from(hin < 0);
            let xh = ((eq & p).wrapping_add(p) ^ p) | eq;
            let mut ph = mm | !(xh | p);
            let mut mh = p & xh;
            let top = if k == blocks - 1 { last_bit } else { 1 << 63 };
            let hout = if ph & top != 0 {
                1
            } else if mh & top != 0 {
                -1
            } else {
                0
            };
            ph <<= 1;
            mh <<= 1;
            if hin < 0 {
                mh |= 1;
            } else if hin > 0 {
                ph |= 1;
            }
            pv[k] = mh | !(xv | ph);
            mv[k] = ph & xv;
            hin = hout;
        }
        score = (score as i64 + i64::from(hin)) as usize;
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[char], b: &[char]) -> usize {
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.iter().enumerate() {
            let mut cur = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                cur.push(
                    (prev[j] + usize::from(ca != cb))
                        .min(prev[j + 1] + 1)
                        .min(cur[j] + 1),
                );
            }
            prev = cur;
        }
        prev[b.len()]
    }

    #[test]
    fn bit_parallel_matches_naive() {
        let mut seed = 7u64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200 {
            let la = (rand() % 200) as usize;
            let lb = (rand() % 200) as usize;
            let a: Vec<char> = (0..la)
                .map(|_| (b'a' + (rand() % 4) as u8) as char)
                .collect();
            let b: Vec<char> = (0..lb)
                .map(|_| (b'a' + (rand() % 4) as u8) as char)
                .collect();
            assert_eq!(levenshtein(&a, &b), naive(&a, &b), "{a:?} {b:?}");
        }
    }

    #[test]
    fn word_f1_counts_words_in_common() {
        assert_eq!(word_f1("b a \u{FB01}ne", "fine a b"), 1.0);
        assert_eq!(word_f1("", ""), 1.0);
        assert_eq!(word_f1("x", "y"), 0.0);
        // Precision 1/2, recall 1/1.
        assert!((word_f1("a b", "a") - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(median_p10((1..=20).map(f64::from).collect()), (10.5, 2.0));
    }

    #[test]
    fn similarity_ignores_whitespace_and_ligatures() {
        assert_eq!(
            similarity("a  \u{FB01}ne\n day\n\u{c}", "a fine day\u{c}"),
            1.0
        );
    }
}
