//! DOCX (WordprocessingML): body paragraphs in order; headings from
//! paragraph styles (names, `basedOn` chains, outline levels); lists from
//! numbering; tables with merged cells kept as the first cell's value and
//! nested tables flattened into their cell; bold/italic/monospace runs;
//! hyperlinks (relationships and `HYPERLINK` fields); footnotes and endnotes
//! as `[^n]`; line and page breaks; tracked deletions, field codes and
//! hidden text dropped; `docProps` metadata.

use std::collections::HashMap;

use super::{
    docx_styles::{Numbering, Styles, is_monospace},
    ooxml::{self, Rel, build_list, merge_spans},
    xml::{XmlEvent, XmlReader, attr, local, on_off},
    zipsafe::ZipSafe,
};
use crate::{
    DocError, Document, ParseOptions,
    model::{Block, Inline, OutlineEntry, Span, Table, inline_text},
};

const FORMAT: &str = "docx";
/// Marks a page break inside a paragraph's spans until it is split.
const PAGE_MARK: &str = "\u{c}";

/// Parses a DOCX document.
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Document, DocError> {
    let mut zip = ZipSafe::new(bytes, &options.limits)?;
    let main = ooxml::main_part(&mut zip, "word/document.xml", FORMAT, options)?;
    let Some(xml) = zip.read(&main)? else {
        return Err(DocError::malformed(
            FORMAT,
            format!("the package has no main document part ('{main}')"),
        ));
    };
    ooxml::expect_root(&xml, &main, b"document", FORMAT, options)?;
    let rels = ooxml::rels(&mut zip, &main, FORMAT, options)?;
    let part_of = |kind: &str, fallback: &str| {
        rels.values()
            .find(|r| r.kind == kind && !r.external)
            .map_or_else(|| fallback.to_owned(), |r| r.target.clone())
    };
    let styles = match zip.read(&part_of("styles", "word/styles.xml"))? {
        Some(b) => Styles::parse(&b, options)?,
        None => Styles::default(),
    };
    let numbering = match zip.read(&part_of("numbering", "word/numbering.xml"))? {
        Some(b) => Numbering::parse(&b, options)?,
        None => Numbering::default(),
    };
    let mut doc = Document::default();
    ooxml::properties(&mut zip, &mut doc.metadata, FORMAT, options)?;
    options.checkpoint(0, 1)?;

    let context = Context {
        styles: &styles,
        numbering: &numbering,
        options,
    };
    let mut body = Walker::new(&context, &rels);
    body.walk(&xml, &main)?;
    let note_refs = std::mem::take(&mut body.note_refs);
    let hidden_entities = body.hidden_entities;
    doc.blocks = body.finish();

    // Notes, in the order the text references them, renumbered 1..n.
    let mut notes: HashMap<(bool, String), Inline> = HashMap::new();
    for (endnote, kind, fallback) in [
        (false, "footnotes", "word/footnotes.xml"),
        (true, "endnotes", "word/endnotes.xml"),
    ] {
        let part = part_of(kind, fallback);
        let Some(bytes) = zip.read(&part)? else {
            continue;
        };
        let part_rels = ooxml::rels(&mut zip, &part, FORMAT, options)?;
        let mut walker = Walker::new(&context, &part_rels);
        walker.walk(&bytes, &part)?;
        for (id, content) in walker.notes {
            notes.insert((endnote, id), content);
        }
    }
    for (number, key) in note_refs.iter().enumerate() {
        if let Some(content) = notes.remove(key) {
            doc.blocks.push(Block::Footnote {
                id: (number + 1).to_string(),
                content,
            });
        }
    }
    doc.outline = doc
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading { level, content } => Some(OutlineEntry {
                level: *level,
                title: inline_text(content).trim().to_owned(),
                page: None,
            }),
            _ => None,
        })
        .collect();
    doc.warnings.append(&mut zip.warnings);
    if hidden_entities > 0 {
        doc.warnings.push(format!(
            "{hidden_entities} references to DTD-declared entities were not expanded"
        ));
    }
    options.checkpoint(1, 1)?;
    Ok(doc)
}

struct Context<'a> {
    styles: &'a Styles,
    numbering: &'a Numbering,
    options: &'a ParseOptions,
}

/// A paragraph being read.
#[derive(Default)]
struct Para {
    style: Option<String>,
    num: Option<(String, u8)>,
    outline: Option<u8>,
    page_break_before: bool,
    spans: Vec<Span>,
    images: Vec<String>,
}

/// Formatting of the run being read.
#[derive(Default, Clone)]
struct Run {
    bold: bool,
    italic: bool,
    code: bool,
    hidden: bool,
}

