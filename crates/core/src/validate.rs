//! Input rules, shared by REST and socket handlers. Each returns a clear
//! `invalid` (or `too_large`) error naming the field.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::{Error, Result};

/// Longest message, in characters (Unicode scalar values).
pub const MAX_CONTENT_CHARS: usize = 4_000;
pub const MAX_ROOM_NAME_CHARS: usize = 80;
pub const MAX_DESCRIPTION_CHARS: usize = 500;
pub const MAX_NAME_CHARS: usize = 64;
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 256;
pub const MAX_CLIENT_ID_CHARS: usize = 64;
pub const MAX_EMOJI_CHARS: usize = 32;

/// 3–32 of `a-z 0-9 _ . -`; returned lower-cased (usernames are unique ignoring case).
/// NFKC-normalised first, so compatibility forms (`ａｌｉｃｅ`) are the name
/// they look like.
pub fn username(raw: &str) -> Result<String> {
    let u = login_key(raw);
    let ok_len = (3..=32).contains(&u.chars().count());
    let ok_chars = u
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'));
    if ok_len && ok_chars {
        Ok(u)
    } else {
        Err(Error::invalid(
            "username: 3–32 characters of a-z, 0-9, '_', '.', '-'",
        ))
    }
}

/// A plausible address: one '@', something on both sides, a dot in the domain.
pub fn email(raw: &str) -> Result<String> {
    let e = login_key(raw);
    let valid = e.len() <= 254
        && !e.chars().any(char::is_whitespace)
        && matches!(e.split_once('@'), Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
               && !domain.ends_with('.') && !domain.contains('@'));
    if valid {
        Ok(e)
    } else {
        Err(Error::invalid("email: not a valid address"))
    }
}

pub fn display_name(raw: &str) -> Result<String> {
    let n = raw.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME_CHARS || has_hidden(n) {
        return Err(Error::invalid(format!(
            "name: 1–{MAX_NAME_CHARS} characters, no control or invisible formatting characters"
        )));
    }
    Ok(n.to_owned())
}

pub fn password(raw: &str) -> Result<()> {
    let n = raw.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        return Err(Error::invalid(format!(
            "password: {MIN_PASSWORD_CHARS}–{MAX_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

pub fn room_name(raw: &str) -> Result<String> {
    let n = raw.trim();
    if n.is_empty() || n.chars().count() > MAX_ROOM_NAME_CHARS || has_hidden(n) {
        return Err(Error::invalid(format!(
            "name: 1–{MAX_ROOM_NAME_CHARS} characters, no control or invisible formatting characters"
        )));
    }
    Ok(n.to_owned())
}

pub fn description(raw: &str) -> Result<String> {
    let d = raw.trim();
    if d.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(Error::invalid(format!(
            "description: at most {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    Ok(d.to_owned())
}

/// Message text: stored as written. Empty (or blank) text is only allowed when
/// a file is attached; over the limit is `too_large`.
pub fn content(raw: &str, has_file: bool) -> Result<()> {
    if raw.chars().count() > MAX_CONTENT_CHARS {
        return Err(Error::TooLarge(format!(
            "content: at most {MAX_CONTENT_CHARS} characters"
        )));
    }
    if raw.trim().is_empty() && !has_file {
        return Err(Error::invalid("content: must not be empty"));
    }
    Ok(())
}

pub fn client_id(raw: &str) -> Result<()> {
    if raw.is_empty() || raw.chars().count() > MAX_CLIENT_ID_CHARS {
        return Err(Error::invalid(format!(
            "clientId: 1–{MAX_CLIENT_ID_CHARS} characters"
        )));
    }
    Ok(())
}

/// A reaction: a short string with no whitespace or control characters (an
/// emoji, or a `:shortcode:`).
pub fn emoji(raw: &str) -> Result<()> {
    let n = raw.chars().count();
    if n == 0 || n > MAX_EMOJI_CHARS || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid("emoji: 1–32 characters, no spaces"));
    }
    Ok(())
}

/// Longest `?query=` of user and room search, in characters.
pub const MAX_QUERY_CHARS: usize = 100;

/// A search box's text: trimmed, at most [`MAX_QUERY_CHARS`] (`invalid` beyond).
pub fn search_query(raw: &str) -> Result<&str> {
    let q = raw.trim();
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(Error::invalid(format!(
            "query: at most {MAX_QUERY_CHARS} characters"
        )));
    }
    Ok(q)
}

/// How a login (email or username) is looked up and rate limited: trimmed,
/// NFKC-normalised, lower-cased.
pub fn login_key(raw: &str) -> String {
    raw.trim().nfkc().collect::<String>().to_lowercase()
}

/// Control characters, or format characters (Unicode category Cf: bidi
/// overrides and isolates, zero-width spaces and joiners, soft hyphens,
/// invisible operators…), which make a name look like another or reorder
/// the text around it. A zero-width joiner between two symbols is allowed:
/// it is how emoji sequences like 👩‍💻 are written.
pub fn has_hidden(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    chars.iter().enumerate().any(|(i, &c)| {
        if c.is_control() {
            return true;
        }
        if c.general_category() != GeneralCategory::Format {
            return false;
        }
        let symbol = |c: Option<&char>| {
            c.is_some_and(|c| {
                matches!(
                    c.general_category(),
                    GeneralCategory::OtherSymbol | GeneralCategory::NonspacingMark
                )
            })
        };
        !(c == '\u{200D}'
            && symbol(i.checked_sub(1).and_then(|j| chars.get(j)))
            && symbol(chars.get(i + 1)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(username(" Ana.B-1 ").ok().as_deref(), Some("ana.b-1"));
        assert!(username("ab").is_err());
        assert!(username(&"a".repeat(33)).is_err());
        assert!(username("ana b").is_err());
        assert!(username("añа").is_err());
        assert_eq!(username("ＡＬＩＣＥ").ok().as_deref(), Some("alice"));
        assert!(username("ali\u{200B}ce").is_err());
    }

    #[test]
    fn names_refuse_invisible_formatting() {
        for bad in [
            "evil\u{202E}gnp.exe",
            "a\u{200B}b",
            "x\u{2066}y",
            "soft\u{00AD}",
            "\u{FEFF}bom",
            "tab\there",
        ] {
            assert!(display_name(bad).is_err(), "{bad:?}");
            assert!(room_name(bad).is_err(), "{bad:?}");
        }
        assert!(display_name("Zoë 👩\u{200D}💻").is_ok());
        assert!(room_name("général").is_ok());
        assert_eq!(login_key("  ＡＬＩＣＥ "), "alice");
    }

    #[test]
    fn emails() {
        assert_eq!(
            email("Ana@Example.com").ok().as_deref(),
            Some("ana@example.com")
        );
        assert!(email("ana").is_err());
        assert!(email("@x.com").is_err());
        assert!(email("a@b").is_err());
        assert!(email("a b@c.d").is_err());
    }

    #[test]
    fn contents() {
        assert!(content("hi", false).is_ok());
        assert!(content("  ", false).is_err());
        assert!(content("", true).is_ok());
        assert!(content(&"é".repeat(4000), false).is_ok());
        assert!(matches!(
            content(&"x".repeat(4001), false),
            Err(Error::TooLarge(_))
        ));
    }
}
