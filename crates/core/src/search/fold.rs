//! Folding: the lower-case, accent-free form text is indexed and searched by.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// Scripts whose accents are folded away (Latin, Greek, Cyrillic), and the
/// full-width ASCII forms.
fn folds_accents(c: char) -> bool {
    matches!(c as u32,
        0x00C0..=0x024F | 0x1E00..=0x1EFF | 0x0370..=0x03FF | 0x1F00..=0x1FFF
        | 0x0400..=0x04FF | 0xFF01..=0xFF5E)
}

/// Appends the folded form of `c` (lower case, accents removed where that is
/// what readers of the script expect).
pub(super) fn fold_char(c: char, out: &mut String) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(s: &str) -> String {
        let mut out = String::new();
        for c in s.chars() {
            fold_char(c, &mut out);
        }
        out
    }

    #[test]
    fn letters_without_a_decomposition_have_their_own_spelling() {
        assert_eq!(fold("Straße ẞ"), "strasse ss");
        assert_eq!(fold("Æsir œuvre"), "aesir oeuvre");
        assert_eq!(fold("Øre Łódź Þór"), "ore lodz thor");
        assert_eq!(fold("Đorđe"), "dorde");
    }

    #[test]
    fn turkish_dotted_and_dotless_i_both_become_i() {
        // Plain lower-casing would give `i̇` (i + combining dot) for İ.
        assert_eq!(fold("İstanbul ısı"), "istanbul isi");
    }

    #[test]
    fn accents_go_only_in_scripts_that_drop_them() {
        assert_eq!(fold("Ångström Ελληνικά Йод"), "angstrom ελληνικα иод");
        assert_eq!(fold("ＡＢＣ１"), "abc1");
        // Outside those scripts the marks are part of the letter: Hindi keeps them.
        assert_eq!(fold("हिंदी"), "हिंदी");
    }
}
