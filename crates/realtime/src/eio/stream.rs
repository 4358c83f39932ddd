//! The streams a session runs on: [`TrackedTcp`] (an accepted TCP stream with a
//! guard that lives as long as it does) and `WsIo`, the stream of an upgraded
//! websocket.

use bytes::Bytes;
use hyper_util::rt::TokioIo;

/// A TCP stream with something that must live as long as the connection (a
/// connection-count slot). Serve HTTP over `TokioIo<TrackedTcp>`: an upgraded
/// websocket keeps the plain stream and the guard until it closes.
pub struct TrackedTcp {
    tcp: tokio::net::TcpStream,
    guard: Box<dyn Send + Sync>,
}

impl TrackedTcp {
    pub fn new(tcp: tokio::net::TcpStream, guard: impl Send + Sync + 'static) -> Self {
        TrackedTcp {
            tcp,
            guard: Box::new(guard),
        }
    }
}

impl tokio::io::AsyncRead for TrackedTcp {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().tcp).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for TrackedTcp {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

/// The upgraded websocket stream: the plain TCP stream when hyper hands it back
/// (no boxing, `TCP_NODELAY` set, vectored writes), else hyper's `Upgraded`.
pub(super) enum WsIo {
    /// With the guard of a [`TrackedTcp`], if it was one.
    Tcp(
        tokio::net::TcpStream,
        #[allow(dead_code)] Option<Box<dyn Send + Sync>>,
    ),
    Other(TokioIo<hyper::upgrade::Upgraded>),
}

impl WsIo {
    /// The stream and the bytes hyper had already read past the handshake.
    pub(super) fn from_upgraded(up: hyper::upgrade::Upgraded) -> (WsIo, Bytes) {
        let up = match up.downcast::<TokioIo<tokio::net::TcpStream>>() {
            Ok(parts) => {
                let tcp = parts.io.into_inner();
                let _ = tcp.set_nodelay(true);
                return (WsIo::Tcp(tcp, None), parts.read_buf);
            }
            Err(up) => up,
        };
        match up.downcast::<TokioIo<TrackedTcp>>() {
            Ok(parts) => {
                let TrackedTcp { tcp, guard } = parts.io.into_inner();
                let _ = tcp.set_nodelay(true);
                (WsIo::Tcp(tcp, Some(guard)), parts.read_buf)
            }
            Err(up) => (WsIo::Other(TokioIo::new(up)), Bytes::new()),
        }
    }
}

impl tokio::io::AsyncRead for WsIo {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            WsIo::Tcp(t, _) => std::pin::Pin::new(t).poll_read(cx, buf),
            WsIo::Other(o) => std::pin::Pin::new(o).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for WsIo {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            WsIo::Tcp(t, _) => std::pin::Pin::new(t).poll_write(cx, buf),
            WsIo::Other(o) => std::pin::Pin::new(o).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            WsIo::Tcp(t, _) => std::pin::Pin::new(t).poll_write_vectored(cx, bufs),
            WsIo::Other(o) => std::pin::Pin::new(o).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            WsIo::Tcp(t, _) => t.is_write_vectored(),
            WsIo::Other(o) => o.is_write_vectored(),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            WsIo::Tcp(t, _) => std::pin::Pin::new(t).poll_flush(cx),
            WsIo::Other(o) => std::pin::Pin::new(o).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            WsIo::Tcp(t, _) => std::pin::Pin::new(t).poll_shutdown(cx),
            WsIo::Other(o) => std::pin::Pin::new(o).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eio::testing::tcp_pair;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    struct Flag(Arc<AtomicBool>);

    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    async fn echo_through<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
        mut s: S,
        mut peer: TcpStream,
    ) -> S {
        s.write_all(b"ping").await.unwrap_or_else(|e| panic!("{e}"));
        s.flush().await.unwrap_or_else(|e| panic!("{e}"));
        let mut got = [0u8; 4];
        peer.read_exact(&mut got)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&got, b"ping");
        peer.write_all(b"pong")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        s.read_exact(&mut got)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&got, b"pong");
        s
    }

    #[tokio::test]
    async fn tracked_tcp_passes_bytes_and_keeps_its_guard_until_dropped() {
        let (a, b) = tcp_pair().await;
        let dropped = Arc::new(AtomicBool::new(false));
        let tracked = TrackedTcp::new(a, Flag(dropped.clone()));
        let tracked = echo_through(tracked, b).await;
        assert!(!dropped.load(Ordering::SeqCst));
        drop(tracked);
        assert!(dropped.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn ws_io_over_tcp_passes_bytes_and_shuts_down() {
        let (a, b) = tcp_pair().await;
        let mut io = echo_through(WsIo::Tcp(a, None), b).await;
        io.shutdown().await.unwrap_or_else(|e| panic!("{e}"));
    }
}
