"""The output formats of `impact estimate`, each mapped to its renderer.

`render_estimate` maps every `OutputFormat` to one renderer with `match` and `assert_never`, so a format
added to the enum without a renderer fails the type check, and a test walks every member. The renderers are
imported inside the branches: the CLI imports this module to declare `--format`, and must start fast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, assert_never

from impact.app import reproduce_command as _reproduce_command
from impact.render.compare import CompareFormat

if TYPE_CHECKING:
    from impact.analysis.branches import BranchComparison
    from impact.analysis.cost import ChangeCost
    from impact.analysis.diff import SnapshotDiff
    from impact.analysis.pr import PrReport
    from impact.analysis.report import Report
    from impact.app import CompareAnswer, EstimateAnswer, OutputsAnswer, PostAnswer, RankAnswer, WhyAnswer
    from impact.evaluate import EvalSummary
    from impact.model import DerivationGraph


class OutputFormat(str, Enum):
    """What `impact estimate --format` prints."""

    text = "text"
    """The terminal table, then labels and branch advice (the default)."""
    json = "json"
    """One JSON object: the estimate with `labels`, `branch` and `maintainers` (`--json` is short for it)."""
    markdown = "markdown"
    """The body of a pull-request comment."""
    changed_paths = "changed-paths"
    """nixpkgs CI's `changed-paths.json`."""


def render_estimate(
    fmt: OutputFormat, report: Report, graph: DerivationGraph, *, command: str, markdown_sections: Sequence[str] = ()
) -> str:
    """Render `report` in format `fmt`; `command` is what reproduces it (shown in Markdown), which also shows
    `markdown_sections` (e.g. the cost)."""
    match fmt:
        case OutputFormat.text:
            from impact.render.branch_text import labels_branch_text
            from impact.render.text import estimate_text

            return estimate_text(report.estimate, graph) + "\n" + labels_branch_text(report.labels, report.branch)
        case OutputFormat.json:
            from impact.render.json import dumps, snapshot_dict

            return dumps({"snapshot": snapshot_dict(graph), **report.to_dict()})
        case OutputFormat.markdown:
            from impact.render.markdown import render_markdown

            return render_markdown(report, command=command, sections=markdown_sections)
        case OutputFormat.changed_paths:
            from impact.render.changed_paths import render_changed_paths

            return render_changed_paths(report)
        case _:
            assert_never(fmt)


def render_estimate_answer(fmt: OutputFormat, answer: EstimateAnswer) -> str:
    """Render everything `impact estimate` answers: the report, then the sections and the cost asked for."""
    command = answer.request.command(fmt.value)
    report, graph, cost = answer.report, answer.graph, answer.cost
    match fmt:
        case OutputFormat.text:
            from impact.render.why import estimate_sections_text

            text = render_estimate(fmt, report, graph, command=command)
            if answer.request.change.own:
                text = text.rstrip("\n") + "\n" + OWN_NOTE + "\n"
            if answer.sections is not None:
                text += "\n" + estimate_sections_text(answer.sections)
            if answer.git is not None:
                from impact.render.gitchange import git_text

                text = text.rstrip("\n") + "\n\n" + git_text(answer.git)
            return _with_cost_text(text, cost)
        case OutputFormat.json:
            from impact.render.why import estimate_sections_json

            text = render_estimate(fmt, report, graph, command=command)
            if answer.sections is not None:
                text = estimate_sections_json(text, answer.sections)
            extra: dict[str, object] = {"cost": _cost_dict(cost)} if cost else {}
            if answer.git is not None:
                from impact.render.gitchange import git_json

                extra.update(git_json(answer.git))
            return _with_cost_json(text, extra)
        case OutputFormat.markdown:
            sections = [_cost_markdown(cost)] if cost else []
            if answer.git is not None:
                from impact.render.gitchange import git_markdown

                sections.insert(0, git_markdown(answer.git))
            return render_estimate(fmt, report, graph, command=command, markdown_sections=sections)
        case OutputFormat.changed_paths:
            if answer.git is not None:
                from impact.render.changed_paths import render_changed_paths

                return render_changed_paths(
                    report, added=answer.git.outcome.added, removed=answer.git.outcome.removed, graph=graph
                )
            return render_estimate(fmt, report, graph, command=command)
        case _:
            assert_never(fmt)


#: What `--own` adds under the estimate.
OWN_NOTE = (
    "Own share (--own): the derivations that embed the nixpkgs source tree, which every commit changes, are left out."
)


def render_compare_answer(fmt: CompareFormat, answer: CompareAnswer) -> str:
    """Render everything `impact compare` answers: the comparison, and the costs side by side."""
    from impact.render.compare import render_compare

    command = answer.request.command(fmt.value)
    costs, graph = answer.costs, answer.graph
    match fmt:
        case CompareFormat.text:
            from impact.render.cost import cost_compare_text

            text = render_compare(fmt, answer.comparison, graph, command=command)
            if answer.request.own:
                text = text.rstrip("\n") + "\n" + OWN_NOTE + "\n"
            return text.rstrip("\n") + "\n\n" + cost_compare_text(costs) if costs else text
        case CompareFormat.json:
            text = render_compare(fmt, answer.comparison, graph, command=command)
            extra = {"cost": {name: _cost_dict(c) for name, c in costs.items()}} if costs else {}
            return _with_cost_json(text, extra)
        case CompareFormat.markdown:
            from impact.render.cost import cost_compare_markdown

            sections = [cost_compare_markdown(costs)] if costs else []
            return render_compare(fmt, answer.comparison, graph, command=command, markdown_sections=sections)
        case _:
            assert_never(fmt)


