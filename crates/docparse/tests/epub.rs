//! EPUB 2 and 3 books built in the test: spine order, metadata, outline
//! from the nav document or the NCX, chapter ranges, and broken books.

use std::io::{Cursor, Write};

use ffmcp_docparse::{
    DocError, Format, PageRange, ParseOptions, detect, formats,
    render::{OutputFormat, render},
};
use zip::{CompressionMethod, ZipWriter, write::SimpleFileOptions};

fn zip_of(members: &[(&str, &str)]) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (i, (name, body)) in members.iter().enumerate() {
        // The mimetype member comes first and stored, as the spec requires.
        let method = if i == 0 {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        writer
            .start_file(
                *name,
                SimpleFileOptions::default().compression_method(method),
            )
            .expect("start");
        writer.write_all(body.as_bytes()).expect("write");
    }
    writer.finish().expect("finish").into_inner()
}

const CONTAINER: &str = r#"<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#;

fn chapter(title: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>{title}</title></head><body><h1>{title}</h1><p>{body}</p></body></html>"#
    )
}

fn epub3() -> Vec<u8> {
    let opf = r#"<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">urn:isbn:123</dc:identifier><dc:title>The Test Book</dc:title><dc:creator>Ada Lovelace</dc:creator><dc:language>en</dc:language><meta property="dcterms:modified">2026-01-02T03:04:05Z</meta></metadata>
<manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/><item id="c2" href="text/two.xhtml" media-type="application/xhtml+xml"/><item id="c1" href="text/one.xhtml" media-type="application/xhtml+xml"/></manifest>
<spine><itemref idref="c1"/><itemref idref="c2"/><itemref idref="nav" linear="no"/></spine></package>"#;
    let nav = r#"<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><body><nav epub:type="toc"><ol><li><a href="text/one.xhtml">Chapter One</a><ol><li><a href="text/one.xhtml#s1">Section</a></li></ol></li><li><a href="text/two.xhtml">Chapter Two</a></li></ol></nav></body></html>"#;
    zip_of(&[
        ("mimetype", "application/epub+zip"),
        ("META-INF/container.xml", CONTAINER),
        ("OEBPS/content.opf", opf),
        ("OEBPS/nav.xhtml", nav),
        (
            "OEBPS/text/one.xhtml",
            &chapter("One", "First <em>chapter</em> text."),
        ),
        (
            "OEBPS/text/two.xhtml",
            &chapter("Two", "Second chapter text."),
        ),
    ])
}

#[test]
fn epub3_in_spine_order_with_metadata_and_nav_outline() {
    let bytes = epub3();
    assert_eq!(detect::detect(&bytes, None), Format::Epub);
    let doc = formats::parse(Format::Epub, &bytes, &ParseOptions::default()).expect("parse");
    assert_eq!(doc.metadata.title.as_deref(), Some("The Test Book"));
    assert_eq!(doc.metadata.author.as_deref(), Some("Ada Lovelace"));
    assert_eq!(doc.metadata.language.as_deref(), Some("en"));
    assert_eq!(
        doc.metadata.modified.as_deref(),
        Some("2026-01-02T03:04:05Z")
    );
    assert_eq!(doc.metadata.pages, Some(2));
    assert_eq!(
        render(&doc, OutputFormat::Markdown),
        "<!-- page 1 -->\n\n# One\n\nFirst *chapter* text.\n\n<!-- page 2 -->\n\n# Two\n\nSecond chapter text.\n"
    );
    let outline: Vec<(u8, &str, Option<u32>)> = doc
        .outline
        .iter()
        .map(|e| (e.level, e.title.as_str(), e.page))
        .collect();
    assert_eq!(
        outline,
        vec![
            (1, "Chapter One", Some(1)),
            (2, "Section", Some(1)),
            (1, "Chapter Two", Some(2))
        ]
    );
    let only_two = ParseOptions {
        pages: Some(PageRange { first: 2, last: 2 }),
        ..ParseOptions::default()
    };
    let doc = formats::parse(Format::Epub, &bytes, &only_two).expect("parse");
    assert_eq!(
        render(&doc, OutputFormat::Text),
        "Two\n\nSecond chapter text.\n"
    );
}

