"""The per-graph tables the answers need, built in one go so that a snapshot can store them.

`impact snapshot import` calls `prepare` before writing, and a version-2 snapshot keeps every table built
here (see `impact.loaders.compact_v2`), so that a cold `impact estimate` reads them instead of building them.
"""

from __future__ import annotations

from impact.analysis.change import source_keys, source_tree_rows
from impact.model import DerivationGraph, job_order


def prepare(graph: DerivationGraph) -> DerivationGraph:
    """Build (or load) every stored per-graph table of `graph` and return it."""
    graph.consumer_indptr_indices  # noqa: B018 - a lazily built table
    graph.propagation_csr  # noqa: B018
    graph.derived("job_order", job_order)
    graph.derived("source_keys", source_keys)
    graph.derived("source_tree", source_tree_rows)
    return graph
