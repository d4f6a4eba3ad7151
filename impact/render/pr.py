"""The pull-request comment (`impact pr` → report.md), built from the exact diff.

Order, for a reviewer who reads the top only: the hidden marker, the title, any warning (a real cross-check
disagreement with its jobs, new evaluation errors, Hydra's verdict when it is not "ok", a cut), the reproducing
command, the headline table (the exact diff: rebuilt, added, removed, re-pointed, every-commit jobs per jobset
and system, and the derivations Hydra builds), labels, branch, maintainers of the edited packages, causes,
no-new-breakage, then the lists and the cross-check line.

Every list shows its first `SHOWN` entries and folds the rest into a closed `<details>` ("… and M more"), as
nixpkgs CI and nixpkgs-review do; the folded part is shortened until the whole comment fits GitHub's limit,
so every section appears. Every name that reaches the Markdown goes through `_name` (one place to escape).
"""

from __future__ import annotations

from collections.abc import Sequence

from impact.analysis.diff import SnapshotDiff
from impact.analysis.pr import Cause, PrReport, RepointCause
from impact.render.diff import root_label
from impact.render.escape import code_span, inline_text
from impact.render.hydra import hydra_markdown
from impact.render.markdown import GITHUB_COMMENT_LIMIT, MARKER, labels_and_branch

#: Entries of a list shown before the rest are folded.
SHOWN = 10
#: Entries of a folded remainder tried first, then fewer until the comment fits.
FOLDED_STEPS = (500, 200, 50, 10, 0)
#: Evaluation errors quoted at most this long.
ERROR_CHARS = 300


def _name(text: str) -> str:
    """A name (attribute, derivation, maintainer, system) as inline code: the one place names enter the comment,
    escaped (the evaluated tree, and so every name, is the pull request author's), safe in a table cell too."""
    return code_span(text, table=True)


def _plain(text: str) -> str:
    """Text that names packages in running prose (branch reasons, findings), escaped."""
    return inline_text(text)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _systems(diff: SnapshotDiff) -> list[str]:
    found = {s for per in diff.by_system.values() for s in per} | set(diff.derivations_to_build_by_system)
    found.discard("builtin")
    return sorted(found, key=lambda s: (not s.endswith("-linux"), s != "x86_64-linux", s))


def _jobsets(diff: SnapshotDiff) -> list[str]:
    """The jobsets, `nixpkgs` first."""
    return sorted(diff.jobsets, key=lambda js: (js != "nixpkgs", js))


def _count_by_system(diff: SnapshotDiff, jobset: str, attrs: Sequence[str]) -> dict[str, int]:
    systems = diff.job_systems.get(jobset, {})
    counts: dict[str, int] = {}
    for a in attrs:
        system = systems.get(a, a.rpartition(".")[2])
        counts[system] = counts.get(system, 0) + 1
    return counts


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def headline_table(report: PrReport) -> list[str]:
    """The exact diff per jobset and system: the changed jobs and how they split (rebuilt, re-pointed, every
    commit: no overlap, so they add up to the bold row), added and removed jobs (those that no longer evaluate
    apart); the derivations to build.

    GitHub drops a table cell's leading spaces, so a part says "of which" rather than relying on indentation."""
    diff = report.diff
    systems = list(report.systems) or _systems(diff)
    lines = [_row(["", *(_name(s) for s in systems), "total"]), _row(["---", *("---:" for _ in systems), "---:"])]

    def row(label: str, attrs: Sequence[str], total: str | None = None) -> None:
        per = _count_by_system(diff, js, attrs)
        lines.append(_row([label, *(f"{per[s]:,}" if s in per else "–" for s in systems), total or f"{len(attrs):,}"]))

    for js in _jobsets(diff):
        changed = diff.changed.get(js, ())
        row(f"**{_plain(js)} jobs changed**", changed, f"**{len(changed):,}** of {diff.jobs_total_head.get(js, 0):,}")
        repointed = {r.attr for r in diff.repointed if r.jobset == js}
        every = set(diff.every_commit_jobs.get(js, ()))
        rebuilt = diff.rebuilt(js)
        parts = [
            ("of which rebuilt", rebuilt),
            ("of the rebuilt: NixOS VM tests", [a for a in rebuilt if js == "nixos" and a.startswith("tests.")]),
            ("of which re-pointed (already built)", [a for a in changed if a in repointed]),
            ("of which change on every commit", [a for a in changed if a in every and a not in repointed]),
        ]
        added = diff.added.get(js, ())
        removed = diff.removed.get(js, ())
        failing = diff.removed_failing(js)
        parts += [
            (f"{_plain(js)} jobs added", added),
            ("of which re-pointed (already built)", [a for a in added if a in repointed]),
            ("of which change on every commit", [a for a in added if a in every and a not in repointed]),
            (f"{_plain(js)} jobs removed", removed),
            ("of which no longer evaluate", failing),
            ("of which gone without an evaluation error", [a for a in removed if a not in failing] if failing else ()),
        ]
        for label, attrs in parts:
            if attrs:
                row(label, attrs)
    lines.append(
        _row(
            [
                "**derivations to build**",
                *(
                    f"{diff.derivations_to_build_by_system[s]:,}" if s in diff.derivations_to_build_by_system else "–"
                    for s in systems
                ),
                f"**{diff.derivations_to_build:,}**",
            ]
        )
    )
    if diff.every_commit_derivations:
        lines.append(_row(["of which every commit", *("" for _ in systems), f"{diff.every_commit_derivations:,}"]))
    return lines


