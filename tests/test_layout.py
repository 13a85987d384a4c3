"""The package reads as the flow: one package per stage, the cache machinery behind one
interface, no rule module aware that a cache exists."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "scorer"
# Who may import scorer.incremental: itself, the pipeline that chooses the accelerator, and
# the commands.
MAY_IMPORT_INCREMENTAL = ("incremental/", "pipeline.py", "commands/")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_only_the_pipeline_and_commands_know_the_cache():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(MAY_IMPORT_INCREMENTAL):
            continue
        if any(
            n == "scorer.incremental" or n.startswith("scorer.incremental.") for n in _imports(path)
        ):
            offenders.append(rel)
    assert offenders == []


def test_a_rule_module_importing_the_cache_is_caught(tmp_path):
    """The check above is not vacuous: it sees an import of the cache in any form."""
    probe = tmp_path / "probe.py"
    probe.write_text("from scorer.incremental import cache\nimport scorer.incremental.session\n")
    assert {"scorer.incremental", "scorer.incremental.session"} <= _imports(probe)


def test_few_modules_at_the_top_and_every_package_says_its_role():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 10, top
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc) > 40, f"{init.parent.name}/ has no docstring saying its role"


def test_no_test_helper_in_the_package():
    assert not (PACKAGE / "gitbuild.py").exists()
    for path in PACKAGE.rglob("*.py"):
        assert "gitbuild" not in _imports(path), path
