//! A PEP 691 index whose upload times are the files' modification times: the distribution
//! files of a directory served by Python's own `http.server` on loopback, each project page as
//! PEP 691 JSON with PEP 700 `upload-time` when the client asks for JSON (repin, uv, pip), and
//! as PEP 503 HTML otherwise (Poetry), the way PyPI negotiates. pypiserver's pages carry no
//! upload time, so the tests of the minimum release age set a file's time and serve it here.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use super::pypiserver::python;

/// The server: `python -c SERVER DIR`, on port 0.
const SERVER: &str = r#"
import datetime, hashlib, html, json, os, re, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

ROOT = sys.argv[1]
JSON = "application/vnd.pypi.simple.v1+json"

def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()

def project_of(filename):
    base = filename[: -len(".tar.gz")] if filename.endswith(".tar.gz") else filename
    return norm(base.split("-")[0])

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, code, kind, body):
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    # uv asks a file's size before reading it (without `Accept-Ranges`, it reads it whole).
    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = unquote(self.path.split("?")[0])
        parts = [p for p in path.split("/") if p]
        if len(parts) == 2 and parts[0] == "files":
            file = os.path.join(ROOT, os.path.basename(parts[1]))
            if os.path.isfile(file):
                with open(file, "rb") as f:
                    return self.send(200, "application/octet-stream", f.read())
        if len(parts) == 2 and parts[0] == "simple":
            name = norm(parts[1])
            files = sorted(f for f in os.listdir(ROOT) if project_of(f) == name)
            if files:
                return self.page(name, files)
        self.send(404, "text/plain", b"Not Found")

    def page(self, name, files):
        entries = []
        for f in files:
            full = os.path.join(ROOT, f)
            with open(full, "rb") as data:
                digest = hashlib.sha256(data.read()).hexdigest()
            uploaded = datetime.datetime.fromtimestamp(os.path.getmtime(full), datetime.timezone.utc)
            entries.append((f, digest, uploaded.strftime("%Y-%m-%dT%H:%M:%S.%fZ")))
        if JSON in self.headers.get("Accept", ""):
            body = {
                "meta": {"api-version": "1.1"},
                "name": name,
                "files": [
                    {"filename": f, "url": "../../files/" + f, "hashes": {"sha256": d}, "upload-time": t}
                    for f, d, t in entries
                ],
            }
            return self.send(200, JSON, json.dumps(body).encode())
        anchors = "".join(
            '<a href="../../files/{0}#sha256={1}">{0}</a><br/>\n'.format(html.escape(f), d)
            for f, d, _ in entries
        )
        body = "<!DOCTYPE html>\n<html><body>\n" + anchors + "</body></html>\n"
        self.send(200, "text/html", body.encode())

ThreadingHTTPServer(("127.0.0.1", 0), Handler).serve_forever()
"#;

/// A running index of a directory's files; the server is killed when dropped.
pub struct JsonIndex {
    child: Child,
    port: u16,
}

impl JsonIndex {
    /// Serve the distribution files of `dir` (wheels and sdists, flat).
    pub fn start(dir: &Path) -> JsonIndex {
        let mut child = Command::new(python())
            .args(["-c", SERVER])
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "`{}` does not start the index: {e}\n  hint: install Python 3, or set REPIN_PYTHON",
                    python()
                )
            });
        let port = super::ports::wait_for_port(&mut child, "the PEP 691 index", String::new);
        JsonIndex { child, port }
    }

    /// `http://127.0.0.1:PORT/simple/`.
    pub fn index_url(&self) -> String {
        format!("http://127.0.0.1:{}/simple/", self.port)
    }
}

impl Drop for JsonIndex {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Make `file` look uploaded `days` days ago to [`JsonIndex`].
pub fn uploaded_days_ago(file: &Path, days: u64) {
    let when = SystemTime::now() - Duration::from_secs(days * 86_400);
    std::fs::File::options()
        .write(true)
        .open(file)
        .and_then(|f| f.set_modified(when))
        .unwrap_or_else(|e| panic!("cannot set the time of {}: {e}", file.display()));
}
