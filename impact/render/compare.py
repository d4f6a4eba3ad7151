"""Rendering of `impact compare`: changes in columns, then what only each rebuilds, as text, JSON or Markdown.

`render_compare` maps every `CompareFormat` to one renderer with `match` and `assert_never`, as
`impact.render.formats` does for `impact estimate`. The analysis and the other renderers are imported inside
the functions: the CLI imports this module to declare `--format`, and must start without numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, assert_never

from impact.render.escape import code_span, inline_text, table_cell

if TYPE_CHECKING:
    from impact.analysis.compare import Compared, Comparison
    from impact.model import DerivationGraph

#: Jobs listed by name per change and jobset in "only …" lists; the rest are counted.
MAX_LISTED = 15


def _system_key(system: str) -> tuple[bool, bool, str]:
    return (not system.endswith("-linux"), system != "x86_64-linux", system)


def _cells(values: Sequence[int | None]) -> list[str]:
    from impact.render.markdown import _n

    return [_n(v) for v in values]


class CompareFormat(str, Enum):
    """What `impact compare --format` prints."""

    text = "text"
    """Changes in columns, then branch, labels and what only each rebuilds (the default)."""
    json = "json"
    """One JSON object: every change's report, what only it rebuilds, what all rebuild (`--json` is short for it)."""
    markdown = "markdown"
    """The body of a pull-request comment or of release notes."""


def render_compare(
    fmt: CompareFormat,
    comparison: Comparison,
    graph: DerivationGraph,
    *,
    command: str,
    markdown_sections: Sequence[str] = (),
) -> str:
    """Render `comparison` in format `fmt`; `command` is what reproduces it (shown in Markdown), which also shows
    `markdown_sections` (e.g. the cost side by side)."""
    match fmt:
        case CompareFormat.text:
            return compare_text(comparison, graph.label)
        case CompareFormat.json:
            from impact.render.json import dumps, snapshot_dict

            return dumps({"snapshot": snapshot_dict(graph), **comparison.to_dict()})
        case CompareFormat.markdown:
            return compare_markdown(comparison, command=command, snapshot=graph.label, sections=markdown_sections)
        case _:
            assert_never(fmt)


def _systems(comparison: Comparison) -> list[str]:
    found: set[str] = set()
    for c in comparison.changes:
        for per in c.report.estimate.changed_jobs_by_system.values():
            found.update(per)
    return sorted(found, key=_system_key)


def compare_text(comparison: Comparison, snapshot: str = "") -> str:
    """Columns per change: jobs per jobset and system, derivations, NixOS tests, only-this-change counts."""
    from impact.render.text import table

    changes = comparison.changes
    names = [c.name for c in changes]
    systems = _systems(comparison)
    jobsets = list(dict.fromkeys(js for c in changes for js in c.report.estimate.changed_jobs))
    rows: list[list[object]] = []
    for js in jobsets:
        rows.append([f"{js} jobs", *(len(c.report.estimate.changed_jobs.get(js, ())) for c in changes)])
        for s in systems:
            per = [c.report.estimate.changed_jobs_by_system.get(js, {}).get(s) for c in changes]
            if any(per):
                rows.append([f"  {s}", *per])
        if js == "nixos":
            rows.append(["  NixOS VM tests", *(len(c.report.estimate.nixos_tests) for c in changes)])
    rows.append(["derivations to build", *(c.report.estimate.derivations_to_build for c in changes)])
    for kernel in ("linux", "darwin"):
        rows.append(
            [f"packages rebuilt, {kernel}", *(c.report.labels.rebuild_count_by_kernel.get(kernel, 0) for c in changes)]
        )
    rows.append(["branch", *(c.report.branch.target for c in changes)])
    for js in jobsets:
        rows.append([f"only this change: {js} jobs", *(len(c.only_jobs.get(js, ())) for c in changes)])
    rows.append(["only this change: derivations", *(c.only_derivations for c in changes)])
    title = "impact compare " + " ".join(names) + (f"  ·  {snapshot}" if snapshot else "")
    lines = [title, "", table(rows, ["", *names]), ""]
    common = ", ".join(f"{js} {len(v):,} jobs" for js, v in comparison.common_jobs.items())
    lines.append(f"Rebuilt by every change: {common}, {comparison.common_derivations:,} derivations")
    lines.append("")
    for c in changes:
        report = c.report
        alternatives = f" (alternatives: {', '.join(report.branch.alternatives)})" if report.branch.alternatives else ""
        lines.append(f"{c.name}: branch {report.branch.target}{alternatives}")
        lines.append("  labels: " + (", ".join(report.labels.active) or "none"))
        lines += [f"  - {r.text}" for r in report.branch.reasons]
        for js, attrs in c.only_jobs.items():
            if not attrs:
                continue
            shown = ", ".join(attrs[:MAX_LISTED]) + (
                f", … {len(attrs) - MAX_LISTED:,} more" if len(attrs) > MAX_LISTED else ""
            )
            lines.append(f"  only {c.name} rebuilds ({js}, {len(attrs):,}): {shown}")
        lines.append("")
    return "\n".join(lines)


