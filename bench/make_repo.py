"""Generate a large, realistic repository for benchmarks with ``git fast-import``.

    python bench/make_repo.py DIR --commits 100000

History: a main line with feature branches merged every few commits, ~200-byte to 2-KB
messages, ~4% AI-attributed commits (trailers, footers, agent identities), ~0.5% reverts,
an annotated ``v*`` tag every 40 commits (the deploys) and one file changed per commit.
Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # gitbuild

from gitbuild import isolated_git_env

PEOPLE = [(f"Dev {i}", f"dev{i}@example.com") for i in range(60)]
AI_TRAILERS = [
    "Co-authored-by: Claude <noreply@anthropic.com>",
    "Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>",
    "Assisted-by: Crush:claude-sonnet-4",
    "Made-with: Cursor",
    "Generated with [Claude Code](https://claude.com/claude-code)",
]
WORDS = [
    "fix",
    "add",
    "remove",
    "update",
    "refactor",
    "handle",
    "parse",
    "render",
    "cache",
    "query",
    "index",
    "route",
    "model",
    "view",
    "test",
    "docs",
    "config",
    "deploy",
    "build",
    "release",
    "error",
    "timeout",
    "retry",
    "user",
    "order",
    "invoice",
    "payment",
    "session",
    "token",
    "schema",
    "migration",
    "worker",
    "queue",
    "job",
    "event",
    "log",
    "metric",
]


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def message(rng: random.Random, i: int) -> str:
    subject = sentence(rng, rng.randint(3, 9)).capitalize()
    paras = [sentence(rng, rng.randint(8, 40)) for _ in range(rng.randint(0, 3))]
    trailers = []
    if rng.random() < 0.04:
        trailers.append(rng.choice(AI_TRAILERS))
    if rng.random() < 0.2:
        trailers.append(f"Signed-off-by: {rng.choice(PEOPLE)[0]} <x@example.com>")
    body = "\n\n".join([subject, *paras, *(["\n".join(trailers)] if trailers else [])])
    return body + "\n"


def generate(out, n: int, seed: int) -> None:
    rng = random.Random(seed)
    t = 1_500_000_000
    mark = 0
    main_head = None
    branch_head = None
    made = 0
    tags = []
    shas_by_mark = {}
    write = out.write
    while made < n:
        mark += 1
        made += 1
        t += rng.randint(60, 3600)
        on_branch = branch_head is not None and rng.random() < 0.5
        who = rng.choice(PEOPLE)
        msg = message(rng, made)
        if rng.random() < 0.005 and mark > 10:
            target = rng.randint(1, mark - 1)
            msg = f'Revert "something"\n\nThis reverts commit :{target}:.\n'
            shas_by_mark[mark] = target
        data = msg.encode()
        blob = f"line {made}\n".encode() * rng.randint(1, 5)
        ref = "refs/heads/topic" if on_branch else "refs/heads/main"
        parent = branch_head if on_branch else main_head
        write(f"commit {ref}\nmark :{mark}\n".encode())
        write(f"author {who[0]} <{who[1]}> {t} +0000\n".encode())
        write(f"committer {who[0]} <{who[1]}> {t} +0000\n".encode())
        write(f"data {len(data)}\n".encode() + data)
        if parent is not None:
            write(f"from :{parent}\n".encode())
        path = f"src/m{rng.randint(0, 400)}/f{rng.randint(0, 50)}.py"
        write(f"M 100644 inline {path}\ndata {len(blob)}\n".encode() + blob + b"\n")
        if on_branch:
            branch_head = mark
        else:
            main_head = mark
        if branch_head is None and rng.random() < 0.1:
            branch_head = main_head
        elif branch_head is not None and not on_branch and rng.random() < 0.08:
            # merge the topic branch into main
            mark += 1
            t += 60
            m = b"Merge branch 'topic'\n"
            write(f"commit refs/heads/main\nmark :{mark}\n".encode())
            write(f"author {who[0]} <{who[1]}> {t} +0000\n".encode())
            write(f"committer {who[0]} <{who[1]}> {t} +0000\n".encode())
            write(f"data {len(m)}\n".encode() + m)
            write(f"from :{main_head}\nmerge :{branch_head}\n\n".encode())
            main_head = mark
            branch_head = None
        if made % 40 == 0:
            tags.append((f"v{made // 40}", main_head, t + 600))
    for name, target, when in tags:
        msg = f"Release {name}\n".encode()
        write(
            f"tag {name}\nfrom :{target}\ntagger Release <rel@example.com> {when} +0000\n".encode()
        )
        write(f"data {len(msg)}\n".encode() + msg)
    write(b"done\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dir", type=Path)
    ap.add_argument("--commits", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    env = isolated_git_env()
    subprocess.run(["git", "init", "-q", "-b", "main", str(args.dir)], check=True, env=env)
    proc = subprocess.Popen(
        ["git", "-C", str(args.dir), "fast-import", "--quiet", "--done"],
        stdin=subprocess.PIPE,
        env=env,
    )
    generate(proc.stdin, args.commits, args.seed)
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("fast-import failed")
    subprocess.run(["git", "-C", str(args.dir), "checkout", "-q", "main"], check=True, env=env)
    subprocess.run(["git", "-C", str(args.dir), "gc", "-q"], check=True, env=env)
    print(f"{args.dir}: {args.commits} commits")


if __name__ == "__main__":
    main()
