//! The event tables: names, the `{event, data}` shape, decoding, and the
//! UI's generated event constants and payload maps.

use serde_json::json;

use super::*;
use crate::{ErrorCode, Id};

#[test]
fn names_round_trip_and_are_unique() {
    for e in ClientEventName::ALL {
        assert_eq!(ClientEventName::parse(e.as_str()), Some(*e));
    }
    for e in ServerEventName::ALL {
        assert_eq!(ServerEventName::parse(e.as_str()), Some(*e));
    }
    assert_eq!(ClientEventName::parse("nope"), None);
    let mut names: Vec<_> = ServerEventName::ALL.iter().map(|e| e.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(
        names.len(),
        ServerEventName::ALL.len(),
        "every server event once"
    );
}

#[test]
fn decode_takes_the_payload_of_the_named_event() {
    let e = ClientEvent::decode("message:edit", &json!({"messageId": "7", "content": "hi"}));
    match e {
        Ok(ClientEvent::MessageEdit(p)) => {
            assert_eq!((p.message_id, p.content.as_str()), (Id(7), "hi"));
        }
        other => panic!("{other:?}"),
    }
    // the same payload under another name is that other event
    let e = ClientEvent::decode("message:delete", &json!({"messageId": "7"}));
    assert!(matches!(
        e,
        Ok(ClientEvent::MessageDelete(MessageRef { message_id: Id(7) }))
    ));
}

#[test]
fn decode_says_what_is_wrong() {
    let unknown = ClientEvent::decode("nope", &json!({})).map(|e| e.name());
    assert!(matches!(unknown, Err(Error::NotFound(m)) if m.contains("nope")));
    let bad = ClientEvent::decode("room:join", &json!({"roomId": true})).map(|e| e.name());
    assert!(matches!(bad, Err(Error::Invalid(m)) if m.starts_with("room:join: ")));
    let missing = ClientEvent::decode("message:send", &serde_json::Value::Null).map(|e| e.name());
    assert!(matches!(missing, Err(Error::Invalid(_))));
}

#[test]
fn a_server_event_is_its_name_and_payload() {
    let e = ServerEvent::Error(ErrorBody {
        code: ErrorCode::Forbidden,
        message: "no".into(),
    });
    assert_eq!(e.name().as_str(), "error");
    let data = serde_json::to_value(e.data()).unwrap_or_default();
    assert_eq!(data, json!({"code": "forbidden", "message": "no"}));
    // tagged, as `sync` returns logged events, and back
    let tagged = serde_json::to_value(&e).unwrap_or_default();
    assert_eq!(tagged, json!({"event": "error", "data": data}));
    let back: ServerEvent =
        serde_json::from_value(tagged).unwrap_or(ServerEvent::TypingStop(TypingStop {
            user_id: Id(0),
            room_id: Id(0),
        }));
    assert_eq!(back.name(), ServerEventName::Error);
    let decoded = ServerEvent::decode("error", &data).map(|e| e.name());
    assert!(matches!(decoded, Ok(ServerEventName::Error)));
}

/// The event names and payload maps for the web UI (`events.ts` beside
/// ts-rs's types), and docs/EVENTS.md, written by `scripts/contract.sh`: the
/// UI spells no event name itself, its socket's event maps and the events'
/// reference come from these tables.
#[cfg(feature = "ts")]
#[test]
fn export_bindings_event_names() {
    use std::collections::BTreeSet;
    use std::fmt::Write;
    fn object(name: &str, table: &[EventDoc], imports: &mut BTreeSet<String>) -> String {
        let mut out = format!("export const {name} = {{\n");
        for e in table {
            let _ = writeln!(out, "  {}: '{}',", e.variant, e.wire);
        }
        out.push_str("} as const;\n");
        let _ = writeln!(
            out,
            "export type {name}Name = (typeof {name})[keyof typeof {name}];\n"
        );
        let _ = writeln!(out, "/** The payload of each {name}, by wire name. */");
        let _ = writeln!(out, "export interface {name}Payloads {{");
        for e in table {
            let _ = writeln!(out, "  '{}': {};", e.wire, e.payload);
            imports.insert(e.payload.clone());
        }
        out.push_str("}\n");
        out
    }
    fn doc_table(title: &str, table: &[EventDoc]) -> String {
        let mut out = format!("## {title}\n\n| event | payload | what it does |\n|---|---|---|\n");
        for e in table {
            let _ = writeln!(out, "| `{}` | `{}` | {} |", e.wire, e.payload, e.doc);
        }
        out.push_str("\n| payload | shape |\n|---|---|\n");
        let mut seen = BTreeSet::new();
        for e in table {
            if seen.insert(e.payload.clone()) {
                let shape = e.shape.replace('|', "\\|");
                let _ = writeln!(out, "| `{}` | `{}` |", e.payload, shape);
            }
        }
        out
    }
    let client = ClientEventName::ts_table();
    let server = ServerEventName::ts_table();
    let mut imports = BTreeSet::new();
    let client_ts = object("ClientEvent", &client, &mut imports);
    let server_ts = object("ServerEvent", &server, &mut imports);
    let mut text = String::from(
        "// Generated from natter-core's `events` by scripts/contract.sh. Do not edit.\n\n",
    );
    for ty in &imports {
        let _ = writeln!(text, "import type {{ {ty} }} from './{ty}';");
    }
    let _ = write!(text, "\n{client_ts}\n{server_ts}");
    let dir = std::env::var("TS_RS_EXPORT_DIR").unwrap_or_else(|_| "bindings".to_owned());
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{dir}: {e}"));
    std::fs::write(format!("{dir}/events.ts"), text).unwrap_or_else(|e| panic!("{dir}: {e}"));
    if let Ok(doc) = std::env::var("NATTER_EVENTS_DOC") {
        let text = format!(
            "# Socket.IO events\n\nGenerated from `natter_core::events` by scripts/contract.sh (do not edit; CI checks it). \
             What each event guarantees, its refusals and acks: [CONTRACT.md](CONTRACT.md) §3. \
             Types are the UI's TypeScript (`web/src/api/generated/`).\n\n{}\n{}",
            doc_table("Client → server", &client),
            doc_table("Server → client", &server),
        );
        std::fs::write(&doc, text).unwrap_or_else(|e| panic!("{doc}: {e}"));
    }
}
