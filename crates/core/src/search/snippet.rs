//! Snippets: a short, one-line excerpt of a result around its first match,
//! in pieces that say which parts matched.

use super::highlight::matches;
use super::{Term, SNIPPET_CHARS};

/// A piece of a snippet: text as written, and whether it matched.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Piece {
    pub text: String,
    #[serde(rename = "match")]
    pub is_match: bool,
}

/// Collapses white space (a snippet is one line).
fn flat(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = true;
        } else {
            if space {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    if space {
        out.push(' ');
    }
    out
}

/// The byte offset `n` characters before/after `at` (clamped).
fn back(text: &str, at: usize, n: usize) -> usize {
    text[..at]
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map_or(0, |(b, _)| b)
}

fn forward(text: &str, at: usize, n: usize) -> usize {
    text[at..]
        .char_indices()
        .nth(n)
        .map_or(text.len(), |(b, _)| at + b)
}

/// A snippet of `text` around its first match, at most about
/// [`SNIPPET_CHARS`] characters, as pieces. Matched pieces are the words as
/// written (a term `cafe` marks `Café`). No match (a search by filters only):
/// the start of the text.
pub fn snippet(text: &str, terms: &[Term]) -> Vec<Piece> {
    let ranges = matches(text, terms);
    let first = ranges.first().map_or(0, |r| r.0);
    // Some context before the first match, starting at a word if one is near.
    let mut start = back(text, first, 60);
    if start > 0 {
        if let Some(space) = text[start..first].find(char::is_whitespace) {
            if text[start..start + space].chars().count() < 20 {
                start += space;
            }
        }
    }
    let end = forward(text, start, SNIPPET_CHARS);
    let mut pieces: Vec<Piece> = Vec::new();
    let mut push = |s: &str, is_match: bool| {
        let s = flat(s);
        if s.is_empty() {
            return;
        }
        match pieces.last_mut() {
            Some(p) if p.is_match == is_match => p.text.push_str(&s),
            _ => pieces.push(Piece { text: s, is_match }),
        }
    };
    if start > 0 {
        push("…", false);
    }
    let mut at = start;
    for &(s, e) in ranges.iter().filter(|r| r.1 > start && r.0 < end) {
        let (s, e) = (s.max(start), e.min(end));
        if s > at {
            push(&text[at..s], false);
        }
        push(&text[s..e], true);
        at = e;
    }
    if at < end {
        push(&text[at..end], false);
    }
    if end < text.len() {
        push("…", false);
    }
    if let Some(first) = pieces.first_mut() {
        if !first.is_match {
            first.text = first.text.trim_start().to_owned();
        }
    }
    pieces.retain(|p| !p.text.is_empty());
    pieces
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::search::parse;

    fn marked(text: &str, q: &str) -> Vec<String> {
        let query = parse(q).unwrap();
        snippet(text, &query.terms)
            .into_iter()
            .filter(|p| p.is_match)
            .map(|p| p.text)
            .collect()
    }

    #[test]
    fn flat_collapses_every_run_of_white_space_to_one_space() {
        assert_eq!(flat("a \n\t b"), "a b");
        assert_eq!(flat("\n a \n"), " a ");
        assert_eq!(flat(""), "");
    }

    #[test]
    fn back_and_forward_count_characters_not_bytes() {
        let text = "aé東b";
        // Byte offsets: a 0, é 1, 東 3, b 6.
        assert_eq!(back(text, 6, 1), 3);
        assert_eq!(back(text, 6, 2), 1);
        assert_eq!(back(text, 6, 99), 0);
        assert_eq!(forward(text, 0, 2), 3);
        assert_eq!(forward(text, 1, 1), 3);
        assert_eq!(forward(text, 0, 99), text.len());
    }

    #[test]
    fn snippets_mark_words_as_written() {
        assert_eq!(marked("Lunch at the Café?", "cafe"), ["Café"]);
        assert_eq!(marked("the cafe", "CAFÉ"), ["cafe"]);
        assert_eq!(
            marked("We deployed it; deployment done", "deploy"),
            ["deployed", "deployment"]
        );
        assert_eq!(marked("明日の会議は東京で行います", "東京"), ["東京"]);
        assert_eq!(marked("fix PLT-3699 now", "PLT-3699"), ["PLT-3699"]);
        assert_eq!(
            marked("see https://github.com/o/r/issues/42", "github"),
            ["github"]
        );
        let pieces = snippet("a Café b", &parse("cafe").unwrap().terms);
        assert_eq!(
            pieces,
            [
                Piece {
                    text: "a ".into(),
                    is_match: false
                },
                Piece {
                    text: "Café".into(),
                    is_match: true
                },
                Piece {
                    text: " b".into(),
                    is_match: false
                },
            ]
        );
    }

    #[test]
    fn snippets_are_short_and_centred() {
        let text = format!("{} needle {}", "word ".repeat(100), "more ".repeat(100));
        let pieces = snippet(&text, &parse("needle").unwrap().terms);
        let all: String = pieces.iter().map(|p| p.text.as_str()).collect();
        assert!(all.chars().count() <= SNIPPET_CHARS + 4, "{all}");
        assert!(all.starts_with('…') && all.ends_with('…'), "{all}");
        assert!(pieces.iter().any(|p| p.is_match && p.text == "needle"));
        // No match: the start of the text, flattened to one line.
        let pieces = snippet("line one\n\nline two", &[]);
        assert_eq!(
            pieces,
            [Piece {
                text: "line one line two".into(),
                is_match: false
            }]
        );
        assert!(snippet("", &[]).is_empty());
    }
}
