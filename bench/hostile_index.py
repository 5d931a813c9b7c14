#!/usr/bin/env python3
"""Peak memory of `repin check` against hostile package indexes (issue 10, item 8).

Each case serves, from a loopback HTTP server started here, index pages shaped to make a
client use memory, and runs `/usr/bin/time -v repin check` on a generated repository that
asks for them; it prints the peak RSS (and wall time) of each case as Markdown.

Cases:
- versions-json: one project page (PEP 691 JSON) listing 100,000 versions (about 26 MB);
- versions-html: the same as a PEP 503 HTML page;
- wheels-json: 75,000 wheels with long platform tags and metadata hashes (about 33 MB, just under
  the 32 MiB page limit);
- big-html / big-json: one page of about 62 MiB (a quarter of a million files), above the page
  limit;
- streams-4 / streams-16: 4 or 16 packages whose pages never end (2 GiB each, sent as fast as
  the client reads them).

With `--lock-into NAME`, each case runs `repin lock requirements.in -o NAME` instead (the
requirements as an input, with a cache): `pylock.toml` keeps the files of the pages it reads,
`requirements.txt` does not.

Python 3.11 standard library only. The server listens on 127.0.0.1 on a free port and stops
when the script ends. Usage: `python3 bench/hostile_index.py [--repin PATH] [--cases a,b]
[--lock-into pylock.toml]`.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import re
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEX = "0123456789abcdef" * 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def json_page(name: str, count: int, pad: int = 0) -> bytes:
    files = []
    for i in range(count):
        version = f"1.{i // 1000}.{i % 1000}"
        filename = f"{name}-{version}.tar.gz"
        files.append(
            {
                "filename": filename,
                "url": f"https://files.example/packages/{i % 97:02x}/{i % 89:02x}/{filename}"
                + ("#" + "p" * pad if pad else ""),
                "hashes": {"sha256": (HEX + f"{i:08x}")[-64:]},
                "requires-python": ">=3.8",
                "yanked": False,
                "upload-time": "2024-01-01T00:00:00.000000Z",
            }
        )
    return json.dumps(
        {"meta": {"api-version": "1.1"}, "name": name, "files": files}
    ).encode()


def wheels_page(name: str, count: int) -> bytes:
    """JSON page of `count` wheels with long platform tags and core-metadata hashes."""
    files = []
    for i in range(count):
        version = f"2.{i // 1000}.{i % 1000}"
        filename = f"{name}-{version}-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
        files.append(
            {
                "filename": filename,
                "url": f"https://files.example/p/{i % 97:02x}/{filename}",
                "hashes": {"sha256": (HEX + f"{i:08x}")[-64:]},
                "requires-python": ">=3.12",
                "core-metadata": {"sha256": (HEX + f"{i:08x}")[-64:]},
                "yanked": False,
            }
        )
    return json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": files}).encode()


def html_page(name: str, count: int, pad: int = 0) -> bytes:
    lines = ["<!DOCTYPE html><html><body>"]
    for i in range(count):
        version = f"1.{i // 1000}.{i % 1000}"
        filename = f"{name}-{version}.tar.gz"
        sha = (HEX + f"{i:08x}")[-64:]
        lines.append(
            f'<a href="https://files.example/packages/{i % 97:02x}/{filename}#sha256={sha}"'
            f' data-requires-python="&gt;=3.8"{" data-x=" + chr(34) + "p" * pad + chr(34) if pad else ""}>'
            f"{filename}</a><br/>"
        )
    lines.append("</body></html>")
    return "\n".join(lines).encode()


class Pages:
    """What the server answers: fixed bodies by path, or endless streams."""

    def __init__(self) -> None:
        self.bodies: dict[str, tuple[str, bytes]] = {}
        self.endless: set[str] = set()


def serve(pages: Pages) -> tuple[socketserver.ThreadingTCPServer, int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path in pages.endless:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Connection", "close")
                self.end_headers()
                chunk = (b'<a href="x-1.0.tar.gz">x</a>\n' * 2048)
                sent = 0
                try:
                    while sent < 2 * 1024**3:
                        self.wfile.write(chunk)
                        sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return
            if path not in pages.bodies:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            content_type, body = pages.bodies[path]
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    port = free_port()
    server = Server(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, port


JSON = "application/vnd.pypi.simple.v1+json"
HTML = "text/html"


def case_pages(case: str) -> tuple[Pages, list[str]]:
    pages = Pages()
    if case == "versions-json":
        pages.bodies["/simple/victim/"] = (JSON, json_page("victim", 100_000))
        return pages, ["victim"]
    if case == "versions-html":
        pages.bodies["/simple/victim/"] = (HTML, html_page("victim", 100_000))
        return pages, ["victim"]
    if case == "wheels-json":
        pages.bodies["/simple/victim/"] = (JSON, wheels_page("victim", 75_000))
        return pages, ["victim"]
    if case == "big-json":
        pages.bodies["/simple/victim/"] = (JSON, json_page("victim", 215_000))
        return pages, ["victim"]
    if case == "big-html":
        pages.bodies["/simple/victim/"] = (HTML, html_page("victim", 250_000, pad=40))
        return pages, ["victim"]
    match = re.fullmatch(r"streams-(\d+)", case)
    if match:
        names = [f"stream{i}" for i in range(int(match.group(1)))]
        for n in names:
            pages.endless.add(f"/simple/{n}/")
        return pages, names
    raise SystemExit(f"unknown case {case}")


def run_case(repin: Path, case: str, lock_into: str | None = None) -> dict:
    pages, names = case_pages(case)
    sizes = [len(b) for _, b in pages.bodies.values()]
    server, port = serve(pages)
    if lock_into and case == "versions-json":
        # The pinned release's metadata is served here (PEP 658), so the lock gets as far as
        # writing: a `pylock.toml` then lists that release's files.
        content_type, body = pages.bodies["/simple/victim/"]
        far = b'"url": "https://files.example/packages/00/00/victim-1.0.0.tar.gz"'
        near = f'"core-metadata": true, "url": "http://127.0.0.1:{port}/files/victim-1.0.0.tar.gz"'
        pages.bodies["/simple/victim/"] = (content_type, body.replace(far, near.encode(), 1))
        pages.bodies["/files/victim-1.0.0.tar.gz.metadata"] = (
            "text/plain",
            b"Metadata-Version: 2.2\nName: victim\nVersion: 1.0.0\n",
        )
    try:
        with tempfile.TemporaryDirectory() as work:
            repo = Path(work, "repo")
            repo.mkdir()
            lines = [f"--index-url http://127.0.0.1:{port}/simple/"]
            lines += [f"{n}==1.0.0" for n in names]
            manifest = "requirements.in" if lock_into else "requirements.txt"
            (repo / manifest).write_text("\n".join(lines) + "\n")
            (repo / "repin.toml").write_text('[advisories]\nsource = "off"\n')
            home = Path(work, "home")
            home.mkdir()
            env = {
                "HOME": str(home),
                "PATH": os.environ.get("PATH", ""),
                "PIP_CONFIG_FILE": "/dev/null",
            }
            started = time.monotonic()
            command = (
                ["lock", str(repo / manifest), "-o", str(repo / lock_into), "--python", "3.12"]
                if lock_into
                else ["check", "--no-cache", str(repo)]
            )
            out = subprocess.run(
                ["/usr/bin/time", "-v", str(repin), *command],
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
            )
            wall = time.monotonic() - started
            rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)
            return {
                "case": case,
                "page_mb": round(max(sizes) / 1e6, 1) if sizes else None,
                "peak_mib": round(int(rss.group(1)) / 1024, 1) if rss else None,
                "wall_s": round(wall, 2),
                "exit": out.returncode,
                "last_line": (out.stdout.strip().splitlines() or [""])[-1][:160],
                "stderr": out.stderr.split("\tCommand being timed")[0].strip()[-300:],
            }
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repin", type=Path, default=ROOT / "target/release/repin")
    parser.add_argument(
        "--cases",
        default="versions-json,versions-html,wheels-json,big-json,big-html,streams-4,streams-16",
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--lock-into", help="run `repin lock` into this file name instead")
    args = parser.parse_args()
    if not args.repin.is_file():
        raise SystemExit(f"{args.repin} is missing: cargo build --release (or pass --repin)")
    results = []
    print("| case | page | peak RSS | wall | exit | last line |")
    print("|---|---|---|---|---|---|")
    for case in args.cases.split(","):
        print(f"[hostile-index] {case}", file=sys.stderr, flush=True)
        r = run_case(args.repin, case, args.lock_into)
        results.append(r)
        page = f"{r['page_mb']} MB" if r["page_mb"] else "endless"
        print(
            f"| {r['case']} | {page} | {r['peak_mib']} MiB | {r['wall_s']} s | {r['exit']} | {r['last_line']} |",
            flush=True,
        )
        if r["stderr"]:
            print(f"[hostile-index] stderr: {r['stderr']}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
