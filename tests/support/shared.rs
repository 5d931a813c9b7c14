//! Test helpers shared by unit tests (as `crate::testing`) and integration tests (as
//! `support::shared`): the real-world corpus, and a strict in-process HTTP server.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The real-world corpus (`REPIN_CORPUS`, default `../shared/corpus`), without `..` in it.
/// In CI a missing corpus fails the test; elsewhere the test is skipped with a visible message.
pub fn corpus() -> Option<PathBuf> {
    let path = std::env::var_os("REPIN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if path.is_dir() {
        return Some(path.canonicalize().unwrap_or(path));
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the corpus is missing at {} (set REPIN_CORPUS)",
        path.display()
    );
    eprintln!(
        "SKIPPED: the corpus is not at {} (set REPIN_CORPUS to run this test)",
        path.display()
    );
    None
}

/// An in-process HTTP server (wiremock) that fails the test, when dropped, if it received a
/// request no mock expected: the doubles of services that cannot be reached here (OSV, GitHub,
/// edge cases of PyPI and registries) answer only what the test declared.
pub async fn strict_server() -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(599))
        .with_priority(u8::MAX)
        .expect(0)
        .named("unexpected request")
        .mount(&server)
        .await;
    server
}
