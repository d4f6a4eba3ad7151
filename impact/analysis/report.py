"""An estimate with what a pull-request comment shows beside it: labels, branch advice and maintainers.

`build_report` is the one place the pieces are put together, so `impact estimate`, `impact compare` and the
PR bot give the same answer; the renderers (`impact.render.markdown`, `impact.render.changed_paths`,
`impact.render.branch_text`) take a `Report` and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from impact.analysis.labels import RebuildLabels, labels_of, split_attr
from impact.analysis.policy import BranchAdvice, Policy, branch_advice
from impact.analysis.rebuild import RebuildEstimate
from impact.model import DerivationGraph


@dataclass(frozen=True)
class Maintainer:
    """A maintainer (as `meta.maintainers` names them) and the changed packages they maintain."""

    #: The name, e.g. `Eelco Dolstra`.
    name: str
    #: Sorted unique packages (attribute without system) among the changed jobs that list them.
    packages: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"name": self.name, "packages": list(self.packages)}


@dataclass(frozen=True)
class Report:
    """Everything a report on one change says: the estimate, its labels, the branch and the maintainers."""

    #: What the change rebuilds.
    estimate: RebuildEstimate
    #: The `10.rebuild-*` labels and the packages they count.
    labels: RebuildLabels
    #: Which branch takes it and why.
    branch: BranchAdvice
    #: Maintainers of the changed jobs, most packages first.
    maintainers: tuple[Maintainer, ...]
    #: What the snapshot is, e.g. `nixpkgs master 2016-06-24 (a1884e6)`.
    snapshot: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The estimate's dictionary with `labels`, `branch` and `maintainers` added."""
        return {
            **self.estimate.to_dict(),
            "labels": list(self.labels.active),
            "branch": self.branch.to_dict(),
            "maintainers": [m.to_dict() for m in self.maintainers],
        }


def maintainers_of(graph: DerivationGraph, result: RebuildEstimate) -> tuple[Maintainer, ...]:
    """Maintainers of the changed jobs (every jobset), by how many changed packages they maintain, then name."""
    found: dict[str, set[str]] = {}
    index = graph.job_index
    for jobset, attr in ((js, a) for js, attrs in result.changed_jobs.items() for a in attrs):
        k = index.get((jobset, attr))
        if k is None or not graph.job_maintainers[k]:
            continue
        split = split_attr(attr)
        package = split[0] if split else attr
        for name in graph.job_maintainers[k]:
            found.setdefault(name, set()).add(package)
    ranked = sorted(found.items(), key=lambda item: (-len(item[1]), item[0]))
    return tuple(Maintainer(name, tuple(sorted(packages))) for name, packages in ranked)


def build_report(
    graph: DerivationGraph,
    result: RebuildEstimate,
    policy: Policy | None = None,
    *,
    base: str | None = None,
    security: bool = False,
) -> Report:
    """Put an estimate's labels, branch advice (by `policy`, the nixpkgs rules by default) and maintainers together."""
    labels = labels_of(result)
    return Report(
        estimate=result,
        labels=labels,
        branch=branch_advice(result, labels, policy, base=base, security=security),
        maintainers=maintainers_of(graph, result),
        snapshot=graph.label,
    )
