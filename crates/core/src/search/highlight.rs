//! Highlighting: which byte ranges of a text a query's terms match, as the
//! words are written there (a term `cafe` marks `Café`).

use super::tokens::{cut, tokenize};
use super::Term;

/// What a term highlights: words it matches (as prefix or whole) and CJK
/// runs found inside CJK text.
struct Needle {
    text: String,
    cjk: bool,
    prefix: bool,
}

fn needles(terms: &[Term]) -> Vec<Needle> {
    let mut out = Vec::new();
    for term in terms {
        for t in tokenize(&term.raw) {
            out.push(Needle {
                prefix: t.cjk || term.prefix,
                cjk: t.cjk,
                text: if t.cjk { t.text } else { cut(&t.text) },
            });
        }
    }
    out
}

/// The byte ranges of `text` the terms match.
pub(super) fn matches(text: &str, terms: &[Term]) -> Vec<(usize, usize)> {
    let needles = needles(terms);
    let mut ranges = Vec::new();
    for t in tokenize(text) {
        if t.cjk {
            // Character offsets inside the run map back to bytes of the original.
            let chars: Vec<(usize, char)> = text[t.start..t.end].char_indices().collect();
            let folded: Vec<char> = chars.iter().map(|&(_, c)| c).collect();
            for n in needles.iter().filter(|n| n.cjk) {
                let pat: Vec<char> = n.text.chars().collect();
                if pat.is_empty() || pat.len() > folded.len() {
                    continue;
                }
                for i in 0..=folded.len() - pat.len() {
                    if folded[i..i + pat.len()] == pat[..] {
                        let start = t.start + chars[i].0;
                        let end = chars
                            .get(i + pat.len())
                            .map_or(t.end, |&(b, _)| t.start + b);
                        ranges.push((start, end));
                    }
                }
            }
        } else {
            let word = cut(&t.text);
            let hit = needles.iter().filter(|n| !n.cjk).any(|n| {
                if n.prefix {
                    word.starts_with(&n.text)
                } else {
                    word == n.text
                }
            });
            if hit {
                ranges.push((t.start, t.end));
            }
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in ranges {
        match merged.last_mut() {
            // Parts of one identifier (`PLT-3699`) mark as one piece.
            Some(last)
                if s <= last.1
                    || (text[last.1..s].chars().count() <= 2
                        && !text[last.1..s].contains(char::is_whitespace)) =>
            {
                last.1 = last.1.max(e)
            }
            _ => merged.push((s, e)),
        }
    }
    merged
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::search::parse;

    fn marked<'a>(text: &'a str, q: &str) -> Vec<&'a str> {
        matches(text, &parse(q).unwrap().terms)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect()
    }

    #[test]
    fn exact_terms_match_whole_words_and_others_their_starts() {
        assert_eq!(
            marked("deploy deployed redeploy", "deploy"),
            ["deploy", "deployed"]
        );
        assert_eq!(marked("deploy deployed", "\"deploy\""), ["deploy"]);
        assert!(marked("nothing here", "deploy").is_empty());
    }

    #[test]
    fn cjk_matches_map_back_to_the_bytes_of_the_text() {
        // Every occurrence inside a run, with the bytes of the original.
        assert_eq!(marked("東京から大阪と東京", "東京"), ["東京", "東京"]);
        // Two characters or fewer apart (and no space): one piece.
        assert_eq!(marked("東京と東京", "東京"), ["東京と東京"]);
        // Overlapping matches merge into one range.
        assert_eq!(marked("京都東京", "京都 都東"), ["京都東"]);
    }

    #[test]
    fn neighbouring_matches_merge_across_short_non_space_gaps() {
        assert_eq!(
            marked("PLT-3699 and plt 3699", "PLT-3699"),
            ["PLT-3699", "plt", "3699"]
        );
        assert_eq!(marked("a.b", "a b"), ["a.b"]);
        // Three characters apart is too far to be one identifier.
        assert_eq!(marked("a...b", "a b"), ["a", "b"]);
    }
}
