//! A TCP proxy between a client and a server that can misbehave on demand:
//! answer 500s, malformed JSON, truncated bodies, or nothing at all. Loopback only.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How the proxy answers new requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward to the server.
    None,
    /// `500 Internal Server Error` with a problem document.
    ServerError,
    /// `200 OK` with a body that is not JSON.
    MalformedJson,
    /// `200 OK` announcing more body than it sends, then closing.
    Truncated,
    /// Accept the request and answer nothing for this long.
    Stall(Duration),
    /// Refuse the connection (close it at once).
    Refuse,
}

/// The running proxy.
pub struct FaultProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    fault: Arc<Mutex<Fault>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` on an ephemeral loopback port.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let fault = Arc::new(Mutex::new(Fault::None));
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let fault = fault.clone();
            let connections = connections.clone();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let mode = *fault.lock().unwrap();
                    let task = tokio::spawn(handle(client, upstream, mode));
                    connections.lock().unwrap().push(task);
                }
            })
        };
        FaultProxy {
            addr,
            fault,
            connections,
            accept,
        }
    }

    /// The URL clients use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Switches the behaviour for new connections and drops the open ones,
    /// so pooled connections and live streams meet the new behaviour at once.
    pub fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

async fn handle(mut client: TcpStream, upstream: SocketAddr, fault: Fault) {
    if fault == Fault::None {
        if let Ok(mut server) = TcpStream::connect(upstream).await {
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        }
        return;
    }
    if fault == Fault::Refuse {
        return;
    }
    // Read (at least the head of) one request before answering.
    let mut buf = vec![0u8; 16 * 1024];
    let _ = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf)).await;
    let response: Vec<u8> = match fault {
        Fault::ServerError => {
            let body = r#"{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"injected failure"}"#;
            format!(
                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/problem+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        }
        Fault::MalformedJson => {
            let body = "{\"items\": [ this is not json";
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        }
        Fault::Truncated => b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000\r\nConnection: close\r\n\r\n{\"items\": [{\"id\": 1,".to_vec(),
        Fault::Stall(d) => {
            tokio::time::sleep(d).await;
            return;
        }
        Fault::None | Fault::Refuse => return,
    };
    let _ = client.write_all(&response).await;
    let _ = client.shutdown().await;
}
