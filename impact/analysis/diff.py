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

A root that embeds the nixpkgs source tree (`source_tree_rows`) is marked as
such in the estimate's change, so the estimate says which jobs change on every commit.

Pairing a HEAD root with a BASE derivation, first rule that gives one:
1. *job*: a job (jobset, attribute) builds the root in HEAD and the same job in BASE builds a derivation of
   the same package name (`qemu-2.6.0` and `qemu-2.6.1` are both `qemu`);
2. *name*: a BASE derivation of the same name and system; among several, the one sharing most input output
   paths;
3. *package*: a BASE derivation of the same package name and system (a version bump), again by shared inputs;
   in rules 2 and 3 both must be fixed-output or neither (a source tarball pairs with a source tarball);
4. none: the root is new.

Three things the graph alone cannot see, found here from Nix's output paths:
- *Re-pointings*: a job whose HEAD outputs all existed in BASE (built there under another attribute or as a
  dependency) was re-pointed, not rebuilt (`linuxPackages = linuxPackages_4_6`). It counts as changed, as nixpkgs
  CI counts it, but no derivation of it is built, and the cross-check expects the estimate to miss it.
- *Every-commit roots*: root changes that take the nixpkgs source tree itself as an input source (the NixOS
  version and channel derivations, `tarball`, `metrics`) change on every commit; the jobs reached from them
  alone are shown apart and never as causes.
- *New evaluation errors*: jobs that BASE evaluated and HEAD fails to evaluate (a throw or an assert).

Derivations to build are what Hydra builds: from the changed and added jobs, every derivation with an output
BASE lacks, recursing only into the inputs of those (a fixed-output derivation whose output exists stops the
walk even when its own inputs changed); derivations with new output paths that nothing needs are counted apart.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from impact.analysis.change import Change, Root, RootKind, package_name, resolve_change
from impact.analysis.rebuild import RebuildEstimate, estimate, rebuilt_rows
from impact.model import DerivationGraph, job_package, path_name

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
class Repointing:
    """A job whose HEAD outputs all existed in BASE: the attribute now points to a derivation already built."""

    #: The jobset and HEAD attribute, e.g. `nixpkgs`, `linux.x86_64-linux`.
    jobset: str
    attr: str
    system: str
    #: The derivation name it points to in HEAD (`linux-4.6.2`).
    name: str
    #: BASE attributes (same jobset first) whose job had exactly these outputs (`linux_4_6.x86_64-linux`).
    before: tuple[str, ...]
    #: The derivation name the attribute had in BASE, or None when the attribute is new.
    base_name: str | None

    @property
    def package(self) -> str:
        """The attribute without its system (`linux`)."""
        return job_package(self.attr, self.system)

    @property
    def before_packages(self) -> tuple[str, ...]:
        """The BASE attributes without their system (`linux_4_6`)."""
        return tuple(dict.fromkeys(job_package(a, self.system) for a in self.before))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "jobset": self.jobset,
            "attr": self.attr,
            "system": self.system,
            "name": self.name,
            "before": list(self.before),
            "base_name": self.base_name,
        }


@dataclass(frozen=True, slots=True)
class NewEvalError:
    """A job BASE evaluated that HEAD fails to evaluate, with the evaluator's message."""

    #: The jobset and the attribute whose evaluation failed (possibly a set holding several BASE jobs).
    jobset: str
    attr: str
    #: What the evaluator said (with file:line when it gave them).
    error: str
    #: The BASE jobs under that attribute.
    base_jobs: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"jobset": self.jobset, "attr": self.attr, "error": self.error, "base_jobs": self.base_jobs}


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
    #: Jobs re-pointed to derivations BASE already had (changed or added), by jobset then attribute.
    repointed: tuple[Repointing, ...] = ()
    #: Jobset → sorted changed or added attributes reached only from every-commit roots (nixpkgs source tree).
    every_commit_jobs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: HEAD .drv paths of the root changes that take the nixpkgs source tree as an input source.
    every_commit_roots: frozenset[str] = frozenset()
    #: Derivations to build that only the every-commit roots reach.
    every_commit_derivations: int = 0
    #: HEAD derivations with an output path BASE lacks (including those nothing needs built).
    derivations_with_new_outputs: int = 0
    #: Jobs BASE evaluated that HEAD fails to evaluate.
    new_eval_errors: tuple[NewEvalError, ...] = ()
    #: Jobset → attribute → system of every changed, added or removed job.
    job_systems: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def repointed_keys(self) -> frozenset[tuple[str, str]]:
        """(jobset, attr) of the re-pointed jobs."""
        return frozenset((r.jobset, r.attr) for r in self.repointed)

    def rebuilt(self, jobset: str) -> tuple[str, ...]:
        """Changed attributes of `jobset` that really rebuild: not re-pointed, not every-commit only."""
        skip = self.repointed_keys
        every = set(self.every_commit_jobs.get(jobset, ()))
        return tuple(a for a in self.changed.get(jobset, ()) if (jobset, a) not in skip and a not in every)

    def removed_failing(self, jobset: str) -> tuple[str, ...]:
        """Removed attributes of `jobset` that HEAD fails to evaluate: at or under a new evaluation error.

        The others of `removed[jobset]` are gone without an error: the release file no longer lists them."""
        failed = [e.attr for e in self.new_eval_errors if e.jobset in (jobset, "")]
        return tuple(a for a in self.removed.get(jobset, ()) if any(a == f or a.startswith(f + ".") for f in failed))

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
            "derivations_with_new_outputs": self.derivations_with_new_outputs,
            "rebuilt": {js: list(self.rebuilt(js)) for js in self.jobsets},
            "repointed": [r.to_dict() for r in self.repointed],
            "every_commit": {
                "jobs": {k: list(v) for k, v in self.every_commit_jobs.items()},
                "roots": sorted(self.every_commit_roots),
                "derivations_to_build": self.every_commit_derivations,
            },
            "new_eval_errors": [e.to_dict() for e in self.new_eval_errors],
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


