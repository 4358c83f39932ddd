//! Each backend's full-text query for a search's terms: an FTS5 `MATCH`
//! expression on SQLite, a `tsquery` on PostgreSQL. Both look every term up
//! in every room of the scope, as the index holds the tokens by room.

use natter_core::search::Term;

/// The rooms of a search scope, each term looked up in each of them: the index
/// holds every token as `<room>·<token>` (migration 0007), so a term ORed over
/// the scope's rooms reads only that word's postings in those rooms.
pub(super) type Scope = [i64];

/// `parts` ORed as a balanced tree, so a scope of thousands of rooms stays a
/// shallow expression (PostgreSQL evaluates a tsquery recursively).
fn any_of(parts: &[String], or: &str) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        _ => {
            let (a, b) = parts.split_at(parts.len() / 2);
            format!("({}{or}{})", any_of(a, or), any_of(b, or))
        }
    }
}

/// FTS5: `"r<room>·t1 r<room>·t2"*` per room (a phrase; `*` makes its last
/// token a prefix), ORed.
fn fts_term(t: &Term, scope: &Scope) -> String {
    let phrases: Vec<String> = scope
        .iter()
        .map(|room| {
            let tokens: Vec<String> = t
                .tokens
                .iter()
                .map(|tok| format!("r{room}·{tok}"))
                .collect();
            format!(
                "\"{}\"{}",
                tokens.join(" ").replace('"', "\"\""),
                if t.prefix { "*" } else { "" }
            )
        })
        .collect();
    any_of(&phrases, " OR ")
}

/// FTS5: every term, and none of `excluded`.
pub(super) fn fts_expr(terms: &[Term], excluded: &[Term], scope: &Scope) -> String {
    let mut e = terms
        .iter()
        .map(|t| fts_term(t, scope))
        .collect::<Vec<_>>()
        .join(" AND ");
    for x in excluded {
        e.push_str(" NOT ");
        e.push_str(&fts_term(x, scope));
    }
    e
}

/// FTS5: any of the terms.
pub(super) fn fts_any(terms: &[Term], scope: &Scope) -> String {
    terms
        .iter()
        .map(|t| fts_term(t, scope))
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// PostgreSQL: `'#<room>·t1' <-> '#<room>·t2':*` per room, ORed; lexemes
/// quoted, so taken as is.
fn ts_term(t: &Term, scope: &Scope) -> String {
    let last = t.tokens.len().saturating_sub(1);
    let phrases: Vec<String> = scope
        .iter()
        .map(|room| {
            let parts: Vec<String> = t
                .tokens
                .iter()
                .enumerate()
                .map(|(i, tok)| {
                    let lexeme = format!("#{room}·{tok}");
                    let quoted = format!("'{}'", lexeme.replace('\\', "\\\\").replace('\'', "''"));
                    if i == last && t.prefix {
                        quoted + ":*"
                    } else {
                        quoted
                    }
                })
                .collect();
            format!("({})", parts.join(" <-> "))
        })
        .collect();
    any_of(&phrases, " | ")
}

/// PostgreSQL: every term, and none of `excluded`.
pub(super) fn ts_expr(terms: &[Term], excluded: &[Term], scope: &Scope) -> String {
    let mut parts: Vec<String> = terms.iter().map(|t| ts_term(t, scope)).collect();
    parts.extend(excluded.iter().map(|x| format!("!{}", ts_term(x, scope))));
    parts.join(" & ")
}

/// PostgreSQL: any of the terms.
pub(super) fn ts_any(terms: &[Term], scope: &Scope) -> String {
    terms
        .iter()
        .map(|t| ts_term(t, scope))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The terms with each phrase split into its words (ANDed where the terms
/// are), its last word still a prefix: what the index answers exactly.
pub(super) fn loose(terms: &[Term]) -> Vec<Term> {
    terms
        .iter()
        .flat_map(|t| {
            let last = t.tokens.len().saturating_sub(1);
            t.tokens.iter().enumerate().map(move |(i, tok)| Term {
                raw: t.raw.clone(),
                tokens: vec![tok.clone()],
                prefix: t.prefix && i == last,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use natter_core::search::Term;

    use super::*;

    fn term(tokens: &[&str], prefix: bool) -> Term {
        Term {
            raw: tokens.join(" "),
            tokens: tokens.iter().map(|t| (*t).to_owned()).collect(),
            prefix,
        }
    }

    #[test]
    fn many_rooms_make_a_balanced_tree() {
        let parts: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).into();
        assert_eq!(any_of(&parts, "|"), "((a|b)|(c|(d|e)))");
        assert_eq!(any_of(&parts[..1], "|"), "a");
        assert_eq!(any_of(&[], "|"), "");
    }

    #[test]
    fn fts5_looks_each_phrase_up_in_each_room() {
        let phrase = term(&["deploy", "now"], true);
        assert_eq!(
            fts_expr(std::slice::from_ref(&phrase), &[], &[12]),
            "\"r12·deploy r12·now\"*"
        );
        assert_eq!(
            fts_expr(&[phrase], &[term(&["x"], false)], &[1, 2]),
            "(\"r1·deploy r1·now\"* OR \"r2·deploy r2·now\"*) NOT (\"r1·x\" OR \"r2·x\")"
        );
        // A quote inside a phrase is doubled, as FTS5 escapes it.
        assert_eq!(
            fts_any(&[term(&["a\"b"], false), term(&["c"], false)], &[3]),
            "\"r3·a\"\"b\" OR \"r3·c\""
        );
    }

    #[test]
    fn tsquery_phrases_follow_each_other_and_quote_their_lexemes() {
        let phrase = term(&["deploy", "now"], true);
        assert_eq!(
            ts_expr(&[phrase], &[term(&["it's"], false)], &[12]),
            "('#12·deploy' <-> '#12·now':*) & !('#12·it''s')"
        );
        assert_eq!(
            ts_any(&[term(&["a\\b"], false), term(&["c"], true)], &[1, 2]),
            "(('#1·a\\\\b') | ('#2·a\\\\b')) | (('#1·c':*) | ('#2·c':*))"
        );
    }

    #[test]
    fn the_loose_condition_splits_phrases_keeping_the_last_prefix() {
        let got = loose(&[term(&["a", "b"], true), term(&["c"], false)]);
        let got: Vec<(Vec<String>, bool, String)> = got
            .into_iter()
            .map(|t| (t.tokens, t.prefix, t.raw))
            .collect();
        let want = [
            (vec!["a".to_owned()], false, "a b".to_owned()),
            (vec!["b".to_owned()], true, "a b".to_owned()),
            (vec!["c".to_owned()], false, "c".to_owned()),
        ];
        assert_eq!(got, want);
    }
}
