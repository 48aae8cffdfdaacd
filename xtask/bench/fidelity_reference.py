"""Reference text of a document, built without docparse, for
`cargo xtask fidelity docs`.

Usage: fidelity_reference.py FILE  (prints the text to stdout)

- HTML: the page's own plain-text version when one is beside it
  (`PAGE.source.txt`: Sphinx's reST source of the page, which Sphinx
  ships and links as "Show Source"; directives and roles that render
  nothing are dropped, roles keep their text), else `lynx -dump -nolist`
  of the whole page (site chrome included). `--whole-page` forces lynx.
- DOCX: every w:t of the body, footnotes and endnotes, one line per w:p.
- PPTX: every a:t of the slides and their notes, one line per a:p.
- DOCX, PPTX and XLSX charts: every c:v and a:t of the chart parts, a
  chart's category labels once (each series caches them again).
- XLSX: every cell of every worksheet: shared/inline strings, booleans,
  error codes, numbers in Python's shortest round-trip form; then charts.
- ODS: the displayed text (text:p) of every cell, repeats expanded (capped).
- EPUB: the text of every spine document (html.parser, no scripts/styles).
- PDF: `pdftotext` (default mode). With `--source`: the text of the
  document the PDF was made from, shipped beside it as
  `FILE.source.{odt,idml,docx,html}` (OpenDocument text:p/text:h, InDesign
  story Content, Word w:t, HTML text nodes); exit status 3 when there is none.

Only the standard library and the two programs above are used, so nothing
here shares code or assumptions with docparse's parsers.
"""

import datetime
import html.parser
import os
import posixpath
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


def natural(name):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def docx(z):
    out = []
    for part in ("word/document.xml", "word/footnotes.xml", "word/endnotes.xml"):
        if part not in z.namelist():
            continue
        root = ET.fromstring(z.read(part))
        for p in root.iter(W + "p"):
            line = []
            for el in p.iter():
                if el.tag == W + "t" and el.text:
                    line.append(el.text)
                elif el.tag in (W + "tab", W + "br"):
                    line.append(" ")
            out.append("".join(line))
    out.extend(charts(z, "word"))
    return "\n".join(out)


def number(text):
    try:
        f = float(text)
    except ValueError:
        return text
    return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)


def pptx(z):
    names = [n for n in z.namelist() if re.match(r"ppt/(slides/slide|notesSlides/notesSlide)\d+\.xml$", n)]
    out = []
    for part in sorted(names, key=natural):
        root = ET.fromstring(z.read(part))
        for p in root.iter(A + "p"):
            out.append("".join(t.text or "" for t in p.iter(A + "t")))
    out.extend(charts(z, "ppt"))
    return "\n".join(out)


def charts(z, folder):
    """Text of the chart parts under FOLDER/charts: titles, series names,
    categories and values as cached. Each series caches the chart's
    category labels again; a chart shows them once, so a series' labels
    equal to an earlier series' count once."""
    out = []
    parts = [n for n in z.namelist() if re.match(folder + r"/charts/chart\d+\.xml$", n)]
    for part in sorted(parts, key=natural):
        root = ET.fromstring(z.read(part))
        seen = set()
        repeated = set()
        for ser in root.iter(C + "ser"):
            for cat in list(ser.iter(C + "cat")) + list(ser.iter(C + "xVal")):
                labels = tuple(v.text for v in cat.iter(C + "v"))
                if labels in seen:
                    repeated.update(id(v) for v in cat.iter(C + "v"))
                seen.add(labels)
        for el in root.iter():
            if el.tag in (C + "v", A + "t") and el.text and id(el) not in repeated:
                out.append(number(el.text.strip()))
    return out