#: Derivations that take the nixpkgs source tree itself: the NixOS version/channel ones, `tarball`, `metrics`.
_SOURCE_TREE_CONSUMER = re.compile(r"^(nixos-\d+\.\d+|nixpkgs-tarball-|nixpkgs-metrics)")


def source_tree_rows(graph: DerivationGraph) -> np.ndarray:
    """Rows of the derivations taking the nixpkgs source tree as an input source: they change on every commit.

    The tree is a store path named after the checkout folder (no extension) that a NixOS version derivation,
    `tarball` or `metrics` takes; every derivation taking that same path embeds the tree.
    """
    consumer = np.repeat(np.arange(len(graph), dtype=np.int64), np.diff(graph.source_indptr))
    candidates = [s for s, p in enumerate(graph.source_paths) if "." not in path_name(p)]
    taken = np.isin(graph.source_indices, candidates)
    trees = {
        int(s)
        for s, c in zip(graph.source_indices[taken].tolist(), consumer[taken].tolist())
        if _SOURCE_TREE_CONSUMER.match(graph.names[c])
    }
    if not trees:
        return np.empty(0, dtype=np.int64)
    return np.unique(consumer[np.isin(graph.source_indices, sorted(trees))])


def to_build_rows(graph: DerivationGraph, changed: np.ndarray, job_rows: np.ndarray) -> np.ndarray:
    """Sorted rows Hydra builds for jobs at `job_rows`: changed derivations reached through changed ones only."""
    seen = np.zeros(len(graph), dtype=bool)
    stack = [int(i) for i in np.unique(job_rows) if changed[i]]
    for i in stack:
        seen[i] = True
    indptr, indices = graph.input_indptr, graph.input_indices
    while stack:
        i = stack.pop()
        for j in indices[indptr[i] : indptr[i + 1]].tolist():
            if changed[j] and not seen[j]:
                seen[j] = True
                stack.append(j)
    return np.flatnonzero(seen)


def _repointings(
    base: DerivationGraph,
    head: DerivationGraph,
    keys: list[tuple[str, str]],
    base_jobs: Mapping[tuple[str, str], Any],
    head_jobs: Mapping[tuple[str, str], Any],
) -> list[Repointing]:
    """The jobs among `keys` (changed or added) whose HEAD output paths all existed in BASE."""
    known = {p for paths in base.output_paths for p in paths if p}
    by_outputs: dict[tuple[tuple[str, str], ...], list[tuple[str, str]]] = {}
    for key, outs in base_jobs.items():
        by_outputs.setdefault(outs, []).append(key)
    found = []
    head_index = head.job_index
    for key in keys:
        outs = head_jobs[key]
        if not outs or not all(p in known for _, p in outs):
            continue
        k = head_index[key]
        before = sorted(by_outputs.get(outs, ()), key=lambda b: (b[0] != key[0], b[1]))
        b_job = base.job_index.get(key)
        found.append(
            Repointing(
                jobset=key[0],
                attr=key[1],
                system=head.job_systems[k],
                name=head.names[int(head.job_drv[k])],
                before=tuple(a for _, a in before if (_, a) != key),
                base_name=base.names[int(base.job_drv[b_job])] if b_job is not None else None,
            )
        )
    return sorted(found, key=lambda r: (r.jobset, r.attr))


