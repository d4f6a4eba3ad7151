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
from typing import Any

from impact.analysis.labels import KERNELS
from impact.analysis.report import Report


def _diff(changed: list[str]) -> dict[str, list[str]]:
    return {"added": [], "changed": changed, "removed": []}


def changed_paths_dict(report: Report) -> dict[str, Any]:
    """The `changed-paths.json` object of a report."""
    labels = report.labels
    by_platform = {p: list(names) for p, names in sorted(labels.rebuilds_by_platform.items())}
    by_kernel = {k: list(labels.rebuilds_by_kernel.get(k, ())) for k in sorted(KERNELS)}
    return {
        "attrdiff": _diff(list(labels.packages)),
        "attrdiffByKernel": {k: _diff(v) for k, v in by_kernel.items()},
        "attrdiffByPlatform": {p: _diff(v) for p, v in by_platform.items()},
        "labels": dict(sorted(labels.labels.items())),
        "rebuildCountByKernel": {k: len(v) for k, v in by_kernel.items()},
        "rebuildsByKernel": by_kernel,
        "rebuildsByPlatform": by_platform,
    }


def render_changed_paths(report: Report) -> str:
    """`changed-paths.json` text: sorted keys, two-space indent, one newline at the end."""
    return json.dumps(changed_paths_dict(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
