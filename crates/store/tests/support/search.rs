//! The search suites' helpers: a request as the server builds it, the
//! contents found, and a room with some messages to search.

use natter_core::search::{self as sq, Sort};
use natter_core::{Me, Room};
use natter_store::SearchRequest;

use super::{post, room, user, S};

/// A search as the server runs it, operators given as ids.
pub fn request(user: &Me, q: &str) -> SearchRequest {
    let parsed = sq::parse(q).unwrap();
    let (since, until) = parsed.span();
    SearchRequest {
        user: user.user.id,
        rooms: None,
        from: None,
        terms: parsed.terms,
        excluded: parsed.excluded,
        has: parsed.has,
        since,
        until,
        sort: Sort::Relevance,
        limit: 50,
        cursor: None,
    }
}

/// The contents found, best first.
pub async fn found(s: &S, user: &Me, q: &str) -> Vec<String> {
    found_by(s, request(user, q)).await
}

pub async fn found_by(s: &S, req: SearchRequest) -> Vec<String> {
    s.search(req)
        .await
        .unwrap()
        .messages
        .into_iter()
        .map(|m| m.content)
        .collect()
}

pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

pub fn strs(v: &[&str]) -> Vec<String> {
    sorted(v.iter().map(|s| (*s).to_owned()).collect())
}

/// alice in a room "general" with some messages.
pub async fn searchable(s: &S, texts: &[&str]) -> (Me, Room) {
    let alice = user(s, "alice").await;
    let r = room(s, &alice, "general", false).await;
    for t in texts {
        post(s, r.id, alice.user.id, t).await;
    }
    (alice, r)
}
