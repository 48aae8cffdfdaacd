//! Reading order: glyphs become line fragments (same baseline, advancing
//! left to right), fragments on one baseline are joined, a recursive XY-cut
//! (a column gutter splits left from right, the widest horizontal gap splits
//! top from bottom) orders the regions, and vertical gaps and size changes
//! split each region into paragraphs. Spaces come from explicit space
//! glyphs and from horizontal gaps wider than a tenth of the font size, as
//! in pdftotext; letter-spaced runs are read by their own letter gap
//! ([`word_gap`], [`wide_tracking`]).

use super::content::{Char, PageContent};

/// A paragraph in reading order.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Paragraph {
    pub lines: Vec<String>,
    /// Average glyph size, for heading detection.
    pub size: f32,
}

/// A gap wider than this fraction of the font size is a word break.
const WORD_GAP: f32 = 0.1;
/// Letter spacing wider than this (in font sizes) is taken for word gaps.
const MAX_LETTER_GAP: f32 = 0.6;
/// How much wider than letter gaps word gaps must be to be told apart.
const MIN_WORD_JUMP: f32 = 0.12;
/// Letter gaps up to this (in font sizes) may be tracking; wider, they are
/// words (or columns).
const MAX_TRACKING: f32 = 2.0;
/// Tracked letter gaps vary by at most this factor.
const MAX_TRACKING_SPREAD: f32 = 1.3;
/// A word gap in tracked text is at least this factor of the letter gap.
const MIN_TRACKING_JUMP: f32 = 1.5;
/// A gap wider than this (in font sizes) ends a fragment.
const MAX_FRAGMENT_GAP: f32 = 2.5;
/// A horizontal gap narrower than this (in font sizes) is not a cut.
const MIN_CUT_GAP: f32 = 0.6;
/// Recursion depth of the XY-cut.
const MAX_CUT_DEPTH: usize = 48;

#[derive(Debug, Clone)]
struct Line {
    x0: f32,
    x1: f32,
    y: f32,
    size: f32,
    text: String,
    chars: usize,
}

impl Line {
    fn top(&self) -> f32 {
        self.y + 0.75 * self.size
    }
    fn bottom(&self) -> f32 {
        self.y - 0.25 * self.size
    }
}

/// Paragraphs of a page in reading order.
pub(super) fn paragraphs(page: &PageContent) -> Vec<Paragraph> {
    let mut out = Vec::new();
    for rot in [0u8, 1, 3, 2] {
        let chars: Vec<&Char> = page.chars.iter().filter(|c| c.rot == rot).collect();
        if chars.is_empty() {
            continue;
        }
        let lines = join_same_baseline(fragments(page, &chars));
        let mut leaves = Vec::new();
        let all: Vec<usize> = (0..lines.len()).collect();
        cut(&lines, all, 0, &mut leaves);
        for leaf in leaves {
            split_paragraphs(&lines, leaf, &mut out);
        }
    }
    out
}