def _also(r: RepointCause, star: str = "") -> str:
    shown = [_name(a + star) for a in r.also[:3]]
    more = f" and {len(r.also) - 3:,} more" if len(r.also) > 3 else ""
    return f" (also {', '.join(shown)}{more})" if shown else ""


def _repoint_line(r: RepointCause) -> str:
    """`linux` now points to linux-4.6.2, built before as `linux_4_6`; or a whole set of attributes."""
    systems = ", ".join(r.systems)
    if not r.members:
        where = f"built before as {_name(r.base_prefix)}{_also(r)}" if r.base_prefix else "already built in the base"
        was = f" (was {_name(r.base_name)})" if r.base_name and r.base_name != r.name else ""
        new = "new attribute " if r.base_name is None else ""
        return f"{new}{_name(r.head_prefix)} now points to {_name(r.name)}, {where}{was} ({systems})"
    members = ", ".join(_name(m) for m in r.members[:8]) + (
        f" and {len(r.members) - 8:,} more" if len(r.members) > 8 else ""
    )
    return (
        f"{_name(r.head_prefix + '.*')} now points to {_name(r.base_prefix + '.*')}{_also(r, '.*')}, already built: "
        f"{_plural(len(r.members), 'attribute')} ({members}), {_plural(r.jobs, 'job')} on {systems}"
    )


def _cause_lines(n: int, cause: Cause) -> list[str]:
    root = cause.root
    if cause.swapped:
        what = (
            f"{_name(root.name)}: its inputs switched to derivations already built ({_plain(', '.join(cause.swapped))})"
        )
    elif cause.follows_repointing:
        what = f"{_name(root.name)} (follows the re-pointing: an input is now a derivation already built)"
    else:
        what = _name(root_label(root.name, root.base_name, root.paired_by))
    return [
        f"{n}. {what} ({_plain(root.system)}) reaches {_plural(cause.jobs_reached, 'rebuilt job')}; "
        f"why {_name(cause.example_job)}:",
        f"   {_name(cause.chain)}",
    ]


def capped(lines: Sequence[str], folded: int, unit: str = "") -> list[str]:
    """The first `SHOWN` lines, then the rest in a closed `<details>` of at most `folded` lines."""
    out = list(lines[:SHOWN])
    rest = list(lines[SHOWN:])
    if not rest:
        return out
    inner = rest[:folded]
    if len(rest) > folded:
        inner.append(f"- … and {len(rest) - folded:,} more{unit} (see report.json)")
    return [*out, "", "<details>", f"<summary>… and {len(rest):,} more</summary>", "", *inner, "", "</details>"]


def _listed(title: str, lines: Sequence[str], folded: int) -> list[str]:
    return [f"**{title}**", "", *capped(lines, folded), ""]


def _warnings(report: PrReport) -> list[str]:
    diff = report.diff
    found = []
    if not diff.agrees:
        found.append(
            "The graph estimate from the root changes disagrees with Nix's output paths (see the cross-check "
            "below): " + "; ".join(_plain(f.message) for f in diff.findings if f.check == "head-check")
        )
    if diff.new_eval_errors:
        jobs = sum(e.base_jobs for e in diff.new_eval_errors)
        found.append(
            f"{_plural(len(diff.new_eval_errors), 'attribute')} ({_plural(jobs, 'job')} in the base) no longer "
            "evaluate: see *No new breakage*."
        )
    if report.hydra and report.hydra.verdict != "ok":
        found.append(f"Hydra: {_plain(report.hydra.verdict_text)}")
    return found


