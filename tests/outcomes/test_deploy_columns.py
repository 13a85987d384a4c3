"""DeployList's column helpers (scorer/outcomes/deploys.py): joining runs of positions of
other lists re-codes their environments in order of first use, and a serial is found in the
column by bisection where serials grow, else by a dict."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from scorer.model import DeployEvent
from scorer.outcomes.deploys import DeployList, DeployResult


def _d(env: str, serial: int, when: int) -> DeployResult:
    ev = DeployEvent(
        id=f"{env}-{serial}",
        sha="a" * 40,
        environment=env,
        time=datetime.fromtimestamp(when, tz=timezone.utc),
        status="success",
    )
    return DeployResult(ev, node=serial, outcome="survived", shipped=[serial], serial=serial)


def test_joined_recodes_environments_in_order_of_first_use():
    src = DeployList.from_results(
        [_d("qa", 0, 1), _d("staging", 1, 2), _d("staging", 2, 3), _d("production", 3, 4)]
    )
    assert src.env_names == ["qa", "staging", "production"]
    out = DeployList.joined([(src, 1, 4), [_d("qa", 9, 5)], (src, 0, 1)])
    assert out.env_names == ["staging", "production", "qa"]
    assert [out.environment(p) for p in range(len(out))] == [
        "staging",
        "staging",
        "production",
        "qa",
        "qa",
    ]
    assert list(out.serial) == [1, 2, 3, 9, 0]
    assert out.env_ranges() == {"staging": (0, 2), "production": (2, 3), "qa": (3, 5)}
    # a run that uses none of its list's environments adds no name
    assert DeployList.joined([(src, 1, 1), (src, 3, 4)]).env_names == ["production"]


def test_position_of_serial_by_bisection_or_by_dict():
    # serials grow within each environment's run (as linking and a warm run number them)
    ds = [_d("staging", 0, 1), _d("staging", 4, 2), _d("production", 1, 3), _d("production", 9, 4)]
    lst = DeployList.from_results(ds)
    assert [lst.position_of_serial(s) for s in (0, 4, 1, 9)] == [0, 1, 2, 3]
    assert lst._by_serial is None  # found by bisection
    with pytest.raises(KeyError):
        lst.position_of_serial(5)
    # any other order: a dict
    ds = [_d("production", s, k) for k, s in enumerate([7, 3, 12, 0])]
    lst = DeployList.from_results(ds)
    assert [lst.position_of_serial(s) for s in (7, 3, 12, 0)] == [0, 1, 2, 3]
    assert lst._by_serial is not None
