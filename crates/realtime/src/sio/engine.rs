//! The realtime engine ([`Engine`]): the Socket.IO server the rest of Natter
//! uses. It registers namespaces, serves the Engine.IO router, starts
//! broadcasts, finds sockets, and applies ops from other nodes.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::broadcast::Broadcast;
use super::config::EngineConfig;
use super::conn::Sio;
use super::handler::Handler;
use super::namespace::{normalize, Namespace, Rooms};
use super::socket::SocketRef;
use super::worker::Typed;
use crate::eio::{read, write, EioServer};
use crate::fanout::{Fanout, FanoutOp};

/// What the engine, its connections and its broadcasts share.
pub(super) struct Shared {
    pub(super) config: EngineConfig,
    pub(super) namespaces: RwLock<HashMap<String, Arc<Namespace>>>,
    pub(super) fanout: Arc<dyn Fanout>,
}

/// The realtime engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(super) shared: Arc<Shared>,
    pub(super) eio: EioServer<Sio>,
}

impl Engine {
    pub fn new(config: EngineConfig, fanout: Arc<dyn Fanout>) -> Engine {
        let shared = Arc::new(Shared {
            config: config.clone(),
            namespaces: RwLock::new(HashMap::new()),
            fanout,
        });
        let eio = EioServer::new(
            config.eio(),
            Sio {
                shared: shared.clone(),
            },
        );
        Engine { shared, eio }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.shared.config
    }

    /// Registers a namespace (`"/"`, `"/admin"`…). Before serving.
    pub fn namespace<H: Handler>(&self, path: &str, handler: H) {
        let path = normalize(path);
        let ns = Arc::new(Namespace {
            path: Arc::from(path.as_str()),
            connect_timeout: self.shared.config.connect_timeout,
            max_queued_events: self.shared.config.max_queued_events,
            handler: Arc::new(Typed(handler)),
            rooms: RwLock::new(Rooms::default()),
            sockets: RwLock::new(HashMap::new()),
        });
        write(&self.shared.namespaces).insert(path, ns);
    }

    /// The axum router serving `config.path` (polling GET/POST + websocket upgrade).
    pub fn router(&self) -> axum::Router {
        self.eio.router(&self.shared.config.path)
    }

    /// A broadcast to a room of a namespace (add rooms and exceptions on it).
    pub fn to(&self, namespace: &str, room: &str) -> Broadcast {
        Broadcast::new(self.shared.clone(), namespace, vec![room.to_owned()])
    }

    /// A broadcast to every socket of a namespace.
    pub fn of(&self, namespace: &str) -> Broadcast {
        Broadcast::new(self.shared.clone(), namespace, Vec::new())
    }

    pub fn local_sockets_in(&self, namespace: &str, room: &str) -> usize {
        let ns = read(&self.shared.namespaces).get(namespace).cloned();
        ns.map_or(0, |ns| read(&ns.rooms).count(room))
    }

    /// Sockets of a namespace on this node.
    pub fn local_socket_count(&self, namespace: &str) -> usize {
        let ns = read(&self.shared.namespaces).get(namespace).cloned();
        ns.map_or(0, |ns| read(&ns.sockets).len())
    }

    /// A socket of this node by namespace and id.
    pub fn socket(&self, namespace: &str, id: &str) -> Option<SocketRef> {
        let ns = read(&self.shared.namespaces).get(namespace).cloned()?;
        let s = read(&ns.sockets).get(id).cloned();
        s
    }

    /// Engine.IO connections open on this node.
    pub fn connection_count(&self) -> usize {
        self.eio.connection_count()
    }

    /// Graceful: closes every transport (clients reconnect, maybe to another node).
    pub async fn shutdown(&self) {
        self.eio.shutdown().await;
    }

    /// Applies an op that came from another node, here only.
    pub fn apply_remote(&self, op: FanoutOp) {
        self.shared.apply(&op);
    }
}

#[cfg(test)]
mod tests {
    use crate::sio::testing::fixture;
    use crate::sio::EngineConfig;
    use serde_json::json;

    #[tokio::test]
    async fn finds_sockets_and_counts_them() {
        let fx = fixture(EngineConfig::default());
        let e = &fx.engine;
        assert_eq!(e.config().path, "/socket.io/");
        let (conn, s) = fx.connect(json!({"rooms": ["r"]})).await;
        // registered as "admin": served as "/admin"
        fx.join(&conn, "/admin", json!({})).await;
        assert_eq!(e.connection_count(), 1);
        assert_eq!(e.local_socket_count("/"), 1);
        assert_eq!(e.local_socket_count("/admin"), 1);
        assert_eq!(e.local_socket_count("/nope"), 0);
        assert_eq!(e.local_sockets_in("/", "r"), 1);
        assert_eq!(e.local_sockets_in("/nope", "r"), 0);
        let found = e.socket("/", s.id()).unwrap_or_else(|| panic!("not found"));
        assert_eq!(found.id(), s.id());
        assert!(e.socket("/admin", s.id()).is_none());
        assert!(e.socket("/nope", s.id()).is_none());
        s.disconnect();
        assert!(e.socket("/", s.id()).is_none());
        assert_eq!(e.local_sockets_in("/", "r"), 0);
    }

    #[tokio::test]
    async fn a_namespace_registered_again_replaces_the_first() {
        let fx = fixture(EngineConfig::default());
        let (_conn, s) = fx.connect(json!({})).await;
        fx.engine.namespace("/", crate::sio::testing::Refuser);
        assert_eq!(fx.engine.local_socket_count("/"), 0, "a new namespace");
        assert!(s.connected(), "the old one's sockets live on");
        let conn = fx.conn();
        let refused = fx.join(&conn, "/", json!({})).await;
        assert!(!refused.connected());
    }
}
