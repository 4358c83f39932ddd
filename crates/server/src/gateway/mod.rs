//! The Socket.IO gateway: authenticates sockets before CONNECT is answered,
//! subscribes them to their rooms, and turns each client event into a service
//! call whose result becomes the ack (or an `error` event when there is none).

mod payloads;
mod typing;

use natter_core::events::payload::{RoomJoined, RoomUser, UserOnline};
use natter_core::events::{ClientEvent, ServerEvent};
use natter_core::{Error, Id, Result};
use natter_realtime::{
    AckSender, ConnectError, ConnectInfo, DisconnectReason, Event, Handler, Socket, SocketRef,
};
use serde::Serialize;
use serde_json::Value;

use crate::app::{emit_socket, room_channel, user_channel, AppState, NS};
use crate::auth::{cookie_token, Session};
use crate::error::{ack_error, client_body};
use crate::services::messages::SendMessage;
use payloads::*;
pub use typing::Typing;

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
        socket.join(&crate::sessions::session_channel(&session.sid));
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
        let at = natter_store::now();
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

/// `{ok: true, …body}`.
fn ok<T: Serialize>(body: T) -> Result<Value> {
    let mut v = serde_json::to_value(body).map_err(Error::internal)?;
    match &mut v {
        Value::Object(map) => {
            map.insert("ok".into(), Value::Bool(true));
            Ok(v)
        }
        _ => Ok(serde_json::json!({ "ok": true })),
    }
}

impl Gateway {
    async fn dispatch(&self, socket: &Socket<Session>, event: &Event) -> Result<Value> {
        let who = socket.state();
        let app = &self.app;
        let data = event.args.first().unwrap_or(&Value::Null);
        match ClientEvent::decode(&event.name, data)? {
            ClientEvent::RoomJoin(p) => {
                let (room, _) = app.join_room(who, p.room_id).await?;
                socket.join(&room_channel(room.id));
                let joined = RoomJoined { room };
                emit_socket(socket, ServerEvent::RoomJoined(joined.clone()))
                    .map_err(Error::internal)?;
                ok(joined)
            }
            ClientEvent::RoomLeave(p) => {
                app.require_member(p.room_id, who.user_id).await?;
                socket.leave(&room_channel(p.room_id));
                let user = app.require_user(who.user_id).await?;
                app.emit_room(
                    p.room_id,
                    ServerEvent::RoomUserLeft(RoomUser {
                        room_id: p.room_id,
                        user,
                    }),
                );
                ok(Empty {})
            }
            ClientEvent::MessageSend(p) => {
                let room = p.room_id;
                let posted = app
                    .send_message(
                        who,
                        SendMessage {
                            room_id: p.room_id,
                            content: p.content,
                            reply_to_id: p.reply_to_id,
                            kind: p.kind,
                            file_url: p.file_url,
                            client_id: p.client_id,
                        },
                    )
                    .await?;
                app.typing.stop(app, who.user_id, room, false);
                ok(MessageBody {
                    message: posted.message,
                })
            }
            ClientEvent::MessageEdit(p) => {
                let message = app.edit_message(who, p.message_id, p.content).await?;
                ok(MessageBody { message })
            }
            ClientEvent::MessageDelete(p) => {
                let message = app.delete_message(who, p.message_id).await?;
                ok(MessageBody { message })
            }
            ClientEvent::MessageReact(p) => ok(app.react(who, p.message_id, &p.emoji).await?),
            ClientEvent::MessageRead(p) => ok(app.mark_read(who, p.message_id).await?),
            ClientEvent::DmSend(p) => {
                let posted = app
                    .send_dm(who, p.recipient_id, p.content, p.client_id)
                    .await?;
                ok(MessageBody {
                    message: posted.message,
                })
            }
            ClientEvent::TypingStart(p) => {
                self.may_type(socket, p.room_id).await?;
                app.typing.start(app, who, p.room_id);
                ok(Empty {})
            }
            ClientEvent::TypingStop(p) => {
                self.may_type(socket, p.room_id).await?;
                app.typing.stop(app, who.user_id, p.room_id, true);
                ok(Empty {})
            }
            ClientEvent::Focus(p) => {
                if let Some(room) = p.room_id {
                    // a room this socket hears, i.e. one its user is a member of
                    hears(app, socket, room).await?;
                }
                app.push
                    .focus
                    .set(who.user_id, socket.id(), p.room_id)
                    .await;
                ok(Empty {})
            }
            ClientEvent::Sync(p) => {
                let synced = app.sync(who, p.rooms).await?;
                ok(SyncBody {
                    events: synced.events,
                    reset: synced.reset,
                })
            }
        }
    }

    /// Typing is rate limited, and only sockets subscribed to the room
    /// (members) may type in it.
    async fn may_type(&self, socket: &Socket<Session>, room: Id) -> Result<()> {
        let app = &self.app;
        app.limits
            .user(crate::limits::Action::Typing, socket.state().user_id)?;
        hears(app, socket, room).await
    }
}

/// `Ok` if this socket is subscribed to `room`; else why not (`not_found`,
/// `forbidden` for a non-member, `forbidden` "join the room first").
async fn hears(app: &AppState, socket: &Socket<Session>, room: Id) -> Result<()> {
    if socket.rooms().contains(&room_channel(room)) {
        return Ok(());
    }
    app.require_member(room, socket.state().user_id).await?;
    Err(Error::forbidden("join the room first"))
}

impl crate::app::App {
    /// A broadcast to every room of a user (each socket once), minus their own sockets.
    pub fn rooms_of_user_except_self(
        &self,
        user: Id,
        rooms: &[Id],
    ) -> Option<natter_realtime::Broadcast> {
        let (first, rest) = rooms.split_first()?;
        let mut to = self.engine.to(NS, &room_channel(*first));
        for r in rest {
            to = to.to(&room_channel(*r));
        }
        Some(to.except_room(&user_channel(user)))
    }
}
