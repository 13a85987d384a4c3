"""DeployList's column helpers (scorer/outcomes/deploys.py): joining runs of positions of
other lists re-codes their environments in order of first use, and a serial is found in the
column's bytes (aligned matches only), then by a dict once lookups are many."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from scorer.model import DeployEvent
from scorer.outcomes import deploys as deploys_mod
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


def test_position_of_serial_only_at_aligned_positions(monkeypatch):
    # 0x01000000 and 0x00000100 share bytes across two neighbours' boundary: a match there
    # is not a serial
    serials = [0x00000100, 0x01000000, 7, 0x00010000]
    ds = [_d("production", s, k) for k, s in enumerate(serials)]
    lst = DeployList.from_results(ds)
    for p, s in enumerate(serials):
        assert lst.position_of_serial(s) == p
    with pytest.raises(KeyError):
        lst.position_of_serial(0x00000001)
    monkeypatch.setattr(deploys_mod, "_FINDS_BEFORE_DICT", 2)
    lst = DeployList.from_results(ds)
    assert [lst.position_of_serial(s) for s in serials * 2] == [0, 1, 2, 3] * 2
    assert lst._by_serial is not None
    with pytest.raises(KeyError):
        lst.position_of_serial(5)
