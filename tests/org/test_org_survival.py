"""The org report's code survival: lines summed across repositories, then divided (never an
average of rates), and charted AI vs human by repository."""

from __future__ import annotations

import pytest
from org_reports import report

from scorer.formats import org_html, org_markdown
from scorer.org.merge import OrgMerger


def _block(ai: tuple[int, int], human: tuple[int, int], reason: str | None = None) -> dict:
    def side(kept: int, added: int) -> dict:
        rate = round(kept / added, 6) if added else None
        return {"surviving_lines": kept, "added_lines": added, "rate": rate, "changes": 1}

    return {
        "horizon_days": 30.0,
        "cohort": {"since": "2026-01-03T00:00:00Z", "until": "2026-01-31T00:00:00Z"},
        "deploy_sha": "a" * 40,
        "ai": side(*ai),
        "human": side(*human),
        "by_agent": {},
        "rework_share": None,
        "reason": reason,
    }


def _merge(*reports: dict) -> dict:
    m = OrgMerger()
    for i, r in enumerate(reports):
        assert m.add(r, f"input{i}.json")
    return m.result()


def test_totals_sum_lines_not_rates():
    a = report("org/a")
    a["code_survival"] = _block((9, 10), (1, 100))  # 90% and 1%
    b = report("org/b", people=("b@example.com",))
    b["code_survival"] = _block((10, 1000), (99, 100))  # 1% and 99%
    c = report("org/c", people=("c@example.com",))  # an older report: no block
    org = _merge(a, b, c)
    cs = org["totals"]["code_survival"]
    assert cs == {
        "repositories": 2,
        "horizon_days": 30.0,
        "ai": {"surviving_lines": 19, "added_lines": 1010, "rate": 0.018812},
        "human": {"surviving_lines": 100, "added_lines": 200, "rate": 0.5},
    }
    rows = {r["name"]: r["code_survival"] for r in org["repositories"]}
    assert rows["org/c"] is None
    assert rows["org/a"]["ai"] == {"surviving_lines": 9, "added_lines": 10, "rate": 0.9}
    page = org_html.render(org)
    assert 'aria-label="Code survival, AI vs human"' in page
    assert "org/a ai: 9 of 10 lines still in production" in page
    assert "all repositories human: 100 of 200 lines still in production" in page
    assert "Code still in production after 30 days: AI vs human" in page
    md = org_markdown.render(org)
    assert "| AI code still in production after 30 days | 2% | 19 of 1,010 lines, " in md
    assert "| human code still in production after 30 days | 50% | 100 of 200 lines, 2 " in md


def test_invalid_block_is_a_problem_line():
    a = report("org/a")
    a["code_survival"] = _block((9, 10), (1, 2))
    a["code_survival"]["ai"]["added_lines"] = -1
    m = OrgMerger()
    assert not m.add(a, "input0.json")
    org = m.result()
    assert [p["kind"] for p in org["problems"]] == ["invalid"]
    assert "code_survival.ai.added_lines is negative" in org["problems"][0]["detail"]


@pytest.mark.parametrize("reason", ["no successful deploy at or before now"])
def test_no_cohort_anywhere_says_so(reason):
    a = report("org/a")
    a["code_survival"] = _block((0, 0), (0, 0), reason)
    org = _merge(a)
    assert org["totals"]["code_survival"]["repositories"] == 0
    assert org["totals"]["code_survival"]["ai"]["rate"] is None
    assert "No repository has a cohort of deployed changes old enough." in org_html.render(org)


def test_different_horizons_are_a_problem_line():
    a = report("org/a")
    a["code_survival"] = _block((1, 2), (1, 2))
    b = report("org/b", people=("b@example.com",))
    b["code_survival"] = dict(_block((1, 2), (1, 2)), horizon_days=14.0)
    org = _merge(a, b)
    assert org["totals"]["code_survival"]["horizon_days"] is None
    assert org["totals"]["code_survival"]["ai"]["added_lines"] == 4
    assert [p["detail"] for p in org["problems"] if p["kind"] == "settings-mismatch"] == [
        "code survival was measured over different horizons (14, 30 days): its totals add "
        "lines of different ages"
    ]
