#!/usr/bin/env python3
"""repin's image-scan benchmark (issue 16): time and bytes read per image, cold and warm cache.

Synthetic images are pushed to a local Distribution registry (`docker-registry`, as in the
tests): layers are gzipped tars carrying real-format dpkg (`/var/lib/dpkg/status`,
`status.d/`) and apk (`/lib/apk/db/installed`) databases and `os-release`, among filler files
(compressible text, as real layers are) in the order `docker build` writes them (`usr/` before
`var/`), so a package database at the end of a big layer costs the whole layer. For each image,
`repin audit --images --format json` runs on a repository whose Dockerfile has that one `FROM`:

- cold: a new, empty cache directory each run;
- warm: the same cache directory again (layers are cached by digest).

Each run's wall time, the bytes of layer blobs the registry sent (from its access log, so not
repin's own count) and repin's JSON (`layers`: total, fetched, cached; `bytes_fetched`) are
recorded; the table shows medians. Python 3.11 standard library only. See bench/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import re
import shutil
import statistics
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, Registry, log, measure, sha256_hex  # noqa: E402

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OS_RELEASE_DEBIAN = (
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
    'VERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
)
OS_RELEASE_ALPINE = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\n'
WORDS = ("lib so usr share doc locale python site packages include bin x86_64 linux gnu "
         "copyright changelog gz README LICENSE config module test data cache").split()


def filler(rng: random.Random, size: int) -> bytes:
    """Text that compresses about as well as a real layer's files (3 to 4 times)."""
    out = io.StringIO()
    n = 0
    while n < size:
        line = " ".join(rng.choice(WORDS) for _ in range(8)) + f" {rng.getrandbits(32):08x}\n"
        out.write(line)
        n += len(line)
    return out.getvalue().encode()[:size]


def dpkg_status(packages: list[tuple[str, str, str]]) -> str:
    entries = []
    for name, source, version in packages:
        src = f"Source: {source}\n" if source else ""
        entries.append(
            f"Package: {name}\nStatus: install ok installed\nPriority: optional\n"
            f"Architecture: amd64\n{src}Version: {version}\nMaintainer: Debian <d@example.org>\n"
            f"Description: {name}\n the {name} package\n")
    return "\n".join(entries)


def apk_installed(packages: list[tuple[str, str, str]]) -> str:
    return "".join(f"C:Q1=\nP:{name}\nV:{version}\no:{origin or name}\n\n"
                   for name, origin, version in packages)


def debian_packages(n: int) -> list[tuple[str, str, str]]:
    fixed = [("base-files", "", "12.4+deb12u5"), ("libssl3", "openssl", "3.0.11-1~deb12u1"),
             ("openssl", "", "3.0.11-1~deb12u1"), ("zlib1g", "zlib", "1:1.2.13.dfsg-1")]
    return fixed + [(f"lib{i}pkg", f"src{i // 3}", f"1.{i}.0-1") for i in range(n - len(fixed))]


