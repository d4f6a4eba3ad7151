"""What a change rebuilds, exactly as Nix computes output paths.

A derivation's output paths are a hash of its .drv text, which names its inputs; so when a derivation's
outputs change, every consumer's outputs change, whichever of the outputs it takes. Fixed-output
derivations (outputs with a fixed `hash`: fetchurl and friends) are the exception: Nix computes the output
paths of their consumers "modulo" them, so a change to a fixed-output derivation's inputs stops there (its
drv path changes, its output path does not). A fixed-output derivation that is itself a root (its URL or
hash edited) does change. Rebuilds are counted on output paths: a derivation is rebuilt when its outputs
change; a job changes when the derivation it builds is rebuilt.
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from impact.analysis.change import Change
from impact.model import DerivationGraph

#: The prefix of NixOS VM test jobs in the `nixos` jobset.
NIXOS_TEST_PREFIX = "tests."

_totals: weakref.WeakKeyDictionary[DerivationGraph, dict[str, int]] = weakref.WeakKeyDictionary()
_propagation: weakref.WeakKeyDictionary[DerivationGraph, tuple[np.ndarray, np.ndarray]] = weakref.WeakKeyDictionary()


def propagation_csr(graph: DerivationGraph) -> tuple[np.ndarray, np.ndarray]:
    """Input → consumer edges in CSR form (indptr, indices), without the edges into fixed-output derivations.

    A fixed-output derivation is never reached through its inputs; as a root it still passes its change on.
    """
    cached = _propagation.get(graph)
    if cached is None:
        indptr, consumers, _ = graph.consumer_indptr_indices
        keep = ~graph.fixed_output[consumers]
        input_of_edge = np.repeat(np.arange(len(graph), dtype=np.int64), np.diff(indptr))
        new_indptr = np.zeros_like(indptr)
        np.cumsum(np.bincount(input_of_edge[keep], minlength=len(graph)), out=new_indptr[1:])
        cached = (new_indptr, consumers[keep].astype(np.int32))
        _propagation[graph] = cached
    return cached


def rebuilt_rows(graph: DerivationGraph, roots: Sequence[int] | np.ndarray) -> np.ndarray:
    """Sorted rows of every derivation whose output paths change when the `roots` change.

    A breadth-first search one frontier at a time in numpy: each step gathers the consumers of the whole
    frontier with one fancy index, so the Python loop runs once per step (a handful on nixpkgs), not per
    edge. It needs no per-call matrix (scipy's csgraph search would rebuild a sparse matrix with a virtual
    root each call, and importing scipy costs 0.2 s of a cold `impact estimate`).
    """
    seed = np.unique(np.asarray(roots, dtype=np.int64))
    if seed.size == 0:
        return seed
    indptr, indices = propagation_csr(graph)
    n = len(graph)
    seen = np.zeros(n, dtype=bool)
    seen[seed] = True
    slot = np.empty(n, dtype=np.int64)
    frontier = seed
    while frontier.size:
        starts = indptr[frontier]
        counts = indptr[frontier + 1] - starts
        total = int(counts.sum())
        if total == 0:
            break
        # Edge ids of every frontier row, concatenated: starts[i] .. starts[i] + counts[i].
        shift = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
        reached = indices[shift + np.arange(total)]
        reached = reached[~seen[reached]]
        # Keep one copy of each row (the last writer of its slot wins) without sorting.
        position = np.arange(reached.size)
        slot[reached] = position
        frontier = reached[slot[reached] == position]
        seen[frontier] = True
    return np.flatnonzero(seen).astype(np.int64)


@dataclass(frozen=True)
class RebuildEstimate:
    """What a change rebuilds: changed jobs per jobset and system, and the derivations Hydra would build."""

    #: The change and its roots.
    change: Change
    #: Jobset → sorted attributes of the jobs whose output paths change.
    changed_jobs: Mapping[str, tuple[str, ...]]
    #: Jobset → system → number of changed jobs.
    changed_jobs_by_system: Mapping[str, Mapping[str, int]]
    #: How many derivations get new output paths: what Hydra builds.
    derivations_to_build: int
    #: System → derivations to build.
    derivations_to_build_by_system: Mapping[str, int]
    #: Jobset → sorted attributes of the changed jobs that any commit changes (they embed the nixpkgs source).
    every_commit_jobs: Mapping[str, tuple[str, ...]]
    #: Derivations that any commit rebuilds (reached from the source-tree roots alone).
    every_commit_derivations: int
    #: Sorted attributes of the changed NixOS VM test jobs (`nixos` jobset, `tests.…`).
    nixos_tests: tuple[str, ...]
    #: Jobs per jobset in the snapshot, for context ("8,774 of 15,103").
    jobs_total: Mapping[str, int]
    #: Rows of the rebuilt derivations (for further analysis; not part of the JSON).
    rebuilt: np.ndarray = field(repr=False, compare=False)
    #: Jobset → system → derivations to build for that jobset's changed jobs (what its Hydra evaluation
    #: schedules; the jobsets share derivations, so these overlap and need not add up to the total).
    derivations_to_build_by_jobset: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @property
    def changed_job_count(self) -> int:
        """Changed jobs over all jobsets."""
        return sum(len(v) for v in self.changed_jobs.values())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (the shape `impact estimate --json` prints)."""
        return {
            "change": self.change.description,
            "roots": [
                {"drv": r.path, "name": r.name, "system": r.system, "kind": r.kind.value, "reason": r.reason}
                for r in self.change.roots
            ],
            "changed_jobs": {k: list(v) for k, v in self.changed_jobs.items()},
            "changed_jobs_count": {k: len(v) for k, v in self.changed_jobs.items()},
            "changed_jobs_by_system": {k: dict(v) for k, v in self.changed_jobs_by_system.items()},
            "jobs_total": dict(self.jobs_total),
            "derivations_to_build": self.derivations_to_build,
            "derivations_to_build_by_system": dict(self.derivations_to_build_by_system),
            "derivations_to_build_by_jobset": {
                js: {"total": sum(per.values()), "by_system": dict(per)}
                for js, per in self.derivations_to_build_by_jobset.items()
            },
            "every_commit": {
                "jobs": {k: list(v) for k, v in self.every_commit_jobs.items()},
                "derivations_to_build": self.every_commit_derivations,
            },
            "nixos_tests": list(self.nixos_tests),
        }

    def to_dataframe(self, per: str = "job") -> Any:
        """One row per changed job (`per="job"`), or per system with jobs and derivations (`per="system"`)."""
        from impact.render import frames

        return frames.estimate_jobs_frame(self) if per == "job" else frames.estimate_systems_frame(self)


