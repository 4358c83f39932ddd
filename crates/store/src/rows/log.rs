//! Room log events: the live event a change broadcasts is what the log
//! keeps, and what `sync` reads back.

use natter_core::events::{payload, ServerEvent};
use natter_core::{Id, Message, Reaction, RoomEvent};
use serde_json::Value;

use crate::Result;

/// A room change as it goes into the room log: the live event itself (its
/// name and exactly its payload are what `sync` returns).
pub(crate) struct LoggedEvent {
    pub event: ServerEvent,
    /// The message the event is about (found again when it is edited or
    /// deleted); `None` for a change of the room itself.
    pub message_id: Option<Id>,
}

impl LoggedEvent {
    pub fn name(&self) -> &'static str {
        self.event.name().as_str()
    }

    /// The payload, as the `data` column keeps it.
    pub fn data(&self) -> Result<Value> {
        serde_json::to_value(self.event.data())
            .map_err(|e| natter_core::Error::internal(format!("payload: {e}")))
    }

    /// `message:new`: the message plus `eventSeq` (its own seq).
    pub fn message_new(message: &Message) -> Self {
        LoggedEvent {
            message_id: Some(message.id),
            event: ServerEvent::MessageNew(payload::MessageChange {
                message: message.clone(),
                event_seq: message.seq,
            }),
        }
    }

    /// `message:updated`: the edited message plus the edit's `eventSeq`.
    pub fn message_updated(message: &Message, event_seq: i64) -> Self {
        LoggedEvent {
            message_id: Some(message.id),
            event: ServerEvent::MessageUpdated(payload::MessageChange {
                message: message.clone(),
                event_seq,
            }),
        }
    }

    pub fn deleted(message: &Message, event_seq: i64) -> Self {
        LoggedEvent {
            message_id: Some(message.id),
            event: ServerEvent::MessageDeleted(payload::MessageDeleted {
                message_id: message.id,
                room_id: message.room_id,
                event_seq,
            }),
        }
    }

    pub fn reactions(message_id: Id, room_id: Id, reactions: &[Reaction], event_seq: i64) -> Self {
        LoggedEvent {
            message_id: Some(message_id),
            event: ServerEvent::MessageReactions(payload::MessageReactions {
                message_id,
                room_id,
                reactions: reactions.to_vec(),
                event_seq,
            }),
        }
    }

    /// `room:updated`: the settings of `room`, read after the change took
    /// its `last_seq`.
    pub fn room_updated(room: &natter_core::Room) -> Self {
        LoggedEvent {
            message_id: None,
            event: ServerEvent::RoomUpdated(payload::RoomUpdated::of(room)),
        }
    }
}

/// A logged event read back: its name and payload as stored.
pub(crate) fn logged(room_id: Id, event_seq: i64, name: &str, data: &Value) -> Result<RoomEvent> {
    let event = ServerEvent::decode(name, data)
        .map_err(|e| natter_core::Error::internal(format!("room log {event_seq}: {e}")))?;
    Ok(RoomEvent {
        event_seq,
        room_id,
        event,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use natter_core::{Id, Reaction};

    use super::{logged, LoggedEvent};

    /// What goes into the log is what comes out of it: name and payload.
    #[test]
    fn logged_events_read_back_as_they_were_written() {
        let reactions = [Reaction {
            emoji: "👍".into(),
            count: 1,
            user_ids: vec![Id(4)],
        }];
        let e = LoggedEvent::reactions(Id(10), Id(1), &reactions, 7);
        assert_eq!(e.message_id, Some(Id(10)));
        let data = e.data().unwrap();
        let back = logged(Id(1), 7, e.name(), &data).unwrap();
        assert_eq!((back.event_seq, back.room_id), (7, Id(1)));
        assert_eq!((back.name(), back.data()), (e.name(), data));
    }

    #[test]
    fn an_unknown_logged_event_is_an_internal_error() {
        let got = logged(Id(1), 3, "message:exploded", &serde_json::json!({}));
        assert!(matches!(got, Err(natter_core::Error::Internal(_))));
    }
}
