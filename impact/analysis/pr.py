"""What a pull request changes, for the PR comment: the exact diff plus labels, maintainers and why-chains.

Pure: takes the two graphs, returns a frozen `PrReport`; evaluating, rendering and posting live elsewhere.
- Headline figures are the exact diff's: jobs whose output paths changed (split into real rebuilds,
  re-pointings and every-commit jobs) and the derivations Hydra builds. The graph estimate is only the
  cross-check.
- Labels are nixpkgs CI's `10.rebuild-*` labels (`impact.analysis.labels`) over the jobs CI counts as
  rebuilds: changed and added attributes; only for the kernels that were evaluated (a label for a kernel
  nobody evaluated would tell CI to set or remove it on no evidence).
- Branch advice is `impact.analysis.policy` applied to the graph estimate on HEAD from the root changes
  (which the cross-check holds equal to the diff) and those labels; with the maintainers of the changed jobs
  they make the shared `impact.analysis.report.Report`, so the comment reads like `impact estimate --format
  markdown`, with the exact diff as an extra section.
- Maintainers are those of the packages whose own derivation the pull request edited: the jobs building a
  root change that is neither every-commit (nixpkgs source tree) nor follows a re-pointing (for an edited
  fixed-output source, the jobs of the packages taking it).
- Causes: first the re-pointings (`linux` now points to linux-4.6.2, built before as `linux_4_6`), then the
  root changes that reach most changed jobs, never an every-commit root; each gets one why-chain
  (`impact.analysis.why`) to a job it reaches (a NixOS test when there is one, it being the costliest). A root
  whose only difference from its BASE counterpart is inputs swapped for derivations BASE already had says so
  (`mesos-0.28.2`, input linux-4.4.13 → linux-4.6.2) instead of passing for an edit.
- No new breakage: the diff's new evaluation errors, and, when given, Hydra's build results
  (`impact.analysis.hydra`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from impact.analysis.change import Change
from impact.analysis.diff import Repointing, RootChange, SnapshotDiff, diff_snapshots
from impact.analysis.hydra import HydraComparison
from impact.analysis.labels import KERNELS, NIXOS_TESTS_LABEL, PACKAGES_JOBSET, RebuildLabels, kernel_of, rebuild_labels
from impact.analysis.policy import BranchAdvice, Policy, branch_advice
from impact.analysis.rebuild import NIXOS_TEST_PREFIX, rebuilt_rows
from impact.analysis.report import Report, maintainers_of
from impact.loaders.pr_report import FULL, Evaluated
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
    #: When the root's only change is inputs swapped for derivations BASE had: `linux-4.4.13 → linux-4.6.2`.
    swapped: tuple[str, ...] = ()
    #: True when the root is downstream of a re-pointed job's derivation (it follows the re-pointing).
    follows_repointing: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "root": self.root.to_dict(),
            "jobs_reached": self.jobs_reached,
            "example_job": self.example_job,
            "chain": self.chain,
            "inputs_swapped": list(self.swapped),
            "follows_repointing": self.follows_repointing,
        }


@dataclass(frozen=True, slots=True)
class RepointCause:
    """Attributes re-pointed to derivations BASE already had, grouped by the alias edit that explains them.

    `linuxPackages = linuxPackages_4_6` re-points every `linuxPackages.<x>` to `linuxPackages_4_6.<x>`: one
    cause with `head_prefix` `linuxPackages`, `base_prefix` `linuxPackages_4_6` and the members' `<x>`.
    A single re-pointed attribute has empty members (`linux` → `linux_4_6`).
    """

    jobset: str
    #: The HEAD attribute (or set of attributes) that was re-pointed, without system: `linux`, `linuxPackages`.
    head_prefix: str
    #: What it pointed to before in BASE: `linux_4_6`, `linuxPackages_4_6`; "" when only a dependency there.
    base_prefix: str
    #: Other BASE attributes with the same derivations (`linux_latest`), at most a few.
    also: tuple[str, ...]
    #: For a set: the member names (`acpi_call`, `kernel`, …), sorted; empty for a single attribute.
    members: tuple[str, ...]
    #: For a single attribute: the derivation it now points to, and the one it had in BASE (None when new).
    name: str
    base_name: str | None
    systems: tuple[str, ...]
    #: Re-pointed jobs this cause covers (over systems and members).
    jobs: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "jobset": self.jobset,
            "attr": self.head_prefix,
            "before": self.base_prefix,
            "also": list(self.also),
            "members": list(self.members),
            "name": self.name,
            "base_name": self.base_name,
            "systems": list(self.systems),
            "jobs": self.jobs,
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
    #: Re-pointed attributes, grouped by the alias edit that explains them.
    repointings: tuple[RepointCause, ...] = ()
    #: The systems evaluated (either side), Linux first.
    systems: tuple[str, ...] = ()
    #: HEAD .drv paths of the root changes that follow a re-pointing (`follows_repointing`).
    follows: frozenset[str] = frozenset()
    #: The kernels (`linux`, `darwin`) whose systems were evaluated: only they get labels.
    kernels: tuple[str, ...] = KERNELS
    #: Hydra's build results of the base and head evaluations, when given.
    hydra: HydraComparison | None = None
    #: How the two sides were evaluated (both in full, or HEAD from the git change).
    evaluated: Evaluated = FULL

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
            "repointings": [r.to_dict() for r in self.repointings],
            "kernels_evaluated": list(self.kernels),
            "hydra": self.hydra.to_dict() if self.hydra else None,
            "evaluated": dataclasses.asdict(self.evaluated),
            "diff": self.diff.to_dict(),
        }


def rebuilds_as_ci_counts(diff: SnapshotDiff) -> dict[str, tuple[str, ...]]:
    """Jobset → the attributes CI counts as rebuilds: changed and added."""
    return {js: tuple(sorted({*diff.changed.get(js, ()), *diff.added.get(js, ())})) for js in diff.jobsets}


def _input_paths(graph: DerivationGraph, i: int) -> dict[str, str]:
    """Output path → derivation name of the outputs derivation `i` takes as inputs."""
    return {
        p: graph.names[j]
        for j, outs in graph.inputs_of(i)
        for o, p in zip(graph.output_names[j], graph.output_paths[j])
        if o in outs
    }


def known_outputs(graph: DerivationGraph) -> frozenset[str]:
    """Every output path of `graph`."""
    return frozenset(p for paths in graph.output_paths for p in paths if p)


def input_swaps(
    base: DerivationGraph, head: DerivationGraph, root: RootChange, known: frozenset[str]
) -> tuple[str, ...]:
    """`old-name → new-name` for the inputs a root takes instead of its BASE counterpart's, when every new
    input already existed in BASE (`known`: BASE's output paths); () otherwise (a real edit)."""
    if root.base_path is None:
        return ()
    mine = _input_paths(head, head.index[root.path])
    theirs = _input_paths(base, base.index[root.base_path])
    new = {p: n for p, n in mine.items() if p not in theirs}
    gone = {p: n for p, n in theirs.items() if p not in mine}
    if not new or not all(p in known for p in new):
        return ()
    old_names = sorted(set(gone.values()))
    new_names = sorted(set(new.values()))
    if len(old_names) == len(new_names):
        return tuple(f"{a} → {b}" for a, b in zip(old_names, new_names))
    return (f"{', '.join(old_names) or '(none)'} → {', '.join(new_names)}",)


def _causes(
    base: DerivationGraph, head: DerivationGraph, diff: SnapshotDiff, follows: frozenset[str]
) -> tuple[Cause, ...]:
    from impact.analysis.why import why

    roots = [r for r in diff.roots if r.path not in diff.every_commit_roots]
    if not roots or len(roots) > MAX_RANKED_ROOTS:
        return ()
    index = head.index
    counted = set(rebuilds_as_ci_counts(diff).items())
    wanted = {(js, a) for js, attrs in counted for a in attrs}
    known = known_outputs(base)
    ranked: list[tuple[int, str, RootChange, list[int]]] = []
    for r in roots:
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
        example = f"{head.job_jobsets[pick]}: {head.job_attrs[pick]}"
        swapped = input_swaps(base, head, root, known)
        causes.append(Cause(root, count, example, chain, swapped, root.path in follows))
    return tuple(causes)


def _prefix_pairs(package: str, before: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(head prefix, base prefix, member) for each BASE attribute sharing a dotted suffix with `package`
    (`linuxPackages.zfs`, `linuxPackages_4_6.zfs` → `linuxPackages`, `linuxPackages_4_6`, `zfs`), and the
    whole attributes as a pair with no member."""
    pairs = []
    head_parts = package.split(".")
    for b in before:
        base_parts = b.split(".")
        n = 0
        while n < min(len(head_parts), len(base_parts)) - 1 and head_parts[-1 - n] == base_parts[-1 - n]:
            n += 1
        if n:
            pairs.append((".".join(head_parts[:-n]), ".".join(base_parts[:-n]), ".".join(head_parts[-n:])))
        else:
            pairs.append((package, b, ""))
    return pairs or [(package, "", "")]


def repoint_causes(repointed: tuple[Repointing, ...]) -> tuple[RepointCause, ...]:
    """Re-pointed jobs grouped into the alias edits that explain most of them (see `RepointCause`)."""
    by_package: dict[tuple[str, str], list[Repointing]] = {}
    for r in repointed:
        by_package.setdefault((r.jobset, r.package), []).append(r)
    candidates: dict[tuple[str, str], list[tuple[str, str, str]]] = {
        key: _prefix_pairs(key[1], tuple(dict.fromkeys(b for r in rs for b in r.before_packages)))
        for key, rs in by_package.items()
    }
    support: dict[tuple[str, str, str], set[str]] = {}
    for (js, package), pairs in candidates.items():
        for head_prefix, base_prefix, _ in pairs:
            support.setdefault((js, head_prefix, base_prefix), set()).add(package)
    groups: dict[tuple[str, str, str], list[tuple[str, str, str]]] = {}
    for (js, package), pairs in candidates.items():
        best = min(
            pairs,
            key=lambda p: (-len(support[(js, p[0], p[1])]), "." in p[1], "latest" in p[1], len(p[1]), p[1]),
        )
        groups.setdefault((js, best[0], best[1]), []).append((package, best[2], ""))
    causes = []
    for (js, head_prefix, base_prefix), members in sorted(groups.items()):
        rs = [r for package, _, _ in members for r in by_package[(js, package)]]
        others = sorted(
            {p[1] for package, _, _ in members for p in candidates[(js, package)] if p[0] == head_prefix}
            - {base_prefix}
        )
        single = len(members) == 1 and not members[0][1]
        causes.append(
            RepointCause(
                jobset=js,
                head_prefix=head_prefix,
                base_prefix=base_prefix,
                also=tuple(others),
                members=() if single else tuple(sorted(m for _, m, _ in members)),
                name=rs[0].name if single else "",
                base_name=rs[0].base_name if single else None,
                systems=tuple(sorted({r.system for r in rs})),
                jobs=len(rs),
            )
        )
    return tuple(sorted(causes, key=lambda c: (-c.jobs, c.jobset, c.head_prefix)))


def follows_repointing(head: DerivationGraph, diff: SnapshotDiff) -> frozenset[str]:
    """HEAD .drv paths of the root changes downstream of a re-pointed job's derivation: they changed because an
    input now is that (already built) derivation, not because their own expression was edited."""
    index = head.job_index
    rows = np.array([int(head.job_drv[index[(r.jobset, r.attr)]]) for r in diff.repointed], dtype=np.int64)
    if rows.size == 0:
        return frozenset()
    reached = np.zeros(len(head), dtype=bool)
    reached[rebuilt_rows(head, rows)] = True
    reached[rows] = False
    return frozenset(r.path for r in diff.roots if reached[head.index[r.path]])


def _maintainers(
    base: DerivationGraph, head: DerivationGraph, diff: SnapshotDiff, follows: frozenset[str]
) -> tuple[str, ...]:
    """Maintainers of the jobs building a root change that the pull request edited itself."""
    found: set[str] = set()
    known = known_outputs(base)
    for r in diff.roots:
        if r.path in diff.every_commit_roots or r.path in follows or input_swaps(base, head, r, known):
            continue
        i = head.index[r.path]
        # An edited source (a fixed-output fetch) has no job: the package is its consumer.
        rows = [i, *(j for j, _ in head.consumers_of(i))] if head.fixed_output[i] else [i]
        for row in rows:
            for k in head.jobs_of_derivation.get(row, []):
                found.update(head.job_maintainers[k])
    return tuple(sorted(found))


def evaluated_kernels(*graphs: DerivationGraph) -> tuple[str, ...]:
    """The kernels (in CI's order) with at least one system evaluated in the `nixpkgs` jobset."""
    systems = {s for g in graphs for js, s in zip(g.job_jobsets, g.job_systems) if js == PACKAGES_JOBSET}
    return tuple(k for k in KERNELS if any(kernel_of(s) == k for s in systems))


def labels_for(labels: RebuildLabels, kernels: tuple[str, ...], nixos_tests: bool) -> RebuildLabels:
    """`labels` without those of kernels not evaluated (and `10.rebuild-nixos-tests` without NixOS tests)."""
    dropped = [k for k in KERNELS if k not in kernels]

    def keep(label: str) -> bool:
        if label == NIXOS_TESTS_LABEL:
            return nixos_tests
        return not any(label.startswith(f"10.rebuild-{k}:") or label == f"10.rebuild-{k}-stdenv" for k in dropped)

    return RebuildLabels(
        rebuilds_by_platform={p: v for p, v in labels.rebuilds_by_platform.items() if kernel_of(p) in kernels},
        rebuilds_by_kernel={k: v for k, v in labels.rebuilds_by_kernel.items() if k in kernels},
        labels={label: on for label, on in labels.labels.items() if keep(label)},
    )


def pr_report(
    base: DerivationGraph,
    head: DerivationGraph,
    command: str,
    *,
    base_branch: str | None = None,
    policy: Policy | None = None,
    hydra: HydraComparison | None = None,
    evaluated: Evaluated = FULL,
) -> PrReport:
    """The report of a pull request from the evaluations of its base and head (based on `base_branch`), with
    Hydra's build results of both when given."""
    diff = diff_snapshots(base, head)
    kernels = evaluated_kernels(base, head)
    tests = "nixos" in diff.jobsets or any(a.startswith("nixosTests.") for a in head.job_attrs)
    labels = labels_for(rebuild_labels(rebuilds_as_ci_counts(diff)), kernels, tests)
    estimate = diff.head_estimate
    report = Report(
        estimate=estimate,
        labels=labels,
        branch=branch_advice(estimate, labels, policy, base=base_branch),
        maintainers=maintainers_of(head, estimate),
        snapshot=f"{diff.base_label} → {diff.head_label}",
    )
    follows = follows_repointing(head, diff)
    systems = {s for g in (base, head) for s in g.job_systems} - {"builtin"}
    return PrReport(
        diff=diff,
        report=report,
        maintainers=_maintainers(base, head, diff, follows),
        causes=_causes(base, head, diff, follows),
        follows=follows,
        systems=tuple(sorted(systems, key=lambda s: (not s.endswith("-linux"), s != "x86_64-linux", s))),
        command=command,
        repointings=repoint_causes(diff.repointed),
        kernels=kernels,
        hydra=hydra,
        evaluated=evaluated,
    )
