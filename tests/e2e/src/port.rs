//! A loopback port held for a process that listens on it later.

use std::net::SocketAddr;

use anyhow::{anyhow, Result};

/// A loopback port held for a process that listens on it later, so that nothing else can take
/// it in between: a socket bound to it with `SO_REUSEADDR` that does not listen.
///
/// While it is held, the kernel gives the port to no one else (no `bind` to port 0, no outgoing
/// connection's local port), connections to it are refused, and a listener that also sets
/// `SO_REUSEADDR` can bind and listen on it: tokio's (the server, tauri-driver) and GLib's
/// (WebKitWebDriver) do. There is no gap in which the port is free, unlike binding port 0,
/// reading the port and closing the socket before the real listener binds it. Dropping it frees
/// the port. (The server cannot be handed a listener: `unipos_server::spawn` binds
/// `config.listen` itself; nor can tauri-driver and WebKitWebDriver, which take a port number.)
pub struct HeldPort {
    _socket: socket2::Socket,
    addr: SocketAddr,
}

impl HeldPort {
    pub fn new() -> Result<HeldPort> {
        use socket2::{Domain, Protocol, Socket, Type};
        // Close-on-exec (socket2 sets it): the drivers and the app must not inherit the hold.
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
        let addr = socket
            .local_addr()?
            .as_socket()
            .ok_or_else(|| anyhow!("a loopback socket without an address"))?;
        Ok(HeldPort {
            _socket: socket,
            addr,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}
