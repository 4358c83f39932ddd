//! Emitting to many: [`Broadcast`] picks a namespace's sockets (rooms, minus
//! excepted rooms and sockets), encodes the packet once, applies the op here
//! and hands it once to the [`Fanout`](crate::Fanout) for the other nodes, who
//! apply it with the same selection ([`Shared::apply`]).

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

use super::engine::Shared;
use super::handler::EmitError;
use super::namespace::{Members, Namespace, Rooms};
use super::packet;
use super::socket::SocketRef;
use crate::eio::{read, Frame};
use crate::fanout::{FanoutAction, FanoutOp};

impl<T: Clone> Rooms<T> {
    /// The members an op targets, each once: those in any of `rooms` (every one
    /// of `all` when there is none), minus those in `except_rooms` or
    /// `except_sockets`. `all` is only needed when `rooms` is empty.
    pub(super) fn select(
        &self,
        all: Option<&Members<T>>,
        rooms: &[String],
        except_rooms: &[String],
        except_sockets: &[String],
    ) -> Vec<T> {
        let idx = &self.by_room;
        let excluded = |id: &str| {
            except_sockets.iter().any(|s| s == id)
                || except_rooms
                    .iter()
                    .any(|r| idx.get(r.as_str()).is_some_and(|m| m.contains_key(id)))
        };
        let mut out = Vec::new();
        match rooms {
            [] => {
                if let Some(all) = all {
                    out.extend(
                        all.iter()
                            .filter(|(id, _)| !excluded(id))
                            .map(|(_, s)| s.clone()),
                    );
                }
            }
            [one] => {
                if let Some(m) = idx.get(one.as_str()) {
                    out.extend(
                        m.iter()
                            .filter(|(id, _)| !excluded(id))
                            .map(|(_, s)| s.clone()),
                    );
                }
            }
            many => {
                let mut seen: HashSet<&str> = HashSet::new();
                for r in many {
                    if let Some(m) = idx.get(r.as_str()) {
                        for (id, s) in m {
                            if !excluded(id) && seen.insert(id) {
                                out.push(s.clone());
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

impl Namespace {
    /// The sockets an op targets, each once.
    fn targets(
        &self,
        rooms: &[String],
        except_rooms: &[String],
        except_sockets: &[String],
    ) -> Vec<SocketRef> {
        let idx = read(&self.rooms);
        // the rooms' lock first, as every path that takes both does
        let all = rooms.is_empty().then(|| read(&self.sockets));
        idx.select(all.as_deref(), rooms, except_rooms, except_sockets)
    }
}

impl Shared {
    /// Applies `op` to the sockets of this node it targets.
    pub(super) fn apply(&self, op: &FanoutOp) {
        let Some(ns) = read(&self.namespaces).get(&op.namespace).cloned() else {
            return;
        };
        let targets = ns.targets(&op.rooms, &op.except_rooms, &op.except_sockets);
        match &op.action {
            FanoutAction::Emit {
                packet,
                attachments,
            } => {
                let mut frames = Vec::with_capacity(1 + attachments.len());
                frames.push(Frame::Text(packet.clone()));
                frames.extend(attachments.iter().cloned().map(Frame::Binary));
                for t in targets {
                    t.send_quiet(&frames);
                }
            }
            FanoutAction::Join(rooms) => {
                for t in targets {
                    for r in rooms {
                        t.join(r);
                    }
                }
            }
            FanoutAction::Leave(rooms) => {
                for t in targets {
                    for r in rooms {
                        t.leave(r);
                    }
                }
            }
            FanoutAction::Disconnect => {
                for t in targets {
                    t.disconnect();
                }
            }
        }
    }
}

/// A broadcast under construction: rooms to target, sockets/rooms to skip.
pub struct Broadcast {
    shared: Arc<Shared>,
    namespace: String,
    rooms: Vec<String>,
    except_rooms: Vec<String>,
    except_sockets: Vec<String>,
}

impl Broadcast {
    /// To `rooms` of `namespace` (every socket of it when none).
    pub(super) fn new(shared: Arc<Shared>, namespace: &str, rooms: Vec<String>) -> Broadcast {
        Broadcast {
            shared,
            namespace: namespace.to_owned(),
            rooms,
            except_rooms: Vec::new(),
            except_sockets: Vec::new(),
        }
    }

    pub fn to(mut self, room: &str) -> Self {
        if !self.rooms.iter().any(|r| r == room) {
            self.rooms.push(room.to_owned());
        }
        self
    }

    pub fn except_socket(mut self, socket_id: &str) -> Self {
        self.except_sockets.push(socket_id.to_owned());
        self
    }

    pub fn except_room(mut self, room: &str) -> Self {
        self.except_rooms.push(room.to_owned());
        self
    }

    /// Serialised once to `Bytes`, shared by every local recipient, handed once to the fanout.
    pub fn emit<T: Serialize + ?Sized>(self, event: &str, data: &T) -> Result<(), EmitError> {
        let packet = packet::event(&self.namespace, event, data, None)?;
        self.run(FanoutAction::Emit {
            packet,
            attachments: Vec::new(),
        });
        Ok(())
    }

    /// `[event, ...args]`, binary when `binary` is not empty.
    pub fn emit_args(
        self,
        event: &str,
        args: &[Value],
        binary: Vec<Bytes>,
    ) -> Result<(), EmitError> {
        let packet = packet::event_args(&self.namespace, event, args, binary.len(), None)?;
        self.run(FanoutAction::Emit {
            packet,
            attachments: binary,
        });
        Ok(())
    }

    /// Makes the matching sockets (on every node) join rooms.
    pub fn join(self, rooms: &[&str]) {
        self.run(FanoutAction::Join(
            rooms.iter().map(|r| r.to_string()).collect(),
        ));
    }

    pub fn leave(self, rooms: &[&str]) {
        self.run(FanoutAction::Leave(
            rooms.iter().map(|r| r.to_string()).collect(),
        ));
    }

    pub fn disconnect(self) {
        self.run(FanoutAction::Disconnect);
    }

    fn run(self, action: FanoutAction) {
        let op = FanoutOp {
            namespace: self.namespace,
            rooms: self.rooms,
            except_rooms: self.except_rooms,
            except_sockets: self.except_sockets,
            action,
        };
        self.shared.apply(&op);
        self.shared.fanout.publish(&op);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eio::testing::take_sent;
    use crate::sio::testing::{fixture, sent, until};
    use crate::sio::EngineConfig;
    use serde_json::json;

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// a in r1; b in r1 and r2; c in r2; d in no room.
    fn rooms() -> (Rooms<&'static str>, Members<&'static str>) {
        let mut r = Rooms::default();
        for (room, id) in [("r1", "a"), ("r1", "b"), ("r2", "b"), ("r2", "c")] {
            r.add(room, Arc::from(id), id);
        }
        let all = ["a", "b", "c", "d"].map(|id| (Arc::from(id), id)).into();
        (r, all)
    }

    fn select(
        rooms_: &[&str],
        except_rooms: &[&str],
        except_sockets: &[&str],
    ) -> Vec<&'static str> {
        let (r, all) = rooms();
        let mut got = r.select(
            Some(&all),
            &strs(rooms_),
            &strs(except_rooms),
            &strs(except_sockets),
        );
        got.sort_unstable();
        got
    }

    #[test]
    fn selects_rooms_minus_exceptions_each_once() {
        assert_eq!(select(&[], &[], &[]), ["a", "b", "c", "d"]);
        assert_eq!(select(&["r1"], &[], &[]), ["a", "b"]);
        assert_eq!(select(&["r1", "r2"], &[], &[]), ["a", "b", "c"]);
        assert_eq!(select(&["r1", "r2"], &[], &["b"]), ["a", "c"]);
        assert_eq!(select(&["r1"], &["r2"], &[]), ["a"]);
        assert_eq!(select(&[], &["r1"], &["d"]), ["c"]);
        assert_eq!(select(&["nowhere"], &[], &[]), Vec::<&str>::new());
        assert_eq!(select(&["r2", "nowhere"], &["nowhere"], &[]), ["b", "c"]);
    }

    #[test]
    fn without_the_sockets_no_room_means_nobody() {
        let (r, _) = rooms();
        assert!(r.select(None, &[], &[], &[]).is_empty());
    }

    #[tokio::test]
    async fn an_emit_is_encoded_once_for_every_recipient() {
        let fx = fixture(EngineConfig::default());
        let (ca, a) = fx.connect(json!({"rooms": ["r1"]})).await;
        let (cb, _b) = fx.connect(json!({"rooms": ["r1", "r2"]})).await;
        let (cc, c) = fx.connect(json!({"rooms": ["r2"]})).await;
        fx.engine
            .to("/", "r1")
            .to("r2")
            .to("r1")
            .except_socket(c.id())
            .emit("e", &1)
            .unwrap_or_else(|e| panic!("{e}"));
        let (fa, fb) = (take_sent(&ca), take_sent(&cb));
        assert_eq!(fa, fb);
        assert!(take_sent(&cc).is_empty());
        let ptr = |f: &[Frame]| match f {
            [Frame::Text(b)] => b.as_ptr(),
            other => panic!("{other:?}"),
        };
        assert_eq!(ptr(&fa), ptr(&fb), "one encoding, shared");
        assert_eq!(
            fx.published(),
            [format!(
                "FanoutOp {{ namespace: \"/\", rooms: [\"r1\", \"r2\"], except_rooms: [], except_sockets: [{:?}], action: Emit {{ packet: b\"42[\\\"e\\\",1]\", attachments: [] }} }}",
                c.id()
            )]
        );
        let _ = a;
    }

    #[tokio::test]
    async fn a_namespace_wide_emit_skips_excepted_rooms() {
        let fx = fixture(EngineConfig::default());
        let (ca, _) = fx.connect(json!({"rooms": ["r1"]})).await;
        let (cb, _) = fx.connect(json!({"rooms": ["r2"]})).await;
        fx.engine
            .of("/")
            .except_room("r2")
            .emit_args("b", &[placeholder_arg()], vec![Bytes::from_static(b"x")])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            sent(&ca),
            [
                "451-[\"b\",{\"_placeholder\":true,\"num\":0}]",
                "<binary 1>"
            ]
        );
        assert!(sent(&cb).is_empty());
        // another namespace is another world
        fx.engine
            .of("/admin")
            .emit("e", &1)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(sent(&ca).is_empty());
    }

    fn placeholder_arg() -> Value {
        packet::placeholder(0)
    }

    #[tokio::test]
    async fn joins_leaves_and_disconnects_follow_the_selection() {
        let fx = fixture(EngineConfig::default());
        let (ca, a) = fx.connect(json!({"rooms": ["r1"]})).await;
        let (_cb, b) = fx.connect(json!({})).await;
        fx.engine.of("/").join(&["x", "y"]);
        assert_eq!(fx.engine.local_sockets_in("/", "x"), 2);
        fx.engine.to("/", "r1").leave(&["y"]);
        assert_eq!(fx.engine.local_sockets_in("/", "y"), 1);
        fx.engine.to("/", "x").except_room("r1").disconnect();
        assert!(a.connected() && !b.connected());
        until(|| fx.seen().len() == 1).await;
        assert_eq!(fx.published().len(), 3);
        assert!(sent(&ca).is_empty());
    }

    #[tokio::test]
    async fn a_remote_op_is_applied_here_and_not_published_again() {
        let fx = fixture(EngineConfig::default());
        let (ca, _a) = fx.connect(json!({"rooms": ["r1"]})).await;
        fx.engine.apply_remote(FanoutOp {
            namespace: "/".into(),
            rooms: vec!["r1".into()],
            except_rooms: Vec::new(),
            except_sockets: Vec::new(),
            action: FanoutAction::Emit {
                packet: Bytes::from_static(b"42[\"remote\"]"),
                attachments: vec![Bytes::from_static(b"z")],
            },
        });
        assert_eq!(sent(&ca), ["42[\"remote\"]", "<binary 1>"]);
        assert!(fx.published().is_empty());
        // an unknown namespace is nobody's
        fx.engine.apply_remote(FanoutOp {
            namespace: "/elsewhere".into(),
            rooms: Vec::new(),
            except_rooms: Vec::new(),
            except_sockets: Vec::new(),
            action: FanoutAction::Disconnect,
        });
    }
}
