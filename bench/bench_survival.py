"""Time the code survival stage (METRIC.md section 10) against the ``git log`` floor.

    python bench/bench_survival.py [REPO] [--commits 100000] [--horizon-days 30]
                                   [--deploys tags:v*|log:FILE]

Without REPO a repository is generated with bench/make_repo.py (kept under bench/.work/).
``now`` is just after the newest deploy (tag, or event of a ``log:`` source: a real history
with a made-up deploy log), so ``S`` is the newest deploy and the cohort
the four weeks of deploys that ended ``horizon`` before it. Prints: the floor (git
streaming every commit's metadata), the survival stage alone on a cold run (no cache), on a
cached run that fills the cache, on a warm run whose ``S`` did not move, the cohort's size
and figures, and the peak RSS of this process (the whole scan: an upper bound for the stage).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import scorer.accelerator  # noqa: E402
from scorer.accelerator import Accelerator  # noqa: E402
from scorer.git.blame import Blamer  # noqa: E402
from scorer.git.log import _FORMAT  # noqa: E402
from scorer.incremental.session import Session  # noqa: E402
from scorer.pipeline import ScanOptions, scan  # noqa: E402


def _timing(base: type) -> type:
    """``base`` with its survival stage timed (``self.seconds``)."""

    class Timed(base):  # type: ignore[misc,valid-type]
        seconds = 0.0

        def survival(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return super().survival(*args, **kwargs)
            finally:
                self.seconds = time.perf_counter() - start

    return Timed


BLAMERS: list[Blamer] = []


class CountedBlamer(Blamer):
    """A Blamer that is remembered: how its files were counted (bench output)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        BLAMERS.append(self)


scorer.accelerator.Blamer = CountedBlamer  # type: ignore[misc]


def newest_tag_time(repo: Path) -> datetime:
    out = subprocess.run(
        ["git", "-C", str(repo), "for-each-ref", "--sort=-creatordate", "--count=1",
         "--format=%(creatordate:unix)", "refs/tags"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    return datetime.fromtimestamp(int(out), timezone.utc)


def newest_event_time(log: Path) -> datetime:
    """The latest ``time`` in a JSON Lines deploy log."""
    times = [json.loads(line)["time"] for line in log.read_text().splitlines() if line.strip()]
    return max(datetime.fromisoformat(t.replace("Z", "+00:00")) for t in times)


def floor_seconds(repo: Path, runs: int) -> float:
    cmd = ["git", "-C", str(repo), "log", "-z", f"--format={_FORMAT}", "HEAD"]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("repo", nargs="?", type=Path)
    ap.add_argument("--commits", type=int, default=100_000)
    ap.add_argument("--horizon-days", type=float, default=30)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--deploys", default="tags:v*", help="deploy source (tags:GLOB or log:FILE)")
    args = ap.parse_args()
    repo = args.repo
    if repo is None:
        repo = HERE / ".work" / f"repo-{args.commits}"
        if not repo.exists():
            repo.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [sys.executable, str(HERE / "make_repo.py"), str(repo), "--commits",
                 str(args.commits)],
                check=True,
            )  # fmt: skip
    horizon = timedelta(days=args.horizon_days)
    if args.deploys.startswith("log:"):
        now = newest_event_time(Path(args.deploys[4:])) + timedelta(seconds=1)
    else:
        now = newest_tag_time(repo) + timedelta(seconds=1)
    floor = floor_seconds(repo, args.runs)

    def options(cache: Path | None = None) -> ScanOptions:
        return ScanOptions(path=repo, deploys=[args.deploys], now=now, horizon=horizon,
                           progress=False, cache=cache)  # fmt: skip

    cold_times, block = [], None
    for _ in range(args.runs):
        acc = _timing(Accelerator)()
        BLAMERS.clear()
        block = scan(options(), acc).report["code_survival"]
        cold_times.append(acc.seconds)
    counted = [(len(b.quick), b.grafted, b.walked) for b in BLAMERS]
    work = Path(tempfile.mkdtemp(prefix="scorer-bench-survival-"))
    try:
        fill = _timing(Session)(work / "cache")
        scan(options(work / "cache"), fill)
        warm_times = []
        for _ in range(max(args.runs, 5)):
            warm = _timing(Session)(work / "cache")
            assert scan(options(work / "cache"), warm).report["code_survival"] == block
            warm_times.append(warm.seconds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert block is not None
    commits = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--count", "HEAD"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    cold = min(cold_times)
    print(f"repository: {repo} ({commits} commits), now {now:%Y-%m-%dT%H:%M:%SZ}")
    print(f"git log floor:            {floor:7.3f} s")
    print(f"survival stage, cold:     {cold:7.3f} s   {cold / floor:5.2f}x the floor (target 1.0x)")
    print(f"survival stage, filling:  {fill.seconds:7.3f} s")
    print(f"survival stage, warm:     {min(warm_times):7.3f} s   (S did not move; target < 0.15 s)")
    print(f"peak RSS (whole scans):   {rss:7.0f} MiB (target < 512 MiB)")
    quick, grafted, walked = (sum(c[k] for c in counted) for k in range(3))
    print(
        f"files (cold run): {quick} counted without blame, {grafted} blamed through their "
        f"simplified history, {walked} over the whole range"
    )
    shown = ("cohort", "ai", "human", "rework_share", "reason")
    print("code_survival:", json.dumps({k: block[k] for k in shown}))


if __name__ == "__main__":
    main()
