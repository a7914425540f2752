//! An HTTP/2 (h2c) client that takes nothing of its answers: every stream's
//! flow-control window stays at 0 (SETTINGS_INITIAL_WINDOW_SIZE 0, no WINDOW_UPDATE),
//! while PINGs keep its connection busy writing, as a hostile client does.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use h2::client::SendRequest;

/// One connection of such a client, open until dropped.
pub(crate) struct WindowZero {
    send: SendRequest<Bytes>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The answers' bodies, kept and never read.
    held: Vec<h2::RecvStream>,
}

impl WindowZero {
    pub(crate) async fn connect(addr: SocketAddr) -> WindowZero {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (send, mut connection) = h2::client::Builder::new()
            .initial_window_size(0)
            .handshake::<_, Bytes>(tcp)
            .await
            .unwrap();
        let mut pings = connection.ping_pong().expect("the connection's ping_pong");
        let driver = tokio::spawn(async move {
            let _ = connection.await;
        });
        // A PING every 100 ms: its acknowledgement is a write of the server's.
        let pinger = tokio::spawn(async move {
            while pings.ping(h2::Ping::opaque()).await.is_ok() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        WindowZero {
            send,
            tasks: vec![driver, pinger],
            held: Vec::new(),
        }
    }

    /// `GET path`: the answer's status (its head comes, flow control or not); its body
    /// is kept unread.
    pub(crate) async fn get(&mut self, path: &str) -> u16 {
        let request = axum::http::Request::get(format!("http://127.0.0.1{path}"))
            .body(())
            .unwrap();
        let mut send = self.send.clone().ready().await.unwrap();
        let (answer, _) = send.send_request(request, true).unwrap();
        let answer = answer.await.unwrap();
        let status = answer.status().as_u16();
        self.held.push(answer.into_body());
        status
    }
}

impl Drop for WindowZero {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