def layer(files: list[tuple[str, bytes | str]]) -> bytes:
    """A gzipped tar of `(path, content)`; content `->target` is a symlink."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path, content in files:
            info = tarfile.TarInfo(path)
            info.mtime = 1700000000
            if isinstance(content, str) and content.startswith("->"):
                info.type = tarfile.SYMTYPE
                info.linkname = content[2:]
                tar.addfile(info)
                continue
            data = content.encode() if isinstance(content, str) else content
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)


@dataclass
class Image:
    name: str            # bench/NAME in the registry
    tag: str
    what: str            # for the table
    layers: list[bytes]  # bottom first
    digest: str = ""
    config_size: int = 0

    @property
    def compressed(self) -> int:
        return sum(len(x) for x in self.layers)


def build_images(rng: random.Random, scale: float) -> list[Image]:
    mib = lambda n: int(n * scale * 1024 * 1024)  # noqa: E731
    status = dpkg_status(debian_packages(90))
    # Debian's base: the bulk under usr/, the database at the end, as docker writes it.
    debian_base = layer([
        ("etc/os-release", "->../usr/lib/os-release"),
        ("usr/lib/os-release", OS_RELEASE_DEBIAN),
        ("usr/lib/x86_64-linux-gnu/libbulk.so", filler(rng, mib(60))),
        ("usr/share/doc/bulk.txt", filler(rng, mib(20))),
        ("var/lib/dpkg/status", status),
    ])
    # python:3.12-slim's shape: apt packages (status rewritten), then Python, then pip.
    apt_layer = layer([
        ("usr/lib/x86_64-linux-gnu/libextra.so", filler(rng, mib(8))),
        ("var/lib/dpkg/status", dpkg_status(debian_packages(105))),
    ])
    python_layer = layer([("usr/local/lib/python3.12/stdlib.py", filler(rng, mib(40)))])
    pip_layer = layer([("usr/local/lib/python3.12/site-packages/pip.py", filler(rng, mib(8)))])
    app_layers = [layer([(f"app/part{i}.py", filler(rng, mib(0.5)))]) for i in range(16)]
    distroless = layer(
        [("etc/os-release", OS_RELEASE_DEBIAN),
         ("usr/lib/x86_64-linux-gnu/libc.so.6", filler(rng, mib(6)))]
        + [(f"var/lib/dpkg/status.d/{name}", dpkg_status([(name, src, ver)]))
           for name, src, ver in debian_packages(12)])
    alpine = layer([
        ("etc/os-release", OS_RELEASE_ALPINE),
        ("lib/apk/db/installed", apk_installed(
            [("alpine-release", "alpine-base", "3.20.3-r0"), ("libcrypto3", "openssl", "3.3.2-r0"),
             ("musl", "", "1.2.5-r0"), ("busybox", "", "1.36.1-r29")]
            + [(f"pkg{i}", "", f"1.{i}-r0") for i in range(12)])),
        ("usr/lib/libbulk.so", filler(rng, mib(7))),
    ])
    return [
        Image("alpine", "3.20", "alpine: 1 layer, apk", [alpine]),
        Image("distroless", "12", "distroless: 1 layer, status.d", [distroless]),
        Image("debian", "12-slim", "debian: 1 layer, dpkg at the end", [debian_base]),
        Image("python", "3.12-slim", "python-slim: 4 layers", [debian_base, apt_layer,
                                                              python_layer, pip_layer]),
        Image("app", "1.0", "app: python-slim + 16 layers",
              [debian_base, apt_layer, python_layer, pip_layer] + app_layers),
    ]


def push(registry: Registry, image: Image) -> None:
    repository = f"bench/{image.name}"
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": registry.push_blob(repository, config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": registry.push_blob(repository, data), "size": len(data)}
                   for data in image.layers],
    }).encode()
    image.config_size = len(config)
    image.digest = registry.push_manifest(repository, image.tag, OCI_MANIFEST, manifest)


def advisories(directory: Path) -> None:
    """A few OSV records in the schema's Debian and Alpine shape, so matching runs too."""
    directory.mkdir()
    records = [("DSA-5532-1", "Debian:12", "openssl", "3.0.11-1~deb12u2"),
               ("DEBIAN-CVE-2023-45853", "Debian:12", "zlib", None),
               ("ALPINE-CVE-2024-9143", "Alpine:v3.20", "openssl", "3.3.2-r1")]
    for id_, ecosystem, package, fixed in records:
        events = [{"introduced": "0"}] + ([{"fixed": fixed}] if fixed else [])
        (directory / f"{id_}.json").write_text(json.dumps({
            "schema_version": "1.6.0", "id": id_, "modified": "2024-10-16T00:00:00Z",
            "affected": [{"package": {"ecosystem": ecosystem, "name": package},
                          "ranges": [{"type": "ECOSYSTEM", "events": events}]}]}))


def access_log(registry: Registry) -> list[str]:
    return registry.log_path.read_text(errors="replace").splitlines()


