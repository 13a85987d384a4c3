"""A terminal report a person enjoys reading: the headline with its arithmetic, then detail."""

from __future__ import annotations

from collections.abc import Sequence

BARS = " ▁▂▃▄▅▆▇█"


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def _num(x: float) -> str:
    return f"{x:.2f}"


def _clean(s: str, width: int = 60) -> str:
    s = "".join(ch if ch.isprintable() else " " for ch in s)
    return s if len(s) <= width else s[: width - 1] + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], indent: str = "  ") -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    out = []
    for n, row in enumerate(cells):
        parts = [
            row[i].ljust(widths[i]) if i == 0 else row[i].rjust(widths[i]) for i in range(len(row))
        ]
        out.append(indent + "  ".join(parts).rstrip())
        if n == 0:
            out.append(indent + "  ".join("─" * w for w in widths))
    return "\n".join(out)


def sparkline(values: Sequence[float]) -> str:
    top = max(values, default=0)
    if top <= 0:
        return BARS[1] * len(values)
    return "".join(BARS[max(1, round(v / top * (len(BARS) - 1)))] for v in values)


def render(report: dict) -> str:
    repo, m, p, h = report["repository"], report["metric"], report["period"], report["history"]
    weeks = m["weeks"]
    lines = [
        f"scorer · {_clean(repo['name'])} @ {repo['head'][:12]} ({_clean(repo['ref'], 40)})",
        f"judged at {report['now']} · rollback window {report['window_days']:g} days · "
        f"min confidence {report['min_confidence']}",
        f"period {p['since']} → {p['until']} ({weeks:g} weeks)"
        + ("  [partial: includes deploys not yet judged]" if p["partial"] else ""),
        "",
        f"  Normalized deployments     {_num(m['normalized_deployments']):>6}"
        f"   = {m['ai_deploys_survived']} AI deploys survived / {m['contributors']} contributors"
        f" / {weeks:g} weeks",
        f"  Deploys survived/dev/week  {_num(m['deploys_survived_per_dev_week']):>6}"
        f"   = {m['deploys_survived']} deploys survived / {m['contributors']} contributors"
        f" / {weeks:g} weeks",
        f"  AI share of survived       {_pct(m['ai_share_of_survived_deploys']):>6}"
        f"   = {m['ai_deploys_survived']} / {m['deploys_survived']} survived deploys",
        f"  Attribution coverage       {_pct(p['attribution_coverage']):>6}"
        f"   = {p['ai_changes']} AI-assisted / {p['changes']} changes (a lower bound)",
    ]
    if m.get("why_zero"):
        lines.append(f"  (0 because {m['why_zero']})")
    o = m["deploys_by_outcome"]
    lines += [
        "",
        f"Deploys in period: {m['deploys']} — survived {o['survived']} · rolled back "
        f"{o['rolled_back']} · failed {o['failed']} · pending {o['pending']}",
    ]
    a = m["ai_changes_by_outcome"]
    lines.append(
        f"AI changes in period: {p['ai_changes']} — shipped and survived {a['survived']} · "
        f"shipped, not survived {a['shipped_not_survived']} · unshipped {a['unshipped']} · "
        f"reverted {a['reverted']} · trivial {a['trivial']}"
    )
    lines.append(
        f"Whole history: {h['commits']:,} commits, {h['changes']:,} changes, {h['ai_changes']:,} "
        f"AI-assisted ({h['counted_ai_changes']:,} count, {h['trivial_ai_changes']:,} trivial, "
        f"{h['reverted_ai_changes']:,} reverted), {h['deploys']:,} deploys"
    )
    if report["agents"]:
        rows = [
            [_clean(k, 30), v["changes"], v["counted_changes"], v["deploys_survived"]]
            for k, v in sorted(report["agents"].items(), key=lambda kv: -kv[1]["changes"])
        ]
        lines += [
            "",
            "Agents (period)",
            table(["agent", "changes", "counted", "deploys survived"], rows),
        ]
    dora = report["dora"]
    if dora:

        def fmt(v, kind):
            if v is None:
                return "—"
            return _pct(v) if kind == "pct" else f"{v:g}"

        spec = [
            ("deploys", "deploys", "n"),
            ("deploys/week", "deployment_frequency_per_week", "n"),
            ("lead time (h, median)", "lead_time_hours_median", "n"),
            ("change failure rate", "change_failure_rate", "pct"),
            ("time to restore (h, median)", "time_to_restore_hours_median", "n"),
        ]
        rows = [
            [label, fmt(dora["ai"][k], kind), fmt(dora["non_ai"][k], kind)]
            for label, k, kind in spec
        ]
        lines += ["", "DORA (period)", table(["", "AI", "non-AI"], rows)]
    weekly = report.get("weeks") or []
    if weekly:
        vals = [w["normalized_deployments"] for w in weekly]
        lines += [
            "",
            f"Weekly trend {weekly[0]['week']} … {weekly[-1]['week']}: {sparkline(vals)}"
            f"  (latest complete: "
            + next(
                (_num(w["normalized_deployments"]) for w in reversed(weekly) if w["complete"]), "—"
            )
            + ")",
        ]
    if report["signals"]:
        lines += ["", "Signals (listed, never silently counted or dropped)"]
        lines += [f"  ! {s['kind']}: {_clean(s['detail'], 200)}" for s in report["signals"]]
    lines += [
        "",
        "Counts deploys that shipped AI-assisted changes and survived the rollback window;",
        "more commits, prompts or tokens cannot raise it. Attribution trailers are opt-out and",
        "often stripped (squash merges, rebases): coverage is a lower bound.",
    ]
    return "\n".join(lines) + "\n"
