//! Ports of the servers tests start as processes: each is started on port 0 and found on the
//! port the OS gave it, so no test races another for a port number chosen in advance (binding
//! a port, closing it and handing its number to a process lets another test take it between).

// Shared by the integration tests and the unit tests that include the pypiserver harness:
// each uses part of it.
#![allow(dead_code)]

use std::collections::HashSet;
use std::process::Child;
use std::time::{Duration, Instant};

/// A port nothing listens on right now (the OS picks it; the listener is dropped at once): for
/// a server that must be unreachable, or one that cannot be started on port 0.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// The TCP port process `pid` listens on (`None` while it listens on none; the first of them
/// when it listens on several).
pub fn listening_port(pid: u32) -> Option<u16> {
    listening_ports(pid).into_iter().next()
}

/// The TCP ports process `pid` listens on, read from `/proc`: the sockets among its open
/// files, matched with the listening sockets of the system.
pub fn listening_ports(pid: u32) -> Vec<u16> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    let sockets: HashSet<String> = fds
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_str()?;
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_owned(),
            )
        })
        .collect();
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|table| {
            table
                .lines()
                .skip(1)
                .filter_map(|line| {
                    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    let (local, state, inode) = (fields.get(1)?, fields.get(3)?, fields.get(9)?);
                    // 0A: LISTEN.
                    if *state != "0A" || !sockets.contains(*inode) {
                        return None;
                    }
                    u16::from_str_radix(local.rsplit_once(':')?.1, 16).ok()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Wait until `child` (`what`, for messages) listens, and return its port. It exiting first,
/// or not listening within 30 seconds, fails the test with `log()`.
pub fn wait_for_port(child: &mut Child, what: &str, log: impl Fn() -> String) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited with {status} before listening:\n{}", log());
        }
        if let Some(port) = listening_port(child.id()) {
            return port;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not listen within 30 seconds:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn a_server_on_port_0_is_found_on_the_port_it_got() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    assert!(listening_ports(std::process::id()).contains(&port));
    drop(listener);
    assert!(!listening_ports(std::process::id()).contains(&port));
}
