//! Turning an image's bytes into thumbnails, safely: the header is read first and an image of
//! more than [`MAX_PIXELS`] is refused before anything is allocated (a decompression bomb of a
//! few KB describing 50,000 × 50,000 pixels never gets its 10 GB); decoding runs under a memory
//! cap; EXIF orientation is applied; the output is re-encoded, so no metadata survives.
//! Blocking work: run it on a blocking thread.

use std::io::Cursor;

use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, ImageDecoder, ImageReader};

/// The most pixels an image may have to be previewed (e.g. 9,000 × 7,000).
pub(super) const MAX_PIXELS: u64 = 64_000_000;
/// The most memory one decode may allocate.
const MAX_ALLOC: u64 = 320 << 20;
/// The long side of the small and the large thumbnail.
pub const SMALL: u32 = 256;
/// See [`SMALL`].
pub const LARGE: u32 = 1024;
/// The long side of the placeholder shown while a thumbnail loads.
const PLACEHOLDER: u32 = 8;
const JPEG_QUALITY: u8 = 80;

/// Thumbnails of one picture and what was learnt from it.
#[derive(Debug, Clone)]
pub struct Thumbnails {
    /// The picture's size, as shown (after orientation).
    pub width: u32,
    /// See `width`.
    pub height: u32,
    /// `image/jpeg`, or `image/webp` (lossless) for pictures with transparency.
    pub mime: &'static str,
    /// At most [`SMALL`] on the long side.
    pub small: Vec<u8>,
    /// At most [`LARGE`]; `None` when the picture is no larger than the small one.
    pub large: Option<Vec<u8>>,
    /// A `data:` URL of a tiny version, blurred by the page while the thumbnail loads.
    pub placeholder: String,
    /// From EXIF: when it was taken (as the camera's clock said) and with what camera.
    pub taken_at: Option<DateTime<Utc>>,
    /// See `taken_at`.
    pub camera: Option<String>,
}

/// Why a picture has no thumbnails (said on the file page; retrying will not help).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unusable(pub String);

/// Decodes `bytes` (JPEG, PNG, GIF's first frame, WebP, TIFF, BMP) and makes its thumbnails.
pub fn thumbnails(bytes: &[u8]) -> Result<Thumbnails, Unusable> {
    let (picture, exif) = decode(bytes)?;
    let (taken_at, camera) = exif.as_deref().map(described).unwrap_or_default();
    let mut made = from_picture(&picture)?;
    made.taken_at = taken_at;
    made.camera = camera;
    Ok(made)
}

/// The side of a profile picture.
pub const AVATAR: u32 = 256;

/// A profile picture made of `bytes`: the centre square, at most [`AVATAR`] px on a side (never
/// enlarged), oriented, re-encoded without metadata — JPEG, or lossless WebP for pictures with
/// transparency. Returns the bytes and their type.
pub fn avatar(bytes: &[u8]) -> Result<(Vec<u8>, &'static str), Unusable> {
    let (picture, _) = decode(bytes)?;
    let (width, height) = (picture.width(), picture.height());
    let side = width.min(height);
    let square = picture.crop_imm((width - side) / 2, (height - side) / 2, side, side);
    let alpha = square.color().has_alpha();
    let square = if alpha {
        DynamicImage::ImageRgba8(square.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(square.to_rgb8())
    };
    let small = shrink(&mut Resizer::new(), &square, AVATAR)?;
    if alpha { Ok((webp(&small)?, "image/webp")) } else { Ok((jpeg(&small)?, "image/jpeg")) }
}

/// Decodes `bytes` as the module says (size checked first, memory capped, orientation
/// applied); with its EXIF block, if any.
fn decode(bytes: &[u8]) -> Result<(DynamicImage, Option<Vec<u8>>), Unusable> {
    let reader = || {
        ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|_| Unusable("The picture cannot be read.".into()))
    };
    let (width, height) = reader()?
        .into_dimensions()
        .map_err(|err| Unusable(format!("The picture cannot be read ({err}).")))?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Unusable(format!(
            "The picture is {width} × {height}: too many pixels to preview (at most {} million).",
            MAX_PIXELS / 1_000_000
        )));
    }
    let mut reader = reader()?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let broken =
        |err: image::ImageError| Unusable(format!("The picture cannot be decoded ({err})."));
    let mut decoder = reader.into_decoder().map_err(broken)?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let exif = decoder.exif_metadata().ok().flatten();
    let mut picture = DynamicImage::from_decoder(decoder).map_err(broken)?;
    picture.apply_orientation(orientation);
    Ok((picture, exif))
}

