"""A single warm estimate against the same answer from plain networkx (`nx.descendants` per root over the
fixed-output-cut graph); the cold start is `benchmarks/cold_estimate.py`."""

from __future__ import annotations

import time

import numpy as np

from benchmarks._common import best_of, line, median_of, ms
from impact.analysis.change import resolve_change
from impact.analysis.rebuild import estimate, propagation_csr
from impact.loaders import load_snapshot
from impact.model import DerivationGraph


def fod_cut_networkx(graph: DerivationGraph):  # type: ignore[no-untyped-def]
    """The propagation graph as a networkx DiGraph on row numbers: input → consumer, no edges into fixed-output."""
    import networkx as nx

    indptr, indices = propagation_csr(graph)
    g = nx.DiGraph()
    g.add_nodes_from(range(len(graph)))
    sources = np.repeat(np.arange(len(graph)), np.diff(indptr))
    g.add_edges_from(zip(sources.tolist(), indices.tolist()))
    return g


def networkx_estimate(g, graph: DerivationGraph, roots: list[int]) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Derivations to build and changed jobs, from `nx.descendants` of each root."""
    import networkx as nx

    rebuilt = set(roots)
    for r in roots:
        rebuilt |= nx.descendants(g, r)
    jobs_of = graph.jobs_of_derivation
    jobs = sum(len(jobs_of.get(d, ())) for d in rebuilt)
    return len(rebuilt), jobs


def warm_single(graph: DerivationGraph | None = None, name: str = "qemu") -> list[str]:
    """Warm `resolve_change` + `estimate` (medians of 20) against networkx on the same roots; checks the answers
    agree."""
    graph = graph if graph is not None else load_snapshot()
    result = estimate(graph, resolve_change(graph, names=[name]))  # warm the per-graph tables
    t_impact = median_of(lambda: estimate(graph, resolve_change(graph, names=[name])), 20)
    change = resolve_change(graph, names=[name])
    t_reach = median_of(lambda: estimate(graph, change), 20)
    start = time.perf_counter()
    g = fod_cut_networkx(graph)
    t_build = time.perf_counter() - start
    roots = [graph.index[p] for p in change.root_paths]
    t_nx, (drvs, jobs) = best_of(lambda: networkx_estimate(g, graph, roots), 5)
    assert drvs == result.derivations_with_new_output_paths and jobs == result.changed_job_count, (drvs, jobs)
    return [
        f"Warm single estimate `{name}` on {graph.label} ({len(graph):,} derivations; medians of 20)",
        line("impact: resolve_change + estimate (target < 10 ms)", ms(t_impact)),
        line("impact: estimate alone (roots given)", ms(t_reach)),
        line("networkx: nx.descendants per root + jobs (roots given)", ms(t_nx)),
        line("networkx: building the DiGraph once (not in the ratio)", ms(t_build)),
        line("ratio networkx / impact estimate (same roots)", f"{t_nx / t_reach:.1f}x"),
        line("same answer", f"{drvs:,} derivations, {jobs:,} jobs"),
    ]


def run(graph: DerivationGraph | None = None) -> list[str]:
    """Every figure of this script."""
    graph = graph if graph is not None else load_snapshot()
    return [*warm_single(graph), "", *warm_single(graph, name="curl")]


if __name__ == "__main__":
    print("\n".join(run()))
