"""``scorer agents``: the effective agent registry (shipped entries plus the config's)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from scorer.attribution.registry import OTHER, OTHER_NAME, Registry, load_registry
from scorer.config import load_config
from scorer.errors import InputError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "path",
        nargs="?",
        default=".",
        metavar="PATH",
        help="repository whose .normalized-deployments.yml is read (default: .)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="configuration file whose agents: entries extend or override the shipped ones "
        "(default: PATH/.normalized-deployments.yml when it exists)",
    )
    p.add_argument(
        "--format",
        choices=("text", "yaml"),
        default="text",
        help="text: a table (default); yaml: the registry data, in the schema of agents.yml",
    )


def effective_registry(config: str | None, repo_dir: Path) -> Registry:
    cfg = load_config(Path(config) if config else None, repo_dir)
    try:
        return load_registry(cfg.agents)
    except ValueError as err:  # e.g. one id defined twice in the file
        raise InputError(f"agents: {err}", path=str(cfg.path) if cfg.path else None) from None


def render_table(registry: Registry) -> str:
    rows = [("ID", "NAME", "EVIDENCE", "SOURCE")]
    for a in registry.agents:
        rows.append((a.id, a.name, " ".join(a.evidence_kinds()), a.source))
    rows.append((OTHER, OTHER_NAME, "trailer note line", "built-in"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for r in rows:
        cells = [r[i].ljust(widths[i]) for i in range(3)]
        lines.append("  ".join([*cells, r[3]]).rstrip())
    lines.insert(1, "  ".join("-" * w for w in (*widths, len("SOURCE"))))
    added = sum(1 for a in registry.agents if a.source == "config")
    lines.append("")
    lines.append(
        f"{len(registry.agents)} agents ({added} from the configuration), plus {OTHER!r}: "
        "an attribution naming an unknown agent."
    )
    bots = registry.bots.get("names", ())
    sample = ", ".join((*bots[:6], "any *[bot]"))
    lines.append(f"Bots (never agents, never contributors): {sample}, …")
    lines.append("Evidence: trailer, identity, note (high); line, footer (medium).")
    lines.append("Every pattern: scorer agents --format yaml")
    return "\n".join(lines) + "\n"


def render_yaml(registry: Registry) -> str:
    return yaml.safe_dump(
        registry.to_data(), sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    )


def run(args: argparse.Namespace) -> int:
    registry = effective_registry(args.config, Path(args.path))
    out = render_yaml(registry) if args.format == "yaml" else render_table(registry)
    sys.stdout.write(out)
    return 0
