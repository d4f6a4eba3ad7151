"""Terminal rendering: plain aligned tables, readable in a narrow terminal and in a log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from impact.analysis.change import RootKind
from impact.analysis.rebuild import RebuildEstimate
from impact.model import DerivationGraph

if TYPE_CHECKING:  # only annotations: `impact estimate` renders here and need not import what these import
    from impact.analysis.branches import BranchComparison
    from impact.analysis.rank import Ranking

#: Roots listed one by one up to this many; beyond it they are counted by name and system.
MAX_ROOTS_LISTED = 12


def table(rows: Sequence[Sequence[object]], header: Sequence[str] | None = None, right_from: int = 1) -> str:
    """Align `rows` in columns; columns from `right_from` on are right-aligned (numbers)."""
    body = [[_cell(c) for c in r] for r in rows]
    all_rows = ([list(header)] if header else []) + body
    if not all_rows:
        return ""
    widths = [max(len(r[i]) for r in all_rows if i < len(r)) for i in range(max(len(r) for r in all_rows))]
    lines = []
    for r in all_rows:
        cells = [c.rjust(widths[i]) if i >= right_from else c.ljust(widths[i]) for i, c in enumerate(r)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


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


def roots_text(result: RebuildEstimate) -> str:
    """The roots of a change, grouped by why each is a root."""
    roots = result.change.roots
    lines = [f"Roots: {len(roots)} derivation{'s' if len(roots) != 1 else ''} changed directly"]
    labels = {
        RootKind.NAMED: "named",
        RootKind.VARIANT: "variant",
        RootKind.GIVEN: "given",
        RootKind.SOURCE_TREE: "commit",
    }
    if len(roots) <= MAX_ROOTS_LISTED:
        rows: list[list[object]] = [[labels[r.kind], r.name, r.system, r.reason] for r in roots]
        order = list(labels.values())
        rows.sort(key=lambda r: (order.index(str(r[0])), str(r[1]), str(r[2])))
        lines.append(_indent(table(rows, right_from=99)))
    else:
        counts = Counter((labels[r.kind], r.name, r.system) for r in roots)
        rows = [[k, n, s, c] for (k, n, s), c in sorted(counts.items())]
        lines.append(_indent(table(rows, right_from=3)))
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
    return "\n".join([title, "", roots_text(result), "", table(rows, header), ""])


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
        [i, r.package, r.jobs_linux, r.jobs_darwin, r.jobs_total, r.nixos_jobs, r.derivations_to_build]
        for i, r in enumerate(rows, 1)
    ]
    by = f"{kernel} jobs" if kernel else "all jobs"
    title = f"impact rank  ·  {graph.label}"
    lines = [
        title,
        "",
        f"{len(ranking.rows):,} {ranking.jobset} packages by what a change to each rebuilds (sorted by {by});"
        f" top {len(rows):,}",
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
            f"they follow from {len(comparison.roots_in_b):,} derivations edited directly (no new input): {shown}{more}",
            "",
        ]
    )
