"""`--format changed-paths`: the `changed-paths.json` that nixpkgs CI writes after comparing two evaluations.

The shape follows nixpkgs' `ci/eval/compare/default.nix` (NixOS/nixpkgs commit 0145c6da2896, the
`changed-paths` derivation) with the helpers of `ci/eval/compare/utils.nix` (commit 359f8630b845):

    {
      "attrdiff": {"added": [...], "changed": [...], "removed": [...]},          unique package names
      "attrdiffByKernel": {"darwin": {added, changed, removed}, "linux": {...}},
      "attrdiffByPlatform": {"x86_64-linux": {added, changed, removed}, ...},
      "labels": {"10.rebuild-darwin: 0": false, "10.rebuild-linux: 1-10": true, ...},
      "rebuildCountByKernel": {"darwin": 2, "linux": 3},
      "rebuildsByKernel": {"darwin": [...], "linux": [...]},
      "rebuildsByPlatform": {"x86_64-linux": [...], ...}
    }

Keys are sorted, as `builtins.toJSON` sorts attribute names, and the lists are sorted. An estimate edits
packages that exist, so `added` and `removed` are empty and `changed` lists the rebuilt packages of the
`nixpkgs` jobset (in CI's `diff`, every changed attribute of an edit like this is also a rebuild).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from impact.analysis.labels import KERNELS, PACKAGES_JOBSET, kernel_of
from impact.analysis.report import Report
from impact.model import DerivationGraph, job_package


def _packages(jobs: Mapping[str, Sequence[str]], systems: Mapping[tuple[str, str], str]) -> dict[str, set[str]]:
    """Platform → package names of the `nixpkgs` jobset's jobs among `jobs` (jobset → attributes)."""
    out: dict[str, set[str]] = {}
    for attr in jobs.get(PACKAGES_JOBSET, ()):
        system = systems.get((PACKAGES_JOBSET, attr)) or attr.rsplit(".", 1)[-1]
        out.setdefault(system, set()).add(job_package(attr, system))
    return out


def changed_paths_dict(
    report: Report,
    *,
    added: Mapping[str, Sequence[str]] | None = None,
    removed: Mapping[str, Sequence[str]] | None = None,
    graph: DerivationGraph | None = None,
) -> dict[str, Any]:
    """The `changed-paths.json` object of a report; `added` and `removed` (jobset → attributes, from an
    evaluation of both sides) fill the lists an estimate of edits leaves empty."""
    labels = report.labels
    systems = {(js, a): s for js, a, s in zip(graph.job_jobsets, graph.job_attrs, graph.job_systems)} if graph else {}
    new = _packages(added or {}, systems)
    gone = _packages(removed or {}, systems)
    by_platform = {p: list(names) for p, names in sorted(labels.rebuilds_by_platform.items())}
    by_kernel = {k: list(labels.rebuilds_by_kernel.get(k, ())) for k in sorted(KERNELS)}
    added_names = set().union(*new.values()) if new else set()
    changed = [n for n in labels.packages if n not in added_names]

    def diff(names: Sequence[str], platforms: Sequence[str]) -> dict[str, list[str]]:
        a = sorted({n for p in platforms for n in new.get(p, ())})
        r = sorted({n for p in platforms for n in gone.get(p, ())})
        return {"added": a, "changed": [n for n in names if n not in a], "removed": r}

    every = sorted({*by_platform, *new, *gone})
    return {
        "attrdiff": {
            "added": sorted(added_names),
            "changed": changed,
            "removed": sorted(set().union(*gone.values()) if gone else set()),
        },
        "attrdiffByKernel": {k: diff(v, [p for p in every if kernel_of(p) == k]) for k, v in by_kernel.items()},
        "attrdiffByPlatform": {p: diff(by_platform.get(p, []), [p]) for p in every},
        "labels": dict(sorted(labels.labels.items())),
        "rebuildCountByKernel": {k: len(v) for k, v in by_kernel.items()},
        "rebuildsByKernel": by_kernel,
        "rebuildsByPlatform": by_platform,
    }


def render_changed_paths(
    report: Report,
    *,
    added: Mapping[str, Sequence[str]] | None = None,
    removed: Mapping[str, Sequence[str]] | None = None,
    graph: DerivationGraph | None = None,
) -> str:
    """`changed-paths.json` text: sorted keys, two-space indent, one newline at the end."""
    doc = changed_paths_dict(report, added=added, removed=removed, graph=graph)
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
