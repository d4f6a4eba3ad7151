"""The per-graph tables the answers need, built in one go so that a snapshot can store them.

Each module that keeps a per-graph table registers its builder with `impact.model.register_table`; importing
this module imports them all. `impact snapshot import` calls `prepare` before writing, and a version-2
snapshot keeps every registered table (see `impact.loaders.compact_v2`), so that a cold `impact estimate`
reads them instead of building them.
"""

from __future__ import annotations

import impact.analysis.change
import impact.analysis.rank  # noqa: F401 - registers the levels and package roots
from impact.model import TABLE_BUILDERS, DerivationGraph


def prepare(graph: DerivationGraph) -> DerivationGraph:
    """Build (or load) every registered per-graph table of `graph` and return it."""
    for key, build in TABLE_BUILDERS.items():
        graph.derived(key, build)
    return graph
