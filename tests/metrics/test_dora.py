"""DORA by hand (METRIC.md section 8): the split into deploys with and without AI changes,
each expected number worked out from METRIC.md in the comments next to it, so that a change
to the rules shows up as a wrong number, not as a silently different one.

now = T0 + 40d, window 7d: the headline period is [T0 + 5d, T0 + 33d), 4 weeks, and every
deploy in it is judged. Time to restore once ignored the source order of deploys at equal
times; that test stays as a regression.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import T0
from scenario import ANN, BOB, ai_msg
from scenario import shipped as _shipped

NOW = T0 + timedelta(days=40)
D = timedelta(days=1)


def test_dora_split_by_hand(sc):
    r = sc.repo
    a = r.commit(ai_msg("A"), when=T0 + 6 * D, author=ANN)
    sc.deploy(a, T0 + 7 * D, ident="A1")
    h = r.commit("Human\n", when=T0 + 8 * D, author=BOB)
    sc.deploy(h, T0 + 10 * D, ident="H1")
    r.branch("exp")
    r.checkout("exp")
    x = r.commit(ai_msg("Experiment"), when=T0 + 11 * D, author=ANN)
    r.checkout("main")
    sc.deploy(x, T0 + 12 * D, ident="X")  # ships x (P = H1 = h)
    sc.deploy(h, T0 + 13 * D, ident="R")  # rolls X back; h is an ancestor of x: ships nothing
    y = r.commit(ai_msg("Y"), when=T0 + 14 * D, author=BOB)
    sc.deploy(y, T0 + 15 * D, status="failure", ident="F")  # would have shipped y
    sc.deploy(y, T0 + 16 * D, ident="Y")  # ships y (P = R = h; F is never P)
    r.merge("exp", when=T0 + 17 * D)  # so that x is in the scanned history (not a change)
    rep = sc.scan(NOW)
    # (the report lists the deploys from the period's start: d0 is before it)
    assert sc.outcomes(rep) == {
        "A1": "survived",  # H1, X, R all contain a within 7d
        "H1": "survived",  # X, R, Y contain h
        "X": "rolled_back",  # R (13d) runs h, which does not contain x
        "R": "survived",  # Y contains h
        "F": "failed",
        "Y": "survived",  # nothing later; now >= 16d + 7d
    }
    assert _shipped(rep) == {"A1": 1, "H1": 1, "X": 1, "R": 0, "F": 0, "Y": 1}
    ai, non_ai = rep["dora"]["ai"], rep["dora"]["non_ai"]
    # AI group = deploys whose changes include an AI change: A1 [a], X [x], F [y attempted], Y [y]
    # successful: A1, X, Y = 3 -> 3 / 4 weeks = 0.75 per week
    # lead: a 7d-6d = 24h (A1), x 12d-11d = 24h (X), y 16d-14d = 48h (Y) -> median 24h
    # CFR: (F failed + X rolled back) / 4 judged = 0.5
    # restore: X 12d -> R 13d = 24h; F 15d -> Y 16d = 24h -> median 24h
    assert ai == {
        "deploys": 4,
        "successful_deploys": 3,
        "deployment_frequency_per_week": 0.75,
        "lead_time_hours_median": 24.0,
        "change_failure_rate": 0.5,
        "failed_or_rolled_back": 2,
        "judged_deploys": 4,
        "time_to_restore_hours_median": 24.0,
    }
    # non-AI group: H1 [h], R [] -> 2 successful -> 0.5 per week; lead h 10d-8d = 48h;
    # CFR 0 / 2; nothing to restore. (d0 is before the period.)
    assert non_ai == {
        "deploys": 2,
        "successful_deploys": 2,
        "deployment_frequency_per_week": 0.5,
        "lead_time_hours_median": 48.0,
        "change_failure_rate": 0.0,
        "failed_or_rolled_back": 0,
        "judged_deploys": 2,
        "time_to_restore_hours_median": None,
    }
    m = rep["metric"]
    # survived in period: A1, H1, R, Y = 4; with a counted change: A1 (a), Y (y) = 2;
    # contributors: ann (a, x), bob (h, y) = 2, active in 3 person-weeks (v2): ND = 2 / 3;
    # 4 / 3 (v1: 2 / 2 / 4 = 0.25 and 4 / 2 / 4 = 0.5)
    assert (m["deploys_survived"], m["ai_deploys_survived"], m["contributors"]) == (4, 2, 2)
    assert m["developer_weeks"] == 3.0
    assert m["normalized_deployments"] == 0.666667
    assert m["deploys_survived_per_dev_week"] == 1.333333
    assert m["ai_share_of_survived_deploys"] == 0.5


@pytest.mark.parametrize("failed_first", [True, False])
def test_time_to_restore_respects_source_order_at_equal_times(sc, failed_first):
    x = sc.repo.commit(ai_msg("x"), when=T0 + 6 * D, author=ANN)
    if failed_first:
        sc.deploy(x, T0 + 7 * D, status="failure", ident="f")
        sc.deploy(x, T0 + 7 * D, ident="s")
    else:
        sc.deploy(x, T0 + 7 * D, ident="s")
        sc.deploy(x, T0 + 7 * D, status="failure", ident="f")
    y = sc.repo.commit(ai_msg("y"), when=T0 + 8 * D, author=ANN)
    sc.deploy(y, T0 + 9 * D, ident="s2")
    rep = sc.scan(NOW)
    assert sc.outcomes(rep) == {"f": "failed", "s": "survived", "s2": "survived"}
    # Section 3: events of one environment are ordered by time, then by source order.
    # failed_first: the next survived deploy after f is s (same instant): restore 0 h.
    #   (the code says 48 h: s2 at 9d - 7d)
    # otherwise: s comes before f, so the next survived deploy after f is s2: 9d - 7d = 48 h.
    #   f then redeploys the code s already runs: it would have shipped nothing, so the DORA
    #   split files it with the deploys without AI changes.
    if failed_first:
        assert rep["dora"]["ai"]["time_to_restore_hours_median"] == 0.0
    else:
        assert rep["dora"]["non_ai"]["time_to_restore_hours_median"] == 48.0
        assert rep["dora"]["ai"]["time_to_restore_hours_median"] is None
