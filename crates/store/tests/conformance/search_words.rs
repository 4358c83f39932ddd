//! Search: what matches a word: accents and case folded, longer words a
//! word starts, CJK inside sentences, identifiers and URL parts.

use crate::support::search::{found, searchable, sorted, strs};
use crate::support::S;

on_both!(
    search_folds_accents_and_case,
    search_finds_longer_words_a_word_starts,
    search_finds_cjk_words_inside_sentences,
    search_finds_identifiers_and_url_parts,
);

async fn search_folds_accents_and_case(s: S) {
    let texts = [
        "Meet at the Café",
        "CAFE OLE",
        "Reunión mañana",
        "1 Ångström",
        "nothing",
    ];
    let (alice, _) = searchable(&s, &texts).await;
    for q in ["cafe", "café", "CAFÉ", "Cafe"] {
        assert_eq!(
            sorted(found(&s, &alice, q).await),
            strs(&["CAFE OLE", "Meet at the Café"]),
            "{q}"
        );
    }
    for q in ["reunion", "REUNIÓN", "reunión"] {
        assert_eq!(found(&s, &alice, q).await, ["Reunión mañana"], "{q}");
    }
    for q in ["angstrom", "ÅNGSTRÖM"] {
        assert_eq!(found(&s, &alice, q).await, ["1 Ångström"], "{q}");
    }
    assert!(found(&s, &alice, "mananas").await.is_empty());
}

async fn search_finds_longer_words_a_word_starts(s: S) {
    let texts = [
        "we deployed it",
        "the deployment is done",
        "redeploy later",
        "Deploy now",
    ];
    let (alice, _) = searchable(&s, &texts).await;
    assert_eq!(
        sorted(found(&s, &alice, "deploy").await),
        strs(&["Deploy now", "the deployment is done", "we deployed it"])
    );
    assert_eq!(
        found(&s, &alice, "deployment").await,
        ["the deployment is done"]
    );
    // Short words are not dropped.
    assert_eq!(found(&s, &alice, "it").await, ["we deployed it"]);
}

async fn search_finds_cjk_words_inside_sentences(s: S) {
    let texts = [
        "明日の会議は東京で行います",
        "京都に行きます",
        "Tokyo meeting",
    ];
    let (alice, _) = searchable(&s, &texts).await;
    assert_eq!(
        found(&s, &alice, "東京").await,
        ["明日の会議は東京で行います"]
    );
    assert_eq!(
        found(&s, &alice, "会議").await,
        ["明日の会議は東京で行います"]
    );
    assert_eq!(
        found(&s, &alice, "東京で行").await,
        ["明日の会議は東京で行います"]
    );
    assert_eq!(
        sorted(found(&s, &alice, "行きます").await),
        strs(&["京都に行きます"])
    );
    // One character finds it anywhere in a run, the last one included.
    assert_eq!(
        sorted(found(&s, &alice, "京").await),
        strs(&["京都に行きます", "明日の会議は東京で行います"])
    );
    assert_eq!(
        sorted(found(&s, &alice, "す").await),
        strs(&["京都に行きます", "明日の会議は東京で行います"])
    );
    assert!(found(&s, &alice, "東都").await.is_empty());
    assert!(found(&s, &alice, "大阪").await.is_empty());
}

async fn search_finds_identifiers_and_url_parts(s: S) {
    let texts = [
        "Fix PLT-3699 today",
        "see https://github.com/natter/natter/issues/42 please",
        "PLT-1234 is older",
        "snake_case_name here",
    ];
    let (alice, _) = searchable(&s, &texts).await;
    assert_eq!(found(&s, &alice, "PLT-3699").await, ["Fix PLT-3699 today"]);
    assert_eq!(found(&s, &alice, "3699").await, ["Fix PLT-3699 today"]);
    assert_eq!(found(&s, &alice, "plt").await.len(), 2);
    let url = ["see https://github.com/natter/natter/issues/42 please"];
    assert_eq!(found(&s, &alice, "github").await, url);
    assert_eq!(found(&s, &alice, "issues/42").await, url);
    assert_eq!(found(&s, &alice, "github.com").await, url);
    assert_eq!(found(&s, &alice, "case").await, ["snake_case_name here"]);
}
