"""Where a cold ``scorer scan`` spends its time and its memory.

    python bench/profile_scan.py REPO [--deploys tags:v*] [--top 25] [--no-cprofile]

Runs ``scorer.cli.main`` in this process (``now`` a day after the newest commit, as
bench_shares.py) and prints:

- cProfile of the main thread, by cumulative and by own time (``--no-cprofile`` skips it:
  cProfile slows Python-heavy code by about 1.5-2x, not the time spent waiting on git);
- what ``read_blobs`` (scorer/git/diffs.py) did: calls, blobs, bytes, wall time;
- RSS sampled every 20 ms with the main thread's innermost scorer frames: the peak, and
  the peak of each frame seen, so memory can be pinned to a step without tracemalloc
  (which would slow down every one of millions of small allocations).

Nothing in scorer is changed: read_blobs is wrapped from outside.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import scorer.git.diffs as diffs  # noqa: E402
from scorer.cli import main as scorer_main  # noqa: E402


def rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


class Sampler(threading.Thread):
    """RSS every ``period`` s, with the main thread's innermost scorer frame."""

    def __init__(self, period: float = 0.02):
        super().__init__(daemon=True)
        self.period = period
        self.main_id = threading.main_thread().ident
        self.stop = threading.Event()
        self.peak = (0.0, "", 0.0)
        self.by_frame: dict[str, float] = {}
        self.t0 = time.perf_counter()

    def where(self) -> str:
        frame = sys._current_frames().get(self.main_id)
        names = []
        while frame is not None and len(names) < 3:
            code = frame.f_code
            if "/scorer/" in code.co_filename:
                short = code.co_filename.split("/scorer/", 1)[1]
                names.append(f"{short}:{code.co_name}")
            frame = frame.f_back
        return " < ".join(names) or "(outside scorer)"

    def run(self) -> None:
        while not self.stop.wait(self.period):
            rss, where = rss_mib(), self.where()
            if rss > self.peak[0]:
                self.peak = (rss, where, time.perf_counter() - self.t0)
            if rss > self.by_frame.get(where, 0.0):
                self.by_frame[where] = rss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("repo", type=Path)
    ap.add_argument("--deploys", default="tags:v*")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--no-cprofile", action="store_true")
    args = ap.parse_args()
    newest = int(
        subprocess.run(
            ["git", "-C", str(args.repo), "log", "-1", "--format=%ct", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    now = datetime.fromtimestamp(newest + 86400, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    stats = {"calls": 0, "blobs": 0, "bytes": 0, "seconds": 0.0, "rss_after": []}
    # read_blobs is the scorer of 3d897fa's single batched read; later code streams blobs
    # in bounded rounds instead (then only cProfile and the RSS samples apply).
    original = getattr(diffs, "read_blobs", None)

    def read_blobs(repo, oids):
        start = time.perf_counter()
        found = original(repo, oids)
        stats["seconds"] += time.perf_counter() - start
        stats["calls"] += 1
        stats["blobs"] += len(found)
        stats["bytes"] += sum(len(b) for b in found.values())
        stats["rss_after"].append(round(rss_mib()))
        return found

    if original is not None:
        diffs.read_blobs = read_blobs
    argv = ["scan", str(args.repo), "--deploys", args.deploys, "--now", now, "--quiet"]
    sampler = Sampler()
    sampler.start()
    start = time.perf_counter()
    prof = None if args.no_cprofile else cProfile.Profile()
    if prof:
        prof.enable()
    code = scorer_main(argv)
    if prof:
        prof.disable()
    wall = time.perf_counter() - start
    sampler.stop.set()
    sampler.join()
    print(f"scan {args.repo} (now {now}): exit {code}, {wall:.2f} s wall")
    if original is None:
        print("read_blobs: not in this scorer (blobs are streamed); see the profile")
    else:
        print(
            f"read_blobs: {stats['calls']} calls, {stats['blobs']:,} blobs, "
            f"{stats['bytes'] / 2**30:.2f} GiB, {stats['seconds']:.2f} s "
            f"({stats['seconds'] / wall:.0%} of the wall time); RSS after each call (MiB): "
            f"{stats['rss_after']}"
        )
    rss, where, at = sampler.peak
    print(f"peak RSS (sampled): {rss:,.0f} MiB at {at:.1f} s, in {where}")
    print("highest RSS seen per innermost scorer frames (MiB):")
    for where, rss in sorted(sampler.by_frame.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {rss:8,.0f}  {where}")
    if prof:
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(order).print_stats(args.top)
            text = out.getvalue()
            print(f"\n--- cProfile, main thread, by {order} ---")
            print(text[text.find("   ncalls") :].rstrip())


if __name__ == "__main__":
    main()
