//! The Socket.IO gateway: authenticates sockets before CONNECT is answered,
//! subscribes them to their rooms, decodes each client event and hands it to
//! its feature's socket handler, whose result becomes the ack (or an `error`
//! event when there is none).

use natter_core::events::payload::UserOnline;
use natter_core::events::{ClientEvent, ServerEvent};
use natter_core::{Error, Result};
use natter_realtime::{
    AckSender, ConnectError, ConnectInfo, DisconnectReason, Event, Handler, Socket, SocketRef,
};
use serde_json::Value;

use crate::ack::ClientSocket;
use crate::app::{emit_socket, room_channel, user_channel, AppState};
use crate::auth::tokens::{cookie_token, Session};
use crate::error::{ack_error, client_body};
use crate::{dms, messages, push, reads, rooms, sync, typing};

pub struct Gateway {
    app: AppState,
}

impl Gateway {
    pub fn new(app: AppState) -> Self {
        Gateway { app }
    }
}

impl Handler for Gateway {
    type State = Session;

    async fn connect(
        &self,
        socket: &SocketRef,
        info: ConnectInfo<'_>,
    ) -> Result<Session, ConnectError> {
        let given = info
            .auth
            .and_then(|a| a.get("token"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let token = match given {
            Some(t) => t,
            None => {
                let t = cookie_token(info.headers)
                    .ok_or_else(|| ConnectError("Authentication required".into()))?;
                // The cookie rides along with any page's request: only our
                // own pages may use it (see `origin.rs`).
                self.app
                    .check_same_origin(info.headers, info.remote_addr.map(|a| a.ip()), None)
                    .map_err(|e| ConnectError(client_body(&e).message))?;
                t
            }
        };
        let session = match self.app.authenticate(&token).await {
            Ok(s) => s,
            Err(Error::Unauthenticated(_)) => return Err(ConnectError("Invalid token".into())),
            Err(e) => return Err(ConnectError(client_body(&e).message)),
        };
        let user = session.user_id;
        let rooms = match self.app.store.user(user).await {
            Ok(Some(_)) => self.app.store.room_ids_of(user).await,
            Ok(None) => return Err(ConnectError("Invalid token".into())),
            Err(e) => Err(e),
        }
        .map_err(|e| ConnectError(client_body(&e).message))?;
        socket.join(&user_channel(user));
        socket.join(&crate::auth::sessions::session_channel(&session.sid));
        self.app.sessions.expire_at(&session.sid, session.exp);
        for room in &rooms {
            socket.join(&room_channel(*room));
        }
        // paired with `presence.disconnected` in `disconnect`, which the engine
        // calls once for every socket whose `connect` succeeded
        if self.app.presence.connected(user).await {
            let online = UserOnline {
                user_id: user,
                username: session.username.clone(),
            };
            if let Some(to) = self.app.rooms_of_user_except_self(user, &rooms) {
                self.app.emit(to, ServerEvent::UserOnline(online));
            }
        }
        Ok(session)
    }

    async fn event(&self, socket: &Socket<Session>, event: Event, ack: Option<AckSender>) {
        let result = self.dispatch(socket, &event).await;
        answer(socket, result, ack);
    }

    async fn disconnect(&self, socket: &Socket<Session>, _reason: DisconnectReason) {
        let session = socket.state();
        self.app
            .push
            .focus
            .forget(session.user_id, socket.id())
            .await;
        let at = self.app.clock.now();
        if self.app.presence.disconnected(session.user_id, at).await {
            self.app
                .announce_offline(session.user_id, Some(session.username.clone()), at)
                .await;
        }
    }

    /// A lone UTF-16 surrogate in the event's JSON: `invalid`, that event only.
    async fn invalid_event(&self, socket: &Socket<Session>, name: String, ack: Option<AckSender>) {
        let e = Error::invalid(format!(
            "{name}: the text is not valid Unicode (a lone surrogate, e.g. half an emoji)"
        ));
        answer(socket, Err(e), ack);
    }
}

/// A handler's result as the ack, or as an `error` event when there is no ack.
fn answer(socket: &Socket<Session>, result: Result<Value>, ack: Option<AckSender>) {
    match (result, ack) {
        (Ok(body), Some(ack)) => ack.send(&body),
        (Ok(_), None) => {}
        (Err(e), Some(ack)) => ack.send(&ack_error(&e)),
        (Err(e), None) => {
            if let Err(err) = emit_socket(socket, ServerEvent::Error(client_body(&e))) {
                tracing::debug!(error = %err, "could not send an error event");
            }
        }
    }
}

impl Gateway {
    /// Each client event to its feature's socket handler.
    async fn dispatch(&self, socket: &ClientSocket, event: &Event) -> Result<Value> {
        let app = &self.app;
        let data = event.args.first().unwrap_or(&Value::Null);
        match ClientEvent::decode(&event.name, data)? {
            ClientEvent::RoomJoin(p) => rooms::socket::join(app, socket, p).await,
            ClientEvent::RoomLeave(p) => rooms::socket::leave(app, socket, p).await,
            ClientEvent::MessageSend(p) => messages::socket::send(app, socket, p).await,
            ClientEvent::MessageEdit(p) => messages::socket::edit(app, socket, p).await,
            ClientEvent::MessageDelete(p) => messages::socket::delete(app, socket, p).await,
            ClientEvent::MessageReact(p) => messages::socket::react(app, socket, p).await,
            ClientEvent::MessageRead(p) => reads::socket::read(app, socket, p).await,
            ClientEvent::DmSend(p) => dms::socket::send(app, socket, p).await,
            ClientEvent::TypingStart(p) => typing::socket::start(app, socket, p).await,
            ClientEvent::TypingStop(p) => typing::socket::stop(app, socket, p).await,
            ClientEvent::Focus(p) => push::socket::focus(app, socket, p).await,
            ClientEvent::Sync(p) => sync::socket::sync(app, socket, p).await,
        }
    }
}
