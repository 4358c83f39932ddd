//! Serving a file: Range requests, If-Range, ETags and 304s, access checked
//! before the ETag. Also run with the files in S3.

use reqwest::{header, StatusCode};

use crate::common::files::{fetch, upload};
use crate::common::TestApp;

on_both_stores!(ranges_and_etags);

on_s3!(ranges_and_etags);

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
