//! Scripts written without spaces (Chinese, Japanese, Korean, Thai): which
//! characters they are, and the overlapping pairs their runs are indexed and
//! searched as.

/// Whether `c` belongs to a script written without spaces between words.
pub(super) fn is_cjk(c: char) -> bool {
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

/// Appends the overlapping pairs of a CJK run, then, with `last`, its last
/// character on its own. The index always takes the last character (so that
/// a one-character query finds every character of a run as a token's start);
/// a query term only where more of its phrase follows the run.
pub(super) fn cjk_tokens(run: &str, last: bool, out: &mut Vec<String>) {
    let chars: Vec<char> = run.chars().collect();
    for pair in chars.windows(2) {
        out.push(pair.iter().collect());
    }
    if last {
        if let Some(c) = chars.last() {
            out.push(c.to_string());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::search::{index_text, parse, Term};

    fn term(q: &str) -> Term {
        parse(q).unwrap().terms.remove(0)
    }

    fn tokens(run: &str, last: bool) -> Vec<String> {
        let mut out = Vec::new();
        cjk_tokens(run, last, &mut out);
        out
    }

    #[test]
    fn knows_the_scripts_without_spaces() {
        for c in [
            'ก', 'ᄀ', 'あ', 'ア', 'ㄱ', 'ㇰ', '㐀', '東', '가', '豈', 'ｱ', '𠀀',
        ] {
            assert!(is_cjk(c), "{c:?} (U+{:04X})", c as u32);
        }
        // Latin, Cyrillic, full-width Latin, CJK punctuation and digits separate
        // or form words as in any other script.
        for c in ['a', 'é', 'Ж', 'Ａ', '。', '、', '１'] {
            assert!(!is_cjk(c), "{c:?} (U+{:04X})", c as u32);
        }
    }

    #[test]
    fn runs_become_pairs_and_maybe_their_last_character() {
        assert_eq!(tokens("東京都", true), ["東京", "京都", "都"]);
        assert_eq!(tokens("東京都", false), ["東京", "京都"]);
        assert_eq!(tokens("東", true), ["東"]);
        assert!(tokens("東", false).is_empty());
        assert!(tokens("", true).is_empty());
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
}
