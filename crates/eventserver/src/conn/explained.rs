//! The JSON error body of the answers hyper makes itself, to requests it cannot parse.
//!
//! A request whose head hyper cannot read (a malformed request line or header field, a
//! `Content-Length` that is not one number, a target over 65 534 bytes, more header
//! fields or bytes than it reads) never reaches the service: hyper answers `400`, `414`
//! or `431` itself, with an empty body, and closes the connection. Every other answer
//! of the server has a JSON body saying what was wrong (docs/protocol.md), and a node
//! shows that body in its dead letters; an empty one tells its operator nothing.
//!
//! hyper offers no hook for these answers (hyperium/hyper#3225, "debuggability for
//! parse errors", open; hyper-util and tower see only requests that parsed), so this
//! wrapper of the connection's socket recognises hyper's own refusal as it is written
//! (its status line, then `connection: close` and `content-length: 0`, at the start of
//! a write while no request of the connection is in progress: the service's answers
//! always have a body and a `content-type`) and writes the same status with a JSON body
//! instead. Anything else passes through untouched; should hyper change the form of
//! these answers, they go out as before, with an empty body (a test says so).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::Activity;

/// hyper's refusals: its status line, the `error` code and message written instead.
const REFUSALS: [(&[u8], &str, &str); 3] = [
    (
        b"HTTP/1.1 400 Bad Request\r\n",
        "bad_request",
        "the request could not be read as HTTP/1.1 (RFC 9112): a malformed request line \
         or header field, or a Content-Length that is not one decimal number (sent twice \
         with different values, or not a number); nothing was read or stored, and the \
         connection is closed",
    ),
    (
        b"HTTP/1.1 414 URI Too Long\r\n",
        "uri_too_long",
        "the request target (path and query) is longer than the 65534 bytes the server \
         reads (RFC 9110 section 15.5.15); nothing was read or stored, and the \
         connection is closed",
    ),
    (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
        "headers_too_large",
        "the request's header section has more fields (at most 100) or more bytes than \
         the server reads (RFC 6585 section 5); nothing was read or stored, and the \
         connection is closed",
    ),
];

/// What follows the status line in hyper's refusal (header names in lower case, as
/// hyper writes them); its `date` field comes next.
const REFUSAL_FIELDS: &[u8] = b"connection: close\r\ncontent-length: 0\r\n";

/// A connection's socket, writing hyper's refusals with a JSON body.
pub(super) struct Explained<I> {
    io: I,
    activity: Activity,
    /// The answer being written in place of hyper's, how much of it is written, and
    /// how many of hyper's bytes it stands for (reported once it is all written).
    replacing: Option<(Vec<u8>, usize, usize)>,
}

impl<I> Explained<I> {
    pub(super) fn new(io: I, activity: Activity) -> Explained<I> {
        Explained {
            io,
            activity,
            replacing: None,
        }
    }
}

/// When `buf` opens with hyper's refusal: the answer to write instead, and the length
/// of hyper's answer in `buf`.
fn replacement(buf: &[u8]) -> Option<(Vec<u8>, usize)> {
    let (status_line, code, message) = REFUSALS.iter().find(|r| buf.starts_with(r.0))?;
    let rest = &buf[status_line.len()..];
    let fields = rest.strip_prefix(REFUSAL_FIELDS)?;
    let end = fields.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    // hyper's remaining fields (its `date`), kept as they are.
    let kept = &fields[..end - 2];
    let head_len = status_line.len() + REFUSAL_FIELDS.len() + end;
    let body = serde_json::json!({ "error": code, "message": message }).to_string();
    let mut answer = Vec::with_capacity(head_len + body.len() + 64);
    answer.extend_from_slice(status_line);
    answer.extend_from_slice(b"connection: close\r\ncontent-type: application/json\r\n");
    answer.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    answer.extend_from_slice(kept);
    answer.extend_from_slice(b"\r\n");
    answer.extend_from_slice(body.as_bytes());
    Some((answer, head_len))
}

impl<I: AsyncWrite + Unpin> Explained<I> {
    /// Writes what is left of the answer written instead of hyper's; `Ready(Ok(n))`
    /// with hyper's length once all of it is written.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        while let Some((answer, written, stands_for)) = &mut self.replacing {
            if *written == answer.len() {
                let n = *stands_for;
                self.replacing = None;
                return Poll::Ready(Ok(n));
            }
            match Pin::new(&mut self.io).poll_write(cx, &answer[*written..]) {
                Poll::Ready(Ok(0)) => {
                    self.replacing = None;
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => {
                    self.replacing = None;
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(0))
    }

    /// `Some` when `buf` is (or an answer in place of it is being) written here.
    fn explain(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Option<Poll<io::Result<usize>>> {
        if self.replacing.is_none() {
            if self.activity.busy() {
                return None;
            }
            let (answer, stands_for) = replacement(buf)?;
            self.replacing = Some((answer, 0, stands_for));
        }
        Some(self.drain(cx))
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Explained<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Explained<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(poll) = self.explain(cx, buf) {
            return poll;
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // hyper's refusal is one buffer: it is the first slice when it is written.
        if let Some(first) = bufs.iter().find(|b| !b.is_empty()) {
            if let Some(poll) = self.explain(cx, first) {
                return poll;
            }
        }
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyper_refusals_get_a_json_body_and_keep_their_status_and_date() {
        let hyper = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Sat, 05 Dec 2026 19:54:45 GMT\r\n\r\n";
        let (answer, stands_for) = replacement(hyper).unwrap();
        assert_eq!(stands_for, hyper.len());
        let text = String::from_utf8(answer).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains("\r\ndate: Sat, 05 Dec 2026 19:54:45 GMT"));
        assert!(head.contains(&format!("\r\ncontent-length: {}", body.len())));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"], "headers_too_large");
    }

    #[test]
    fn answers_of_the_service_pass_untouched() {
        for answer in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"[..],
            b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: cut",
        ] {
            assert!(replacement(answer).is_none());
        }
    }
}
