//! HTTP/2 answers ready and not taken by their client.
//!
//! Over HTTP/2 the socket is not what stops an answer: each stream has its own
//! flow-control window, and a client that leaves it at 0 (SETTINGS_INITIAL_WINDOW_SIZE
//! 0, no WINDOW_UPDATE) takes nothing of the answer while its socket stays empty and its
//! PINGs keep being answered. [`super::WriteStall`] never saw the socket full, the
//! connection wrote (PING acknowledgements), and hyper's HTTP/2 options bound none of it
//! (`keep_alive_timeout` waits only for unanswered PINGs, `max_send_buf_size` bounds what
//! is buffered, not for how long): three such connections held every byte of
//! `max_answer_memory_bytes` for ever (every other client's `/v1/recent` answered `503
//! answer_memory`), and one held every `max_streams` follower (tryout edge67/04, 05).
//!
//! So each HTTP/2 answer body is watched here, at the only place that sees both sides:
//! hyper asks the body for its next frame as soon as the previous one went out (hyper
//! 1.12 stashes one frame while it waits for window). An answer is *waiting* from when
//! it has a frame for the connection (it handed one and has not been asked for the
//! next, or it had nothing, said `Pending`, and has since woken the connection with
//! something new) until the connection asks again. An answer still being computed has
//! no body yet, and a follower with nothing new waits on its own `Pending`: neither is
//! waiting. The connection's watchdog closes a connection one of whose answers waited
//! `idle_timeout_ms` (the whole connection, as a full socket does: closing it ends
//! every stream, and each stream's body, with its room in `max_answer_memory_bytes` or
//! its place under `max_streams`, is dropped).
//!
//! Data frames are handed on in pieces of at most [`PIECE`] bytes, so that the client
//! that takes its answer slowly (a window opened a little at a time) is asked for
//! progress per piece: one taking at least 16 KiB per `idle_timeout_ms` is never closed.
//!
//! HTTP/1.1 answers are not watched: one answer at a time owns the socket, and a full
//! socket says exactly when its client reads nothing ([`super::WriteStall`]).

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use bytes::Bytes;
use futures_util::task::AtomicWaker;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::Instant;

/// The most bytes of a data frame handed to the connection at a time: HTTP/2's default
/// SETTINGS_MAX_FRAME_SIZE, so that pieces cost no extra frames.
const PIECE: usize = 16 * 1024;

/// The HTTP/2 answers of one connection still alive, for its watchdog.
#[derive(Debug)]
pub(super) struct Untaken {
    start: Instant,
    answers: Mutex<Vec<Weak<Offer>>>,
}

impl Untaken {
    pub(super) fn new() -> Arc<Untaken> {
        Arc::new(Untaken {
            start: Instant::now(),
            answers: Mutex::default(),
        })
    }

    /// `body`, watched when it is the answer of an HTTP/2 request (`http2`).
    pub(super) fn watch<B>(&self, body: B, http2: bool) -> Offered<B> {
        if !http2 {
            return Offered {
                inner: body,
                watched: None,
            };
        }
        let offer = Arc::new(Offer {
            start: self.start,
            // Ready from the start: a body the connection never asks for (hyper waiting
            // for window before its first frame) has its whole answer untaken.
            ready_since: AtomicU64::new(since(self.start)),
            connection: AtomicWaker::new(),
        });
        let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        // Forget the answers that ended before the list grows: it stays about as long
        // as the most answers alive at once.
        if answers.len() == answers.capacity() {
            answers.retain(|a| a.strong_count() > 0);
        }
        answers.push(Arc::downgrade(&offer));
        drop(answers);
        Offered {
            inner: body,
            watched: Some(Watched {
                rest: Bytes::new(),
                waker: Waker::from(offer.clone()),
                offer,
            }),
        }
    }

    /// The longest any answer alive has been waiting for its client (`None`: none is).
    pub(super) fn longest_wait(&self) -> Option<Duration> {
        let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        answers.retain(|a| a.strong_count() > 0);
        answers
            .iter()
            .filter_map(Weak::upgrade)
            .filter_map(|a| a.waiting())
            .max()
    }
}

/// Milliseconds since `start`, plus one (0 means "not waiting").
fn since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis())
        .unwrap_or(u64::MAX)
        .saturating_add(1)
}

/// One answer's state, shared by its body, the wakers its body handed out and the
/// watchdog.
#[derive(Debug)]
struct Offer {
    start: Instant,
    /// Since when the answer has had something for the connection that the connection
    /// did not ask for ([`since`]; 0: not waiting).
    ready_since: AtomicU64,
    /// The connection's task, woken when the body wakes.
    connection: AtomicWaker,
}