def xlsx(z):
    strings = []
    if "xl/sharedStrings.xml" in z.namelist():
        root = ET.fromstring(z.read("xl/sharedStrings.xml"))
        for si in root.iter(S + "si"):
            strings.append("".join(t.text or "" for t in si.iter(S + "t")))
    dates = date_styles(z)
    out = []
    if "xl/workbook.xml" in z.namelist():
        for sheet in ET.fromstring(z.read("xl/workbook.xml")).iter(S + "sheet"):
            out.append(sheet.get("name", ""))
    sheets = [n for n in z.namelist() if re.match(r"xl/worksheets/[^/]+\.xml$", n)]
    for part in sorted(sheets, key=natural):
        root = ET.fromstring(z.read(part))
        for row in root.iter(S + "row"):
            cells = []
            for c in row.iter(S + "c"):
                kind = c.get("t", "n")
                v = c.find(S + "v")
                value = (v.text or "").strip() if v is not None else ""
                if kind == "s" and value:
                    cells.append(strings[int(value)])
                elif kind == "inlineStr":
                    cells.append("".join(t.text or "" for t in c.iter(S + "t")))
                elif kind == "b" and value:
                    cells.append("TRUE" if value == "1" else "FALSE")
                elif kind in ("n",) and value:
                    if int(c.get("s", "0")) in dates:
                        cells.append(serial_date(value))
                    else:
                        cells.append(number(value))
                elif value:
                    cells.append(value)
            out.append(" ".join(cells))
    out.extend(charts(z, "xl"))
    return "\n".join(out)


def date_styles(z):
    """Indexes of the cell formats that show a date or time."""
    if "xl/styles.xml" not in z.namelist():
        return set()
    root = ET.fromstring(z.read("xl/styles.xml"))
    custom = {}
    for fmt in root.iter(S + "numFmt"):
        code = re.sub(r'"[^"]*"|\[[^\]]*\]', "", fmt.get("formatCode", "")).lower()
        custom[int(fmt.get("numFmtId", "0"))] = bool(re.search(r"[dyhs]", code))
    out = set()
    xfs = root.find(S + "cellXfs")
    for i, xf in enumerate(xfs if xfs is not None else []):
        fid = int(xf.get("numFmtId", "0"))
        if 14 <= fid <= 22 or 45 <= fid <= 47 or custom.get(fid, False):
            out.add(i)
    return out


def serial_date(value):
    try:
        serial = float(value)
    except ValueError:
        return value
    moment = datetime.datetime(1899, 12, 30) + datetime.timedelta(days=serial)
    if serial == int(serial):
        return moment.date().isoformat()
    if serial < 1:
        return moment.time().isoformat()
    return moment.isoformat()


def ods(z):
    root = ET.fromstring(z.read("content.xml"))
    out = []
    for row in root.iter(TABLE + "table-row"):
        cells = []
        for cell in row:
            if cell.tag not in (TABLE + "table-cell", TABLE + "covered-table-cell"):
                continue
            text = " ".join("".join(p.itertext()) for p in cell.iter(TEXT + "p"))
            if text.strip():
                repeat = min(int(cell.get(TABLE + "number-columns-repeated", "1")), 1000)
                cells.extend([text] * repeat)
        if cells:
            repeat = min(int(row.get(TABLE + "number-rows-repeated", "1")), 1000)
            out.extend([" ".join(cells)] * repeat)
    return "\n".join(out)


