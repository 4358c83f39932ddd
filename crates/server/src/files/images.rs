//! What an uploaded file is, decided from its bytes, and images made safe:
//! dimensions read from the header before anything is decoded (at most
//! [`MAX_PIXELS`]), decoding under `image::Limits`, at most one decode per
//! core at a time ([`DecodeGate`]), metadata (EXIF, GPS, XMP, text chunks)
//! removed, a 360 px thumbnail made.

use std::io::Cursor;
use std::sync::Arc;

use bytes::Bytes;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use img_parts::ImageEXIF;
use natter_core::{Error, Result};
use tokio::sync::Semaphore;

/// Largest image decoded, in pixels (width × height): 40 megapixels. A
/// bigger one is refused from its header, before any pixel is decoded.
pub const MAX_PIXELS: u64 = 40_000_000;
/// Longest side of an image (a 1 × 40M strip is no picture).
pub const MAX_SIDE: u32 = 16_384;
/// Decode memory ceiling: 40 MP at 4 bytes a pixel, and some slack.
const MAX_ALLOC: u64 = MAX_PIXELS * 4 + 16 * 1024 * 1024;
/// Longest side of a thumbnail.
const THUMB_SIDE: u32 = 360;
/// JPEGs are re-encoded (that is what drops their metadata) at this quality.
const JPEG_QUALITY: u8 = 90;
/// Decodes waiting per core before new ones are refused (`rate_limited`).
pub const QUEUE_PER_CORE: usize = 8;
/// Pixel memory all decodes of a node may hold at once, in MB: one image at
/// the 40 MP limit fits; two such are decoded one after the other, whatever
/// the number of cores.
pub const DECODE_MEMORY_MB: u32 = 192;

/// What decoding an image of `w` × `h` may take, in MB (4 bytes a pixel,
/// and one MB for the rest), as charged to [`DECODE_MEMORY_MB`].
pub fn decode_cost_mb(w: u32, h: u32) -> u32 {
    let mb = (u64::from(w) * u64::from(h) * 4).div_ceil(1024 * 1024) + 1;
    u32::try_from(mb).unwrap_or(u32::MAX).min(DECODE_MEMORY_MB)
}

/// What the server decided a file is, and the bytes to store (an image's
/// without its metadata).
#[derive(Debug)]
pub struct Inspected {
    pub content_type: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub thumbnail: Option<Vec<u8>>,
    pub bytes: Bytes,
}

/// The raster image types shown inline; everything else is a download.
pub fn image_kind(bytes: &[u8]) -> Option<(&'static str, ImageFormat)> {
    match infer::get(bytes).map(|t| t.mime_type()) {
        Some("image/png") => Some(("image/png", ImageFormat::Png)),
        Some("image/jpeg") => Some(("image/jpeg", ImageFormat::Jpeg)),
        Some("image/gif") => Some(("image/gif", ImageFormat::Gif)),
        Some("image/webp") => Some(("image/webp", ImageFormat::WebP)),
        _ => None,
    }
}

/// Cheap: reads the image's header only. Refuses what is over the limits
/// or not readable as the format its bytes claim.
pub fn check_header(bytes: &[u8], format: ImageFormat) -> Result<(u32, u32)> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.no_limits();
    let (w, h) = reader
        .into_dimensions()
        .map_err(|_| Error::invalid("file: not a readable image"))?;
    let pixels = u64::from(w) * u64::from(h);
    if pixels > MAX_PIXELS || w > MAX_SIDE || h > MAX_SIDE {
        return Err(Error::TooLarge(format!(
            "image: {w}×{h} is {:.0} megapixels; at most {} megapixels and {MAX_SIDE} px a side",
            pixels as f64 / 1e6,
            MAX_PIXELS / 1_000_000
        )));
    }
    Ok((w, h))
}

