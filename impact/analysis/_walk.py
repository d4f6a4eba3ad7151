"""Graph walks shared by `why`, `blast` and `whatif`: breadth-first search with predecessors, ancestors,
and topological levels, all on the graph's CSR arrays.

Breadth-first search with predecessors runs in C through `scipy.sparse.csgraph.breadth_first_order`, from
a virtual node pointing at every source, so one call answers "is it reached" and "by which shortest chain"
(the predecessor array) for a whole snapshot in milliseconds; networkx is kept for enumerating many chains
in small subgraphs, where its path algorithms are worth their cost.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import cast

import numpy as np

from impact.analysis.rebuild import propagation_csr
from impact.model import DerivationGraph

#: scipy's marker for "no predecessor".
NO_PREDECESSOR = -9999

_cache: weakref.WeakKeyDictionary[DerivationGraph, dict[str, object]] = weakref.WeakKeyDictionary()


def _cached(graph: DerivationGraph) -> dict[str, object]:
    found = _cache.get(graph)
    if found is None:
        found = _cache[graph] = {}
    return found


def bfs(
    indptr: np.ndarray, indices: np.ndarray, n: int, sources: Sequence[int] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Breadth-first search over a CSR adjacency of `n` nodes from all `sources` at once.

    Returns (reached rows, predecessor of each row) where a source's predecessor is `n` (the virtual start)
    and an unreached row's is `NO_PREDECESSOR`.
    """
    from scipy.sparse import csr_array  # imported here: `impact estimate` (which uses this module) starts faster
    from scipy.sparse.csgraph import breadth_first_order

    seed = np.unique(np.asarray(sources, dtype=np.int32))
    if seed.size == 0:
        return np.empty(0, dtype=np.int64), np.full(n, NO_PREDECESSOR, dtype=np.int32)
    ext_indptr = np.concatenate([indptr, [indptr[-1] + seed.size]])
    ext_indices = np.concatenate([indices.astype(np.int32, copy=False), seed])
    matrix = csr_array((np.ones(ext_indices.size, dtype=np.int8), ext_indices, ext_indptr), shape=(n + 1, n + 1))
    order, pred = breadth_first_order(matrix, n, directed=True, return_predecessors=True)
    return order[order != n].astype(np.int64), pred[:n]


def trace(pred: np.ndarray, row: int, n: int) -> list[int]:
    """The path from a BFS source to `row`, following `pred` (from `bfs`)."""
    path = [row]
    while True:
        p = int(pred[path[-1]])
        if p in (n, NO_PREDECESSOR):
            break
        path.append(p)
    return path[::-1]


def forward_propagation(graph: DerivationGraph, sources: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BFS along the edges a change travels (input → consumer, never into a fixed-output derivation)."""
    indptr, indices = propagation_csr(graph)
    return bfs(indptr, indices, len(graph), sources)


def forward_all(graph: DerivationGraph, sources: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BFS along every input → consumer edge, fixed-output derivations included."""
    indptr, consumers, _ = graph.consumer_indptr_indices
    return bfs(indptr, consumers, len(graph), sources)


def ancestors_all(graph: DerivationGraph, targets: Sequence[int] | np.ndarray) -> np.ndarray:
    """Rows `targets` depend on, directly or not (consumer → input over every edge), targets included."""
    reached, _ = bfs(graph.input_indptr, graph.input_indices, len(graph), targets)
    return reached


def ancestors_propagating(graph: DerivationGraph, targets: Sequence[int] | np.ndarray) -> np.ndarray:
    """Rows from which a change reaches `targets` (never through a fixed-output derivation's inputs)."""
    cache = _cached(graph)
    csr = cache.get("reverse_propagation")
    if csr is None:
        counts = np.diff(graph.input_indptr)
        counts = np.where(graph.fixed_output, 0, counts)
        keep = np.repeat(~graph.fixed_output, np.diff(graph.input_indptr))
        new_indptr = np.zeros(len(graph) + 1, dtype=np.int64)
        np.cumsum(counts, out=new_indptr[1:])
        csr = cache["reverse_propagation"] = (new_indptr, graph.input_indices[keep])
    indptr, indices = cast(tuple[np.ndarray, np.ndarray], csr)
    reached, _ = bfs(indptr, indices, len(graph), targets)
    return reached


def topological_levels(graph: DerivationGraph) -> np.ndarray:
    """Each row's level: 0 for derivations without inputs, else one more than its deepest input."""
    cache = _cached(graph)
    levels = cache.get("levels")
    if levels is None:
        n = len(graph)
        indptr, consumers, _ = graph.consumer_indptr_indices
        remaining = np.diff(graph.input_indptr).astype(np.int64)
        lv = np.zeros(n, dtype=np.int32)
        frontier = np.flatnonzero(remaining == 0)
        level = 0
        while frontier.size:
            lv[frontier] = level
            starts, ends = indptr[frontier], indptr[frontier + 1]
            sizes = ends - starts
            if sizes.sum() == 0:
                break
            idx = np.repeat(starts - np.cumsum(np.concatenate([[0], sizes[:-1]])), sizes) + np.arange(sizes.sum())
            hit = consumers[idx]
            np.subtract.at(remaining, hit, 1)
            frontier = np.unique(hit[remaining[hit] == 0])
            level += 1
        levels = cache["levels"] = lv
    return levels  # type: ignore[return-value]


def outputs_between(graph: DerivationGraph, input_row: int, consumer_row: int) -> tuple[str, ...]:
    """The outputs of `input_row` that `consumer_row` takes."""
    lo, hi = graph.input_indptr[consumer_row], graph.input_indptr[consumer_row + 1]
    hits = np.flatnonzero(graph.input_indices[lo:hi] == input_row)
    return graph.output_sets[int(graph.input_output_set[lo + hits[0]])] if hits.size else ()
