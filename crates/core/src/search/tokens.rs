//! Tokens: a text cut into its words and CJK runs, and the text a message is
//! indexed by.

use unicode_normalization::char::is_combining_mark;

use super::fold::fold_char;
use super::script::{cjk_tokens, is_cjk};
use super::MAX_TOKEN_CHARS;

/// A word or a run of CJK characters of a text, as found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Folded.
    pub text: String,
    /// Byte range in the original text.
    pub start: usize,
    pub end: usize,
    pub cjk: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Sep,
    Word,
    Cjk,
}

fn class(c: char) -> Class {
    if is_cjk(c) {
        Class::Cjk
    } else if c.is_alphanumeric() || is_combining_mark(c) {
        Class::Word
    } else {
        Class::Sep
    }
}

/// The words and CJK runs of `text`, folded, with where they are.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut current: Option<(Class, usize, String)> = None;
    let mut folded = String::new();
    for (at, c) in text.char_indices() {
        folded.clear();
        if is_cjk(c) {
            folded.push(c);
        } else {
            fold_char(c, &mut folded);
        }
        // A folded character may become several (ß → ss) or a separator (½ → 1⁄2).
        for f in folded.chars() {
            let k = class(f);
            let end_here = match &current {
                Some((cur, _, _)) => *cur != k,
                None => false,
            };
            if end_here {
                if let Some((cur, start, text)) = current.take() {
                    tokens.push(Token {
                        text,
                        start,
                        end: at,
                        cjk: cur == Class::Cjk,
                    });
                }
            }
            if k == Class::Sep {
                continue;
            }
            match &mut current {
                Some((_, _, t)) => t.push(f),
                None => current = Some((k, at, f.to_string())),
            }
        }
    }
    if let Some((cur, start, t)) = current {
        tokens.push(Token {
            text: t,
            start,
            end: text.len(),
            cjk: cur == Class::Cjk,
        });
    }
    tokens
}

pub(super) fn cut(word: &str) -> String {
    word.chars().take(MAX_TOKEN_CHARS).collect()
}

/// The text a message is indexed by: its tokens, separated by single spaces.
/// Both stores index exactly these tokens (FTS5 with the `ascii` tokenizer,
/// which splits on the spaces; PostgreSQL a `tsvector` built from them).
pub fn index_text(content: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for t in tokenize(content) {
        if t.cjk {
            cjk_tokens(&t.text, true, &mut out);
        } else {
            out.push(cut(&t.text));
        }
    }
    out.join(" ")
}

/// Whether the text holds a link (`has:link`).
pub fn has_link(content: &str) -> bool {
    let lower = content.to_ascii_lowercase();
    lower.contains("http://") || lower.contains("https://") || lower.contains("www.")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::search::{parse, Term};

    fn term(q: &str) -> Term {
        parse(q).unwrap().terms.remove(0)
    }

    #[test]
    fn tokens_keep_where_they_are_in_the_original() {
        let text = "Café, 東京!";
        let t = tokenize(text);
        let found: Vec<(&str, &str, bool)> = t
            .iter()
            .map(|t| (t.text.as_str(), &text[t.start..t.end], t.cjk))
            .collect();
        assert_eq!(found, [("cafe", "Café", false), ("東京", "東京", true)]);
        // One character folding to two (ß → ss) stays one token's worth of bytes.
        let t = tokenize("Maß");
        assert_eq!((t[0].text.as_str(), t[0].end), ("mass", "Maß".len()));
        assert!(tokenize(" ¡— ").is_empty());
    }

    #[test]
    fn links_are_told_by_scheme_or_www() {
        assert!(has_link("see HTTPS://example.org"));
        assert!(has_link("http://x"));
        assert!(has_link("at www.example.org"));
        assert!(!has_link("https is a protocol; ftp://x is not a link here"));
    }

    #[test]
    fn folds_case_and_accents() {
        assert_eq!(index_text("Café Reunión Ångström"), "cafe reunion angstrom");
        assert_eq!(
            index_text("STRASSE Straße ØRESUND"),
            "strasse strasse oresund"
        );
        assert_eq!(index_text("Ｆｕｌｌ"), "full");
        assert_eq!(index_text("Ελληνικά Привет"), "ελληνικα привет");
    }

    #[test]
    fn splits_identifiers_and_urls() {
        assert_eq!(index_text("see PLT-3699!"), "see plt 3699");
        assert_eq!(
            index_text("https://github.com/org/repo/issues/42"),
            "https github com org repo issues 42"
        );
        assert_eq!(index_text("snake_case"), "snake case");
    }

    #[test]
    fn long_tokens_are_cut() {
        let long = "a".repeat(100);
        assert_eq!(index_text(&long).chars().count(), MAX_TOKEN_CHARS);
        assert_eq!(term(&long).tokens[0].chars().count(), MAX_TOKEN_CHARS);
    }
}
