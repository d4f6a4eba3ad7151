"""Blast radius of a change: which changed derivations carry most of the rebuild, and which leaf jobs cover it.

- Carriers: the direct dependents of the roots (the first derivations the change reaches; the roots every commit
  changes, which embed the nixpkgs source tree, are left out unless there are no others), each with how many
  rebuilt derivations and changed jobs lie downstream of it (itself included). They overlap, so they do not
  add up to the total; they say where the rebuild goes ("most of it goes through cmake").
- Leaf jobs: as `guix refresh -l` reports ("building the following N packages would ensure M dependent
  packages are rebuilt"), the changed jobs whose derivation no other changed job depends on. Building them
  builds every changed job's derivation and every rebuilt derivation upstream of one; the set is minimal,
  since no leaf lies in another's closure. Rebuilt derivations no job depends on are counted apart.

Downstream sets are computed for all carriers at once as bit sets propagated in topological order over the
rebuilt subgraph (numpy; one pass, well under a second for a stdenv-wide change) rather than one search per
carrier, which a change with thousands of direct dependents (perl has 3,635) would make slow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from impact.analysis import _walk
from impact.analysis.rebuild import RebuildEstimate, propagation_csr
from impact.model import DerivationGraph

#: Carriers listed by default.
DEFAULT_TOP = 10
#: Leaf jobs listed by name; beyond this they are counted.
LEAVES_LISTED = 20


@dataclass(frozen=True, slots=True)
class Carrier:
    """A direct dependent of the roots and how much of the rebuild lies downstream of it."""

    #: The .drv path.
    drv: str
    #: Its name.
    name: str
    #: Its system.
    system: str
    #: The roots it takes, as `name (outputs)`.
    takes: tuple[str, ...]
    #: Rebuilt derivations downstream of it, itself included.
    derivations: int
    #: Changed jobs whose derivation is downstream of it (or it).
    jobs: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "drv": self.drv,
            "name": self.name,
            "system": self.system,
            "takes": list(self.takes),
            "derivations": self.derivations,
            "jobs": self.jobs,
        }


@dataclass(frozen=True, slots=True)
class BlastRadius:
    """Where a rebuild goes: the heaviest carriers, and the leaf jobs that cover it."""

    #: How many direct dependents the roots have (among rebuilt derivations, roots excluded).
    direct_dependents: int
    #: The carriers, most derivations first.
    carriers: tuple[Carrier, ...]
    #: Derivations to build in all.
    total: int
    #: Leaf jobs, `jobset: attr`, one per leaf derivation, sorted.
    leaf_jobs: tuple[str, ...]
    #: Rebuilt derivations that building the leaf jobs builds.
    covered: int

    @property
    def uncovered(self) -> int:
        """Rebuilt derivations no changed job depends on (nothing Hydra schedules builds them)."""
        return self.total - self.covered

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "direct_dependents": self.direct_dependents,
            "carriers": [c.to_dict() for c in self.carriers],
            "derivations_to_build": self.total,
            "leaf_jobs": list(self.leaf_jobs),
            "leaf_job_count": len(self.leaf_jobs),
            "covered_by_leaf_jobs": self.covered,
            "built_by_no_job": self.uncovered,
        }


def _rebuilt_edges(graph: DerivationGraph, rebuilt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(input, consumer) rows of the propagation edges inside the rebuilt set."""
    indptr, consumers = propagation_csr(graph)
    inputs = np.repeat(np.arange(len(graph), dtype=np.int64), np.diff(indptr))
    inside = np.zeros(len(graph), dtype=bool)
    inside[rebuilt] = True
    keep = inside[inputs] & inside[consumers]
    return inputs[keep], consumers[keep].astype(np.int64)