def _new_eval_errors(base: DerivationGraph, head: DerivationGraph) -> list[NewEvalError]:
    """HEAD's evaluation errors at attributes under which BASE evaluated jobs without error."""
    failed_before = {(e.jobset, e.attr) for e in base.eval_errors}
    attrs: dict[str, list[str]] = {}
    for js, a in zip(base.job_jobsets, base.job_attrs):
        attrs.setdefault(js, []).append(a)
    every = sorted(a for v in attrs.values() for a in v)
    by_jobset = {js: sorted(v) for js, v in attrs.items()}
    found = []
    for e in head.eval_errors:
        if (e.jobset, e.attr) in failed_before:
            continue
        names = by_jobset.get(e.jobset, []) if e.jobset else every
        exact = bisect.bisect_right(names, e.attr) - bisect.bisect_left(names, e.attr)
        prefix = e.attr + "."
        under = bisect.bisect_left(names, e.attr + "/") - bisect.bisect_left(names, prefix)  # "/" sorts after "."
        if exact + under:
            found.append(NewEvalError(jobset=e.jobset, attr=e.attr, error=e.error, base_jobs=exact + under))
    return sorted(found, key=lambda e: (e.jobset, e.attr))


def _count(n: int, word: str) -> str:
    """`1 job`, `2 jobs`: a count with its noun in the right number."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


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

    systems_of: dict[str, dict[str, str]] = {js: {} for js in jobsets}

    def count(js: str, system: str, kind: str, attr: str) -> None:
        c = by_system[js].setdefault(system, {"changed": 0, "added": 0, "removed": 0})
        c[kind] += 1
        systems_of[js][attr] = system

    for k, key in enumerate(zip(head.job_jobsets, head.job_attrs)):
        before = base_jobs.get(key)
        if before is None:
            added[key[0]].append(key[1])
            count(key[0], head.job_systems[k], "added", key[1])
        elif before != head_jobs[key]:
            changed_jobs[key[0]].append(key[1])
            count(key[0], head.job_systems[k], "changed", key[1])
    for k, key in enumerate(zip(base.job_jobsets, base.job_attrs)):
        if key not in head_jobs:
            removed[key[0]].append(key[1])
            count(key[0], base.job_systems[k], "removed", key[1])

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

    tree_rows = np.intersect1d(source_tree_rows(head), roots)
    tree = {head.drv_paths[i] for i in tree_rows.tolist()}
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
    moved = [key for js in jobsets for key in ((js, a) for a in (*changed_jobs[js], *added[js]))]
    repointed = _repointings(base, head, moved, base_jobs, head_jobs)
    findings = _head_findings(head, changed, roots, head_est, changed_jobs, base_jobs, repointed)
    prediction: dict[str, tuple[str, ...]] = dict.fromkeys(jobsets, ())
    if paired_base:
        base_change = resolve_change(base, drvs=sorted({base.drv_paths[b] for b in paired_base}), commit=False)
        prediction.update(estimate(base, base_change).changed_jobs)
    findings += _prediction_findings(jobsets, prediction, changed_jobs, removed, root_changes, repointed)

    # Every-commit jobs: changed or added jobs reached from the source-tree roots and from no other root.
    edit_roots = np.setdiff1d(roots, tree_rows)
    by_edit = np.zeros(len(head), dtype=bool)
    by_edit[rebuilt_rows(head, edit_roots)] = True
    by_tree = np.zeros(len(head), dtype=bool)
    by_tree[rebuilt_rows(head, tree_rows)] = True
    skip = {(r.jobset, r.attr) for r in repointed}
    every_commit: dict[str, list[str]] = {js: [] for js in jobsets}
    job_index = head.job_index
    for js, attr in moved:
        i = int(head.job_drv[job_index[(js, attr)]])
        if (js, attr) not in skip and by_tree[i] and not by_edit[i]:
            every_commit[js].append(attr)
    moved_rows = np.array([int(head.job_drv[job_index[key]]) for key in moved], dtype=np.int64)
    build = to_build_rows(head, changed, moved_rows)
    every_commit_derivations = int(np.count_nonzero(by_tree[build] & ~by_edit[build]))

    totals_base: dict[str, int] = {}
    for js in base.job_jobsets:
        totals_base[js] = totals_base.get(js, 0) + 1
    totals_head: dict[str, int] = {}
    for js in head.job_jobsets:
        totals_head[js] = totals_head.get(js, 0) + 1
    per_system = np.bincount(head.system_ids[build], minlength=len(head.systems))
    return SnapshotDiff(
        base_label=base.label,
        head_label=head.label,
        added={js: tuple(sorted(v)) for js, v in added.items()},
        removed={js: tuple(sorted(v)) for js, v in removed.items()},
        changed={js: tuple(sorted(v)) for js, v in changed_jobs.items()},
        by_system={js: {s: v[s] for s in sorted(v)} for js, v in by_system.items()},
        jobs_total_base=totals_base,
        jobs_total_head=totals_head,
        derivations_to_build=int(build.size),
        derivations_to_build_by_system={head.systems[s]: int(c) for s, c in enumerate(per_system) if c},
        roots=tuple(root_changes),
        head_estimate=head_est,
        base_prediction=prediction,
        findings=tuple(findings),
        repointed=tuple(repointed),
        every_commit_jobs={js: tuple(sorted(v)) for js, v in every_commit.items()},
        every_commit_roots=frozenset(tree),
        every_commit_derivations=every_commit_derivations,
        derivations_with_new_outputs=int(np.count_nonzero(changed)),
        new_eval_errors=tuple(_new_eval_errors(base, head)),
        job_systems=systems_of,
    )


def _head_findings(
    head: DerivationGraph,
    changed: np.ndarray,
    roots: np.ndarray,
    est: RebuildEstimate,
    changed_jobs: Mapping[str, list[str]],
    base_jobs: Mapping[tuple[str, str], Any],
    repointed: list[Repointing],
) -> list[Finding]:
    """Where the estimate on HEAD from the roots and Nix's output paths disagree (derivations, then jobs).

    A re-pointed job changed in Nix although none of its derivations did: the estimate rightly misses it.
    """
    skip = {(r.jobset, r.attr) for r in repointed}
    findings: list[Finding] = []
    rebuilt = np.zeros(len(head), dtype=bool)
    rebuilt[rebuilt_rows(head, roots)] = True
    extra = [head.names[i] for i in np.flatnonzero(rebuilt & ~changed).tolist()]
    missing = [head.names[i] for i in np.flatnonzero(changed & ~rebuilt).tolist()]
    if extra:
        findings.append(
            Finding(
                "head-check",
                f"{_count(len(extra), 'derivation')} the estimate rebuilds kept their output paths in Nix: "
                f"{_examples(extra)}",
            )
        )
    if missing:
        findings.append(
            Finding(
                "head-check",
                f"{_count(len(missing), 'derivation')} changed in Nix but the estimate does not reach them: "
                f"{_examples(missing)}",
            )
        )
    for js, attrs in est.changed_jobs.items():
        predicted = {a for a in attrs if (js, a) in base_jobs}
        actual = {a for a in changed_jobs.get(js, ()) if (js, a) not in skip}
        if predicted - actual:
            findings.append(
                Finding(
                    "head-check",
                    f"{js}: the estimate changes {_count(len(predicted - actual), 'job')} whose output paths Nix kept: "
                    f"{_examples(sorted(predicted - actual))}",
                )
            )
        if actual - predicted:
            findings.append(
                Finding(
                    "head-check",
                    f"{js}: Nix changed {_count(len(actual - predicted), 'job')} the estimate misses: "
                    f"{_examples(sorted(actual - predicted))}",
                )
            )
    return findings


def _prediction_findings(
    jobsets: list[str],
    prediction: Mapping[str, tuple[str, ...]],
    changed_jobs: Mapping[str, list[str]],
    removed: Mapping[str, list[str]],
    roots: list[RootChange],
    repointed: list[Repointing],
) -> list[Finding]:
    findings: list[Finding] = []
    skip = {(r.jobset, r.attr) for r in repointed}
    new = [r.name for r in roots if r.base_path is None]
    if new:
        findings.append(
            Finding(
                "base-prediction",
                f"{_count(len(new), 'root change')} without a counterpart in BASE (new): {_examples(sorted(new))}",
            )
        )
    for js in jobsets:
        predicted = set(prediction.get(js, ())) - set(removed.get(js, ()))
        actual = {a for a in changed_jobs.get(js, ()) if (js, a) not in skip}
        if actual - predicted:
            findings.append(
                Finding(
                    "base-prediction",
                    f"{js}: an estimate on BASE from the paired roots misses "
                    f"{_count(len(actual - predicted), 'changed job')}: "
                    f"{_examples(sorted(actual - predicted))}",
                )
            )
        if predicted - actual:
            findings.append(
                Finding(
                    "base-prediction",
                    f"{js}: an estimate on BASE from the paired roots adds "
                    f"{_count(len(predicted - actual), 'job')} Nix did "
                    f"not change: {_examples(sorted(predicted - actual))}",
                )
            )
    return findings
