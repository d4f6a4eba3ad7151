"""The exact answer: what changed between two evaluations (BASE and HEAD), by output paths, as nixpkgs CI counts.

Jobs are compared by (jobset, attribute): a job is *added* or *removed* when its attribute exists on one side
only, *changed* when both have it and any of its output paths differ (all outputs: `out`, `dev`, `man`, …),
exactly what nixpkgs CI calls a rebuild; counted per jobset and per system. A HEAD derivation is *changed*
(Hydra builds it) when one of its output paths is not among BASE's output paths. Drv paths are never
compared: a consumer of a fixed-output derivation whose drv changed keeps its output paths.

Root changes are the changed HEAD derivations whose change does not come from an input: none of their inputs
changed (a fixed-output derivation is a root whenever it changed, since Nix computes its consumers' paths
modulo it). They are what the commit edited.

The cross-check runs the graph estimate (`impact.analysis.rebuild`) from those roots **on HEAD's graph**:
HEAD holds every derivation that changed, including new ones and the edges the change added, so the
estimate must give exactly the changed derivations and jobs; a derivation the estimate rebuilds but whose
outputs Nix kept (or the reverse) is a finding, and so is any job on which they disagree. Mapping the roots
onto BASE instead would lose every root without a BASE counterpart (a new package, a new input) and every
edge the change added, so it cannot be exact; it is still computed, as *the prediction*: what
`impact estimate` on BASE would have said from the paired roots, reported with its misses as findings.

A root that embeds the nixpkgs source tree (`impact.analysis.change.source_tree_derivations`) is marked as
such in the estimate's change, so the estimate says which jobs change on every commit.

Pairing a HEAD root with a BASE derivation, first rule that gives one:
1. *job*: a job (jobset, attribute) builds the root in HEAD and the same job in BASE builds a derivation of
   the same package name (`qemu-2.6.0` and `qemu-2.6.1` are both `qemu`);
2. *name*: a BASE derivation of the same name and system; among several, the one sharing most input output
   paths;
3. *package*: a BASE derivation of the same package name and system (a version bump), again by shared inputs;
   in rules 2 and 3 both must be fixed-output or neither (a source tarball pairs with a source tarball);
4. none: the root is new.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from impact.analysis.change import Change, Root, RootKind, package_name, resolve_change, source_tree_derivations
from impact.analysis.rebuild import RebuildEstimate, estimate, hydra_builds, rebuilt_rows
from impact.model import DerivationGraph

#: How many disagreeing items a finding lists by name before it only counts.
FINDING_EXAMPLES = 10


@dataclass(frozen=True, slots=True)
class RootChange:
    """One root change: a HEAD derivation that changed while none of its inputs did, and its BASE counterpart."""

    #: The HEAD .drv path.
    path: str
    #: Its derivation name in HEAD.
    name: str
    #: Its system.
    system: str
    #: The paired BASE .drv path, or None when it is new.
    base_path: str | None
    #: The paired BASE derivation name.
    base_name: str | None
    #: How it was paired: `job`, `name`, `package` or `new`.
    paired_by: str
    #: The HEAD jobs ("jobset: attr") that build it directly.
    jobs: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "drv": self.path,
            "name": self.name,
            "system": self.system,
            "base_drv": self.base_path,
            "base_name": self.base_name,
            "paired_by": self.paired_by,
            "jobs": list(self.jobs),
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """A disagreement between the graph estimate and what Nix computed."""

    #: `head-check` (the exact cross-check on HEAD: must never happen) or `base-prediction` (what an estimate
    #: on BASE would have missed or added).
    check: str
    #: What disagrees, in one sentence with examples.
    message: str

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready dictionary."""
        return {"check": self.check, "message": self.message}


