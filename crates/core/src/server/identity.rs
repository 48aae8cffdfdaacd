//! What a client shows for a server: its human title, an icon and the
//! project's website, in the server's `Implementation` (MCP `serverInfo`).
//!
//! A server crate declares its title once (a constant given to its
//! [`super::ServerSpec::title`] and to [`server_info`]); the icon and the
//! website are made here, so no server repeats them. rmcp builds the
//! `initialize` result and the 2026-07-28 `server/discover` result (where
//! the server info travels in `_meta`) from the server's `get_info`, so
//! this one value reaches clients of both generations.

use rmcp::model::{Icon, Implementation};

/// The project's website, shown by clients next to every server.
pub const WEBSITE_URL: &str = "https://github.com/ffmcp/ffmcp";

/// The `serverInfo` of a server: `name` and `version` as the protocol
/// identifies it, `title` for people, plus the icon and the website.
pub fn server_info(name: &str, version: &str, title: &str) -> Implementation {
    let mut info = Implementation::new(name, version);
    info.title = Some(title.to_owned());
    info.icons = Some(vec![icon(title)]);
    info.website_url = Some(WEBSITE_URL.to_owned());
    info
}

/// A small SVG icon (a rounded square with the title's initial) as a
/// percent-encoded `data:` URI: showing it needs no network, and it is
/// the same for every client.
pub fn icon(title: &str) -> Icon {
    let initial = title
        .chars()
        .find(char::is_ascii_alphanumeric)
        .map_or('F', |c| c.to_ascii_uppercase());
    let svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 64 64'>\
         <rect width='64' height='64' rx='14' fill='#1f2937'/>\
         <text x='32' y='44' font-family='sans-serif' font-size='34' font-weight='700' \
         fill='#f9fafb' text-anchor='middle'>{initial}</text></svg>"
    );
    let mut icon = Icon::new(format!("data:image/svg+xml,{}", percent_encode(&svg)));
    icon.mime_type = Some("image/svg+xml".into());
    icon.sizes = Some(vec!["any".into()]);
    icon
}

/// `text` with every byte outside RFC 3986's unreserved set percent-encoded.
/// One allocation: rmcp asks for the server info on every 2026-07-28
/// request, so this runs per call.
fn percent_encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_info_has_title_icon_and_website() {
        let info = server_info("ffmcp-docparse", "1.0.0", "document parser");
        assert_eq!(info.name, "ffmcp-docparse");
        assert_eq!(info.version, "1.0.0");
        assert_eq!(info.title.as_deref(), Some("document parser"));
        assert_eq!(info.website_url.as_deref(), Some(WEBSITE_URL));
        let icons = info.icons.expect("an icon");
        let src = &icons[0].src;
        assert!(src.starts_with("data:image/svg+xml,%3Csvg%20"), "{src}");
        assert!(src.contains("%3ED%3C%2Ftext%3E"), "the initial: {src}");
        assert!(url::Url::parse(src).is_ok(), "a valid URI: {src}");
        assert!(src.len() < 800, "small: {} bytes", src.len());
        assert_eq!(icons[0].mime_type.as_deref(), Some("image/svg+xml"));
    }
}
