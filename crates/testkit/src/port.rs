//! Loopback ports held by a test for its whole life.
//!
//! Picking a "free" port by binding port 0, reading it and closing the socket, then
//! starting a server on that number races: between the two, another test of the same
//! process (tests run in parallel threads) or another process can take the port, for a
//! server of its own or as the local end of an outgoing connection. A [`Port`] never
//! lets go: its socket is bound with `SO_REUSEPORT` and never listens, so
//!
//! - connections to it are refused (as to a server that is down), and no socket of
//!   anyone else can bind it (nothing else in the tests sets `SO_REUSEPORT`; the
//!   kernel only shares a port between sockets of one user that all set it), nor is it
//!   picked for an outgoing connection;
//! - a server is started on it with [`Port::hand_to`]: a second socket, bound to the same
//!   port (allowed by `SO_REUSEPORT`) and listening, passed to the child as fd 3 with
//!   `LISTEN_FDS=1` (systemd socket activation, which `auditrail serve` takes). When
//!   that server dies its socket closes and the port refuses connections again, still
//!   held; a restart gets a new listening socket on the same port.
//!
//! Servers that can report the port they bound (`auditrail serve --listen
//! 127.0.0.1:0`, an in-process listener's `local_addr`) need none of this: start them
//! on port 0 and read the address back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::process::Command;

use command_fds::{CommandFdExt, FdMapping};
use socket2::{Domain, Socket, Type};

/// A loopback TCP port held (bound, not listening) until dropped.
#[derive(Debug)]
pub struct Port {
    /// Holds the port; never listens.
    _held: Socket,
    addr: SocketAddr,
}

impl Port {
    /// A new loopback port, chosen by the kernel and held.
    pub fn new() -> Port {
        let held = shared_socket();
        held.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
            .expect("binding a loopback port");
        let addr = held
            .local_addr()
            .unwrap()
            .as_socket()
            .expect("an IP address");
        Port { _held: held, addr }
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port number.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A new listening socket on this port, for an in-process server or a child.
    pub fn listener(&self) -> TcpListener {
        let socket = shared_socket();
        socket
            .bind(&self.addr.into())
            .unwrap_or_else(|e| panic!("binding a listener on the held port {}: {e}", self.addr));
        socket.listen(1024).unwrap();
        socket.into()
    }

    /// A command that runs `program` with a new listening socket on this port as fd 3
    /// and `LISTEN_FDS=1`, `LISTEN_PID` set to its own pid (sd_listen_fds(3)); through
    /// `sh`, which sets `LISTEN_PID=$$` and execs `program` (same pid). Add the
    /// program's arguments to it. The command holds the parent's copy of the socket:
    /// drop it once the child is spawned, so that the port refuses connections again
    /// when the child ends.
    pub fn hand_to(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        hand_socket_to(program, self.listener().into())
    }
}

/// A command that runs `program` with `socket` as fd 3 and `LISTEN_FDS=1`, `LISTEN_PID`
/// its own pid, as [`Port::hand_to`] does with a listening socket: for the tests of what
/// a server makes of another socket there (a connected one, as a systemd `.socket` unit
/// with `Accept=yes` passes).
pub fn hand_socket_to(
    program: impl AsRef<std::ffi::OsStr>,
    socket: std::os::fd::OwnedFd,
) -> Command {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "LISTEN_PID=$$ exec \"$0\" \"$@\""])
        .arg(program)
        .env("LISTEN_FDS", "1")
        .env_remove("LISTEN_FDNAMES");
    cmd.fd_mappings(vec![FdMapping {
        parent_fd: socket,
        child_fd: 3,
    }])
    .expect("fd 3 for the passed socket");
    cmd
}

/// The port number, for `format!("127.0.0.1:{port}")`.
impl std::fmt::Display for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.addr.port())
    }
}

impl Default for Port {
    fn default() -> Self {
        Port::new()
    }
}

/// One port held by the test process for its whole life, on which nothing ever listens:
/// a server that is down, for the tests of a binary that need one (connections to it
/// are refused, and no server of another test can appear there).
pub fn down() -> &'static Port {
    static DOWN: std::sync::OnceLock<Port> = std::sync::OnceLock::new();
    DOWN.get_or_init(Port::new)
}

/// The loopback TCP port that process `pid` listens on, read from the kernel
/// (`/proc/PID/fd` socket inodes matched against `/proc/net/tcp`'s listening sockets):
/// for third-party servers started on port 0 that do not report the port they got.
/// `None` while it listens on none (poll it, bounded, after the start).
pub fn listening_port_of(pid: u32) -> Option<u16> {
    let inodes: std::collections::HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()?
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|l| {
            let l = l.to_str()?;
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
        })
        .collect();
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
        let f: Vec<&str> = line.split_whitespace().collect();
        let (local, state, inode) = (f.get(1)?, f.get(3)?, f.get(9)?);
        if *state != "0A" || !inodes.contains(*inode) {
            return None;
        }
        u16::from_str_radix(local.rsplit_once(':')?.1, 16).ok()
    })
}

fn shared_socket() -> Socket {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a TCP socket");
    socket.set_reuse_port(true).expect("SO_REUSEPORT");
    socket
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::ErrorKind;
    use std::net::TcpStream;

    #[test]
    fn a_held_port_refuses_connections_and_cannot_be_bound_by_others() {
        let port = Port::new();
        let err = TcpStream::connect(port.addr()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        let err = TcpListener::bind(port.addr()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
    }

    #[test]
    fn a_listener_on_it_accepts_and_after_it_closed_the_port_refuses_and_stays_held() {
        let port = Port::new();
        let listener = port.listener();
        TcpStream::connect(port.addr()).unwrap();
        drop(listener);
        let err = TcpStream::connect(port.addr()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        assert_eq!(
            TcpListener::bind(port.addr()).unwrap_err().kind(),
            ErrorKind::AddrInUse
        );
        // Again: a restarted server gets the same port.
        let _again = port.listener();
        TcpStream::connect(port.addr()).unwrap();
    }
}
