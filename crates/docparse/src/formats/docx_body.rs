//! The WordprocessingML walker behind [`super::docx`]: streams one part
//! (document, footnotes, endnotes) and turns paragraphs, runs, tables,
//! links, fields, breaks and notes into blocks.

use std::collections::HashMap;

use quick_xml::events::BytesStart;

use super::{
    chart::footprint,
    docx_props::{ParaProps, Run, hyperlink_field, read_cell_span, read_paragraph, read_run},
    docx_styles::{Numbering, Styles},
    ooxml::{Rel, build_list, merge_spans},
    xml::{XmlEvent, XmlReader, attr, local},
};
use crate::{
    DocError, ParseOptions,
    model::{Block, Inline, Math, Span, Table, inline_text},
};

const FORMAT: &str = "docx";
/// Marks a page break inside a paragraph's spans until it is split.
const PAGE_MARK: &str = "\u{c}";

/// What every part's walker shares.
pub struct Context<'a> {
    pub styles: &'a Styles,
    pub numbering: &'a Numbering,
    pub options: &'a ParseOptions,
    /// Chart parts the document points at, read ahead, by part name.
    pub charts: &'a HashMap<String, Table>,
}

/// A paragraph being read.
#[derive(Default)]
struct Para {
    props: ParaProps,
    spans: Vec<Span>,
    images: Vec<String>,
    /// Blocks that follow the paragraph's own (a chart's place in a cell).
    after: Vec<Block>,
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
pub struct Walker<'c> {
    cx: &'c Context<'c>,
    rels: &'c HashMap<String, Rel>,
    out: Vec<Block>,
    list: Vec<(u8, bool, Inline)>,
    code: Vec<String>,
    paras: Vec<Para>,
    deferred: Vec<Block>,
    tables: Vec<TableState>,
    /// Charts drawn inside a table, shown after the outermost table.
    after_tables: Vec<Block>,
    run: Run,
    links: Vec<Option<String>>,
    fields: Vec<Field>,
    page: u32,
    chars: usize,
    /// Footnote/endnote references in text order: (is endnote, id).
    pub note_refs: Vec<(bool, String)>,
    /// In a notes part: each note's content by id.
    pub notes: Vec<(String, Inline)>,
    note_start: Option<(String, usize)>,
    pub hidden_entities: usize,
    /// Inside an `m:oMathPara`: equations are displayed.
    display_math: bool,
}

impl<'c> Walker<'c> {
    pub fn new(cx: &'c Context<'c>, rels: &'c HashMap<String, Rel>) -> Self {
        Self {
            cx,
            rels,
            out: Vec::new(),
            list: Vec::new(),
            code: Vec::new(),
            paras: Vec::new(),
            deferred: Vec::new(),
            tables: Vec::new(),
            after_tables: Vec::new(),
            run: Run::default(),
            links: Vec::new(),
            fields: Vec::new(),
            page: 1,
            chars: 0,
            note_refs: Vec::new(),
            notes: Vec::new(),
            note_start: None,
            hidden_entities: 0,
            display_math: false,
        }
    }

