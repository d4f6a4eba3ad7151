"""The notebook API: load snapshots, estimate, rank, compare changes and branches, each result a DataFrame away.

```python
from impact import api
master = api.load("../shared/data/nixpkgs-master-2016-06-24", label="master 2016-06-24", branch="master")
api.estimate(master, "qemu").to_dataframe(per="system")
api.rank(master, kernel="linux").to_dataframe().head(20)
api.compare(master, "qemu", "linux_4_4").to_dataframe()
api.branches(master, api.load(".../nixpkgs-staging-2016-06-20")).to_dataframe()
```

Every function here is a thin wrapper over `impact.loaders` and `impact.analysis` with notebook-friendly
arguments; the results are the library's own frozen dataclasses, each with `to_dict()` and `to_dataframe()`
(column names in `impact.render.frames`), and `impact.render.plots` draws them. Importing this module imports
neither pandas nor matplotlib; they load on first use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from impact.analysis.branches import BranchComparison, compare_branches
from impact.analysis.change import resolve_change
from impact.analysis.landscape import LINES, Landscape
from impact.analysis.landscape import landscape as _landscape
from impact.analysis.rank import Ranking
from impact.analysis.rank import rank as _rank
from impact.analysis.rebuild import RebuildEstimate
from impact.analysis.rebuild import estimate as _estimate
from impact.loaders import load_snapshot
from impact.model import DerivationGraph

__all__ = [
    "ChangeComparison",
    "branches",
    "compare",
    "estimate",
    "landscape",
    "load",
    "rank",
]


def load(path: Path | str | None = None, *, label: str | None = None, branch: str | None = None) -> DerivationGraph:
    """Load a snapshot in any supported format (default: `$IMPACT_SNAPSHOT`, else the embedded master).

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


@dataclass(frozen=True)
class ChangeComparison:
    """Several changes estimated on one snapshot, side by side, by the name given to each."""

    #: Change name → its estimate, in the order given.
    estimates: Mapping[str, RebuildEstimate]

    def only_in(self, name: str, other: str) -> dict[str, tuple[str, ...]]:
        """Jobset → jobs the change `name` rebuilds and the change `other` does not."""
        mine, theirs = self.estimates[name].changed_jobs, self.estimates[other].changed_jobs
        return {js: tuple(a for a in attrs if a not in set(theirs.get(js, ()))) for js, attrs in mine.items()}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary: each estimate's `to_dict()` by name."""
        return {name: e.to_dict() for name, e in self.estimates.items()}

    def to_dataframe(self) -> Any:
        """One row per (change, system): changed jobs of each jobset and derivations to build."""
        from impact.render.frames import compare_frame

        return compare_frame(dict(self.estimates))


def compare(graph: DerivationGraph, *names: str, only: bool = False) -> ChangeComparison:
    """Estimate each named attribute's change on its own and put them side by side."""
    return ChangeComparison({name: estimate(graph, name, only=only) for name in names})


def branches(a: DerivationGraph, b: DerivationGraph) -> BranchComparison:
    """Compare two snapshots: jobs only in A, only in B, differing in output paths; derivations new on each side."""
    return compare_branches(a, b)
