//! Search results in order: ranking and pages that cover every match once,
//! history around a result, and the backfill of messages from before search.

use natter_core::search::Sort;

use crate::support::search::{found, request, searchable};
use crate::support::{post, room, seqs, S};

on_both!(
    search_ranks_and_pages_every_match_once,
    history_around_centres_on_a_message,
);

async fn search_ranks_and_pages_every_match_once(s: S) {
    let (alice, r) = searchable(&s, &[]).await;
    let weak = post(
        &s,
        r.id,
        alice.user.id,
        "kiwi and a great many other words that make this message long and dilute it",
    )
    .await;
    let strong = post(&s, r.id, alice.user.id, "kiwi kiwi kiwi").await;
    let hits = s.search(request(&alice, "kiwi")).await.unwrap().messages;
    assert_eq!(
        hits.iter().map(|m| m.id).collect::<Vec<_>>(),
        [strong.id, weak.id]
    );
    let mut newest = request(&alice, "kiwi");
    newest.sort = Sort::Newest;
    let hits = s.search(newest).await.unwrap().messages;
    assert_eq!(
        hits.iter().map(|m| m.id).collect::<Vec<_>>(),
        [strong.id, weak.id]
    );

    // Equal ranks: newer first. Pages cover every match once, whatever is
    // sent while paging.
    let mut same = Vec::new();
    let mut meanwhile = Vec::new();
    for i in 0..23 {
        same.push(
            post(&s, r.id, alice.user.id, &format!("mango number {i}"))
                .await
                .id,
        );
    }
    for sort in [Sort::Relevance, Sort::Newest] {
        let mut seen = Vec::new();
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let mut req = request(&alice, "mango");
            req.sort = sort;
            req.limit = 5;
            req.cursor = cursor;
            let page = s.search(req).await.unwrap();
            assert!(page.messages.len() <= 5);
            seen.extend(page.messages.iter().map(|m| m.id));
            pages += 1;
            if pages == 2 {
                meanwhile.push(
                    post(&s, r.id, alice.user.id, "mango sent meanwhile")
                        .await
                        .id,
                );
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let mut expected = same.clone();
        // Sent while an earlier search paged: part of this one.
        expected.extend(&meanwhile[..meanwhile.len() - 1]);
        expected.reverse();
        assert_eq!(pages, expected.len().div_ceil(5), "{sort:?}");
        assert_eq!(seen, expected, "{sort:?}: every match once, newest first");
    }
}

async fn history_around_centres_on_a_message(s: S) {
    let (alice, r) = searchable(&s, &[]).await;
    for i in 1..=20 {
        post(&s, r.id, alice.user.id, &format!("m{i}")).await;
    }
    let page = s.history_around(r.id, 10, 5).await.unwrap();
    assert_eq!(seqs(&page.messages), [8, 9, 10, 11, 12]);
    assert!(page.has_more_before && page.has_more_after);
    // At either end, the other side fills the page.
    let page = s.history_around(r.id, 1, 5).await.unwrap();
    assert_eq!(seqs(&page.messages), [1, 2, 3, 4, 5]);
    assert!(!page.has_more_before && page.has_more_after);
    let page = s.history_around(r.id, 20, 6).await.unwrap();
    assert_eq!(seqs(&page.messages), [15, 16, 17, 18, 19, 20]);
    assert!(page.has_more_before && !page.has_more_after);
    let page = s.history_around(r.id, 19, 1).await.unwrap();
    assert_eq!(seqs(&page.messages), [19]);
    assert!(page.has_more_before && page.has_more_after);
    let page = s.history_around(r.id, 3, 40).await.unwrap();
    assert_eq!(page.messages.len(), 20);
    assert!(!page.has_more_before && !page.has_more_after);
}

/// Messages stored before search existed (search_text NULL, as after the
/// migration) are indexed when the store opens.
async fn backfill_indexes_old_messages(db: natter_store::testing::TestDb) {
    let store = natter_store::connect(&db.url).await.unwrap();
    let (alice, _) = searchable(&store, &["old plum message", "old link https://x.org"]).await;
    let more: Vec<String> = (0..1200).map(|i| format!("filler {i}")).collect();
    let r = room(&store, &alice, "filler", false).await;
    for t in &more {
        post(&store, r.id, alice.user.id, t).await;
    }
    drop(store);
    {
        use sqlx::Connection;
        let sql = "UPDATE messages SET search_text = NULL, has_link = FALSE";
        if db.url.starts_with("sqlite") {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        } else {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    }
    let store = natter_store::connect(&db.url).await.unwrap();
    assert_eq!(found(&store, &alice, "plum").await, ["old plum message"]);
    assert_eq!(
        found(&store, &alice, "has:link").await,
        ["old link https://x.org"]
    );
    assert_eq!(found(&store, &alice, "filler").await.len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backfills_search() {
    backfill_indexes_old_messages(natter_store::testing::TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backfills_search() {
    backfill_indexes_old_messages(natter_store::testing::TestDb::postgres().await).await;
}
