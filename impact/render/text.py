"""Terminal rendering: aligned tables, plain in a log or a pipe, drawn by rich with colour on a terminal.

Every renderer builds its tables with `table`; inside `styled_tables()` (which the CLI enters when standard
output is a terminal and `NO_COLOR` is unset) `table` draws a rich table with a styled header instead of plain
columns. rich comes with typer already, so this costs no dependency, and it is imported only on that path.
"""

from __future__ import annotations

import contextvars
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from impact.analysis.change import RootKind
from impact.analysis.rebuild import RebuildEstimate
from impact.model import DerivationGraph

if TYPE_CHECKING:  # only annotations: `impact estimate` renders here and need not import what these import
    from impact.analysis.branches import BranchComparison
    from impact.analysis.rank import Ranking

#: Roots listed one by one up to this many; beyond it they are counted by name and system.
MAX_ROOTS_LISTED = 12


_STYLED: contextvars.ContextVar[bool] = contextvars.ContextVar("impact_styled_tables", default=False)


@contextmanager
def styled_tables(on: bool = True) -> Iterator[None]:
    """Within this block `table` draws rich tables with colour (for a terminal) when `on`."""
    token = _STYLED.set(on)
    try:
        yield
    finally:
        _STYLED.reset(token)


def table(rows: Sequence[Sequence[object]], header: Sequence[str] | None = None, right_from: int = 1) -> str:
    """Align `rows` in columns; columns from `right_from` on are right-aligned (numbers)."""
    body = [[_cell(c) for c in r] for r in rows]
    all_rows = ([list(header)] if header else []) + body
    if not all_rows:
        return ""
    if _STYLED.get():
        return _rich_table(body, header, right_from)
    widths = [max(len(r[i]) for r in all_rows if i < len(r)) for i in range(max(len(r) for r in all_rows))]
    lines = []
    for r in all_rows:
        cells = [c.rjust(widths[i]) if i >= right_from else c.ljust(widths[i]) for i, c in enumerate(r)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _rich_table(body: list[list[str]], header: Sequence[str] | None, right_from: int) -> str:
    """The rows as a rich table (bold header and first column, sub-rows dimmed), as a string with colour codes."""
    import io

    from rich import box
    from rich.console import Console
    from rich.table import Table

    columns = max(len(r) for r in [*body, list(header or ())])
    drawn = Table(
        box=box.SIMPLE_HEAD,
        show_header=bool(header),
        show_edge=False,
        header_style="bold cyan",
        border_style="dim",
        pad_edge=False,
    )
    for i in range(columns):
        title = header[i] if header and i < len(header) else ""
        style = "bold" if i == 0 else None
        drawn.add_column(title, justify="right" if i >= right_from else "left", no_wrap=True, style=style)
    for r in body:
        drawn.add_row(*r, *([""] * (columns - len(r))), style="dim" if r and r[0].startswith(" ") else None)
    out = io.StringIO()
    Console(file=out, force_terminal=True, width=100_000, color_system="standard").print(drawn)
    return "\n".join(line.rstrip() for line in out.getvalue().strip("\n").splitlines())


def _cell(value: object) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return "-" if value is None else str(value)


def systems_of(result: RebuildEstimate) -> list[str]:
    """The systems that appear in an estimate, Linux first, in a stable order."""
    found = set(result.derivations_to_build_by_system)
    for per in result.changed_jobs_by_system.values():
        found.update(per)
    found.discard("builtin")
    return sorted(found, key=lambda s: (not s.endswith("-linux"), s != "x86_64-linux", s))


def short_hash(drv_path: str) -> str:
    """The first 7 characters of a store path's hash, enough to tell derivations of one name apart."""
    return drv_path.rsplit("/", 1)[-1][:7]


def attribute_of(graph: DerivationGraph, drv_path: str) -> str:
    """The job attributes (without system) that build a derivation, e.g. `openssl`, or `-` when no job does."""
    import numpy as np

    from impact.model import job_package

    row = graph.index.get(drv_path)
    # One vectorised scan per root: building the whole derivation → jobs table would cost a cold start on a
    # million-derivation graph far more than the few roots printed.
    jobs = np.flatnonzero(graph.job_drv == row).tolist() if row is not None else []
    names = sorted({job_package(graph.job_attrs[k], graph.job_systems[k]) for k in jobs})
    if not names:
        return "-"
    return ", ".join(names[:3]) + (f", +{len(names) - 3}" if len(names) > 3 else "")


def roots_text(result: RebuildEstimate, graph: DerivationGraph | None = None) -> str:
    """The roots of a change, grouped by why each is a root; each names its attribute (`-` when no job builds
    it) and, where a name repeats on one system, its short drv hash."""
    roots = result.change.roots
    lines = [f"Roots: {len(roots)} derivation{'s' if len(roots) != 1 else ''} changed directly"]
    labels = {
        RootKind.NAMED: "named",
        RootKind.VARIANT: "variant",
        RootKind.GIVEN: "given",
        RootKind.SOURCE_TREE: "commit",
        RootKind.EVALUATED: "evaluated",
    }
    attrs = [attribute_of(graph, r.path) if graph is not None else "-" for r in roots]
    if len(roots) <= MAX_ROOTS_LISTED:
        seen = Counter((a, r.name, r.system) for a, r in zip(attrs, roots))
        rows: list[list[object]] = [
            [
                labels[r.kind],
                a,
                r.name,
                r.system,
                short_hash(r.path) if seen[(a, r.name, r.system)] > 1 else "",
                r.reason,
            ]
            for a, r in zip(attrs, roots)
        ]
        order = list(labels.values())
        rows.sort(key=lambda r: (order.index(str(r[0])), str(r[2]), str(r[3]), str(r[1]), str(r[4])))
        lines.append(_indent(table(rows, ["why", "attribute", "derivation", "system", "drv", "reason"], right_from=99)))
    else:
        counts = Counter((labels[r.kind], a, r.name, r.system) for a, r in zip(attrs, roots))
        rows = [[k, a, n, s, c] for (k, a, n, s), c in sorted(counts.items())]
        lines.append(_indent(table(rows, ["why", "attribute", "derivation", "system", "count"], right_from=4)))
    return "\n".join(lines)


def estimate_text(result: RebuildEstimate, graph: DerivationGraph) -> str:
    """`impact estimate`: roots, then jobs and derivations per jobset and system."""
    systems = systems_of(result)
    header = ["", *systems, "total"]
    rows: list[list[object]] = []
    for jobset, attrs in result.changed_jobs.items():
        per = result.changed_jobs_by_system.get(jobset, {})
        total = result.jobs_total.get(jobset, 0)
        rows.append([f"{jobset} jobs", *(per.get(s) for s in systems), f"{len(attrs):,} of {total:,}"])
        if jobset == "nixos" and attrs:
            rows.append(
                ["  NixOS VM tests", *_per_system(graph, "nixos", result.nixos_tests, systems), len(result.nixos_tests)]
            )
        every = result.every_commit_jobs.get(jobset, ())
        if every:
            rows.append(["  change on every commit", *_per_system(graph, jobset, every, systems), len(every)])
    rows.append(
        [
            "derivations to build",
            *(result.derivations_to_build_by_system.get(s) for s in systems),
            result.derivations_to_build,
        ]
    )
    if result.every_commit_derivations:
        rows.append(["  of which every commit", *([None] * len(systems)), result.every_commit_derivations])
    for jobset, per in result.derivations_to_build_by_jobset.items():
        rows.append([f"  needed by {jobset} jobs", *(per.get(s) for s in systems), sum(per.values())])
    title = f"impact estimate {result.change.description}  ·  {graph.label}"
    return "\n".join(
        [
            title,
            "",
            roots_text(result, graph),
            *aliases_note(result),
            *(f"Not known to be whole: {note}" for note in result.change.notes),
            "",
            table(rows, header),
            *not_built_note(result),
            "",
        ]
    )


def aliases_note(result: RebuildEstimate) -> list[str]:
    """Lines naming the attributes that build the same derivations as a named one (none: no line)."""
    return [
        f"  {name} builds the same derivations as {', '.join(others)}: this is an edit of their package; re-pointing "
        f"{name} to another package is a change the graph cannot see (--repoint {name}=TARGET gives its bounds)."
        for name, others in result.change.aliases.items()
    ]


def not_built_note(result: RebuildEstimate) -> list[str]:
    """A line on the derivations that get new output paths but that Hydra does not build (none: no line)."""
    n = result.rebuilt_not_built
    if not n:
        return []
    per = ", ".join(f"{c:,} {s}" for s, c in result.rebuilt_not_built_by_system.items())
    return [
        f"{n:,} more derivation{'s get' if n != 1 else ' gets'} new output paths but {'are' if n != 1 else 'is'} "
        f"not built ({per}): {'they only feed' if n != 1 else 'it only feeds'} fixed-output derivations."
    ]


def _per_system(graph: DerivationGraph, jobset: str, attrs: Sequence[str], systems: Sequence[str]) -> list[int | None]:
    """How many of the jobs `attrs` of `jobset` are for each system (None where none are)."""
    found = Counter(graph.job_systems[graph.job_index[(jobset, a)]] for a in attrs)
    return [found.get(s) or None for s in systems]


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line if line else line for line in text.splitlines())