def estimate(graph: DerivationGraph, change: Change) -> RebuildEstimate:
    """Estimate what `change` rebuilds in `graph`."""
    index = graph.index
    rows = np.array([index[p] for p in change.root_paths], dtype=np.int64)
    rebuilt = rebuilt_rows(graph, rows)
    tree_rows = [index[p] for p in change.source_tree_roots]
    every_commit = rebuilt_rows(graph, tree_rows) if tree_rows else np.empty(0, dtype=np.int64)
    return _summarise(graph, change, rebuilt, every_commit)


def _changed_jobs(graph: DerivationGraph, rebuilt: np.ndarray) -> list[int]:
    mask = np.zeros(len(graph), dtype=bool)
    mask[rebuilt] = True
    return np.flatnonzero(mask[graph.job_drv]).tolist()


def _jobs_per_jobset(graph: DerivationGraph) -> dict[str, int]:
    """Jobset → how many jobs it has, in order of first appearance (counted once per graph)."""
    totals = _totals.get(graph)
    if totals is None:
        totals = _totals[graph] = dict(Counter(graph.job_jobsets))
    return totals


def _by_jobset(graph: DerivationGraph, jobs: list[int]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {js: [] for js in _jobs_per_jobset(graph)}
    for k in jobs:
        out[graph.job_jobsets[k]].append(graph.job_attrs[k])
    return {js: tuple(sorted(v)) for js, v in out.items()}


def _summarise(graph: DerivationGraph, change: Change, rebuilt: np.ndarray, every_commit: np.ndarray) -> RebuildEstimate:
    jobs = _changed_jobs(graph, rebuilt)
    by_system: dict[str, dict[str, int]] = {js: {} for js in _jobs_per_jobset(graph)}
    for k in jobs:
        d = by_system[graph.job_jobsets[k]]
        d[graph.job_systems[k]] = d.get(graph.job_systems[k], 0) + 1
    counts = np.bincount(graph.system_ids[rebuilt], minlength=len(graph.systems))
    drv_by_system = {graph.systems[s]: int(c) for s, c in enumerate(counts) if c}
    changed = _by_jobset(graph, jobs)
    totals = dict(_jobs_per_jobset(graph))
    return RebuildEstimate(
        change=change,
        changed_jobs=changed,
        changed_jobs_by_system={js: dict(sorted(v.items())) for js, v in by_system.items()},
        derivations_to_build=int(rebuilt.size),
        derivations_to_build_by_system=dict(sorted(drv_by_system.items())),
        every_commit_jobs=_by_jobset(graph, _changed_jobs(graph, every_commit)),
        every_commit_derivations=int(every_commit.size),
        nixos_tests=tuple(a for a in changed.get("nixos", ()) if a.startswith(NIXOS_TEST_PREFIX)),
        jobs_total=totals,
        rebuilt=rebuilt,
        derivations_to_build_by_jobset=_derivations_by_jobset(graph, rebuilt, jobs),
    )


def _derivations_by_jobset(graph: DerivationGraph, rebuilt: np.ndarray, jobs: list[int]) -> dict[str, dict[str, int]]:
    """Per jobset, the rebuilt derivations its changed jobs need: their inputs' closure within the rebuild.

    The walk stays inside the rebuilt set: an input that keeps its output paths (a fixed-output derivation
    reached by the change, or anything not rebuilt) is already built, so nothing behind it is needed.
    """
    inside = np.zeros(len(graph), dtype=bool)
    inside[rebuilt] = True
    starts: dict[str, list[int]] = {}
    for k in jobs:
        starts.setdefault(graph.job_jobsets[k], []).append(int(graph.job_drv[k]))
    out: dict[str, dict[str, int]] = {}
    for jobset in _jobs_per_jobset(graph):
        seen = np.zeros(len(graph), dtype=bool)
        frontier = np.unique(np.array(starts.get(jobset, []), dtype=np.int64))
        seen[frontier] = True
        while frontier.size:
            lo, hi = graph.input_indptr[frontier], graph.input_indptr[frontier + 1]
            counts = hi - lo
            shift = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
            reached = np.unique(graph.input_indices[shift + np.arange(int(counts.sum()))])
            frontier = reached[inside[reached] & ~seen[reached]]
            seen[frontier] = True
        counts_by_system = np.bincount(graph.system_ids[seen], minlength=len(graph.systems))
        out[jobset] = {graph.systems[s]: int(c) for s, c in enumerate(counts_by_system) if c}
    return out

