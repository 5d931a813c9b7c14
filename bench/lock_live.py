#!/usr/bin/env python3
"""Benchmark: `repin lock` against `uv pip compile --generate-hashes` on live PyPI (pypi.org and
its file host), per input, cold and warm, with wall time and peak RSS, in the same run.

Needs the network (PyPI only), uv on PATH (or --uv) and GNU time (/usr/bin/time). Cold: an
empty cache directory for each tool and run; warm: the same command again with that cache.
Figures are medians over RUNS runs; bytes are not counted (no relay in front of PyPI). Both
tools lock for the same exact Python, and the pins they choose are compared: a difference is
reported, not hidden (PyPI moves between the two tools' runs only if a release lands in
between).

    python3 bench/lock_live.py [--runs 3] [--repin target/release/repin] [--uv uv]
                               [--python 3.11.7] [--inputs data-stack,torch] [--pylock]

With --pylock, both tools write a PEP 751 `pylock.toml` instead (`repin lock -o
pylock.NAME.toml`, `uv pip compile --format pylock.toml --python-platform
x86_64-manylinux_2_40`: Linux x86_64 with any glibc, as repin lists wheels), and what is
compared is every package's version and files: name, sha256, size and upload time.

Markdown on stdout, progress on stderr.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

# The same measurement as the local benchmark (this script's folder is on sys.path).
from lock import run_timed

INDEX = "https://pypi.org/simple/"

INPUTS = {
    "data-stack": "pandas\npolars[pyarrow]\njupyter\nmatplotlib\nseaborn\nplotly\n",
    "data-science": "numpy\nscipy\nscikit-learn\nxgboost\nstatsmodels\n",
    "celery": "celery[redis]\npackaging\n",
    "web": "fastapi[standard]\nuvicorn[standard]\nsqlalchemy[asyncio]\nrequests[socks]\n"
           "pydantic[email]\nhttpx[http2]\ncelery[redis]\nboto3[crt]\n",
    "torch": "torch\n",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pins(path: Path) -> list[str]:
    out = []
    for line in path.read_text().splitlines():
        if line and not line.startswith((" ", "#", "-")):
            name, _, rest = line.partition("==")
            out.append(f"{name.split('[')[0].lower()}=={rest.split()[0]}")
    return sorted(out)


def hashes(path: Path) -> int:
    return path.read_text().count("--hash=")


def pylock_files(path: Path) -> dict[str, list[tuple]]:
    """Every package of a pylock.toml: its version and sorted (file, sha256, size, upload
    time) tuples."""
    import tomllib
    lock = tomllib.loads(path.read_text())
    out = {}
    for package in lock.get("packages", []):
        files = ([package["sdist"]] if "sdist" in package else []) + package.get("wheels", [])
        out[package["name"]] = [package["version"]] + sorted(
            (f["url"].rsplit("/", 1)[1], f["hashes"]["sha256"], f.get("size"),
             str(f.get("upload-time"))) for f in files)
    return out


def pylock_differences(ours: Path, theirs: Path) -> list[str]:
    a, b = pylock_files(ours), pylock_files(theirs)
    return [name for name in sorted(set(a) | set(b)) if a.get(name) != b.get(name)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--python", default="3.11.7")
    parser.add_argument("--repin", default="target/release/repin")
    parser.add_argument("--uv", default=shutil.which("uv"))
    parser.add_argument("--inputs", default=",".join(INPUTS))
    parser.add_argument("--pylock", action="store_true",
                        help="write and compare pylock.toml files instead")
    args = parser.parse_args()
    if not args.uv:
        raise SystemExit("uv is not on PATH: python3 -m pip install uv==0.13.9")
    repin = str(Path(args.repin).resolve())
    uv_version = subprocess.run([args.uv, "--version"], capture_output=True,
                                text=True).stdout.strip()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "REPIN_"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["UV_PYTHON_DOWNLOADS"] = "never"
    rows = []
    with tempfile.TemporaryDirectory(prefix="repin-lock-live-") as tmp:
        root = Path(tmp)
        for name in args.inputs.split(","):
            (root / f"{name}.in").write_text(INPUTS[name])
            measured: dict[str, dict[str, list[dict]]] = {
                tool: {"cold": [], "warm": []} for tool in ("repin", "uv")}
            outs = {}
            for run in range(args.runs):
                for tool in ("repin", "uv"):
                    cache = root / f"cache-{tool}-{name}-{run}"
                    out = root / (f"pylock.{name}{tool}.toml" if args.pylock
                                  else f"{name}.{tool}.txt")
                    if tool == "repin":
                        command = [repin, "lock", f"{name}.in", "-o", out.name, "--python",
                                   args.python, "--cache-dir", str(cache)]
                    else:
                        command = [args.uv, "pip", "compile", f"{name}.in", "--no-config",
                                   "--python-version", args.python,
                                   "--index-url", INDEX, "--cache-dir", str(cache), "-q",
                                   "-o", out.name]
                        command += (["--format", "pylock.toml", "--python-platform",
                                     "x86_64-manylinux_2_40"] if args.pylock
                                    else ["--generate-hashes"])
                    for phase in ("cold", "warm"):
                        out.unlink(missing_ok=True)
                        m = run_timed(command, root, env)
                        measured[tool][phase].append(m)
                        log(f"{name} run {run + 1} {tool} {phase}: {m['seconds']:.3f}s "
                            f"{m['rss_kb'] / 1024:.1f} MiB")
                    outs[tool] = out
            if args.pylock:
                differ = pylock_differences(outs["repin"], outs["uv"])
                if differ:
                    log(f"{name}: the pylock files differ for {', '.join(differ)}")
                ours, theirs = pylock_files(outs["repin"]), pylock_files(outs["uv"])
                rows.append((name, len(theirs), not differ,
                             sum(len(v) - 1 for v in ours.values()),
                             sum(len(v) - 1 for v in theirs.values()), measured))
            else:
                same = pins(outs["repin"]) == pins(outs["uv"])
                rows.append((name, len(pins(outs["uv"])), same, hashes(outs["repin"]),
                             hashes(outs["uv"]), measured))
    median = lambda xs, key: statistics.median(x[key] for x in xs)  # noqa: E731
    what = ("--format pylock.toml" if args.pylock else "--generate-hashes")
    print(f"`repin lock` vs `{uv_version} pip compile {what}`, Python {args.python}, "
          f"live PyPI, median of {args.runs} runs\n")
    same_what, count_what = (("same files", "files") if args.pylock
                             else ("same pins", "hashes"))
    print(f"| input | pins (uv) | {same_what} | {count_what} repin / uv | repin cold | uv cold "
          "| repin / uv | repin warm | uv warm | repin / uv | peak RSS cold repin / uv |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, count, same, h_repin, h_uv, m in rows:
        rc, uc = median(m["repin"]["cold"], "seconds"), median(m["uv"]["cold"], "seconds")
        rw, uw = median(m["repin"]["warm"], "seconds"), median(m["uv"]["warm"], "seconds")
        rr = median(m["repin"]["cold"], "rss_kb") / 1024
        ur = median(m["uv"]["cold"], "rss_kb") / 1024
        print(f"| {name} | {count} | {'yes' if same else '**no**'} | {h_repin:,} / {h_uv:,} "
              f"| {rc:.2f} s | {uc:.2f} s | {rc / uc:.2f} | {rw:.2f} s | {uw:.2f} s "
              f"| {rw / uw:.2f} | {rr:.0f} / {ur:.0f} MiB |")


if __name__ == "__main__":
    main()
