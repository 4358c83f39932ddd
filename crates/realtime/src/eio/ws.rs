//! A small RFC 6455 codec on the upgraded connection: server side only (client
//! frames must be masked, server frames are not), no extensions. Reading uses one
//! growable buffer that starts tiny; writing batches every queued frame into one
//! `writev` (or one coalesced `write`).

use std::io::{self, IoSlice};

use base64::Engine as _;
use bytes::{Buf, Bytes, BytesMut};
use sha1::{Digest, Sha1};
use tokio::io::{AsyncWrite, AsyncWriteExt};

pub const OP_CONT: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`.
pub fn accept_key(key: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(key);
    h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// A complete message or control frame read from the client.
#[derive(Debug, PartialEq, Eq)]
pub enum WsEvent {
    Text(Bytes),
    Binary(Bytes),
    Ping(Bytes),
    Pong,
    Close,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WsError {
    #[error("websocket protocol error")]
    Protocol,
    #[error("message larger than maxPayload")]
    TooBig,
    #[error("text message is not UTF-8")]
    Utf8,
}

impl WsError {
    pub fn close_code(&self) -> u16 {
        match self {
            WsError::Protocol => 1002,
            WsError::TooBig => 1009,
            WsError::Utf8 => 1007,
        }
    }
}

/// Reassembles frames into messages. Keeps only a fragment in progress.
#[derive(Default)]
pub struct WsReader {
    frag: Option<(u8, BytesMut)>,
}

fn unmask(data: &mut [u8], mask: [u8; 4]) {
    let word = u32::from_ne_bytes(mask);
    let word64 = (u64::from(word) << 32) | u64::from(word);
    let mut chunks = data.chunks_exact_mut(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let v = u64::from_ne_bytes(w) ^ word64;
        c.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
}

impl WsReader {
    /// Bytes the buffer must hold for the frame at its head to be complete
    /// (a hint for growing the read buffer); `None` when the header is incomplete.
    pub fn needed(buf: &[u8]) -> Option<usize> {
        let (hdr, len) = header_len(buf)?;
        Some(hdr.saturating_add(usize::try_from(len).unwrap_or(usize::MAX)))
    }

    /// Takes the next complete event from `buf`; `Ok(None)` when more bytes are needed.
    pub fn next(&mut self, buf: &mut BytesMut, max: usize) -> Result<Option<WsEvent>, WsError> {
        loop {
            let Some((hdr, len)) = header_len(buf) else {
                return Ok(None);
            };
            let b0 = buf[0];
            let b1 = buf[1];
            let fin = b0 & 0x80 != 0;
            let op = b0 & 0x0f;
            if b0 & 0x70 != 0 || b1 & 0x80 == 0 {
                return Err(WsError::Protocol);
            }
            let control = op & 0x8 != 0;
            if control && (!fin || len > 125) {
                return Err(WsError::Protocol);
            }
            let sofar = self.frag.as_ref().map_or(0, |(_, b)| b.len());
            let len = usize::try_from(len).map_err(|_| WsError::TooBig)?;
            if !control && len.saturating_add(sofar) > max {
                return Err(WsError::TooBig);
            }
            if buf.len() < hdr + len {
                return Ok(None);
            }
            let mut mask = [0u8; 4];
            mask.copy_from_slice(&buf[hdr - 4..hdr]);
            buf.advance(hdr);
            let mut payload = buf.split_to(len);
            unmask(&mut payload, mask);
            match op {
                OP_PING => return Ok(Some(WsEvent::Ping(payload.freeze()))),
                OP_PONG => return Ok(Some(WsEvent::Pong)),
                OP_CLOSE => return Ok(Some(WsEvent::Close)),
                OP_TEXT | OP_BINARY => {
                    if self.frag.is_some() {
                        return Err(WsError::Protocol);
                    }
                    if fin {
                        return finish(op, payload).map(Some);
                    }
                    self.frag = Some((op, payload));
                }
                OP_CONT => {
                    let Some((fop, mut acc)) = self.frag.take() else {
                        return Err(WsError::Protocol);
                    };
                    acc.extend_from_slice(&payload);
                    if fin {
                        return finish(fop, acc).map(Some);
                    }
                    self.frag = Some((fop, acc));
                }
                _ => return Err(WsError::Protocol),
            }
        }
    }
}

fn finish(op: u8, payload: BytesMut) -> Result<WsEvent, WsError> {
    if op == OP_TEXT {
        if std::str::from_utf8(&payload).is_err() {
            return Err(WsError::Utf8);
        }
        Ok(WsEvent::Text(payload.freeze()))
    } else {
        Ok(WsEvent::Binary(payload.freeze()))
    }
}

/// (header length including the mask, payload length) when the header is complete.
fn header_len(buf: &[u8]) -> Option<(usize, u64)> {
    if buf.len() < 2 {
        return None;
    }
    let masked = if buf[1] & 0x80 != 0 { 4 } else { 0 };
    let (ext, len) = match buf[1] & 0x7f {
        126 => {
            let b = buf.get(2..4)?;
            (2, u64::from(u16::from_be_bytes([b[0], b[1]])))
        }
        127 => {
            let b = buf.get(2..10)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            (8, u64::from_be_bytes(a))
        }
        n => (0, u64::from(n)),
    };
    let hdr = 2 + ext + masked;
    if buf.len() < hdr {
        return None;
    }
    Some((hdr, len))
}

/// Appends an unmasked frame header.
pub fn put_header(out: &mut Vec<u8>, op: u8, len: usize) {
    out.push(0x80 | op);
    if len < 126 {
        out.push(len as u8);
    } else if let Ok(l) = u16::try_from(len) {
        out.push(126);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

/// Batches below this size are copied into one buffer; larger ones use `writev`.
const COALESCE: usize = 16 * 1024;

/// Writes frames (opcode, payload) with as few syscalls as possible, then flushes.
pub async fn write_frames<W: AsyncWrite + Unpin>(
    io: &mut W,
    frames: &[(u8, Bytes)],
) -> io::Result<()> {
    if frames.is_empty() {
        return Ok(());
    }
    let mut headers = Vec::with_capacity(frames.len() * 4);
    let mut ends = Vec::with_capacity(frames.len());
    let mut total = 0usize;
    for (op, p) in frames {
        put_header(&mut headers, *op, p.len());
        ends.push(headers.len());
        total += p.len();
    }
    total += headers.len();
    if total <= COALESCE {
        let mut buf = Vec::with_capacity(total);
        let mut start = 0;
        for ((_, p), end) in frames.iter().zip(&ends) {
            buf.extend_from_slice(&headers[start..*end]);
            buf.extend_from_slice(p);
            start = *end;
        }
        io.write_all(&buf).await?;
    } else {
        let mut slices = Vec::with_capacity(frames.len() * 2);
        let mut start = 0;
        for ((_, p), end) in frames.iter().zip(&ends) {
            slices.push(IoSlice::new(&headers[start..*end]));
            if !p.is_empty() {
                slices.push(IoSlice::new(p));
            }
            start = *end;
        }
        let mut rest: &mut [IoSlice<'_>] = &mut slices;
        while !rest.is_empty() {
            let n = io.write_vectored(rest).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            IoSlice::advance_slices(&mut rest, n);
        }
    }
    io.flush().await
}

/// A close frame payload with a status code.
pub fn close_payload(code: u16) -> Bytes {
    Bytes::copy_from_slice(&code.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eio::testing::client_frame;

    #[test]
    fn accept_key_matches_rfc_example() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn reads_masked_frames_in_pieces() {
        let mut wire = client_frame(true, OP_TEXT, b"4hello world, a bit longer", [1, 2, 3, 4]);
        wire.extend(client_frame(true, OP_BINARY, &[9; 300], [7, 7, 7, 7]));
        let mut r = WsReader::default();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for b in wire {
            buf.extend_from_slice(&[b]);
            while let Ok(Some(ev)) = r.next(&mut buf, 1000) {
                got.push(ev);
            }
        }
        assert_eq!(
            got,
            vec![
                WsEvent::Text(Bytes::from_static(b"4hello world, a bit longer")),
                WsEvent::Binary(Bytes::from(vec![9u8; 300]))
            ]
        );
    }

    #[test]
    fn reassembles_fragments_and_passes_control_frames() {
        let mut wire = client_frame(false, OP_TEXT, b"4he", [1, 1, 1, 1]);
        wire.extend(client_frame(true, OP_PING, b"p", [2, 2, 2, 2]));
        wire.extend(client_frame(true, OP_CONT, b"llo", [3, 3, 3, 3]));
        let mut buf = BytesMut::from(&wire[..]);
        let mut r = WsReader::default();
        assert_eq!(
            r.next(&mut buf, 100),
            Ok(Some(WsEvent::Ping(Bytes::from_static(b"p"))))
        );
        assert_eq!(
            r.next(&mut buf, 100),
            Ok(Some(WsEvent::Text(Bytes::from_static(b"4hello"))))
        );
        assert_eq!(r.next(&mut buf, 100), Ok(None));
    }

    #[test]
    fn rejects_bad_frames() {
        let mut r = WsReader::default();
        let big = client_frame(true, OP_BINARY, &[0; 200], [0; 4]);
        assert_eq!(
            r.next(&mut BytesMut::from(&big[..]), 100),
            Err(WsError::TooBig)
        );
        let mut unmasked = Vec::new();
        put_header(&mut unmasked, OP_TEXT, 1);
        unmasked.push(b'4');
        assert_eq!(
            r.next(&mut BytesMut::from(&unmasked[..]), 100),
            Err(WsError::Protocol)
        );
        let bad_utf8 = client_frame(true, OP_TEXT, &[0xff, 0xfe], [5; 4]);
        assert_eq!(
            r.next(&mut BytesMut::from(&bad_utf8[..]), 100),
            Err(WsError::Utf8)
        );
        let stray = client_frame(true, OP_CONT, b"x", [5; 4]);
        assert_eq!(
            r.next(&mut BytesMut::from(&stray[..]), 100),
            Err(WsError::Protocol)
        );
        // a 64-bit length far beyond the limit is refused from the header alone
        let huge = [
            0x82u8, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4,
        ];
        assert_eq!(
            r.next(&mut BytesMut::from(&huge[..]), 100),
            Err(WsError::TooBig)
        );
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut seed = 0x9e37_79b9_u32;
        for round in 0..2000 {
            let len = round % 40;
            let mut v = Vec::with_capacity(len);
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                v.push(seed as u8);
            }
            let mut buf = BytesMut::from(&v[..]);
            let mut r = WsReader::default();
            while let Ok(Some(_)) = r.next(&mut buf, 64) {}
            let _ = WsReader::needed(&v);
        }
    }

    #[tokio::test]
    async fn writes_batches_small_and_large() {
        let frames = vec![
            (OP_TEXT, Bytes::from_static(b"4a")),
            (OP_BINARY, Bytes::from(vec![1u8; 70_000])),
            (OP_TEXT, Bytes::from(vec![b'x'; 300])),
        ];
        let mut out = Vec::new();
        write_frames(&mut out, &frames).await.ok();
        let mut expect = Vec::new();
        for (op, p) in &frames {
            put_header(&mut expect, *op, p.len());
            expect.extend_from_slice(p);
        }
        assert_eq!(out, expect);
        assert_eq!(&expect[..4], &[0x81, 2, b'4', b'a']);
        assert_eq!(&expect[4..8], &[0x82, 127, 0, 0]);
    }
}
