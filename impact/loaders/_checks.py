"""Checks every loaded graph passes, whatever format it came from: one rule for all commands.

A derivation graph from Nix is acyclic (a derivation's path hashes its inputs'), so a cycle means the input was
made by hand or damaged; every command would answer wrongly or crash on it, so the loaders refuse it once,
naming the cycle, instead of each analysis meeting it in its own way.
"""

from __future__ import annotations

import numpy as np

from impact.errors import InputError
from impact.model import DerivationGraph, path_name

#: Derivations named in a cycle message before the rest are counted.
_SHOWN = 6


def find_cycle(graph: DerivationGraph) -> list[int] | None:
    """Rows forming one input cycle (each an input of the next, the last of the first), or None if acyclic.

    Kahn's algorithm over the CSR arrays, one frontier at a time with NumPy (about as costly as one
    breadth-first walk of the graph).
    """
    n = len(graph)
    if n == 0:
        return None
    indptr, consumers, _ = graph.consumer_indptr_indices
    remaining = np.diff(graph.input_indptr).astype(np.int64)
    frontier = np.flatnonzero(remaining == 0)
    done = frontier.size
    while frontier.size:
        starts, ends = indptr[frontier], indptr[frontier + 1]
        sizes = ends - starts
        total = int(sizes.sum())
        if total == 0:
            break
        idx = np.repeat(starts - np.cumsum(np.concatenate([[0], sizes[:-1]])), sizes) + np.arange(total)
        hit = consumers[idx]
        np.subtract.at(remaining, hit, 1)
        frontier = np.unique(hit[remaining[hit] == 0])
        done += frontier.size
    if done == n:
        return None
    # Every row left has an input left: following such inputs must come back to a row already on the walk.
    row = int(np.flatnonzero(remaining > 0)[0])
    walk: list[int] = []
    position: dict[int, int] = {}
    while row not in position:
        position[row] = len(walk)
        walk.append(row)
        lo, hi = graph.input_indptr[row], graph.input_indptr[row + 1]
        inputs = graph.input_indices[lo:hi]
        row = int(next(j for j in inputs.tolist() if remaining[j] > 0))
    return walk[position[row] :][::-1]


def check_acyclic(graph: DerivationGraph) -> DerivationGraph:
    """`graph` itself when it has no dependency cycle; else `InputError` naming the derivations of one cycle."""
    cycle = find_cycle(graph)
    if cycle is None:
        return graph
    names = [path_name(graph.drv_paths[r]) for r in cycle[:_SHOWN]]
    shown = " → ".join([*names, path_name(graph.drv_paths[cycle[0]])] if len(cycle) <= _SHOWN else [*names, "…"])
    raise InputError(
        f"{graph.origin or 'the snapshot'}: dependency cycle of {len(cycle)} derivation"
        f"{'s' if len(cycle) != 1 else ''}: {shown}",
        tip="Nix never makes one; the input was edited or damaged, so export it again",
    )


def check_unique_jobs(graph: DerivationGraph) -> DerivationGraph:
    """`graph` itself when no (jobset, attribute) is listed twice; else `InputError` naming the first repeat."""
    seen: set[tuple[str, str]] = set()
    for key in zip(graph.job_jobsets, graph.job_attrs):
        if key in seen:
            raise InputError(
                f"{graph.origin or 'the snapshot'}: job {key[1]} of jobset {key[0]} is listed twice",
                tip="a jobset holds each attribute once; export the evaluation again",
            )
        seen.add(key)
    return graph
