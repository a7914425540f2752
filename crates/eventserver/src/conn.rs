//! One accepted connection, from the accept to its close: the connection limit, the
//! TLS handshake deadline, the time a first request may take to arrive, the idle
//! keep-alive timeout and the graceful stop.
//!
//! hyper's own `header_read_timeout` bounds each HTTP/1.1 request head once hyper
//! waits for one, but with the `auto` builder (HTTP/1.1 and HTTP/2 on one port) hyper
//! first waits, without any limit, for the bytes that tell the protocol; HTTP/2 has no
//! idle timeout in hyper at all, and neither has a TLS connection that completed its
//! handshake and sends nothing. Nothing in hyper, hyper-util or tower closes such a
//! connection (tower's timeouts apply to requests, and there is none), so this module
//! watches each connection for time without a request in progress and asks hyper for
//! a graceful close once it passes.
//!
//! Nor does anything in hyper bound how long an answer may wait for its client to read
//! it: a request counts as in progress until its answer is ready, and a graceful close
//! waits for the answers being written. So a client that asks and then reads nothing
//! (a large answer, or thousands of pipelined `GET /healthz`, which no key guards)
//! held its connection for ever once the socket buffers were full: `max_connections`
//! such clients took every connection, and nodes could no longer send events. This
//! module also watches the writes: a connection whose answer could not be written for
//! `idle_timeout_ms` (the client reads nothing) is closed, its answer cut, as nginx's
//! `send_timeout` does.
//!
//! Over HTTP/2 the socket is not what holds an answer back: a client that keeps its
//! flow-control window at 0 takes nothing while its socket stays empty and its PINGs
//! are answered. Each HTTP/2 answer is watched for a frame it has ready that the
//! connection does not ask for ([`untaken`]); one that waited `idle_timeout_ms` closes
//! the connection as a full socket does.
//!
//! And it gives the answers hyper makes itself, to requests it cannot parse, the JSON
//! body every other answer has ([`explained`]).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{watch, OwnedSemaphorePermit};
use tokio::time::Instant;
use tower::ServiceExt;

mod explained;
pub(crate) mod per_client;
mod untaken;

use crate::auth::ClientCert;
use crate::config::ServerConfig;

/// The per-connection limits of a config.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnLimits {
    /// From the connection's start (and again after a TLS handshake, which has the
    /// same deadline) until the first request head is complete.
    pub(crate) first_request: Duration,
    /// Without a request in progress for this long, the connection is closed.
    pub(crate) idle: Duration,
}

impl ConnLimits {
    pub(crate) fn of(config: &ServerConfig) -> ConnLimits {
        ConnLimits {
            first_request: config.header_read_timeout,
            idle: config.idle_timeout,
        }
    }
}

/// The bound on `/v1/stream` followers of a config whose connection limit is
/// `max_connections`: the configured one, or a quarter of the connection limit (at least
/// 1), so that followers leave at least three quarters of the connections to the rest.
pub(crate) fn max_streams(config: &ServerConfig, max_connections: usize) -> usize {
    config.max_streams.unwrap_or((max_connections / 4).max(1))
}

/// Requests in progress on one connection; every change is seen by the watchdog.
#[derive(Clone)]
struct Activity {
    in_progress: Arc<watch::Sender<usize>>,
    /// Whether a request was ever made on the connection.
    asked: Arc<std::sync::atomic::AtomicBool>,
}

/// One request in progress (dropped when its answer is ready).
struct InFlight(Arc<watch::Sender<usize>>);

impl Activity {
    fn new() -> Activity {
        Activity {
            in_progress: Arc::new(watch::Sender::new(0)),
            asked: Arc::default(),
        }
    }

    fn start(&self) -> InFlight {
        self.asked.store(true, Ordering::Relaxed);
        self.in_progress.send_modify(|n| *n += 1);
        InFlight(self.in_progress.clone())
    }

    /// Whether a request is in progress.
    fn busy(&self) -> bool {
        *self.in_progress.borrow() > 0
    }

    /// Whether a request was ever made on the connection.
    fn ever_asked(&self) -> bool {
        self.asked.load(Ordering::Relaxed)
    }

