"""JSON rendering: one object per command, stable keys, sorted lists."""

from __future__ import annotations

import json
from typing import Any

from impact.analysis.rebuild import RebuildEstimate
from impact.model import DerivationGraph


def snapshot_dict(graph: DerivationGraph) -> dict[str, Any]:
    """What the snapshot is, for the `snapshot` key of every JSON answer."""
    return {"label": graph.label, "origin": graph.origin, **{k: v for k, v in graph.meta.items() if k != "label"}}


def estimate_json(result: RebuildEstimate, graph: DerivationGraph) -> str:
    """`impact estimate --json`: the estimate as one JSON object."""
    return dumps({"snapshot": snapshot_dict(graph), **result.to_dict()})


def dumps(value: Any) -> str:
    """JSON text as impact prints it: indented, keys in the order built, UTF-8 kept."""
    return json.dumps(value, indent=2, ensure_ascii=False)