def blob_bytes(lines: list[str]) -> tuple[int, int]:
    """Bytes sent for layer blobs and the number of blob requests, from access-log lines."""
    total = requests = 0
    for line in lines:
        m = re.search(r'"GET (/v2/\S+/blobs/\S+) HTTP/[\d.]+" (\d+) (\d+)', line)
        if m and m.group(2) in ("200", "206"):
            total += int(m.group(3))
            requests += 1
    return total, requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repin", default=str(ROOT / "target/release/repin"))
    parser.add_argument("--runs", type=int, default=5, help="runs per image and cache state")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="filler size factor (1: the debian layer is 80 MiB uncompressed)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    repin = Path(args.repin).resolve()
    if not repin.exists():
        sys.exit(f"{repin} not found: build it (cargo build --release) or pass --repin")
    if not Path("/usr/bin/time").exists():
        sys.exit("/usr/bin/time not found: apt-get install time")
    if not Path(Registry.BINARY).exists():
        sys.exit(f"{Registry.BINARY} not found: apt-get install docker-registry")
    work = Path(tempfile.mkdtemp(prefix="repin-image-bench-"))
    registry = Registry(work)
    try:
        registry.start()
        log("building and pushing the images")
        images = build_images(random.Random(20261206), args.scale)
        for image in images:
            push(registry, image)
        db = work / "osv"
        advisories(db)
        env = {"HOME": str(work / "home"), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"}
        (work / "home").mkdir()
        host = f"127.0.0.1:{registry.port}"
        rows = []
        for image in images:
            repo = work / f"repo-{image.name}"
            repo.mkdir()
            (repo / "Dockerfile").write_text(
                f"FROM {host}/bench/{image.name}:{image.tag}@{image.digest}\n")
            results = {"cold": [], "warm": []}
            for run in range(args.runs):
                cache = work / f"cache-{image.name}-{run}"
                for state in ("cold", "warm"):
                    seen = len(access_log(registry))
                    out, err = work / "out.json", work / "err.txt"
                    # Under /usr/bin/time: a child of this (large) Python process counts the
                    # parent's pages in its peak RSS until it execs; time's child does not.
                    m = measure(["/usr/bin/time", "-v", str(repin), "audit", "--images", "--format", "json",
                                 "--advisory-db", str(db), "--cache-dir", str(cache), "."],
                                repo, env, out, err, timeout=300)
                    if m.returncode not in (0, 1):
                        raise RuntimeError(f"repin exited {m.returncode}: {err.read_text()}")
                    entry = json.loads(out.read_text())["images"][0]
                    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                                    err.read_text())
                    if entry["unchecked"]:
                        raise RuntimeError(f"{image.name} not checked: {entry['unchecked']}")
                    sent, blob_requests = blob_bytes(access_log(registry)[seen:])
                    results[state].append({
                        "seconds": m.seconds, "rss_kib": int(rss.group(1)), "sent": sent,
                        "blob_requests": blob_requests, "layers": entry["layers"],
                        "bytes_fetched": entry["bytes_fetched"],
                        "packages": entry["packages"],
                        "cves": len({f["id"] for f in entry["vulnerabilities"]["findings"]}),
                    })
                shutil.rmtree(cache)
            rows.append((image, results))
            log(f"{image.name}: done")
    finally:
        registry.stop()
        if args.keep:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    def med(runs, key):
        return statistics.median(r[key] for r in runs)

    mib = 1024 * 1024
    print(f"repin audit --images, one image per run, median of {args.runs} runs "
          f"({time.strftime('%Y-%m-%d')}, {repin}):\n")
    print("| image | layers | compressed | packages | cold: time | read | blob requests "
          "| layers fetched | warm: time | read | layers cached | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for image, r in rows:
        cold, warm = r["cold"], r["warm"]
        total = cold[0]["layers"][0]
        print(f"| {image.what} | {total} | {image.compressed / mib:.1f} MiB "
              f"| {cold[0]['packages']} "
              f"| {med(cold, 'seconds'):.2f} s | {med(cold, 'sent') / mib:.2f} MiB "
              f"| {med(cold, 'blob_requests'):.0f} | {cold[0]['layers'][1]} of {total} "
              f"| {med(warm, 'seconds'):.2f} s | {med(warm, 'sent') / mib:.2f} MiB "
              f"| {warm[0]['layers'][2]} "
              f"| {max(x['rss_kib'] for x in cold + warm) / 1024:.0f} MiB |")
    # repin's own count of layer bytes must agree with the registry's log (whose blob bytes
    # include the config blob once per cold run): a check on the benchmark and on repin.
    agree = True
    for image, r in rows:
        for state in ("cold", "warm"):
            for run in r[state]:
                config = image.config_size if run["blob_requests"] else 0
                if run["bytes_fetched"] != run["sent"] - config:
                    agree = False
                    log(f"note: {image.name} ({state}): repin counted {run['bytes_fetched']} "
                        f"layer bytes, the registry sent {run['sent'] - config}")
    print("\n`read` is what the registry's access log says it sent for blobs (layers and the "
          "config); repin's own `bytes_fetched` "
          + ("agrees in every run." if agree else "differs (see the notes on stderr)."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
