//! Encoding the packets the server sends, straight into the bytes of an
//! Engine.IO text frame (`4` + packet): one buffer, no intermediate JSON value.

use std::io::Write as _;

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use serde_json::Value;

use super::Kind;

/// The start of an outbound packet: Engine.IO `4`, type, attachments, namespace, id.
fn head(kind: Kind, nsp: &str, attachments: usize, id: Option<u64>, extra: usize) -> BytesMut {
    let mut b = BytesMut::with_capacity(8 + nsp.len() + extra);
    b.put_u8(b'4');
    b.put_u8(b'0' + kind as u8);
    if kind.is_binary() {
        b.put_slice(attachments.to_string().as_bytes());
        b.put_u8(b'-');
    }
    if nsp != "/" {
        b.put_slice(nsp.as_bytes());
        b.put_u8(b',');
    }
    if let Some(id) = id {
        b.put_slice(id.to_string().as_bytes());
    }
    b
}

/// `CONNECT` answer: `40[nsp,]{"sid":..}`.
pub fn connect(nsp: &str, sid: &str) -> Bytes {
    let mut b = head(Kind::Connect, nsp, 0, None, 32);
    b.put_slice(b"{\"sid\":");
    b.put_slice(Value::from(sid).to_string().as_bytes());
    b.put_u8(b'}');
    b.freeze()
}

/// `CONNECT_ERROR`: `44[nsp,]{"message":..}`.
pub fn connect_error(nsp: &str, message: &str) -> Bytes {
    let mut b = head(Kind::ConnectError, nsp, 0, None, 32);
    b.put_slice(b"{\"message\":");
    b.put_slice(Value::from(message).to_string().as_bytes());
    b.put_u8(b'}');
    b.freeze()
}

/// `DISCONNECT`: `41[nsp,]`.
pub fn disconnect(nsp: &str) -> Bytes {
    head(Kind::Disconnect, nsp, 0, None, 0).freeze()
}

/// An `EVENT` (or `BINARY_EVENT` when `attachments > 0`) with `[event, data]`.
pub fn event<T: Serialize + ?Sized>(
    nsp: &str,
    event: &str,
    data: &T,
    id: Option<u64>,
) -> Result<Bytes, serde_json::Error> {
    let mut w = head(Kind::Event, nsp, 0, id, 64).writer();
    serde_json::to_writer(&mut w, &(event, data))?;
    Ok(w.into_inner().freeze())
}

/// An event with any number of arguments; binary when `attachments > 0` (the
/// arguments then hold the placeholders).
pub fn event_args(
    nsp: &str,
    event: &str,
    args: &[Value],
    attachments: usize,
    id: Option<u64>,
) -> Result<Bytes, serde_json::Error> {
    let kind = if attachments > 0 {
        Kind::BinaryEvent
    } else {
        Kind::Event
    };
    let mut w = head(kind, nsp, attachments, id, 64).writer();
    w.write_all(b"[").map_err(serde_json::Error::io)?;
    serde_json::to_writer(&mut w, event)?;
    for a in args {
        w.write_all(b",").map_err(serde_json::Error::io)?;
        serde_json::to_writer(&mut w, a)?;
    }
    w.write_all(b"]").map_err(serde_json::Error::io)?;
    Ok(w.into_inner().freeze())
}

/// An `ACK` (or `BINARY_ACK`) carrying `args`.
pub fn ack(
    nsp: &str,
    id: u64,
    args: &[Value],
    attachments: usize,
) -> Result<Bytes, serde_json::Error> {
    let kind = if attachments > 0 {
        Kind::BinaryAck
    } else {
        Kind::Ack
    };
    let mut w = head(kind, nsp, attachments, Some(id), 32).writer();
    serde_json::to_writer(&mut w, args)?;
    Ok(w.into_inner().freeze())
}

/// An `ACK` with one serialisable value: `[value]`.
pub fn ack_value<T: Serialize + ?Sized>(
    nsp: &str,
    id: u64,
    value: &T,
) -> Result<Bytes, serde_json::Error> {
    let mut w = head(Kind::Ack, nsp, 0, Some(id), 32).writer();
    serde_json::to_writer(&mut w, &(value,))?;
    Ok(w.into_inner().freeze())
}

