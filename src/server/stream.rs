//! The client side of a connection, plain or TLS, shared by the connection's reading and writing
//! threads (`&self` methods: `Read`/`Write` work on `&TcpStream`, so no descriptor is duplicated).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

pub(crate) enum ClientStream {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<super::tls::TlsConn>),
}

impl ClientStream {
    fn socket(&self) -> &TcpStream {
        match self {
            ClientStream::Plain(s) => s,
            #[cfg(feature = "tls")]
            ClientStream::Tls(t) => t.socket(),
        }
    }

    /// Reads plaintext: `Some(0)` at the end of the stream, `None` when TLS records arrived without
    /// application data. `scratch` is the TLS ciphertext buffer.
    pub(crate) fn read(&self, scratch: &mut [u8], out: &mut [u8]) -> io::Result<Option<usize>> {
        match self {
            ClientStream::Plain(s) => {
                let _ = scratch;
                (&*s).read(out).map(Some)
            }
            #[cfg(feature = "tls")]
            ClientStream::Tls(t) => t.read(scratch, out),
        }
    }

    /// Whether a TLS handshake is still in progress.
    pub(crate) fn handshaking(&self) -> bool {
        match self {
            ClientStream::Plain(_) => false,
            #[cfg(feature = "tls")]
            ClientStream::Tls(t) => t.handshaking(),
        }
    }

    pub(crate) fn write_all(&self, data: &[u8]) -> io::Result<()> {
        match self {
            ClientStream::Plain(s) => (&*s).write_all(data),
            #[cfg(feature = "tls")]
            ClientStream::Tls(t) => t.write_all(data),
        }
    }

    pub(crate) fn set_read_timeout(&self, d: Duration) -> io::Result<()> {
        self.socket()
            .set_read_timeout(Some(d.max(Duration::from_millis(1))))
    }

    /// Ends our sending side (TLS: close_notify first).
    pub(crate) fn finish(&self) {
        #[cfg(feature = "tls")]
        if let ClientStream::Tls(t) = self {
            t.close();
        }
        let _ = self.socket().shutdown(Shutdown::Write);
    }

    /// Ends both directions: wakes a thread blocked reading.
    pub(crate) fn shutdown(&self) {
        let _ = self.socket().shutdown(Shutdown::Both);
    }
}

/// Whether an I/O error is a read timeout.
pub(crate) fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