def _warning_block(messages: Sequence[str]) -> list[str]:
    if not messages:
        return []
    return ["> [!WARNING]", *(f"> - {m}" for m in messages), ""]


def _breakage(report: PrReport, folded: int) -> list[str]:
    diff = report.diff
    out = ["### No new breakage?", ""]
    if diff.new_eval_errors:
        lines = []
        for e in diff.new_eval_errors:
            message = " ".join(e.error.split())
            if len(message) > ERROR_CHARS:
                message = message[:ERROR_CHARS] + "…"
            lines.append(f"- {e.jobset}: {_name(e.attr)} ({_plural(e.base_jobs, 'job')} in the base): {_name(message)}")
        out += _listed(
            f"{_plural(len(diff.new_eval_errors), 'attribute')} evaluated in the base and fail to evaluate here:",
            lines,
            folded,
        )
    else:
        out += ["Evaluation: every job the base evaluated still evaluates.", ""]
    gone = sum(len(diff.removed.get(js, ())) - len(diff.removed_failing(js)) for js in _jobsets(diff))
    if gone:
        out += [
            f"{_plural(gone, 'job')} of the base {'is' if gone == 1 else 'are'} gone without an evaluation error: "
            "the release file no longer lists them (a package removed, or one whose platforms no longer evaluate, "
            "which release.nix drops silently); see *Lists*.",
            "",
        ]
    if report.hydra:
        out += [hydra_markdown(report.hydra, heading="####").rstrip("\n"), ""]
    return out


def _lists(report: PrReport, folded: int) -> list[str]:
    diff = report.diff
    labels = report.rebuild_labels
    out: list[str] = []
    for platform, names in labels.rebuilds_by_platform.items():
        out += _listed(
            f"{_plural(len(names), 'package')} rebuilt on {platform} (as nixpkgs CI counts):",
            [f"- {_name(n)}" for n in names],
            folded,
        )
    for js in _jobsets(diff):
        if js == "nixpkgs":
            continue
        rebuilt = diff.rebuilt(js)
        if rebuilt:
            out += _listed(
                f"{_plural(len(rebuilt), 'job')} of the {_plain(js)} jobset rebuilt:",
                [f"- {_name(a)}" for a in rebuilt],
                folded,
            )
    failing = {(js, a) for js in _jobsets(diff) for a in diff.removed_failing(js)}
    for title, keys in (
        ("added:", [(js, a) for js in _jobsets(diff) for a in diff.added.get(js, ())]),
        (
            "removed without an evaluation error:" if failing else "removed:",
            [(js, a) for js in _jobsets(diff) for a in diff.removed.get(js, ()) if (js, a) not in failing],
        ),
        ("removed that no longer evaluate (see *No new breakage*):", sorted(failing)),
    ):
        if keys:
            items = [f"- {_plain(js)}: {_name(a)}" for js, a in keys]
            out += _listed(f"{_plural(len(items), 'job')} {title}", items, folded)
    if diff.repointed:
        items = [
            f"- {_plain(r.jobset)}: {_name(r.attr)} → {_name(r.name)}"
            + (f" (before: {', '.join(_name(b) for b in r.before)})" if r.before else "")
            for r in diff.repointed
        ]
        out += _listed(
            f"{_plural(len(items), 'job')} re-pointed to derivations already built (nothing to build):", items, folded
        )
    every = [f"- {_plain(js)}: {_name(a)}" for js in _jobsets(diff) for a in diff.every_commit_jobs.get(js, ())]
    if every:
        out += _listed(
            f"{_plural(len(every), 'job')} that {'changes' if len(every) == 1 else 'change'} on every commit "
            "(they embed the nixpkgs source tree; not caused by this change):",
            every,
            folded,
        )

    def root_kind(path: str) -> int:
        return 2 if path in diff.every_commit_roots else 1 if path in report.follows else 0

    note = ("", " — follows the re-pointing", " — every commit")
    roots = [
        f"- {_name(r.name if root_kind(r.path) else root_label(r.name, r.base_name, r.paired_by))} "
        f"({_plain(r.system)}{'' if r.base_path is None else ', paired by ' + r.paired_by}){note[root_kind(r.path)]}"
        for r in sorted(diff.roots, key=lambda r: (root_kind(r.path), r.name, r.system))
    ]
    if roots:
        out += _listed(f"{_plural(len(roots), 'root change')} (changed while none of their inputs did):", roots, folded)
    return out


