#!/usr/bin/env python3
"""What one bot worker does per hour, and what a run costs GitHub (issue 14).

A worker of `repin serve` makes one run at a time: `repin pr --clone` for one repository. This
script makes such runs against servers on 127.0.0.1 and reports, for repositories with N
outdated pins (each its own pull request):

- the wall time of a run that opens the N pull requests and the dashboard ("updates"), and of
  the next run, with nothing new ("no change"), median of --runs runs each, as jobs per hour
  per worker (3600 s over the median);
- the GitHub API requests of each kind of run, as N grows (how the calls per repository grow
  with the number of open pull requests).

The servers: the repositories are bare git repositories served by `git daemon` (a fresh
shallow clone each run, as against GitHub), the index is bench/run.py's in-process static
PEP 691/503 index, and GitHub is a stand-in in this script that answers the REST endpoints
repin uses as GitHub documents them (pulls, issues, labels, comments, search) and counts the
requests. GitHub's own latency is not modelled: against github.com each request costs a round
trip more, so the request counts matter as much as the times.

    cargo build --release
    python3 bench/serve.py                      # N = 1, 5, 10, 20; 5 runs each
    python3 bench/serve.py --pins 1,10 --runs 3

Python 3.11's standard library and git are all it needs.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import StaticIndex, free_port  # noqa: E402

OWNER, NAME = "acme", "service"
TOKEN = "ghs_benchtoken"


class GitHub:
    """The REST endpoints `repin pr` uses, for one repository, counting requests."""

    def __init__(self, remote: Path):
        self.remote = remote
        self.pulls: dict[int, dict] = {}
        self.issues: dict[int, dict] = {}
        self.next = 1
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.server = None

    def pull_json(self, p: dict) -> dict:
        return {"number": p["number"], "state": p["state"], "title": p["title"],
                "body": p["body"], "head": {"ref": p["head"]}, "base": {"ref": p["base"]},
                "labels": [{"name": l} for l in p["labels"]],
                "html_url": f"https://github.example/{OWNER}/{NAME}/pull/{p['number']}",
                "created_at": p["created_at"], "merged_at": None, "user": {"login": "bot"}}

    def issue_json(self, i: dict) -> dict:
        return {"number": i["number"], "state": i["state"], "title": i["title"],
                "body": i["body"],
                "html_url": f"https://github.example/{OWNER}/{NAME}/issues/{i['number']}"}

    def handle(self, method: str, target: str, body: dict | None):
        url = urllib.parse.urlsplit(target)
        q = dict(urllib.parse.parse_qsl(url.query))
        path = url.path
        base = f"/repos/{OWNER}/{NAME}"
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if method == "GET" and path == "/search/issues":
            phrase = re.search(r'"([^"]*)"', q.get("q", ""))
            items = [self.issue_json(i) for i in self.issues.values()
                     if i["state"] == "closed" and phrase
                     and phrase.group(1).lower() in i["title"].lower()]
            return 200, {"total_count": len(items), "incomplete_results": False, "items": items}
        if not path.startswith(base):
            return 404, {"message": "Not Found"}
        rest = [s for s in path[len(base):].split("/") if s]
        if method == "GET" and rest == []:
            return 200, {"default_branch": "main", "full_name": f"{OWNER}/{NAME}"}
        if method == "GET" and rest == ["pulls"]:
            state, head = q.get("state", "open"), q.get("head")
            items = [self.pull_json(p) for p in reversed(self.pulls.values())
                     if p["state"] == state and (head is None or head == f"{OWNER}:{p['head']}")]
            return 200, items
        if method == "POST" and rest == ["pulls"]:
            n = self.next
            self.next += 1
            self.pulls[n] = {"number": n, "state": "open", "title": body["title"],
                             "body": body.get("body", ""), "head": body["head"],
                             "base": body["base"], "labels": [], "created_at": now}
            return 201, self.pull_json(self.pulls[n])
        if method == "PATCH" and len(rest) == 2 and rest[0] == "pulls":
            p = self.pulls[int(rest[1])]
            p.update({k: body[k] for k in ("title", "body", "state") if k in body})
            return 200, self.pull_json(p)
        if method == "POST" and len(rest) == 3 and rest[2] == "labels":
            p = self.pulls[int(rest[1])]
            p["labels"] += [l for l in body["labels"] if l not in p["labels"]]
            return 200, [{"name": l} for l in p["labels"]]
        if method == "POST" and len(rest) == 3 and rest[2] == "comments":
            return 201, {"id": 1, "body": body["body"]}
        if method == "GET" and rest == ["issues"]:
            items = [self.issue_json(i) for i in self.issues.values() if i["state"] == "open"]
            items += [self.pull_json(p) | {"pull_request": {}} for p in self.pulls.values()
                      if p["state"] == "open"]
            return 200, items
        if method == "POST" and rest == ["issues"]:
            n = self.next
            self.next += 1
            self.issues[n] = {"number": n, "state": "open", "title": body["title"],
                              "body": body.get("body", "")}
            return 201, self.issue_json(self.issues[n])
        if method == "PATCH" and len(rest) == 2 and rest[0] == "issues":
            i = self.issues[int(rest[1])]
            i.update({k: body[k] for k in ("title", "body", "state") if k in body})
            return 200, self.issue_json(i)
        return 404, {"message": "Not Found"}

    def start(self) -> None:
        github = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def any(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                with github.lock:
                    github.requests.append(f"{self.command} {self.path}")
                    status, reply = github.handle(self.command, self.path,
                                                  json.loads(raw) if raw else None)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = any

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def git(cwd: Path, *args: str) -> None:
    env = os.environ | {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
                        "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
                        "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


class GitDaemon:
    def __init__(self, base: Path):
        self.port = free_port()
        exec_path = subprocess.run(["git", "--exec-path"], capture_output=True, text=True,
                                   check=True).stdout.strip()
        self.proc = subprocess.Popen(
            [str(Path(exec_path) / "git-daemon"), "--reuseaddr", "--export-all",
             "--enable=receive-pack", "--listen=127.0.0.1", f"--port={self.port}",
             f"--base-path={base}", str(base)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("git daemon did not start")

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def repository(root: Path, index: StaticIndex, pins: int) -> Path:
    """A bare repository whose requirements.txt pins `pins` packages one release behind."""
    work = root / f"work{pins}"
    bare = root / f"service{pins}.git"
    git(root, "init", "-q", "--bare", "-b", "main", bare.name)
    git(root, "clone", "-q", bare.name, work.name)
    git(work, "checkout", "-q", "-b", "main")
    (work / "repin.toml").write_text(
        f'[python]\nversion = "3.12"\n\n[[indexes]]\nurl = "{index.index_url}"\nprimary = true\n\n'
        f'[advisories]\nsource = "off"\n\n[pull-requests]\nmax-open = 1000\n')
    (work / "requirements.txt").write_text(
        "".join(f"bench-pkg-{i}==1.0.0\n" for i in range(pins)))
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "Initial commit")
    git(work, "push", "-q", "origin", "main")
    shutil.rmtree(work)
    return bare


def run(repin: str, github: GitHub, url: str, home: Path) -> tuple[float, list[str], str]:
    """One `repin pr --clone`: its wall time, the GitHub requests it made, its report."""
    before = len(github.requests)
    env = {"HOME": str(home), "PATH": os.environ["PATH"], "PIP_CONFIG_FILE": "/dev/null",
           "GITHUB_TOKEN": TOKEN, "REPIN_CACHE_DIR": str(home / "cache")}
    start = time.monotonic()
    out = subprocess.run([repin, "--color", "never", "pr", "--clone", "--repo",
                          f"{OWNER}/{NAME}", "--api-url", github.url, "--remote", url],
                         env=env, capture_output=True, text=True)
    took = time.monotonic() - start
    if out.returncode != 0:
        raise RuntimeError(f"repin pr failed:\n{out.stdout}\n{out.stderr}")
    return took, github.requests[before:], out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repin", default="target/release/repin")
    parser.add_argument("--pins", default="1,5,10,20",
                        help="outdated pins (pull requests) per repository, comma-separated")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    repin = str(Path(args.repin).resolve())
    if not Path(repin).is_file():
        sys.exit(f"bench/serve.py: no repin binary at {repin}: run `cargo build --release`")
    sizes = [int(n) for n in args.pins.split(",")]
    root = Path(tempfile.mkdtemp(prefix="repin-bench-serve-"))
    index = StaticIndex(root)
    uploaded = time.time() - 30 * 86400
    for i in range(max(sizes)):
        for version in ("1.0.0", "1.1.0"):
            filename = f"bench_pkg_{i}-{version}-py3-none-any.whl"
            index.add(f"bench-pkg-{i}", filename, f"{filename}\n".encode(), ">=3.8", uploaded)
    index.start()
    daemon = GitDaemon(root)
    rows = []
    try:
        for pins in sizes:
            updates, quiet, calls_update, calls_quiet = [], [], [], []
            for n in range(args.runs):
                bare = repository(root, index, pins) if n == 0 else bare
                # A fresh repository and GitHub for each "updates" run; the "no change" run
                # follows it on the same state.
                fresh = root / f"run{pins}-{n}.git"
                shutil.copytree(bare, fresh)
                github = GitHub(fresh)
                github.start()
                home = root / f"home{pins}-{n}"
                home.mkdir()
                url = f"git://127.0.0.1:{daemon.port}/{fresh.name}"
                took, calls, report = run(repin, github, url, home)
                if f"{pins} created" not in report:
                    raise RuntimeError(f"expected {pins} pull requests:\n{report}")
                updates.append(took)
                calls_update.append(len(calls))
                took, calls, report = run(repin, github, url, home)
                if f"{pins} unchanged" not in report:
                    raise RuntimeError(f"expected nothing to change:\n{report}")
                quiet.append(took)
                calls_quiet.append(len(calls))
                github.stop()
            rows.append((pins, statistics.median(updates), statistics.median(quiet),
                         statistics.median(calls_update), statistics.median(calls_quiet)))
            print(f"bench/serve.py: {pins} pins done", file=sys.stderr)
    finally:
        daemon.stop()
        index.stop()
        shutil.rmtree(root, ignore_errors=True)
    print("| open pull requests | run with updates | jobs/h/worker | GitHub requests "
          "| run with no change | jobs/h/worker | GitHub requests |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for pins, update, quiet, c_update, c_quiet in rows:
        print(f"| {pins} | {update:.2f} s | {3600 / update:.0f} | {c_update:.0f} "
              f"| {quiet:.2f} s | {3600 / quiet:.0f} | {c_quiet:.0f} |")


if __name__ == "__main__":
    main()
