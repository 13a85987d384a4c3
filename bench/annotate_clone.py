"""Make a real repository's clone a benchmark: git-ai notes on a share of its commits, and
a deploy log of one production deploy a day.

    python bench/annotate_clone.py SOURCE DIR [--ai-share 0.30] [--seed 1]

``DIR`` becomes a bare clone of ``SOURCE`` (``git clone --bare --local``: its packs are
hard-linked, not copied, so a 100k-commit history is ready in seconds) with, under
``refs/notes/ai``, a git-ai authorship note (``authorship/3.0.0``, an agent's prompt
attested on a file the commit changed; one blob a commit, as git-ai writes them) on
``--ai-share`` of its non-merge commits, drawn by a seeded stream
in history order. Notes add AI evidence without rewriting a commit, so the history keeps its
real shapes: its files, blob sizes, change sizes, merges and pace. ``DIR.deploys.jsonl``
gets one successful ``production`` deploy a day, of the newest first-parent commit of that
day, an hour after it (at midnight UTC at the latest); scan with ``--deploys log:FILE``.

bench/bench_survival.py takes both (``--deploys log:DIR.deploys.jsonl``): the survival
stage on a real history at a given AI share (bench/README.md, "Code survival").
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

AGENTS = ("claude", "cursor", "github-copilot", "codex")


def note_text(tool: str, k: int, path: str, lines: int) -> bytes:
    """A git-ai note as git-ai writes one: a prompt of ``tool`` attested on ``lines`` lines
    of ``path`` (a file the commit changed), and the prompt's record."""
    prompt = f"{k:016x}"
    quoted = f'"{path}"' if " " in path else path
    meta = {
        "schema_version": "authorship/3.0.0",
        "git_ai_version": "1.4.0",
        "base_commit_sha": f"{k:040x}",
        "prompts": {
            prompt: {
                "agent_id": {"tool": tool, "id": f"session-{k}", "model": "model-1"},
                "human_author": "someone@example.org",
                "messages": [],
                "total_additions": lines,
                "total_deletions": 0,
                "accepted_lines": lines,
                "overriden_lines": 0,
            }
        },
    }
    return f"{quoted}\n  {prompt} 1-{lines}\n---\n{json.dumps(meta, indent=2)}".encode()


def write_notes(repo: Path, share: float, seed: int) -> int:
    """Notes on ``share`` of the non-merge commits of HEAD's history, each its own (as
    git-ai's are: a blob a commit), in one fast-import."""
    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--no-merges", "--reverse", "--no-renames",
         "--format=%x01%H", "--name-only", "-z", "HEAD"],
        capture_output=True, check=True,
    ).stdout.decode("utf-8", "replace")  # fmt: skip
    commits = []
    for record in log.split("\x01")[1:]:
        sha, _, names = record.partition("\n")
        first = next((n.strip("\n") for n in names.split("\0") if n.strip("\n")), "README")
        commits.append((sha.strip(), first))
    draw = random.Random(seed * 31 + 4)
    sizes = random.Random(seed * 31 + 6)
    stream = bytearray(b"commit refs/notes/ai\n")
    stream += b"committer bench <bench@example.org> 1500000000 +0000\ndata 0\n"
    chosen = 0
    for k, (sha, path) in enumerate(commits):
        if draw.random() >= share:
            continue
        tool = AGENTS[draw.randrange(len(AGENTS))]
        text = note_text(tool, k, path, sizes.randint(1, 120))
        stream += b"N inline %s\ndata %d\n%s\n" % (sha.encode(), len(text), text)
        chosen += 1
    stream += b"\n"
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=bytes(stream),
                   check=True)  # fmt: skip
    return chosen


def write_daily_deploys(repo: Path, path: Path) -> int:
    """One production deploy a day: the day's newest first-parent commit, an hour later."""
    out = subprocess.run(
        ["git", "-C", str(repo), "log", "--first-parent", "--reverse", "--format=%H %ct", "HEAD"],
        capture_output=True, text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    newest: dict[int, tuple[str, int]] = {}
    for row in out:
        if row:
            sha, ct = row.split(" ")
            newest[int(ct) // 86400] = (sha, int(ct))
    with path.open("w") as fh:
        for i, (day, (sha, ct)) in enumerate(sorted(newest.items())):
            when = datetime.fromtimestamp(min(ct + 3600, (day + 1) * 86400), tz=timezone.utc)
            event = {"id": f"d{i}", "sha": sha, "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "environment": "production", "status": "success"}  # fmt: skip
            fh.write(json.dumps(event) + "\n")
    return len(newest)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("source", type=Path)
    ap.add_argument("dir", type=Path)
    ap.add_argument("--ai-share", type=float, default=0.30)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.dir.exists():
        sys.exit(f"{args.dir} exists")
    subprocess.run(["git", "clone", "--quiet", "--bare", "--local", str(args.source),
                    str(args.dir)], check=True)  # fmt: skip
    notes = write_notes(args.dir, args.ai_share, args.seed)
    log = args.dir.with_name(args.dir.name + ".deploys.jsonl")
    days = write_daily_deploys(args.dir, log)
    print(f"{args.dir}: {notes} commits with a git-ai note; {log}: {days} daily deploys",
          file=sys.stderr)  # fmt: skip


if __name__ == "__main__":
    main()
