"""Two evaluations of nixpkgs side by side: which jobs one branch has that the other has not, and which differ.

A job is the same job on both sides when its jobset and attribute are equal (`nixpkgs`, `qemu.x86_64-linux`).
It *differs* when its output paths differ (any output added, removed or given another path): that is what
Hydra would build again going from one branch to the other. Output paths, not drv paths, decide: a drv path
changes when a fixed-output input is re-fetched from another URL, an output path only when the build would
differ.

For derivations the same rule gives what moving from A to B costs: the derivations of B none of whose output
paths exist in A must be built (Hydra has built the others already). Among them, the *roots* are those none of
whose inputs is new: the derivations a commit edited directly, from which the rest follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from impact.model import DerivationGraph

#: The per-system count keys of a branch comparison, in display order.
COUNT_KEYS = ("only_a", "only_b", "differ", "same")


@dataclass(frozen=True)
class SideSummary:
    """What one snapshot of a comparison is."""

    #: The snapshot's label, e.g. `nixpkgs staging 2016-06-20 (14c038d)`.
    label: str
    #: The branch, when the snapshot records it.
    branch: str
    #: Jobs per jobset.
    jobs: Mapping[str, int]
    #: Derivations in the snapshot.
    derivations: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"label": self.label, "branch": self.branch, "jobs": dict(self.jobs), "derivations": self.derivations}


@dataclass(frozen=True)
class BranchComparison:
    """Jobs only in A, only in B, and in both with other output paths; derivations B has that A has not."""

    #: Snapshot A.
    a: SideSummary
    #: Snapshot B.
    b: SideSummary
    #: Jobset → sorted attributes of the jobs only A has.
    only_a: Mapping[str, tuple[str, ...]]
    #: Jobset → sorted attributes of the jobs only B has.
    only_b: Mapping[str, tuple[str, ...]]
    #: Jobset → sorted attributes of the jobs both have, with different output paths.
    differ: Mapping[str, tuple[str, ...]]
    #: Jobset → how many jobs both have with the same output paths.
    same: Mapping[str, int]
    #: Jobset → system → {`only_a`, `only_b`, `differ`, `same`} → jobs.
    by_system: Mapping[str, Mapping[str, Mapping[str, int]]]
    #: Derivations of B none of whose output paths exist in A: what building B after A costs.
    derivations_new_in_b: int
    #: System → derivations new in B.
    derivations_new_in_b_by_system: Mapping[str, int]
    #: Derivations of A none of whose output paths exist in B.
    derivations_new_in_a: int
    #: System → derivations new in A.
    derivations_new_in_a_by_system: Mapping[str, int]
    #: Names of the derivations new in B none of whose inputs is new in B (what was edited), sorted, with repeats.
    roots_in_b: tuple[str, ...]
    #: (jobset, attribute) → (derivation name in A, in B) for every job that is not the same; not part of the JSON.
    names: Mapping[tuple[str, str], tuple[str, str]] = field(repr=False, compare=False)
    #: (jobset, attribute) → system, for every job that is not the same; not part of the JSON.
    systems: Mapping[tuple[str, str], str] = field(repr=False, compare=False)
    #: Rows (in B) of the derivations new in B, for further analysis; not part of the JSON.
    new_rows_b: np.ndarray = field(repr=False, compare=False)
    #: Rows (in B) of the root derivations; not part of the JSON.
    root_rows_b: np.ndarray = field(repr=False, compare=False)

    def renamed(self, jobset: str) -> tuple[str, ...]:
        """Attributes of the differing jobs of `jobset` whose derivation name changed too (a version bump, mostly)."""
        return tuple(a for a in self.differ.get(jobset, ()) if len(set(self.names[(jobset, a)])) == 2)

    def counts(self, jobset: str) -> dict[str, int]:
        """{`only_a`, `only_b`, `differ`, `same`, `renamed`} → jobs of `jobset`, over every system."""
        return {
            "only_a": len(self.only_a.get(jobset, ())),
            "only_b": len(self.only_b.get(jobset, ())),
            "differ": len(self.differ.get(jobset, ())),
            "same": self.same.get(jobset, 0),
            "renamed": len(self.renamed(jobset)),
        }

    @property
    def jobsets(self) -> list[str]:
        """The jobsets of either side, in order of first appearance."""
        return list(self.by_system)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (the shape `impact branches --json` prints)."""
        return {
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "counts": {js: self.counts(js) for js in self.jobsets},
            "by_system": {js: {s: dict(c) for s, c in per.items()} for js, per in self.by_system.items()},
            "only_a": {k: list(v) for k, v in self.only_a.items()},
            "only_b": {k: list(v) for k, v in self.only_b.items()},
            "differ": {k: list(v) for k, v in self.differ.items()},
            "derivations": {
                "new_in_b": self.derivations_new_in_b,
                "new_in_b_by_system": dict(self.derivations_new_in_b_by_system),
                "new_in_a": self.derivations_new_in_a,
                "new_in_a_by_system": dict(self.derivations_new_in_a_by_system),
                "roots_in_b": len(self.roots_in_b),
            },
        }


