"""``scorer org``: merge many repositories' reports into one org report."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from scorer.errors import InputError
from scorer.formats.words import plural
from scorer.util.atomic import write_atomic
from scorer.util.textsafe import one_line


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="report .json files, directories (searched recursively) and .zip artifacts",
    )
    p.add_argument("--json", metavar="FILE", help="write the org JSON here (atomically)")
    p.add_argument("--markdown", metavar="FILE", help="write the Markdown summary here")
    p.add_argument("--html", metavar="FILE", help="write the self-contained HTML page here")
    p.add_argument(
        "--jsonl", metavar="FILE", help="write one repository row per line (for a warehouse)"
    )
    p.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="what goes to stdout (default: text)",
    )
    p.add_argument("--github-org", metavar="ORG", help="also fetch artifacts of ORG's repositories")
    p.add_argument(
        "--artifact-name",
        metavar="NAME",
        help="the artifact holding the report (with --github-org)",
    )
    p.add_argument(
        "--api-url",
        metavar="URL",
        help="GitHub REST API URL (default: $GITHUB_API_URL or https://api.github.com)",
    )
    p.add_argument(
        "--allow-mixed-versions",
        action="store_true",
        help="merge metric v1 and v2 reports together (by default the older version's reports "
        "are problem lines, not merged: their figures measure different things)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 2 when any input problem was found (the outputs are still written)",
    )


def _atomic_write(path: str, write: Callable[[io.TextIOWrapper], object]) -> None:
    """One output file, through the one atomic writer (a failure is one line)."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise InputError("the directory to write into does not exist", path=path)
    write_atomic(target, write)


def _text_safe(value: object) -> str:
    """No terminal escape sequences from report strings."""
    return one_line(value, "?")


def render_text(org: dict) -> str:
    from scorer.formats.org_markdown import devweeks_text, fmt_num, pct

    t = org["totals"]
    p = org["period"]
    lines = []
    span = f"{(p['since'] or '?')[:10]} .. {(p['until'] or '?')[:10]}"
    weeks = f"{p['weeks']:g} weeks" if p["weeks"] is not None else "lengths differ"
    lines.append(
        f"Org report: {t['repositories']} repositories, period {span} ({weeks}"
        f"{'' if p['aligned'] else ', not aligned'})"
    )
    lines.append(
        f"normalized deployments: {fmt_num(org['normalized_deployments'])} = "
        f"{plural(t['ai_deploys_survived'], 'AI deploy')} survived / {devweeks_text(org)} "
        f"({plural(t['contributors'], 'distinct contributor')})"
    )
    lines.append(
        f"deploys survived: {t['deploys_survived']} "
        f"(AI share {pct(t['ai_share_of_survived_deploys'])}), "
        f"{fmt_num(t['deploys_survived_per_dev_week'])} per contributor per week"
    )
    lines.append(
        f"attribution coverage: {t['ai_changes']}/{t['changes']} changes "
        f"({pct(t['attribution_coverage'])}, a lower bound)"
    )
    if org["repositories"]:
        lines.append("")
        width = min(max(len(_text_safe(r["name"])) for r in org["repositories"]), 50)
        lines.append(f"  {'repository':<{width}}  {'ND':>7}  {'AI/survived':>11}  {'people':>6}")
        for r in org["repositories"]:
            m = r["metric"]
            name = _text_safe(r["name"])
            if len(name) > width:
                name = name[: width - 1] + "…"
            ratio = f"{m['ai_deploys_survived']}/{m['deploys_survived']}"
            lines.append(
                f"  {name:<{width}}  {fmt_num(m['normalized_deployments']):>7}  {ratio:>11}  "
                f"{m['contributors']:>6}"
            )
    if org["agents"]:
        lines.append("")
        lines.append(
            "agents: "
            + ", ".join(
                f"{_text_safe(a)} {f['deploys_survived']} deploys survived"
                for a, f in org["agents"].items()
            )
        )
    if org["problems"]:
        from scorer.org.merge import problem_line

        lines.append("")
        lines.append(f"problems ({len(org['problems'])}):")
        lines.extend(f"  {_text_safe(problem_line(pr))}" for pr in org["problems"])
    return "\n".join(lines) + "\n"


def collect(args: argparse.Namespace, outputs: Iterable[str], env=os.environ):
    """Read every input into a merger (streaming); returns the merger."""
    from scorer.org import sources as orgsource
    from scorer.org.merge import SALT_ENV, OrgMerger

    merger = OrgMerger(
        salt=env.get(SALT_ENV) or None,
        allow_mixed_versions=getattr(args, "allow_mixed_versions", False),
    )

    def feed(items):
        for item in items:
            if item.ok:
                merger.add(item.report, item.source, item.repository)
            else:
                merger.add_unreadable(item.kind, item.source, item.detail)

    feed(orgsource.read_inputs(args.inputs, exclude=outputs))
    if args.github_org:
        if not (env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")):
            raise InputError(
                "--github-org needs a token in GITHUB_TOKEN with read access to Actions artifacts"
            )
        client = orgsource.github_client(env, args.api_url)
        feed(orgsource.read_github_org(args.github_org, args.artifact_name, client))
    return merger


def run(args: argparse.Namespace) -> int:
    from scorer.formats import org_html, org_markdown

    if not args.inputs and not args.github_org:
        raise InputError("give report files, directories or zips, or --github-org ORG")
    if bool(args.github_org) != bool(args.artifact_name):
        raise InputError("--github-org and --artifact-name go together")
    outputs = [f for f in (args.json, args.markdown, args.html, args.jsonl) if f]
    merger = collect(args, outputs)
    org = merger.result()
    if not org["repositories"]:
        from scorer.org.merge import problem_line

        for pr in org["problems"]:
            print(f"scorer: {_text_safe(problem_line(pr))}", file=sys.stderr)
        raise InputError("no repository report could be merged from the inputs")

    if args.json:
        _atomic_write(args.json, lambda fh: (json.dump(org, fh, indent=2), fh.write("\n")))
    if args.markdown:
        _atomic_write(args.markdown, lambda fh: fh.write(org_markdown.render(org)))
    if args.html:
        _atomic_write(args.html, lambda fh: fh.write(org_html.render(org)))
    if args.jsonl:

        def write_rows(fh):
            for row in merger.jsonl_rows():
                fh.write(json.dumps(row, separators=(",", ":")))
                fh.write("\n")

        _atomic_write(args.jsonl, write_rows)

    if args.format == "json":
        sys.stdout.write(json.dumps(org, indent=2) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(org_markdown.render(org))
    else:
        sys.stdout.write(render_text(org))
    if args.strict and org["problems"]:
        print(f"scorer: {len(org['problems'])} input problems (--strict)", file=sys.stderr)
        return 2
    return 0
