"""Terminal rendering of `impact compare`: changes in columns, then what only each rebuilds."""

from __future__ import annotations

from impact.analysis.compare import Comparison
from impact.render.text import table

#: Jobs listed by name per change and jobset in "only …" lists; the rest are counted.
MAX_LISTED = 15


def _systems(comparison: Comparison) -> list[str]:
    found: set[str] = set()
    for c in comparison.changes:
        for per in c.report.estimate.changed_jobs_by_system.values():
            found.update(per)
    return sorted(found, key=lambda s: (not s.endswith("-linux"), s != "x86_64-linux", s))


def compare_text(comparison: Comparison, snapshot: str = "") -> str:
    """Columns per change: jobs per jobset and system, derivations, NixOS tests, only-this-change counts."""
    changes = comparison.changes
    names = [c.name for c in changes]
    systems = _systems(comparison)
    jobsets = list(dict.fromkeys(js for c in changes for js in c.report.estimate.changed_jobs))
    rows: list[list[object]] = []
    for js in jobsets:
        rows.append([f"{js} jobs", *(len(c.report.estimate.changed_jobs.get(js, ())) for c in changes)])
        for s in systems:
            per = [c.report.estimate.changed_jobs_by_system.get(js, {}).get(s) for c in changes]
            if any(per):
                rows.append([f"  {s}", *per])
        if js == "nixos":
            rows.append(["  NixOS VM tests", *(len(c.report.estimate.nixos_tests) for c in changes)])
    rows.append(["derivations to build", *(c.report.estimate.derivations_to_build for c in changes)])
    for kernel in ("linux", "darwin"):
        rows.append([f"packages rebuilt, {kernel}", *(c.report.labels.rebuild_count_by_kernel.get(kernel, 0) for c in changes)])
    rows.append(["branch", *(c.report.branch.target for c in changes)])
    for js in jobsets:
        rows.append([f"only this change: {js} jobs", *(len(c.only_jobs.get(js, ())) for c in changes)])
    rows.append(["only this change: derivations", *(c.only_derivations for c in changes)])
    title = "impact compare " + " ".join(names) + (f"  ·  {snapshot}" if snapshot else "")
    lines = [title, "", table(rows, ["", *names]), ""]
    common = ", ".join(f"{js} {len(v):,} jobs" for js, v in comparison.common_jobs.items())
    lines.append(f"Rebuilt by every change: {common}, {comparison.common_derivations:,} derivations")
    lines.append("")
    for c in changes:
        report = c.report
        alternatives = f" (alternatives: {', '.join(report.branch.alternatives)})" if report.branch.alternatives else ""
        lines.append(f"{c.name}: branch {report.branch.target}{alternatives}")
        lines.append("  labels: " + (", ".join(report.labels.active) or "none"))
        lines += [f"  - {r.text}" for r in report.branch.reasons]
        for js, attrs in c.only_jobs.items():
            if not attrs:
                continue
            shown = ", ".join(attrs[:MAX_LISTED]) + (f", … {len(attrs) - MAX_LISTED:,} more" if len(attrs) > MAX_LISTED else "")
            lines.append(f"  only {c.name} rebuilds ({js}, {len(attrs):,}): {shown}")
        lines.append("")
    return "\n".join(lines)
