"""Golden reports: the safety net for a refactoring that must not change a single figure.

    python bench/golden.py OUT [--tree DIR]

Builds (once, under ``bench/.work/golden``) the demo repository and a 20k-commit
``make_repo.py`` history, then scans each with the scorer found in ``--tree`` (default: this
checkout) in four ways: without a cache, cold with a cache, warm after ten new commits, and
per merge (ten commits and a deploy, ``now`` a day later). Each report is written to
``OUT/<repo>-<case>.json`` without ``generated_at``. Run it before and after a change with two
OUT directories and ``diff -r`` them: a pure refactoring gives no difference.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "golden"
NOW = "2026-06-01T00:00:00Z"
LATER = "2026-06-02T00:00:00Z"
GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Gold",
    "GIT_AUTHOR_EMAIL": "gold@example.com",
    "GIT_COMMITTER_NAME": "Gold",
    "GIT_COMMITTER_EMAIL": "gold@example.com",
}


def git(repo: Path, *args: str, env: dict | None = None) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        text=True,
        env=env or GIT_ENV,
    ).stdout.strip()


def build(tree: Path) -> dict[str, tuple[Path, list[str]]]:
    """The repositories, built once: name -> (path, deploy specs)."""
    demo, big = WORK / "demo", WORK / "big20k"
    if not (demo / "example").exists():
        demo.mkdir(parents=True, exist_ok=True)
        code = (
            "import sys; from datetime import datetime, timezone; from pathlib import Path;"
            "from scorer.demo import build_demo;"
            "build_demo(Path(sys.argv[1]), datetime(2026, 6, 1, tzinfo=timezone.utc))"
        )
        subprocess.run([sys.executable, "-c", code, str(demo)], check=True, env=_env(tree))
    if not big.exists():
        subprocess.run(
            [sys.executable, str(HERE / "make_repo.py"), str(big), "--commits", "20000"],
            check=True,
            env=_env(tree),
        )
        # Date the generated history so that NOW falls just after its newest commits.
        newest = int(git(big, "log", "-1", "--format=%ct", "main"))
        print(f"big20k: newest commit at {newest}", file=sys.stderr)
    demo_log = demo / "deploys.jsonl"
    return {
        "demo": (demo / "example", [f"log:{demo_log}"]),
        "big20k": (big, ["tags:v*"]),
    }


def _env(tree: Path) -> dict:
    return {**GIT_ENV, "PYTHONPATH": str(tree)}


def _now_for(repo: Path, name: str) -> tuple[str, str]:
    if name == "demo":
        return NOW, LATER
    newest = int(git(repo, "log", "-1", "--format=%ct", "HEAD"))
    return _iso(newest + 3 * 86400), _iso(newest + 4 * 86400)


def _iso(ts: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def scan(tree: Path, repo: Path, deploys: list[str], now: str, out: Path, cache: Path | None):
    args = [sys.executable, "-m", "scorer", "scan", str(repo), "--now", now, "--json", str(out)]
    for d in deploys:
        args += ["--deploys", d]
    if cache is not None:
        args += ["--cache", str(cache)]
    proc = subprocess.run(args, capture_output=True, text=True, env=_env(tree))
    if proc.returncode not in (0,):
        raise SystemExit(f"scan failed ({proc.returncode}): {proc.stderr}")
    report = json.loads(out.read_text())
    report.pop("generated_at", None)
    out.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")


def grow(repo: Path, commits: int, tag: str | None, when: str) -> None:
    """Ten new commits (every third AI-assisted) and perhaps an annotated deploy tag."""
    env = {**GIT_ENV, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    for k in range(commits):
        path = repo / "golden" / f"f{k % 4}.txt"
        path.parent.mkdir(exist_ok=True)
        with path.open("a") as fh:
            fh.write(f"line {k} of {tag or 'warm'}\n")
        git(repo, "add", "-A", env=env)
        msg = f"golden change {k}"
        if k % 3 == 0:
            msg += "\n\nCo-authored-by: Claude <noreply@anthropic.com>"
        git(repo, "commit", "-q", "-m", msg, env=env)
    if tag:
        git(repo, "tag", "-a", tag, "-m", f"Release {tag}", env=env)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--tree", type=Path, default=HERE.parent)
    args = ap.parse_args()
    tree = args.tree.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (src, deploys) in build(tree).items():
        now, later = _now_for(src, name)
        work = args.out / ".work" / name
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(src, work / "repo", symlinks=True)
        repo, cache = work / "repo", work / "cache"
        if name == "demo":  # the deploy log is copied too: the per-merge case appends to it
            log = work / "deploys.jsonl"
            shutil.copy(deploys[0][4:], log)
            deploys = [f"log:{log}"]
        scan(tree, repo, deploys, now, args.out / f"{name}-nocache.json", None)
        scan(tree, repo, deploys, now, args.out / f"{name}-cold.json", cache)
        grow(repo, 10, None, now)
        scan(tree, repo, deploys, now, args.out / f"{name}-warm.json", cache)
        scan(tree, repo, deploys, now, args.out / f"{name}-warm-nocache.json", None)
        grow(repo, 10, None if name == "demo" else "v999999", now)
        if name == "demo":
            head = git(repo, "rev-parse", "HEAD")
            with log.open("a") as fh:
                fh.write(json.dumps({"sha": head, "time": now, "id": "golden-deploy"}) + "\n")
        scan(tree, repo, deploys, later, args.out / f"{name}-merge.json", cache)
        scan(tree, repo, deploys, later, args.out / f"{name}-merge-nocache.json", None)
        print(f"{name}: 6 reports in {args.out}")
    shutil.rmtree(args.out / ".work", ignore_errors=True)


if __name__ == "__main__":
    main()