def _side(graph: DerivationGraph) -> SideSummary:
    jobs: dict[str, int] = {}
    for js in graph.job_jobsets:
        jobs[js] = jobs.get(js, 0) + 1
    return SideSummary(graph.label, graph.meta.get("branch", ""), jobs, len(graph))


def _job_outputs(graph: DerivationGraph, k: int) -> frozenset[str]:
    """The output paths of job row `k`: as the evaluator printed them, else those of its derivation."""
    outs = graph.job_outputs[k]
    return frozenset(outs.values()) if outs else frozenset(graph.output_paths[int(graph.job_drv[k])])


def new_derivations(graph: DerivationGraph, known_paths: set[str] | frozenset[str]) -> np.ndarray:
    """Rows of `graph` none of whose output paths is in `known_paths`."""
    return np.array(
        [i for i, outs in enumerate(graph.output_paths) if not any(p in known_paths for p in outs)], dtype=np.int64
    )


def _all_output_paths(graph: DerivationGraph) -> set[str]:
    return {p for outs in graph.output_paths for p in outs}


def _by_system(graph: DerivationGraph, rows: np.ndarray) -> dict[str, int]:
    counts = np.bincount(graph.system_ids[rows], minlength=len(graph.systems)).tolist() if rows.size else []
    return {graph.systems[s]: c for s, c in sorted(enumerate(counts), key=lambda x: graph.systems[x[0]]) if c}


def edit_roots(graph: DerivationGraph, new_rows: np.ndarray) -> np.ndarray:
    """Of the `new_rows`, those none of whose inputs is new: where the edits are."""
    new = np.zeros(len(graph), dtype=bool)
    new[new_rows] = True
    indptr, indices = graph.input_indptr, graph.input_indices
    consumers = np.repeat(np.arange(len(graph), dtype=np.int64), np.diff(indptr))
    has_new_input = np.zeros(len(graph), dtype=bool)
    has_new_input[consumers[new[indices]]] = True
    return np.flatnonzero(new & ~has_new_input).astype(np.int64)


def compare_branches(a: DerivationGraph, b: DerivationGraph) -> BranchComparison:
    """Compare two snapshots job by job (by jobset and attribute) and derivation by derivation (by output paths)."""
    index_a = a.job_index
    index_b = b.job_index
    jobsets = list(dict.fromkeys([*a.jobsets, *b.jobsets]))
    only_a: dict[str, list[str]] = {js: [] for js in jobsets}
    only_b: dict[str, list[str]] = {js: [] for js in jobsets}
    differ: dict[str, list[str]] = {js: [] for js in jobsets}
    same: dict[str, int] = dict.fromkeys(jobsets, 0)
    per: dict[str, dict[str, dict[str, int]]] = {js: {} for js in jobsets}
    names: dict[tuple[str, str], tuple[str, str]] = {}
    systems: dict[tuple[str, str], str] = {}

    def bump(js: str, attr: str, system: str, key: str) -> None:
        if key != "same":
            systems[(js, attr)] = system
        counts = per[js].setdefault(system, dict.fromkeys(COUNT_KEYS, 0))
        counts[key] += 1

    for (js, attr), k in index_a.items():
        kb = index_b.get((js, attr))
        system = a.job_systems[k]
        if kb is None:
            only_a[js].append(attr)
            names[(js, attr)] = (a.job_names[k], "")
            bump(js, attr, system, "only_a")
        elif _job_outputs(a, k) != _job_outputs(b, kb):
            differ[js].append(attr)
            names[(js, attr)] = (a.job_names[k], b.job_names[kb])
            bump(js, attr, system, "differ")
        else:
            same[js] += 1
            bump(js, attr, system, "same")
    for (js, attr), k in index_b.items():
        if (js, attr) not in index_a:
            only_b[js].append(attr)
            names[(js, attr)] = ("", b.job_names[k])
            bump(js, attr, b.job_systems[k], "only_b")
    new_b = new_derivations(b, _all_output_paths(a))
    new_a = new_derivations(a, _all_output_paths(b))
    roots = edit_roots(b, new_b)
    return BranchComparison(
        a=_side(a),
        b=_side(b),
        only_a={js: tuple(sorted(v)) for js, v in only_a.items()},
        only_b={js: tuple(sorted(v)) for js, v in only_b.items()},
        differ={js: tuple(sorted(v)) for js, v in differ.items()},
        same=same,
        by_system={js: dict(sorted(v.items())) for js, v in per.items()},
        derivations_new_in_b=int(new_b.size),
        derivations_new_in_b_by_system=_by_system(b, new_b),
        derivations_new_in_a=int(new_a.size),
        derivations_new_in_a_by_system=_by_system(a, new_a),
        roots_in_b=tuple(sorted(b.names[i] for i in roots.tolist())),
        names=names,
        systems=systems,
        new_rows_b=new_b,
        root_rows_b=roots,
    )