#[test]
fn epub2_outline_from_the_ncx() {
    let opf = r#"<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="2.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Old Book</dc:title></metadata>
<manifest><item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/><item id="c1" href="one.html" media-type="application/xhtml+xml"/></manifest><spine toc="ncx"><itemref idref="c1"/></spine></package>"#;
    let ncx = r#"<?xml version="1.0"?><ncx xmlns="http://www.daisy.org/z3986/2005/ncx/"><navMap><navPoint id="p1"><navLabel><text>Only chapter</text></navLabel><content src="one.html"/></navPoint></navMap></ncx>"#;
    let bytes = zip_of(&[
        ("mimetype", "application/epub+zip"),
        ("META-INF/container.xml", CONTAINER),
        ("OEBPS/content.opf", opf),
        ("OEBPS/toc.ncx", ncx),
        ("OEBPS/one.html", &chapter("Hello", "World.")),
    ]);
    let doc = formats::parse(Format::Epub, &bytes, &ParseOptions::default()).expect("parse");
    assert_eq!(doc.metadata.title.as_deref(), Some("Old Book"));
    assert_eq!(doc.outline.len(), 1);
    assert_eq!(doc.outline[0].title, "Only chapter");
    assert_eq!(doc.outline[0].page, Some(1));
}

#[test]
fn broken_and_protected_books_are_clear_errors() {
    let no_container = zip_of(&[
        ("mimetype", "application/epub+zip"),
        ("OEBPS/x.html", "<p>x</p>"),
    ]);
    let err = formats::parse(Format::Epub, &no_container, &ParseOptions::default())
        .expect_err("no container");
    assert!(err.to_string().contains("container.xml"), "{err}");

    let opf = r#"<package><manifest><item id="c1" href="one.xhtml" media-type="application/xhtml+xml"/></manifest><spine><itemref idref="c1"/></spine></package>"#;
    let drm = zip_of(&[
        ("mimetype", "application/epub+zip"),
        ("META-INF/container.xml", CONTAINER),
        ("OEBPS/content.opf", opf),
        ("OEBPS/one.xhtml", "\u{1}\u{2}garbled ciphertext\u{3}"),
    ]);
    let err = formats::parse(Format::Epub, &drm, &ParseOptions::default()).expect_err("drm");
    assert!(matches!(err, DocError::Encrypted(_)), "{err}");

    let truncated = &epub3()[..200];
    assert!(formats::parse(Format::Epub, truncated, &ParseOptions::default()).is_err());
}

/// MathML in EPUB chapters (bare and `m:`-prefixed, as XHTML books write
/// it) becomes LaTeX: inline between `$`, `display="block"` between `$$`.
#[test]
fn mathml_in_chapters_becomes_latex() {
    let body = r#"<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml" xmlns:m="http://www.w3.org/1998/Math/MathML"><head><title>Maths</title></head><body><h1>Maths</h1>
<p>Energy <math xmlns="http://www.w3.org/1998/Math/MathML"><mi>E</mi><mo>=</mo><mi>m</mi><msup><mi>c</mi><mn>2</mn></msup></math> and a root <m:math><m:msqrt><m:mi>x</m:mi></m:msqrt></m:math>.</p>
<math xmlns="http://www.w3.org/1998/Math/MathML" display="block"><munderover><mo>∑</mo><mrow><mi>k</mi><mo>=</mo><mn>1</mn></mrow><mi>n</mi></munderover><mi>k</mi><mo>=</mo><mfrac><mrow><mi>n</mi><mo>(</mo><mi>n</mi><mo>+</mo><mn>1</mn><mo>)</mo></mrow><mn>2</mn></mfrac></math>
</body></html>"#;
    let opf = r#"<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>M</dc:title></metadata>
<manifest><item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/></manifest><spine><itemref idref="c1"/></spine></package>"#;
    let book = zip_of(&[
        ("mimetype", "application/epub+zip"),
        ("META-INF/container.xml", CONTAINER),
        ("OEBPS/content.opf", opf),
        ("OEBPS/c1.xhtml", body),
    ]);
    let doc = formats::parse(Format::Epub, &book, &ParseOptions::default()).expect("parse");
    let md = render(&doc, OutputFormat::Markdown);
    assert_eq!(
        md,
        "<!-- page 1 -->\n\n# Maths\n\nEnergy $E = m c^{2}$ and a root $\\sqrt{x}$.\n\n$$\\sum_{k = 1}^{n} k = \\frac{n ( n + 1 )}{2}$$\n"
    );
}
