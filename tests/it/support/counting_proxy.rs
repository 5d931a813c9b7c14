//! A TCP relay on loopback that counts the bytes a server sends back, to assert how much a
//! command downloaded. It forwards every connection to the target unchanged (so HTTP, keep-alive
//! and ranges behave exactly as the server makes them) and stops when dropped.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;

/// A counting relay to one loopback port.
pub struct CountingProxy {
    port: u16,
    received: Arc<AtomicU64>,
    /// Connections whose server side is still relaying.
    open: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

fn pump(mut from: TcpStream, mut to: TcpStream, counter: Option<Arc<AtomicU64>>) {
    let mut buffer = [0u8; 64 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if let Some(counter) = &counter {
                    counter.fetch_add(n as u64, Ordering::Relaxed);
                }
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

impl CountingProxy {
    /// Relay a free loopback port to `127.0.0.1:target`.
    pub fn start(target: u16) -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("an address").port();
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let received = Arc::new(AtomicU64::new(0));
        let open = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (counter, stopping, relaying) = (received.clone(), stop.clone(), open.clone());
        let accept = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                };
                let _ = client.set_nonblocking(false);
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let (Ok(client_read), Ok(server_read)) = (client.try_clone(), server.try_clone())
                else {
                    continue;
                };
                let counter = counter.clone();
                let relaying = relaying.clone();
                relaying.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || pump(client_read, server, None));
                std::thread::spawn(move || {
                    pump(server_read, client, Some(counter));
                    relaying.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        CountingProxy {
            port,
            received,
            open,
            stop,
            accept: Some(accept),
        }
    }

    /// The port to connect to instead of the target's.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Bytes the target has sent back so far (HTTP headers included).
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// [`CountingProxy::received`] once every relayed connection has ended (at most 30 s): a
    /// client that exited may leave a response it abandoned still flowing from the server, and
    /// a quiet moment alone proves nothing on a loaded machine.
    pub fn settled(&self) -> u64 {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while self.open.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        self.received()
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}