    /// Resolves once the connection had no request in progress for `first` (before
    /// any request), or for `idle` (after one).
    async fn idle_for(&self, limits: ConnLimits) {
        let mut changes = self.in_progress.subscribe();
        let mut limit = limits.first_request;
        loop {
            if *changes.borrow_and_update() > 0 {
                // Busy: only a change can make it idle (the sender lives in `self`).
                let _ = changes.changed().await;
                limit = limits.idle;
                continue;
            }
            match tokio::time::timeout(limit, changes.changed()).await {
                Err(_) => return,
                Ok(_) => limit = limits.idle,
            }
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// How a connection's writes go: since when they have been waiting for the client to
/// read (set when a write finds the socket full, `Pending`; cleared by the next write
/// that goes through), and when bytes were last written. Each in milliseconds since
/// `start`, plus one (0: not waiting, nothing written yet).
struct WriteStall {
    start: Instant,
    since: AtomicU64,
    last_written: AtomicU64,
}

impl WriteStall {
    fn new() -> Arc<WriteStall> {
        Arc::new(WriteStall {
            start: Instant::now(),
            since: AtomicU64::new(0),
            last_written: AtomicU64::new(0),
        })
    }

    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1)
    }

    /// Notes a write (`written`: how many bytes it moved) or a flush (`None`). Only
    /// bytes moved count as written: hyper flushes whenever its connection is polled,
    /// which the watchdog's own ticks do.
    fn note<T>(&self, poll: &Poll<io::Result<T>>, written: impl Fn(&T) -> usize) {
        match poll {
            Poll::Pending => {
                if self.since.load(Ordering::Relaxed) == 0 {
                    self.since.store(self.now(), Ordering::Relaxed);
                }
            }
            Poll::Ready(result) => {
                self.since.store(0, Ordering::Relaxed);
                if result.as_ref().is_ok_and(|r| written(r) > 0) {
                    self.last_written.store(self.now(), Ordering::Relaxed);
                }
            }
        }
    }

    /// How long the writes have been waiting (`None`: they are not).
    fn waiting(&self) -> Option<Duration> {
        match self.since.load(Ordering::Relaxed) {
            0 => None,
            at => Some(Duration::from_millis(self.now().saturating_sub(at))),
        }
    }

    /// How long nothing was written, counted from `from` at the earliest.
    fn quiet_since(&self, from: Instant) -> Duration {
        let from = u64::try_from(from.saturating_duration_since(self.start).as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let last = self.last_written.load(Ordering::Relaxed).max(from);
        Duration::from_millis(self.now().saturating_sub(last))
    }
}

/// A connection's transport with its writes watched ([`WriteStall`]).
struct Watched<I> {
    io: I,
    stall: Arc<WriteStall>,
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write(cx, buf);
        self.stall.note(&poll, |n| *n);
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.stall.note(&poll, |n| *n);
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.io).poll_flush(cx);
        self.stall.note(&poll, |()| 0);
        poll
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Once its close was asked for at a stop, or before it made any request, how long a
/// connection without a request in progress may write nothing before it is dropped (a
/// well-behaved client closes at once on the `GOAWAY`, or within a round trip).
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Who is at the other end of a connection; given to each of its requests.
#[derive(Debug)]
pub(crate) struct Remote {
    /// The client's address (`ConnectInfo`).
    pub(crate) addr: SocketAddr,
    /// Its verified client certificate (mutual TLS).
    pub(crate) cert: Option<ClientCert>,
}

/// Serves one connection until the client closes it, it stays idle too long, or the
/// server stops (`stop` turns true): then hyper closes it gracefully (answers in
/// progress are finished). `_permit` is the connection's place under
/// `max_connections`, given back when it ends.
pub(crate) async fn serve<I>(
    io: I,
    remote: Remote,
    app: axum::Router,
    builder: Arc<auto::Builder<TokioExecutor>>,
    limits: ConnLimits,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Remote { addr: peer, cert } = remote;
    let activity = Activity::new();
    let tracked = activity.clone();
    let untaken = untaken::Untaken::new();
    let offered = untaken.clone();
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            if let Some(cert) = &cert {
                req.extensions_mut().insert(cert.clone());
            }
            let in_flight = tracked.start();
            let http2 = req.version() == hyper::Version::HTTP_2;
            let answer = app.clone().oneshot(req.map(axum::body::Body::new));
            let offered = offered.clone();
            async move {
                let answer = answer.await;
                drop(in_flight);
                answer.map(|answer| answer.map(|body| offered.watch(body, http2)))
            }
        });
    let stall = WriteStall::new();
    let io = Watched {
        io,
        stall: stall.clone(),
    };
    let io = explained::Explained::new(io, activity.clone());
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(conn);
    // Looked at four times per `idle`: a stalled connection is closed within 1.25 ×
    // `idle_timeout_ms` of its client's last read.
    let mut stall_check = tokio::time::interval((limits.idle / 4).max(Duration::from_millis(1)));
    stall_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let idle = activity.idle_for(limits);
    tokio::pin!(idle);
    let stopping = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    tokio::pin!(stopping);
    // When the graceful close was asked for (`None`: it was not).
    let mut closing: Option<Instant> = None;
    // Whether the server stops: then the connection is not left `idle` to end.
    let mut stopped = false;
    loop {
        tokio::select! {
            // At a stop, a connection without a request in progress that wrote nothing
            // for `STOP_GRACE` since the close was asked for is dropped: a client that
            // reads nothing, or keeps an HTTP/2 connection open without answering the
            // `GOAWAY`'s ping, held the stop until `idle` (60 s), past
            // `shutdown_timeout_s` (30 s): every stop with such a client connected
            // took the whole deadline and ended unclean, exit 1 (tryout hostile/03).
            // Batches in progress, and answers their clients are reading, go on.
            //
            // The same for a connection closed before it made any request (past
            // `header_read_timeout_ms`): it has no answer to finish. An HTTP/2 client
            // that sent its preface and nothing more ignored the `GOAWAY` and held its
            // place under `max_connections` until `idle` (75 s in all), so that a flood
            // of them took every connection from nodes without any key (tryout60/05).
            () = tokio::time::sleep(STOP_GRACE), if stopped || (closing.is_some() && !activity.ever_asked()) => {
                if closing.is_some_and(|at| {
                    !activity.busy() && stall.quiet_since(at) >= STOP_GRACE
                }) {
                    if stopped {
                        tracing::debug!(%peer, "closing a connection at the stop");
                    } else {
                        tracing::debug!(%peer, "closing a connection that made no request");
                    }
                    return;
                }
            }
            _ = conn.as_mut() => return,
            _ = stall_check.tick() => {
                if stall.waiting().is_some_and(|waited| waited >= limits.idle) {
                    // Dropping the connection closes its socket; hyper cannot finish
                    // an answer nobody reads, gracefully or not.
                    tracing::debug!(%peer, "closing a connection whose client reads nothing");
                    return;
                }
                // The same over HTTP/2 for an answer whose client takes nothing of it
                // (its flow-control window left at 0), the socket empty: closing the
                // connection drops every stream's body, and what each holds
                // (`max_answer_memory_bytes`, a place under `max_streams`).
                if untaken.longest_wait().is_some_and(|waited| waited >= limits.idle) {
                    tracing::debug!(%peer, "closing a connection whose client takes nothing of an answer");
                    return;
                }
                // A graceful close waits for the connection's streams, which the client
                // can keep from ending without any write stalling: an HTTP/2 stream
                // whose header block never ends (no CONTINUATION), whose body never
                // ends, or whose flow-control window stays at 0. Once, after the close
                // was asked for, no request is in progress and nothing was written for
                // `idle`, the connection is dropped; a request still being handled (a
                // batch at a stop) and an answer still being written (a slow download)
                // go on.
                if closing.is_some_and(|at| {
                    !activity.busy() && stall.quiet_since(at) >= limits.idle
                }) {
                    tracing::debug!(%peer, "closing a connection whose streams do not end");
                    return;
                }
            }
            () = &mut idle, if closing.is_none() => {
                tracing::debug!(%peer, "closing a connection without a request in progress");
                closing = Some(Instant::now());
                conn.as_mut().graceful_shutdown();
            }
            () = &mut stopping, if !stopped => {
                stopped = true;
                if closing.is_none() {
                    closing = Some(Instant::now());
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}
