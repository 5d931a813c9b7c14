#!/usr/bin/env python3
"""Time `repin extract` on Dockerfiles whose ARGs refer to each other (issue 10, item 9).

Generates, in a temporary directory, one Dockerfile per shape and size (the shapes of
`hostile_arg_files` in src/manifest/dockerfile/tests.rs), runs `repin extract --format json`
on each (median of --runs), and prints a Markdown table of wall time and peak RSS. A run over
--timeout seconds is killed and reported as such. Linear substitution shows as times growing
with the number of lines, not with its square.

    cargo build --release
    python3 bench/dockerfile_args.py                      # target/release/repin
    python3 bench/dockerfile_args.py --repin OTHER/repin --sizes 4000,16000
"""

import argparse
import os
import statistics
import subprocess
import tempfile
import time


def shapes(n):
    """Dockerfile texts by shape name, `n` lines each (about)."""

    def chain(prefix, suffix):
        lines = [prefix, "ARG A0=3.12\n"]
        lines += [f"ARG A{i}=${{A{i - 1}}}{suffix}\n" for i in range(1, n)]
        return "".join(lines)

    half = n // 2
    return {
        "chained stages": "FROM python:3.12-slim AS s0\n"
        + "".join(f"FROM s{i - 1} AS s{i}\n" for i in range(1, n)),
        "global chain": chain("", "") + f"FROM python:${{A{n - 1}}}-slim\n",
        "stage chain": chain("FROM python:3.12-slim\n", "")
        + f"COPY --from=python:${{A{n - 1}}} /a /b\n",
        "growing chain": chain("", "x") + f"FROM python:${{A{n - 1}}}\n",
        "doubling chain": "ARG A0=3\n"
        + "".join(f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}\n" for i in range(1, n))
        + f"FROM python:${{A{n - 1}}}\n",
        "many FROMs": "".join(f"ARG V{i}=3.{i}\n" for i in range(half))
        + "".join(f"FROM python:${{V{i}}}\n" for i in range(half)),
        "many COPY --from": "FROM python:3.12\n"
        + "".join(f"ARG V{i}=3.{i}\n" for i in range(half))
        + "".join(f"COPY --from=python:${{V{i}}} /a /b\n" for i in range(half)),
    }


def run_once(repin, path, timeout):
    """(seconds, peak RSS in MiB), or (None, None) when killed at the timeout."""
    start = time.monotonic()
    child = subprocess.Popen(
        [repin, "extract", "--format", "json", path],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while True:
        pid, _, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            return time.monotonic() - start, usage.ru_maxrss / 1024
        if time.monotonic() - start > timeout:
            child.kill()
            os.wait4(child.pid, 0)
            return None, None
        time.sleep(0.005)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repin", default="target/release/repin")
    parser.add_argument("--sizes", default="4000,16000,100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"| shape | {' | '.join(f'{n:,} lines' for n in sizes)} |")
    print(f"|---|{'---:|' * len(sizes)}")
    with tempfile.TemporaryDirectory() as work:
        rows = {}
        for n in sizes:
            for shape, text in shapes(n).items():
                path = os.path.join(work, f"{shape.replace(' ', '-')}-{n}.Dockerfile")
                with open(path, "w") as f:
                    f.write(text)
                runs = [run_once(args.repin, path, args.timeout) for _ in range(args.runs)]
                if any(t is None for t, _ in runs):
                    cell = f"killed at {args.timeout:g} s"
                else:
                    wall = statistics.median(t for t, _ in runs)
                    rss = max(m for _, m in runs)
                    cell = f"{wall:.2f} s, {rss:.0f} MiB"
                rows.setdefault(shape, []).append(cell)
        for shape, cells in rows.items():
            print(f"| {shape} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
