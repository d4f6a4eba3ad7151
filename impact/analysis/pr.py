"""What a pull request changes, for the PR comment: the exact diff plus labels, maintainers and why-chains.

Pure: takes the two graphs, returns a frozen `PrReport`; evaluating, rendering and posting live elsewhere.
- Labels are nixpkgs CI's `10.rebuild-*` labels (`impact.analysis.labels`) over the jobs CI counts as
  rebuilds: changed and added attributes.
- Branch advice is `impact.analysis.policy` applied to the graph estimate on HEAD from the root changes
  (which the cross-check holds equal to the diff) and those labels; with the maintainers of the changed jobs
  they make the shared `impact.analysis.report.Report`, so the comment reads like `impact estimate --format
  markdown`, with the exact diff as an extra section.
- Maintainers are those of the jobs that build the root changes (the packages the pull request edited).
- The largest causes are the root changes that reach most changed jobs; each gets one why-chain
  (`impact.analysis.why`) to a job it reaches (a NixOS test when there is one, it being the costliest).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from impact.analysis.change import Change
from impact.analysis.diff import RootChange, SnapshotDiff, diff_snapshots
from impact.analysis.labels import RebuildLabels, rebuild_labels
from impact.analysis.policy import BranchAdvice, Policy, branch_advice
from impact.analysis.rebuild import NIXOS_TEST_PREFIX, rebuilt_rows
from impact.analysis.report import Report, maintainers_of
from impact.model import DerivationGraph

#: How many root changes get a why-chain.
LARGEST_CAUSES = 3
#: Root changes beyond this many are not ranked one by one (each ranking is a graph search).
MAX_RANKED_ROOTS = 500


@dataclass(frozen=True, slots=True)
class Cause:
    """One root change, how many changed jobs it reaches, and a why-chain to one of them."""

    #: The root change.
    root: RootChange
    #: Changed or added jobs it reaches.
    jobs_reached: int
    #: The job the chain leads to (`jobset: attr`).
    example_job: str
    #: The chain, as `impact why` prints it: `libfoo-1.1 →(dev) bar-3.1 →(out) vm-test-run-bar`.
    chain: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "root": self.root.to_dict(),
            "jobs_reached": self.jobs_reached,
            "example_job": self.example_job,
            "chain": self.chain,
        }


@dataclass(frozen=True)
class PrReport:
    """Everything the PR comment says."""

    #: The exact diff with its cross-check.
    diff: SnapshotDiff
    #: The shared report: the graph estimate on HEAD, labels, branch advice, maintainers of changed jobs.
    report: Report
    #: Maintainers of the packages the pull request edited, sorted.
    maintainers: tuple[str, ...]
    #: The largest causes, largest first.
    causes: tuple[Cause, ...]
    #: The command that reproduces the report.
    command: str

    @property
    def rebuild_labels(self) -> RebuildLabels:
        """The `10.rebuild-*` labels and the packages they count."""
        return self.report.labels

    @property
    def branch(self) -> BranchAdvice:
        """Which branch takes the pull request and why."""
        return self.report.branch

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels to set."""
        return tuple(self.rebuild_labels.active)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (report.json)."""
        return {
            "command": self.command,
            "labels": list(self.labels),
            "rebuild_count_by_kernel": self.rebuild_labels.rebuild_count_by_kernel,
            "branch": self.branch.to_dict(),
            "maintainers": list(self.maintainers),
            "maintainers_of_changed_jobs": [m.to_dict() for m in self.report.maintainers],
            "largest_causes": [c.to_dict() for c in self.causes],
            "diff": self.diff.to_dict(),
        }


def rebuilds_as_ci_counts(diff: SnapshotDiff) -> dict[str, tuple[str, ...]]:
    """Jobset → the attributes CI counts as rebuilds: changed and added."""
    return {js: tuple(sorted({*diff.changed.get(js, ()), *diff.added.get(js, ())})) for js in diff.jobsets}


def _causes(head: DerivationGraph, diff: SnapshotDiff) -> tuple[Cause, ...]:
    from impact.analysis.why import why

    if not diff.roots or len(diff.roots) > MAX_RANKED_ROOTS:
        return ()
    index = head.index
    counted = set(rebuilds_as_ci_counts(diff).items())
    wanted = {(js, a) for js, attrs in counted for a in attrs}
    ranked: list[tuple[int, str, RootChange, list[int]]] = []
    for r in diff.roots:
        rows = rebuilt_rows(head, np.array([index[r.path]]))
        mask = np.zeros(len(head), dtype=bool)
        mask[rows] = True
        jobs = [
            k for k in np.flatnonzero(mask[head.job_drv]).tolist() if (head.job_jobsets[k], head.job_attrs[k]) in wanted
        ]
        if jobs:
            ranked.append((len(jobs), r.name, r, jobs))
    ranked.sort(key=lambda t: (-t[0], t[1], t[2].system))
    causes = []
    for count, _, root, jobs in ranked[:LARGEST_CAUSES]:
        own = {k for k in jobs if head.drv_paths[head.job_drv[k]] == root.path}
        pick = sorted(
            jobs,
            key=lambda k: (
                not head.job_attrs[k].startswith(NIXOS_TEST_PREFIX),
                k in own,
                head.job_jobsets[k],
                head.job_attrs[k],
            ),
        )[0]
        alone = Change(
            description=root.name, roots=tuple(r for r in diff.head_estimate.change.roots if r.path == root.path)
        )
        answer = why(head, alone, head.drv_paths[head.job_drv[pick]]).answers[0]
        chain = answer.chains[0].text() if answer.chains else root.name
        causes.append(Cause(root, count, f"{head.job_jobsets[pick]}: {head.job_attrs[pick]}", chain))
    return tuple(causes)


def _maintainers(head: DerivationGraph, diff: SnapshotDiff) -> tuple[str, ...]:
    found: set[str] = set()
    for r in diff.roots:
        for k in head.jobs_of_derivation.get(head.index[r.path], []):
            found.update(head.job_maintainers[k])
    return tuple(sorted(found))


def pr_report(
    base: DerivationGraph,
    head: DerivationGraph,
    command: str,
    *,
    base_branch: str | None = None,
    policy: Policy | None = None,
) -> PrReport:
    """The report of a pull request from the evaluations of its base and head (based on `base_branch`)."""
    diff = diff_snapshots(base, head)
    labels = rebuild_labels(rebuilds_as_ci_counts(diff))
    estimate = diff.head_estimate
    report = Report(
        estimate=estimate,
        labels=labels,
        branch=branch_advice(estimate, labels, policy, base=base_branch),
        maintainers=maintainers_of(head, estimate),
        snapshot=f"{diff.base_label} → {diff.head_label}",
    )
    return PrReport(
        diff=diff,
        report=report,
        maintainers=_maintainers(head, diff),
        causes=_causes(head, diff),
        command=command,
    )
