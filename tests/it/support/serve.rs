//! `repin serve` as the tests start it: on `--listen 127.0.0.1:0`, the port the OS picks (bound
//! once, by the server itself, so no other process can take it between a probe and the start),
//! read back from the server's `listening on` log line.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

/// The base URL (`http://127.0.0.1:PORT`) of the `repin serve` process `child`, once its log
/// file `log` says where it listens; fails if it exits or says nothing within 60 s.
pub fn listening(child: &mut Child, log: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(address) = text.lines().find_map(|line| {
            let (_, rest) = line.split_once("listening on http://")?;
            rest.split_whitespace().next()
        }) {
            return format!("http://{address}");
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("repin serve exited ({status}) before listening:\n{text}");
        }
        assert!(
            Instant::now() < deadline,
            "repin serve did not say where it listens:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
