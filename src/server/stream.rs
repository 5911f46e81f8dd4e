//! The client side of a connection, plain or TLS, shared by the connection's thread and its tail's (`&self` methods: `Read`/`Write` work on `&TcpStream`, so no descriptor is duplicated).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

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

    /// Sends `data` whole by `deadline`: the socket's write timeout is shortened to what is left
    /// before each partial write after the first (and restored after), so a client that accepts a few
    /// bytes at a time cannot stretch one answer beyond the deadline.
    pub(crate) fn write_all_by(&self, data: &[u8], deadline: Instant) -> io::Result<()> {
        let mut w = DeadlineWriter {
            sock: self.socket(),
            deadline,
            writes: 0,
            restore: None,
        };
        match self {
            ClientStream::Plain(_) => w.write_all(data),
            #[cfg(feature = "tls")]
            ClientStream::Tls(t) => t.write_all(data, &mut w),
        }
    }

    /// Bounds the socket's send buffer (`SO_SNDBUF`).
    pub(crate) fn set_send_buffer(&self, bytes: usize) -> io::Result<()> {
        crate::sys::resource::set_send_buffer(self.socket(), bytes)
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

/// Writes to a socket within a deadline (see [`ClientStream::write_all_by`]).
pub(crate) struct DeadlineWriter<'a> {
    sock: &'a TcpStream,
    deadline: Instant,
    writes: u32,
    /// The timeout to put back when done, once it was changed.
    restore: Option<Option<Duration>>,
}

impl Write for DeadlineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.writes > 0 {
            let left = self
                .deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .ok_or_else(|| io::Error::from(io::ErrorKind::TimedOut))?;
            if self.restore.is_none() {
                self.restore = Some(self.sock.write_timeout()?);
            }
            self.sock.set_write_timeout(Some(left))?;
        }
        self.writes += 1;
        (&*self.sock).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for DeadlineWriter<'_> {
    fn drop(&mut self) {
        if let Some(t) = self.restore {
            let _ = self.sock.set_write_timeout(t);
        }
    }
}
