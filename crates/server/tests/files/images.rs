//! Images: JPEG metadata (EXIF with GPS) stripped and the orientation
//! applied before the file is stored.

use reqwest::StatusCode;

use crate::common::files::{fetch, upload};
use crate::common::TestApp;

on_both_stores!(jpeg_metadata_is_stripped_and_orientation_applied);

/// A minimal EXIF block (big-endian TIFF): Orientation 6 (rotate 90°) and
/// a GPS IFD with a latitude.
fn exif_with_gps() -> Vec<u8> {
    let mut t: Vec<u8> = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    t.extend_from_slice(&[0, 2]); // IFD0: 2 entries
    t.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]); // Orientation = 6
    t.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]); // GPS IFD at 38
    t.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(t.len(), 38);
    t.extend_from_slice(&[0, 2]); // GPS IFD: 2 entries
    t.extend_from_slice(&[0x00, 0x01, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]); // GPSLatitudeRef "N"
    t.extend_from_slice(&[0x00, 0x02, 0, 5, 0, 0, 0, 3, 0, 0, 0, 68]); // GPSLatitude at 68
    t.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(t.len(), 68);
    for (n, d) in [(52u32, 1u32), (22, 1), (1234, 100)] {
        t.extend_from_slice(&n.to_be_bytes());
        t.extend_from_slice(&d.to_be_bytes());
    }
    t
}

async fn jpeg_metadata_is_stripped_and_orientation_applied(app: TestApp) {
    use img_parts::ImageEXIF;
    let (ana, _) = app.user("ana").await;
    let room = app.room(&ana, "Files", false).await;
    let img = image::RgbImage::from_pixel(40, 20, image::Rgb([10, 200, 30]));
    let mut plain = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(
            &mut std::io::Cursor::new(&mut plain),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(plain.into()).unwrap();
    jpeg.set_exif(Some(exif_with_gps().into()));
    let tagged = jpeg.encoder().bytes().to_vec();
    assert!(img_parts::jpeg::Jpeg::from_bytes(tagged.clone().into())
        .unwrap()
        .exif()
        .is_some());

    let (status, body) = upload(&app, &ana, &room, "photo.jpg", tagged, "image/jpeg").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Orientation 6 applied: the 40×20 photo stands 20×40.
    assert_eq!(
        (
            body["file"]["width"].as_i64(),
            body["file"]["height"].as_i64()
        ),
        (Some(20), Some(40))
    );
    let url = body["file"]["url"].as_str().unwrap();
    let got = fetch(&app, url, &ana, &[]).await.bytes().await.unwrap();
    let back = img_parts::jpeg::Jpeg::from_bytes(got.clone()).unwrap();
    assert!(back.exif().is_none(), "EXIF (with GPS) is gone");
    assert!(!got.windows(4).any(|w| w == b"Exif"));
    let decoded = image::load_from_memory(&got).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (20, 40));
    assert_eq!(body["file"]["size"].as_u64(), Some(got.len() as u64));
}
