//! `repin lock` reading a wheel larger than the HTTP body limit (64 MiB) from a real
//! pypiserver with range requests, every byte counted by a relay in front of the server; then
//! a warm run and an `--offline` run answering from the cache without a byte.

use crate::support;

use std::io::Write;
use std::path::Path;
use std::process::Output;

use support::counting_proxy::CountingProxy;
use support::pypiserver::{Meta, PypiServer, write_wheel_with};

/// A wheel of `payload` bytes whose `METADATA` is its first member (far from the end, so it
/// takes a second range request) and has a `License:` with whitespace-only continuation lines
/// before its `Requires-Dist`, as real wheels do.
fn big_wheel(dir: &Path, payload: usize) {
    let path = dir.join("bigwheel-1.0-py3-none-any.whl");
    let file = std::fs::File::create(&path).unwrap();
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("bigwheel-1.0.dist-info/METADATA", deflated)
        .unwrap();
    zip.write_all(
        b"Metadata-Version: 2.1\nName: bigwheel\nVersion: 1.0\nLicense: Terms of a test.\n        \n        Second paragraph.\n        \nRequires-Python: >=3.8\nRequires-Dist: smalldep>=1\n\nA description.\n",
    )
    .unwrap();
    zip.start_file("bigwheel/payload.bin", stored).unwrap();
    let chunk: Vec<u8> = (0..1_048_576u32).map(|i| (i % 253) as u8).collect();
    let mut left = payload;
    while left > 0 {
        let n = left.min(chunk.len());
        zip.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    zip.start_file("bigwheel-1.0.dist-info/RECORD", stored)
        .unwrap();
    zip.finish().unwrap().flush().unwrap();
}

fn repin(dir: &Path, home: &Path, args: &[&str]) -> Output {
    support::repin_in(dir, home, args, &[])
}

#[test]
fn a_wheel_larger_than_the_body_limit_is_read_by_ranges_and_cached() {
    let packages = tempfile::tempdir().unwrap();
    big_wheel(packages.path(), 70 * 1024 * 1024);
    write_wheel_with(packages.path(), "smalldep", "1.2", &Meta::default());
    let server = PypiServer::start(packages.path());
    let proxy = CountingProxy::start(server.port());
    let work = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("requirements.in"),
        format!("-i http://127.0.0.1:{}/simple/\nbigwheel\n", proxy.port()),
    )
    .unwrap();
    let args = ["lock", "requirements.in", "--python", "3.11"];

    let cold = repin(work.path(), home.path(), &args);
    let stderr = String::from_utf8_lossy(&cold.stderr);
    assert!(cold.status.success(), "{stderr}");
    let lock = std::fs::read_to_string(work.path().join("requirements.txt")).unwrap();
    assert!(lock.contains("\nbigwheel==1.0 \\\n"), "{lock}");
    assert!(
        lock.contains("\nsmalldep==1.2 \\\n"),
        "the Requires-Dist after the License is read: {lock}"
    );
    let cold_bytes = proxy.settled();
    assert!(
        cold_bytes < 512 * 1024,
        "{cold_bytes} bytes downloaded to lock a 70 MiB wheel\n{}",
        server.log()
    );
    assert!(cold_bytes > 0);

    // Warm, within the pages' 10 minutes: not a byte from the index.
    std::fs::remove_file(work.path().join("requirements.txt")).unwrap();
    let warm = repin(work.path(), home.path(), &args);
    assert!(
        warm.status.success(),
        "{}",
        String::from_utf8_lossy(&warm.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(work.path().join("requirements.txt")).unwrap(),
        lock
    );
    assert_eq!(proxy.settled(), cold_bytes, "a warm run downloads nothing");

    // Offline, with the index gone: the same lock.
    drop(proxy);
    drop(server);
    std::fs::remove_file(work.path().join("requirements.txt")).unwrap();
    let mut offline_args = args.to_vec();
    offline_args.push("--offline");
    let offline = repin(work.path(), home.path(), &offline_args);
    assert!(
        offline.status.success(),
        "{}",
        String::from_utf8_lossy(&offline.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(work.path().join("requirements.txt")).unwrap(),
        lock
    );
}
