//! Message search, the pure part: how text is folded and cut into tokens for
//! the index, how a query (words and operators) is parsed, and how a result's
//! snippet is built. Both stores index the text this module produces and run
//! the tokens it gives them, so SQLite and PostgreSQL find exactly the same
//! messages (see docs/SEARCH.md).
//!
//! - Folding: lower case, and Latin, Greek and Cyrillic letters lose their
//!   accents (`Ångström` → `angstrom`), full-width forms become ASCII.
//! - Tokens: runs of letters, digits and marks; everything else separates, so
//!   `PLT-3699` is `plt 3699` and a URL is its words (`github com …`).
//! - Chinese, Japanese, Korean (and Thai), written without spaces, are indexed
//!   as overlapping pairs of characters plus the run's last character, so any
//!   word of one, two or more characters inside a sentence is found.
//! - Every word of a query also finds the longer words it starts (prefix
//!   matching): `deploy` finds `deployed` and `deployment`, in any language.

use time::{Date, Month};
use unicode_normalization::char::{decompose_compatible, is_combining_mark};

use crate::{Error, Result};

/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Index tokens are cut to this many characters (longer "words" are hashes,
/// base64 and the like; their start still finds them).
pub const MAX_TOKEN_CHARS: usize = 64;
/// About how long a snippet is, in characters.
pub const SNIPPET_CHARS: usize = 200;

/// Whether `c` belongs to a script written without spaces between words.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0E7F        // Thai
        | 0x1100..=0x11FF      // Hangul Jamo
        | 0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3130..=0x318F      // Hangul compatibility Jamo
        | 0x31F0..=0x31FF      // Katakana extensions
        | 0x3400..=0x4DBF      // CJK extension A
        | 0x4E00..=0x9FFF      // CJK unified ideographs
        | 0xAC00..=0xD7AF      // Hangul syllables
        | 0xF900..=0xFAFF      // CJK compatibility ideographs
        | 0xFF66..=0xFF9F      // half-width Katakana
        | 0x20000..=0x3FFFF // CJK extensions B–H
    )
}

/// Scripts whose accents are folded away (Latin, Greek, Cyrillic), and the
/// full-width ASCII forms.
fn folds_accents(c: char) -> bool {
    matches!(c as u32,
        0x00C0..=0x024F | 0x1E00..=0x1EFF | 0x0370..=0x03FF | 0x1F00..=0x1FFF
        | 0x0400..=0x04FF | 0xFF01..=0xFF5E)
}

/// Appends the folded form of `c` (lower case, accents removed where that is
/// what readers of the script expect).
fn fold_char(c: char, out: &mut String) {
    match c {
        'ß' | 'ẞ' => return out.push_str("ss"),
        'Æ' | 'æ' => return out.push_str("ae"),
        'Œ' | 'œ' => return out.push_str("oe"),
        'Ø' | 'ø' => return out.push('o'),
        'Đ' | 'đ' | 'Ð' | 'ð' => return out.push('d'),
        'Ł' | 'ł' => return out.push('l'),
        'Þ' | 'þ' => return out.push_str("th"),
        'ı' => return out.push('i'),
        _ => {}
    }
    if folds_accents(c) {
        decompose_compatible(c, |d| {
            if !is_combining_mark(d) {
                out.extend(d.to_lowercase());
            }
        });
    } else if c == 'İ' {
        out.push('i');
    } else {
        out.extend(c.to_lowercase());
    }
}

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

fn cut(word: &str) -> String {
    word.chars().take(MAX_TOKEN_CHARS).collect()
}

/// The overlapping pairs of a CJK run, then its last character (so that a
/// one-character query finds every character of a run as a token's start).
fn cjk_index_tokens(run: &str, out: &mut Vec<String>) {
    let chars: Vec<char> = run.chars().collect();
    for pair in chars.windows(2) {
        out.push(pair.iter().collect());
    }
    if let Some(last) = chars.last() {
        out.push(last.to_string());
    }
}

