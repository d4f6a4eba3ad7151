"""The notebook API: load snapshots, estimate, rank, compare changes and branches, each result a DataFrame away.

```python
from impact import api
master = api.load("master-2019-03-19")        # a shipped snapshot by name (impact snapshot list), or a path
api.estimate(master, "qemu").to_dataframe(per="system")
api.rank(master, kernel="linux").to_dataframe().head(20)
api.compare(master, "qemu", "linux").to_dataframe()
api.branches(master, api.load("release-19.03-2019-03-21")).to_dataframe()
```

Every function here is a thin wrapper over `impact.loaders` and `impact.analysis` with notebook-friendly
arguments (names as positional arguments, labels for snapshots that lack them); the results are the library's own frozen dataclasses, each with `to_dict()` and `to_dataframe()`
(column names in `impact.render.frames`), and `impact.render.plots` draws them. Importing this module imports
neither pandas nor matplotlib; they load on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from impact.analysis.branches import BranchComparison, compare_branches
from impact.analysis.change import resolve_change
from impact.analysis.compare import Comparison
from impact.analysis.compare import compare as _compare
from impact.analysis.landscape import LINES, Landscape
from impact.analysis.landscape import landscape as _landscape
from impact.analysis.rank import Ranking
from impact.analysis.rank import rank as _rank
from impact.analysis.rebuild import RebuildEstimate
from impact.analysis.rebuild import estimate as _estimate
from impact.loaders import load_snapshot
from impact.model import DerivationGraph

__all__ = [
    "branches",
    "compare",
    "estimate",
    "landscape",
    "load",
    "rank",
]


def load(path: Path | str | None = None, *, label: str | None = None, branch: str | None = None) -> DerivationGraph:
    """Load a shipped snapshot by name, or a snapshot in any supported format by path (default:
    `$IMPACT_SNAPSHOT`, else master-2019-03-19).

    `label` and `branch` name it in reports and tables when the snapshot does not record them itself.
    """
    graph = load_snapshot(path)
    if label:
        graph.meta["label"] = label
    if branch:
        graph.meta["branch"] = branch
    return graph


def estimate(
    graph: DerivationGraph,
    *names: str,
    drvs: Sequence[str] = (),
    files: Sequence[str] = (),
    only: bool = False,
    commit: bool | None = None,
) -> RebuildEstimate:
    """What changing the named attributes (their package files), files or exact derivations rebuilds."""
    return _estimate(graph, resolve_change(graph, names, drvs, files, only=only, commit=commit))


def rank(graph: DerivationGraph, *, jobset: str = "nixpkgs", kernel: str | None = None) -> Ranking:
    """Every package of `jobset` ranked by what a change to it rebuilds (sorted by `kernel`'s jobs, else all jobs)."""
    return _rank(graph, jobset=jobset, kernel=kernel)


def landscape(graph: DerivationGraph, ranking: Ranking | None = None, lines: Sequence[int] = LINES) -> Landscape:
    """Every package against the branch lines (rebuilds per kernel as CI counts them) and the stdenv-level ones."""
    return _landscape(graph, ranking or _rank(graph, kernel="linux"), lines)


def compare(
    graph: DerivationGraph, *names: str, only: bool = False, base: str | None = None, security: bool = False
) -> Comparison:
    """Estimate each named attribute's change on its own and put them side by side, with labels and branch advice.

    `base` is the branch the changes are made on (default: the policy's default, master); `security` marks them
    as security fixes.
    """
    changes = [resolve_change(graph, [name], only=only) for name in names]
    return _compare(graph, changes, base=base, security=security)


def branches(a: DerivationGraph, b: DerivationGraph) -> BranchComparison:
    """Compare two snapshots: jobs only in A, only in B, differing in output paths; derivations new on each side."""
    return compare_branches(a, b)
