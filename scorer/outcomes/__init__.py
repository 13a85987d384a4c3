"""Outcomes (METRIC.md sections 4-6): what each deploy shipped and how it ended
(``linking``), which changes were reverted (``reverts``), and what each change came to
(``change``), kept as flags per commit row (``flags``).

Pure: the graph, the commits, the resolved deploy events, the window and ``now`` in;
``Outcomes`` out. The outside calls are ``substantive``, asked once about the changes whose
verdict can matter (those with AI evidence), and ``contains``, asked about a deploy followed
by one whose commit does not descend from its own (``containment``).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from scorer.model import DeployEvent
from scorer.outcomes.change import set_attribution
from scorer.outcomes.deploys import DeployList
from scorer.outcomes.flags import CHANGE, Outcomes
from scorer.outcomes.graph import Graph
from scorer.outcomes.linking import link_deploys, mark_shipped
from scorer.outcomes.reach import (
    Reach,
    judge_trend_deploys,
    likely_trend_firsts,
    reachable,
    trend_groups,
)
from scorer.outcomes.reverts import (
    prefix_matcher,
    resolve_reverts,
    revert_commits,
    update_reverted,
)
from scorer.outcomes.table import CommitTable


def compute_outcomes(
    graph: Graph,
    table: CommitTable,
    events: Sequence[DeployEvent],
    *,
    window: timedelta,
    now: datetime,
    min_confidence: str,
    substantive: Callable[[list[int]], dict[int, bool]],
    contains: Callable[[int, int], bool] | None = None,
    reach: Reach | None = None,
    prefetch: Callable[[list[int]], None] | None = None,
) -> Outcomes:
    """Every deploy's outcome and every change's flags, at ``now``. ``contains(d, r)``: does
    the code of deploy row ``r`` contain that of ``d`` (section 5; ``containment``), default
    ancestry. ``reach``: where the report's figures start; only the AI changes that can reach
    it are judged (diffed), all of them when None (``scorer.outcomes.reach``). ``prefetch``:
    told early of rows that will likely be judged (git diffs them meanwhile)."""
    deploys = DeployList.from_results(link_deploys(graph, events, window, now, contains))
    if reach is not None and prefetch is not None:
        prefetch(likely_trend_firsts(table, deploys, reach))
    flags = bytearray(CHANGE if len(ps) <= 1 else 0 for ps in table.parents)
    first = array("i", [-1]) * len(table)
    reverters = resolve_reverts(table.reverts.items(), prefix_matcher(graph))
    # A revert undoes work; it does not ship any. Counting one would let an AI change and its
    # AI-attributed revert, deployed together, add an AI deploy (METRIC.md section 9).
    reverts = revert_commits(table, reverters)
    outcomes = Outcomes(deploys, flags, first, {}, {}, reverts, reverters)
    mark_shipped(outcomes, outcomes.deploys)
    update_reverted(table, outcomes, sorted(reverters), window, now)
    any_ai = [i for i in table.evidence if flags[i] & CHANGE]
    set_attribution(table, outcomes, any_ai, min_confidence)  # AI flags; nothing judged yet
    if reach is None:
        asked = sorted(any_ai)
    else:
        # The trend deploys' first candidates go to git with the rest: one wait, not two.
        firsts = [g[0] for g in trend_groups(outcomes, reach)]
        asked = sorted({*reachable(table, outcomes, reach), *firsts})
    outcomes.substantive = dict(substantive(asked))
    set_attribution(table, outcomes, asked, min_confidence)
    if reach is not None:
        judge_trend_deploys(table, outcomes, reach, substantive, min_confidence)
    return outcomes
