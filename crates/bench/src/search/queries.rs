//! S7's query mix: the kinds of query it times, the check of each one's
//! first page, and the figures per kind.

use std::collections::HashSet;

use anyhow::Result;
use serde_json::{json, Value};

use crate::api::Api;
use crate::scenarios::time_requests;

/// The kinds of query S7 times, with the query of each; the corpus holds
/// matches of every one in the searcher's rooms. `from:` names `writer`.
pub(super) fn kinds(writer: &str) -> Vec<(&'static str, String)> {
    vec![
        ("word", "deployment".to_owned()),
        ("prefix_word", "deploy".to_owned()),
        ("two_words", "server timeout".to_owned()),
        ("phrase", "\"release notes\"".to_owned()),
        ("cjk", "東京".to_owned()),
        ("identifier", "PLT-3".to_owned()),
        ("from", format!("from:@{writer}")),
        ("has_link", "has:link".to_owned()),
    ]
}

/// Checks, then times, each kind of query as the searcher: its first page
/// must have results, all from the searcher's rooms (`mine`). The figures
/// per kind, and whether every check held.
pub(super) async fn measure(
    api: &Api,
    token: &str,
    kinds: &[(&str, String)],
    mine: &HashSet<String>,
    queries: usize,
) -> Result<(serde_json::Map<String, Value>, bool)> {
    let mut ok = true;
    let mut figures = serde_json::Map::new();
    for (kind, q) in kinds {
        let path = format!("/api/search?q={}&limit=20", url_encode(q));
        // Correctness: results, only from the searcher's rooms.
        let (status, v) = api
            .call(reqwest::Method::GET, &path, Some(token), None)
            .await?;
        let results = v["results"].as_array().cloned().unwrap_or_default();
        let outside = results
            .iter()
            .filter(|r| !mine.contains(r["message"]["roomId"].as_str().unwrap_or("")))
            .count();
        if status != 200 || results.is_empty() || outside > 0 {
            eprintln!("s7: {kind} ({q}): status {status}, {} results, {outside} outside the searcher's rooms", results.len());
            ok = false;
        }
        for _ in 0..queries.min(20) {
            api.call(reqwest::Method::GET, &path, Some(token), None)
                .await?;
        }
        let (p, errors) = time_requests(api, token, (0..queries).map(|_| path.clone())).await?;
        if errors > 0 {
            ok = false;
        }
        figures.insert(
            (*kind).to_owned(),
            json!({"q": q, "first_page": results.len(), "p50_ms": p.p50_ms, "p99_ms": p.p99_ms, "errors": errors}),
        );
    }
    Ok((figures, ok))
}

fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use natter_core::search::{self, Term};

    use super::*;
    use crate::search::corpus::{content, Rng};

    /// Whether the index text holds the term's tokens in a row (the last as a
    /// prefix where the term says so), as the stores match it.
    fn finds(index: &str, term: &Term) -> bool {
        let tokens: Vec<&str> = index.split(' ').collect();
        let last = term.tokens.len() - 1;
        tokens.windows(term.tokens.len()).any(|w| {
            w.iter()
                .zip(&term.tokens)
                .enumerate()
                .all(|(i, (have, want))| {
                    if i == last && term.prefix {
                        have.starts_with(want.as_str())
                    } else {
                        have == want
                    }
                })
        })
    }

    #[test]
    fn the_corpus_holds_every_text_query() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let index: Vec<String> = (0..1000)
            .map(|n| search::index_text(&content(&mut rng, n)))
            .collect();
        for (kind, q) in kinds("someone") {
            let query = search::parse(&q).unwrap();
            if query.terms.is_empty() {
                continue; // from:, has: (filters, not text)
            }
            let hits = index
                .iter()
                .filter(|i| query.terms.iter().all(|t| finds(i, t)))
                .count();
            assert!(hits > 0, "{kind} ({q}) finds nothing in the corpus");
        }
    }

    #[test]
    fn queries_are_percent_encoded_but_for_unreserved_characters() {
        assert_eq!(url_encode("PLT-3_a.b~"), "PLT-3_a.b~");
        assert_eq!(url_encode("\"release notes\""), "%22release%20notes%22");
        assert_eq!(url_encode("from:@bob"), "from%3A%40bob");
        assert_eq!(url_encode("東"), "%E6%9D%B1");
    }
}
