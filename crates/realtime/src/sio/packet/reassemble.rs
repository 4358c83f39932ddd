//! Binary packets: a text packet announcing `n` attachments, then `n` binary
//! messages, held together to `maxPayload` in total.

use bytes::Bytes;

use super::decode::decode_lenient;
use super::{Packet, ParseError};

/// A packet with all its attachments.
#[derive(Clone, Debug, PartialEq)]
pub struct Complete {
    pub packet: Packet,
    pub binary: Vec<Bytes>,
    /// Its JSON held a lone surrogate (see [`decode_lenient`]).
    pub invalid: bool,
}

/// Why an inbound message ends the connection.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AssembleError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("binary packet larger than maxPayload")]
    TooBig,
}

/// Reassembles binary packets: a text packet announcing `n` attachments, then
/// `n` binary messages. The whole packet (text and attachments) is held to
/// `max_bytes`; a text packet while attachments are awaited, or a binary
/// message nobody announced, is a protocol error.
#[derive(Debug)]
pub struct Reassembler {
    max_bytes: usize,
    partial: Option<(Complete, usize)>,
}

impl Reassembler {
    pub fn new(max_bytes: usize) -> Self {
        Reassembler {
            max_bytes,
            partial: None,
        }
    }

    /// A text message (after the Engine.IO `4`); `Some` when a packet is complete.
    pub fn text(&mut self, s: &str) -> Result<Option<Complete>, AssembleError> {
        if self.partial.is_some() {
            return Err(ParseError::Attachments.into());
        }
        let (packet, invalid) = decode_lenient(s)?;
        let complete = Complete {
            binary: Vec::with_capacity(packet.attachments),
            packet,
            invalid,
        };
        if complete.packet.attachments == 0 {
            return Ok(Some(complete));
        }
        if s.len() > self.max_bytes {
            return Err(AssembleError::TooBig);
        }
        self.partial = Some((complete, s.len()));
        Ok(None)
    }

    /// A binary message: the next attachment of the pending packet.
    pub fn binary(&mut self, b: Bytes) -> Result<Option<Complete>, AssembleError> {
        let Some((part, bytes)) = self.partial.as_mut() else {
            return Err(ParseError::Attachments.into());
        };
        *bytes = bytes.saturating_add(b.len());
        if *bytes > self.max_bytes {
            self.partial = None;
            return Err(AssembleError::TooBig);
        }
        part.binary.push(b);
        if part.binary.len() < part.packet.attachments {
            return Ok(None);
        }
        Ok(self.partial.take().map(|(c, _)| c))
    }

    /// Whether a packet awaits attachments.
    pub fn pending(&self) -> bool {
        self.partial.is_some()
    }

    /// Forgets a pending packet.
    pub fn reset(&mut self) {
        self.partial = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sio::packet::Kind;

    const TWO: &str = r#"52-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;

    fn done(r: Result<Option<Complete>, AssembleError>) -> Complete {
        match r {
            Ok(Some(c)) => c,
            other => panic!("not complete: {other:?}"),
        }
    }

    #[test]
    fn a_plain_packet_is_complete_at_once() {
        let mut r = Reassembler::new(100);
        let c = done(r.text(r#"2["e"]"#));
        assert_eq!(
            (c.packet.kind, c.binary.len(), c.invalid),
            (Kind::Event, 0, false)
        );
        assert!(!r.pending());
        let c = done(r.text(r#"2["e","\ud83d"]"#));
        assert!(c.invalid);
    }

    #[test]
    fn attachments_complete_a_binary_packet_in_order() {
        let mut r = Reassembler::new(1000);
        assert_eq!(r.text(TWO), Ok(None));
        assert!(r.pending());
        assert_eq!(r.binary(Bytes::from_static(b"a")), Ok(None));
        let c = done(r.binary(Bytes::from_static(b"bc")));
        assert_eq!(
            c.binary,
            [Bytes::from_static(b"a"), Bytes::from_static(b"bc")]
        );
        assert_eq!(c.packet.attachments, 2);
        assert!(!r.pending());
    }

    #[test]
    fn out_of_turn_messages_are_protocol_errors() {
        let mut r = Reassembler::new(1000);
        let attachments = Err(AssembleError::Parse(ParseError::Attachments));
        assert_eq!(r.binary(Bytes::from_static(b"x")), attachments);
        assert_eq!(r.text(TWO), Ok(None));
        assert_eq!(r.text(r#"2["e"]"#), attachments);
        r.reset();
        assert!(!r.pending());
        assert!(r.text(r#"2["e"]"#).is_ok());
        assert_eq!(
            r.text("2{}"),
            Err(AssembleError::Parse(ParseError::Payload))
        );
    }

    #[test]
    fn the_whole_packet_is_held_to_max_bytes() {
        // the text alone
        let mut r = Reassembler::new(TWO.len() - 1);
        assert_eq!(r.text(TWO), Err(AssembleError::TooBig));
        assert!(!r.pending());
        // text and attachments together
        let mut r = Reassembler::new(TWO.len() + 3);
        assert_eq!(r.text(TWO), Ok(None));
        assert_eq!(r.binary(Bytes::from_static(b"12")), Ok(None));
        assert_eq!(
            r.binary(Bytes::from_static(b"34")),
            Err(AssembleError::TooBig)
        );
        assert!(!r.pending(), "forgotten");
        // a plain packet is the Engine.IO layer's to limit
        let mut r = Reassembler::new(1);
        assert!(r.text(r#"2["long enough"]"#).is_ok());
    }
}