impl Offer {
    /// The answer has something for the connection (kept if it already had).
    fn ready(&self) {
        let _ = self.ready_since.compare_exchange(
            0,
            since(self.start),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    /// The connection asks for the next frame.
    fn asked(&self) {
        self.ready_since.store(0, Ordering::Relaxed);
    }

    fn waiting(&self) -> Option<Duration> {
        match self.ready_since.load(Ordering::Relaxed) {
            0 => None,
            at => Some(Duration::from_millis(since(self.start).saturating_sub(at))),
        }
    }
}

/// The body's own waker: a body that said `Pending` wakes it once it has something,
/// which makes the answer ready again before the connection is woken.
impl Wake for Offer {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.ready();
        self.connection.wake();
    }
}

/// An answer body (every answer of a connection goes through it; only HTTP/2 ones are
/// watched, see [`Untaken::watch`]).
#[derive(Debug)]
pub(super) struct Offered<B> {
    inner: B,
    watched: Option<Watched>,
}

#[derive(Debug)]
struct Watched {
    /// The rest of a data frame longer than [`PIECE`], handed on a piece at a time.
    rest: Bytes,
    offer: Arc<Offer>,
    waker: Waker,
}

impl<B> Body for Offered<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = &mut *self;
        let Some(watched) = &mut this.watched else {
            return Pin::new(&mut this.inner).poll_frame(cx);
        };
        watched.offer.asked();
        if !watched.rest.is_empty() {
            let piece = piece_of(&mut watched.rest);
            if !watched.rest.is_empty() || !this.inner.is_end_stream() {
                watched.offer.ready();
            }
            return Poll::Ready(Some(Ok(Frame::data(piece))));
        }
        watched.offer.connection.register(cx.waker());
        let poll = Pin::new(&mut this.inner).poll_frame(&mut Context::from_waker(&watched.waker));
        let frame = match poll {
            Poll::Ready(Some(Ok(frame))) => frame,
            // `Pending`: nothing yet (its wake makes it ready); the end, or an error.
            other => return other,
        };
        let frame = match frame.into_data() {
            Ok(mut data) => {
                watched.rest = data.split_off(data.len().min(PIECE));
                Frame::data(data)
            }
            Err(frame) => frame,
        };
        if !watched.rest.is_empty() || !this.inner.is_end_stream() {
            // The connection asks for the next frame once this one went out.
            watched.offer.ready();
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.watched.as_ref().is_none_or(|w| w.rest.is_empty()) && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let inner = self.inner.size_hint();
        let rest = self
            .watched
            .as_ref()
            .map_or(0, |w| u64::try_from(w.rest.len()).unwrap_or(u64::MAX));
        let mut hint = SizeHint::new();
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper.saturating_add(rest));
        }
        hint.set_lower(inner.lower().saturating_add(rest));
        hint
    }
}

/// The first [`PIECE`] bytes of `rest` (all of it if shorter), taken off it.
fn piece_of(rest: &mut Bytes) -> Bytes {
    rest.split_to(rest.len().min(PIECE))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    use http_body_util::BodyExt;

    #[tokio::test]
    async fn a_frame_handed_on_waits_until_the_next_is_asked_for_and_the_end_does_not() {
        let untaken = Untaken::new();
        let data = Bytes::from(vec![7u8; PIECE * 2 + 5]);
        let mut body = untaken.watch(http_body_util::Full::new(data.clone()), true);
        // Not asked yet: its answer waits.
        assert!(untaken.longest_wait().is_some());
        let mut got = Vec::new();
        while let Some(frame) = body.frame().await {
            let piece = frame.unwrap().into_data().unwrap();
            assert!(piece.len() <= PIECE);
            got.extend_from_slice(&piece);
            if body.is_end_stream() {
                // The last piece handed on: nothing left to wait for.
                assert_eq!(untaken.longest_wait(), None);
            } else {
                assert!(untaken.longest_wait().is_some());
            }
        }
        assert_eq!(got, data);
        drop(body);
        assert_eq!(untaken.longest_wait(), None);
    }

    #[tokio::test]
    async fn http1_answers_are_not_watched() {
        let untaken = Untaken::new();
        let body = untaken.watch(http_body_util::Full::new(Bytes::from_static(b"x")), false);
        assert_eq!(untaken.longest_wait(), None);
        assert_eq!(body.collect().await.unwrap().to_bytes(), "x");
    }
}
