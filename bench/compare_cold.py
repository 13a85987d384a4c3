"""Cold scans of several scorer checkouts on one repository, interleaved, with the floor.

    git archive <commit> scorer | tar -x -C /tmp/before      # a checkout to compare with
    python bench/compare_cold.py bench/.work/real-100000-ai80 5 /tmp/before .

For each of N rounds: the ``git log`` floor (as bench_shares.py), then one cold ``scorer
scan`` per checkout (as installed: from bytecode, the console entry, ``now`` a day after the
newest commit). Prints the best wall time of each, its ratio to the best floor, the least
CPU time of each (the run's processes: scorer and its git children), and the load average:
on a shared 2-core machine, interleaving keeps a busy spell from favouring one checkout.
Runs start in /tmp, so that no checkout in the working directory shadows PYTHONPATH.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from scorer.git.log import _FORMAT  # noqa: E402

ENTRY = "import sys\nfrom scorer.cli import run\nsys.exit(run())"  # pip's console script


def main() -> None:
    repo, rounds, trees = str(Path(sys.argv[1]).resolve()), int(sys.argv[2]), sys.argv[3:]
    trees = [str(Path(t).resolve()) for t in trees]
    newest = subprocess.run(
        ["git", "-C", repo, "log", "-1", "--format=%ct"], capture_output=True, text=True
    ).stdout
    now = datetime.fromtimestamp(int(newest), timezone.utc) + timedelta(days=1)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for tree in trees:
        subprocess.run([sys.executable, "-m", "compileall", "-q", f"{tree}/scorer"], env=env)
    floor_cmd = ["git", "-C", repo, "log", "-z", "--no-color", f"--format={_FORMAT}", "HEAD"]
    scan = [sys.executable, "-c", ENTRY, "scan", repo, "--deploys", "tags:v*", "--quiet"]
    scan += ["--now", now.strftime("%Y-%m-%dT%H:%M:%SZ")]

    def timed(cmd: list[str], tree_env: dict) -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, env=tree_env, stdout=subprocess.DEVNULL, cwd="/tmp", check=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        return wall, cpu

    best = {name: (float("inf"), float("inf")) for name in ["floor", *trees]}
    for _ in range(rounds):
        wall, cpu = timed(floor_cmd, env)
        best["floor"] = (min(best["floor"][0], wall), min(best["floor"][1], cpu))
        for tree in trees:
            wall, cpu = timed(scan, dict(env, PYTHONPATH=tree))
            best[tree] = (min(best[tree][0], wall), min(best[tree][1], cpu))
    floor = best["floor"][0]
    print(f"{repo}: floor {floor:.3f} s; load {os.getloadavg()[0]:.2f}")
    for tree in trees:
        wall, cpu = best[tree]
        print(f"  {tree}: {wall:.3f} s ({wall / floor:.2f}x), CPU {cpu:.2f} s")


if __name__ == "__main__":
    main()
