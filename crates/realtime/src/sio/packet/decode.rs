//! Decoding a client's text packet, strictly or leniently (a lone UTF-16
//! surrogate escape, from a cut emoji, refuses that packet, not the connection).

use serde_json::Value;

use super::{Kind, Packet, ParseError, MAX_ATTACHMENTS};

/// Decodes a text packet (the Engine.IO message after its `4`).
pub fn decode(s: &str) -> Result<Packet, ParseError> {
    match decode_lenient(s)? {
        (p, false) => Ok(p),
        (_, true) => Err(ParseError::Json),
    }
}

/// Like [`decode`], but JSON whose only fault is a lone UTF-16 surrogate escape
/// (`"\ud83d"`: what a client that cut an emoji in half sends) is decoded with
/// U+FFFD in its place; the flag tells it was. The caller then refuses that one
/// packet instead of the whole connection.
pub fn decode_lenient(s: &str) -> Result<(Packet, bool), ParseError> {
    let b = s.as_bytes();
    let kind = Kind::from_byte(*b.first().ok_or(ParseError::Empty)?).ok_or(ParseError::Kind)?;
    let mut i = 1;
    let mut attachments = 0;
    if kind.is_binary() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || b.get(i) != Some(&b'-') {
            return Err(ParseError::Attachments);
        }
        attachments = s[start..i].parse().map_err(|_| ParseError::Attachments)?;
        if attachments > MAX_ATTACHMENTS {
            return Err(ParseError::Attachments);
        }
        i += 1;
    }
    let nsp = if b.get(i) == Some(&b'/') {
        let start = i;
        while i < b.len() && b[i] != b',' {
            i += 1;
        }
        let nsp = s[start..i].to_owned();
        if i < b.len() {
            i += 1; // the comma
        }
        nsp
    } else {
        "/".to_owned()
    };
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let id = if i > start {
        Some(s[start..i].parse::<u64>().map_err(|_| ParseError::AckId)?)
    } else {
        None
    };
    let rest = &s[i..];
    let mut replaced = false;
    let data = if rest.is_empty() {
        None
    } else {
        match serde_json::from_str::<Value>(rest) {
            Ok(v) => Some(v),
            Err(_) => {
                let fixed = replace_lone_surrogates(rest).ok_or(ParseError::Json)?;
                replaced = true;
                Some(serde_json::from_str::<Value>(&fixed).map_err(|_| ParseError::Json)?)
            }
        }
    };
    let valid = match kind {
        Kind::Connect => data.as_ref().is_none_or(Value::is_object),
        Kind::Disconnect => data.is_none(),
        Kind::ConnectError => false, // never from a client
        Kind::Event | Kind::BinaryEvent => matches!(
            &data,
            Some(Value::Array(a)) if a.first().is_some_and(Value::is_string)
        ),
        Kind::Ack | Kind::BinaryAck => id.is_some() && matches!(data, Some(Value::Array(_))),
    };
    if !valid {
        return Err(ParseError::Payload);
    }
    Ok((
        Packet {
            kind,
            nsp,
            id,
            attachments,
            data,
        },
        replaced,
    ))
}