/// Groups glyphs, in content-stream order, into fragments of one line.
fn fragments(page: &PageContent, chars: &[&Char]) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    // Per fragment, where a space may go.
    let mut breaks: Vec<Vec<Gap>> = Vec::new();
    let mut last: Option<&Char> = None;
    for &c in chars {
        let text = page.char_text(c);
        if let (Some(prev), Some(line), Some(gaps)) = (last, lines.last_mut(), breaks.last_mut()) {
            let size = prev.size.min(c.size).max(0.1);
            let gap = c.x0 - prev.x1;
            // A smaller glyph raised or lowered within the line's height
            // right after it is a superscript or subscript ("Network®",
            // "x²"): part of the line, as pdftotext reads it.
            let line_size = line.size / line.chars.max(1) as f32;
            let script = c.size <= 0.85 * line_size
                && c.y > line.y - 0.45 * line_size
                && c.y < line.y + 0.75 * line_size
                && gap < 0.5 * line_size;
            let same_line = (c.y - prev.y).abs() < 0.5 * size || script;
            let overlap = c.x0 < prev.x1 - 0.1 * size && c.x1 > prev.x0;
            if same_line
                && overlap
                && let Some(composed) = compose(page.char_text(prev), text)
                && line.text.ends_with(page.char_text(prev))
            {
                line.text
                    .truncate(line.text.len() - page.char_text(prev).len());
                line.text.push(composed);
                line.x1 = line.x1.max(c.x1);
                last = Some(c);
                continue;
            }
            if same_line && gap > -0.6 * size && gap < MAX_FRAGMENT_GAP * size.max(c.size) {
                let letters = page
                    .char_text(prev)
                    .chars()
                    .last()
                    .is_some_and(char::is_alphanumeric)
                    && text.chars().next().is_some_and(char::is_alphanumeric);
                gaps.push(Gap {
                    at: line.text.len(),
                    width: gap / size,
                    explicit: c.space_before,
                    letters,
                });
                line.text.push_str(text);
                line.x1 = line.x1.max(c.x1);
                line.size += c.size;
                line.chars += 1;
                last = Some(c);
                continue;
            }
        }
        lines.push(Line {
            x0: c.x0,
            x1: c.x1,
            y: c.y,
            size: c.size,
            text: text.to_owned(),
            chars: 1,
        });
        breaks.push(Vec::new());
        last = Some(c);
    }
    for (line, gaps) in lines.iter_mut().zip(breaks) {
        line.size /= line.chars.max(1) as f32;
        if gaps.is_empty() {
            continue;
        }
        let threshold = word_gap(&gaps);
        let mut text = String::with_capacity(line.text.len() + gaps.len());
        let mut from = 0;
        for Gap {
            at,
            width: gap,
            explicit,
            ..
        } in gaps
        {
            if explicit || gap > threshold {
                text.push_str(line.text.get(from..at).unwrap_or(""));
                text.push(' ');
                from = at;
            }
        }
        text.push_str(line.text.get(from..).unwrap_or(""));
        line.text = text;
    }
    lines
}

/// A place in a fragment where a space may go.
#[derive(Debug, Clone, Copy)]
struct Gap {
    /// Byte offset in the fragment's text.
    at: usize,
    /// The horizontal gap, in font sizes.
    width: f32,
    /// An explicit space glyph came before.
    explicit: bool,
    /// Between two letters or digits (not punctuation: a leader's dots).
    letters: bool,
}

/// The gap (in font sizes) above which glyphs of one fragment are separate
/// words. Normally a tenth of the font size, as in pdftotext. When most
/// gaps between letters are wider than that, the text is letter-spaced or
/// placed glyph by glyph (OCR layers whose font is narrower than the
/// scanned letters, or that stretch words with character spacing): the word
/// gaps are then the clearly wider ones, found at the first clear jump
/// between the sorted gaps above the median; when the producer marks words
/// with space glyphs and no gap stands out, only those and gaps twice the
/// usual one count. Only gaps between letters and digits tell letter
/// spacing: a table of contents' dot leader (TeX sets its dots a sixth of
/// an em apart) would otherwise pass for tracking and glue the entry's
/// words together.
fn word_gap(gaps: &[Gap]) -> f32 {
    let mut widths: Vec<f32> = gaps
        .iter()
        .filter(|g| !g.explicit && g.letters && g.width.is_finite())
        .map(|g| g.width)
        .collect();
    if widths.len() < 3 {
        return WORD_GAP;
    }
    widths.sort_by(f32::total_cmp);
    let median = widths[widths.len() / 2];
    if median > MAX_LETTER_GAP {
        return wide_tracking(gaps, &widths, median).unwrap_or(WORD_GAP);
    }
    if median <= WORD_GAP {
        return WORD_GAP;
    }
    let jump = widths[widths.len() / 2..]
        .windows(2)
        .find(|w| w[1] - w[0] >= MIN_WORD_JUMP)
        .map(|w| (w[0] + w[1]) / 2.0);
    if let Some(at) = jump {
        at
    } else if gaps.iter().any(|g| g.explicit) {
        (2.0 * median).max(median + MIN_WORD_JUMP)
    } else {
        WORD_GAP
    }
}

