"""What a change rebuilds, exactly as Nix computes output paths.

A derivation's output paths are a hash of its .drv text, which names its inputs; so when a derivation's
outputs change, every consumer's outputs change, whichever of the outputs it takes. Fixed-output
derivations (outputs with a fixed `hash`: fetchurl and friends) are the exception: Nix computes the output
paths of their consumers "modulo" them, so a change to a fixed-output derivation's inputs stops there (its
drv path changes, its output path does not). A fixed-output derivation that is itself a root (its URL or
hash edited) does change. Rebuilds are counted on output paths: a derivation is rebuilt when its outputs
change; a job changes when the derivation it builds is rebuilt.

What Hydra builds is smaller: it makes a build step for each changed job's derivation and recurses only into
the inputs whose outputs are missing. A rebuilt derivation whose only consumers are fixed-output derivations
(a source fetched with a rebuilt `curl`) is never built: the fixed-output derivation's output path is the
same, so its output is already there and nothing behind it is needed. `derivations_to_build` is that built
figure; the rebuilt derivations it leaves out are reported apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from impact.analysis.change import Change
from impact.model import DerivationGraph, coded, csr_edge_ids, job_order, take

#: The prefix of NixOS VM test jobs in the `nixos` jobset.
NIXOS_TEST_PREFIX = "tests."


def propagation_csr(graph: DerivationGraph) -> tuple[np.ndarray, np.ndarray]:
    """Input → consumer edges in CSR form (indptr, indices), without the edges into fixed-output derivations.

    A fixed-output derivation is never reached through its inputs; as a root it still passes its change on.
    """
    return graph.propagation_csr


def _unique(rows: np.ndarray) -> np.ndarray:
    """Sorted distinct `rows` (`np.unique` imports numpy.ma on first use: 10+ ms of a cold start)."""
    rows = np.sort(rows)
    return rows[np.concatenate(([True], rows[1:] != rows[:-1]))] if rows.size else rows


def reach(indptr: np.ndarray, indices: np.ndarray, seeds: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of the rows reached from `seeds` (included) along a CSR adjacency, entering only
    `allowed` rows when a mask is given.

    A breadth-first search one frontier at a time in numpy: each step gathers the neighbours of the whole
    frontier with one fancy index, so the Python loop runs once per step (a handful on nixpkgs), not per
    edge. It needs no per-call matrix (scipy's csgraph search would rebuild a sparse matrix with a virtual
    root each call, and importing scipy costs 0.2 s of a cold `impact estimate`).
    """
    n = indptr.size - 1
    seen = np.zeros(n, dtype=bool)
    seen[seeds] = True
    slot = np.empty(n, dtype=np.int64)
    frontier = _unique(np.asarray(seeds, dtype=np.int64))
    while frontier.size:
        reached = indices[csr_edge_ids(indptr, frontier)]
        keep = ~seen[reached] if allowed is None else ~seen[reached] & allowed[reached]
        reached = reached[keep]
        # Keep one copy of each row (the last writer of its slot wins) without sorting.
        position = np.arange(reached.size)
        slot[reached] = position
        frontier = reached[slot[reached] == position]
        seen[frontier] = True
    return seen


def rebuilt_rows(graph: DerivationGraph, roots: Sequence[int] | np.ndarray) -> np.ndarray:
    """Sorted rows of every derivation whose output paths change when the `roots` change."""
    seed = _unique(np.asarray(roots, dtype=np.int64))
    if seed.size == 0:
        return seed
    indptr, indices = propagation_csr(graph)
    return np.flatnonzero(reach(indptr, indices, seed)).astype(np.int64)


@dataclass(frozen=True)
class RebuildEstimate:
    """What a change rebuilds: changed jobs per jobset and system, and the derivations Hydra would build."""

    #: The change and its roots.
    change: Change
    #: Jobset → sorted attributes of the jobs whose output paths change.
    changed_jobs: Mapping[str, tuple[str, ...]]
    #: Jobset → system → number of changed jobs.
    changed_jobs_by_system: Mapping[str, Mapping[str, int]]
    #: How many derivations Hydra builds: the changed jobs' derivations and, recursively, the inputs whose
    #: output paths changed (never behind a fixed-output derivation, whose output is already there).
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
    #: Rows of the derivations to build (a subset of `rebuilt`; not part of the JSON).
    built: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64), repr=False, compare=False)
    #: System → derivations that get new output paths but are not built (they only feed fixed-output
    #: derivations, or nothing a changed job needs).
    rebuilt_not_built_by_system: Mapping[str, int] = field(default_factory=dict)

    @property
    def rebuilt_not_built(self) -> int:
        """Derivations that get new output paths but that Hydra does not build."""
        return sum(self.rebuilt_not_built_by_system.values())

    @property
    def derivations_with_new_output_paths(self) -> int:
        """Every derivation whose output paths change, built or not."""
        return int(self.rebuilt.size)

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
            "aliases": {k: list(v) for k, v in self.change.aliases.items()},
            "notes": list(self.change.notes),
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
            "derivations_rebuilt_not_built": {
                "total": self.rebuilt_not_built,
                "by_system": dict(self.rebuilt_not_built_by_system),
            },
            "derivations_with_new_output_paths": self.derivations_with_new_output_paths,
            "every_commit": {
                "jobs": {k: list(v) for k, v in self.every_commit_jobs.items()},
                "derivations_to_build": self.every_commit_derivations,
            },
            "nixos_tests": list(self.nixos_tests),
        }


