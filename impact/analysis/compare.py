"""Several changes side by side: what each rebuilds, and what each rebuilds that none of the others does.

The seed question: patching qemu or patching the kernel? Each change gets its own report (estimate, labels,
branch); then, per jobset, the changed jobs no other change touches, and the derivations only it rebuilds.
The jobs every change rebuilds (the NixOS jobs that embed the nixpkgs source tree change on any commit) are
listed once, as common.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from impact.analysis.change import Change
from impact.analysis.policy import Policy, load_policy
from impact.analysis.rebuild import estimate
from impact.analysis.report import Report, build_report
from impact.model import DerivationGraph


@dataclass(frozen=True)
class Compared:
    """One change of a comparison: its report and what only it rebuilds."""

    #: The report on the change alone.
    report: Report
    #: Jobset → sorted attributes of the jobs this change rebuilds and no other compared change does.
    only_jobs: Mapping[str, tuple[str, ...]]
    #: Derivations this change rebuilds and no other compared change does.
    only_derivations: int

    @property
    def name(self) -> str:
        """How the change was named."""
        return self.report.estimate.change.description

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary: the report's, with `only` added."""
        return {
            "name": self.name,
            **self.report.to_dict(),
            "only": {
                "jobs": {k: list(v) for k, v in self.only_jobs.items()},
                "jobs_count": {k: len(v) for k, v in self.only_jobs.items()},
                "derivations_to_build": self.only_derivations,
            },
        }


@dataclass(frozen=True)
class Comparison:
    """Changes side by side."""

    #: The changes, in the order given.
    changes: tuple[Compared, ...]
    #: Jobset → sorted attributes every compared change rebuilds.
    common_jobs: Mapping[str, tuple[str, ...]]
    #: Derivations every compared change rebuilds.
    common_derivations: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (the shape `impact compare --json` prints)."""
        return {
            "changes": [c.to_dict() for c in self.changes],
            "common": {
                "jobs_count": {k: len(v) for k, v in self.common_jobs.items()},
                "jobs": {k: list(v) for k, v in self.common_jobs.items()},
                "derivations_to_build": self.common_derivations,
            },
        }


def compare_reports(reports: Sequence[Report]) -> Comparison:
    """Put reports side by side: what each rebuilds alone, and what all rebuild."""
    compared = []
    jobsets = list(dict.fromkeys(js for r in reports for js in r.estimate.changed_jobs))
    for i, report in enumerate(reports):
        others = [r for j, r in enumerate(reports) if j != i]
        only_jobs = {}
        for js in jobsets:
            elsewhere = {a for r in others for a in r.estimate.changed_jobs.get(js, ())}
            only_jobs[js] = tuple(a for a in report.estimate.changed_jobs.get(js, ()) if a not in elsewhere)
        rebuilt = report.estimate.built
        for other in others:
            rebuilt = np.setdiff1d(rebuilt, other.estimate.built, assume_unique=True)
        compared.append(Compared(report=report, only_jobs=only_jobs, only_derivations=int(rebuilt.size)))
    common_jobs = {}
    for js in jobsets:
        sets = [set(r.estimate.changed_jobs.get(js, ())) for r in reports]
        common_jobs[js] = tuple(sorted(set.intersection(*sets))) if sets else ()
    common = reports[0].estimate.built if reports else np.empty(0, dtype=np.int64)
    for r in reports[1:]:
        common = np.intersect1d(common, r.estimate.built, assume_unique=True)
    return Comparison(changes=tuple(compared), common_jobs=common_jobs, common_derivations=int(common.size))


def compare(
    graph: DerivationGraph,
    changes: Sequence[Change],
    policy: Policy | None = None,
    *,
    base: str | None = None,
    security: bool = False,
) -> Comparison:
    """Estimate each change in `graph` and put them side by side."""
    policy = policy or load_policy()
    reports = [build_report(graph, estimate(graph, c), policy, base=base, security=security) for c in changes]
    return compare_reports(reports)