/// Wide tracking (letters set an em or more apart: spaced-out titles,
/// headings, posters), told from words set that far apart by the gaps
/// themselves: the letter gaps are alike (within [`MAX_TRACKING_SPREAD`]
/// of each other), and the word gaps are either space glyphs or clearly
/// wider than the median (by [`MIN_TRACKING_JUMP`]). Then the threshold
/// lies between the two; otherwise `None` (uniform wide gaps may just as
/// well be words in columns).
fn wide_tracking(gaps: &[Gap], widths: &[f32], median: f32) -> Option<f32> {
    if median > MAX_TRACKING {
        return None;
    }
    let (low, high) = (widths[widths.len() / 10], widths[widths.len() * 9 / 10]);
    let explicit = gaps.iter().any(|g| g.explicit);
    let jump = widths[widths.len() / 2..]
        .windows(2)
        .find(|w| w[1] >= w[0] * MIN_TRACKING_JUMP)
        .map(|w| (w[0] + w[1]) / 2.0);
    match jump {
        Some(at) => {
            let letters: Vec<f32> = widths.iter().copied().filter(|w| *w < at).collect();
            let (first, last) = (letters.first()?, letters.last()?);
            (*last <= *first * MAX_TRACKING_SPREAD).then_some(at)
        }
        None if explicit && high <= low * MAX_TRACKING_SPREAD => {
            Some(widths.last()? + MIN_WORD_JUMP)
        }
        None => None,
    }
}

/// The letter an accent glyph and a letter drawn over each other make
/// (TeX sets `\'e` as an acute accent over an e), in either order.
fn compose(first: &str, second: &str) -> Option<char> {
    let single = |s: &str| {
        let mut chars = s.chars();
        let c = chars.next()?;
        chars.next().is_none().then_some(c)
    };
    let (a, b) = (single(first)?, single(second)?);
    super::accents::ACCENTED
        .iter()
        .find(|&&(base, accent, _)| (a == accent && b == base) || (a == base && b == accent))
        .map(|&(_, _, composed)| composed)
}

/// Joins fragments that continue each other on one baseline (text drawn
/// out of order, a word set in another font later).
fn join_same_baseline(mut lines: Vec<Line>) -> Vec<Line> {
    lines.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x0.total_cmp(&b.x0)));
    let mut out: Vec<Line> = Vec::with_capacity(lines.len());
    let mut band_start = 0;
    for line in lines {
        // Candidates: lines already placed on the same baseline.
        while band_start < out.len() && out[band_start].y - line.y > 0.5 * line.size {
            band_start += 1;
        }
        // Text drawn twice at (almost) the same place, as fake bold or a
        // shadow: keep one copy, as pdftotext does.
        let duplicate = out[band_start..].iter().any(|o| {
            let size = o.size.min(line.size);
            (o.y - line.y).abs() < 0.2 * size
                && (o.x0 - line.x0).abs() < 0.2 * size
                && o.text == line.text
        });
        if duplicate {
            continue;
        }
        let target = out[band_start..].iter_mut().find(|o| {
            let size = o.size.min(line.size);
            (o.y - line.y).abs() < 0.3 * size && {
                let gap = line.x0 - o.x1;
                gap > -0.3 * size && gap < 1.0 * size
            }
        });
        match target {
            Some(o) => {
                if line.x0 - o.x1 > WORD_GAP * o.size.min(line.size) {
                    o.text.push(' ');
                }
                o.text.push_str(&line.text);
                o.size = (o.size * o.chars as f32 + line.size * line.chars as f32)
                    / (o.chars + line.chars) as f32;
                o.chars += line.chars;
                o.x1 = o.x1.max(line.x1);
            }
            None => out.push(line),
        }
    }
    out
}

