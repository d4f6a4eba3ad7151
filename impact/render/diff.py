"""Rendering an exact diff (`impact diff`) as terminal text."""

from __future__ import annotations

from impact.analysis.diff import SnapshotDiff
from impact.render.text import table

#: Jobs listed by name per kind before the rest are only counted.
MAX_JOBS_LISTED = 20
#: Root changes listed one by one before the rest are only counted.
MAX_ROOTS_LISTED = 20


def _systems(diff: SnapshotDiff) -> list[str]:
    found = {s for per in diff.by_system.values() for s in per} | set(diff.derivations_to_build_by_system)
    found.discard("builtin")
    return sorted(found, key=lambda s: (not s.endswith("-linux"), s != "x86_64-linux", s))


def _listed(attrs: tuple[str, ...], limit: int = MAX_JOBS_LISTED) -> str:
    shown = ", ".join(attrs[:limit])
    return shown + (f", … {len(attrs) - limit:,} more" if len(attrs) > limit else "")


def root_label(root_name: str, base_name: str | None, paired_by: str) -> str:
    """How a root change reads: `libfoo-1.0 → libfoo-1.1`, `libfoo-1.0 (edited)` or `newpkg-1.0 (new)`."""
    if base_name is None:
        return f"{root_name} (new)"
    if base_name != root_name:
        return f"{base_name} → {root_name}"
    return f"{root_name} (edited)"


def diff_text(diff: SnapshotDiff) -> str:
    """`impact diff`: jobs changed/added/removed per jobset and system, roots, then the cross-check."""
    systems = _systems(diff)
    rows: list[list[object]] = []
    for js in diff.jobsets:
        per = diff.by_system.get(js, {})
        for kind, attrs in (("changed", diff.changed), ("added", diff.added), ("removed", diff.removed)):
            n = len(attrs.get(js, ()))
            if kind == "changed" or n:
                total = f"{n:,} of {diff.jobs_total_head.get(js, 0):,}" if kind == "changed" else n
                rows.append([f"{js} jobs {kind}", *(per.get(s, {}).get(kind) or None for s in systems), total])
    rows.append(
        [
            "derivations to build",
            *(diff.derivations_to_build_by_system.get(s) for s in systems),
            diff.derivations_to_build,
        ]
    )
    lines = [f"impact diff  ·  {diff.base_label} → {diff.head_label}", "", table(rows, ["", *systems, "total"]), ""]
    for js in diff.jobsets:
        for kind, attrs in (("changed", diff.changed), ("added", diff.added), ("removed", diff.removed)):
            if attrs.get(js):
                lines.append(f"{js} {kind}: {_listed(attrs[js])}")
    if diff.derivations_with_new_outputs != diff.derivations_to_build:
        extra = diff.derivations_with_new_outputs - diff.derivations_to_build
        lines.append(f"({extra:,} more derivations get new output paths but nothing needs them built)")
    if diff.repointed:
        shown = [f"{r.jobset}: {r.attr} → {r.name}" for r in diff.repointed]
        lines.append(f"re-pointed to derivations already built: {_listed(tuple(shown))}")
    every = tuple(f"{js}: {a}" for js in diff.jobsets for a in diff.every_commit_jobs.get(js, ()))
    if every:
        lines.append(f"change on every commit (nixpkgs source tree): {_listed(every)}")
    for e in diff.new_eval_errors:
        lines.append(
            f"no longer evaluates: {e.jobset}: {e.attr} ({e.base_jobs:,} in BASE): {' '.join(e.error.split())}"
        )
    lines += ["", f"Root changes: {len(diff.roots):,} derivations changed while none of their inputs did"]
    root_rows = [
        [root_label(r.name, r.base_name, r.paired_by), r.system, r.paired_by, ", ".join(r.jobs) or "-"]
        for r in diff.roots[:MAX_ROOTS_LISTED]
    ]
    if root_rows:
        lines.append(
            "\n".join(
                "  " + line
                for line in table(root_rows, ["root", "system", "paired by", "jobs"], right_from=99).splitlines()
            )
        )
    if len(diff.roots) > MAX_ROOTS_LISTED:
        lines.append(f"  … {len(diff.roots) - MAX_ROOTS_LISTED:,} more")
    est = diff.head_estimate
    verdict = "agrees" if diff.agrees else "DISAGREES"
    lines += [
        "",
        f"Cross-check: the graph estimate on HEAD from these roots {verdict} "
        f"({est.changed_job_count:,} jobs incl. added, {est.derivations_to_build:,} derivations to build"
        + (
            f"; {len(diff.repointed):,} re-pointed jobs need no build and are rightly missed)"
            if diff.repointed
            else ")"
        ),
    ]
    for f in diff.findings:
        lines.append(f"  finding ({f.check}): {f.message}")
    return "\n".join(lines) + "\n"