/// The text a message is indexed by: its tokens, separated by single spaces.
/// Both stores index exactly these tokens (FTS5 with the `ascii` tokenizer,
/// which splits on the spaces; PostgreSQL a `tsvector` built from them).
pub fn index_text(content: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for t in tokenize(content) {
        if t.cjk {
            cjk_index_tokens(&t.text, &mut out);
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
    fn new(raw: &str, exact: bool) -> Option<Term> {
        let found = tokenize(raw);
        let mut tokens = Vec::new();
        let count = found.len();
        let mut last_single_cjk = false;
        for (i, t) in found.iter().enumerate() {
            if t.cjk {
                let chars: Vec<char> = t.text.chars().collect();
                if chars.len() == 1 {
                    tokens.push(t.text.clone());
                    last_single_cjk = true;
                    continue;
                }
                for pair in chars.windows(2) {
                    tokens.push(pair.iter().collect());
                }
                // Followed by more of the phrase: the run ends here, and the
                // index has the run's last character as a token of its own.
                if i + 1 < count {
                    if let Some(last) = chars.last() {
                        tokens.push(last.to_string());
                    }
                }
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Has {
    Image,
    File,
    Link,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum From {
    Me,
    /// Lower-case, without `@`.
    Username(String),
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

fn parse_date(op: &str, value: &str) -> Result<Date> {
    let bad = || {
        Error::invalid(format!(
            "{op}: needs a date as YYYY-MM-DD (like {op}:2025-03-14), not {value:?}"
        ))
    };
    let mut parts = value.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let y: i32 = y.parse().map_err(|_| bad())?;
    let m: u8 = m.parse().map_err(|_| bad())?;
    let d: u8 = d.parse().map_err(|_| bad())?;
    let month = Month::try_from(m).map_err(|_| bad())?;
    Date::from_calendar_date(y, month, d).map_err(|_| bad())
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

/// Applies `word` if it is an operator with a value it takes.
fn operator(query: &mut Query, word: &str) -> Result<bool> {
    let Some((op, value)) = word.split_once(':') else {
        return Ok(false);
    };
    let op = op.to_lowercase();
    if value.is_empty() {
        return Ok(false);
    }
    match op.as_str() {
        "from" => {
            let v = value.trim_start_matches('@').to_lowercase();
            if v.is_empty() {
                return Ok(false);
            }
            query.from.push(if v == "me" && !value.starts_with('@') {
                From::Me
            } else {
                From::Username(v)
            });
        }
        "in" => {
            let v = value.trim_start_matches('#').to_lowercase();
            if v.is_empty() {
                return Ok(false);
            }
            query.rooms.push(v);
        }
        "has" => match value.to_lowercase().as_str() {
            "image" | "images" => query.has.push(Has::Image),
            "file" | "files" => query.has.push(Has::File),
            "link" | "links" => query.has.push(Has::Link),
            _ => return Ok(false),
        },
        "before" => {
            let d = parse_date("before", value)?;
            query.before = Some(query.before.map_or(d, |b| b.min(d)));
        }
        "after" => {
            let d = parse_date("after", value)?;
            query.after = Some(query.after.map_or(d, |a| a.max(d)));
        }
        "on" | "during" => query.on = Some(parse_date(&op, value)?),
        _ => return Ok(false),
    }
    Ok(true)
}

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Best match first (bm25 / `ts_rank_cd`), newer first among equals.
    #[default]
    Relevance,
    /// Newest first.
    Newest,
}

/// Where the next page starts: after the result with this rank and id, among
/// messages up to `max_id` (the newest when the first page was read, so that
/// messages sent while paging do not shift the pages).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cursor {
    pub sort: Sort,
    /// The store's rank of the last result (lower is better; 0 for `newest`).
    pub rank: f64,
    pub id: i64,
    /// The newest message of the ranking window of the last result.
    pub max_id: i64,
    /// The oldest match of that window (ranked searches rank the newest
    /// matches a window at a time); 0 when the window holds every match left.
    pub floor: i64,
}

impl Cursor {
    /// Opaque to clients: `s2.<sort>.<rank bits, hex>.<id>.<max id>.<floor>`.
    pub fn encode(&self) -> String {
        let sort = match self.sort {
            Sort::Relevance => 'r',
            Sort::Newest => 'n',
        };
        format!(
            "s2.{sort}.{:x}.{}.{}.{}",
            self.rank.to_bits(),
            self.id,
            self.max_id,
            self.floor
        )
    }

    /// Reads a cursor given back by a client, for a search sorted by `sort`.
    pub fn decode(s: &str, sort: Sort) -> Result<Cursor> {
        let bad = || Error::invalid("cursor is malformed: pass nextCursor exactly as returned");
        let parts: Vec<&str> = s.split('.').collect();
        let [v, kind, rank, id, max, floor] = parts[..] else {
            return Err(bad());
        };
        let found = match kind {
            "r" => Sort::Relevance,
            "n" => Sort::Newest,
            _ => return Err(bad()),
        };
        if v != "s2" {
            return Err(bad());
        }
        if found != sort {
            return Err(Error::invalid(
                "cursor belongs to a search with another sort: keep sort the same while paging",
            ));
        }
        let rank = f64::from_bits(u64::from_str_radix(rank, 16).map_err(|_| bad())?);
        if !rank.is_finite() {
            return Err(bad());
        }
        let id: i64 = id.parse().map_err(|_| bad())?;
        let max_id: i64 = max.parse().map_err(|_| bad())?;
        let floor: i64 = floor.parse().map_err(|_| bad())?;
        if floor < 0 || floor > max_id {
            return Err(bad());
        }
        Ok(Cursor {
            sort,
            rank,
            id,
            max_id,
            floor,
        })
    }
}

/// A piece of a snippet: text as written, and whether it matched.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Piece {
    pub text: String,
    #[serde(rename = "match")]
    pub is_match: bool,
}

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
fn matches(text: &str, terms: &[Term]) -> Vec<(usize, usize)> {
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

    fn term(q: &str) -> Term {
        parse(q).unwrap().terms.remove(0)
    }

    fn marked(text: &str, q: &str) -> Vec<String> {
        let query = parse(q).unwrap();
        snippet(text, &query.terms)
            .into_iter()
            .filter(|p| p.is_match)
            .map(|p| p.text)
            .collect()
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
    fn cjk_runs_become_pairs() {
        assert_eq!(
            index_text("明日の会議は東京で"),
            "明日 日の の会 会議 議は は東 東京 京で で"
        );
        assert_eq!(index_text("東京tower"), "東京 京 tower");
        assert_eq!(term("東京").tokens, ["東京"]);
        assert!(!term("東京").prefix);
        let one = term("東");
        assert_eq!((one.tokens, one.prefix), (vec!["東".to_owned()], true));
        assert_eq!(term("東京tower").tokens, ["東京", "京", "tower"]);
        assert_eq!(term("会議は東京").tokens, ["会議", "議は", "は東", "東京"]);
    }

    #[test]
    fn long_tokens_are_cut() {
        let long = "a".repeat(100);
        assert_eq!(index_text(&long).chars().count(), MAX_TOKEN_CHARS);
        assert_eq!(term(&long).tokens[0].chars().count(), MAX_TOKEN_CHARS);
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
    fn parses_operators() {
        let q = parse("from:@Bob from:me in:#General has:link has:IMAGE after:2025-01-02 before:2025-02-01 on:2025-01-15 x").unwrap();
        assert_eq!(q.from, [From::Username("bob".into()), From::Me]);
        assert_eq!(q.rooms, ["general"]);
        assert_eq!(q.has, [Has::Link, Has::Image]);
        assert_eq!(
            q.after,
            Some(Date::from_calendar_date(2025, Month::January, 2).unwrap())
        );
        assert_eq!(
            q.before,
            Some(Date::from_calendar_date(2025, Month::February, 1).unwrap())
        );
        assert!(q.on.is_some());
        assert_eq!(q.terms.len(), 1);
        // @me is a user called "me"; from:me is the caller.
        assert_eq!(
            parse("from:@me").unwrap().from,
            [From::Username("me".into())]
        );
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
    fn cursors_round_trip_and_refuse_junk() {
        let c = Cursor {
            sort: Sort::Relevance,
            rank: -1.234_567_890_123,
            id: 42,
            max_id: 99,
            floor: 7,
        };
        assert_eq!(Cursor::decode(&c.encode(), Sort::Relevance).unwrap(), c);
        assert!(Cursor::decode(&c.encode(), Sort::Newest).is_err());
        for junk in [
            "",
            "x",
            "s2.r.zz.1.2.0",
            "s2.r.0.1.0",
            "s1.r.0.1.2",
            "s3.r.0.1.2.0",
            "s2.q.0.1.2.0",
            "s2.r.0.a.2.0",
            "s2.r.0.1.2.x",
            "s2.r.0.1.2.3",
            "s2.r.0.1.2.-1",
        ] {
            let e = Cursor::decode(junk, Sort::Relevance).unwrap_err();
            assert!(e.to_string().contains("cursor"), "{junk}: {e}");
        }
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