    pub fn walk(&mut self, bytes: &[u8], part: &str) -> Result<(), DocError> {
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
        e: &BytesStart<'_>,
        empty: bool,
    ) -> Result<(), DocError> {
        match local(e) {
            b"p" if !empty => self.paras.push(Para::default()),
            b"pPr" if !empty => {
                let props = read_paragraph(reader, self.cx.styles)?;
                if let Some(para) = self.paras.last_mut() {
                    para.props = props;
                }
            }
            b"oMathPara" if !empty => self.display_math = true,
            b"oMath" if !empty => {
                let tree = super::omml::read(reader, e)?;
                let tex = super::omml::to_latex(&tree);
                if !tex.is_empty() {
                    self.push_math(tex)?;
                }
            }
            b"r" => self.run = Run::default(),
            b"rPr" if !empty => self.run = read_run(reader, self.cx.styles)?,
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
            // A chart drawn in the text: its table follows the paragraph.
            b"chart" => {
                if let Some(table) = attr(e, "r:id")
                    .and_then(|id| self.rels.get(&id))
                    .and_then(|rel| self.cx.charts.get(&rel.target))
                {
                    self.cx
                        .options
                        .charge(footprint(table), || "the charts of the document".to_owned())?;
                    self.chart(table.clone());
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
            b"tcPr" if !empty => {
                let span = read_cell_span(reader)?;
                if let Some(table) = self.tables.last_mut() {
                    table.span = span;
                }
            }
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
            b"oMathPara" => self.display_math = false,
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
                if self.tables.is_empty() {
                    for block in std::mem::take(&mut self.after_tables) {
                        self.emit(block);
                    }
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

    /// An equation: a math span, display equations of one `m:oMathPara`
    /// as one span with a line break (`\\`) between them.
    fn push_math(&mut self, tex: String) -> Result<(), DocError> {
        if self.in_field_instr() {
            return Ok(());
        }
        self.charge_text(&tex)?;
        let display = self.display_math;
        let link = self.current_link();
        let Some(para) = self.paras.last_mut() else {
            return Ok(());
        };
        if display
            && let Some(last) = para.spans.last_mut()
            && last.math == Some(Math::Display)
        {
            last.text.push_str(" \\\\ ");
            last.text.push_str(&tex);
            return Ok(());
        }
        para.spans.push(Span {
            text: tex,
            link,
            math: Some(if display { Math::Display } else { Math::Inline }),
            ..Span::default()
        });
        Ok(())
    }

    fn push_text(&mut self, text: &str) -> Result<(), DocError> {
        if self.run.hidden || self.in_field_instr() {
            return Ok(());
        }
        self.charge_text(text)?;
        let span = Span {
            text: text.to_owned(),
            bold: self.run.bold,
            italic: self.run.italic,
            code: self.run.code && text != PAGE_MARK,
            link: self.current_link(),
            math: None,
        };
        if let Some(para) = self.paras.last_mut() {
            para.spans.push(span);
        }
        Ok(())
    }

    /// Counts text against the output and memory limits.
    fn charge_text(&mut self, text: &str) -> Result<(), DocError> {
        self.chars += text.len();
        if self.chars > self.cx.options.limits.max_output_chars {
            return Err(DocError::Limit(format!(
                "the document has more than {} characters of text",
                self.cx.options.limits.max_output_chars
            )));
        }
        self.cx.options.charge(
            (text.len() + std::mem::size_of::<Span>() + 16) as u64,
            || "the text runs of the document".to_owned(),
        )?;
        Ok(())
    }

    fn finish_paragraph(&mut self, para: Para) {
        let styles = self.cx.styles;
        let props = &para.props;
        let style = props
            .style
            .as_deref()
            .or(styles.default_paragraph.as_deref());
        let level = match props.outline {
            Some(o) if o < 9 => Some((o + 1).min(6)),
            _ => style.and_then(|s| styles.heading_level(s)),
        };
        // "List Bullet 2" and friends nest through their own list
        // definition at level 0: the style name carries the depth.
        let hint = style.and_then(|s| styles.list_level_hint(s)).unwrap_or(0);
        let list = props.num.as_ref().and_then(|(id, lvl)| {
            self.cx
                .numbering
                .ordered(id, *lvl)
                .map(|ordered| ((*lvl).max(hint), ordered))
        });
        let code = style.is_some_and(|s| styles.is_code(s));
        let quote = style.is_some_and(|s| styles.is_quote(s));
        if props.page_break_before {
            self.page_break();
        }
        let images = para.images;
        let after = para.after;
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
                } else if quote && list.is_none() {
                    Block::Quote(vec![Block::Paragraph(spans)])
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
        for block in after {
            self.emit(block);
        }
        if self.paras.is_empty() {
            for block in std::mem::take(&mut self.deferred) {
                self.emit(block);
            }
        }
    }

    /// A chart's table after the paragraph that draws it. Inside a table
    /// it cannot stay where it is drawn: Markdown has no tables in table
    /// cells, and flattening it into the cell's text would lose its rows
    /// and columns. So the cell names the chart and says where it went,
    /// and the chart follows the outermost table, captioned with where it
    /// came from; its data stays a table everywhere (Markdown, text and
    /// the document model).
    fn chart(&mut self, mut table: Table) {
        if !self.tables.is_empty() {
            let name = table.name.take().unwrap_or_else(|| "Chart".to_owned());
            let pointer = Block::text(format!("{name} (below the table)"));
            match self.paras.last_mut() {
                Some(para) => para.after.push(pointer),
                None => self.emit(pointer),
            }
            table.name = Some(format!("{name} (in the table above)"));
            self.after_tables.push(Block::Table(table));
            return;
        }
        self.emit(Block::Table(table));
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

    pub fn finish(mut self) -> Vec<Block> {
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