def estimate(graph: DerivationGraph, change: Change) -> RebuildEstimate:
    """Estimate what `change` rebuilds in `graph`."""
    index = graph.index
    rows = np.array([index[p] for p in change.root_paths], dtype=np.int64)
    rebuilt = rebuilt_rows(graph, rows)
    tree_rows = [index[p] for p in change.source_tree_roots]
    every_commit = _every_commit_rows(graph, tree_rows) if tree_rows else np.empty(0, dtype=np.int64)
    return _summarise(graph, change, rebuilt, every_commit)


#: How many distinct every-commit answers a graph keeps (there is one per set of source-tree roots, usually one).
_KEPT = 8


def _kept(graph: DerivationGraph, table: str) -> dict[Any, Any]:
    """A small per-graph memo (cleared when full): every estimate on a graph asks the same every-commit share."""
    memo: dict[Any, Any] = graph.derived(table, lambda g: {})
    if len(memo) >= _KEPT:
        memo.clear()
    return memo


def _every_commit_rows(graph: DerivationGraph, tree_rows: Sequence[int]) -> np.ndarray:
    """`rebuilt_rows` of the source-tree roots, kept per graph."""
    memo = _kept(graph, "every_commit_rows")
    key = tuple(sorted(set(tree_rows)))
    rows = memo.get(key)
    if rows is None:
        rows = memo[key] = rebuilt_rows(graph, tree_rows)
        rows.flags.writeable = False
    return rows  # type: ignore[no-any-return]


def _every_commit_share(graph: DerivationGraph, every_commit: np.ndarray) -> tuple[dict[str, tuple[str, ...]], int]:
    """(jobset → the jobs any commit changes, derivations Hydra builds for them), kept per graph."""
    memo = _kept(graph, "every_commit_share")
    key = every_commit.tobytes()
    found = memo.get(key)
    if found is None:
        mask = _changed_job_mask(graph, every_commit)
        built, _ = hydra_builds(graph, every_commit, mask)
        found = memo[key] = (_by_jobset(graph, mask), int(built.size))
    jobs, built_count = found
    return dict(jobs), built_count


class _JobTables:
    """Per-graph job codes for vectorised counting: jobset and system of each job, and the jobs sorted by
    (jobset, attr) so that a selection comes out grouped and sorted without sorting strings per estimate."""

    def __init__(self, graph: DerivationGraph) -> None:
        self.jobsets, self.jobset = coded(graph.job_jobsets)
        self.totals = {js: int(c) for js, c in zip(self.jobsets, np.bincount(self.jobset, minlength=len(self.jobsets)))}
        self.systems, self.system = coded(graph.job_systems)
        self.order = graph.derived("job_order", job_order)


def _job_tables(graph: DerivationGraph) -> _JobTables:
    return graph.derived("job_tables", _JobTables)


def _changed_job_mask(graph: DerivationGraph, rebuilt: np.ndarray) -> np.ndarray:
    """Per job: does the derivation it builds get new output paths?"""
    mask = np.zeros(len(graph), dtype=bool)
    mask[rebuilt] = True
    return mask[graph.job_drv]


def _by_jobset(graph: DerivationGraph, changed: np.ndarray) -> dict[str, tuple[str, ...]]:
    """Jobset → sorted attributes of the jobs selected by the mask `changed`."""
    t = _job_tables(graph)
    selected = t.order[changed[t.order]]
    bounds = np.searchsorted(t.jobset[selected], np.arange(len(t.jobsets) + 1))
    attrs = take(graph.job_attrs, selected.tolist())
    return {js: tuple(attrs[bounds[c] : bounds[c + 1]]) for c, js in enumerate(t.jobsets)}


