"""Cold and warm scans of a realistic history at several AI shares (issue 12).

    python bench/bench_shares.py [--commits 100000] [--shares 4,30,80] [--runs 3]
                                 [--cold-runs N] [--log-share 4] [--events 200000]

For each share, on ``bench/.work/real-<commits>-ai<share>`` (generated with
``make_real_repo.py`` when missing; the file changes are the same at every share):

- the ``git log`` floor (exactly the fields scorer reads, as in bench_scan.py);
- ``scorer scan`` cold, without a cache: time, the ratio to the floor, peak RSS;
- a cache filled (cold, ``--cache``), then 10 new commits that change a few lines of
  existing files (every other one AI-assisted): the warm run, and warm/cold;
- per merge: 10 more commits and an annotated deploy tag, ``now`` an hour later;
- for ``--log-share`` only, a 200k-event ``log:`` deploy log (make_real_repo.py
  ``--deploy-log``): the cache filled with it, then 10 commits and one appended event, and
  the warm run.

``--cold-only`` stops after the cold run (for a share whose cold runs take many minutes);
``--max-memory GiB`` caps each scorer run's address space.

``now`` is a day after the newest commit, so that the headline period and the weekly trend
hold the history's last weeks, as on a live repository. Every warm figure is the best of
five runs, each from a fresh copy of the same cache. Peak RSS is ru_maxrss over the run's
processes: the largest single process (scorer's Python, or one of its git children).
Results also go to ``bench/.work/shares-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))  # gitbuild

from gitbuild import isolated_git_env  # noqa: E402

from scorer.git.log import _FORMAT  # noqa: E402

ENTRY = "import re, sys\nfrom scorer.cli import run\nsys.exit(run())"  # pip's console script
MEASURE = (
    "import os, resource, subprocess, sys, time\n"
    "cap = int(os.environ.get('BENCH_MAX_BYTES', '0'))\n"
    "if cap:\n"
    "    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
    "t = time.perf_counter() - t\n"
    "sys.stderr.buffer.write(p.stderr[-4000:])\n"
    "print(p.returncode, t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def measure(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of ``cmd``, run from a fresh helper process."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True)
    code, secs, rss = out.stdout.split()
    if code != "0":
        raise SystemExit(f"{' '.join(cmd[:6])} ... failed ({code}):\n{out.stderr}")
    return float(secs), int(rss) / 1024


def best(cmd: list[str], runs: int) -> tuple[float, float, list[float]]:
    """Best time of ``runs``, the largest peak RSS, and every time."""
    results = [measure(cmd) for _ in range(runs)]
    return min(t for t, _ in results), max(r for _, r in results), [t for t, _ in results]


def git(repo: Path, *args: str, env: dict | None = None, data: bytes | None = None) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        input=data,
        capture_output=True,
        check=True,
        env=env or GIT_ENV,
    ).stdout.decode()


GIT_ENV = {
    **isolated_git_env(),
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def grow(repo: Path, n: int, when: int, label: str) -> None:
    """``n`` commits on HEAD, each changing two lines in the middle of an existing file of
    about the median size, every other one AI-assisted; without a work tree (a temporary
    index)."""
    files = [
        line.split(None, 4)
        for line in git(repo, "ls-tree", "-r", "-l", "HEAD").splitlines()
        if line.split(None, 4)[1] == "blob"
    ]
    files.sort(key=lambda f: (int(f[3]), f[4]))
    middle = len(files) // 2  # files of a typical size, around the median
    index = repo / ".git" / f"bench-index-{os.getpid()}"
    env = {**GIT_ENV, "GIT_INDEX_FILE": str(index)}
    git(repo, "read-tree", "HEAD", env=env)
    for k in range(n):
        pick = max(0, middle - 100) + (k * 37) % min(len(files), 200)
        _mode, _kind, oid, _size, path = files[pick]
        old = subprocess.run(
            ["git", "-C", str(repo), "cat-file", "blob", oid], capture_output=True, check=True
        ).stdout
        lines = old.split(b"\n")
        mid = len(lines) // 2
        lines[mid : mid + 1] = [f"\t// {label} change {k}".encode(), lines[mid] + b" // edited"]
        new = git(repo, "hash-object", "-w", "--stdin", data=b"\n".join(lines)).strip()
        files[pick][2] = new
        git(repo, "update-index", "--cacheinfo", f"100644,{new},{path}", env=env)
        tree = git(repo, "write-tree", env=env).strip()
        msg = f"{label}: change {k}\n"
        if k % 2 == 0:
            msg += "\nCo-authored-by: Claude <noreply@anthropic.com>\n"
        stamp = f"{when + 60 * k} +0000"
        cenv = {**GIT_ENV, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        head = git(repo, "rev-parse", "HEAD").strip()
        sha = git(repo, "commit-tree", tree, "-p", head, "-m", msg, env=cenv).strip()
        git(repo, "update-ref", "HEAD", sha)
    index.unlink()


def warm_runs(cmd: list[str], filled: Path, work: Path, runs: int) -> tuple[float, float, list]:
    """Best of ``runs``, each from a fresh copy of the cache ``filled``."""
    times, peak = [], 0.0
    for k in range(runs):
        copy = work / f"copy{k}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(filled, copy)
        t, rss = measure([*cmd, "--cache", str(copy)])
        times.append(t)
        peak = max(peak, rss)
        shutil.rmtree(copy)
    return min(times), peak, times


def ensure_repo(commits: int, share: int, pack: str = "clone") -> Path:
    suffix = "" if pack == "clone" else f"-{pack}"
    repo = WORK / f"real-{commits}-ai{share}{suffix}"
    if not repo.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                str(HERE / "make_real_repo.py"),
                str(repo),
                "--commits",
                str(commits),
                "--ai-share",
                str(share / 100),
                "--pack",
                pack,
            ],
            check=True,
        )
    return repo


def bench_share(args, share: int) -> dict:
    repo = ensure_repo(args.commits, share, args.pack)
    newest = int(git(repo, "log", "-1", "--format=%ct", "HEAD"))
    now = newest + 86400
    res: dict = {"share": share, "repo": str(repo), "now": iso(now)}
    res["commits"] = int(git(repo, "rev-list", "--count", "HEAD"))
    floor_cmd = ["git", "-C", str(repo), "log", "-z", f"--format={_FORMAT}", "HEAD"]
    subprocess.run(floor_cmd, stdout=subprocess.DEVNULL, check=True)  # page cache
    res["floor"], _, res["floor_runs"] = best(floor_cmd, args.runs)
    base = [sys.executable, "-c", ENTRY, "scan", "--format", "json"]

    def scan(path: Path, when: int, deploys: str = "tags:v*") -> list[str]:
        return [*base, str(path), "--deploys", deploys, "--now", iso(when)]

    cold_runs = args.cold_runs or args.runs
    res["cold"], res["cold_rss"], res["cold_runs"] = best(scan(repo, now), cold_runs)
    print(
        f"[{share}%] floor {res['floor']:.3f} s, cold {res['cold']:.2f} s "
        f"({res['cold'] / res['floor']:.2f}x), peak RSS {res['cold_rss']:.0f} MiB",
        flush=True,
    )
    if args.cold_only:
        return res
    work = Path(tempfile.mkdtemp(prefix="scorer-shares-", dir=WORK))
    try:
        clone = work / "clone"
        subprocess.run(["git", "clone", "-q", "--no-checkout", str(repo), str(clone)], check=True)
        git(clone, "update-ref", "HEAD", git(repo, "rev-parse", "HEAD").strip())
        filled = work / "filled"
        res["cache_fill"], res["cache_fill_rss"] = measure(
            [*scan(clone, now), "--cache", str(filled)]
        )
        grow(clone, 10, newest + 600, "warm")
        res["warm"], res["warm_rss"], res["warm_runs"] = warm_runs(
            scan(clone, now), filled, work, 5
        )
        res["warm_over_cold"] = res["warm"] / res["cold"]
        print(
            f"[{share}%] cache fill {res['cache_fill']:.2f} s, warm (+10) {res['warm']:.3f} s "
            f"(warm/cold {res['warm_over_cold']:.3f})",
            flush=True,
        )
        measure([*scan(clone, now), "--cache", str(filled)])  # the cache takes the 10
        grow(clone, 10, newest + 1800, "merge")
        git(clone, "tag", "-a", "-m", "deploy", "v-bench-deploy", env=GIT_ENV)
        res["per_merge"], res["per_merge_rss"], res["per_merge_runs"] = warm_runs(
            scan(clone, now + 3600), filled, work, 5
        )
        print(f"[{share}%] per merge {res['per_merge']:.3f} s", flush=True)
        if share == args.log_share:
            res.update(bench_log(args, repo, clone, work, newest, scan))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return res


def bench_log(args, repo: Path, clone: Path, work: Path, newest: int, scan) -> dict:
    log = WORK / f"real-{args.commits}-ai{args.log_share}-deploys-{args.events}.jsonl"
    if not log.exists():
        subprocess.run(
            [
                sys.executable,
                str(HERE / "make_real_repo.py"),
                str(repo),
                "--deploy-log",
                str(log),
                "--events",
                str(args.events),
            ],
            check=True,
        )
    mine = work / "deploys.jsonl"
    shutil.copy(log, mine)
    now = newest + 86400 + 7200
    spec = f"log:{mine}"
    filled = work / "filled-log"
    out: dict = {"log_events": sum(1 for _ in mine.open())}
    out["log_fill"], out["log_fill_rss"] = measure(
        [*scan(clone, now, spec), "--cache", str(filled)]
    )
    grow(clone, 10, newest + 3600, "log")
    head = git(clone, "rev-parse", "HEAD").strip()
    # A per-merge run: the deploy happened after the last run, and now is later still (a
    # deploy dated before the cached run's now would make it read every event again).
    with mine.open("a") as fh:
        event = {"id": "bench-new", "sha": head, "time": iso(now + 1800)}
        fh.write(json.dumps({**event, "environment": "production", "status": "success"}) + "\n")
    out["log_warm"], out["log_warm_rss"], out["log_warm_runs"] = warm_runs(
        scan(clone, now + 3600, spec), filled, work, 5
    )
    print(
        f"[log] {out['log_events']} events: cache fill {out['log_fill']:.2f} s, "
        f"warm (+10 commits, +1 event) {out['log_warm']:.3f} s",
        flush=True,
    )
    return out


def table(results: list[dict]) -> str:
    rows = [
        "| AI share | commits | `git log` floor | cold | cold/floor | cold peak RSS "
        "| warm (+10) | warm/cold | per merge |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        warm = (
            f"{r['warm']:.3f} s | {r['warm_over_cold']:.4f} | {r['per_merge']:.3f} s"
            if "warm" in r
            else "— | — | —"
        )
        rows.append(
            f"| {r['share']}% | {r['commits']:,} | {r['floor']:.2f} s | {r['cold']:.2f} s "
            f"| {r['cold'] / r['floor']:.2f}x | {r['cold_rss']:,.0f} MiB | {warm} |"
        )
    for r in results:
        if "log_warm" in r:
            rows.append(
                f"\n`log:` source, {r['log_events']:,} events ({r['share']}% repository): cache "
                f"fill {r['log_fill']:.2f} s, warm run (+10 commits, +1 event) "
                f"{r['log_warm']:.3f} s, peak RSS {r['log_warm_rss']:.0f} MiB"
            )
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--commits", type=int, default=100_000)
    ap.add_argument("--shares", default="4,30,80")
    ap.add_argument("--runs", type=int, default=3, help="floor and cold runs (best of)")
    ap.add_argument("--cold-runs", type=int, help="cold runs, if not --runs (slow shares)")
    ap.add_argument("--log-share", type=int, default=4, help="the share that gets the log case")
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--cold-only", action="store_true", help="no cache, warm or per-merge runs")
    ap.add_argument(
        "--pack",
        choices=("clone", "fast-import"),
        default="clone",
        help="the pack's layout (make_real_repo.py --pack); fast-import: a -fast-import copy",
    )
    ap.add_argument(
        "--max-memory",
        type=float,
        help="GiB of address space for each scorer run (RLIMIT_AS): a run that needs more "
        "fails instead of pushing a shared machine out of memory",
    )
    args = ap.parse_args()
    if args.max_memory:
        os.environ["BENCH_MAX_BYTES"] = str(int(args.max_memory * 2**30))
    # As bench_scan.py: from bytecode, this checkout's scorer.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(HERE.parent), os.environ.get("PYTHONPATH")) if p
    )
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "scorer")])
    results = []
    for share in (int(s) for s in args.shares.split(",")):
        results.append(bench_share(args, share))
    head = subprocess.run(
        ["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    dump = {"scorer": head, "machine": f"{os.cpu_count()} cores", "python": sys.version}
    (WORK / f"shares-{stamp}.json").write_text(json.dumps({**dump, "results": results}, indent=1))
    print()
    print(table(results))
    print(f"\nscorer {head}; {os.cpu_count()} cores, python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