/// Decides what `bytes` are; images are decoded (call on a blocking
/// thread, through the [`DecodeGate`]). Never trusts a name or a header.
pub fn inspect(bytes: Bytes) -> Result<Inspected> {
    let Some((mime, format)) = image_kind(&bytes) else {
        return Ok(Inspected {
            content_type: plain_type(&bytes),
            width: None,
            height: None,
            thumbnail: None,
            bytes,
        });
    };
    check_header(&bytes, format)?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    let mut reader = ImageReader::with_format(Cursor::new(&bytes[..]), format);
    reader.limits(limits);
    let broken = |_| Error::invalid("file: a broken or oversized image");
    let mut decoder = reader.into_decoder().map_err(broken)?;
    if decoder.total_bytes() > MAX_ALLOC {
        return Err(Error::TooLarge("image: too large to decode".into()));
    }
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).map_err(broken)?;
    let stored = match format {
        ImageFormat::Jpeg => {
            // Re-encoding drops every metadata segment (EXIF, GPS, XMP);
            // the EXIF orientation is applied first so photos stay upright.
            if let Some(o) = orientation {
                img.apply_orientation(o);
            }
            reencode_jpeg(&img)?
        }
        ImageFormat::Png => strip_png(bytes)?,
        ImageFormat::WebP => strip_webp(bytes)?,
        // GIF has no EXIF; stored as sent (animations kept).
        _ => bytes,
    };
    let mut thumb = Vec::new();
    img.thumbnail(THUMB_SIDE, THUMB_SIDE)
        .write_to(&mut Cursor::new(&mut thumb), ImageFormat::Png)
        .map_err(Error::internal)?;
    Ok(Inspected {
        content_type: mime.to_owned(),
        width: i32::try_from(img.width()).ok(),
        height: i32::try_from(img.height()).ok(),
        thumbnail: Some(thumb),
        bytes: stored,
    })
}

fn plain_type(bytes: &[u8]) -> String {
    match infer::get(bytes).map(|t| t.mime_type()) {
        Some(m) => m.to_owned(),
        None if std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) => {
            "text/plain".to_owned()
        }
        None => "application/octet-stream".to_owned(),
    }
}

fn reencode_jpeg(img: &DynamicImage) -> Result<Bytes> {
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
    let res = match img {
        DynamicImage::ImageLuma8(g) => g.write_with_encoder(encoder),
        other => other.to_rgb8().write_with_encoder(encoder),
    };
    res.map_err(Error::internal)?;
    Ok(Bytes::from(out))
}

/// PNG chunks kept: the ones that make up the picture and its colours.
/// Text (`tEXt`, `zTXt`, `iTXt`), `eXIf`, `tIME` and unknown chunks go.
const PNG_KEEP: [&[u8; 4]; 14] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
    b"pHYs", b"acTL", b"fcTL", b"fdAT",
];

fn strip_png(bytes: Bytes) -> Result<Bytes> {
    let mut png = img_parts::png::Png::from_bytes(bytes)
        .map_err(|_| Error::invalid("file: a broken image"))?;
    png.chunks_mut()
        .retain(|c| PNG_KEEP.iter().any(|k| **k == c.kind()));
    Ok(png.encoder().bytes())
}

fn strip_webp(bytes: Bytes) -> Result<Bytes> {
    let mut webp = img_parts::webp::WebP::from_bytes(bytes)
        .map_err(|_| Error::invalid("file: a broken image"))?;
    webp.set_exif(None);
    webp.remove_chunks_by_id(*b"XMP ");
    Ok(webp.encoder().bytes())
}

/// At most one decode per core at a time, within a memory budget; a bounded
/// number wait, the rest are refused at once (`rate_limited`, retry in 2 s)
/// instead of piling up.
pub struct DecodeGate {
    run: Arc<Semaphore>,
    admit: Arc<Semaphore>,
    memory: Arc<Semaphore>,
}

impl DecodeGate {
    pub fn new(workers: usize, queue: usize) -> DecodeGate {
        let workers = workers.max(1);
        DecodeGate {
            run: Arc::new(Semaphore::new(workers)),
            admit: Arc::new(Semaphore::new(workers + queue)),
            memory: Arc::new(Semaphore::new(DECODE_MEMORY_MB as usize)),
        }
    }

    /// One per core, `QUEUE_PER_CORE` waiting per core.
    pub fn per_core() -> DecodeGate {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        DecodeGate::new(cores, cores * QUEUE_PER_CORE)
    }