def _summarise(
    graph: DerivationGraph, change: Change, rebuilt: np.ndarray, every_commit: np.ndarray
) -> RebuildEstimate:
    t = _job_tables(graph)
    changed_mask = _changed_job_mask(graph, rebuilt)
    per_cell = np.bincount(
        (t.jobset * len(t.systems) + t.system)[changed_mask], minlength=len(t.jobsets) * len(t.systems)
    ).reshape(len(t.jobsets), len(t.systems))
    by_system = {
        js: {s: int(per_cell[c, i]) for i, s in sorted(enumerate(t.systems), key=lambda p: p[1]) if per_cell[c, i]}
        for c, js in enumerate(t.jobsets)
    }
    built, by_jobset = hydra_builds(graph, rebuilt, changed_mask)
    every_commit_jobs, every_commit_built = _every_commit_share(graph, every_commit)
    changed = _by_jobset(graph, changed_mask)
    not_built = np.setdiff1d(rebuilt, built, assume_unique=True)
    return RebuildEstimate(
        change=change,
        changed_jobs=changed,
        changed_jobs_by_system=by_system,
        derivations_to_build=int(built.size),
        derivations_to_build_by_system=_count_by_system(graph, built),
        every_commit_jobs=every_commit_jobs,
        every_commit_derivations=every_commit_built,
        nixos_tests=tuple(a for a in changed.get("nixos", ()) if a.startswith(NIXOS_TEST_PREFIX)),
        jobs_total=dict(t.totals),
        rebuilt=rebuilt,
        derivations_to_build_by_jobset=by_jobset,
        built=built,
        rebuilt_not_built_by_system=_count_by_system(graph, not_built),
    )


def _count_by_system(graph: DerivationGraph, rows: np.ndarray) -> dict[str, int]:
    """System → how many of `rows`, sorted by system."""
    counts = np.bincount(graph.system_ids[rows], minlength=len(graph.systems))
    return dict(sorted((graph.systems[s], int(c)) for s, c in enumerate(counts) if c))


def _local(rows: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """The position of each of `values` (rows of a graph of `n`) in the sorted `rows`, -1 for those not in it:
    a table over the whole graph when that is cheaper than a binary search per value."""
    if n <= 4 * values.size:
        table = np.full(n, -1, dtype=np.int64)
        table[rows] = np.arange(rows.size)
        return table[values]
    where = np.searchsorted(rows, values)
    found = where < rows.size
    found[found] = rows[where[found]] == values[found]
    return np.where(found, where, -1)


def hydra_builds(
    graph: DerivationGraph, rebuilt: np.ndarray, changed_jobs: np.ndarray
) -> tuple[np.ndarray, dict[str, dict[str, int]]]:
    """What Hydra builds for the jobs selected by the mask `changed_jobs`, when the sorted rows `rebuilt` get
    new output paths: (sorted rows built, jobset → system → derivations built for that jobset's jobs).

    Hydra makes a step for each changed job's derivation and recurses into the inputs whose outputs are
    missing, i.e. the rebuilt ones; an input that keeps its output paths (anything not rebuilt, including a
    fixed-output derivation reached by the change) is already built, so nothing behind it is needed. The
    input edges among rebuilt derivations are gathered once, renumbered, and searched per jobset (the jobsets
    share derivations, so their figures overlap and need not add up to the total).
    """
    counts = graph.input_indptr[rebuilt + 1] - graph.input_indptr[rebuilt]
    # Rows renumbered within `rebuilt` (sorted) by binary search: no array over the whole graph per estimate.
    inputs = _local(rebuilt, graph.input_indices[csr_edge_ids(graph.input_indptr, rebuilt)], len(graph))
    kept = inputs >= 0
    sub_indptr = np.zeros(rebuilt.size + 1, dtype=np.int64)
    row_of_edge = np.repeat(np.arange(rebuilt.size), counts)
    np.cumsum(np.bincount(row_of_edge[kept], minlength=rebuilt.size), out=sub_indptr[1:])
    sub_indices = inputs[kept]
    t = _job_tables(graph)
    job_rows = _local(rebuilt, graph.job_drv[changed_jobs], len(graph))
    job_jobsets = t.jobset[changed_jobs]
    systems = graph.system_ids[rebuilt]
    built = np.zeros(rebuilt.size, dtype=bool)
    per_jobset: dict[str, dict[str, int]] = {}
    for code, jobset in enumerate(t.jobsets):
        seen = reach(sub_indptr, sub_indices, job_rows[job_jobsets == code])
        built |= seen
        counts_by_system = np.bincount(systems[seen], minlength=len(graph.systems))
        per_jobset[jobset] = {graph.systems[s]: int(c) for s, c in enumerate(counts_by_system) if c}
    return rebuilt[built], per_jobset