def _cross_check(report: PrReport) -> list[str]:
    diff = report.diff
    est = diff.head_estimate
    repointed = len(diff.repointed)
    accounted = (
        f"; the {_plural(repointed, 'job')} re-pointed to derivations already built need no build, so the "
        "estimate rightly leaves them out"
        if repointed
        else ""
    )
    if diff.agrees:
        out = [
            f"**Cross-check:** the graph estimate from the {_plural(len(diff.roots), 'root change')} reaches exactly "
            f"the derivations with new output paths and the same "
            f"{_plural(est.changed_job_count, 'changed job')}{accounted}."
        ]
    else:
        out = ["**Cross-check: the graph estimate from the root changes disagrees with Nix:**"]
        out += [f"- {_plain(f.message)}" for f in diff.findings if f.check == "head-check"]
    predicted = [f for f in diff.findings if f.check == "base-prediction"]
    if predicted:
        out += [
            "",
            "<details>",
            f"<summary>{_plural(len(predicted), 'note')} on what an estimate on the base would have "
            "predicted</summary>",
            "",
            *(f"- {_plain(f.message)}" for f in predicted),
            "",
            "</details>",
        ]
    return out


def _body(report: PrReport, folded: int, cut: bool) -> str:
    diff = report.diff
    labels = report.rebuild_labels
    branch = report.branch
    warnings = _warnings(report)
    if cut:
        warnings.append("Lists were shortened to fit GitHub's comment limit; report.json has them all.")
    out = [MARKER, f"## impact: {_name(diff.base_label)} → {_name(diff.head_label)}", ""]
    out += _warning_block(warnings)
    out += ["Reproduce with:", "", "```sh", report.command, "```", ""]
    out += ["### Rebuilds (output paths evaluated by Nix)", "", *headline_table(report), ""]
    counts = labels.rebuild_count_by_kernel
    if counts:
        out += [
            "Packages rebuilt (unique attributes of the `nixpkgs` jobset, as nixpkgs CI counts them): "
            + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
            "",
        ]
    out += labels_and_branch(labels.active, branch)
    if report.maintainers:
        people = list(dict.fromkeys(m.split(" <")[0] for m in report.maintainers))
        out += ["**Maintainers of the edited packages:** " + ", ".join(_name(m) for m in people), ""]
    causes: list[str] = []
    n = 0
    for r in report.repointings:
        n += 1
        causes.append(f"{n}. {_repoint_line(r)}")
    for cause in report.causes:
        n += 1
        causes += _cause_lines(n, cause)
    if causes:
        out += ["### Causes", "", *causes, ""]
    out += _breakage(report, folded)
    out += ["### Lists", "", *_lists(report, folded)]
    out += _cross_check(report)
    return "\n".join(out).rstrip("\n") + "\n"


def pr_markdown(report: PrReport, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The comment text, at most `limit` characters: the folded parts of lists shrink until it fits."""
    text = ""
    for step, folded in enumerate(FOLDED_STEPS):
        text = _body(report, folded, cut=step > 0)
        if len(text) <= limit:
            return text
    return _hard_cut(text, limit)


def _hard_cut(text: str, limit: int) -> str:
    """Last resort (enormous warnings): cut at a line and say so."""
    tail = "\n\n> [!WARNING]\n> Cut to GitHub's comment limit; report.json has everything.\n"
    keep = text[: limit - len(tail)]
    return keep[: keep.rfind("\n") + 1].rstrip("\n") + tail


def pr_summary(report: PrReport) -> str:
    """One line for the terminal: the exact counts, derivations, branch, labels, cross-check, Hydra."""
    d = report.diff
    return (
        ", ".join(f"{len(d.changed.get(js, ())):,} {js} jobs changed" for js in d.jobsets)
        + f", {d.derivations_to_build:,} derivations to build; branch {report.branch.target}; "
        + f"labels: {', '.join(report.labels) or 'none'}; cross-check {'agrees' if d.agrees else 'DISAGREES'}"
        + (f"; Hydra: {report.hydra.verdict}" if report.hydra else "")
    )