class Text(html.parser.HTMLParser):
    SKIP = {"script", "style", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        self.parts.append(" ")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def epub(z):
    container = ET.fromstring(z.read("META-INF/container.xml"))
    opf_path = next(e.get("full-path") for e in container.iter() if e.tag.endswith("rootfile"))
    opf = ET.fromstring(z.read(opf_path))
    items = {e.get("id"): e.get("href") for e in opf.iter() if e.tag.endswith("}item")}
    base = posixpath.dirname(opf_path)
    out = []
    for ref in (e for e in opf.iter() if e.tag.endswith("}itemref")):
        href = items.get(ref.get("idref"))
        if not href:
            continue
        parser = Text()
        parser.feed(z.read(posixpath.normpath(posixpath.join(base, href))).decode("utf-8", "replace"))
        out.append("".join(parser.parts))
    return "\n".join(out)


# Directives whose block renders nothing in the page body.
SILENT = {
    "index", "toctree", "testsetup", "testcleanup", "sectionauthor", "moduleauthor",
    "highlight", "module", "currentmodule", "include", "tabularcolumns", "raw",
    "literalinclude", "default-role", "role", "meta", "contents",
}
DIRECTIVE = re.compile(r"^(\s*)\.\.\s+([\w:-]+)::\s*(.*)$")
COMMENT = re.compile(r"^(\s*)\.\.(\s|$)")
OPTION = re.compile(r"^\s+:[\w-]+:(\s.*)?$")
ROLE = re.compile(r":([\w-]+)(?::[\w-]+)?:`([^`]*)`")
LINK = re.compile(r"`([^`<]*?)\s*<[^`>]*>`_{1,2}")


def role(match):
    name, text = match.group(1), match.group(2)
    titled = re.match(r"^(.*?)\s*<[^>]*>$", text, re.S)
    if titled:
        return titled.group(1)
    if name in ("ref", "doc", "numref", "keyword", "token"):
        return "" if name in ("ref", "doc", "numref") else text
    if name in ("pep", "rfc"):
        return f"{name.upper()} {text}"
    text = text.lstrip("!")
    if text.startswith("~"):
        text = text[1:].rsplit(".", 1)[-1]
    return text


def hidden(lines, i):
    """Whether the directive at lines[i] has the `:hide:` option."""
    for line in lines[i + 1:]:
        if not OPTION.match(line):
            return False
        if line.strip() == ":hide:":
            return True
    return False


def rest_text(source):
    out, skip_indent, options = [], None, False
    lines = source.splitlines()
    for i, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        if skip_indent is not None:
            if not line.strip() or indent > skip_indent:
                continue
            skip_indent = None
        if options and OPTION.match(line):
            continue
        options = False
        m = DIRECTIVE.match(line)
        if m:
            if m.group(2) in SILENT or hidden(lines, i):
                skip_indent = len(m.group(1))
            else:
                out.append(m.group(1) + m.group(3))
                options = True
            continue
        if COMMENT.match(line):
            skip_indent = indent
            continue
        line = LINK.sub(lambda m: m.group(1), line)
        line = ROLE.sub(role, line)
        line = re.sub(r"\|[\w-]+\|", "", line)
        out.append(line)
    return "\n".join(out)


def odt(z):
    root = ET.fromstring(z.read("content.xml"))
    blocks = (TEXT + "p", TEXT + "h")

    def collect(el, parts):
        if el.tag in (TEXT + "s", TEXT + "tab", TEXT + "line-break"):
            parts.append(" ")
        if el.text:
            parts.append(el.text)
        for child in el:
            # A paragraph inside this one (a frame's caption) is a line of
            # its own: root.iter() reaches it.
            if child.tag not in blocks:
                collect(child, parts)
            if child.tail:
                parts.append(child.tail)

    out = []
    for el in root.iter():
        if el.tag in blocks:
            parts = []
            collect(el, parts)
            out.append("".join(parts))
    return "\n".join(out)


def idml(z):
    out = []
    for name in sorted(z.namelist(), key=natural):
        if name.startswith("Stories/") and name.endswith(".xml"):
            root = ET.fromstring(z.read(name))
            for el in root.iter():
                if el.tag == "Content" and el.text:
                    out.append(el.text)
                elif el.tag == "Br":
                    out.append("\n")
            out.append("\n")
    return " ".join(out)


def pdf_source(path):
    for ext in ("odt", "idml", "docx", "html"):
        source = f"{path}.source.{ext}"
        if not os.path.exists(source):
            continue
        if ext == "html":
            parser = Text()
            with open(source, encoding="utf-8", errors="replace") as f:
                parser.feed(f.read())
            return "".join(parser.parts)
        with zipfile.ZipFile(source) as z:
            return {"odt": odt, "idml": idml, "docx": docx}[ext](z)
    sys.stderr.write(f"no source beside {path}\n")
    sys.exit(3)


def main(path, whole_page=False):
    ext = path.rsplit(".", 1)[-1].lower()
    source = path + ".source.txt"
    if ext in ("html", "htm", "xhtml") and not whole_page and os.path.exists(source):
        with open(source, encoding="utf-8") as f:
            return rest_text(f.read())
    if ext in ("html", "htm", "xhtml"):
        return subprocess.run(
            ["lynx", "-dump", "-nolist", "-width=4000", "-assume_charset=utf-8",
             "-display_charset=utf-8", "-force_html", path],
            check=True, capture_output=True,
        ).stdout.decode("utf-8", "replace")
    if ext == "pdf":
        return subprocess.run(
            ["pdftotext", "-enc", "UTF-8", path, "-"], check=True, capture_output=True
        ).stdout.decode("utf-8", "replace")
    with zipfile.ZipFile(path) as z:
        return {"docx": docx, "pptx": pptx, "xlsx": xlsx, "xlsm": xlsx, "ods": ods, "epub": epub}[ext](z)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a not in ("--whole-page", "--source")]
    if "--source" in sys.argv:
        sys.stdout.write(pdf_source(args[0]))
    else:
        sys.stdout.write(main(args[0], whole_page="--whole-page" in sys.argv))