def rank_text(ranking: Ranking, graph: DerivationGraph, limit: int = 20) -> str:
    """`impact rank`: the packages whose change rebuilds most, one line each, the first `limit` of them."""
    from impact.analysis.rank import KERNELS

    kernel = ranking.kernel
    rows = ranking.rows[:limit] if limit > 0 else ranking.rows
    header = ["#", "package", *(f"{k} jobs" for k in KERNELS), "all jobs", "of which nixos", "derivations to build"]
    body = [
        [
            i,
            alias_label(r.package, r.aliases),
            r.jobs_linux,
            r.jobs_darwin,
            r.jobs_total,
            r.nixos_jobs,
            r.derivations_to_build,
        ]
        for i, r in enumerate(rows, 1)
    ]
    by = f"{kernel} jobs" if kernel else "all jobs"
    title = f"impact rank  ·  {graph.label}"
    lines = [
        title,
        "",
        f"{len(ranking.rows):,} {ranking.jobset} packages by what a change to each rebuilds (sorted by {by});"
        f" top {len(rows):,}; aliases of one derivation share a row",
        f"Every-commit share left out: {ranking.excluded}.",
        "",
        _indent(table(body, header, right_from=2)),
        "",
        "jobs in snapshot: "
        + ", ".join(f"{k} {v:,}" for k, v in ranking.jobs_in_snapshot.items())
        + f"; derivations {ranking.derivations_in_snapshot:,}",
        "",
    ]
    return "\n".join(lines)


