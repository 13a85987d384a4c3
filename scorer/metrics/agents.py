"""The per-agent breakdown (section 7): changes, counted changes and survived deploys each agent
took part in. An agent is a tool, never a person: nothing here ranks people."""

from __future__ import annotations

from collections import defaultdict

from scorer.outcomes.flags import COUNTED, Outcomes


def agent_rows(commits, outcomes: Outcomes, in_period, survived, min_confidence) -> dict:
    rows: dict[str, dict] = defaultdict(
        lambda: {"changes": 0, "counted_changes": 0, "deploys_survived": 0}
    )
    flags = outcomes.flags
    for i in in_period:
        for agent in commits.agents(i, min_confidence):
            rows[agent]["changes"] += 1
            if flags[i] & COUNTED:
                rows[agent]["counted_changes"] += 1
    for p in survived:
        agents = {
            a
            for c in outcomes.deploys[p].shipped
            if flags[c] & COUNTED
            for a in commits.agents(c, min_confidence)
        }
        for a in agents:
            rows[a]["deploys_survived"] += 1
    return {k: rows[k] for k in sorted(rows)}


def review_bot_rows(commits, in_period, min_confidence) -> dict:
    """The review bots (registry kind ``review-bot``) whose suggestions the period's changes
    carry: reported apart from the agents, since they do not make a change AI-assisted."""
    rows: dict[str, dict] = {}
    for i in in_period:
        for bot in commits.agents(i, min_confidence, review_bots=True):
            rows.setdefault(bot, {"changes": 0})["changes"] += 1
    return dict(sorted(rows.items()))
