"""The output formats of `impact estimate`, each mapped to its renderer.

`render_estimate` maps every `OutputFormat` to one renderer with `match` and `assert_never`, so a format
added to the enum without a renderer fails the type check, and a test walks every member. The renderers are
imported inside the branches: the CLI imports this module to declare `--format`, and must start fast.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, assert_never

if TYPE_CHECKING:
    from impact.analysis.report import Report
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


def reproduce_command(command: str, arguments: Sequence[str], options: Sequence[tuple[str, object]]) -> str:
    """The shell command that reproduces an answer: `impact <command> ARGS --opt value …`.

    An option whose value is True is a flag; None, False and empty values are left out.
    """
    words = ["impact", command, *arguments]
    for name, value in options:
        if value is None or value is False or value == "" or value == ():
            continue
        if value is True:
            words.append(name)
        elif isinstance(value, (list, tuple)):
            for v in value:
                words += [name, str(v)]
        else:
            words += [name, str(value)]
    return shlex.join(words)