def alias_label(package: str, aliases: Sequence[str], most: int = 3) -> str:
    """A package with the aliases that are the same change: `bison (bison3, yacc)`, the first `most` named."""
    if not aliases:
        return package
    more = f", +{len(aliases) - most}" if len(aliases) > most else ""
    return f"{package} ({', '.join(aliases[:most])}{more})"


def branches_text(comparison: BranchComparison, limit: int = 12) -> str:
    """`impact branches`: jobs only in A, only in B, differing and the same, per jobset and system; derivations new."""
    from impact.analysis.branches import COUNT_KEYS

    systems = sorted(
        {s for per in comparison.by_system.values() for s in per},
        key=lambda s: (not s.endswith("-linux"), s != "x86_64-linux", s),
    )
    words = {"only_a": "only in A", "only_b": "only in B", "differ": "output paths differ", "same": "same output paths"}
    rows: list[list[object]] = []
    for js in comparison.jobsets:
        per = comparison.by_system[js]
        counts = comparison.counts(js)
        rows.append([f"{js} jobs", *([""] * len(systems)), ""])
        for key in COUNT_KEYS:
            rows.append([f"  {words[key]}", *(per.get(s, {}).get(key) for s in systems), counts[key]])
            if key == "differ" and counts["renamed"]:
                rows.append(["    of which another version", *([None] * len(systems)), counts["renamed"]])
    drv_rows: list[list[object]] = [
        [
            "derivations new in B",
            *(comparison.derivations_new_in_b_by_system.get(s) for s in systems),
            comparison.derivations_new_in_b,
        ],
        [
            "derivations new in A",
            *(comparison.derivations_new_in_a_by_system.get(s) for s in systems),
            comparison.derivations_new_in_a,
        ],
    ]
    roots = Counter(comparison.roots_in_b)
    shown = ", ".join(f"{n} ×{c}" if c > 1 else n for n, c in sorted(roots.items())[:limit])
    more = f", … {len(roots) - limit:,} more" if len(roots) > limit else ""
    return "\n".join(
        [
            "impact branches",
            f"  A: {comparison.a.label}",
            f"  B: {comparison.b.label}",
            "",
            table(rows + drv_rows, ["", *systems, "total"]),
            "",
            f"Building B after A means building the {comparison.derivations_new_in_b:,} derivations new in B;",
            f"they follow from {len(comparison.roots_in_b):,} derivations edited directly (no new input): "
            f"{shown}{more}",
            "",
        ]
    )