/// Thumbnails of a decoded picture (also a video's frame or a PDF's page).
pub fn from_picture(picture: &DynamicImage) -> Result<Thumbnails, Unusable> {
    let alpha = picture.color().has_alpha();
    // 8 bits per channel, RGB(A): what the resizer and the encoders take.
    let picture = if alpha {
        DynamicImage::ImageRgba8(picture.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(picture.to_rgb8())
    };
    let (width, height) = (picture.width(), picture.height());
    let mut resizer = Resizer::new();
    let large = (width.max(height) > SMALL).then(|| shrink(&mut resizer, &picture, LARGE));
    let large = large.transpose()?;
    let small = shrink(&mut resizer, large.as_ref().unwrap_or(&picture), SMALL)?;
    let tiny = shrink(&mut resizer, &small, PLACEHOLDER)?;
    let (mime, encode): (&str, Encoder) =
        if alpha { ("image/webp", webp) } else { ("image/jpeg", jpeg) };
    Ok(Thumbnails {
        width,
        height,
        mime,
        small: encode(&small)?,
        large: large.as_ref().map(encode).transpose()?,
        placeholder: placeholder(&tiny)?,
        taken_at: None,
        camera: None,
    })
}

/// Encodes a thumbnail.
type Encoder = fn(&DynamicImage) -> Result<Vec<u8>, Unusable>;

/// `picture` scaled to fit `side` × `side` (never enlarged).
fn shrink(
    resizer: &mut Resizer,
    picture: &DynamicImage,
    side: u32,
) -> Result<DynamicImage, Unusable> {
    let (width, height) = (picture.width(), picture.height());
    if width.max(height) <= side {
        return Ok(picture.clone());
    }
    let scale = f64::from(side) / f64::from(width.max(height));
    let fit = |n: u32| ((f64::from(n) * scale).round() as u32).clamp(1, side);
    let mut out = DynamicImage::new(fit(width), fit(height), picture.color());
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom));
    resizer
        .resize(picture, &mut out, &options)
        .map_err(|err| Unusable(format!("The picture cannot be scaled ({err}).")))?;
    Ok(out)
}

fn jpeg(picture: &DynamicImage) -> Result<Vec<u8>, Unusable> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(picture)
        .map_err(|err| Unusable(format!("The thumbnail cannot be encoded ({err}).")))?;
    Ok(out)
}

fn webp(picture: &DynamicImage) -> Result<Vec<u8>, Unusable> {
    let mut out = Vec::new();
    picture
        .write_with_encoder(image::codecs::webp::WebPEncoder::new_lossless(&mut out))
        .map_err(|err| Unusable(format!("The thumbnail cannot be encoded ({err}).")))?;
    Ok(out)
}

/// A PNG `data:` URL of the tiny version (a few hundred bytes).
fn placeholder(tiny: &DynamicImage) -> Result<String, Unusable> {
    let mut png = Vec::new();
    tiny.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|err| Unusable(format!("The placeholder cannot be encoded ({err}).")))?;
    Ok(format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png)))
}

/// When and with what camera, from an EXIF block.
fn described(exif: &[u8]) -> (Option<DateTime<Utc>>, Option<String>) {
    let Ok(exif) = exif::Reader::new().read_raw(exif.to_vec()) else { return (None, None) };
    let text = |tag: exif::Tag| {
        let field = exif.get_field(tag, exif::In::PRIMARY)?;
        match &field.value {
            exif::Value::Ascii(parts) => {
                let text = String::from_utf8_lossy(parts.first()?).trim().to_owned();
                let printable =
                    text.chars().all(|c| !c.is_control() && !crate::files::is_invisible(c));
                (!text.is_empty() && printable && text.len() <= 100).then_some(text)
            }
            _ => None,
        }
    };
    let taken = text(exif::Tag::DateTimeOriginal)
        .and_then(|when| NaiveDateTime::parse_from_str(&when, "%Y:%m:%d %H:%M:%S").ok())
        .map(|when| when.and_utc());
    let camera = match (text(exif::Tag::Make), text(exif::Tag::Model)) {
        (Some(make), Some(model)) if model.starts_with(&make) => Some(model),
        (Some(make), Some(model)) => Some(format!("{make} {model}")),
        (make, model) => model.or(make),
    };
    (taken, camera)
}

#[cfg(test)]
mod tests {
    use image::{DynamicImage, Rgb, RgbImage, Rgba, RgbaImage};

    use super::*;