/// A table being read; only the outermost keeps structure.
#[derive(Default)]
struct TableState {
    rows: Vec<Vec<String>>,
    row: Vec<String>,
    cell: Vec<String>,
    span: usize,
}

/// A complex field (`fldChar` begin .. separate .. end).
#[derive(Default)]
struct Field {
    instr: String,
    in_result: bool,
}

/// Walks one WordprocessingML part (document, footnotes or endnotes).
struct Walker<'c> {
    cx: &'c Context<'c>,
    rels: &'c HashMap<String, Rel>,
    out: Vec<Block>,
    list: Vec<(u8, bool, Inline)>,
    code: Vec<String>,
    paras: Vec<Para>,
    deferred: Vec<Block>,
    tables: Vec<TableState>,
    run: Run,
    links: Vec<Option<String>>,
    fields: Vec<Field>,
    page: u32,
    chars: usize,
    /// Footnote/endnote references in text order: (is endnote, id).
    note_refs: Vec<(bool, String)>,
    /// In a notes part: each note's content by id.
    notes: Vec<(String, Inline)>,
    note_start: Option<(String, usize)>,
    hidden_entities: usize,
}

impl<'c> Walker<'c> {
    fn new(cx: &'c Context<'c>, rels: &'c HashMap<String, Rel>) -> Self {
        Self {
            cx,
            rels,
            out: Vec::new(),
            list: Vec::new(),
            code: Vec::new(),
            paras: Vec::new(),
            deferred: Vec::new(),
            tables: Vec::new(),
            run: Run::default(),
            links: Vec::new(),
            fields: Vec::new(),
            page: 1,
            chars: 0,
            note_refs: Vec::new(),
            notes: Vec::new(),
            note_start: None,
            hidden_entities: 0,
        }
    }

    fn walk(&mut self, bytes: &[u8], part: &str) -> Result<(), DocError> {
        let mut reader = XmlReader::new(bytes, FORMAT, part, self.cx.options);
        loop {
            let event = reader.event()?;
            match event {
                XmlEvent::Start(e) => self.start(&mut reader, &e, false)?,
                XmlEvent::Empty(e) => self.start(&mut reader, &e, true)?,
                XmlEvent::End(name) => self.end(&name),
                XmlEvent::Text(_) => {}
                XmlEvent::Eof => break,
            }
        }
        self.hidden_entities += reader.unresolved_entities;
        self.flush_pending();
        Ok(())
    }