/// Recursive XY-cut: pushes groups of line indices in reading order.
fn cut(lines: &[Line], mut set: Vec<usize>, depth: usize, leaves: &mut Vec<Vec<usize>>) {
    if set.len() <= 1 || depth >= MAX_CUT_DEPTH {
        leaves.push(set);
        return;
    }
    let mut sizes: Vec<f32> = set.iter().map(|&i| lines[i].size).collect();
    sizes.sort_by(f32::total_cmp);
    let size = sizes[sizes.len() / 2].max(1.0);

    // Vertical cut: a gutter no line crosses, with real text on both sides.
    set.sort_by(|&a, &b| lines[a].x0.total_cmp(&lines[b].x0));
    let (min_x, max_x1) = (
        lines[set[0]].x0,
        set.iter().map(|&i| lines[i].x1).fold(f32::MIN, f32::max),
    );
    let mut best: Option<(f32, usize)> = None;
    let mut reach = f32::MIN;
    for (k, &i) in set.iter().enumerate() {
        if k > 0 {
            let gap = lines[i].x0 - reach;
            let left_width = reach - min_x;
            let right_width = max_x1 - lines[i].x0;
            if gap > 0.9 * size
                && left_width > 3.0 * size
                && right_width > 3.0 * size
                && best.is_none_or(|(g, _)| gap > g)
            {
                best = Some((gap, k));
            }
        }
        reach = reach.max(lines[i].x1);
    }
    if let Some((_, k)) = best {
        let right = set.split_off(k);
        cut(lines, set, depth + 1, leaves);
        cut(lines, right, depth + 1, leaves);
        return;
    }

    // Horizontal cuts at the widest gaps between lines.
    set.sort_by(|&a, &b| lines[b].top().total_cmp(&lines[a].top()));
    let mut gaps: Vec<(usize, f32)> = Vec::new();
    let mut floor = f32::MAX;
    for (k, &i) in set.iter().enumerate() {
        if k > 0 && lines[i].top() < floor {
            gaps.push((k, floor - lines[i].top()));
        }
        floor = floor.min(lines[i].bottom());
    }
    let widest = gaps.iter().map(|g| g.1).fold(0.0, f32::max);
    // Gaps between the lines of one paragraph are not cuts; paragraphs are
    // split later, inside a region.
    if gaps.is_empty() || widest < MIN_CUT_GAP * size {
        leaves.push(set);
        return;
    }
    let mut start = 0;
    let mut parts = Vec::new();
    for &(k, g) in &gaps {
        if g >= 0.9 * widest {
            parts.push(set[start..k].to_vec());
            start = k;
        }
    }
    parts.push(set[start..].to_vec());
    if parts.len() == 1 {
        leaves.push(set);
        return;
    }
    for part in parts {
        cut(lines, part, depth + 1, leaves);
    }
}

