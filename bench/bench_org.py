"""Benchmark `scorer org`: merge N generated repository reports, stream-read from disk.

    python bench/bench_org.py              # 2,000 and 20,000 reports
    python bench/bench_org.py 5000         # other sizes

For each size the reports are written to a temporary directory (one JSON file each, ~20
deploys, 6-12 contributors drawn from a shared pool, 1-3 agents), then a fresh Python process
merges them (read + validate + aggregate + org JSON) and, separately, writes the outputs
(JSON, JSON Lines, HTML, Markdown). Figures: wall time, and the merging process's peak RSS
from ``resource.getrusage`` — the baseline of an interpreter with scorer imported is printed
too, so the growth per report is visible. The target: 2,000 reports merged in under 5 s.

Figures on the project machine (2 cores, Python 3.11, reports of ~7 KiB each)::

     reports input MiB  merge s outputs s base RSS MiB merge peak MiB  peak MiB  people
        2000      13.7     0.37      0.20         19.6           29.9      34.4    5715
       20000     136.7     3.83      2.01         29.5          121.5     158.7   56916

Memory grows with the number of repositories only (one summary row, ~4.6 KiB, plus 32 bytes
per contributor hash), never with the size of the reports: each raw report is parsed, reduced
and dropped before the next is read. For orgs beyond one machine, ``--jsonl`` rows are the
unit to load into a warehouse.
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AGENTS = ["claude-code", "copilot", "cursor", "aider", "codex", "other"]

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from scorer.org.merge import OrgMerger
from scorer.org.sources import read_inputs
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t1 = time.perf_counter()
m = OrgMerger()
for item in read_inputs([sys.argv[1]]):
    if item.ok:
        m.add(item.report, item.source)
    else:
        m.add_unreadable(item.kind, item.source, item.detail)
org = m.result()
t2 = time.perf_counter()
merge_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from scorer.formats import org_html, org_markdown
out = sys.argv[2]
with open(out + "/org.json", "w") as fh:
    json.dump(org, fh, indent=2)
with open(out + "/org.jsonl", "w") as fh:
    for row in m.jsonl_rows():
        fh.write(json.dumps(row, separators=(",", ":")) + "\n")
with open(out + "/org.html", "w") as fh:
    fh.write(org_html.render(org))
with open(out + "/org.md", "w") as fh:
    fh.write(org_markdown.render(org))
t3 = time.perf_counter()
print(json.dumps({
    "merge_s": t2 - t1, "outputs_s": t3 - t2, "baseline_rss_kib": base,
    "merge_peak_rss_kib": merge_rss,
    "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "repositories": org["totals"]["repositories"], "contributors": org["totals"]["contributors"],
    "problems": len(org["problems"]),
}))
"""


def make_report(i: int, rng: random.Random, pool: int) -> dict:
    people = sorted({rng.randrange(pool) for _ in range(rng.randint(6, 12))})
    hashed = [hashlib.sha256(f"dev{p}@example.com".encode()).hexdigest() for p in people]
    deploys = []
    survived = ai = 0
    for d in range(20):
        day = 1 + d * 2
        outcome = rng.choice(["survived"] * 8 + ["rolled_back", "failed"])
        counted = rng.randint(0, 2) if outcome == "survived" else 0
        survived += outcome == "survived"
        ai += outcome == "survived" and counted > 0
        deploys.append(
            {
                "id": f"v1.{d}.0",
                "sha": hashlib.sha1(f"{i}-{d}".encode()).hexdigest(),
                "environment": "production",
                "time": f"2026-{1 + (day - 1) // 28:02d}-{1 + (day - 1) % 28:02d}T12:00:00Z",
                "status": "failure" if outcome == "failed" else "success",
                "outcome": outcome,
                "shipped_changes": 3,
                "ai_changes": counted,
                "counted_ai_changes": counted,
            }
        )
    agents = {
        a: {
            "changes": rng.randint(1, 20),
            "counted_changes": rng.randint(0, 5),
            "deploys_survived": rng.randint(0, ai),
        }
        for a in rng.sample(AGENTS, rng.randint(1, 3))
    }
    n = len(people)
    return {
        "schema_version": 1,
        "repository": {"name": f"acme/service-{i:05d}", "head": "f" * 40, "ref": "HEAD"},
        "generated_at": "2026-03-02T00:00:00Z",
        "now": "2026-03-02T00:00:00Z",
        "window_days": 7.0,
        "min_confidence": "medium",
        "history": {
            "changes": 400,
            "ai_changes": 120,
            "ai_changes_high": 100,
            "trivial_ai_changes": 2,
            "reverted_changes": 3,
            "reverted_ai_changes": 1,
            "counted_ai_changes": 60,
            "deploys": 20,
            "deploys_by_outcome": {
                "survived": survived,
                "rolled_back": 1,
                "failed": 1,
                "pending": 0,
            },
            "deploys_not_in_history": 0,
        },
        "period": {
            "since": "2026-01-26T00:00:00Z",
            "until": "2026-02-23T00:00:00Z",
            "weeks": 4.0,
            "partial": False,
            "changes": 80,
            "ai_changes": 25,
            "attribution_coverage": 25 / 80,
        },
        "metric": {
            "normalized_deployments": ai / n / 4,
            "ai_deploys_survived": ai,
            "deploys_survived": survived,
            "contributors": n,
            "weeks": 4.0,
            "deploys_survived_per_dev_week": survived / n / 4,
            "ai_share_of_survived_deploys": ai / survived if survived else 0.0,
        },
        "agents": agents,
        "dora": {"ai": {}, "non_ai": {}},
        "weeks": [
            {"week": f"2026-W{w:02d}", "complete": True, "normalized_deployments": 0.1}
            for w in range(1, 9)
        ],
        "deploys": deploys,
        "contributors_hashed": hashed,
        "signals": [],
    }


def bench(n: int) -> dict:
    rng = random.Random(n)
    pool = max(50, n * 3)  # people in the org; repositories share some of them
    with tempfile.TemporaryDirectory(prefix="bench-org-") as tmp:
        reports = Path(tmp) / "reports"
        out = Path(tmp) / "out"
        out.mkdir()
        t0 = time.perf_counter()
        for i in range(n):
            d = reports / f"{i // 1000:03d}"
            if i % 1000 == 0:
                d.mkdir(parents=True)
            (d / f"report-{i:05d}.json").write_text(json.dumps(make_report(i, rng, pool)))
        gen_s = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in reports.rglob("*.json"))
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(reports), str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(done.stdout)
        figures.update(
            reports=n,
            generate_s=gen_s,
            input_mib=size / 2**20,
            html_mib=(out / "org.html").stat().st_size / 2**20,
        )
        return figures


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [2000, 20000]
    print(
        f"{'reports':>8} {'input MiB':>9} {'merge s':>8} {'outputs s':>9} "
        f"{'base RSS MiB':>12} {'merge peak MiB':>14} {'peak MiB':>9} {'people':>7}"
    )
    ok = True
    for n in sizes:
        f = bench(n)
        print(
            f"{n:>8} {f['input_mib']:>9.1f} {f['merge_s']:>8.2f} {f['outputs_s']:>9.2f} "
            f"{f['baseline_rss_kib'] / 1024:>12.1f} {f['merge_peak_rss_kib'] / 1024:>14.1f} "
            f"{f['peak_rss_kib'] / 1024:>9.1f} {f['contributors']:>7}",
            flush=True,
        )
        if n == 2000 and f["merge_s"] >= 5:
            ok = False
    if not ok:
        print("FAIL: merging 2,000 reports took 5 s or more", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