    /// Runs `f` on a blocking thread once a worker and `cost_mb` of the
    /// memory budget are free. The permits go with `f`, so a cancelled
    /// request does not free its slot early.
    pub async fn run<T, F>(&self, cost_mb: u32, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T> + Send + 'static,
    {
        let admitted = self
            .admit
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::RateLimited {
                retry_after_secs: 2,
            })?;
        let memory = self
            .memory
            .clone()
            .acquire_many_owned(cost_mb.clamp(1, DECODE_MEMORY_MB))
            .await
            .map_err(Error::internal)?;
        let running = self
            .run
            .clone()
            .acquire_owned()
            .await
            .map_err(Error::internal)?;
        tokio::task::spawn_blocking(move || {
            let _slots = (admitted, memory, running);
            f()
        })
        .await
        .map_err(Error::internal)?
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        DynamicImage::new_rgb8(w, h)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn html_and_svg_are_never_images() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
        let i = inspect(Bytes::from_static(svg)).unwrap();
        assert!(i.width.is_none() && !i.content_type.starts_with("image/"));
        let html = b"<html><script>alert(1)</script></html>";
        let i = inspect(Bytes::from_static(html)).unwrap();
        assert!(i.thumbnail.is_none() && !i.content_type.starts_with("image/"));
    }

    #[test]
    fn fake_image_is_refused() {
        let mut fake = b"\x89PNG\r\n\x1a\n".to_vec();
        fake.extend_from_slice(b"not really a png");
        assert!(inspect(Bytes::from(fake)).is_err());
    }

    #[test]
    fn huge_dimensions_are_refused_from_the_header() {
        // A real 8192 x 8192 header over an empty body: refused as too
        // large without decoding (decoding would fail on the missing data).
        let mut bytes = png(8192, 8192);
        bytes.truncate(100);
        let err = check_header(&bytes, ImageFormat::Png).unwrap_err();
        assert!(matches!(err, Error::TooLarge(_)), "{err:?}");
        assert!(check_header(&png(100, 50), ImageFormat::Png).is_ok());
    }

    #[test]
    fn png_text_chunks_are_stripped() {
        let mut p = img_parts::png::Png::from_bytes(Bytes::from(png(4, 4))).unwrap();
        let n = p.chunks().len();
        p.chunks_mut().insert(
            1,
            img_parts::png::PngChunk::new(*b"tEXt", Bytes::from_static(b"GPS\x0052.1,4.3")),
        );
        let with_text = p.encoder().bytes();
        let out = inspect(with_text).unwrap();
        let stripped = img_parts::png::Png::from_bytes(out.bytes).unwrap();
        assert_eq!(stripped.chunks().len(), n);
        assert!(stripped.chunk_by_type(*b"tEXt").is_none());
    }

    #[tokio::test]
    async fn the_gate_runs_one_per_worker_and_refuses_past_its_queue() {
        let gate = Arc::new(DecodeGate::new(1, 1));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let first = {
            let gate = gate.clone();
            tokio::spawn(async move {
                gate.run(1, move || {
                    rx.recv().unwrap();
                    Ok(1)
                })
                .await
            })
        };
        // Wait until the first holds the worker.
        while gate.run.available_permits() != 0 {
            tokio::task::yield_now().await;
        }
        let second = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.run(1, || Ok(2)).await })
        };
        while gate.admit.available_permits() != 0 {
            tokio::task::yield_now().await;
        }
        let third = gate.run(1, || Ok(3)).await;
        assert!(matches!(third, Err(Error::RateLimited { .. })), "{third:?}");
        tx.send(()).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), 1);
        assert_eq!(second.await.unwrap().unwrap(), 2);
        assert_eq!(gate.run(1, || Ok(4)).await.unwrap(), 4);
    }

    #[tokio::test]
    async fn big_decodes_share_the_memory_budget() {
        assert_eq!(decode_cost_mb(10, 10), 2);
        assert_eq!(decode_cost_mb(8000, 5000), 154);
        assert_eq!(decode_cost_mb(40_000, 40_000), DECODE_MEMORY_MB);
        // Two workers, but two 154 MB decodes do not fit at once.
        let gate = Arc::new(DecodeGate::new(2, 4));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let first = {
            let gate = gate.clone();
            tokio::spawn(async move {
                gate.run(154, move || {
                    rx.recv().unwrap();
                    Ok(1)
                })
                .await
            })
        };
        while gate.memory.available_permits() == DECODE_MEMORY_MB as usize {
            tokio::task::yield_now().await;
        }
        let second = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.run(154, || Ok(2)).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(
            gate.run.available_permits(),
            1,
            "the second waits for memory, not a worker"
        );
        assert!(!second.is_finished());
        tx.send(()).unwrap();
        assert_eq!(first.await.unwrap().unwrap(), 1);
        assert_eq!(second.await.unwrap().unwrap(), 2);
    }
}
