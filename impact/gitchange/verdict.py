"""The two evaluations compared: roots, added, removed and broken jobs, and whether the answer is exact.

- The snapshot stands for BASE only where it says so: every candidate job evaluated in BASE must have the
  snapshot's derivation, and every snapshot job under a candidate path must be evaluated in BASE (the jobs that
  embed the nixpkgs source tree aside: they change with every commit). A mismatch means the snapshot is not an
  evaluation of BASE, and the answer is not exact.
- A candidate job whose output paths differ between BASE and HEAD is a root (its BASE derivation), unless its
  HEAD derivation is one BASE already has: then the attribute was re-pointed (`linuxPackages =
  linuxPackages_4_19`) and no derivation rebuilds because of it.
- A job that evaluates in BASE and fails in HEAD is a break, with Nix's message — never a rebuild; one that
  evaluates in HEAD only is added; one gone from HEAD without an error is removed.
- The answer is exact when every changed file was bounded, the snapshot is BASE's, and no re-pointed
  attribute had consumers the search left to the graph (the graph cannot see re-pointing).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from impact.gitchange.targeted import Evaluation
from impact.model import DerivationGraph

#: How many mismatches a reason quotes.
QUOTED = 3


@dataclass(frozen=True)
class Verdict:
    """Whether the answer is Nix's own, and if not, why."""

    exact: bool
    #: `FILE: why` or `snapshot: why`, one a reason; empty when exact.
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"exact": self.exact, "reasons": list(self.reasons)}


@dataclass
class Outcome:
    """What the two evaluations say."""

    #: BASE drv path → the first job that showed it changes (`nixpkgs:qemu.x86_64-linux`).
    roots: dict[str, str] = field(default_factory=dict)
    #: (jobset, attr) → the BASE derivation the job now builds.
    repointed: dict[tuple[str, str], str] = field(default_factory=dict)
    added: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    removed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    #: jobset → attr → Nix's message, for jobs that evaluate in BASE and not in HEAD.
    broken: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    #: jobset → attr → Nix's message, for jobs that failed in BASE and still fail in HEAD.
    still_failing: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    #: Why the snapshot does not stand for BASE (empty: it does).
    mismatches: list[str] = field(default_factory=list)
    #: Jobs evaluated per side.
    evaluated: dict[str, int] = field(default_factory=dict)


def compare(
    graph: DerivationGraph,
    base: Evaluation,
    head: Evaluation,
    every_commit: set[tuple[str, str]],
    candidate_prefixes: Mapping[str, set[tuple[str, ...]]],
) -> Outcome:
    """Compare the candidates' jobs of BASE and HEAD against each other and against the snapshot `graph`."""
    evaluated = {
        side: sum(1 for line in e.jobs.values() if not line.get("from_snapshot"))
        for side, e in (("base", base), ("head", head))
    }
    out = Outcome(evaluated=evaluated)
    job_index = graph.job_index
    output_owner: dict[str, int] | None = None
    mismatched: list[str] = []
    for key, line in sorted(base.jobs.items()):
        if key in every_commit or "error" in line or line.get("confirmed"):
            continue
        k = job_index.get(key)
        if k is None or graph.drv_paths[graph.job_drv[k]] != line.get("drvPath"):
            mismatched.append(f"{key[0]}:{key[1]}")
    for k, (js, attr) in enumerate(zip(graph.job_jobsets, graph.job_attrs)):
        if (js, attr) in every_commit or (js, attr) in base.jobs:
            continue
        if _under(js, attr, graph.job_systems[k], candidate_prefixes):
            mismatched.append(f"{js}:{attr} (not evaluated in BASE)")
    if mismatched:
        out.mismatches.append(
            f"snapshot: {len(mismatched):,} candidate job{'s' if len(mismatched) != 1 else ''} of BASE differ from the"
            f" snapshot (e.g. {', '.join(mismatched[:QUOTED])}): it is not an evaluation of BASE"
        )
    for key in sorted(base.jobs.keys() | head.jobs.keys()):
        if key in every_commit:
            continue
        b, h = base.jobs.get(key), head.jobs.get(key)
        js, attr = key
        if b is None:
            if h is not None and "error" not in h:
                out.added[js].append(attr)
            continue
        if h is None:
            out.removed[js].append(attr)
            continue
        if "error" in h:
            if "error" in b:
                out.still_failing[js][attr] = str(h["error"])
            else:
                out.broken[js][attr] = str(h["error"])
            continue
        if "error" in b:
            out.added[js].append(attr)  # it evaluates again: a new job for Hydra
            continue
        if b.get("outputs") == h.get("outputs"):
            continue
        if output_owner is None:
            output_owner = {p: i for i, paths in enumerate(graph.output_paths) for p in paths}
        head_outputs = h.get("outputs") or {}
        owners = {output_owner.get(p) for p in head_outputs.values()} if isinstance(head_outputs, dict) else {None}
        (row,) = owners if len(owners) == 1 else (None,)
        if row is not None:
            out.repointed[key] = graph.drv_paths[row]
            continue
        drv = b.get("drvPath")
        if isinstance(drv, str) and drv not in graph.index and (k := job_index.get(key)) is not None:
            drv = graph.drv_paths[graph.job_drv[k]]  # evaluated here, in another folder than the snapshot's
        if isinstance(drv, str) and drv in graph.index:
            out.roots.setdefault(drv, f"{js}:{attr}")
        else:
            out.mismatches.append(f"{js}:{attr} changed and the snapshot lacks it: the graph cannot count it")
    return out


