//! Query parsing: a query's words, quoted phrases and exclusions, and the
//! terms (phrases of index tokens) the stores run for them.

use time::Date;

use super::operators::{operator, From, Has};
use super::script::cjk_tokens;
use super::tokens::{cut, tokenize};
use super::MAX_QUERY_CHARS;
use crate::{Error, Result};

/// One text term of a query, as the stores run it: a phrase of index tokens
/// (consecutive), the last of which may match as a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// As written.
    pub raw: String,
    pub tokens: Vec<String>,
    pub prefix: bool,
}

impl Term {
    /// `None` when the text has no letters or digits (nothing to find).
    pub(super) fn new(raw: &str, exact: bool) -> Option<Term> {
        let found = tokenize(raw);
        let mut tokens = Vec::new();
        let count = found.len();
        let mut last_single_cjk = false;
        for (i, t) in found.iter().enumerate() {
            if t.cjk {
                if t.text.chars().count() == 1 {
                    tokens.push(t.text.clone());
                    last_single_cjk = true;
                    continue;
                }
                // Followed by more of the phrase: the run ends here, and the
                // index has the run's last character as a token of its own.
                cjk_tokens(&t.text, i + 1 < count, &mut tokens);
                last_single_cjk = false;
            } else {
                tokens.push(cut(&t.text));
                last_single_cjk = false;
            }
        }
        if tokens.is_empty() {
            return None;
        }
        let last_is_word = found.last().is_some_and(|t| !t.cjk);
        Some(Term {
            raw: raw.to_owned(),
            tokens,
            prefix: last_single_cjk || (!exact && last_is_word),
        })
    }
}

/// A parsed query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Every one must match.
    pub terms: Vec<Term>,
    /// None may match.
    pub excluded: Vec<Term>,
    /// Any of them wrote it.
    pub from: Vec<From>,
    /// Room names (lower-case, without `#`): in any of them.
    pub rooms: Vec<String>,
    /// All of them.
    pub has: Vec<Has>,
    /// Days in UTC: strictly before / strictly after / on.
    pub before: Option<Date>,
    pub after: Option<Date>,
    pub on: Option<Date>,
}

impl Query {
    /// The days a message may be from, as `[since, until)` (UTC).
    pub fn span(&self) -> (Option<Date>, Option<Date>) {
        let mut since = self.after.and_then(Date::next_day);
        let mut until = self.before;
        if let Some(d) = self.on {
            since = Some(since.map_or(d, |s| s.max(d)));
            let end = d.next_day();
            until = match (until, end) {
                (Some(u), Some(e)) => Some(u.min(e)),
                (u, e) => u.or(e),
            };
        }
        (since, until)
    }

    /// Whether anything narrows the search besides exclusions.
    pub fn has_criteria(&self) -> bool {
        !self.terms.is_empty()
            || !self.from.is_empty()
            || !self.rooms.is_empty()
            || !self.has.is_empty()
            || self.before.is_some()
            || self.after.is_some()
            || self.on.is_some()
    }
}

/// Splits on white space, keeping `"quoted phrases"` (and `-"…"`) whole.
fn words(q: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut chars = q.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        let mut quoted = false;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            if c == '"' && (word.is_empty() || word == "-") {
                quoted = true;
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    word.push(c);
                }
                break;
            }
            word.push(c);
        }
        out.push((word, quoted));
    }
    out
}

