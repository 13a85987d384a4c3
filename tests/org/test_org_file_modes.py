"""Org outputs are files to share: written with the mode a plain file gets under the umask
(0644 under umask 022), not tempfile's 0600 — as ``scan --json`` writes its report."""

from __future__ import annotations

import os
import stat

import pytest
from org_reports import report, write

from scorer.cli import main


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_org_outputs_get_the_umask_mode(tmp_path, umask_022, capsys):
    src = write(tmp_path / "in" / "a.json", report("acme/a"))
    outs = {ext: tmp_path / f"org.{ext}" for ext in ("json", "jsonl", "md", "html")}
    code = main(
        [
            "org",
            str(src),
            "--json",
            str(outs["json"]),
            "--jsonl",
            str(outs["jsonl"]),
            "--markdown",
            str(outs["md"]),
            "--html",
            str(outs["html"]),
        ]
    )
    assert code == 0, capsys.readouterr().err
    modes = {ext: stat.S_IMODE(p.stat().st_mode) for ext, p in outs.items()}
    assert modes == {"json": 0o644, "jsonl": 0o644, "md": 0o644, "html": 0o644}
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_org_output_follows_a_stricter_umask(tmp_path, capsys):
    src = write(tmp_path / "in" / "a.json", report("acme/a"))
    old = os.umask(0o077)
    try:
        assert main(["org", str(src), "--html", str(tmp_path / "org.html")]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "org.html").stat().st_mode) == 0o600


def test_org_output_into_a_missing_directory_is_an_input_error(tmp_path, capsys):
    src = write(tmp_path / "in" / "a.json", report("acme/a"))
    assert main(["org", str(src), "--json", str(tmp_path / "nope" / "org.json")]) == 2
    assert "the directory to write into does not exist" in capsys.readouterr().err
