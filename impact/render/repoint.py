"""`impact estimate --repoint ATTRIBUTE=TARGET`: the bounds of an attribute re-pointing, as text or JSON."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from impact.analysis.repoint import EXACT_MODE, Repointing
from impact.model import DerivationGraph
from impact.render.json import dumps, snapshot_dict
from impact.render.text import systems_of, table

if TYPE_CHECKING:
    from impact.app import RepointAnswer

#: Names listed before "… N more".
MAX_LISTED = 8


def _listed(names: list[str] | tuple[str, ...]) -> str:
    more = len(names) - MAX_LISTED
    return ", ".join(names[:MAX_LISTED]) + (f", … {more} more" if more > 0 else "")


def repoint_text(rep: Repointing, graph: DerivationGraph) -> str:
    """The bounds as a table per system, with why they are bounds and how to get the exact answer."""
    upper = rep.upper
    systems = systems_of(upper)
    rows: list[list[object]] = []
    for jobset, attrs in rep.repointed_jobs.items():
        lower = Counter(graph.job_systems[graph.job_index[(jobset, a)]] for a in attrs)
        rows.append([f"at least: {jobset} jobs", *(lower.get(s) for s in systems), len(attrs)])
    rows.append(["at least: derivations to build", *([None] * len(systems)), 0])
    for jobset, attrs in upper.changed_jobs.items():
        per = upper.changed_jobs_by_system.get(jobset, {})
        rows.append(
            [
                f"at most: {jobset} jobs",
                *(per.get(s) for s in systems),
                f"{len(attrs):,} of {upper.jobs_total.get(jobset, 0):,}",
            ]
        )
        if jobset == "nixos" and upper.nixos_tests:
            rows.append(["  NixOS VM tests", *([None] * len(systems)), len(upper.nixos_tests)])
    rows.append(
        [
            "at most: derivations to build",
            *(upper.derivations_to_build_by_system.get(s) for s in systems),
            upper.derivations_to_build,
        ]
    )
    a, t = rep.attribute, rep.target
    lines = [
        f"impact estimate --repoint {a}={t}  ·  {graph.label}",
        "",
        f"Re-pointing {a} to {t} edits no derivation: {a} comes to name derivations that exist already.",
        f"The graph cannot tell which consumers reach the derivations of {a} through {a} (they follow it)",
        "and which name them otherwise (they do not)."
        + (f" The same derivations are built by: {_listed(rep.sharing)}." if rep.sharing else ""),
        "So these are bounds, not the answer:",
        f"  at least, the jobs of {a} now build the derivations of {t} (built already, as its jobs);",
        f"  at most, everything that depends on the derivations {a} builds today changes with them.",
        "",
        table(rows, ["", *systems, "total"]),
        "",
    ]
    for what, jobs in (("disappear (no counterpart under " + t + ")", rep.removed_jobs), ("appear", rep.added_jobs)):
        for jobset, attrs in jobs.items():
            lines.append(f"{len(attrs):,} {jobset} jobs of {a} {what}: {_listed(attrs)}")
    lines += [f"Exact answer: {EXACT_MODE}.", ""]
    return "\n".join(lines)


def repoint_json(rep: Repointing, graph: DerivationGraph) -> str:
    """The bounds as one JSON object (`exact: false`), with the snapshot."""
    return dumps({"snapshot": snapshot_dict(graph), **rep.to_dict()})


def render_repoint(answer: RepointAnswer, as_json: bool) -> str:
    """`impact estimate --repoint`: the bounds as JSON or text."""
    render = repoint_json if as_json else repoint_text
    return render(answer.repointing, answer.graph)
