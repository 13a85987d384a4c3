"""``.normalized-deployments.yml``: load, defaults, and validation that names file and line.

Precedence: command-line flags, then this file, then the defaults below. Unknown keys are
errors (a misspelt ``enviroments:`` silently ignored would silently change the score).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

from scorer.deploys import DeploySpec, parse_spec
from scorer.errors import InputError
from scorer.model import CONFIDENCE_RANK
from scorer.util.record import Record
from scorer.util.times import parse_duration

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~9 ms) at run time
if TYPE_CHECKING:
    from typing import Any

    import yaml

# yaml (~19 ms to import) is imported only when a config file is actually parsed.

CONFIG_NAME = ".normalized-deployments.yml"
DEFAULT_DEPLOYS = ("tags:v*",)
DEFAULT_WINDOW = timedelta(days=7)
DEFAULT_HORIZON = timedelta(days=30)  # code survival (METRIC.md section 10)
# Files a release bumps and that hold nothing but its version or its notes: a change that
# touches only these does not decide whether a later deploy still runs an earlier one
# (METRIC.md section 5, scorer.outcomes.containment). Conservative on purpose: manifests
# (package.json, pyproject.toml, Cargo.toml, setup.py, *.gemspec) also carry dependencies, and
# a dependency bump is code a rollback takes away; a project whose releases bump them adds them
# with ``version_files``.
DEFAULT_VERSION_FILES = (
    "VERSION",
    "VERSION.txt",
    "version.txt",
    "_version.py",
    "*/version.py",
    "src/*/version.py",
    "lib/*/version.rb",
    "CHANGELOG*",
    "CHANGES*",
)
KEYS = (
    "window",
    "environments",
    "deploys",
    "min_confidence",
    "exclude_paths",
    "version_files",
    "agents",
    "survival_horizon",
)


class Config(Record):
    _fields = (
        "path",
        "window",
        "environments",
        "deploys",
        "min_confidence",
        "exclude_paths",
        "version_files",
        "agents",
        "survival_horizon",
    )
    __slots__ = _fields

    def __init__(
        self,
        path: Path | None = None,
        window: timedelta | None = None,
        environments: list[str] | None = None,
        deploys: list[DeploySpec] | None = None,
        min_confidence: str | None = None,
        exclude_paths: list[str] | None = None,
        agents: list[Mapping[str, Any]] | None = None,
        version_files: list[str] | None = None,
        survival_horizon: timedelta | None = None,
    ) -> None:
        self.path = path
        self.survival_horizon = survival_horizon  # METRIC.md section 10
        self.window = window
        self.environments = environments
        self.deploys = deploys
        self.min_confidence = min_confidence
        self.exclude_paths: list[str] = [] if exclude_paths is None else exclude_paths
        self.version_files = version_files  # None: DEFAULT_VERSION_FILES
        self.agents: list[Mapping[str, Any]] = [] if agents is None else agents


class _Doc:
    """A YAML document as plain values, remembering the line of every node."""

    def __init__(self, path: Path, text: str):
        import yaml

        self.path = path
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            line = mark.line + 1 if mark else None
            raise InputError(
                f"invalid YAML: {err.problem or err}", path=str(path), line=line
            ) from None
        except yaml.YAMLError as err:
            raise InputError(f"invalid YAML: {err}", path=str(path)) from None
        self.root = node

    def fail(self, node: yaml.Node | None, message: str) -> InputError:
        line = node.start_mark.line + 1 if node is not None else None
        return InputError(message, path=str(self.path), line=line)

    def value(self, node: yaml.Node) -> Any:
        import yaml

        try:
            return yaml.SafeLoader("").construct_document(node)
        except yaml.YAMLError as err:
            raise self.fail(node, f"invalid value: {err}") from None


def _mapping_items(doc: _Doc, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        raise doc.fail(node, f"{what} must be a mapping")
    items = []
    seen = set()
    for k, v in node.value:
        key = doc.value(k)
        if not isinstance(key, str):
            raise doc.fail(k, f"{what}: keys must be strings")
        if key in seen:
            raise doc.fail(k, f"duplicate key {key!r}")
        seen.add(key)
        items.append((key, k, v))
    return items


def _string_list(doc: _Doc, node: yaml.Node, key: str) -> list[str]:
    value = doc.value(node)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise doc.fail(node, f"{key} must be a list of non-empty strings")
    return [v.strip() for v in value]


def load_config(path: Path | None, repo_dir: Path) -> Config:
    """The configuration at ``path`` (or ``repo_dir/.normalized-deployments.yml`` if present)."""
    if path is None:
        candidate = repo_dir / CONFIG_NAME
        if not candidate.is_file():
            return Config()
        path = candidate
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("config file not found", path=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("config file is not UTF-8 text", path=str(path)) from None
    except OSError as err:
        raise InputError(f"cannot read config file: {err.strerror}", path=str(path)) from None
    doc = _Doc(path, text)
    cfg = Config(path=path)
    if doc.root is None:
        return cfg
    for key, knode, vnode in _mapping_items(doc, doc.root, "the config file"):
        if key not in KEYS:
            raise doc.fail(knode, f"unknown key {key!r} (known: {', '.join(KEYS)})")
        if key == "window":
            try:
                cfg.window = parse_duration(str(doc.value(vnode)))
            except ValueError as err:
                raise doc.fail(vnode, f"window: {err}") from None
        elif key == "survival_horizon":
            try:
                cfg.survival_horizon = parse_duration(str(doc.value(vnode)))
            except ValueError as err:
                raise doc.fail(vnode, f"survival_horizon: {err}") from None
        elif key == "environments":
            cfg.environments = _string_list(doc, vnode, key)
            if not cfg.environments:
                raise doc.fail(vnode, "environments must name at least one environment")
        elif key == "min_confidence":
            value = doc.value(vnode)
            if value not in CONFIDENCE_RANK:
                raise doc.fail(vnode, f"min_confidence must be high or medium, not {value!r}")
            cfg.min_confidence = value
        elif key == "exclude_paths":
            cfg.exclude_paths = _string_list(doc, vnode, key)
        elif key == "version_files":
            cfg.version_files = _string_list(doc, vnode, key)  # [] turns the rule off
        elif key == "deploys":
            roots = (repo_dir, path.parent)
            cfg.deploys = [s.replace(confine_to=roots) for s in _deploys(doc, vnode)]
        elif key == "agents":
            cfg.agents = _agents(doc, vnode)
    return cfg


def _deploys(doc: _Doc, node: yaml.Node) -> list[DeploySpec]:
    import yaml

    if isinstance(node, yaml.ScalarNode):
        node = yaml.SequenceNode("tag:yaml.org,2002:seq", [node], node.start_mark, node.end_mark)
    if not isinstance(node, yaml.SequenceNode):
        raise doc.fail(node, "deploys must be a list of sources (tags:GLOB, log:FILE, github, …)")
    specs = []
    for item in node.value:
        if isinstance(item, yaml.ScalarNode):
            text, env = doc.value(item), None
        else:
            fields = {k: (kn, vn) for k, kn, vn in _mapping_items(doc, item, "a deploy source")}
            extra = set(fields) - {"source", "environment"}
            if extra:
                raise doc.fail(
                    fields[sorted(extra)[0]][0],
                    f"unknown key {sorted(extra)[0]!r} (known: source, environment)",
                )
            if "source" not in fields:
                raise doc.fail(item, "a deploy source mapping needs 'source'")
            text = doc.value(fields["source"][1])
            env = doc.value(fields["environment"][1]) if "environment" in fields else None
            if env is not None and not isinstance(env, str):
                raise doc.fail(fields["environment"][1], "environment must be a string")
        if not isinstance(text, str):
            raise doc.fail(item, "a deploy source must be a string like tags:v*")
        try:
            specs.append(parse_spec(text, env))
        except InputError as err:
            raise doc.fail(item, str(err)) from None
    return specs


def _agents(doc: _Doc, node: yaml.Node) -> list[Mapping[str, Any]]:
    import yaml

    if not isinstance(node, yaml.SequenceNode):
        raise doc.fail(node, "agents must be a list of agent entries")
    try:
        from scorer.attribution.registry import agent_from_mapping
    except ImportError:  # pragma: no cover - registry module always ships
        agent_from_mapping = None
    entries = []
    seen: set[object] = set()
    for item in node.value:
        entry = doc.value(item)
        if not isinstance(entry, dict):
            raise doc.fail(item, "each agent entry must be a mapping")
        if entry.get("id") in seen:
            raise doc.fail(item, f"agents: id {entry.get('id')!r} is defined twice")
        seen.add(entry.get("id"))
        if agent_from_mapping is not None:
            try:
                agent_from_mapping(entry)
            except ValueError as err:
                raise doc.fail(item, f"agents: {err}") from None
        entries.append(entry)
    return entries


class Settings:
    """The effective settings of a scan: flags, then the config file, then the defaults."""

    def __init__(
        self,
        window: timedelta,
        environments: list[str],
        deploys: list[DeploySpec],
        min_confidence: str,
        exclude_paths: list[str],
        config: Config,
        version_files: list[str] | None = None,
        horizon: timedelta = timedelta(days=30),
        survival: bool = False,
    ):
        self.window = window
        self.horizon = horizon  # code survival (METRIC.md section 10)
        # Code survival is computed only when asked for (--horizon, survival_horizon): it
        # blames every file the cohort wrote: ~0.7 s on rails/rails, ~10 s on a generated
        # history whose cohort wrote 4,000 files (bench/README.md, "Code survival").
        self.survival = survival
        self.environments = environments
        self.deploys = deploys
        self.min_confidence = min_confidence
        self.exclude_paths = exclude_paths
        self.version_files = list(DEFAULT_VERSION_FILES) if version_files is None else version_files
        self.config = config


def effective_settings(
    config: Config,
    *,
    deploys: list[str] | None = None,
    window: timedelta | None = None,
    environments: list[str] | None = None,
    min_confidence: str | None = None,
    horizon: timedelta | None = None,
) -> Settings:
    """The command line's values over the config file's over the defaults."""
    if deploys:
        specs = [parse_spec(s) for s in deploys]
    elif config.deploys is not None:
        specs = config.deploys
    else:
        specs = [parse_spec(s) for s in DEFAULT_DEPLOYS]
    return Settings(
        window=window or config.window or DEFAULT_WINDOW,
        environments=environments or config.environments or ["production"],
        deploys=specs,
        min_confidence=min_confidence or config.min_confidence or "medium",
        exclude_paths=config.exclude_paths,
        version_files=config.version_files,
        config=config,
        horizon=horizon or config.survival_horizon or DEFAULT_HORIZON,
        survival=bool(horizon or config.survival_horizon),
    )


class ScanOptions:
    """What the command line asked for (plain class: importing dataclasses costs a per-merge
    run ~15 ms)."""

    def __init__(
        self,
        path: Path = Path("."),
        ref: str = "HEAD",
        deploys: list[str] | None = None,
        window: timedelta | None = None,
        now: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        config: Path | None = None,
        min_confidence: str | None = None,
        environments: list[str] | None = None,
        cache: Path | None = None,
        repository: str | None = None,
        env: Mapping[str, str] | None = None,
        progress: bool = True,
        horizon: timedelta | None = None,
    ):
        self.path = path
        self.ref = ref
        self.deploys = deploys
        self.window = window
        self.now = now
        self.since = since
        self.until = until
        self.config = config
        self.min_confidence = min_confidence
        self.environments = environments
        self.cache = cache
        self.repository = repository
        self.env = env if env is not None else dict(os.environ)
        self.progress = progress
        self.horizon = horizon
