"""The pull-request comment (`impact pr` → report.md): the exact diff, branch, labels, causes, cross-check.

GitHub Markdown: a table per jobset and system, long lists folded in `<details>`, the hidden marker
(`impact.github.MARKER`) first so the bot finds its comment again, and the command that reproduces it last.
"""

from __future__ import annotations

from impact.analysis.pr import PrReport
from impact.github import COMMENT_LIMIT, MARKER
from impact.render.diff import root_label

#: Attributes listed per kind and jobset in the folded lists before the rest are only counted.
MAX_LISTED = 300
#: Root changes listed in their table.
MAX_ROOTS = 50


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def _fold(summary: str, body: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]


def _systems(report: PrReport) -> list[str]:
    diff = report.diff
    found = {s for per in diff.by_system.values() for s in per} | set(diff.derivations_to_build_by_system)
    found.discard("builtin")
    return sorted(found, key=lambda s: (not s.endswith("-linux"), s != "x86_64-linux", s))


def pr_markdown(report: PrReport) -> str:
    """The comment text, within GitHub's comment limit."""
    diff = report.diff
    out = [MARKER, "### impact: what this pull request rebuilds", "", f"{_code(diff.base_label)} → {_code(diff.head_label)}", ""]
    out += ["| jobset | system | rebuilt | added | removed |", "| --- | --- | ---: | ---: | ---: |"]
    for js in diff.jobsets:
        per = diff.by_system.get(js, {})
        for system in _systems(report):
            c = per.get(system)
            if c:
                out.append(f"| {js} | {system} | {c['changed']:,} | {c['added']:,} | {c['removed']:,} |")
        out.append(
            f"| **{js}** | all | **{len(diff.changed.get(js, ())):,}** of {diff.jobs_total_head.get(js, 0):,} "
            f"| {len(diff.added.get(js, ())):,} | {len(diff.removed.get(js, ())):,} |"
        )
    per_system = ", ".join(f"{s}: {n:,}" for s, n in sorted(diff.derivations_to_build_by_system.items()))
    out += ["", f"**{diff.derivations_to_build:,} derivations to build** ({per_system or 'none'})", ""]
    tests = report.diff.head_estimate.nixos_tests
    if tests:
        out += [f"**NixOS VM tests:** {len(tests):,} ({', '.join(_code(t) for t in tests[:10])}{', …' if len(tests) > 10 else ''})", ""]
    branch = report.branch
    out.append(f"**Branch:** {_code(branch.target)} (based on {_code(branch.base)})"
               + (f"; could also go to {', '.join(_code(a) for a in branch.alternatives)}" if branch.alternatives else ""))
    out += [f"- {r.text}" for r in branch.reasons]
    out += ["", f"**Labels:** {', '.join(_code(label) for label in report.labels) or 'none'}"]
    if report.maintainers:
        out += ["", f"**Maintainers of the edited packages:** {', '.join(_code(m) for m in report.maintainers)}"]
    out.append("")
    if report.causes:
        out += ["#### Largest causes", ""]
        for n, c in enumerate(report.causes, 1):
            r = c.root
            out.append(f"{n}. {_code(root_label(r.name, r.base_name, r.paired_by))} ({r.system}) reaches {c.jobs_reached:,} "
                       f"rebuilt job{'s' if c.jobs_reached != 1 else ''}; why {_code(c.example_job)}:")
            out.append(f"   {_code(c.chain)}")
        out.append("")
    rows = ["| root change | system | paired by | jobs |", "| --- | --- | --- | --- |"]
    for r in sorted(diff.roots, key=lambda r: (not r.jobs, r.name, r.system))[:MAX_ROOTS]:
        rows.append(f"| {_code(root_label(r.name, r.base_name, r.paired_by))} | {r.system} | {r.paired_by} | {', '.join(r.jobs) or '-'} |")
    if len(diff.roots) > MAX_ROOTS:
        rows.append(f"| … {len(diff.roots) - MAX_ROOTS:,} more | | | |")
    out += _fold(f"{len(diff.roots):,} root changes (changed while none of their inputs did)", rows)
    for kind, jobs in (("rebuilt", diff.changed), ("added", diff.added), ("removed", diff.removed)):
        total = sum(len(v) for v in jobs.values())
        if not total:
            continue
        body = []
        for js in diff.jobsets:
            attrs = jobs.get(js, ())
            if attrs:
                more = f", … {len(attrs) - MAX_LISTED:,} more" if len(attrs) > MAX_LISTED else ""
                body.append(f"- **{js}** ({len(attrs):,}): {', '.join(_code(a) for a in attrs[:MAX_LISTED])}{more}")
        out += _fold(f"{total:,} {kind} job{'s' if total != 1 else ''}", body)
    est = diff.head_estimate
    if diff.agrees:
        out.append(f"**Cross-check:** the graph estimate from the {len(diff.roots):,} root changes gives exactly these "
                   f"jobs and {est.derivations_to_build:,} derivations.")
    else:
        out.append("**Cross-check: the graph estimate from the root changes disagrees with Nix:**")
    notes = [f for f in diff.findings if f.check == "head-check"]
    out += [f"- {f.message}" for f in notes]
    predicted = [f for f in diff.findings if f.check == "base-prediction"]
    if predicted:
        out += ["", *_fold(f"{len(predicted)} note{'s' if len(predicted) != 1 else ''} on what an estimate on the base "
                            "would have predicted", [f"- {f.message}" for f in predicted])]
    else:
        out.append("")
    out += [f"<sub>Reproduce: {_code(report.command)}</sub>", ""]
    text = "\n".join(out)
    if len(text) > COMMENT_LIMIT:
        note = "\n\n> **Note:** cut to GitHub's comment limit; the whole report is report.md in the workflow run.\n"
        text = text[: COMMENT_LIMIT - len(note)] + note
    return text
