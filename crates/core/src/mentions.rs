//! Finding `@username` and `@room` in message text.

/// What a message's text mentions: usernames (lower-cased, deduplicated, in
/// order of first appearance) and whether it says `@room` (everyone).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Mentions {
    pub usernames: Vec<String>,
    pub room: bool,
}

/// A mention is `@` at the start or after a character that cannot be part of a
/// word or address (so `ana@example.com` mentions nobody), followed by a valid
/// username. Text in backticks is code and mentions nobody.
pub fn parse(text: &str) -> Mentions {
    let mut out = Mentions::default();
    let chars: Vec<char> = text.chars().collect();
    let mut in_code = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            in_code = !in_code;
            i += 1;
            continue;
        }
        let starts_word = i == 0 || !is_name_char(chars[i - 1]);
        if c == '@' && !in_code && starts_word {
            let mut j = i + 1;
            while j < chars.len() && is_name_char(chars[j]) {
                j += 1;
            }
            // A trailing '.' or '-' ends a sentence, not a name.
            let mut end = j;
            while end > i + 1 && matches!(chars[end - 1], '.' | '-') {
                end -= 1;
            }
            let name: String = chars[i + 1..end].iter().collect::<String>().to_lowercase();
            if name == "room" || name == "everyone" || name == "all" {
                out.room = true;
            } else if (3..=32).contains(&name.chars().count()) && !out.usernames.contains(&name) {
                out.usernames.push(name);
            }
            i = j;
            continue;
        }
        i += 1;
    }
    out
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_mentions() {
        let m = parse("hi @Ana and @luis.p, and @ana again. @room!");
        assert_eq!(m.usernames, vec!["ana", "luis.p"]);
        assert!(m.room);
    }

    #[test]
    fn ignores_emails_code_and_short() {
        let m = parse("mail ana@example.com, `@bob` @xy");
        assert!(m.usernames.is_empty());
        assert!(!m.room);
    }

    #[test]
    fn trailing_punctuation() {
        assert_eq!(parse("thanks @bob.").usernames, vec!["bob"]);
    }
}
