//! A green service that misbehaves below HTTP: it writes raw bytes on the
//! socket, so it can break a response in ways a well-behaved server cannot
//! (reset mid-body, a body that stalls, a body of a gigabyte, no TLS).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::loopback;

/// What the server does with each connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// Headers announcing 1000 bytes of JSON, 20 bytes of it, then a TCP reset.
    ResetMidBody,
    /// Headers announcing 1000 bytes, 20 of them, then nothing, for an hour.
    StallBody,
    /// 200 with a body of this many bytes of JSON-looking text, streamed
    /// until the client hangs up.
    HugeBody(u64),
    /// Plain HTTP where the client expects TLS.
    NotTls,
}

/// The raw server. Stops when dropped.
#[derive(Debug)]
pub struct RawGreen {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    sent: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RawGreen {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawGreen {
    /// Starts the server on an ephemeral loopback port.
    pub async fn start(script: Script) -> Self {
        let (listener, addr) = loopback().await;
        let connections = Arc::new(AtomicUsize::new(0));
        let sent = Arc::new(AtomicU64::new(0));
        let (count, total) = (connections.clone(), sent.clone());
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(tcp, script, total.clone()));
            }
        });
        RawGreen {
            addr,
            connections,
            sent,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Body bytes written so far, over all connections.
    pub fn body_bytes_sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}

async fn read_request(tcp: &mut TcpStream) -> bool {
    let mut request = Vec::new();
    let mut buffer = [0_u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match tcp.read(&mut buffer).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    true
}

const PARTIAL: &[u8] = b"{\"status\": \"ok\", \"pa";

async fn serve(mut tcp: TcpStream, script: Script, sent: Arc<AtomicU64>) {
    if script == Script::NotTls {
        // Answer whatever arrives (a TLS ClientHello) with plain HTTP.
        let mut buffer = [0_u8; 4096];
        if !matches!(tcp.read(&mut buffer).await, Ok(n) if n > 0) {
            return;
        }
        tcp.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            .await
            .ok();
        return;
    }
    if !read_request(&mut tcp).await {
        return;
    }
    match script {
        Script::ResetMidBody | Script::StallBody => {
            let head =
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n";
            if tcp.write_all(head.as_bytes()).await.is_err()
                || tcp.write_all(PARTIAL).await.is_err()
            {
                return;
            }
            tcp.flush().await.ok();
            if script == Script::StallBody {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            } else {
                // Linger 0: closing sends a reset instead of a clean end.
                tokio::time::sleep(Duration::from_millis(50)).await;
                tcp.set_zero_linger().ok();
                drop(tcp);
            }
        }
        Script::HugeBody(size) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {size}\r\n\r\n"
            );
            if tcp.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut chunk = vec![b' '; 64 * 1024];
            chunk[..PARTIAL.len()].copy_from_slice(PARTIAL);
            let mut left = size;
            while left > 0 {
                let n = usize::try_from(left.min(chunk.len() as u64)).unwrap_or(chunk.len());
                if tcp.write_all(&chunk[..n]).await.is_err() {
                    return;
                }
                sent.fetch_add(n as u64, Ordering::SeqCst);
                left -= n as u64;
                chunk[..PARTIAL.len()].fill(b' ');
            }
        }
        Script::NotTls => {}
    }
}
