//! Uploads end to end, on both stores: type from the bytes, images validated
//! and stripped of metadata, who may download (uploader before sending,
//! members after, nobody after a delete), streaming with Range and ETags,
//! the sweeper, limits, storage failures, and error envelopes. The access
//! and range tests also run with the files in S3 (moto on loopback).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use common::{Backend, TestApp};
use natter_core::Id;
use natter_server::config::FilesArgs;
use natter_server::files::{local::LocalFiles, Files};
use reqwest::multipart::{Form, Part};
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

on_both_stores!(
    uploads_and_downloads,
    attachments_in_messages,
    who_sees_a_file,
    ranges_and_etags,
    bad_uploads_get_the_error_envelope,
    jpeg_metadata_is_stripped_and_orientation_applied,
    the_sweeper_removes_unsent_uploads,
);

/// The access and range tests with the files in an S3 bucket.
mod s3 {
    use super::*;

    async fn app() -> (common::s3::S3Server, TestApp) {
        let server = common::s3::S3Server::start();
        let args = server.bucket().await;
        (
            server,
            TestApp::start_with(Backend::Sqlite, args, None).await,
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn who_sees_a_file() {
        let (_s3, app) = app().await;
        super::who_sees_a_file(app).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ranges_and_etags() {
        let (_s3, app) = app().await;
        super::ranges_and_etags(app).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sweeper_removes_unsent_uploads() {
        let (_s3, app) = app().await;
        super::the_sweeper_removes_unsent_uploads(app).await;
    }
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([200, 30, 90]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

async fn upload(
    app: &TestApp,
    token: &str,
    room: &str,
    name: &str,
    bytes: Vec<u8>,
    mime: &str,
) -> (StatusCode, Value) {
    let form = Form::new().text("roomId", room.to_owned()).part(
        "file",
        Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str(mime)
            .unwrap(),
    );
    let res = app
        .client
        .post(format!("{}/api/upload", app.base))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn fetch(
    app: &TestApp,
    url: &str,
    token: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = app
        .client
        .get(format!("{}{url}", app.base))
        .bearer_auth(token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

fn id_of(url: &str) -> Id {
    natter_core::files::file_id(url).unwrap()
}

async fn storage_key(app: &TestApp, url: &str) -> String {
    app.state
        .store
        .upload(id_of(url))
        .await
        .unwrap()
        .unwrap()
        .storage_key
}

async fn uploads_and_downloads(app: TestApp) {
    let (ana, _) = app.user("ana").await;
    let (eve, _) = app.user("eve").await;
    let room = app.room(&ana, "Files", true).await;

    let (status, body) = upload(&app, &ana, &room, "cat.png", png(800, 400), "image/png").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let file = &body["file"];
    assert_eq!(file["contentType"], "image/png");
    assert_eq!(
        (file["width"].as_i64(), file["height"].as_i64()),
        (Some(800), Some(400))
    );
    let url = file["url"].as_str().unwrap().to_owned();
    let thumb = file["thumbnailUrl"].as_str().unwrap().to_owned();

    let res = app
        .client
        .get(format!("{}{url}", app.base))
        .bearer_auth(&ana)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "image/png");
    assert_eq!(res.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(res.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("inline"));
    let res = app
        .client
        .get(format!("{}{thumb}", app.base))
        .bearer_auth(&ana)
        .send()
        .await
        .unwrap();
    let t = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
    assert!(t.width() <= 360 && t.height() <= 360);

    // Not a member: no download, no upload; no token: 401.
    let res = app
        .client
        .get(format!("{}{url}", app.base))
        .bearer_auth(&eve)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .client
        .get(format!("{}{url}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = upload(&app, &eve, &room, "x.png", png(4, 4), "image/png").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // An SVG with script, claimed to be a PNG, is a download, never an image.
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>"#.to_vec();
    let (status, body) = upload(&app, &ana, &room, "evil.png", svg, "image/png").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["file"]["thumbnailUrl"].is_null());
    assert!(!body["file"]["contentType"]
        .as_str()
        .unwrap()
        .starts_with("image/"));
    let res = app
        .client
        .get(format!(
            "{}{}",
            app.base,
            body["file"]["url"].as_str().unwrap()
        ))
        .bearer_auth(&ana)
        .send()
        .await
        .unwrap();
    let disposition = res.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(!res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .contains("svg"));

    // A fake PNG is refused; so is an empty file, a missing room and a too-big file.
    let mut fake = b"\x89PNG\r\n\x1a\n".to_vec();
    fake.extend_from_slice(&[0u8; 64]);
    let (status, body) = upload(&app, &ana, &room, "fake.png", fake, "image/png").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = upload(&app, &ana, &room, "e.txt", Vec::new(), "text/plain").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = upload(&app, &ana, "999999", "a.txt", b"hi".to_vec(), "text/plain").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = upload(
        &app,
        &ana,
        &room,
        "big.bin",
        vec![7u8; 11 * 1024 * 1024],
        "application/octet-stream",
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let res = app
        .client
        .post(format!("{}/api/upload", app.base))
        .bearer_auth(&ana)
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=x")
        .body("--x\r\nbroken")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

async fn attachments_in_messages(app: TestApp) {
    let (ana, _) = app.user("ana").await;
    let (bob, _) = app.user("bob").await;
    let room = app.room(&ana, "Files", false).await;
    app.post(&format!("/api/rooms/{room}/join"), &bob, json!({}))
        .await;
    let (_, body) = upload(
        &app,
        &ana,
        &room,
        "notes.txt",
        b"hello".to_vec(),
        "text/plain",
    )
    .await;
    let txt = body["file"]["url"].as_str().unwrap().to_owned();
    let (_, body) = upload(&app, &ana, &room, "cat.png", png(10, 10), "image/png").await;
    let img = body["file"]["url"].as_str().unwrap().to_owned();
    let send = |body: Value| app.post("/api/messages", &ana, body);
    let (status, m) =
        send(json!({"roomId": room, "content": "", "type": "image", "fileUrl": img})).await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["message"]["type"], "image");
    assert_eq!(m["message"]["fileUrl"], img);
    let (status, m) =
        send(json!({"roomId": room, "content": "notes", "type": "file", "fileUrl": txt})).await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    // A text file is not an image; a type without url, another's file, a file
    // of another room or a foreign url is refused and stores nothing.
    let (status, _) =
        send(json!({"roomId": room, "content": "x", "type": "image", "fileUrl": txt})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = send(json!({"roomId": room, "content": "x", "type": "file"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, other) = upload(&app, &bob, &room, "b.txt", b"bob".to_vec(), "text/plain").await;
    let (status, _) = send(
        json!({"roomId": room, "content": "x", "type": "file", "fileUrl": other["file"]["url"]}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "only a file the sender uploaded"
    );
    let room2 = app.room(&ana, "Elsewhere", false).await;
    let (status, _) = app
        .post(
            "/api/messages",
            &ana,
            json!({"roomId": room2, "content": "x", "type": "file", "fileUrl": txt}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "only a file of that room");
    let (status, _) = send(json!({"roomId": room, "content": "x", "type": "file", "fileUrl": "https://evil.example/x"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, page) = app.get(&format!("/api/messages?roomId={room}"), &bob).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 2, "{page}");
    // Another member downloads the text file.
    let res = app
        .client
        .get(format!("{}{txt}", app.base))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "text/plain; charset=utf-8"
    );
    assert!(res.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"notes.txt\""));
    assert_eq!(res.text().await.unwrap(), "hello");
}

async fn send_file(app: &TestApp, token: &str, room: &str, url: &str, kind: &str) -> Value {
    let (status, m) = app
        .post(
            "/api/messages",
            token,
            json!({"roomId": room, "content": "", "type": kind, "fileUrl": url}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    m["message"].clone()
}

async fn who_sees_a_file(app: TestApp) {
    let (ana, _) = app.user("ana").await;
    let (bob, _) = app.user("bob").await;
    let (eve, _) = app.user("eve").await;
    let room = app.room(&ana, "Files", false).await;
    app.post(&format!("/api/rooms/{room}/join"), &bob, json!({}))
        .await;
    let (_, body) = upload(&app, &ana, &room, "cat.png", png(64, 32), "image/png").await;
    let url = body["file"]["url"].as_str().unwrap().to_owned();
    let thumb = body["file"]["thumbnailUrl"].as_str().unwrap().to_owned();
    let key = storage_key(&app, &url).await;

    // Unsent: its uploader only (a member of the room gets 404).
    assert_eq!(fetch(&app, &url, &ana, &[]).await.status(), StatusCode::OK);
    let info: Value = fetch(&app, &format!("{url}/info"), &ana, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            info["file"]["name"].as_str(),
            info["file"]["contentType"].as_str(),
            info["file"]["width"].as_i64()
        ),
        (Some("cat.png"), Some("image/png"), Some(64))
    );
    assert_eq!(
        fetch(&app, &format!("{url}/info"), &bob, &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        fetch(&app, &thumb, &ana, &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        fetch(&app, &url, &bob, &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        fetch(&app, &thumb, &bob, &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    // Another member cannot send it either.
    let (status, _) = app
        .post(
            "/api/messages",
            &bob,
            json!({"roomId": room, "content": "", "type": "image", "fileUrl": url}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Sent: every member; still nobody else.
    let m = send_file(&app, &ana, &room, &url, "image").await;
    let res = fetch(&app, &url, &bob, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.bytes().await.unwrap(),
        Bytes::from(png_of(&app, &url, &ana).await)
    );
    assert_eq!(
        fetch(&app, &thumb, &bob, &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        fetch(&app, &url, &eve, &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    // A file goes with one message.
    let (status, again) = app
        .post(
            "/api/messages",
            &ana,
            json!({"roomId": room, "content": "", "type": "image", "fileUrl": url}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{again}");

    // Deleted: nobody, and the bytes are gone from the file store.
    assert!(app.state.files.head(&key).await.unwrap().is_some());
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/messages/{}", m["id"].as_str().unwrap()),
            Some(&ana),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for who in [&ana, &bob] {
        let res = fetch(&app, &url, who, &[]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
        assert_eq!(
            fetch(&app, &thumb, who, &[]).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(app.state.files.head(&key).await.unwrap(), None);
    assert_eq!(
        app.state.files.head(&format!("{key}.thumb")).await.unwrap(),
        None
    );
    assert!(app.state.store.upload(id_of(&url)).await.unwrap().is_none());
}

async fn png_of(app: &TestApp, url: &str, token: &str) -> Vec<u8> {
    fetch(app, url, token, &[])
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

async fn ranges_and_etags(app: TestApp) {
    let (ana, _) = app.user("ana").await;
    let (bob, _) = app.user("bob").await;
    let room = app.room(&ana, "Files", false).await;
    let data: Vec<u8> = (0..1000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let (status, body) = upload(&app, &ana, &room, "abc.txt", data.clone(), "text/plain").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let url = body["file"]["url"].as_str().unwrap().to_owned();

    let res = fetch(&app, &url, &ana, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::ACCEPT_RANGES], "bytes");
    assert_eq!(res.headers()[header::CONTENT_LENGTH], "1000");
    let etag = res.headers()[header::ETAG].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    assert_eq!(res.bytes().await.unwrap(), data);

    let res = fetch(&app, &url, &ana, &[("range", "bytes=10-19")]).await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.headers()[header::CONTENT_RANGE], "bytes 10-19/1000");
    assert_eq!(res.headers()[header::CONTENT_LENGTH], "10");
    assert_eq!(res.bytes().await.unwrap(), data[10..20]);
    let res = fetch(&app, &url, &ana, &[("range", "bytes=-5")]).await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.headers()[header::CONTENT_RANGE], "bytes 995-999/1000");
    assert_eq!(res.bytes().await.unwrap(), data[995..]);
    let res = fetch(&app, &url, &ana, &[("range", "bytes=990-")]).await;
    assert_eq!(res.bytes().await.unwrap(), data[990..]);
    let res = fetch(&app, &url, &ana, &[("range", "bytes=1000-")]).await;
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(res.headers()[header::CONTENT_RANGE], "bytes */1000");
    // If-Range with another ETag: the whole file.
    let res = fetch(
        &app,
        &url,
        &ana,
        &[("range", "bytes=0-1"), ("if-range", "\"old\"")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = fetch(
        &app,
        &url,
        &ana,
        &[("range", "bytes=0-1"), ("if-range", &etag)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);

    let res = fetch(&app, &url, &ana, &[("if-none-match", &etag)]).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(res.headers()[header::ETAG], etag.as_str());
    assert!(res.bytes().await.unwrap().is_empty());
    let res = fetch(&app, &url, &ana, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    // Access is checked before the ETag: no 304 for whoever may not see it.
    let res = fetch(&app, &url, &bob, &[("if-none-match", &etag)]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

async fn bad_uploads_get_the_error_envelope(app: TestApp) {
    let (ana, _) = app.user("ana").await;
    let room = app.room(&ana, "Files", false).await;
    let post = |ct: Option<&'static str>, body: Vec<u8>| {
        let mut req = app
            .client
            .post(format!("{}/api/upload", app.base))
            .bearer_auth(&ana)
            .body(body);
        if let Some(ct) = ct {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        req.send()
    };
    let envelope = |status: StatusCode, code: &'static str| {
        move |res: reqwest::Response| async move {
            assert_eq!(res.status(), status);
            assert!(res.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json"));
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"]["code"], code, "{body}");
            assert!(
                body["error"]["message"].as_str().unwrap().len() > 3,
                "{body}"
            );
            body
        }
    };
    let invalid = envelope(StatusCode::BAD_REQUEST, "invalid");
    // JSON instead of multipart, no content type, broken multipart.
    invalid(
        post(Some("application/json"), br#"{"roomId":"1"}"#.to_vec())
            .await
            .unwrap(),
    )
    .await;
    invalid(post(None, b"hello".to_vec()).await.unwrap()).await;
    invalid(
        post(Some("multipart/form-data"), b"--x\r\n".to_vec())
            .await
            .unwrap(),
    )
    .await;
    invalid(
        post(
            Some("multipart/form-data; boundary=x"),
            b"--x\r\nbroken".to_vec(),
        )
        .await
        .unwrap(),
    )
    .await;
    // Missing fields.
    let only_room = Form::new().text("roomId", room.clone());
    let res = app
        .client
        .post(format!("{}/api/upload", app.base))
        .bearer_auth(&ana)
        .multipart(only_room)
        .send()
        .await
        .unwrap();
    let body = invalid(res).await;
    assert!(body["error"]["message"].as_str().unwrap().contains("file"));
    let only_file = Form::new().part("file", Part::bytes(b"x".to_vec()).file_name("x.txt"));
    let res = app
        .client
        .post(format!("{}/api/upload", app.base))
        .bearer_auth(&ana)
        .multipart(only_file)
        .send()
        .await
        .unwrap();
    let body = invalid(res).await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("roomId"));
    let bad_room = Form::new()
        .text("roomId", "x".repeat(10_000))
        .part("file", Part::bytes(b"x".to_vec()).file_name("x.txt"));
    let res = app
        .client
        .post(format!("{}/api/upload", app.base))
        .bearer_auth(&ana)
        .multipart(bad_room)
        .send()
        .await
        .unwrap();
    invalid(res).await;
    // Too big; no token.
    let (status, body) = upload(
        &app,
        &ana,
        &room,
        "big.bin",
        vec![1u8; 10 * 1024 * 1024 + 1],
        "application/octet-stream",
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large"))
    );
    let res = app
        .client
        .post(format!("{}/api/upload", app.base))
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=x")
        .body("--x--\r\n")
        .send()
        .await
        .unwrap();
    envelope(StatusCode::UNAUTHORIZED, "unauthenticated")(res).await;
    // Nothing of all that was stored.
    let long_ago = natter_store::now() - time::Duration::days(2);
    let ana_id = app.state.tokens.verify(&ana).unwrap().user_id;
    assert_eq!(
        app.state
            .store
            .uploaded_bytes_since(ana_id, long_ago)
            .await
            .unwrap(),
        0
    );
}

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

async fn the_sweeper_removes_unsent_uploads(app: TestApp) {
    let (ana, _) = app.user("ana").await;
    let room = app.room(&ana, "Files", false).await;
    let (_, a) = upload(&app, &ana, &room, "a.txt", b"kept".to_vec(), "text/plain").await;
    let (_, b) = upload(&app, &ana, &room, "b.png", png(8, 8), "image/png").await;
    let kept = a["file"]["url"].as_str().unwrap().to_owned();
    let swept = b["file"]["url"].as_str().unwrap().to_owned();
    send_file(&app, &ana, &room, &kept, "file").await;
    let key = storage_key(&app, &swept).await;

    // Within 24 h nothing goes.
    let day = std::time::Duration::from_secs(24 * 3600);
    assert_eq!(app.state.sweep_uploads(day).await.unwrap(), 0);
    assert_eq!(
        fetch(&app, &swept, &ana, &[]).await.status(),
        StatusCode::OK
    );
    // Past it (here: any age), the unsent one goes, bytes and thumbnail too.
    assert_eq!(
        app.state
            .sweep_uploads(std::time::Duration::ZERO)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        fetch(&app, &swept, &ana, &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.state.files.head(&key).await.unwrap(), None);
    assert_eq!(
        app.state.files.head(&format!("{key}.thumb")).await.unwrap(),
        None
    );
    assert_eq!(fetch(&app, &kept, &ana, &[]).await.status(), StatusCode::OK);
    // Sending it now fails clearly.
    let (status, body) = app
        .post(
            "/api/messages",
            &ana,
            json!({"roomId": room, "content": "", "type": "image", "fileUrl": swept}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        app.state
            .sweep_uploads(std::time::Duration::ZERO)
            .await
            .unwrap(),
        0
    );
}

// ---- limits and failures (SQLite is enough: no store-specific SQL) ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_quota_holds() {
    let args = FilesArgs {
        max_upload_mb: 1,
        upload_quota_mb: 1,
        ..FilesArgs::default()
    };
    let app = TestApp::start_with(Backend::Sqlite, args, None).await;
    let (ana, _) = app.user("ana").await;
    let room = app.room(&ana, "Files", false).await;
    let (status, _) = upload(
        &app,
        &ana,
        &room,
        "a.bin",
        vec![1u8; 600 * 1024],
        "application/octet-stream",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = upload(
        &app,
        &ana,
        &room,
        "b.bin",
        vec![2u8; 600 * 1024],
        "application/octet-stream",
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "too_large");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("quota"),
        "{body}"
    );
    let (status, body) = upload(
        &app,
        &ana,
        &room,
        "c.bin",
        vec![3u8; 1024 * 1024 + 1],
        "application/octet-stream",
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("1 MB"),
        "{body}"
    );
    // Another user has their own quota.
    let (bob, _) = app.user("bob").await;
    app.post(&format!("/api/rooms/{room}/join"), &bob, json!({}))
        .await;
    let (status, _) = upload(
        &app,
        &bob,
        &room,
        "d.bin",
        vec![4u8; 600 * 1024],
        "application/octet-stream",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

/// A file store whose puts fail from the `fail_from`-th on (1-based).
struct Failing {
    inner: LocalFiles,
    puts: AtomicUsize,
    fail_from: usize,
}

#[async_trait::async_trait]
impl Files for Failing {
    async fn put(&self, key: &str, bytes: Bytes) -> natter_core::Result<()> {
        if self.puts.fetch_add(1, Ordering::SeqCst) + 1 >= self.fail_from {
            return Err(natter_core::Error::Unavailable(
                "file storage failed (put); retry shortly".into(),
            ));
        }
        self.inner.put(key, bytes).await
    }
    async fn get(
        &self,
        key: &str,
        range: Option<std::ops::Range<u64>>,
    ) -> natter_core::Result<Option<natter_server::files::Object>> {
        self.inner.get(key, range).await
    }
    async fn head(&self, key: &str) -> natter_core::Result<Option<u64>> {
        self.inner.head(key).await
    }
    async fn delete(&self, key: &str) -> natter_core::Result<()> {
        self.inner.delete(key).await
    }
    fn describe(&self) -> String {
        "failing test store".into()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_failure_is_clear_and_leaves_nothing() {
    for fail_from in [1, 2] {
        // 1: the file's put fails; 2: its thumbnail's put fails after the file was stored.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("uploads");
        let failing = Arc::new(Failing {
            inner: LocalFiles::new(root.clone()),
            puts: AtomicUsize::new(0),
            fail_from,
        });
        let app = TestApp::start_with(Backend::Sqlite, FilesArgs::default(), Some(failing)).await;
        let (ana, _) = app.user("ana").await;
        let room = app.room(&ana, "Files", false).await;
        let (status, body) = upload(&app, &ana, &room, "cat.png", png(16, 16), "image/png").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        assert_eq!(body["error"]["code"], "internal");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("file storage failed"),
            "{body}"
        );
        let ana_id = app.state.tokens.verify(&ana).unwrap().user_id;
        let long_ago = natter_store::now() - time::Duration::days(2);
        assert_eq!(
            app.state
                .store
                .uploaded_bytes_since(ana_id, long_ago)
                .await
                .unwrap(),
            0,
            "no row"
        );
        assert!(app.state.store.upload(Id(1)).await.unwrap().is_none());
        let left = std::fs::read_dir(&root).map(|d| d.count()).unwrap_or(0);
        assert_eq!(left, 0, "no bytes left behind (fail_from {fail_from})");
    }
}
