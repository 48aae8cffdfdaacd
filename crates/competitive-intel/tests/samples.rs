//! Real-world feed files (feedparser's test suite, BSD-2-Clause; see
//! fixtures/feedparser/LICENSE) and one sample of each format.

use ffmcp_competitive_intel::feed;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/feedparser/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn feedparser_samples_parse() {
    let large = feed::parse(&fixture("large_atom.xml"), None).expect("large atom");
    assert_eq!(large.kind, "atom");
    assert_eq!(large.items.len(), 15);
    assert!(
        large
            .title
            .as_deref()
            .unwrap_or_default()
            .starts_with("Все для Nokia")
    );
    assert!(large.items.iter().all(|i| i.key.starts_with("id:")));

    let rss2 = feed::parse(&fixture("rss20_modules.xml"), None).expect("rss2 with namespaces");
    assert_eq!(rss2.kind, "rss2");
    // Elements prefixed (`<r:item>`), with same-named elements of another
    // namespace beside the item's own (feedparser's expectation).
    assert_eq!(rss2.items.len(), 1, "{rss2:?}");
    assert_eq!(
        rss2.items[0].summary.as_deref(),
        Some("correct description")
    );
    assert_eq!(
        rss2.title.as_deref(),
        Some("RSS Tests - RSS2.0 w/ NS, no default NS, localName clash")
    );
    let rss1 = feed::parse(&fixture("rss10_modules.xml"), None).expect("rss1");
    assert_eq!(rss1.kind, "rss1");
    assert!(!rss1.items.is_empty());
    let threading = feed::parse(&fixture("atom_threading.xml"), None).expect("atom threading");
    assert_eq!(threading.kind, "atom");
    let rss090 = feed::parse(&fixture("rss090.xml"), None).expect("rss 0.90");
    assert_eq!(rss090.kind, "rss0");
    assert_eq!(rss090.title.as_deref(), Some("Example title"));
    // An RDF item without a <link> (feed-rs drops those) is kept, known by
    // its title.
    assert_eq!(rss090.items.len(), 1, "{rss090:?}");
    assert_eq!(rss090.items[0].title.as_deref(), Some("Item title"));
    assert!(rss090.items[0].key.starts_with("title:"));
    let with_link = String::from_utf8(fixture("rss090.xml"))
        .expect("utf8")
        .replace(
            "<title>Item title</title>",
            "<title>Item title</title><link>https://n.example/1</link>",
        );
    let rss090 = feed::parse(with_link.as_bytes(), None).expect("rss 0.90 with a link");
    assert_eq!(rss090.items[0].title.as_deref(), Some("Item title"));
    assert_eq!(rss090.items[0].key, "link:https://n.example/1");
}

/// Where feed-rs misses items, the items it did read keep their key and
/// content hash (so a watch sees no false "changed"), and the missed ones
/// are added: RSS 2.0 prefixed or not reads the same; an RSS 1.0 item
/// without a link is known by its `rdf:about`.
#[test]
fn items_feed_rs_misses_are_read_with_the_same_identity() {
    let same = |a: &feed::FeedItem, b: &feed::FeedItem| {
        assert_eq!(
            (
                &a.key,
                &a.content_hash,
                &a.title,
                &a.link,
                &a.summary,
                &a.published
            ),
            (
                &b.key,
                &b.content_hash,
                &b.title,
                &b.link,
                &b.summary,
                &b.published
            )
        );
    };
    let prefixed = String::from_utf8(fixture("rss20_modules.xml")).expect("utf8");
    let plain = prefixed.replace("<r:", "<").replace("</r:", "</");
    let by_feed_rs = feed::parse(plain.as_bytes(), None).expect("plain rss2");
    let by_fallback = feed::parse(prefixed.as_bytes(), None).expect("prefixed rss2");
    assert_eq!(by_feed_rs.items.len(), 1);
    same(&by_feed_rs.items[0], &by_fallback.items[0]);
    let dated = |text: &str| {
        text.replace(
            "<r:description>correct",
            "<r:pubDate>Sat, 28 Sep 2002 21:00:02 GMT</r:pubDate><r:description>correct",
        )
    };
    let dated_plain = dated(&prefixed).replace("<r:", "<").replace("</r:", "</");
    let by_feed_rs = feed::parse(dated_plain.as_bytes(), None).expect("dated");
    let by_fallback = feed::parse(dated(&prefixed).as_bytes(), None).expect("dated, prefixed");
    same(&by_feed_rs.items[0], &by_fallback.items[0]);
    assert_eq!(
        by_fallback.items[0].published.as_deref(),
        Some("2002-09-28T21:00:02+00:00")
    );

    let rss1 = String::from_utf8(fixture("rss10_modules.xml")).expect("utf8");
    let before = feed::parse(rss1.as_bytes(), None).expect("rss1");
    let grown = rss1.replace(
        "</rdf:RDF>",
        "<rss:item rdf:about=\"http://www.pocketsoap.com/weblog/rssTests/2\">\
         <rss:title>No link &amp; no guid</rss:title>\
         <rss:description>second</rss:description></rss:item></rdf:RDF>",
    );
    let after = feed::parse(grown.as_bytes(), None).expect("rss1 grown");
    assert_eq!((before.items.len(), after.items.len()), (1, 2));
    same(&before.items[0], &after.items[0]);
    assert_eq!(after.items[1].title.as_deref(), Some("No link & no guid"));
    assert_eq!(
        after.items[1].key,
        "link:http://www.pocketsoap.com/weblog/rssTests/2"
    );
    assert_eq!(after.items[1].summary.as_deref(), Some("second"));
}

#[test]
fn each_format_parses_with_identity_and_links() {
    let rss091 = r#"<?xml version="1.0"?><rss version="0.91"><channel><title>Old</title>
        <link>https://old.example/</link><description>d</description>
        <item><title>Post</title><link>https://old.example/post?utm_source=rss#x</link></item>
        </channel></rss>"#;
    let f = feed::parse(rss091.as_bytes(), None).expect("rss 0.91");
    assert_eq!(f.kind, "rss0");
    assert_eq!(f.items[0].key, "link:https://old.example/post");

    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"JSON blog",
        "items":[{"id":"42","url":"https://j.example/42","title":"Hello",
        "content_html":"<p>Hi <b>there</b></p>","date_published":"2026-11-20T10:00:00Z"}]}"#;
    let f = feed::parse(json.as_bytes(), None).expect("json feed");
    assert_eq!(f.kind, "json");
    assert_eq!(f.items[0].key, "id:42");
    assert_eq!(f.items[0].summary.as_deref(), Some("Hi there"));
    assert_eq!(
        f.items[0].published.as_deref(),
        Some("2026-11-20T10:00:00+00:00")
    );

    let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id>
        <updated>2026-11-20T10:00:00Z</updated>
        <entry><id>urn:a:1</id><title type="html">&lt;b&gt;Bold&lt;/b&gt; move</title>
        <link rel="alternate" href="/posts/1"/><updated>2026-11-20T10:00:00Z</updated></entry></feed>"#;
    let f = feed::parse(atom.as_bytes(), Some("https://a.example/blog/")).expect("atom");
    assert_eq!(f.items[0].title.as_deref(), Some("Bold move"));
    assert_eq!(
        f.items[0].link.as_deref(),
        Some("https://a.example/posts/1")
    );

    for bad in [
        "<rss><channel><item><title>cut",
        "{\"nope\": 1}",
        "plain text",
    ] {
        let err = feed::parse(bad.as_bytes(), None).expect_err(bad);
        assert!(err.to_string().contains("not a valid"), "{err}");
    }
}
