//! What a socket handler answers: `{ok: true, …body}` acks, and the bodies of
//! the acks (their TypeScript is generated for the web UI: scripts/contract.sh);
//! the events' payloads are `natter_core::events`.

use natter_core::{Error, Id, Message, Result, RoomEvent};
use natter_realtime::Socket;
use serde::Serialize;
use serde_json::Value;

use crate::auth::tokens::Session;

/// The socket a handler serves: its state is the caller's session.
pub type ClientSocket = Socket<Session>;

/// `{ok: true, …body}`.
pub fn ok<T: Serialize>(body: T) -> Result<Value> {
    let mut v = serde_json::to_value(body).map_err(Error::internal)?;
    match &mut v {
        Value::Object(map) => {
            map.insert("ok".into(), Value::Bool(true));
            Ok(v)
        }
        _ => Ok(serde_json::json!({ "ok": true })),
    }
}

#[derive(Debug, Serialize)]
pub struct Empty {}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, rename = "MessageAck"))]
pub struct MessageBody {
    pub message: Message,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, rename = "SyncAck"))]
pub struct SyncBody {
    pub events: Vec<RoomEvent>,
    pub reset: Vec<Id>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ok_adds_ok_to_the_body() {
        let v = ok(SyncBody {
            events: Vec::new(),
            reset: vec![Id(3)],
        })
        .unwrap_or_default();
        assert_eq!(
            v,
            serde_json::json!({"ok": true, "events": [], "reset": ["3"]})
        );
        assert_eq!(
            ok(Empty {}).unwrap_or_default(),
            serde_json::json!({"ok": true})
        );
        // a body that is not an object is just `{ok: true}`
        assert_eq!(ok(5).unwrap_or_default(), serde_json::json!({"ok": true}));
    }
}
