"""Generate a history whose change shapes follow a real repository's, with ``git fast-import``.

    python bench/make_real_repo.py DIR [--commits 100000] [--ai-share 0.30] [--seed 1]
                                   [--pack clone|fast-import]
    python bench/make_real_repo.py DIR --deploy-log FILE [--events 200000]

``bench/make_repo.py`` writes one 10-50-byte blob per commit: diffing its AI-assisted
changes costs nothing, which hid the cost of a cold scan on a real history (issue 12). Here
every count and size is drawn from quantiles measured on a real public repository (see
``MEASURED`` below; ``bench/measure_history.py`` prints them): files changed per commit,
added / modified / deleted shares, the size of a modified file (a 9 KB median, a 257 KB p99),
the lines changed in it (a median of 11), whitespace-only modifications, message sizes and
the merge share. A modification replaces a few lines inside an existing file, so blob pairs
are big while diffs are small.

The file changes depend on ``--seed`` only, not on ``--ai-share``: the blobs are generated
once (``DIR/../.blobs-<commits>-<seed>``, one fast-import pack in which each file's versions
follow each other, so fast-import stores them as deltas) and every share's repository links
that pack and imports only its commits. Which commits carry AI evidence is drawn from a
stream of its own, so the AI commits at 4% are among those at 30%, and those among the 80%.
An annotated ``v*`` tag every 40 commits (2,500 deploys at 100k commits), as make_repo.py.

``--pack clone`` (the default) then repacks the repository as a server does before a clone
(``git repack -adf``: ~3 min, ~1.8 GB of memory). fast-import stores each version of a file
as a delta on the one before, so the newest versions, the ones a report reads, sit deepest
in chains of up to 50: the blob versions the last 2,000 commits modified have a median
delta depth of 18 there, against 3 after the repack and 1 in rails/rails as cloned from
GitHub (bench/README.md). ``--pack fast-import`` keeps fast-import's layout (a worst case).

``--deploy-log`` writes a JSON Lines deploy log (the ``log:`` source) for an existing
repository: ``--events`` events, in time order, over its first-parent history — production
and staging deploys, a failure now and then followed by a retry.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import os
import random
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # gitbuild

from gitbuild import isolated_git_env

# --- MEASURED ---------------------------------------------------------------------------------
# Measured with `python bench/measure_history.py` on github.com/charmbracelet/crush, branch
# main at 37f36e93824e (2026-08-21): 4,032 commits, 3,723 of them non-merge, 309 merges.
# Quantile points (q, value); q=0 is the smallest value seen, q=1 the largest (capped where
# noted). Cross-check on github.com/cline/cline main (6,986 non-merge commits): modified
# files p50 8.3 KB / p90 50 KB / p99 600 KB, added files p50 2.4 KB, 60% of commits only
# modify files, 3 modified files per such commit on average — the same shapes.
EMPTY_COMMIT_SHARE = 0.0454  # non-merge commits that change no file
ONLY_MODIFIED_SHARE = 0.8071  # commits whose every change is a modification (need blobs)
ONLY_MODIFIED_FILES = [  # files per commit that only modifies
    (0, 1),
    (0.5, 1),
    (0.75, 2),
    (0.9, 4),
    (0.95, 7),
    (0.99, 32),
    (1, 353),
]
MIXED_FILES = [  # files per commit that adds or deletes some (max 3,950, capped here)
    (0, 1),
    (0.05, 1),
    (0.1, 2),
    (0.25, 3),
    (0.5, 6),
    (0.75, 11),
    (0.9, 24),
    (0.95, 42),
    (0.99, 340),
    (1, 1000),
]
MIXED_STATUS = (("A", 0.4186), ("D", 0.354), ("M", 0.2274))  # in commits that add or delete
MODIFIED_BYTES = [  # size of the new blob of a modified file
    (0, 120),
    (0.05, 1006),
    (0.1, 1793),
    (0.25, 4571),
    (0.5, 9448),
    (0.75, 27466),
    (0.9, 90880),
    (0.95, 127015),
    (0.99, 257583),
    (1, 774846),
]
LINES_CHANGED = [  # numstat added + deleted lines of a modified file
    (0, 1),
    (0.05, 2),
    (0.25, 4),
    (0.5, 11),
    (0.75, 36),
    (0.9, 138),
    (0.95, 262),
    (0.99, 682),
    (1, 12283),
]
WHITESPACE_ONLY_SHARE = 0.0085  # modifications that `git diff -w` shows empty
ADDED_BYTES = [  # size of an added file (max 1.66 MB, capped here)
    (0, 20),
    (0.05, 185),
    (0.1, 384),
    (0.25, 1229),
    (0.5, 3441),
    (0.75, 6707),
    (0.9, 14389),
    (0.95, 30096),
    (0.99, 120362),
    (1, 400000),
]
MESSAGE_BYTES = [
    (0, 4),
    (0.05, 10),
    (0.1, 18),
    (0.25, 32),
    (0.5, 49),
    (0.75, 108),
    (0.9, 354),
    (0.95, 531),
    (0.99, 1324),
    (1, 9701),
]
MERGE_SHARE = 309 / 4032  # build_repo's branch and merge odds give ~7.7%
# Tree: crush has 1,100 files in 125 directories (path depth p50 3), cline 3,819 in 628 (p50
# 5); a 100k-commit history is bigger: 2,000 files that get modified, in 250 directories.
CORE_FILES = 2000
PLAN_VERSION = 1  # bump when Plan or versions() change: the cached blob packs are rebuilt
DIRECTORIES = 250
# ----------------------------------------------------------------------------------------------

AI_TRAILERS = [
    "Co-authored-by: Claude <noreply@anthropic.com>",
    "Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>",
    "Assisted-by: Crush:claude-sonnet-4",
    "Made-with: Cursor",
    "Generated with [Claude Code](https://claude.com/claude-code)",
]
PEOPLE = [(f"Dev {i}", f"dev{i}@example.com") for i in range(60)]
WORDS = (
    "fix add remove update refactor handle parse render cache query index route model view "
    "test docs config deploy build release error timeout retry user order invoice payment "
    "session token schema migration worker queue job event log metric context value result "
    "return func struct string int err nil if else for range map slice append len make"
).split()


def draw(rng: random.Random, points: list[tuple[float, float]]) -> float:
    """A value from quantile points, interpolated log-linearly between them."""
    u = rng.random()
    qs = [q for q, _ in points]
    k = max(1, bisect.bisect_right(qs, u))
    if k >= len(points):
        return points[-1][1]
    (q0, v0), (q1, v1) = points[k - 1], points[k]
    t = (u - q0) / (q1 - q0) if q1 > q0 else 0.0
    return math.exp(math.log(v0) + t * (math.log(v1) - math.log(v0)))


def count(rng: random.Random, points: list[tuple[float, float]]) -> int:
    return max(1, int(draw(rng, points)))


class Plan:
    """What every commit changes, as (file, version) pairs: sizes and edits, no content."""

    def __init__(self, commits: int, seed: int):
        rng = random.Random(seed)
        self.paths: list[str] = []
        self.sizes: list[int] = []  # target size of version 0
        self.edits: list[list[tuple[int, bool]]] = []  # per version >= 1: (lines, ws only)
        dirs = []
        for d in range(DIRECTORIES):
            depth = rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5])
            dirs.append(
                "/".join(f"{rng.choice(WORDS)}{d if k == depth - 1 else ''}" for k in range(depth))
            )
        self.dirs = dirs
        root = []
        for _ in range(CORE_FILES):
            root.append(("A", self._new(rng, MODIFIED_BYTES)))
        self.commits: list[list[tuple[str, int]]] = [root]  # (status, file)
        churn: list[int] = []  # added files that may be deleted
        self.merge_draws: list[float] = []
        for _ in range(commits - 1):
            u = rng.random()
            changes: list[tuple[str, int]] = []
            if u < EMPTY_COMMIT_SHARE:
                pass
            elif u < EMPTY_COMMIT_SHARE + ONLY_MODIFIED_SHARE:
                for f in rng.sample(range(CORE_FILES), count(rng, ONLY_MODIFIED_FILES)):
                    changes.append(("M", self._edit(rng, f)))
            else:
                n = count(rng, MIXED_FILES)
                statuses = rng.choices(
                    [s for s, _ in MIXED_STATUS], [w for _, w in MIXED_STATUS], k=n
                )
                if all(s == "M" for s in statuses):
                    statuses[0] = "A"
                modify = iter(rng.sample(range(CORE_FILES), statuses.count("M")))
                for s in statuses:
                    if s == "D" and churn:
                        changes.append(("D", churn.pop(rng.randrange(len(churn)))))
                    elif s == "M":
                        changes.append(("M", self._edit(rng, next(modify))))
                    else:
                        f = self._new(rng, ADDED_BYTES)
                        churn.append(f)
                        changes.append(("A", f))
            self.commits.append(changes)

    def _new(self, rng: random.Random, sizes) -> int:
        f = len(self.paths)
        self.paths.append(f"{rng.choice(self.dirs)}/{rng.choice(WORDS)}_{f}.go")
        self.sizes.append(int(draw(rng, sizes)))
        self.edits.append([])
        return f

    def _edit(self, rng: random.Random, f: int) -> int:
        ws = rng.random() < WHITESPACE_ONLY_SHARE
        self.edits[f].append((count(rng, LINES_CHANGED), ws))
        return f


class Corpus:
    """Source-like lines (indent, words, punctuation; ~35 bytes on average), twice over in
    one buffer, so that any run of lines is one slice."""

    def __init__(self, seed: int):
        rng = random.Random(seed * 7919 + 1)
        lines = []
        for _ in range(1 << 16):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 8)))
            tail = rng.choice(["", "", "(", ")", " {", "}", ",", ";", " := nil", "()"])
            lines.append(b"\t" * rng.randint(0, 3) + (words + tail).encode() + b"\n")
        self.n = len(lines)
        self.data = b"".join(lines) * 2
        self.starts = [0]
        for line in lines + lines:
            self.starts.append(self.starts[-1] + len(line))

    def run(self, first: int, lines: int) -> bytes:
        """``lines`` lines from line ``first`` on (at most one corpus' worth)."""
        lines = min(lines, self.n)
        return self.data[self.starts[first] : self.starts[first + lines]]

    def bytes_from(self, first: int, size: int) -> bytes:
        """Whole lines from line ``first`` on, ``size`` bytes or just over."""
        start = self.starts[first]
        end = bisect.bisect_left(self.starts, start + size, first)
        return self.data[start : self.starts[min(end, first + self.n)]]


def versions(f: int, size: int, edits: list[tuple[int, bool]], corpus: Corpus, seed: int):
    """Every version of file ``f``: version 0 of about ``size`` bytes, then one edit each."""
    rng = random.Random(seed * 1_000_003 + f)
    data = corpus.bytes_from(rng.randrange(corpus.n), size)
    yield data
    for k, ws in edits:
        pos = rng.randrange(len(data)) if data else 0
        start = data.rfind(b"\n", 0, pos) + 1
        if ws:  # trailing spaces on k lines: `git diff -w` shows nothing
            end = start
            for _ in range(k):
                nxt = data.find(b"\n", end)
                if nxt < 0:
                    break
                end = nxt + 1
            data = data[:start] + data[start:end].replace(b"\n", b" \n") + data[end:]
            yield data
            continue
        # Replace about as many lines as are added, within the file (a 30-line file does not
        # take a 138-line edit), so that sizes stay where they were drawn.
        k = min(k, max(1, data.count(b"\n")))
        removed = (k + rng.getrandbits(1)) // 2
        added = k - removed
        end = start
        for _ in range(removed):
            nxt = data.find(b"\n", end)
            if nxt < 0:
                break
            end = nxt + 1
        data = b"".join((data[:start], corpus.run(rng.randrange(corpus.n), added), data[end:]))
        yield data


def sentence(rng: random.Random, size: int) -> str:
    words: list[str] = []
    total = 0
    while total < size:
        w = rng.choice(WORDS)
        words.append(w)
        total += len(w) + 1
    return " ".join(words)


def message(rng: random.Random, ai: str | None) -> bytes:
    size = int(draw(rng, MESSAGE_BYTES))
    subject = sentence(rng, min(size, 60)).capitalize()
    text = subject
    if size > 72:
        body = sentence(rng, size - len(subject))
        text += "\n\n" + "\n".join(body[i : i + 72] for i in range(0, len(body), 72))
    if ai:
        text += "\n\n" + ai
    return (text + "\n").encode()


def build_blobs(blobs: Path, plan: Plan, seed: int) -> list[int]:
    """One pack with every version of every file; returns each file's first mark."""
    first, mark = [], 1
    for edits in plan.edits:
        first.append(mark)
        mark += 1 + len(edits)
    marks = blobs / "marks"
    if marks.exists():
        return first
    env = isolated_git_env()
    subprocess.run(["git", "init", "-q", "--bare", str(blobs)], check=True, env=env)
    proc = subprocess.Popen(
        [
            "git",
            "-C",
            str(blobs),
            "fast-import",
            "--quiet",
            "--done",
            f"--export-marks={marks}.tmp",
        ],
        stdin=subprocess.PIPE,
        env=env,
        bufsize=1 << 20,
    )
    corpus = Corpus(seed)
    write = proc.stdin.write
    total = 0
    for f, edits in enumerate(plan.edits):
        m = first[f]
        for data in versions(f, plan.sizes[f], edits, corpus, seed):
            write(b"blob\nmark :%d\ndata %d\n" % (m, len(data)))
            write(data)
            write(b"\n")
            total += len(data)
            m += 1
    write(b"done\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("fast-import (blobs) failed")
    os.replace(f"{marks}.tmp", marks)
    print(f"{blobs}: {mark - 1} blobs, {total / 2**30:.2f} GiB", file=sys.stderr)
    return first


def build_repo(
    out: Path,
    blobs: Path,
    plan: Plan,
    first: list[int],
    share: float,
    seed: int,
    pack: str = "clone",
) -> None:
    env = isolated_git_env()
    subprocess.run(["git", "init", "-q", "-b", "main", str(out)], check=True, env=env)
    pack_dir = out / ".git" / "objects" / "pack"
    for p in (blobs / "objects" / "pack").iterdir():
        if p.suffix in (".pack", ".idx"):
            os.link(p, pack_dir / p.name)
    answers_r, answers_w = os.pipe()
    proc = subprocess.Popen(
        [
            "git",
            "-C",
            str(out),
            "fast-import",
            "--quiet",
            "--done",
            f"--import-marks={blobs / 'marks'}",
            f"--cat-blob-fd={answers_w}",
        ],
        stdin=subprocess.PIPE,
        env=env,
        bufsize=1 << 20,
        pass_fds=(answers_w,),
    )
    os.close(answers_w)
    answers = os.fdopen(answers_r, "rb")
    write = proc.stdin.write

    def sha_of(mark: int) -> str:
        """The SHA fast-import gave ``mark`` (for a revert's message)."""
        write(f"get-mark :{mark}\n".encode())
        proc.stdin.flush()
        return answers.readline().decode().strip()

    shape = random.Random(seed * 31 + 2)  # branches, merges, people, times
    words = random.Random(seed * 31 + 3)  # messages
    ai_draw = random.Random(seed * 31 + 4)  # which commits are AI-assisted: nested by share
    version = [0] * len(plan.paths)
    t = 1_500_000_000
    mark = first[-1] + len(plan.edits[-1]) + 1
    main_head = branch_head = None
    topic: dict[int, None] = {}  # files changed on the topic branch since it forked
    alive = [False] * len(plan.paths)
    tags = []
    ai_count = 0
    commit_marks: list[int] = []
    for i, changes in enumerate(plan.commits):
        mark += 1
        t += shape.randint(60, 3600)
        on_branch = branch_head is not None and shape.random() < 0.5
        who = shape.choice(PEOPLE)
        ai = None
        u, pick = ai_draw.random(), ai_draw.randrange(len(AI_TRAILERS))
        if i > 0 and u < share:
            ai = AI_TRAILERS[pick]
            ai_count += 1
        msg = message(words, ai) if i else b"Initial import\n"
        if i > 100 and words.random() < 0.005:  # a revert of a recent commit, as git words it
            target = commit_marks[words.randrange(len(commit_marks) - 100, len(commit_marks))]
            msg = f'Revert "an earlier change"\n\nThis reverts commit {sha_of(target)}.\n'.encode()
        commit_marks.append(mark)
        ref = "refs/heads/topic" if on_branch else "refs/heads/main"
        parent = branch_head if on_branch else main_head
        write(f"commit {ref}\nmark :{mark}\n".encode())
        write(f"author {who[0]} <{who[1]}> {t} +0000\n".encode())
        write(f"committer {who[0]} <{who[1]}> {t} +0000\n".encode())
        write(f"data {len(msg)}\n".encode() + msg)
        if parent is not None:
            write(f"from :{parent}\n".encode())
        for status, f in changes:
            write(_change(plan, f, status, version, first, alive))
            if on_branch:
                topic[f] = None
        write(b"\n")
        if on_branch:
            branch_head = mark
        else:
            main_head = mark
        if branch_head is None and shape.random() < 0.2:
            branch_head = main_head
            topic = {}
        elif branch_head is not None and not on_branch and shape.random() < 0.25:
            # Merge the topic into main: main's tree takes the files the topic changed.
            mark += 1
            t += 60
            m = b"Merge branch 'topic'\n"
            write(f"commit refs/heads/main\nmark :{mark}\n".encode())
            write(f"author {who[0]} <{who[1]}> {t} +0000\n".encode())
            write(f"committer {who[0]} <{who[1]}> {t} +0000\n".encode())
            write(f"data {len(m)}\n".encode() + m)
            write(f"from :{main_head}\nmerge :{branch_head}\n".encode())
            for f in topic:
                if alive[f]:
                    write(f"M 100644 :{first[f] + version[f]} {plan.paths[f]}\n".encode())
                else:
                    write(f"D {plan.paths[f]}\n".encode())
            write(b"\n")
            main_head = mark
            branch_head = None
        if (i + 1) % 40 == 0:
            tags.append((f"v{(i + 1) // 40}", main_head, t + 600))
    for name, target, when in tags:
        msg = f"Release {name}\n".encode()
        write(
            f"tag {name}\nfrom :{target}\ntagger Release <rel@example.com> {when} +0000\n".encode()
        )
        write(f"data {len(msg)}\n".encode() + msg)
    write(b"done\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("fast-import (commits) failed")
    if branch_head is not None:
        subprocess.run(["git", "-C", str(out), "branch", "-q", "-D", "topic"], env=env, check=False)
    subprocess.run(
        ["git", "-C", str(out), "symbolic-ref", "HEAD", "refs/heads/main"], check=True, env=env
    )
    subprocess.run(["git", "-C", str(out), "gc", "-q"], check=True, env=env)
    if pack == "clone":  # deltas chosen afresh, as a server's repack chooses them
        subprocess.run(["git", "-C", str(out), "repack", "-adfq"], check=True, env=env)
    print(
        f"{out}: {len(plan.commits)} commits (+ merges), {ai_count} with AI evidence",
        file=sys.stderr,
    )


def _change(plan: Plan, f: int, status: str, version: list[int], first: list[int], alive) -> bytes:
    if status == "D":
        alive[f] = False
        return f"D {plan.paths[f]}\n".encode()
    if status == "M":
        version[f] += 1
    alive[f] = True
    return f"M 100644 :{first[f] + version[f]} {plan.paths[f]}\n".encode()


def deploy_log(repo: Path, path: Path, events: int, seed: int) -> None:
    """``events`` JSON Lines deploy events over the first-parent history of ``repo``."""
    out = subprocess.run(
        ["git", "-C", str(repo), "log", "--first-parent", "--reverse", "--format=%H %ct", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    line = [row.split(" ") for row in out if row]
    rng = random.Random(seed * 31 + 5)
    rows: list[tuple[int, str, str, str]] = []
    # About 1.7 events a deploy (staging, production two times in three, a failure now and
    # then, retried); a commit of the main line is deployed once or more, or skipped.
    rate = len(line) / (events / 1.7)
    k, acc, n, last = 0, 0.0, 0, 0
    while n < events and k < len(line):
        sha, ct = line[k][0], int(line[k][1])
        for env, delay in (("staging", 300), ("production", 1800)):
            if env == "production" and rng.random() < 0.35:
                continue
            when = max(ct + delay + rng.randint(0, 600), last + 60)
            if rng.random() < 0.03:
                rows.append((when, sha, env, "failure"))
                when += 900
                n += 1
            rows.append((when, sha, env, "success"))
            last = when
            n += 1
        acc += rate * rng.uniform(0.5, 1.5)
        step = int(acc)
        acc -= step
        k += step
    rows.sort()
    with path.open("w") as fh:
        for i, (when, sha, env, status) in enumerate(rows[:events]):
            stamp = datetime.fromtimestamp(when, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            fh.write(
                json.dumps(
                    {"id": f"d{i}", "sha": sha, "time": stamp, "environment": env, "status": status}
                )
                + "\n"
            )
    print(f"{path}: {min(events, len(rows))} deploy events", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("dir", type=Path)
    ap.add_argument("--commits", type=int, default=100_000, help="non-merge commits")
    ap.add_argument("--ai-share", type=float, default=0.04)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--deploy-log", type=Path, help="write a deploy log for DIR instead")
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument(
        "--pack",
        choices=("clone", "fast-import"),
        default="clone",
        help="the pack's layout: as a clone gets it (repacked), or as fast-import wrote it",
    )
    args = ap.parse_args()
    if args.deploy_log:
        deploy_log(args.dir, args.deploy_log, args.events, args.seed)
        return
    start = time.perf_counter()
    plan = Plan(args.commits, args.seed)
    blobs = args.dir.resolve().parent / f".blobs-v{PLAN_VERSION}-{args.commits}-{args.seed}"
    first = build_blobs(blobs, plan, args.seed)
    print(f"blobs ready at {time.perf_counter() - start:.0f} s", file=sys.stderr)
    build_repo(args.dir, blobs, plan, first, args.ai_share, args.seed, args.pack)
    print(f"generated in {time.perf_counter() - start:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
