"""The notebook API: load snapshots, estimate, rank, compare changes and branches, each result a DataFrame away.

```python
from impact import api
master = api.load("master-2019-03-19")        # a shipped snapshot by name (impact snapshot list), or a path
api.frame(api.estimate(master, "qemu"), per="system")
api.frame(api.rank(master, kernel="linux")).head(20)
api.frame(api.compare(master, "qemu", "linux"))
api.frame(api.branches(master, api.load("release-19.03-2019-03-21")))
```

Every function here makes the request the matching command makes and calls the same `impact.app` function
(so a notebook and `impact estimate` answer alike), with notebook-friendly arguments (names as positional
arguments, labels for snapshots that lack them); the results are the library's own frozen dataclasses, each with
`to_dict()`; `api.frame(result)` turns any of them into a DataFrame (column names in `impact.render.frames`),
and `impact.render.plots` draws them. Importing this module imports
neither pandas nor matplotlib; they load on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from impact import app
from impact.analysis.branches import BranchComparison, compare_branches
from impact.analysis.compare import Comparison
from impact.analysis.landscape import LINES, Landscape
from impact.analysis.landscape import landscape as _landscape
from impact.analysis.rank import Ranking
from impact.analysis.rebuild import RebuildEstimate
from impact.app import ChangeRequest, CompareRequest, EstimateRequest, RankRequest
from impact.loaders import load_snapshot
from impact.model import DerivationGraph
from impact.render.frames import to_dataframe as frame

__all__ = [
    "branches",
    "compare",
    "estimate",
    "frame",
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
    own: bool = False,
    commit: bool | None = None,
) -> RebuildEstimate:
    """What changing the named attributes (their package files), files or exact derivations rebuilds.

    `own` (or `commit=False`) leaves out the derivations that embed the nixpkgs source tree (every commit
    changes them).
    """
    change = ChangeRequest(tuple(names), tuple(drvs), tuple(files), only=only, own=own or commit is False)
    return app.estimate(EstimateRequest(change), graph).report.estimate


def rank(graph: DerivationGraph, *, jobset: str = "nixpkgs", kernel: str | None = None) -> Ranking:
    """Every package of `jobset` ranked by what a change to it rebuilds (sorted by `kernel`'s jobs, else all jobs)."""
    return app.rank(RankRequest(jobset=jobset, kernel=kernel), graph).ranking


def landscape(graph: DerivationGraph, ranking: Ranking | None = None, lines: Sequence[int] = LINES) -> Landscape:
    """Every package against the branch lines (rebuilds per kernel as CI counts them) and the stdenv-level ones."""
    return _landscape(graph, ranking or rank(graph, kernel="linux"), lines)


def compare(
    graph: DerivationGraph,
    *names: str,
    only: bool = False,
    own: bool = False,
    base: str | None = None,
    security: bool = False,
) -> Comparison:
    """Estimate each named attribute's change on its own and put them side by side, with labels and branch advice.

    `base` is the branch the changes are made on (default: the policy's default, master); `security` marks them
    as security fixes. A name may join attributes changed together with commas (`openssl,curl`).
    """
    changes = tuple(tuple(n for n in name.split(",") if n) for name in names)
    request = CompareRequest(changes, only=only, own=own, base=base, security=security, cost=None)
    return app.compare(request, graph).comparison


def branches(a: DerivationGraph, b: DerivationGraph) -> BranchComparison:
    """Compare two snapshots: jobs only in A, only in B, differing in output paths; derivations new on each side."""
    return compare_branches(a, b)
