//! Opening a store: SQLite makes its folder and file, in-memory SQLite
//! works, and unknown URL schemes are refused.

use natter_core::Error;

use crate::support::{post, room, user};

#[tokio::test]
async fn sqlite_creates_its_folder_and_file() {
    let dir = std::env::temp_dir().join(format!("natter_t_dir_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let url = format!("sqlite://{}", dir.join("nested/natter.db").display());
    natter_store::migrate(&url).await.unwrap();
    let s = natter_store::connect(&url).await.unwrap();
    s.ping().await.unwrap();
    user(&s, "alice").await;
    drop(s);
    let s = natter_store::connect(&format!(
        "sqlite:{}",
        dir.join("nested/natter.db").display()
    ))
    .await
    .unwrap();
    assert!(
        s.credentials("alice").await.unwrap().is_some(),
        "data survives reopening"
    );
    drop(s);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn in_memory_sqlite_works() {
    let s = natter_store::connect("sqlite::memory:").await.unwrap();
    let alice = user(&s, "alice").await;
    let r = room(&s, &alice, "general", false).await;
    assert_eq!(post(&s, r.id, alice.user.id, "hi").await.seq, 1);
}

#[tokio::test]
async fn unknown_schemes_are_refused() {
    let err = natter_store::connect("mysql://localhost/x")
        .await
        .err()
        .unwrap();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
}