/// Parses a search query. Unknown operators (and known ones with a value
/// they do not take, like `has:cat`) are plain text.
pub fn parse(q: &str) -> Result<Query> {
    let q = q.trim();
    if q.is_empty() {
        return Err(Error::invalid(
            "q must not be empty: type what to search for",
        ));
    }
    let n = q.chars().count();
    if n > MAX_QUERY_CHARS {
        return Err(Error::invalid(format!(
            "q is {n} characters long; at most {MAX_QUERY_CHARS} are allowed"
        )));
    }
    let mut query = Query::default();
    for (word, quoted) in words(q) {
        let (negated, body) = match word.strip_prefix('-') {
            Some(rest) if quoted || !rest.is_empty() => (true, rest),
            _ => (false, word.as_str()),
        };
        if quoted {
            let list = if negated {
                &mut query.excluded
            } else {
                &mut query.terms
            };
            list.extend(Term::new(body, true));
            continue;
        }
        if !negated && operator(&mut query, body)? {
            continue;
        }
        let (text, exact) = match body.strip_suffix('*') {
            Some(stem) => (stem.trim_end_matches('*'), false),
            None => (body, false),
        };
        let list = if negated {
            &mut query.excluded
        } else {
            &mut query.terms
        };
        list.extend(Term::new(text, exact));
    }
    Ok(query)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn term(q: &str) -> Term {
        parse(q).unwrap().terms.remove(0)
    }

    fn day(y: i32, m: u8, d: u8) -> Date {
        Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap()
    }

    #[test]
    fn words_keep_quoted_phrases_whole() {
        let w = |q: &str| -> Vec<(String, bool)> { words(q) };
        assert_eq!(
            w("  a \"b c\"  -\"d e\" f\"g h\" "),
            [
                ("a".to_owned(), false),
                ("b c".to_owned(), true),
                ("-d e".to_owned(), true),
                // A quote inside a word is part of it.
                ("f\"g".to_owned(), false),
                ("h\"".to_owned(), false),
            ]
        );
        assert!(w(" \t\n").is_empty());
    }

    #[test]
    fn span_is_the_narrowest_of_before_after_and_on() {
        let q = |s: &str| parse(s).unwrap().span();
        assert_eq!(
            q("x after:2025-01-02 before:2025-02-01"),
            (Some(day(2025, 1, 3)), Some(day(2025, 2, 1)))
        );
        assert_eq!(
            q("x on:2025-01-15"),
            (Some(day(2025, 1, 15)), Some(day(2025, 1, 16)))
        );
        // `on` outside the other bounds leaves an empty span, not a wider one.
        assert_eq!(
            q("x on:2025-01-15 after:2025-01-20 before:2025-01-10"),
            (Some(day(2025, 1, 21)), Some(day(2025, 1, 10)))
        );
        assert_eq!(q("x"), (None, None));
    }

    #[test]
    fn parses_words_prefixes_and_phrases() {
        let q = parse(r#"Deploy* "exact Phrase" PLT-3699 -Old -"no way""#).unwrap();
        let terms: Vec<(Vec<String>, bool)> = q
            .terms
            .iter()
            .map(|t| (t.tokens.clone(), t.prefix))
            .collect();
        assert_eq!(
            terms,
            [
                (vec!["deploy".to_owned()], true),
                (vec!["exact".to_owned(), "phrase".to_owned()], false),
                (vec!["plt".to_owned(), "3699".to_owned()], true),
            ]
        );
        let excluded: Vec<Vec<String>> = q.excluded.iter().map(|t| t.tokens.clone()).collect();
        assert_eq!(excluded, [vec!["old"], vec!["no", "way"]]);
        // Plain words find what they start, too.
        assert!(term("deploy").prefix);
        // An unclosed quote runs to the end.
        assert_eq!(term(r#""open phrase"#).tokens, ["open", "phrase"]);
    }

    #[test]
    fn unknown_operators_are_text() {
        let q = parse("foo:bar has:cat from: -").unwrap();
        assert!(q.from.is_empty() && q.has.is_empty());
        let terms: Vec<Vec<String>> = q.terms.iter().map(|t| t.tokens.clone()).collect();
        assert_eq!(
            terms,
            [vec!["foo", "bar"], vec!["has", "cat"], vec!["from"]]
        );
        assert!(!q.has_criteria() || !q.terms.is_empty());
    }

    #[test]
    fn rejects_bad_input() {
        for (q, says) in [
            ("", "empty"),
            ("   ", "empty"),
            ("before:2025-13-01", "YYYY-MM-DD"),
            ("on:yesterday", "YYYY-MM-DD"),
            ("after:2025-02-30", "YYYY-MM-DD"),
        ] {
            let e = parse(q).unwrap_err();
            assert!(
                matches!(&e, Error::Invalid(m) if m.contains(says)),
                "{q}: {e}"
            );
        }
        assert!(parse(&"a".repeat(500)).is_ok());
        let e = parse(&"a".repeat(501)).unwrap_err();
        assert!(e.to_string().contains("at most 500"), "{e}");
        // Only exclusions narrow nothing.
        assert!(!parse("-foo").unwrap().has_criteria());
    }
}