def compare_table(comparison: Comparison) -> list[str]:
    """The changes side by side as a Markdown table: one column per change."""
    from impact.render.markdown import _row

    changes = comparison.changes
    estimates = [c.report.estimate for c in changes]
    jobsets = list(dict.fromkeys(js for e in estimates for js in e.changed_jobs))
    systems = _systems(comparison)
    lines = [_row(["", *(code_span(c.name, table=True) for c in changes)]), _row(["---", *("---:" for _ in changes)])]
    for js in jobsets:
        lines.append(_row([f"{table_cell(js)} jobs", *_cells([len(e.changed_jobs.get(js, ())) for e in estimates])]))
        for s in systems:
            per = [e.changed_jobs_by_system.get(js, {}).get(s) for e in estimates]
            if any(per):
                lines.append(_row([f"  {code_span(s, table=True)}", *_cells(per)]))
        if js == "nixos":
            lines.append(_row(["  NixOS VM tests", *_cells([len(e.nixos_tests) for e in estimates])]))
    lines.append(_row(["**derivations to build**", *(f"**{e.derivations_to_build:,}**" for e in estimates)]))
    built = sorted({s for e in estimates for s in e.derivations_to_build_by_system} - {"builtin"}, key=_system_key)
    for s in built:
        lines.append(
            _row(
                [f"  {code_span(s, table=True)}", *_cells([e.derivations_to_build_by_system.get(s) for e in estimates])]
            )
        )
    for kernel in ("linux", "darwin"):
        lines.append(
            _row(
                [
                    f"packages rebuilt, {kernel}",
                    *_cells([c.report.labels.rebuild_count_by_kernel.get(kernel, 0) for c in changes]),
                ]
            )
        )
    lines.append(
        _row(
            [
                "labels",
                *(
                    "<br>".join(code_span(label, table=True) for label in c.report.labels.active) or "none"
                    for c in changes
                ),
            ]
        )
    )
    lines.append(_row(["**branch**", *(f"**{code_span(c.report.branch.target, table=True)}**" for c in changes)]))
    for js in jobsets:
        lines.append(
            _row([f"only this change: {table_cell(js)} jobs", *_cells([len(c.only_jobs.get(js, ())) for c in changes])])
        )
    lines.append(_row(["only this change: derivations", *_cells([c.only_derivations for c in changes])]))
    return lines


def _only_lists(changes: Sequence[Compared]) -> list[tuple[str, tuple[str, ...]]]:
    """(summary, sorted attributes) of every non-empty "only this change" list, shortest first, so a cut to
    GitHub's limit takes from the longest list and leaves every shorter one whole."""
    from impact.render.markdown import _plural

    found = [
        (f"{_plural(len(attrs), 'job')} of the {js} jobset only {c.name} rebuilds", tuple(sorted(attrs)))
        for c in changes
        for js, attrs in c.only_jobs.items()
        if attrs
    ]
    return sorted(found, key=lambda item: len(item[1]))


def compare_markdown(
    comparison: Comparison, *, command: str, snapshot: str = "", limit: int | None = None, sections: Sequence[str] = ()
) -> str:
    """The changes side by side as a pull-request comment (or release-notes) body, reproduced by `command`, at
    most `limit` characters (GitHub's comment limit by default); `sections` (e.g. the cost side by side) come
    before the lists of what only each change rebuilds.

    The hidden marker, the header, the command, one table with a column per change (jobs per jobset and system,
    NixOS VM tests, derivations, packages per kernel, labels, branch, what only it rebuilds), the branch
    reasons per change, `sections`, then `<details>` lists of the jobs only each change rebuilds, sorted.
    """
    from impact.render.markdown import GITHUB_COMMENT_LIMIT, _cut, _details, _plural, header

    changes = comparison.changes
    common = ", ".join(f"{inline_text(js)} {_plural(len(v), 'job')}" for js, v in comparison.common_jobs.items())
    head = [
        *header("impact compare: " + " · ".join(code_span(c.name) for c in changes), snapshot, command),
        "",
        *compare_table(comparison),
        "",
        f"Rebuilt by every change: {common}, {_plural(comparison.common_derivations, 'derivation')}.",
        "",
        "### Branch",
        "",
    ]
    for c in changes:
        branch = c.report.branch
        alternatives = (
            f"; alternatives: {', '.join(code_span(a) for a in branch.alternatives)}" if branch.alternatives else ""
        )
        head += [
            f"**{code_span(c.name)}:** {code_span(branch.target)} (base {code_span(branch.base)}, "
            f"{inline_text(branch.policy)} rules{alternatives})",
            "",
        ]
        head += [*(f"- {inline_text(r.text)}" for r in branch.reasons), ""]
    head += [line for section in sections for line in (*section.rstrip("\n").splitlines(), "")]
    lists = _only_lists(changes)
    head += [
        "### What only each change rebuilds",
        "",
        "" if lists else "Every job one change rebuilds, another rebuilds too.",
    ]
    body = [line for summary, attrs in lists for line in _details(summary, attrs)]
    return _cut("\n".join(head).rstrip("\n") + "\n\n", body, GITHUB_COMMENT_LIMIT if limit is None else limit)
