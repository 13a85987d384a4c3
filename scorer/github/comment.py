"""The pull-request comment: one comment per PR, kept up to date.

It shows this PR's commits (reachable from the PR head and not from its base, computed from the
local commit graph) with their AI evidence by agent, what will count once the PR is deployed
and survives the rollback window, and the repository's current score and weekly trend.

Finding our own earlier comment needs the hidden :data:`MARKER` *and* an author that is us: a
bot (``user.type == "Bot"``) whose login is ``github-actions[bot]`` (the ``GITHUB_TOKEN``
identity; ``GET /user`` is not available to that token) or a login configured for an App token.
A comment by anyone else is never edited, whatever it contains, and a second comment is never
posted while ours exists. Every attacker-controlled string (commit subjects, evidence text,
branch names, the PR title) goes through :mod:`scorer.formats.mdsafe`, so nobody can forge
the marker, mention people, or inject HTML or links. The body is bounded to GitHub's 65,536
characters. On a read-only token (a pull request from a fork: 403 on POST/PATCH) the comment is
skipped with a ``::notice::`` and the step still succeeds. A POST answered 5xx (or not at all)
may have created the comment: the comments are listed again, and it is posted again only when
ours is not there (POST_TRIES in all); ``scorer ci`` turns a comment that still cannot be
written into a ``::warning::``. A listing of other JSON types (an id ``"abc"``) is one line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from scorer.formats.mdsafe import md_code, md_text
from scorer.formats.numbers import (
    amount,
    rate,
    ratio_or_dash,
    survival_cohort,
    survival_sentence,
)
from scorer.formats.words import plural
from scorer.github import actions
from scorer.model import Commit, History
from scorer.outcomes.change import REASONS, Outcome, change_outcome
from scorer.outcomes.flags import AI, REVERTED, SHIPPED, SURVIVED_SHIP, TRIVIAL
from scorer.outcomes.graph import Graph
from scorer.outcomes.table import CommitTable
from scorer.rest import APIError, RestClient
from scorer.util.textsafe import one_line

MARKER = "<!-- scorer:pr-comment -->"
COMMENT_LIMIT = 65_536  # characters; GitHub rejects a longer comment body
DEFAULT_AUTHORS = ("github-actions[bot]",)
SPARK = "▁▂▃▄▅▆▇█"
TREND_WEEKS = 8


@dataclass(frozen=True)
class PullRequest:
    number: int
    base_sha: str
    head_sha: str
    title: str = ""
    head_ref: str = ""
    base_ref: str = ""

    @classmethod
    def from_event(cls, payload: Mapping) -> PullRequest | None:
        """The PR of a ``pull_request``/``pull_request_target`` event payload, or None."""
        pr = payload.get("pull_request") if isinstance(payload, Mapping) else None
        if not isinstance(pr, Mapping):
            return None
        number = pr.get("number", payload.get("number"))
        base, head = pr.get("base") or {}, pr.get("head") or {}
        if not isinstance(number, int) or not base.get("sha") or not head.get("sha"):
            return None
        return cls(
            number=number,
            base_sha=str(base["sha"]),
            head_sha=str(head["sha"]),
            title=str(pr.get("title") or ""),
            head_ref=str(head.get("ref") or ""),
            base_ref=str(base.get("ref") or ""),
        )


@dataclass
class CommitRow:
    commit: Commit
    ai: bool  # at min_confidence
    substantive: bool | None  # None: not asked (not AI-assisted)
    reverted: bool
    reason: str = ""  # why it will not count ("" when it will)

    @property
    def counts(self) -> bool:
        return not self.reason


@dataclass
class PrCommits:
    rows: list[CommitRow] = field(default_factory=list)
    missing: str = ""  # why the PR's commits could not be read from the local graph


def pr_commits(history: History, base_sha: str, head_sha: str) -> list[Commit] | None:
    """Commits reachable from ``head_sha`` and not from ``base_sha``, newest first (the order
    of ``history``), or None when the head is not in the scanned history."""
    index = history.index
    commits = history.commits
    if head_sha not in index:
        return None
    if isinstance(commits, CommitTable):
        # Walk rows, not Commit objects: on a 100k-commit history this is milliseconds.
        graph = Graph(commits.shas, commits.parents, commits.index)
        rows = graph.only_in(index[head_sha], [index[base_sha]] if base_sha in index else [])
        rows.sort(key=lambda i: (-commits.committer_time[i], commits.shas[i]))
        return [commits[i] for i in rows]

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        stack = [start] if start in index else []
        while stack:
            sha = stack.pop()
            if sha in seen:
                continue
            seen.add(sha)
            stack.extend(p for p in commits[index[sha]].parents if p in index)
        return seen

    only = reach(head_sha) - reach(base_sha)
    return [c for c in commits if c.sha in only]


def classify(
    commits: Sequence[Commit],
    *,
    min_confidence: str,
    substantive: Callable[[str], bool],
    reverted: Callable[[str], bool],
    is_revert: Callable[[str], bool] = lambda sha: False,
    review_bots: frozenset[str] = frozenset(),
) -> list[CommitRow]:
    """What each PR commit will do for the score once deployed and surviving: the outcome
    ``scorer.outcomes.change`` gives it then."""
    rows = []
    for c in commits:
        ai = c.ai(min_confidence, review_bots)
        subst = substantive(c.sha) if ai and c.is_change else None
        rev = reverted(c.sha)
        if not c.is_change:
            reason = "merge commit"
        elif not c.evidence:
            reason = "no AI evidence"
        elif not ai:
            reason = f"evidence below {min_confidence} confidence"
        else:
            flags = AI | SHIPPED | SURVIVED_SHIP  # as if deployed, and the deploy survived
            flags |= (0 if subst else TRIVIAL) | (REVERTED if rev else 0)
            outcome = change_outcome(flags, is_revert=is_revert(c.sha))
            reason = "" if outcome == Outcome.COUNTED else REASONS[outcome]
        rows.append(CommitRow(c, ai, subst, rev, reason))
    return rows


def _evidence_cell(c: Commit) -> str:
    if not c.evidence:
        return "–"
    by_agent: dict[str, list[str]] = {}
    for e in c.evidence:
        by_agent.setdefault(e.agent, []).append(f"{e.kind}, {e.confidence}: {md_code(e.text, 80)}")
    return "<br>".join(
        f"{md_code(agent, 40)} — {'; '.join(items[:3])}" for agent, items in by_agent.items()
    )


def _spark(values: Sequence[float]) -> str:
    top = max(values, default=0.0)
    if top <= 0:
        return SPARK[0] * len(values)
    return "".join(
        SPARK[min(len(SPARK) - 1, int(v / top * (len(SPARK) - 1) + 0.5))] for v in values
    )


def _score_section(report: Mapping) -> list[str]:
    m = report["metric"]
    p = report["period"]
    dw = m.get("developer_weeks", 0)
    headline = ratio_or_dash(m["ai_deploys_survived"], dw, m["normalized_deployments"])
    per_dev = ratio_or_dash(m["deploys_survived"], dw, m["deploys_survived_per_dev_week"])
    out = [
        "#### The repository's score",
        "",
        f"**Normalized deployments: {headline}** = "
        f"{plural(m['ai_deploys_survived'], 'AI-assisted deploy')} survived / "
        f"{plural(float(amount(dw)), 'developer-week')} "
        f"({plural(m['contributors'], 'contributor')}, {p['since'][:10]} → {p['until'][:10]}"
        + (", partial" if p.get("partial") else "")
        + f"). All deploys survived per developer-week: {per_dev}.",
    ]
    out += _survival_lines(report.get("code_survival"))
    why = [c for c in m.get("why_zero") or [] if isinstance(c, Mapping)]
    if why:
        out += ["", "Why it is 0:", ""]
        out += [f"- {md_text(str(c.get('detail', '')), 300)}" for c in why]
    weeks = [w for w in report.get("weeks") or [] if isinstance(w, Mapping)][-TREND_WEEKS:]
    if weeks:
        values = [float(w.get("normalized_deployments") or 0.0) for w in weeks]
        complete = [w for w in weeks if w.get("complete")]
        trend = ""
        if len(complete) >= 2:
            a = float(complete[-2]["normalized_deployments"])
            b = float(complete[-1]["normalized_deployments"])
            arrow = "↗" if b > a else "↘" if b < a else "→"
            trend = (
                f" · last judged week {md_text(complete[-1]['week'], 12)}: {rate(b)} "
                f"({arrow} from {rate(a)})"
            )
        out += [
            "",
            f"Weekly trend, {md_text(weeks[0]['week'], 12)} → {md_text(weeks[-1]['week'], 12)}: "
            f"`{_spark(values)}`{trend}",
        ]
    return [*out, ""]


def _day(value: object) -> str:
    """The date of an ISO 8601 instant (``2026-04-04``); ValueError for anything else."""
    day = str(value)[:10]
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
        raise ValueError(day)
    return day


def _survival_lines(block: object) -> list[str]:
    """The repository's code survival (METRIC.md section 10), from a block rebuilt of plain
    numbers (the report may have been read from a file: nothing in it is trusted as text)."""
    if not isinstance(block, Mapping):
        return []
    try:

        def side(s: Mapping) -> dict:
            rate_ = s.get("rate")
            return {
                "surviving_lines": int(s["surviving_lines"]),
                "added_lines": int(s["added_lines"]),
                "rate": None if rate_ is None else float(rate_),
            }

        cohort = block["cohort"]
        sha = str(block.get("deploy_sha") or "")
        clean = {
            "horizon_days": float(block["horizon_days"]),
            "cohort": {"since": _day(cohort["since"]), "until": _day(cohort["until"])},
            "deploy_sha": sha if sha and all(c in "0123456789abcdef" for c in sha) else None,
            "ai": side(block["ai"]),
            "human": side(block["human"]),
            "rework_share": None
            if block.get("rework_share") is None
            else float(block["rework_share"]),
            "reason": md_text(str(block["reason"]), 200) if block.get("reason") else None,
        }
    except (KeyError, TypeError, ValueError, AttributeError):
        return []
    out = ["", survival_sentence(clean) or ""]
    if not clean["reason"]:
        out[-1] += f" — {survival_cohort(clean)}."
    return out


LISTED_OTHERS = 30  # commits without AI evidence listed in the comment, after the AI ones


def _will_count(r: CommitRow) -> str:
    return "yes" if r.counts else "no — " + md_text(r.reason, 80)


def _comment_row(r: CommitRow) -> str:
    c = r.commit
    return (
        f"| {md_code(c.sha[:10])} | {md_text(c.subject, 120)} | {_evidence_cell(c)} | "
        f"{_will_count(r)} |"
    )


def _rest_line(ai_left: int, others_left: int) -> str:
    """The count of the commits a list leaves out, AI ones said first."""
    n = ai_left + others_left
    what = f"*… and {n:,} more commit{'s' if n != 1 else ''}"
    if ai_left and others_left:
        return f"{what} ({ai_left:,} with AI evidence, {others_left:,} without)"
    return f"{what} {'with' if ai_left else 'without'} AI evidence"


def render_comment(
    report: Mapping,
    pr: PullRequest,
    commits: PrCommits,
    *,
    min_confidence: str,
    window_days: float,
    limit: int = COMMENT_LIMIT,
) -> str:
    """The comment body (Markdown, starting with the hidden marker), at most ``limit`` chars.

    The commits with AI evidence are listed first, then up to :data:`LISTED_OTHERS` of the
    rest, then a count of what is left out (the job summary has the full list): on a PR of
    thousands of commits the ones that matter for the score are the ones shown."""
    head = [
        MARKER,
        "### Normalized deployments — this pull request",
        "",
        f"{md_text(pr.title, 120) or 'This pull request'} · {md_code(pr.head_ref, 80)} → "
        f"{md_code(pr.base_ref, 80)} · head {md_code(pr.head_sha[:12])}",
        "",
    ]
    intro: list[str] = []
    listed: list[CommitRow] = []
    ai_rows: list[CommitRow] = []
    others: list[CommitRow] = []
    rows = commits.rows
    if commits.missing:
        intro += [f"This pull request's commits could not be read: {commits.missing}.", ""]
    elif not rows:
        intro += ["This pull request has no commits of its own.", ""]
    else:
        ai_rows = [r for r in rows if r.commit.evidence]
        others = [r for r in rows if not r.commit.evidence]
        counting = [r for r in rows if r.counts]
        agents: dict[str, int] = {}
        for r in ai_rows:
            for a in r.commit.agents("medium"):
                agents[a] = agents.get(a, 0) + 1
        by_agent = ", ".join(f"{md_code(a, 40)} {n}" for a, n in sorted(agents.items()))
        intro += [
            f"**{len(ai_rows):,} of {len(rows):,} commits** carry AI evidence"
            + (f" (by agent: {by_agent})" if by_agent else "")
            + ".",
            "",
        ]
        if counting:
            intro += [
                f"**Once deployed and surviving the {window_days:g}-day rollback window**, "
                f"{len(counting)} AI-assisted change{'s' if len(counting) != 1 else ''} from this "
                "pull request will count: the production deploy that ships "
                f"{'them' if len(counting) != 1 else 'it'} becomes one AI-assisted deploy "
                "survived (+1 in the numerator, however many commits it holds). A rollback of "
                "that deploy, or a revert of the changes within the window, takes it back.",
                "",
            ]
        else:
            intro += [
                "Nothing in this pull request will count toward the score: no commit is an "
                f"AI-assisted, substantive, unreverted change at {min_confidence} confidence.",
                "",
            ]
        listed = ai_rows + others[:LISTED_OTHERS]
    tail = _score_section(report)
    tail += [
        f"<sub>Counts the deploys that shipped AI-assisted changes and stayed in production "
        f"{window_days:g} days, per active developer per week — not commits, prompts or tokens. "
        "Updated on every push by scorer.</sub>",
        "",
    ]
    if not listed:
        return "\n".join(head + intro + tail)[:limit]
    table = [
        "| Commit | Subject | AI evidence (agent — kind, confidence: text) | Will count |",
        "|---|---|---|---|",
    ]
    # Room for the rows: what the rest leaves, less the count line at its longest.
    room = limit - len("\n".join(head + intro + table + tail)) - 200
    kept: list[str] = []
    for r in listed:
        line = _comment_row(r)
        if len(line) + 1 > room:
            break
        kept.append(line)
        room -= len(line) + 1
    ai_left = max(0, len(ai_rows) - len(kept))
    others_left = len(others) - max(0, len(kept) - len(ai_rows))
    body = table + kept
    if ai_left or others_left:
        body += [
            "",
            _rest_line(ai_left, others_left)
            + ": every commit is listed in this run's job summary.*",
        ]
    return "\n".join([*head, *intro, *body, "", *tail])[:limit]


def render_commit_list(pr: PullRequest, commits: PrCommits, *, limit: int) -> str:
    """Every commit of the pull request, newest first, for the job summary (the comment lists
    the AI ones and counts the rest). At most ``limit`` bytes of UTF-8: what does not fit is
    counted in a last line, never cut mid-row."""
    if commits.missing or not commits.rows:
        return ""
    rows = commits.rows
    head = [
        f"### The commits of pull request {md_text(f'#{pr.number}')} ({len(rows):,})",
        "",
        "| Commit | Subject | Agents | Will count |",
        "|---|---|---|---|",
    ]
    room = limit - len("\n".join(head).encode("utf-8")) - 200
    out = list(head)
    shown_ai = shown = 0
    for r in rows:
        c = r.commit
        agents = ", ".join(md_code(a, 40) for a in c.agents("medium")) or "–"
        line = (
            f"| {md_code(c.sha[:10])} | {md_text(c.subject, 120)} | {agents} | {_will_count(r)} |"
        )
        size = len(line.encode("utf-8")) + 1
        if size > room:
            break
        out.append(line)
        room -= size
        shown += 1
        shown_ai += bool(c.evidence)
    if shown < len(rows):
        ai_total = sum(1 for r in rows if r.commit.evidence)
        out += [
            "",
            _rest_line(ai_total - shown_ai, len(rows) - shown - (ai_total - shown_ai))
            + " not listed: GitHub's step summary holds 1 MiB.*",
        ]
    return "\n".join(out) + "\n"


# -- posting ------------------------------------------------------------------------------


def is_ours(comment: Mapping, authors: Iterable[str]) -> bool:
    """Our earlier comment: the marker AND a bot author whose login is one of ``authors``."""
    user = comment.get("user") or {}
    body = comment.get("body") or ""
    return (
        isinstance(user, Mapping)
        and user.get("type") == "Bot"
        and str(user.get("login", "")).lower() in {a.lower() for a in authors}
        and isinstance(body, str)
        and MARKER in body
    )


def _read_only(err: APIError) -> bool:
    return err.status == 403


POST_TRIES = 3  # a comment POST answered 5xx (or not at all) is checked, then sent again


def _list_ours(client: RestClient, repo: str, number: int, authors: Sequence[str]) -> list[dict]:
    """Our comments on the pull request; a listing of other JSON types is one APIError line."""
    ours = []
    for c in client.paginate(f"/repos/{repo}/issues/{number}/comments", {"per_page": 100}):
        if not isinstance(c, Mapping):
            raise APIError(f"GitHub API: a comment of pull request #{number} is not an object")
        if is_ours(c, authors):
            cid = c.get("id")
            if not isinstance(cid, int) or isinstance(cid, bool):
                raise APIError(
                    f"GitHub API: our comment on pull request #{number} has the id "
                    f"{one_line(repr(cid))[:60]}, not an integer"
                )
            ours.append(dict(c))
    return ours


def upsert_comment(
    client: RestClient,
    repository: str,
    number: int,
    body: str,
    *,
    authors: Sequence[str] = DEFAULT_AUTHORS,
    notice: Callable[[str], object] = actions.notice,
) -> str:
    """Create or update our one comment. Returns ``created``, ``updated``, ``unchanged`` or
    ``skipped`` (read-only token).

    A POST answered 5xx, or not at all, may still have created the comment: the comments are
    listed again, and only when ours is not there is it posted again (POST_TRIES in all), so a
    flaky API neither loses the comment nor doubles it."""
    repo = quote(repository, safe="/")
    try:
        ours = _list_ours(client, repo, number, authors)
    except APIError as err:
        if _read_only(err):
            notice(
                "scorer: cannot read this pull request's comments with this token; "
                "the score is in the job summary."
            )
            return "skipped"
        raise
    try:
        if ours:
            first = min(ours, key=lambda c: c["id"])
            if first.get("body") == body:
                return "unchanged"
            client.patch(f"/repos/{repo}/issues/comments/{first['id']}", {"body": body})
            return "updated"
        tries = 0
        while True:
            tries += 1
            try:
                client.post(f"/repos/{repo}/issues/{number}/comments", {"body": body})
                return "created"
            except APIError as err:
                if (err.status is not None and err.status < 500) or tries >= POST_TRIES:
                    raise
            if _list_ours(client, repo, number, authors):  # the failed POST went through
                return "created"
    except APIError as err:
        if _read_only(err):
            notice(
                "scorer: the token cannot write pull request comments (a pull request from a "
                "fork gets a read-only token, or the workflow lacks 'pull-requests: write'); "
                "the comment is skipped, the score is in the job summary."
            )
            return "skipped"
        raise