@dataclass(frozen=True)
class SnapshotDiff:
    """Added, removed and changed jobs between BASE and HEAD, the root changes, and the cross-check."""

    #: What BASE and HEAD are (their labels).
    base_label: str
    head_label: str
    #: Jobset → sorted attributes present in HEAD only.
    added: Mapping[str, tuple[str, ...]]
    #: Jobset → sorted attributes present in BASE only.
    removed: Mapping[str, tuple[str, ...]]
    #: Jobset → sorted attributes in both whose output paths differ (the rebuilds).
    changed: Mapping[str, tuple[str, ...]]
    #: Jobset → system → {"added", "removed", "changed"} counts.
    by_system: Mapping[str, Mapping[str, Mapping[str, int]]]
    #: Jobs per jobset in BASE and in HEAD.
    jobs_total_base: Mapping[str, int]
    jobs_total_head: Mapping[str, int]
    #: What Hydra builds: HEAD's jobs with an output path BASE does not have and, recursively, their inputs with
    #: such paths (a derivation whose new outputs only feed fixed-output derivations is not built).
    derivations_to_build: int
    #: System → derivations to build.
    derivations_to_build_by_system: Mapping[str, int]
    #: The root changes, sorted by name and system.
    roots: tuple[RootChange, ...]
    #: The graph estimate on HEAD from the roots.
    head_estimate: RebuildEstimate
    #: Jobset → the changed attributes the graph estimate on BASE predicts from the paired roots.
    base_prediction: Mapping[str, tuple[str, ...]]
    #: Every disagreement found.
    findings: tuple[Finding, ...]

    @property
    def agrees(self) -> bool:
        """True when the graph estimate on HEAD from the roots gives exactly the diff."""
        return not any(f.check == "head-check" for f in self.findings)

    @property
    def changed_count(self) -> int:
        """Changed jobs over all jobsets."""
        return sum(len(v) for v in self.changed.values())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (the shape `impact diff --json` prints)."""
        return {
            "base": self.base_label,
            "head": self.head_label,
            "changed": {k: list(v) for k, v in self.changed.items()},
            "added": {k: list(v) for k, v in self.added.items()},
            "removed": {k: list(v) for k, v in self.removed.items()},
            "count": {
                js: {
                    "changed": len(self.changed.get(js, ())),
                    "added": len(self.added.get(js, ())),
                    "removed": len(self.removed.get(js, ())),
                }
                for js in self.jobsets
            },
            "by_system": {js: {s: dict(c) for s, c in v.items()} for js, v in self.by_system.items()},
            "jobs_total": {"base": dict(self.jobs_total_base), "head": dict(self.jobs_total_head)},
            "derivations_to_build": self.derivations_to_build,
            "derivations_to_build_by_system": dict(self.derivations_to_build_by_system),
            "roots": [r.to_dict() for r in self.roots],
            "cross_check": {
                "agrees": self.agrees,
                "estimate_changed_jobs": {k: len(v) for k, v in self.head_estimate.changed_jobs.items()},
                "estimate_derivations_to_build": self.head_estimate.derivations_to_build,
                "base_prediction": {k: list(v) for k, v in self.base_prediction.items()},
                "findings": [f.to_dict() for f in self.findings],
            },
        }

    @property
    def jobsets(self) -> list[str]:
        """The jobsets of either side, HEAD's order first."""
        return list(dict.fromkeys([*self.jobs_total_head, *self.jobs_total_base]))


def _job_outputs(graph: DerivationGraph) -> dict[tuple[str, str], tuple[tuple[str, str], ...]]:
    """(jobset, attr) → the job's (output, path) pairs, from its derivation as Nix wrote it."""
    return {
        (js, a): tuple(zip(graph.output_names[i], graph.output_paths[i]))
        for js, a, i in zip(graph.job_jobsets, graph.job_attrs, graph.job_drv.tolist())
    }


def changed_rows(base: DerivationGraph, head: DerivationGraph) -> np.ndarray:
    """Boolean mask over HEAD rows: the derivation has an output path BASE does not have."""
    known = {p for paths in base.output_paths for p in paths if p}
    return np.fromiter(
        (any(p and p not in known for p in paths) for paths in head.output_paths), dtype=bool, count=len(head)
    )


def root_rows(head: DerivationGraph, changed: np.ndarray) -> np.ndarray:
    """Sorted HEAD rows of the root changes: changed, with no changed input (fixed-output: whenever changed)."""
    consumers = np.repeat(np.arange(len(head), dtype=np.int64), np.diff(head.input_indptr))
    from_changed = changed[head.input_indices] & ~head.fixed_output[consumers]
    has_changed_input = np.zeros(len(head), dtype=bool)
    has_changed_input[consumers[from_changed]] = True
    return np.flatnonzero(changed & ~has_changed_input)