    fn start(
        &mut self,
        reader: &mut XmlReader<'_>,
        e: &quick_xml::events::BytesStart<'_>,
        empty: bool,
    ) -> Result<(), DocError> {
        match local(e) {
            b"p" if !empty => self.paras.push(Para::default()),
            b"pPr" if !empty => self.paragraph_properties(reader)?,
            b"r" => self.run = Run::default(),
            b"rPr" if !empty => self.run_properties(reader)?,
            b"t" if !empty => {
                let text = reader.text()?;
                if !self.run.hidden && !self.in_field_instr() {
                    self.push_text(&text)?;
                }
            }
            b"tab" => self.push_text("\t")?,
            b"br" | b"cr" => {
                if attr(e, "type").as_deref() == Some("page") {
                    self.push_text(PAGE_MARK)?;
                } else {
                    self.push_text("\n")?;
                }
            }
            b"noBreakHyphen" => self.push_text("-")?,
            b"footnoteReference" | b"endnoteReference" => {
                if let Some(id) = attr(e, "id") {
                    let key = (local(e) == b"endnoteReference", id);
                    let number = match self.note_refs.iter().position(|k| *k == key) {
                        Some(i) => i + 1,
                        None => {
                            self.note_refs.push(key);
                            self.note_refs.len()
                        }
                    };
                    let mark = Span::plain(format!("[^{number}]"));
                    if let Some(para) = self.paras.last_mut() {
                        para.spans.push(mark);
                    }
                }
            }
            b"footnote" | b"endnote" if !empty => {
                let separator = attr(e, "type").is_some_and(|t| t != "normal");
                if separator {
                    reader.skip()?;
                } else {
                    self.flush_pending();
                    self.note_start = Some((attr(e, "id").unwrap_or_default(), self.out.len()));
                }
            }
            b"hyperlink" if !empty => {
                let target = attr(e, "r:id")
                    .and_then(|id| self.rels.get(&id))
                    .map(|r| r.target.clone())
                    .or_else(|| attr(e, "anchor").map(|a| format!("#{a}")));
                self.links.push(target);
            }
            b"fldSimple" if !empty => {
                let instr = attr(e, "instr").unwrap_or_default();
                self.links.push(hyperlink_field(&instr));
            }
            b"fldChar" => match attr(e, "fldCharType").as_deref() {
                Some("begin") => self.fields.push(Field::default()),
                Some("separate") => {
                    if let Some(field) = self.fields.last_mut() {
                        field.in_result = true;
                    }
                }
                Some("end") => {
                    self.fields.pop();
                }
                _ => {}
            },
            b"instrText" if !empty => {
                let text = reader.text()?;
                if let Some(field) = self.fields.last_mut() {
                    field.instr.push_str(&text);
                }
            }
            b"docPr" => {
                if let Some(alt) = attr(e, "descr").or_else(|| attr(e, "title"))
                    && !alt.trim().is_empty()
                    && let Some(para) = self.paras.last_mut()
                {
                    para.images.push(alt.trim().to_owned());
                }
            }
            b"tbl" if !empty => self.tables.push(TableState::default()),
            b"tr" if !empty => {
                if let Some(table) = self.tables.last_mut() {
                    table.row.clear();
                }
            }
            b"tc" if !empty => {
                if let Some(table) = self.tables.last_mut() {
                    table.cell.clear();
                    table.span = 1;
                }
            }
            b"tcPr" if !empty => self.cell_properties(reader)?,
            // Deleted or moved-away text, field data, property changes,
            // section properties and the fallback copy of alternate content.
            b"del" | b"moveFrom" | b"delText" | b"Fallback" | b"sectPr" | b"tblPr" | b"tblGrid"
            | b"trPr" | b"sdtPr" | b"rPrChange" | b"pPrChange" | b"fldData" | b"footnoteRef"
            | b"endnoteRef" | b"commentReference" | b"annotationRef"
                if !empty =>
            {
                reader.skip()?
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, name: &[u8]) {
        match name {
            b"p" => {
                if let Some(para) = self.paras.pop() {
                    self.finish_paragraph(para);
                }
            }
            b"hyperlink" | b"fldSimple" => {
                self.links.pop();
            }
            b"tc" => {
                if let Some(table) = self.tables.last_mut() {
                    let text = table.cell.join("\n");
                    table.row.push(text);
                    for _ in 1..table.span {
                        table.row.push(String::new());
                    }
                }
            }
            b"tr" => {
                if let Some(table) = self.tables.last_mut() {
                    let row = std::mem::take(&mut table.row);
                    table.rows.push(row);
                }
            }
            b"tbl" => {
                if let Some(table) = self.tables.pop() {
                    self.finish_table(table);
                }
            }
            b"footnote" | b"endnote" => {
                self.flush_pending();
                if let Some((id, start)) = self.note_start.take() {
                    let blocks: Vec<Block> = self.out.drain(start.min(self.out.len())..).collect();
                    self.notes.push((id, flatten(&blocks)));
                }
            }
            _ => {}
        }
    }

    fn in_field_instr(&self) -> bool {
        self.fields.last().is_some_and(|f| !f.in_result)
    }

    fn current_link(&self) -> Option<String> {
        let field_link = self
            .fields
            .iter()
            .rev()
            .find_map(|f| hyperlink_field(&f.instr));
        self.links
            .iter()
            .rev()
            .flatten()
            .next()
            .cloned()
            .or(field_link)
    }

    fn push_text(&mut self, text: &str) -> Result<(), DocError> {
        if self.run.hidden || self.in_field_instr() {
            return Ok(());
        }
        self.chars += text.len();
        if self.chars > self.cx.options.limits.max_output_chars {
            return Err(DocError::Limit(format!(
                "the document has more than {} characters of text",
                self.cx.options.limits.max_output_chars
            )));
        }
        let span = Span {
            text: text.to_owned(),
            bold: self.run.bold,
            italic: self.run.italic,
            code: self.run.code && text != PAGE_MARK,
            link: self.current_link(),
        };
        if let Some(para) = self.paras.last_mut() {
            para.spans.push(span);
        }
        Ok(())
    }

    fn paragraph_properties(&mut self, reader: &mut XmlReader<'_>) -> Result<(), DocError> {
        let target = reader.depth() - 1;
        let mut num_id = None;
        let mut level = 0u8;
        while reader.depth() > target {
            let e = match reader.event()? {
                XmlEvent::Start(e) => {
                    if matches!(local(&e), b"rPr" | b"pPrChange" | b"sectPr" | b"tabs") {
                        reader.skip()?;
                        continue;
                    }
                    e
                }
                XmlEvent::Empty(e) => e,
                XmlEvent::Eof => break,
                _ => continue,
            };
            let val = attr(&e, "val");
            let Some(para) = self.paras.last_mut() else {
                continue;
            };
            match local(&e) {
                b"pStyle" => para.style = val,
                b"numId" => num_id = val,
                b"ilvl" => level = val.and_then(|v| v.parse().ok()).unwrap_or(0u8).min(8),
                b"outlineLvl" => para.outline = val.and_then(|v| v.parse().ok()),
                b"pageBreakBefore" => para.page_break_before = on_off(val.as_deref()),
                _ => {}
            }
        }
        if let Some(para) = self.paras.last_mut() {
            if let Some(id) = num_id {
                para.num = Some((id, level));
            } else if let Some(style) = &para.style
                && let Some((id, style_level)) = self.cx.styles.numbering(style)
            {
                para.num = Some((id, level.max(style_level)));
            }
        }
        Ok(())
    }

    fn run_properties(&mut self, reader: &mut XmlReader<'_>) -> Result<(), DocError> {
        let target = reader.depth() - 1;
        let mut run = Run::default();
        let mut bold = None;
        let mut italic = None;
        while reader.depth() > target {
            let e = match reader.event()? {
                XmlEvent::Start(e) => {
                    if local(&e) == b"rPrChange" {
                        reader.skip()?;
                        continue;
                    }
                    e
                }
                XmlEvent::Empty(e) => e,
                XmlEvent::Eof => break,
                _ => continue,
            };
            let val = attr(&e, "val");
            match local(&e) {
                b"rStyle" => {
                    if let Some(style) = val {
                        let (b, i, c) = self.cx.styles.run_flags(&style);
                        run.bold |= b;
                        run.italic |= i;
                        run.code |= c;
                    }
                }
                b"b" => bold = Some(on_off(val.as_deref())),
                b"i" => italic = Some(on_off(val.as_deref())),
                b"vanish" | b"specVanish" => run.hidden = on_off(val.as_deref()),
                b"rFonts" => {
                    run.code |= ["ascii", "hAnsi"]
                        .iter()
                        .filter_map(|k| attr(&e, k))
                        .any(|f| is_monospace(&f));
                }
                _ => {}
            }
        }
        run.bold = bold.unwrap_or(run.bold);
        run.italic = italic.unwrap_or(run.italic);
        self.run = run;
        Ok(())
    }

    fn cell_properties(&mut self, reader: &mut XmlReader<'_>) -> Result<(), DocError> {
        let target = reader.depth() - 1;
        while reader.depth() > target {
            if let XmlEvent::Empty(e) | XmlEvent::Start(e) = reader.event()?
                && local(&e) == b"gridSpan"
                && let Some(table) = self.tables.last_mut()
            {
                table.span = attr(&e, "val")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1usize)
                    .clamp(1, 64);
            }
        }
        Ok(())
    }

    fn finish_paragraph(&mut self, para: Para) {
        let styles = self.cx.styles;
        let style = para
            .style
            .as_deref()
            .or(styles.default_paragraph.as_deref());
        let level = match para.outline {
            Some(o) if o < 9 => Some((o + 1).min(6)),
            _ => style.and_then(|s| styles.heading_level(s)),
        };
        let list = para.num.as_ref().and_then(|(id, lvl)| {
            self.cx
                .numbering
                .ordered(id, *lvl)
                .map(|ordered| (*lvl, ordered))
        });
        let code = style.is_some_and(|s| styles.is_code(s));
        if para.page_break_before {
            self.page_break();
        }
        let images = para.images;
        let mut segments = split_pages(merge_spans(para.spans, PAGE_MARK))
            .into_iter()
            .peekable();
        while let Some(spans) = segments.next() {
            let text = inline_text(&spans);
            if !text.trim().is_empty() {
                let block = if let Some(level) = level {
                    let spans = spans
                        .into_iter()
                        .map(|s| Span { bold: false, ..s })
                        .collect();
                    Block::Heading {
                        level,
                        content: spans,
                    }
                } else if code {
                    Block::Code {
                        language: None,
                        text,
                    }
                } else if let Some((lvl, ordered)) = list {
                    if self.tables.is_empty() && self.paras.is_empty() {
                        self.flush_code();
                        self.list.push((lvl, ordered, spans));
                        continue;
                    }
                    let marker = if ordered { "1. " } else { "- " };
                    let mut item = vec![Span::plain(marker)];
                    item.extend(spans);
                    Block::Paragraph(item)
                } else {
                    Block::Paragraph(spans)
                };
                self.emit(block);
            }
            if segments.peek().is_some() {
                self.page_break();
            }
        }
        for alt in images {
            self.emit(Block::Image { alt });
        }
        if self.paras.is_empty() {
            for block in std::mem::take(&mut self.deferred) {
                self.emit(block);
            }
        }
    }

    fn finish_table(&mut self, mut table: TableState) {
        if !table.row.is_empty() {
            let row = std::mem::take(&mut table.row);
            table.rows.push(row);
        }
        table
            .rows
            .retain(|r| r.iter().any(|c| !c.trim().is_empty()));
        if table.rows.is_empty() {
            return;
        }
        if let Some(outer) = self.tables.last_mut() {
            // A nested table is flattened into its cell, a line per row.
            for row in table.rows {
                let cells: Vec<&str> = row
                    .iter()
                    .map(|c| c.trim())
                    .filter(|c| !c.is_empty())
                    .collect();
                outer.cell.push(cells.join(" | "));
            }
            return;
        }
        self.emit(Block::Table(Table {
            name: None,
            header: true,
            rows: table.rows,
            page: None,
        }));
    }

    fn page_break(&mut self) {
        if !self.tables.is_empty() || !self.paras.is_empty() || self.note_start.is_some() {
            return;
        }
        self.page += 1;
        self.emit(Block::PageBreak { number: self.page });
    }

    /// Sends a finished block to the table cell, the enclosing paragraph's
    /// deferred blocks (text boxes) or the output.
    fn emit(&mut self, block: Block) {
        if let Some(table) = self.tables.last_mut() {
            let text = match &block {
                Block::Heading { content, .. } | Block::Paragraph(content) => inline_text(content),
                Block::Code { text, .. } => text.clone(),
                _ => String::new(),
            };
            let text = text.trim();
            if !text.is_empty() {
                table.cell.push(text.to_owned());
            }
            return;
        }
        if !self.paras.is_empty() {
            self.deferred.push(block);
            return;
        }
        if let Block::Code { text, .. } = block {
            self.flush_list();
            self.code.push(text);
            return;
        }
        self.flush_pending();
        self.out.push(block);
    }

    fn flush_pending(&mut self) {
        self.flush_list();
        self.flush_code();
    }

    fn flush_list(&mut self) {
        let items = std::mem::take(&mut self.list);
        let mut i = 0;
        while i < items.len() {
            let level = items[i].0;
            self.out.push(build_list(&items, &mut i, level));
        }
    }

    fn flush_code(&mut self) {
        if !self.code.is_empty() {
            let text = std::mem::take(&mut self.code).join("\n");
            self.out.push(Block::Code {
                language: None,
                text,
            });
        }
    }

    fn finish(mut self) -> Vec<Block> {
        self.flush_pending();
        self.out
    }
}

/// Spans split at page-break marks.
fn split_pages(spans: Vec<Span>) -> Vec<Vec<Span>> {
    let mut out = vec![Vec::new()];
    for span in spans {
        if span.text == PAGE_MARK {
            out.push(Vec::new());
        } else if let Some(last) = out.last_mut() {
            last.push(span);
        }
    }
    out
}

/// Note content as one inline run (paragraphs joined by spaces).
fn flatten(blocks: &[Block]) -> Inline {
    let mut out: Inline = Vec::new();
    let push = |spans: &[Span], out: &mut Inline| {
        if !out.is_empty() {
            out.push(Span::plain(" "));
        }
        out.extend(spans.iter().cloned());
    };
    for block in blocks {
        match block {
            Block::Paragraph(s) | Block::Heading { content: s, .. } => push(s, &mut out),
            Block::List { items, .. } => {
                for item in items {
                    push(&item.content, &mut out);
                }
            }
            Block::Code { text, .. } => push(&[Span::plain(text.clone())], &mut out),
            Block::Table(t) => {
                for row in &t.rows {
                    push(&[Span::plain(row.join(" | "))], &mut out);
                }
            }
            _ => {}
        }
    }
    if let Some(first) = out.first_mut() {
        first.text = first.text.trim_start().to_owned();
    }
    out
}

/// The target of a `HYPERLINK "url"` field instruction.
fn hyperlink_field(instr: &str) -> Option<String> {
    let rest = instr.trim().strip_prefix("HYPERLINK")?.trim();
    let anchor = rest.starts_with("\\l");
    let rest = rest.trim_start_matches("\\l").trim();
    let target = if let Some(quoted) = rest.strip_prefix('"') {
        quoted.split('"').next()?
    } else {
        rest.split_whitespace().next()?
    };
    (!target.is_empty()).then(|| {
        if anchor {
            format!("#{target}")
        } else {
            target.to_owned()
        }
    })
}
