//! TCP peers for the network tests. A listener counts the connections that reach a port, and a
//! proxy counts and records what a client sends to a real server. Hand-written servers produce
//! the faults that no real mail server produces on demand.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A listener that accepts and counts connections and keeps each one open and silent.
pub struct CountingListener {
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl CountingListener {
    /// Binds 127.0.0.1 on a port that the OS picks.
    pub async fn bind() -> Self {
        Self::bind_to(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0))
            .await
            .expect("127.0.0.1 accepts a listener")
    }

    /// Binds `address`, or returns `None` when this host cannot listen there (no IPv6).
    pub async fn bind_to(address: SocketAddr) -> Option<Self> {
        let listener = TcpListener::bind(address).await.ok()?;
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                held.push(socket);
            }
        });
        Some(Self { port, accepted, task })
    }

    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for CountingListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A proxy on 127.0.0.1 that forwards every connection to a server on 127.0.0.1, counts the
/// connections and records the bytes that clients send.
pub struct RecordingProxy {
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    sent: Arc<Mutex<Vec<u8>>>,
    task: JoinHandle<()>,
}

impl RecordingProxy {
    pub async fn start(target_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let (counter, recorded) = (Arc::clone(&accepted), Arc::clone(&sent));

        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)).await else {
                    continue;
                };
                tokio::spawn(forward(client, server, Arc::clone(&recorded)));
            }
        });
        Self {
            port,
            accepted,
            sent,
            task,
        }
    }

    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Returns what clients sent so far, decoded as UTF-8 with replacement characters.
    pub fn client_text(&self) -> String {
        String::from_utf8_lossy(&self.sent.lock().unwrap()).into_owned()
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(client: TcpStream, server: TcpStream, recorded: Arc<Mutex<Vec<u8>>>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    tokio::spawn(async move { tokio::io::copy(&mut server_read, &mut client_write).await });

    let mut buffer = [0; 4096];
    while let Ok(read) = client_read.read(&mut buffer).await {
        if read == 0 || server_write.write_all(&buffer[..read]).await.is_err() {
            break;
        }
        recorded.lock().unwrap().extend_from_slice(&buffer[..read]);
    }
}

/// How a scripted peer behaves once a client connects.
#[derive(Clone, Copy)]
pub enum Behavior {
    /// Sends these bytes at once and then reads without replying.
    Banner(&'static [u8]),
    /// Sends the greeting, sends no reply to EHLO and keeps reading.
    SilentAfterEhlo,
    /// Sends one byte every `interval` and never ends a line.
    Trickle { interval: Duration },
}

/// What a scripted peer observed on its only connection.
#[derive(Debug)]
pub struct PeerReport {
    pub received: Vec<u8>,
    /// When the client closed or reset the connection, if it did within 30 s.
    pub closed_at: Option<Instant>,
}

/// Starts a peer on 127.0.0.1 that accepts one connection and follows `behavior` until the
/// client closes it or 30 s pass.
pub async fn scripted_peer(behavior: Behavior) -> (u16, JoinHandle<PeerReport>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();

    let task = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (mut read_half, mut write_half) = socket.into_split();
        let writer = tokio::spawn(async move {
            match behavior {
                Behavior::Banner(bytes) => {
                    let _ = write_half.write_all(bytes).await;
                }
                Behavior::SilentAfterEhlo => {
                    let _ = write_half.write_all(b"220 scripted ESMTP\r\n").await;
                }
                Behavior::Trickle { interval } => loop {
                    if write_half.write_all(b"2").await.is_err() {
                        break;
                    }
                    tokio::time::sleep(interval).await;
                },
            }
            // Keeps the write half, and so the connection, open until the task ends.
            std::future::pending::<()>().await;
        });

        let mut received = Vec::new();
        let mut buffer = [0; 1024];
        let read_until_closed = async {
            loop {
                match read_half.read(&mut buffer).await {
                    Ok(0) | Err(_) => return Instant::now(),
                    Ok(read) => received.extend_from_slice(&buffer[..read]),
                }
            }
        };
        let closed_at = tokio::time::timeout(Duration::from_secs(30), read_until_closed)
            .await
            .ok();
        writer.abort();
        PeerReport { received, closed_at }
    });

    (port, task)
}