def _cost_dict(cost: ChangeCost) -> dict[str, object]:
    from impact.render.cost import cost_dict

    return cost_dict(cost)


def _cost_markdown(cost: ChangeCost) -> str:
    from impact.render.cost import cost_markdown

    return cost_markdown(cost)


def _with_cost_text(text: str, cost: ChangeCost | None) -> str:
    if cost is None:
        return text
    from impact.render.cost import cost_text

    return text.rstrip("\n") + "\n\n" + cost_text(cost)


def _with_cost_json(text: str, extra: Mapping[str, object]) -> str:
    if not extra:
        return text
    import json

    from impact.render.json import dumps

    return dumps({**json.loads(text), **extra})


class Format(str, Enum):
    """What `--json` switches between for the commands without `--format`."""

    text = "text"
    json = "json"


def render_why(fmt: Format, answer: WhyAnswer) -> str:
    """`impact why`: the chains as text, or JSON."""
    from impact.render.why import why_json, why_text

    match fmt:
        case Format.text:
            return why_text(answer.result, answer.graph)
        case Format.json:
            return why_json(answer.result, answer.graph)
        case _:
            assert_never(fmt)


def render_outputs(fmt: Format, answer: OutputsAnswer) -> str:
    """`impact outputs`: each output and its consumers, as text or JSON."""
    from impact.render.why import outputs_json, outputs_text

    match fmt:
        case Format.text:
            return outputs_text(answer.report, answer.graph)
        case Format.json:
            return outputs_json(answer.report, answer.graph)
        case _:
            assert_never(fmt)


def render_rank(fmt: Format, answer: RankAnswer, limit: int) -> str:
    """`impact rank`: the first `limit` rows as a table (0: all), or every row as JSON."""
    match fmt:
        case Format.text:
            from impact.render.text import rank_text

            return rank_text(answer.ranking, answer.graph, limit)
        case Format.json:
            from impact.render.json import dumps, snapshot_dict

            return dumps({"snapshot": snapshot_dict(answer.graph), **answer.ranking.to_dict()})
        case _:
            assert_never(fmt)


def render_branches(fmt: Format, comparison: BranchComparison, limit: int) -> str:
    """`impact branches`: the counts per jobset and system as a table, or JSON."""
    match fmt:
        case Format.text:
            from impact.render.text import branches_text

            return branches_text(comparison, limit)
        case Format.json:
            from impact.render.json import dumps

            return dumps(comparison.to_dict())
        case _:
            assert_never(fmt)


def render_diff(fmt: Format, diff: SnapshotDiff) -> str:
    """`impact diff`: the exact difference and its cross-check, as text or JSON."""
    match fmt:
        case Format.text:
            from impact.render.diff import diff_text

            return diff_text(diff)
        case Format.json:
            from impact.render.json import dumps

            return dumps(diff.to_dict())
        case _:
            assert_never(fmt)


def render_pr(fmt: Format, report: PrReport, written: Sequence[Path]) -> str:
    """`impact pr`: what was written and the headline, or the report as JSON."""
    match fmt:
        case Format.text:
            from impact.render.pr import pr_summary

            return f"wrote {' and '.join(str(p) for p in written)}: {pr_summary(report)}"
        case Format.json:
            from impact.render.json import dumps

            return dumps(report.to_dict())
        case _:
            assert_never(fmt)


def render_eval(fmt: Format, summary: EvalSummary) -> str:
    """`impact eval`: what was written and each Nix process's time and peak memory, or the summary as JSON."""
    match fmt:
        case Format.text:
            from impact.render.evaluation import eval_text

            return eval_text(summary)
        case Format.json:
            from impact.render.json import dumps

            return dumps(summary.to_dict())
        case _:
            assert_never(fmt)


def render_post(fmt: Format, answer: PostAnswer) -> str:
    """`impact post`: what was done to the comment and the labels, or that as JSON."""
    result = answer.result
    match fmt:
        case Format.text:
            change = [*(f"+{n}" for n in result.labels_added), *(f"-{n}" for n in result.labels_removed)]
            return f"{result.comment_action} comment {result.comment_id} on {answer.repo}#{answer.pr}" + (
                f"; labels {' '.join(change)}" if change else "; labels unchanged"
            )
        case Format.json:
            from impact.render.json import dumps

            return dumps({"repo": answer.repo, "pr": answer.pr, **result.to_dict()})
        case _:
            assert_never(fmt)


# Kept here for the callers that reproduce commands from the render side.
reproduce_command = _reproduce_command
