//! Input rules, shared by REST and socket handlers. Each returns a clear
//! `invalid` (or `too_large`) error naming the field.

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
pub fn username(raw: &str) -> Result<String> {
    let u = raw.trim().to_lowercase();
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
    let e = raw.trim().to_lowercase();
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
    if n.is_empty() || n.chars().count() > MAX_NAME_CHARS || n.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "name: 1–{MAX_NAME_CHARS} characters, no control characters"
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
    if n.is_empty() || n.chars().count() > MAX_ROOM_NAME_CHARS || n.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "name: 1–{MAX_ROOM_NAME_CHARS} characters, no control characters"
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
