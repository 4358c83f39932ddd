//! The cross-node seam: every broadcast/join/leave/disconnect op is applied
//! locally, then handed once to the [`Fanout`], which a cluster implementation
//! publishes to the other nodes (they call `Engine::apply_remote`).

use bytes::{Buf, BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

pub trait Fanout: Send + Sync + 'static {
    /// Called once per op AFTER the engine applied it locally.
    fn publish(&self, op: &FanoutOp);
}

/// The single-node fanout: nothing to tell anyone.
pub struct NoopFanout;

impl Fanout for NoopFanout {
    fn publish(&self, _op: &FanoutOp) {}
}

/// One op over a namespace's sockets: those in any of `rooms` (every socket of
/// the namespace when empty), minus those in `except_rooms` or `except_sockets`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FanoutOp {
    pub namespace: String,
    pub rooms: Vec<String>,
    pub except_rooms: Vec<String>,
    pub except_sockets: Vec<String>,
    pub action: FanoutAction,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FanoutAction {
    /// `packet` is the whole Engine.IO text frame (`4` + Socket.IO packet),
    /// `attachments` its binary attachments.
    Emit {
        packet: Bytes,
        attachments: Vec<Bytes>,
    },
    Join(Vec<String>),
    Leave(Vec<String>),
    Disconnect,
}

const VERSION: u8 = 1;

fn put_bytes(b: &mut BytesMut, v: &[u8]) {
    b.put_u32_le(u32::try_from(v.len()).unwrap_or(u32::MAX));
    b.put_slice(v);
}

fn put_strs(b: &mut BytesMut, v: &[String]) {
    b.put_u32_le(u32::try_from(v.len()).unwrap_or(u32::MAX));
    for s in v {
        put_bytes(b, s.as_bytes());
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u8(&mut self) -> Option<u8> {
        if self.0.is_empty() {
            return None;
        }
        Some(self.0.get_u8())
    }

    fn len(&mut self) -> Option<usize> {
        if self.0.len() < 4 {
            return None;
        }
        usize::try_from(self.0.get_u32_le()).ok()
    }

    fn bytes(&mut self) -> Option<&[u8]> {
        let n = self.len()?;
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }

    fn strings(&mut self) -> Option<Vec<String>> {
        let n = self.len()?;
        // every string costs at least 4 bytes: refuse absurd counts before allocating
        if n > self.0.len() / 4 {
            return None;
        }
        (0..n).map(|_| self.string()).collect()
    }
}

impl FanoutOp {
    /// A compact binary form (length-prefixed fields) for the wire between nodes.
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(64);
        b.put_u8(VERSION);
        put_bytes(&mut b, self.namespace.as_bytes());
        put_strs(&mut b, &self.rooms);
        put_strs(&mut b, &self.except_rooms);
        put_strs(&mut b, &self.except_sockets);
        match &self.action {
            FanoutAction::Emit {
                packet,
                attachments,
            } => {
                b.put_u8(0);
                put_bytes(&mut b, packet);
                b.put_u32_le(u32::try_from(attachments.len()).unwrap_or(u32::MAX));
                for a in attachments {
                    put_bytes(&mut b, a);
                }
            }
            FanoutAction::Join(r) => {
                b.put_u8(1);
                put_strs(&mut b, r);
            }
            FanoutAction::Leave(r) => {
                b.put_u8(2);
                put_strs(&mut b, r);
            }
            FanoutAction::Disconnect => b.put_u8(3),
        }
        b.freeze()
    }

    /// The inverse of [`FanoutOp::encode`]; `None` for anything malformed.
    pub fn decode(b: &[u8]) -> Option<FanoutOp> {
        let mut r = Reader(b);
        if r.u8()? != VERSION {
            return None;
        }
        let namespace = r.string()?;
        let rooms = r.strings()?;
        let except_rooms = r.strings()?;
        let except_sockets = r.strings()?;
        let action = match r.u8()? {
            0 => {
                let packet = Bytes::copy_from_slice(r.bytes()?);
                let n = r.len()?;
                if n > r.0.len() / 4 {
                    return None;
                }
                let attachments = (0..n)
                    .map(|_| r.bytes().map(Bytes::copy_from_slice))
                    .collect::<Option<Vec<_>>>()?;
                FanoutAction::Emit {
                    packet,
                    attachments,
                }
            }
            1 => FanoutAction::Join(r.strings()?),
            2 => FanoutAction::Leave(r.strings()?),
            3 => FanoutAction::Disconnect,
            _ => return None,
        };
        if !r.0.is_empty() {
            return None;
        }
        Some(FanoutOp {
            namespace,
            rooms,
            except_rooms,
            except_sockets,
            action,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops() -> Vec<FanoutOp> {
        let base = FanoutOp {
            namespace: "/".into(),
            rooms: vec!["room:1".into(), "room:2".into()],
            except_rooms: vec!["user:7".into()],
            except_sockets: vec!["abc".into()],
            action: FanoutAction::Disconnect,
        };
        vec![
            FanoutOp {
                action: FanoutAction::Emit {
                    packet: Bytes::from_static(b"42[\"e\",{\"x\":\"\xc3\xa9\"}]"),
                    attachments: vec![Bytes::from_static(&[0, 1, 2]), Bytes::new()],
                },
                ..base.clone()
            },
            FanoutOp {
                action: FanoutAction::Join(vec!["a".into(), "".into()]),
                ..base.clone()
            },
            FanoutOp {
                action: FanoutAction::Leave(vec![]),
                rooms: vec![],
                ..base.clone()
            },
            base,
        ]
    }

    #[test]
    fn round_trips() {
        for op in ops() {
            assert_eq!(FanoutOp::decode(&op.encode()), Some(op));
        }
    }

    #[test]
    fn rejects_truncated_extended_and_garbage() {
        for op in ops() {
            let b = op.encode();
            for cut in 0..b.len() {
                assert_eq!(FanoutOp::decode(&b[..cut]), None, "cut at {cut}");
            }
            let mut longer = b.to_vec();
            longer.push(0);
            assert_eq!(FanoutOp::decode(&longer), None);
        }
        assert_eq!(FanoutOp::decode(&[2]), None);
        assert_eq!(FanoutOp::decode(&[1, 0xff, 0xff, 0xff, 0xff]), None);
        let mut seed = 7u32;
        for len in 0..500 {
            let mut v = vec![1u8];
            for _ in 0..(len % 60) {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                v.push((seed % 6) as u8);
            }
            let _ = FanoutOp::decode(&v);
        }
    }
}