def _downstream_counts(
    graph: DerivationGraph,
    rebuilt: np.ndarray,
    edges: tuple[np.ndarray, np.ndarray],
    carriers: np.ndarray,
    weights: list[np.ndarray],
) -> list[np.ndarray]:
    """For each weight vector over rows, the weighted count of rows downstream of each carrier (itself included)."""
    n = len(graph)
    local = np.full(n, -1, dtype=np.int64)
    local[rebuilt] = np.arange(rebuilt.size)
    words = (carriers.size + 63) // 64
    bits = np.zeros((rebuilt.size, words), dtype=np.uint64)
    k = np.arange(carriers.size)
    bits[local[carriers], k // 64] |= np.left_shift(np.uint64(1), (k % 64).astype(np.uint64))
    src, dst = edges
    levels = _walk.topological_levels(graph)[dst]
    order = np.lexsort((dst, levels))
    src, dst, levels = local[src[order]], local[dst[order]], levels[order]
    bounds = np.flatnonzero(np.diff(levels)) + 1
    for lo, hi in zip(np.concatenate([[0], bounds]), np.concatenate([bounds, [levels.size]])):
        s, d = src[lo:hi], dst[lo:hi]
        starts = np.concatenate([[0], np.flatnonzero(np.diff(d)) + 1])
        bits[d[starts]] |= np.bitwise_or.reduceat(bits[s], starts, axis=0)
    # Column sums of the bit matrix, weighted: unpack rows in chunks (bit k of word j is column 64*j + k).
    little = bits.astype("<u8", copy=False)
    totals = [np.zeros(words * 64, dtype=np.float64) for _ in weights]
    local_weights = [w[rebuilt].astype(np.float64) for w in weights]
    for lo in range(0, rebuilt.size, 2048):
        unpacked = np.unpackbits(little[lo : lo + 2048].view(np.uint8), axis=1, bitorder="little").astype(np.float64)
        for total, w in zip(totals, local_weights):
            total += w[lo : lo + 2048] @ unpacked
    return [np.rint(t[: carriers.size]).astype(np.int64) for t in totals]


def _leaves(
    graph: DerivationGraph, rebuilt: np.ndarray, edges: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, int]:
    """Leaf job derivations (no changed job downstream) and how many rebuilt rows lie upstream of a job."""
    n = len(graph)
    is_job = np.zeros(n, dtype=bool)
    is_job[graph.job_drv] = True
    in_rebuilt = np.zeros(n, dtype=bool)
    in_rebuilt[rebuilt] = True
    is_job &= in_rebuilt
    has_job_below = np.zeros(n, dtype=bool)
    src, dst = edges
    levels = _walk.topological_levels(graph)[src]
    order = np.argsort(-levels, kind="stable")
    src, dst, levels = src[order], dst[order], levels[order]
    bounds = np.flatnonzero(np.diff(levels)) + 1
    for lo, hi in zip(np.concatenate([[0], bounds]), np.concatenate([bounds, [levels.size]])):
        s, d = src[lo:hi], dst[lo:hi]
        has_job_below[s[is_job[d] | has_job_below[d]]] = True
    leaves = np.flatnonzero(is_job & ~has_job_below)
    covered = int((in_rebuilt & (is_job | has_job_below)).sum())
    return leaves, covered


def blast_radius(graph: DerivationGraph, result: RebuildEstimate, *, top: int = DEFAULT_TOP) -> BlastRadius:
    """The carriers of a rebuild (direct dependents of the roots, heaviest first) and its leaf jobs."""
    rebuilt = np.asarray(result.rebuilt, dtype=np.int64)
    roots = np.array(sorted(graph.index[p] for p in result.change.root_paths), dtype=np.int64)
    edges = _rebuilt_edges(graph, rebuilt)
    is_root = np.zeros(len(graph), dtype=bool)
    is_root[roots] = True
    every_commit = set(result.change.source_tree_roots)
    own = [graph.index[p] for p in result.change.root_paths if p not in every_commit]
    is_own = np.zeros(len(graph), dtype=bool)
    is_own[own if own else roots] = True
    first = is_own[edges[0]] & ~is_root[edges[1]]
    carriers = np.unique(edges[1][first])
    job_weight = np.bincount(graph.job_drv, minlength=len(graph))
    if carriers.size:
        drv_counts, job_counts = _downstream_counts(
            graph, rebuilt, edges, carriers, [np.ones(len(graph), dtype=np.int64), job_weight]
        )
    else:
        drv_counts = job_counts = np.zeros(0, dtype=np.int64)
    ranked = sorted(range(carriers.size), key=lambda k: (-drv_counts[k], -job_counts[k], graph.names[carriers[k]]))
    listed = []
    for k in ranked[:top]:
        c = int(carriers[k])
        takes = tuple(f"{graph.names[j]} ({','.join(outs)})" for j, outs in graph.inputs_of(c) if is_own[j])
        listed.append(
            Carrier(
                graph.drv_paths[c], graph.names[c], graph.system_of(c), takes, int(drv_counts[k]), int(job_counts[k])
            )
        )
    leaves, covered = _leaves(graph, rebuilt, edges)
    leaf_jobs = []
    for i in leaves.tolist():
        ks = sorted(graph.jobs_of_derivation.get(i, []), key=lambda k: (graph.job_jobsets[k], graph.job_attrs[k]))
        leaf_jobs.append(f"{graph.job_jobsets[ks[0]]}: {graph.job_attrs[ks[0]]}")
    return BlastRadius(
        direct_dependents=int(carriers.size),
        carriers=tuple(listed),
        total=int(rebuilt.size),
        leaf_jobs=tuple(sorted(leaf_jobs)),
        covered=covered,
    )
