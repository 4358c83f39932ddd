//! Socket.IO v5 packets over Engine.IO messages:
//! `<type>[<attachments>-][<namespace>,][<ack id>][<json>]`.
//! Binary packets carry `{"_placeholder":true,"num":n}` in their JSON and their
//! attachments as the next `n` binary Engine.IO messages.
//!
//! `decode`: text → [`Packet`] (with the lone-surrogate leniency);
//! `reassemble`: a binary packet and its attachments → [`Complete`];
//! `encode`: the packets the server sends.

mod decode;
mod encode;
mod reassemble;

use serde_json::Value;

pub use decode::{decode, decode_lenient};
pub use encode::{
    ack, ack_value, connect, connect_error, disconnect, event, event_args, placeholder,
};
pub use reassemble::{AssembleError, Complete, Reassembler};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Connect = 0,
    Disconnect = 1,
    Event = 2,
    Ack = 3,
    ConnectError = 4,
    BinaryEvent = 5,
    BinaryAck = 6,
}

impl Kind {
    fn from_byte(b: u8) -> Option<Kind> {
        Some(match b {
            b'0' => Kind::Connect,
            b'1' => Kind::Disconnect,
            b'2' => Kind::Event,
            b'3' => Kind::Ack,
            b'4' => Kind::ConnectError,
            b'5' => Kind::BinaryEvent,
            b'6' => Kind::BinaryAck,
            _ => return None,
        })
    }

    fn is_binary(self) -> bool {
        matches!(self, Kind::BinaryEvent | Kind::BinaryAck)
    }
}

/// A decoded packet (attachments, if any, still to come).
#[derive(Clone, Debug, PartialEq)]
pub struct Packet {
    pub kind: Kind,
    pub nsp: String,
    pub id: Option<u64>,
    pub attachments: usize,
    pub data: Option<Value>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("empty packet")]
    Empty,
    #[error("unknown packet type")]
    Kind,
    #[error("illegal attachments")]
    Attachments,
    #[error("invalid ack id")]
    AckId,
    #[error("invalid JSON payload")]
    Json,
    #[error("payload invalid for this packet type")]
    Payload,
}

/// Most attachments one packet may announce.
pub const MAX_ATTACHMENTS: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_their_digit() {
        for (b, k) in (b'0'..=b'6').zip([
            Kind::Connect,
            Kind::Disconnect,
            Kind::Event,
            Kind::Ack,
            Kind::ConnectError,
            Kind::BinaryEvent,
            Kind::BinaryAck,
        ]) {
            assert_eq!(Kind::from_byte(b), Some(k));
            assert_eq!(b'0' + k as u8, b);
            assert_eq!(
                k.is_binary(),
                matches!(k, Kind::BinaryEvent | Kind::BinaryAck)
            );
        }
        assert_eq!(Kind::from_byte(b'7'), None);
        assert_eq!(Kind::from_byte(b'/'), None);
    }
}
