"""Summarise a real repository's change shapes: the numbers behind make_real_repo.py.

    python bench/measure_history.py REPO [--rev HEAD]

Prints quantiles (no code, no paths, no names) of, over the non-merge commits reachable
from REV: files changed per commit and their status (added / modified / deleted), the size
of the new blob of a modified file, the lines changed in it (``--numstat``: added plus
deleted), and the size of an added file. Only these summary numbers belong in the
generator; the measured repository stays where it was fetched.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from collections import Counter
from pathlib import Path

QS = (0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99)


def git(repo: Path, *args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(
        ["git", "-C", str(repo), *args], input=data, capture_output=True, check=True
    ).stdout


def quantiles(values: list[int]) -> dict[str, int]:
    values = sorted(values)
    if not values:
        return {}
    out = {f"p{round(q * 100)}": values[min(len(values) - 1, int(q * len(values)))] for q in QS}
    out["max"] = values[-1]
    out["mean"] = round(sum(values) / len(values))
    out["n"] = len(values)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("repo", type=Path)
    ap.add_argument("--rev", default="HEAD")
    ap.add_argument(
        "--no-numstat",
        action="store_true",
        help="skip lines changed (for a snapshot whose largest blobs are absent)",
    )
    args = ap.parse_args()
    raw = git(args.repo, *_LOG, "--raw", *([] if args.no_numstat else ["--numstat"]), args.rev)
    commits = parse(raw)
    ws_only: set[tuple[str, str]] = set()
    if not args.no_numstat:
        # With -w, numstat leaves out a modification that only changes whitespace.
        seen_w = {
            (c, p)
            for c, changes in parse(
                git(args.repo, *_LOG, "--numstat", "-w", args.rev), True
            ).items()
            for p, _, _ in changes
        }
        ws_only = {
            (c, p)
            for c, changes in parse(raw).items()
            for p, st, _ in changes
            if st == "M" and (c, p) not in seen_w
        }
    per_commit = [len(changes) for changes in commits.values()]
    status = Counter(st for changes in commits.values() for _, st, _ in changes)
    modified = [
        (c, p, oids) for c, changes in commits.items() for p, st, oids in changes if st == "M"
    ]
    lines = {
        (c, p): n
        for c, changes in parse(raw, numstat=True).items()
        for p, _, n in changes
        if n is not None
    }
    only_m = [
        changes
        for changes in commits.values()
        if changes and all(st == "M" for _, st, _ in changes)
    ]
    only_m_ws = [
        c
        for c, changes in commits.items()
        if changes
        and all(st == "M" for _, st, _ in changes)
        and all((c, p) in ws_only for p, _, _ in changes)
    ]
    mixed = [ch for ch in commits.values() if ch and any(st != "M" for _, st, _ in ch)]
    mixed_status = Counter(st for ch in mixed for _, st, _ in ch)
    added = [oids[1] for changes in commits.values() for _, st, oids in changes if st == "A"]
    wanted = sorted({o for _, _, oids in modified for o in oids} | set(added))
    sizes: dict[str, int] = {}
    out = git(
        args.repo,
        "cat-file",
        "--batch-check=%(objectname) %(objectsize)",
        data="".join(f"{o}\n" for o in wanted).encode(),
    )
    for line in out.decode().splitlines():
        oid, size = line.split(" ")
        if size != "missing":
            sizes[oid] = int(size)
    tree = git(args.repo, "ls-tree", "-r", "--name-only", "-z", args.rev).split(b"\0")[:-1]
    messages = git(args.repo, "log", "--no-merges", "-z", "--format=%B", args.rev).split(b"\0")
    n = len(per_commit)
    summary = {
        "commits": n,
        "merges": int(git(args.repo, "rev-list", "--count", "--merges", args.rev)),
        "files_per_commit": quantiles(per_commit),
        "files_per_commit_share": {
            str(k): round(v / n, 4)
            for k, v in sorted(Counter(min(k, 21) for k in per_commit).items())
        },
        "status_share": {k: round(v / sum(status.values()), 4) for k, v in status.most_common()},
        "modified_new_blob_bytes": quantiles(
            [sizes[o[1]] for _, _, o in modified if o[1] in sizes]
        ),
        "modified_lines_changed": quantiles(
            [lines[(c, p)] for c, p, _ in modified if (c, p) in lines]
        ),
        "modified_whitespace_only_share": (
            None
            if args.no_numstat
            else round(
                len([1 for c, p, _ in modified if (c, p) in ws_only]) / max(1, len(modified)), 4
            )
        ),
        "commits_only_modified_share": round(len(only_m) / n, 4),
        "only_modified_pairs_per_commit": quantiles([len(ch) for ch in only_m]),
        "commits_empty_share": round(per_commit.count(0) / n, 4),
        "mixed_files_per_commit": quantiles([len(ch) for ch in mixed]),
        "mixed_status_share": {
            k: round(v / sum(mixed_status.values()), 4) for k, v in mixed_status.most_common()
        },
        "commits_only_whitespace_share": None if args.no_numstat else round(len(only_m_ws) / n, 4),
        "added_blob_bytes": quantiles([sizes[a] for a in added if a in sizes]),
        "blobs_missing": len(wanted) - len(sizes),
        "files_in_tree": len(tree),
        "directories_in_tree": len({p.rsplit(b"/", 1)[0] for p in tree if b"/" in p}),
        "path_depth": quantiles([p.count(b"/") for p in tree]),
        "message_bytes": quantiles([len(m.strip()) for m in messages if m.strip()]),
    }
    print(json.dumps(summary, indent=1))


_LOG = ("log", "--no-merges", "--no-renames", "--no-abbrev", "-z", "--format=%x00C%H")


def parse(raw: bytes, numstat: bool = False) -> dict[str, list]:
    """commit -> [(path, status, (old, new))] from --raw, or [(path, None, lines)] from
    --numstat (lines None for a binary file)."""
    out: dict[str, list] = {}
    current: list | None = None
    commit = ""
    tokens = raw.split(b"\0")
    i = 0
    while i < len(tokens):
        tok = tokens[i].lstrip(b"\n")
        if tok.startswith(b"C") and len(tok) == 41:
            commit = tok[1:].decode()
            current = out.setdefault(commit, [])
            i += 1
        elif tok.startswith(b":"):
            fields = tok[1:].decode().split(" ")
            path = tokens[i + 1].decode("utf-8", "replace")
            if not numstat and current is not None:
                st = fields[4] if fields[4] != "M" or fields[0] == fields[1] else "T"
                current.append((path, st, (fields[2], fields[3])))
            i += 2
        elif b"\t" in tok:  # numstat: "added\tdeleted\tpath"
            a, d, path = tok.split(b"\t", 2)
            if numstat and current is not None:
                n = None if a == b"-" else int(a) + int(d)
                current.append((path.decode("utf-8", "replace"), None, n))
            i += 1
        else:
            i += 1
    return out


if __name__ == "__main__":
    main()
