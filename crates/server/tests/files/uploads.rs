//! Uploading: the type from the bytes (an SVG claimed to be a PNG is a
//! download), thumbnails, who may upload, and every bad upload refused with
//! the error envelope, storing nothing.

use reqwest::multipart::{Form, Part};
use reqwest::{header, StatusCode};
use serde_json::Value;

use crate::common::files::{png, upload};
use crate::common::TestApp;

on_both_stores!(uploads_and_downloads, bad_uploads_get_the_error_envelope);

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
