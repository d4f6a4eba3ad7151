"""The rebuilt derivations as a small DAG: its critical path and the bottom levels that order the farm's queue.

See `impact.analysis.cost` for the whole model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from impact.errors import InputError
from impact.model import DerivationGraph, csr_edge_ids


@dataclass(frozen=True)
class SubGraph:
    """The rebuilt derivations as a DAG in local numbering (0..n-1, in the order of `rows`)."""

    rows: np.ndarray
    #: Local ids in topological order (inputs before consumers).
    order: tuple[int, ...]
    #: Local id → local ids of its rebuilt inputs.
    inputs: tuple[tuple[int, ...], ...]
    #: Local id → local ids of its rebuilt consumers.
    consumers: tuple[tuple[int, ...], ...]


def subgraph(graph: DerivationGraph, rows: Sequence[int] | np.ndarray) -> SubGraph:
    """The sub-graph of `rows` with the input edges among them, topologically ordered."""
    rows = np.asarray(rows, dtype=np.int64)
    n = rows.size
    local = np.full(len(graph), -1, dtype=np.int64)
    local[rows] = np.arange(n)
    counts = (graph.input_indptr[rows + 1] - graph.input_indptr[rows]).astype(np.int64)
    if counts.sum():
        edge_ids = csr_edge_ids(graph.input_indptr, rows)
        src = local[graph.input_indices[edge_ids]]
        dst = np.repeat(np.arange(n), counts)
        keep = src >= 0
        edges = list(zip(src[keep].tolist(), dst[keep].tolist()))
    else:
        edges = []
    ins: list[list[int]] = [[] for _ in range(n)]
    outs: list[list[int]] = [[] for _ in range(n)]
    for s, d in edges:
        ins[d].append(s)
        outs[s].append(d)
    indegree = [len(x) for x in ins]
    queue = [v for v in range(n) if indegree[v] == 0]
    order: list[int] = []
    while queue:
        v = queue.pop()
        order.append(v)
        for c in outs[v]:
            indegree[c] -= 1
            if indegree[c] == 0:
                queue.append(c)
    if len(order) != n:
        raise InputError("the rebuilt derivations form a cycle", tip="the snapshot is corrupt; load it again")
    return SubGraph(rows, tuple(order), tuple(map(tuple, ins)), tuple(map(tuple, outs)))


def critical_path(sub: SubGraph, seconds: Sequence[float] | np.ndarray) -> tuple[float, tuple[int, ...]]:
    """The longest chain of rebuilt derivations by total duration: (seconds, local ids from first to last).

    No farm finishes sooner: each derivation on the chain waits for the one before.
    """
    w = np.asarray(seconds, dtype=float).tolist()
    finish = [0.0] * len(w)
    before = [-1] * len(w)
    for v in sub.order:
        best, arg = 0.0, -1
        for u in sub.inputs[v]:
            if finish[u] > best:
                best, arg = finish[u], u
        finish[v] = best + w[v]
        before[v] = arg
    if not w:
        return 0.0, ()
    end = max(range(len(w)), key=lambda v: (finish[v], -v))
    chain = [end]
    while before[chain[-1]] >= 0:
        chain.append(before[chain[-1]])
    return finish[end], tuple(reversed(chain))


def bottom_levels(sub: SubGraph, seconds: Sequence[float] | np.ndarray) -> list[float]:
    """For each local id: its duration plus the longest chain of consumers after it."""
    w = np.asarray(seconds, dtype=float).tolist()
    level = [0.0] * len(w)
    for v in reversed(sub.order):
        level[v] = w[v] + max((level[c] for c in sub.consumers[v]), default=0.0)
    return level