/// The JSON text with every `\uXXXX` escape of an unpaired UTF-16 surrogate
/// replaced by `\ufffd`; `None` when it has none. Outside strings JSON has no
/// backslash, so escapes are recognised without tracking strings.
fn replace_lone_surrogates(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let unit = |at: usize| -> Option<u16> {
        if b.get(at) != Some(&b'\\') || b.get(at + 1) != Some(&b'u') {
            return None;
        }
        let h = b.get(at + 2..at + 6)?;
        if !h.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
    };
    let high = |u: u16| (0xD800..0xDC00).contains(&u);
    let low = |u: u16| (0xDC00..0xE000).contains(&u);
    let mut out: Option<String> = None;
    let (mut i, mut copied) = (0, 0);
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(u) = unit(i) else {
            i += 2; // any other escape (`\\`, `\"`, `\n`…), or not one at all
            continue;
        };
        if high(u) && unit(i + 6).is_some_and(low) {
            i += 12; // a proper pair
            continue;
        }
        if !high(u) && !low(u) {
            i += 6;
            continue;
        }
        let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
        o.push_str(&s[copied..i]);
        o.push_str("\\ufffd");
        i += 6;
        copied = i;
    }
    out.map(|mut o| {
        o.push_str(&s[copied..]);
        o
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// `s` decoded, or the test fails.
    pub(crate) fn ok(s: &str) -> Packet {
        match decode(s) {
            Ok(p) => p,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn decodes_connect_variants() {
        let p = ok("0");
        assert_eq!((p.kind, p.nsp.as_str(), p.data), (Kind::Connect, "/", None));
        let p = ok("0/admin,{\"token\":\"x\"}");
        assert_eq!(p.nsp, "/admin");
        assert_eq!(p.data, Some(json!({"token":"x"})));
        let p = ok("0/random");
        assert_eq!((p.nsp.as_str(), p.data), ("/random", None));
        assert_eq!(decode("0[1]"), Err(ParseError::Payload));
        assert_eq!(decode("1{}"), Err(ParseError::Payload));
        assert_eq!(ok("1/custom,").kind, Kind::Disconnect);
    }

    #[test]
    fn decodes_events_and_acks() {
        let p = ok("2[\"message\",1,\"2\",{\"3\":[true]}]");
        assert_eq!(p.kind, Kind::Event);
        assert_eq!(p.id, None);
        let p = ok("2/chat,456[\"m\"]");
        assert_eq!((p.nsp.as_str(), p.id), ("/chat", Some(456)));
        let p = ok("3456[1,\"2\"]");
        assert_eq!((p.kind, p.id), (Kind::Ack, Some(456)));
        assert_eq!(decode("3[1]"), Err(ParseError::Payload));
        assert_eq!(decode("2{}"), Err(ParseError::Payload));
        assert_eq!(decode("2[]"), Err(ParseError::Payload));
        assert_eq!(decode("2[1]"), Err(ParseError::Payload));
        assert_eq!(decode("2abc[\"m\"]"), Err(ParseError::Json));
        assert_eq!(
            decode("299999999999999999999999[\"m\"]"),
            Err(ParseError::AckId)
        );
        assert_eq!(decode("abc"), Err(ParseError::Kind));
        assert_eq!(decode("4{\"message\":\"x\"}"), Err(ParseError::Payload));
        assert_eq!(decode(""), Err(ParseError::Empty));
    }

    #[test]
    fn decodes_binary_packets() {
        let p =
            ok("52-[\"m\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
        assert_eq!((p.kind, p.attachments), (Kind::BinaryEvent, 2));
        let p = ok("61-/x,7[{\"_placeholder\":true,\"num\":0}]");
        assert_eq!(
            (p.kind, p.attachments, p.nsp.as_str(), p.id),
            (Kind::BinaryAck, 1, "/x", Some(7))
        );
        assert_eq!(decode("5[\"m\"]"), Err(ParseError::Attachments));
        assert_eq!(decode("52[\"m\"]"), Err(ParseError::Attachments));
        assert_eq!(decode("5-[\"m\"]"), Err(ParseError::Attachments));
        assert_eq!(decode("5999-[\"m\"]"), Err(ParseError::Attachments));
    }

    #[test]
    fn lone_surrogates_decode_leniently() {
        let s = r#"2["m",{"t":"a\ud83d","ok":"\ud83d\ude00","esc":"\\ud83d","lo":"\ude00x"}]"#;
        assert_eq!(decode(s), Err(ParseError::Json));
        let (p, replaced) = decode_lenient(s).unwrap_or_else(|e| panic!("{e}"));
        assert!(replaced);
        assert_eq!(
            p.data,
            Some(
                json!(["m", {"t": "a\u{fffd}", "ok": "\u{1f600}", "esc": "\\ud83d", "lo": "\u{fffd}x"}])
            )
        );
        // a proper pair alone is no fault; other broken JSON stays broken
        assert_eq!(
            decode_lenient(r#"2["m","\ud83d\ude00"]"#).map(|r| r.1),
            Ok(false)
        );
        assert_eq!(decode_lenient(r#"2["m","\ud83d"#), Err(ParseError::Json));
        assert_eq!(decode_lenient(r#"2["m","\ud83d\"]"#), Err(ParseError::Json));
        assert_eq!(
            decode_lenient(r#"2["m","\uD83D\u"]"#),
            Err(ParseError::Json)
        );
    }

    #[test]
    fn malformed_input_never_panics() {
        let alphabet = [
            "0", "1", "2", "3", "4", "5", "6", "/", ",", "-", "[", "]", "{", "}", "\"", "9", "é",
            "a",
        ];
        let mut seed = 12345u32;
        for len in 0..300 {
            let mut s = String::new();
            for _ in 0..(len % 24) {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                s.push_str(alphabet[(seed as usize) % alphabet.len()]);
            }
            let _ = decode(&s);
        }
    }

    #[test]
    fn replaces_only_unpaired_surrogates() {
        assert_eq!(replace_lone_surrogates(r#""plain \n \u00e9""#), None);
        assert_eq!(replace_lone_surrogates(r#""\ud83d\ude00""#), None);
        assert_eq!(
            replace_lone_surrogates(r#"["\ud83d","\ude00\ud83d"]"#).as_deref(),
            Some(r#"["\ufffd","\ufffd\ufffd"]"#)
        );
        // an escaped backslash before `u` is no escape
        assert_eq!(replace_lone_surrogates(r#""\\ud83d""#), None);
        assert_eq!(replace_lone_surrogates(r#""\ud83"#), None);
    }
}
