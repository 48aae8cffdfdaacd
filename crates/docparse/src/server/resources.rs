//! docparse's resources: `docparse://formats`, what the `formats` tool
//! reports (formats and their extensions, limits, which optional programs
//! are installed), for clients that show resources to people.

use ffmcp_core::freshness;
use rmcp::{
    ErrorData,
    model::{ListResourcesResult, ReadResourceResult, Resource, ResourceContents},
};

use super::DocParse;

/// The URI of the supported-formats resource.
pub const FORMATS_URI: &str = "docparse://formats";

pub(super) fn list() -> ListResourcesResult {
    ListResourcesResult::with_all_items(vec![
        Resource::new(FORMATS_URI, "formats")
            .with_title("Supported formats")
            .with_description(
                "The document formats docparse reads (with file extensions), its input and \
                 page limits, and which optional programs (pdftotext, tesseract) are installed.",
            )
            .with_mime_type("application/json"),
    ])
    .with_ttl_ms(freshness::PROCESS_MS)
    .with_cache_scope(freshness::SHARED)
}

pub(super) fn read(server: &DocParse, uri: &str) -> Result<ReadResourceResult, ErrorData> {
    if uri != FORMATS_URI {
        return Err(ErrorData::resource_not_found(
            format!("unknown resource '{uri}'; docparse offers {FORMATS_URI} and ffmcp://stats"),
            None,
        ));
    }
    let text = serde_json::to_string_pretty(&server.formats_report()).map_err(|e| {
        ErrorData::internal_error(format!("could not serialise the formats: {e}"), None)
    })?;
    // Formats, limits and installed programs are found at start.
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, FORMATS_URI).with_mime_type("application/json"),
    ])
    .with_ttl_ms(freshness::PROCESS_MS)
    .with_cache_scope(freshness::SHARED))
}
