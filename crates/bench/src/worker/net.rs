//! The connection and its codec: resolving the (loopback) target, the TCP
//! connect from a chosen source address, the websocket upgrade and the
//! Engine.IO / Socket.IO handshake.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

use anyhow::{anyhow, bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::proto::{self, Packet};

pub type Ws = WebSocketStream<TcpStream>;

/// `http://host:port` → socket address + Host header.
pub fn resolve(url: &str) -> Result<(SocketAddr, String)> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("only http:// URLs (loopback) are supported: {url}"))?;
    let host = rest.split('/').next().unwrap_or(rest).to_owned();
    let with_port = if host.contains(':') {
        host.clone()
    } else {
        format!("{host}:80")
    };
    let addr = with_port
        .to_socket_addrs()?
        .find(SocketAddr::is_ipv4)
        .ok_or_else(|| anyhow!("cannot resolve {host} to an IPv4 address"))?;
    if !addr.ip().is_loopback() {
        bail!("natter-bench only targets loopback addresses, not {addr}");
    }
    Ok((addr, host))
}

pub fn source_ip(id: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (id % 249) as u8))
}

/// TCP connect (from a chosen source address), websocket upgrade, Engine.IO
/// OPEN, Socket.IO CONNECT with the token. Ready for events when it returns.
pub async fn connect(
    addr: SocketAddr,
    host: &str,
    src: Option<IpAddr>,
    token: &str,
    linger0: bool,
) -> Result<Ws> {
    let sock = TcpSocket::new_v4()?;
    if let Some(ip) = src {
        sock.bind(SocketAddr::new(ip, 0))
            .context("bind source address")?;
    }
    if linger0 {
        sock.set_zero_linger()?;
    }
    let stream = sock.connect(addr).await.context("tcp connect")?;
    stream.set_nodelay(true)?;
    let url = format!("ws://{host}/socket.io/?EIO=4&transport=websocket");
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(Some(16 << 20));
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
        .await
        .context("websocket upgrade")?;
    let mut sent_connect = false;
    loop {
        let msg = ws
            .next()
            .await
            .ok_or_else(|| anyhow!("closed during handshake"))??;
        let Message::Text(t) = msg else { continue };
        match proto::parse(t.as_str()) {
            Packet::Open if !sent_connect => {
                let auth = serde_json::json!({ "token": token });
                ws.send(Message::Text(format!("40{auth}").into())).await?;
                sent_connect = true;
            }
            Packet::Ping => ws.send(Message::Text("3".into())).await?,
            Packet::Connected => return Ok(ws),
            Packet::ConnectError(e) => bail!("connect refused: {e}"),
            Packet::Closed => bail!("closed during handshake"),
            _ => {}
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn resolves_loopback_http_urls_only() {
        let (addr, host) = resolve("http://127.0.0.1:3000/api").unwrap();
        assert_eq!(
            (addr.to_string().as_str(), host.as_str()),
            ("127.0.0.1:3000", "127.0.0.1:3000")
        );
        let (addr, host) = resolve("http://127.0.0.9").unwrap();
        assert_eq!((addr.port(), host.as_str()), (80, "127.0.0.9"));
        let e = resolve("https://127.0.0.1:3000").unwrap_err();
        assert!(e.to_string().contains("only http://"), "{e}");
        let e = resolve("http://192.0.2.1:3000").unwrap_err();
        assert!(e.to_string().contains("only targets loopback"), "{e}");
    }

    #[test]
    fn source_addresses_cycle_through_127_0_0_2_to_250() {
        assert_eq!(source_ip(0), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
        assert_eq!(source_ip(248), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 250)));
        assert_eq!(source_ip(249), source_ip(0));
    }
}
