"""Time ``scorer scan`` against the ``git log`` floor, and measure its memory peak.

    python bench/bench_scan.py [REPO] [--commits 100000] [--runs 3]

The floor is git streaming every commit's metadata and message (``git log -z
--format=<the fields scorer reads>`` into a pipe that discards it): no Python program that
reads the history can be faster. Without REPO a repository is generated with
bench/make_repo.py (kept under bench/.work/ for later runs). Also prints a warm (cached) run
after 10 new commits when --cache is given.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))  # gitbuild

from gitbuild import isolated_git_env  # noqa: E402

from scorer.git.log import _FORMAT  # noqa: E402


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr.decode()}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far: measure each kind in its
    # own subprocess when a fresh peak matters (see peak_rss below).
    return elapsed, max(peak, before) / 1024


def peak_rss(cmd: list[str]) -> float:
    """Peak RSS (MiB) of ``cmd`` alone, measured in a fresh helper process."""
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *cmd], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip()) / 1024


def best(cmd: list[str], runs: int, env=None) -> float:
    return min(timed(cmd, env)[0] for _ in range(runs))


def per_merge(cached: list[str], clone: Path, work: Path, env: dict, runs: int) -> None:
    """The action's case: ``now`` is the clock, and the merge brings 10 commits and a
    deploy tag, so the warm run links a new deploy and judges the pending ones again."""
    import datetime as dt

    def at(when: dt.datetime) -> list[str]:
        cmd = list(cached)
        cmd[cmd.index("--now") + 1] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        return cmd

    filled = work / "per-merge"
    timed([*at(dt.datetime.now(dt.timezone.utc)), str(filled)])
    time.sleep(1.1)  # the merge happens after that run
    for i in range(10):
        subprocess.run(
            ["git", "-C", str(clone), "commit", "-q", "--allow-empty", "-m", f"merge {i}"],
            check=True,
            env=env,
        )
    subprocess.run(
        ["git", "-C", str(clone), "tag", "-a", "-m", "deploy", "v-bench-deploy"],
        check=True,
        env=env,
    )
    now = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)
    times = []
    for k in range(max(runs, 5)):
        copy = work / f"per-merge{k}"
        shutil.copytree(filled, copy)
        times.append(timed([*at(now), str(copy)])[0])
    print(
        f"per merge:       {min(times):7.3f} s   (10 commits and a deploy tag, now = the clock; "
        f"runs: {', '.join(f'{t:.3f}' for t in times)})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("repo", nargs="?", type=Path)
    ap.add_argument("--commits", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--deploys", default="tags:v*")
    ap.add_argument("--cache", action="store_true", help="also measure a warm cached run")
    args = ap.parse_args()

    repo = args.repo
    if repo is None:
        repo = HERE / ".work" / f"repo-{args.commits}"
        if not repo.exists():
            repo.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "make_repo.py"),
                    str(repo),
                    "--commits",
                    str(args.commits),
                ],
                check=True,
            )
    commits = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--count", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    floor_cmd = ["git", "-C", str(repo), "log", "-z", f"--format={_FORMAT}", "HEAD"]
    # What an installed ``scorer`` runs: pip's console script imports the entry point and
    # calls it (``python -m scorer`` would add runpy's ~4 ms to every run).
    entry = "import re, sys\nfrom scorer.cli import run\nsys.exit(run())"
    scan_cmd = [
        sys.executable,
        "-c",
        entry,
        "scan",
        str(repo),
        "--deploys",
        args.deploys,
        "--format",
        "json",
        "--now",
        "2030-01-01T00:00:00Z",
    ]

    # An installed scorer runs from bytecode (pip compiles it); so does the bench, whatever
    # PYTHONDONTWRITEBYTECODE says in this shell.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(HERE.parent), os.environ.get("PYTHONPATH")) if p
    )  # this checkout's scorer, whatever else the interpreter has installed
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "scorer")])
    subprocess.run(floor_cmd, stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    floor = best(floor_cmd, args.runs)
    cold = best(scan_cmd, args.runs)
    rss = peak_rss(scan_cmd)
    print(f"repository: {repo} ({commits} commits)")
    print(f"git log floor:   {floor:7.3f} s")
    print(f"scorer scan:     {cold:7.3f} s   ratio {cold / floor:5.2f}x   peak RSS {rss:6.0f} MiB")

    if args.cache:
        work = Path(tempfile.mkdtemp(prefix="scorer-bench-"))
        try:
            clone = work / "clone"
            subprocess.run(["git", "clone", "-q", "--no-local", str(repo), str(clone)], check=True)
            filled = work / "filled"
            cached = [*scan_cmd[:4], str(clone), *scan_cmd[5:], "--cache"]
            cached_cold = best([*cached, str(filled)], 1)  # fills the cache
            timed([*cached, str(filled)])  # and once more, as every later run finds it
            env = isolated_git_env()
            env.update(
                GIT_AUTHOR_NAME="Bench",
                GIT_AUTHOR_EMAIL="bench@example.com",
                GIT_COMMITTER_NAME="Bench",
                GIT_COMMITTER_EMAIL="bench@example.com",
            )
            for i in range(10):
                subprocess.run(
                    [
                        "git",
                        "-C",
                        str(clone),
                        "commit",
                        "-q",
                        "--allow-empty",
                        "-m",
                        f"new commit {i}\n\nCo-authored-by: Claude <noreply@anthropic.com>",
                    ],
                    check=True,
                    env=env,
                )
            # Each warm run starts from the cache as the last run left it (a copy), so every
            # run reads the 10 new commits: best of --runs, like the others.
            warms = []
            for k in range(max(args.runs, 5)):
                copy = work / f"warm{k}"
                shutil.copytree(filled, copy)
                warms.append(timed([*cached, str(copy)])[0])
            warm = min(warms)
            copy = work / "warm-rss"
            shutil.copytree(filled, copy)
            warm_rss = peak_rss([*cached, str(copy)])
            print(f"cold with cache: {cached_cold:7.3f} s")
            print(
                f"warm (+10):      {warm:7.3f} s   warm/cold {warm / cold:5.3f}   "
                f"peak RSS {warm_rss:6.0f} MiB   (runs: {', '.join(f'{w:.3f}' for w in warms)})"
            )
            per_merge(cached, clone, work, env, args.runs)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