class _Pairing:
    """Finds the BASE counterpart of a HEAD derivation (rules in the module docstring)."""

    def __init__(self, base: DerivationGraph, head: DerivationGraph) -> None:
        self.base, self.head = base, head
        self.by_name: dict[tuple[str, str], list[int]] = {}
        self.by_package: dict[tuple[str, str], list[int]] = {}
        for i, name in enumerate(base.names):
            system = base.system_of(i)
            self.by_name.setdefault((name, system), []).append(i)
            self.by_package.setdefault((package_name(name), system), []).append(i)
        self.base_jobs = base.job_index

    def _inputs(self, graph: DerivationGraph, i: int) -> set[str]:
        return {
            p
            for j, outs in graph.inputs_of(i)
            for o, p in zip(graph.output_names[j], graph.output_paths[j])
            if o in outs
        }

    def _best(self, i: int, candidates: list[int]) -> int:
        if len(candidates) == 1:
            return candidates[0]
        mine = self._inputs(self.head, i)
        return max(candidates, key=lambda b: (len(mine & self._inputs(self.base, b)), -b))

    def pair(self, i: int, jobs: list[int]) -> tuple[int | None, str]:
        head = self.head
        pname = package_name(head.names[i])
        for k in jobs:
            b_job = self.base_jobs.get((head.job_jobsets[k], head.job_attrs[k]))
            if b_job is not None:
                b = int(self.base.job_drv[b_job])
                if package_name(self.base.names[b]) == pname:
                    return b, "job"
        system = head.system_of(i)
        for table, key, how in ((self.by_name, head.names[i], "name"), (self.by_package, pname, "package")):
            candidates = [b for b in table.get((key, system), ()) if self.base.fixed_output[b] == head.fixed_output[i]]
            if candidates:
                return self._best(i, candidates), how
        return None, "new"


def _examples(items: list[str]) -> str:
    shown = ", ".join(items[:FINDING_EXAMPLES])
    return shown + (f" and {len(items) - FINDING_EXAMPLES:,} more" if len(items) > FINDING_EXAMPLES else "")


def diff_snapshots(base: DerivationGraph, head: DerivationGraph) -> SnapshotDiff:
    """Compare two evaluations by output paths, find the root changes and cross-check the graph estimate."""
    base_jobs, head_jobs = _job_outputs(base), _job_outputs(head)
    jobsets = list(dict.fromkeys([*head.jobsets, *base.jobsets]))
    added: dict[str, list[str]] = {js: [] for js in jobsets}
    removed: dict[str, list[str]] = {js: [] for js in jobsets}
    changed_jobs: dict[str, list[str]] = {js: [] for js in jobsets}
    by_system: dict[str, dict[str, dict[str, int]]] = {js: {} for js in jobsets}

    def count(js: str, system: str, kind: str) -> None:
        c = by_system[js].setdefault(system, {"changed": 0, "added": 0, "removed": 0})
        c[kind] += 1

    for k, key in enumerate(zip(head.job_jobsets, head.job_attrs)):
        before = base_jobs.get(key)
        if before is None:
            added[key[0]].append(key[1])
            count(key[0], head.job_systems[k], "added")
        elif before != head_jobs[key]:
            changed_jobs[key[0]].append(key[1])
            count(key[0], head.job_systems[k], "changed")
    for k, key in enumerate(zip(base.job_jobsets, base.job_attrs)):
        if key not in head_jobs:
            removed[key[0]].append(key[1])
            count(key[0], base.job_systems[k], "removed")

    changed = changed_rows(base, head)
    roots = root_rows(head, changed)
    pairing = _Pairing(base, head)
    root_changes: list[RootChange] = []
    paired_base: list[int] = []
    for i in roots.tolist():
        jobs = head.jobs_of_derivation.get(i, [])
        b, how = pairing.pair(i, jobs)
        if b is not None:
            paired_base.append(b)
        root_changes.append(
            RootChange(
                path=head.drv_paths[i],
                name=head.names[i],
                system=head.system_of(i),
                base_path=base.drv_paths[b] if b is not None else None,
                base_name=base.names[b] if b is not None else None,
                paired_by=how,
                jobs=tuple(sorted(f"{head.job_jobsets[k]}: {head.job_attrs[k]}" for k in jobs)),
            )
        )
    root_changes.sort(key=lambda r: (r.name, r.system, r.path))

    tree = {head.drv_paths[i] for i in source_tree_derivations(head)}
    change = Change(
        description=f"diff {base.label} → {head.label}",
        roots=tuple(
            Root(
                r.path,
                r.name,
                r.system,
                RootKind.SOURCE_TREE,
                "embeds the nixpkgs source tree: changes on every commit",
            )
            if r.path in tree
            else Root(r.path, r.name, r.system, RootKind.GIVEN, "root change found by the diff")
            for r in root_changes
        ),
    )
    head_est = estimate(head, change)
    findings = _head_findings(head, changed, roots, head_est, changed_jobs, base_jobs)
    prediction: dict[str, tuple[str, ...]] = dict.fromkeys(jobsets, ())
    if paired_base:
        base_change = resolve_change(base, drvs=sorted({base.drv_paths[b] for b in paired_base}), commit=False)
        prediction.update(estimate(base, base_change).changed_jobs)
    findings += _prediction_findings(jobsets, prediction, changed_jobs, removed, root_changes)

    totals_base: dict[str, int] = {}
    for js in base.job_jobsets:
        totals_base[js] = totals_base.get(js, 0) + 1
    totals_head: dict[str, int] = {}
    for js in head.job_jobsets:
        totals_head[js] = totals_head.get(js, 0) + 1
    # What Hydra builds: the jobs with new output paths, and inputs whose outputs are new (never behind a
    # fixed-output derivation, whose output path BASE already has).
    rows, _ = hydra_builds(head, np.flatnonzero(changed), changed[head.job_drv])
    per_system = np.bincount(head.system_ids[rows], minlength=len(head.systems))
    return SnapshotDiff(
        base_label=base.label,
        head_label=head.label,
        added={js: tuple(sorted(v)) for js, v in added.items()},
        removed={js: tuple(sorted(v)) for js, v in removed.items()},
        changed={js: tuple(sorted(v)) for js, v in changed_jobs.items()},
        by_system={js: {s: v[s] for s in sorted(v)} for js, v in by_system.items()},
        jobs_total_base=totals_base,
        jobs_total_head=totals_head,
        derivations_to_build=int(rows.size),
        derivations_to_build_by_system={head.systems[s]: int(c) for s, c in enumerate(per_system) if c},
        roots=tuple(root_changes),
        head_estimate=head_est,
        base_prediction=prediction,
        findings=tuple(findings),
    )


