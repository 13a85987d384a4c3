"""The terminal report: colour and bold only for a terminal (NO_COLOR, FORCE_COLOR), the
headline first, counted nouns that agree ("1 contributor"), shortened lists that say what they
left out, and the deploys of the period as a table (in Markdown too)."""

from __future__ import annotations

import copy
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from scorer.demo import build_demo
from scorer.formats import markdown, text
from scorer.formats.words import more, plural
from scorer.pipeline import ScanOptions, run_scan

NOW = datetime(2026, 12, 2, 21, 0, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    repo, log = build_demo(root / "d", NOW)
    report = run_scan(ScanOptions(path=repo, deploys=[f"log:{log}"], now=NOW, progress=False))
    return repo, log, report.report


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("tty", "env", "expected"),
    [
        (True, {}, True),
        (False, {}, False),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": ""}, True),  # an empty NO_COLOR is not set (no-color.org)
        (False, {"FORCE_COLOR": "1"}, True),
        (False, {"FORCE_COLOR": "0"}, False),
        (True, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
        (True, {"TERM": "dumb"}, False),
    ],
)
def test_use_color(tty, env, expected):
    stream = _Tty() if tty else io.StringIO()
    assert text.use_color(stream, env) is expected


def test_words():
    assert plural(1, "contributor") == "1 contributor"
    assert plural(3, "contributor") == "3 contributors"
    assert plural(1.0, "week") == "1 week"
    assert plural(4.0, "week") == "4 weeks"
    assert plural(1204, "commit") == "1,204 commits"
    assert more(1, "signal") == "… and 1 more signal"
    assert more(12, "signal") == "… and 12 more signals"


def test_plain_text_headline_first_and_the_deploys_table(demo):
    out = text.render(demo[2])
    assert "\x1b" not in out
    lines = out.splitlines()
    assert lines[0] == (
        "Normalized deployments: 0.75 = 6 AI deploys survived / 8 developer-weeks "
        "(3 contributors over 4 weeks)"
    )
    start = lines.index(
        "Deploys in the period (✓: survived and shipped an AI-assisted change that counts)"
    )
    assert lines[start + 1 : start + 15] == [
        "  time              deploy     outcome      AI changes  counts",
        "  ────────────────  ─────────  ───────────  ──────────  ──────",
        "  2026-11-03 03:00  deploy-3   failed                0",
        "  2026-11-03 05:00  deploy-4   survived              1       ✓",
        "  2026-11-10 03:00  deploy-5   rolled back           1",
        "  2026-11-12 03:00  deploy-6   survived              0",
        "  2026-11-15 03:00  deploy-7   survived              2       ✓",
        "  2026-11-17 03:00  deploy-8   survived              0",
        "  2026-11-20 03:00  deploy-9   survived              6       ✓",
        "  2026-11-21 03:00  deploy-10  survived              1       ✓",
        "  2026-11-23 03:00  deploy-11  survived              1       ✓",
        "  2026-11-25 03:00  deploy-12  survived              0",
        "  … and 1 more earlier deploy in the JSON report",
        "",
    ]
    # The ✓s are exactly the AI deploys survived.
    assert out.count("       ✓\n") + 1 == 6  # deploy-2 is the one left out, and it counts


def test_colour_is_the_same_words_with_bold_headline(demo):
    plain = text.render(demo[2])
    coloured = text.render(demo[2], color=True)
    assert coloured.startswith("\x1b[1mNormalized deployments: 0.75\x1b[0m = 6 AI deploys")
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain
    assert "\x1b[31mrolled back\x1b[0m" in coloured and "\x1b[32msurvived\x1b[0m" in coloured


def test_one_of_each_and_shortened_lists(demo):
    report = copy.deepcopy(demo[2])
    report["metric"].update(contributors=1, ai_deploys_survived=1, developer_weeks=1.0)
    report["signals"] = [{"kind": "trivial-ai-burst", "detail": f"burst {i}"} for i in range(11)]
    out = text.render(report)
    assert out.splitlines()[0].endswith(
        "= 1 AI deploy survived / 1 developer-week (1 contributor over 4 weeks)"
    )
    assert "1 contributors" not in out and "1 developer-weeks" not in out
    assert "  ! trivial-ai-burst: burst 9\n  … and 1 more signal\n" in out
    assert "burst 10" not in out
    report["signals"].append({"kind": "x", "detail": "y"})
    assert "… and 2 more signals" in text.render(report)


def test_markdown_lists_the_deploys_of_the_period(demo):
    md = markdown.render(demo[2])
    start = md.index("### Deploys in the period")
    table = md[start:].split("\n\n")[1].splitlines()
    assert table[:4] == [
        "| Time (UTC) | Deploy | Outcome | AI changes | Counts |",
        "| --- | --- | --- | ---: | --- |",
        "| 2026-11-25 03:00 | `deploy-12` | survived | 0 |  |",
        "| 2026-11-23 03:00 | `deploy-11` | survived | 1 | ✓ |",
    ]
    assert len(table) == 2 + 11  # every deploy of the period: 11, fewer than 20
    assert table[-1] == "| 2026-10-30 03:00 | `deploy-2` | survived | 1 | ✓ |"
    assert "| 2026-11-10 03:00 | `deploy-5` | rolled back | 1 |  |" in table
    assert "1 AI deploy survived" not in md and "6 AI deploys survived" in md


def _scan_cmd(repo: Path, log: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "scorer",
        "scan",
        str(repo),
        "--deploys",
        f"log:{log}",
        "--now",
        "2026-12-02T21:00:00Z",
    ]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    env["PYTHONPATH"] = str(ROOT)
    env["TERM"] = "xterm-256color"
    env.update(extra)
    return env


@pytest.mark.skipif(not shutil.which("script"), reason="util-linux script gives a terminal")
@pytest.mark.parametrize(
    ("extra", "bold"),
    [({}, True), ({"NO_COLOR": "1"}, False)],
    ids=["terminal", "terminal with NO_COLOR"],
)
def test_a_real_terminal(demo, extra, bold):
    repo, log, _ = demo
    cmd = shlex.join(_scan_cmd(repo, log)) + " 2>/dev/null"  # the report alone, no progress
    proc = subprocess.run(
        ["script", "-qec", cmd, "/dev/null"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(**extra),
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout.replace("\r\n", "\n")
    assert out.startswith("\x1b[1mNormalized deployments: 0.75\x1b[0m") is bold, out[:200]
    assert ("\x1b[" in out) is bold
    assert "6 AI deploys survived / 8 developer-weeks (3 contributors over 4 weeks)\n" in out


@pytest.mark.parametrize(("extra", "bold"), [({}, False), ({"FORCE_COLOR": "1"}, True)])
def test_a_pipe(demo, extra, bold):
    repo, log, _ = demo
    proc = subprocess.run(
        _scan_cmd(repo, log), capture_output=True, text=True, timeout=120, env=_env(**extra)
    )
    assert proc.returncode == 0, proc.stderr
    assert ("\x1b[" in proc.stdout) is bold
    assert proc.stdout.startswith(
        "\x1b[1mNormalized deployments: 0.75\x1b[0m" if bold else "Normalized deployments: 0.75 = "
    )
