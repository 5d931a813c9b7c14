//! A static PEP 503 index: wheel files and `simple/<name>/index.html` pages written to a
//! directory and served by Python's own `http.server` on loopback, as a static index is
//! hosted on any web server. Unlike pypiserver's pages, these carry `data-requires-python` and
//! `data-yanked` (PEP 503, PEP 592), which the tests of targets and yanks need.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::pypiserver::{python, sha256_hex, write_wheel};

/// One release of the index: name, version, `Requires-Python`, yank reason.
pub type Release<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>);

/// A running static index; the server is killed when dropped.
pub struct StaticIndex {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl StaticIndex {
    /// Write a wheel of every release and the index pages, and serve them.
    pub fn start(releases: &[Release]) -> StaticIndex {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let files = dir.path().join("files");
        std::fs::create_dir_all(&files).unwrap();
        let mut pages: std::collections::BTreeMap<String, String> = Default::default();
        for (name, version, requires_python, yanked) in releases {
            let wheel = write_wheel(&files, &name.replace('-', "_"), version, *requires_python);
            let file = wheel.file_name().unwrap().to_str().unwrap().to_owned();
            let hash = sha256_hex(&std::fs::read(&wheel).unwrap());
            let mut anchor = format!("<a href=\"../../files/{file}#sha256={hash}\"");
            if let Some(rp) = requires_python {
                anchor.push_str(&format!(" data-requires-python=\"{}\"", escape(rp)));
            }
            if let Some(reason) = yanked {
                anchor.push_str(&format!(" data-yanked=\"{}\"", escape(reason)));
            }
            anchor.push_str(&format!(">{file}</a><br/>\n"));
            pages
                .entry(name.to_lowercase())
                .or_default()
                .push_str(&anchor);
        }
        for (name, anchors) in &pages {
            let page = dir.path().join("simple").join(name);
            std::fs::create_dir_all(&page).unwrap();
            std::fs::write(
                page.join("index.html"),
                format!("<!DOCTYPE html>\n<html><body>\n{anchors}</body></html>\n"),
            )
            .unwrap();
        }
        StaticIndex::serve(dir)
    }

    fn serve(dir: tempfile::TempDir) -> StaticIndex {
        let mut child = Command::new(python())
            // Port 0: the OS gives it one, found below (see `support::ports`).
            .args(["-m", "http.server", "0", "--bind", "127.0.0.1"])
            .arg("--directory")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "`{} -m http.server` does not start: {e}\n  hint: install Python 3, or set REPIN_PYTHON",
                    python()
                )
            });
        let port = super::ports::wait_for_port(&mut child, "`python -m http.server`", String::new);
        StaticIndex {
            child,
            port,
            _dir: dir,
        }
    }

    /// `http://127.0.0.1:PORT/simple/`.
    pub fn index_url(&self) -> String {
        format!("http://127.0.0.1:{}/simple/", self.port)
    }

    /// Where the files are, for tests that look at them.
    pub fn root(&self) -> &Path {
        self._dir.path()
    }
}

impl Drop for StaticIndex {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