def _head_findings(
    head: DerivationGraph,
    changed: np.ndarray,
    roots: np.ndarray,
    est: RebuildEstimate,
    changed_jobs: Mapping[str, list[str]],
    base_jobs: Mapping[tuple[str, str], Any],
) -> list[Finding]:
    """Where the estimate on HEAD from the roots and Nix's output paths disagree (derivations, then jobs)."""
    findings: list[Finding] = []
    rebuilt = np.zeros(len(head), dtype=bool)
    rebuilt[rebuilt_rows(head, roots)] = True
    extra = [head.names[i] for i in np.flatnonzero(rebuilt & ~changed).tolist()]
    missing = [head.names[i] for i in np.flatnonzero(changed & ~rebuilt).tolist()]
    if extra:
        findings.append(
            Finding(
                "head-check",
                f"{len(extra):,} derivations the estimate rebuilds kept their output paths in Nix: {_examples(extra)}",
            )
        )
    if missing:
        findings.append(
            Finding(
                "head-check",
                f"{len(missing):,} derivations changed in Nix but the estimate does not reach them: {_examples(missing)}",
            )
        )
    for js, attrs in est.changed_jobs.items():
        predicted = {a for a in attrs if (js, a) in base_jobs}
        actual = set(changed_jobs.get(js, ()))
        if predicted - actual:
            findings.append(
                Finding(
                    "head-check",
                    f"{js}: the estimate changes {len(predicted - actual):,} jobs whose output paths Nix kept: {_examples(sorted(predicted - actual))}",
                )
            )
        if actual - predicted:
            findings.append(
                Finding(
                    "head-check",
                    f"{js}: Nix changed {len(actual - predicted):,} jobs the estimate misses: {_examples(sorted(actual - predicted))}",
                )
            )
    return findings


def _prediction_findings(
    jobsets: list[str],
    prediction: Mapping[str, tuple[str, ...]],
    changed_jobs: Mapping[str, list[str]],
    removed: Mapping[str, list[str]],
    roots: list[RootChange],
) -> list[Finding]:
    findings: list[Finding] = []
    new = [r.name for r in roots if r.base_path is None]
    if new:
        findings.append(
            Finding(
                "base-prediction",
                f"{len(new):,} root changes have no counterpart in BASE (new): {_examples(sorted(new))}",
            )
        )
    for js in jobsets:
        predicted = set(prediction.get(js, ())) - set(removed.get(js, ()))
        actual = set(changed_jobs.get(js, ()))
        if actual - predicted:
            findings.append(
                Finding(
                    "base-prediction",
                    f"{js}: an estimate on BASE from the paired roots misses {len(actual - predicted):,} changed jobs: {_examples(sorted(actual - predicted))}",
                )
            )
        if predicted - actual:
            findings.append(
                Finding(
                    "base-prediction",
                    f"{js}: an estimate on BASE from the paired roots adds {len(predicted - actual):,} jobs Nix did not change: {_examples(sorted(predicted - actual))}",
                )
            )
    return findings
