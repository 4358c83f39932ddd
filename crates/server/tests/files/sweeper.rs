//! The sweeper: unsent uploads older than a day go, bytes and thumbnail
//! too; sent ones stay. Also run with the files in S3.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::files::{fetch, png, send_file, storage_key, upload};
use crate::common::TestApp;

on_both_stores!(the_sweeper_removes_unsent_uploads);

on_s3!(the_sweeper_removes_unsent_uploads);

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
    // A day and a minute later, the unsent one goes, bytes and thumbnail too.
    app.clock.advance(day + std::time::Duration::from_secs(60));
    assert_eq!(app.state.sweep_uploads(day).await.unwrap(), 1);
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
    assert_eq!(app.state.sweep_uploads(day).await.unwrap(), 0);
}