/// `{"_placeholder":true,"num":n}`.
pub fn placeholder(num: usize) -> Value {
    serde_json::json!({ "_placeholder": true, "num": num })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sio::packet::decode::tests::ok;
    use serde_json::json;

    #[test]
    fn encodes() -> Result<(), serde_json::Error> {
        assert_eq!(&connect("/", "abc")[..], b"40{\"sid\":\"abc\"}");
        assert_eq!(
            &connect("/custom", "abc")[..],
            b"40/custom,{\"sid\":\"abc\"}"
        );
        assert_eq!(
            &connect_error("/random", "Invalid namespace")[..],
            b"44/random,{\"message\":\"Invalid namespace\"}"
        );
        assert_eq!(&disconnect("/")[..], b"41");
        assert_eq!(&disconnect("/a")[..], b"41/a,");
        assert_eq!(
            &event("/", "auth", &json!({}), None)?[..],
            b"42[\"auth\",{}]"
        );
        assert_eq!(&event("/a", "e", &1, Some(9))?[..], b"42/a,9[\"e\",1]");
        let args = [placeholder(0), placeholder(1)];
        assert_eq!(
            &event_args("/", "message-back", &args, 2, None)?[..],
            b"452-[\"message-back\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]"
        );
        assert_eq!(
            &event_args("/", "m", &[json!(1)], 0, None)?[..],
            b"42[\"m\",1]"
        );
        assert_eq!(
            &ack("/", 456, &[json!(1), json!("2")], 0)?[..],
            b"43456[1,\"2\"]"
        );
        assert_eq!(
            &ack("/", 789, &args, 2)?[..],
            b"462-789[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]"
        );
        assert_eq!(
            &ack_value("/x", 3, &json!({"ok":true}))?[..],
            b"43/x,3[{\"ok\":true}]"
        );
        Ok(())
    }

    #[test]
    fn round_trip_through_decode() -> Result<(), serde_json::Error> {
        let b = event_args("/n", "e", &[json!([1, 2])], 0, Some(12))?;
        let s = std::str::from_utf8(&b[1..]).unwrap_or("");
        let p = ok(s);
        assert_eq!(
            (p.kind, p.nsp.as_str(), p.id),
            (Kind::Event, "/n", Some(12))
        );
        assert_eq!(p.data, Some(json!(["e", [1, 2]])));
        Ok(())
    }

    #[test]
    fn every_kind_round_trips_through_decode() -> Result<(), serde_json::Error> {
        let strip = |b: &Bytes| String::from_utf8_lossy(&b[1..]).into_owned();
        let p = ok(&strip(&ack("/a", 4, &[json!("x")], 0)?));
        assert_eq!((p.kind, p.nsp.as_str(), p.id), (Kind::Ack, "/a", Some(4)));
        let p = ok(&strip(&ack("/", 5, &[placeholder(0)], 1)?));
        assert_eq!((p.kind, p.attachments, p.id), (Kind::BinaryAck, 1, Some(5)));
        let args = [placeholder(0), placeholder(1)];
        let p = ok(&strip(&event_args("/", "e", &args, 2, Some(3))?));
        assert_eq!(
            (p.kind, p.attachments, p.id),
            (Kind::BinaryEvent, 2, Some(3))
        );
        let p = ok(&strip(&event("/n", "e", &json!({"k": [1]}), None)?));
        assert_eq!(p.data, Some(json!(["e", {"k": [1]}])));
        let p = ok(&strip(&disconnect("/n")));
        assert_eq!((p.kind, p.nsp.as_str()), (Kind::Disconnect, "/n"));
        // a CONNECT answer carries an object, as a client's CONNECT may
        let p = ok(&strip(&connect("/n", "sid\"quoted")));
        assert_eq!(p.data, Some(json!({"sid": "sid\"quoted"})));
        Ok(())
    }
}