/// Splits a region's lines (top to bottom) into paragraphs at wide
/// vertical gaps and font-size changes.
fn split_paragraphs(lines: &[Line], mut set: Vec<usize>, out: &mut Vec<Paragraph>) {
    // Top to bottom, then left to right within a band of nearly equal
    // baselines. A comparator with a tolerance is not a total order (the
    // standard sort may panic on it), so: a total order first, then each
    // band re-sorted by x.
    set.sort_by(|&a, &b| {
        lines[b]
            .y
            .total_cmp(&lines[a].y)
            .then(lines[a].x0.total_cmp(&lines[b].x0))
    });
    let mut start = 0;
    while start < set.len() {
        let first = &lines[set[start]];
        let mut end = start + 1;
        while end < set.len() && {
            let line = &lines[set[end]];
            (first.y - line.y).abs() < 0.3 * first.size.min(line.size)
        } {
            end += 1;
        }
        set[start..end].sort_by(|&a, &b| lines[a].x0.total_cmp(&lines[b].x0));
        start = end;
    }
    // Merge lines sharing a baseline (side by side) into one output line.
    let mut rows: Vec<Line> = Vec::new();
    for &i in &set {
        let line = &lines[i];
        match rows.last_mut() {
            Some(row) if (row.y - line.y).abs() < 0.3 * row.size.min(line.size) => {
                row.text.push(' ');
                row.text.push_str(&line.text);
                row.x1 = row.x1.max(line.x1);
                row.chars += line.chars;
            }
            _ => rows.push(line.clone()),
        }
    }
    for row in &mut rows {
        if let Some(text) = logical_order(&row.text) {
            row.text = text;
        }
    }
    let mut spacings: Vec<f32> = rows
        .windows(2)
        .map(|w| w[0].y - w[1].y)
        .filter(|d| *d > 0.0)
        .collect();
    spacings.sort_by(f32::total_cmp);
    let typical = spacings.get(spacings.len() / 2).copied();
    let mut current: Option<(Paragraph, f32, usize)> = None;
    let mut prev: Option<&Line> = None;
    for row in &rows {
        let new_paragraph = match prev {
            None => true,
            Some(p) => {
                let d = p.y - row.y;
                let size = p.size.max(row.size);
                let normal = typical.unwrap_or(1.2 * size).clamp(0.9 * size, 2.5 * size);
                d > normal * 1.35 || d < 0.0 || (p.size - row.size).abs() > 0.15 * size
            }
        };
        if new_paragraph && let Some((p, weight, n)) = current.take() {
            out.push(finish(p, weight, n));
        }
        let (para, weight, n) = current.get_or_insert_with(|| {
            (
                Paragraph {
                    lines: Vec::new(),
                    size: 0.0,
                },
                0.0,
                0,
            )
        });
        match para.lines.last_mut() {
            // A word hyphenated across lines is joined, as pdftotext does.
            Some(last) if hyphenated(last) && row.text.starts_with(char::is_alphabetic) => {
                last.pop();
                last.push_str(&row.text);
            }
            _ => para.lines.push(row.text.clone()),
        }
        *weight += row.size * row.chars as f32;
        *n += row.chars;
        prev = Some(row);
    }
    if let Some((p, weight, n)) = current {
        out.push(finish(p, weight, n));
    }
}

/// Whether a line ends in a hyphen that follows a letter.
fn hyphenated(line: &str) -> bool {
    let mut chars = line.chars().rev();
    matches!(chars.next(), Some('-' | '\u{2010}' | '\u{AD}'))
        && chars.next().is_some_and(char::is_alphabetic)
}

fn finish(mut p: Paragraph, weight: f32, n: usize) -> Paragraph {
    p.size = weight / n.max(1) as f32;
    p
}

/// A line drawn left to right (visual order) in logical order, when it
/// holds right-to-left text (Arabic, Hebrew): the Unicode bidi algorithm
/// reverses the right-to-left runs back. The paragraph direction is that of
/// most strong characters (a Hebrew line that shows a Latin word first is
/// still a Hebrew line). `None` when the line has no right-to-left text.
fn logical_order(text: &str) -> Option<String> {
    use unicode_bidi::{BidiClass, BidiInfo, Level, bidi_class};
    let (mut rtl, mut ltr) = (0usize, 0usize);
    for c in text.chars() {
        match bidi_class(c) {
            BidiClass::R | BidiClass::AL => rtl += 1,
            BidiClass::L => ltr += 1,
            _ => {}
        }
    }
    if rtl == 0 {
        return None;
    }
    let level = if rtl >= ltr {
        Level::rtl()
    } else {
        Level::ltr()
    };
    let info = BidiInfo::new(text, Some(level));
    let mut out = String::with_capacity(text.len());
    for paragraph in &info.paragraphs {
        out.push_str(&info.reorder_line(paragraph, paragraph.range.clone()));
    }
    Some(out)
}
