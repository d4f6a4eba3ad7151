"""The pull-request comment (`impact pr` → report.md).

The comment is the shared one of `impact.render.markdown` (marker, reproducing command, counts, labels, branch
advice, maintainers, rebuilt packages, cut to GitHub's limit) over the graph estimate on HEAD, which the
cross-check holds equal to the diff, plus one section only exact mode has (`exact_section`).
"""

from __future__ import annotations

from impact.analysis.pr import PrReport
from impact.render.diff import root_label
from impact.render.escape import code_span, html_text, inline_text, table_cell
from impact.render.markdown import render_markdown

#: Attributes listed per kind and jobset in the folded lists before the rest are only counted.
MAX_LISTED = 300
#: Root changes listed in their table.
MAX_ROOTS = 50


def _code(text: str, table: bool = False) -> str:
    return code_span(text, table=table)


def _fold(summary: str, body: list[str]) -> list[str]:
    return ["<details>", f"<summary>{html_text(summary)}</summary>", "", *body, "", "</details>", ""]


def _systems(report: PrReport) -> list[str]:
    diff = report.diff
    found = {s for per in diff.by_system.values() for s in per} | set(diff.derivations_to_build_by_system)
    found.discard("builtin")
    return sorted(found, key=lambda s: (not s.endswith("-linux"), s != "x86_64-linux", s))


def exact_section(report: PrReport) -> str:
    """The section only the exact mode has: the diff by output paths per system, what was added and removed,
    the edited packages' maintainers, the largest causes with why-chains, the root changes, the cross-check."""
    diff = report.diff
    out = ["### Exact diff (output paths evaluated by Nix)", ""]
    out += ["| jobset | system | rebuilt | added | removed |", "| --- | --- | ---: | ---: | ---: |"]
    for js in diff.jobsets:
        per = diff.by_system.get(js, {})
        for system in _systems(report):
            c = per.get(system)
            if c:
                out.append(
                    f"| {table_cell(js)} | {_code(system, True)} "
                    f"| {c['changed']:,} | {c['added']:,} | {c['removed']:,} |"
                )
        out.append(
            f"| **{table_cell(js)}** | all "
            f"| **{len(diff.changed.get(js, ())):,}** of {diff.jobs_total_head.get(js, 0):,} "
            f"| {len(diff.added.get(js, ())):,} | {len(diff.removed.get(js, ())):,} |"
        )
    out.append("")
    if report.maintainers:
        out += [f"**Maintainers of the edited packages:** {', '.join(_code(m) for m in report.maintainers)}", ""]
    if report.causes:
        out += ["**Largest causes:**", ""]
        for n, cause in enumerate(report.causes, 1):
            cause_root = cause.root
            out.append(
                f"{n}. {_code(root_label(cause_root.name, cause_root.base_name, cause_root.paired_by))} "
                f"({inline_text(cause_root.system)}) reaches {cause.jobs_reached:,} "
                f"rebuilt job{'s' if cause.jobs_reached != 1 else ''}; why {_code(cause.example_job)}:"
            )
            out.append(f"   {_code(cause.chain)}")
        out.append("")
    rows = ["| root change | system | paired by | jobs |", "| --- | --- | --- | --- |"]
    for r in sorted(diff.roots, key=lambda r: (not r.jobs, r.name, r.system))[:MAX_ROOTS]:
        rows.append(
            f"| {_code(root_label(r.name, r.base_name, r.paired_by), True)} | {table_cell(r.system)} | {table_cell(r.paired_by)} "
            f"| {', '.join(_code(j, True) for j in r.jobs) or '-'} |"
        )
    if len(diff.roots) > MAX_ROOTS:
        rows.append(f"| … {len(diff.roots) - MAX_ROOTS:,} more | | | |")
    out += _fold(f"{len(diff.roots):,} root changes (changed while none of their inputs did)", rows)
    for kind, jobs in (("added", diff.added), ("removed", diff.removed)):
        total = sum(len(v) for v in jobs.values())
        if not total:
            continue
        body = []
        for js in diff.jobsets:
            attrs = jobs.get(js, ())
            if attrs:
                more = f", … {len(attrs) - MAX_LISTED:,} more" if len(attrs) > MAX_LISTED else ""
                body.append(
                    f"- **{inline_text(js)}** ({len(attrs):,}): {', '.join(_code(a) for a in attrs[:MAX_LISTED])}{more}"
                )
        out += _fold(f"{total:,} {kind} job{'s' if total != 1 else ''}", body)
    est = diff.head_estimate
    if diff.agrees:
        out.append(
            f"**Cross-check:** the graph estimate from the {len(diff.roots):,} root changes gives exactly these "
            f"jobs and {est.derivations_to_build:,} derivations."
        )
    else:
        out.append("**Cross-check: the graph estimate from the root changes disagrees with Nix:**")
    out += [f"- {inline_text(f.message)}" for f in diff.findings if f.check == "head-check"]
    predicted = [f for f in diff.findings if f.check == "base-prediction"]
    if predicted:
        out += [
            "",
            *_fold(
                f"{len(predicted)} note{'s' if len(predicted) != 1 else ''} on what an estimate on the base "
                "would have predicted",
                [f"- {inline_text(f.message)}" for f in predicted],
            ),
        ]
    return "\n".join(out)


def pr_markdown(report: PrReport) -> str:
    """The comment text: the shared report (`impact.render.markdown`) with the exact section, within GitHub's limit."""
    return render_markdown(report.report, command=report.command, sections=[exact_section(report)])