def _under(jobset: str, attr: str, system: str, prefixes: Mapping[str, set[tuple[str, ...]]]) -> bool:
    paths = prefixes.get(jobset)
    if not paths:
        return False
    parts = attr.split(".")
    if parts[-1] == system:
        parts = parts[:-1]
    return any(tuple(parts[: len(p)]) == p for p in paths)


#: At most this many jobs are evaluated to settle what variants of the changed derivations reach.
VERIFY_LIMIT = 1500


def suspects(graph: DerivationGraph, root_rows: list[int]) -> set[int]:
    """Derivations that may change with the roots although Nix evaluated no job of theirs: the same package
    built elsewhere (same source and name: `pkgsi686Linux.libidn2` beside `libidn2`), and the derivations that
    take one of the roots' fixed-output inputs (a source borrowed, `inherit (hello) src`)."""
    from impact.analysis.change import variants_of

    found = set(variants_of(graph, root_rows, reasons=False))
    roots = set(root_rows)
    consumers_indptr, consumers, _ = graph.consumer_indptr_indices
    for r in root_rows:
        for j, _outputs in graph.inputs_of(r):
            if graph.fixed_output[j]:
                for c in consumers[consumers_indptr[j] : consumers_indptr[j + 1]].tolist():
                    if not graph.fixed_output[c]:
                        found.add(c)
    return found - roots


def verification_jobs(
    graph: DerivationGraph,
    outcome: Outcome,
    base: Evaluation,
    every_commit: set[tuple[str, str]],
    limit: int = VERIFY_LIMIT,
) -> tuple[set[tuple[str, str]], list[str]]:
    """The jobs to evaluate so that what `suspects` reach is Nix's answer, not the graph's guess: those the
    suspects reach and the roots do not (nor were they evaluated); or, beyond `limit`, none and the reason."""
    from impact.analysis.rebuild import rebuilt_rows

    index = graph.index
    root_rows = [index[d] for d in outcome.roots]
    evaluated_rows = {index[line["drvPath"]] for line in base.jobs.values() if line.get("drvPath") in index}
    suspect_rows = sorted(suspects(graph, root_rows) - evaluated_rows)
    if not suspect_rows:
        return set(), []
    by_suspects = rebuilt_rows(graph, suspect_rows)
    by_roots = rebuilt_rows(graph, root_rows)
    only_suspects = set(np.setdiff1d(by_suspects, by_roots).tolist())
    jobs = {
        (js, attr)
        for js, attr, d in zip(graph.job_jobsets, graph.job_attrs, graph.job_drv.tolist())
        if d in only_suspects and (js, attr) not in base.jobs and (js, attr) not in every_commit
    }
    if len(jobs) > limit:
        example = graph.names[suspect_rows[0]]
        return set(), [
            f"graph: {len(jobs):,} jobs depend on derivations such as {example} (the same package built for another"
            f" package set, or a changed source reused) that impact did not evaluate; more than {limit:,} to check"
        ]
    return jobs, []