    fn encoded(picture: &DynamicImage, format: image::ImageFormat) -> Vec<u8> {
        let mut out = Vec::new();
        picture.write_to(&mut Cursor::new(&mut out), format).expect("encoded");
        out
    }

    #[test]
    fn a_photo_gets_two_jpeg_sizes_and_a_placeholder() {
        let photo = DynamicImage::ImageRgb8(RgbImage::from_fn(3000, 2000, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        }));
        let made = thumbnails(&encoded(&photo, image::ImageFormat::Jpeg)).expect("thumbnails");
        assert_eq!((made.width, made.height, made.mime), (3000, 2000, "image/jpeg"));
        let large = image::load_from_memory(made.large.as_deref().expect("large")).expect("jpeg");
        assert_eq!((large.width(), large.height()), (1024, 683));
        let small = image::load_from_memory(&made.small).expect("jpeg");
        assert_eq!((small.width(), small.height()), (256, 171));
        assert!(made.placeholder.starts_with("data:image/png;base64,"));
        assert!(made.placeholder.len() < 1000, "{}", made.placeholder.len());
    }

    #[test]
    fn transparency_is_kept_in_webp_and_a_small_picture_is_not_enlarged() {
        let icon = DynamicImage::ImageRgba8(RgbaImage::from_pixel(100, 40, Rgba([9, 9, 9, 0])));
        let made = thumbnails(&encoded(&icon, image::ImageFormat::Png)).expect("thumbnails");
        assert_eq!(made.mime, "image/webp");
        assert!(made.large.is_none());
        let small = image::load_from_memory(&made.small).expect("webp");
        assert_eq!((small.width(), small.height()), (100, 40));
        assert_eq!(small.to_rgba8().get_pixel(0, 0)[3], 0);
    }

    #[test]
    fn a_decompression_bomb_is_refused_before_it_is_decoded() {
        // A valid PNG header claiming 50,000 × 50,000 pixels (10 GB once decoded), a few
        // bytes long: refused from the header alone.
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut chunk = |kind: &[u8], data: &[u8]| {
            let mut body = kind.to_vec();
            body.extend(data);
            png.extend(u32::try_from(data.len()).expect("short").to_be_bytes());
            png.extend(&body);
            png.extend(crc32fast::hash(&body).to_be_bytes());
        };
        let mut ihdr = 50_000u32.to_be_bytes().to_vec();
        ihdr.extend(50_000u32.to_be_bytes());
        ihdr.extend([8, 2, 0, 0, 0]);
        chunk(b"IHDR", &ihdr);
        chunk(b"IDAT", &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]); // one zero byte
        chunk(b"IEND", &[]);
        assert!(png.len() < 100);
        let refused = thumbnails(&png).expect_err("refused");
        assert!(refused.0.contains("50000 × 50000"), "{refused}");
    }

    #[test]
    fn garbage_and_a_cut_off_picture_are_unusable_not_a_panic() {
        assert!(thumbnails(b"not a picture at all").is_err());
        let photo = DynamicImage::ImageRgb8(RgbImage::from_pixel(800, 600, Rgb([1, 2, 3])));
        let jpeg = encoded(&photo, image::ImageFormat::Jpeg);
        let _ = thumbnails(&jpeg[..jpeg.len() / 3]); // either a partial picture or an error
        let png = encoded(&photo, image::ImageFormat::Png);
        assert!(thumbnails(&png[..png.len() / 2]).is_err());
    }

    #[test]
    fn exif_orientation_is_applied_and_the_exif_is_gone() {
        let photo = DynamicImage::ImageRgb8(RgbImage::from_pixel(300, 100, Rgb([200, 10, 10])));
        let jpeg = encoded(&photo, image::ImageFormat::Jpeg);
        // An APP1 EXIF segment: one IFD entry, Orientation (0x0112) = 6, "rotate 90° clockwise".
        let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01".to_vec();
        exif.extend([0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]);
        let mut rotated = jpeg[..2].to_vec();
        rotated.extend([0xFF, 0xE1]);
        rotated.extend(u16::try_from(exif.len() + 2).expect("short").to_be_bytes());
        rotated.extend(&exif);
        rotated.extend(&jpeg[2..]);
        let made = thumbnails(&rotated).expect("thumbnails");
        assert_eq!((made.width, made.height), (100, 300));
        let small = image::load_from_memory(&made.small).expect("jpeg");
        assert_eq!((small.width(), small.height()), (85, 256));
        assert!(!made.small.windows(4).any(|w| w == b"Exif"), "metadata stripped");
    }
}
