//! The web pages, embedded in the binary from `ui/` (plain HTML, CSS and ES modules, no build step).

use poem::endpoint::EmbeddedFilesEndpoint;

#[derive(rust_embed::RustEmbed)]
#[folder = "ui/"]
pub struct Assets;

/// Serves `ui/`, with `index.html` for directories.
pub fn endpoint() -> EmbeddedFilesEndpoint<Assets> {
    EmbeddedFilesEndpoint::new()
}
