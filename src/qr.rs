//! QR codes of join links, for printed flyers: SVG (scales for print) and PNG (pastes anywhere).

use qrcode::render::svg;
use qrcode::{Color, EcLevel, QrCode};

/// Pixels per QR module in the PNG, and the quiet zone around the code, in modules.
const PNG_MODULE_PX: usize = 8;
const QUIET_ZONE: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("the link is too long for a QR code")]
    TooLong,
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

/// Medium error correction: survives a crease or a coffee stain on a flyer.
fn encode(link: &str) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(link.as_bytes(), EcLevel::M).map_err(|_| QrError::TooLong)
}

pub fn svg(link: &str) -> Result<String, QrError> {
    let code = encode(link)?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}

pub fn png(link: &str) -> Result<Vec<u8>, QrError> {
    let code = encode(link)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * PNG_MODULE_PX;
    let mut pixels = vec![255u8; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (x, y) = (
            (index % modules + QUIET_ZONE) * PNG_MODULE_PX,
            (index / modules + QUIET_ZONE) * PNG_MODULE_PX,
        );
        for row in y..y + PNG_MODULE_PX {
            pixels[row * side + x..row * side + x + PNG_MODULE_PX].fill(0);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|e| QrError::Png(e.to_string()))?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| QrError::Png(e.to_string()))?;
    writer.finish().map_err(|e| QrError::Png(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_render_as_svg_and_png() {
        let link = "https://text.example.org/join/elm-street";
        let drawing = svg(link).unwrap();
        assert!(drawing.starts_with("<?xml") && drawing.contains("<svg"));
        let image = png(link).unwrap();
        assert_eq!(&image[..8], b"\x89PNG\r\n\x1a\n");
        assert!(matches!(svg(&"x".repeat(5000)), Err(QrError::TooLong)));
    }
}
