"""The pull-request comment (`impact pr` → report.md), built from the exact diff.

Order, for a reviewer who reads the top only: the hidden marker, the title, any warning (a real cross-check
disagreement with its jobs, new evaluation errors, Hydra's verdict when it is not "ok", a cut), the reproducing
command, the headline table (the exact diff per jobset and system: the changed jobs and their parts — rebuilt,
re-pointed, every commit —, added jobs, removed jobs with those that no longer evaluate apart, and the
derivations Hydra builds), labels, branch, maintainers of the edited packages, causes,
no-new-breakage, then the lists and the cross-check line.

Two steps: `pr_comment` takes from the report what the comment says, as data (`impact.loaders.pr_report`:
the lists' first entries and their counts, the numbers the labels follow from), and `comment_markdown` writes
it. `impact pr` keeps the data in report.json, and `impact post` renders the comment from it again in the job
that posts: it never posts Markdown it was handed, and labels are computed from the numbers, never read.

Every list shows its first `SHOWN` entries and folds the rest into a closed `<details>` ("… and M more"), as
nixpkgs CI and nixpkgs-review do; the folded part is shortened until the whole comment fits GitHub's limit,
so every section appears. Every string from the evaluation goes through `_name` (a code span) or `_plain`
(escaped text, links and mentions broken): the evaluated tree, and so every name, is the pull request
author's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from impact.analysis.diff import SnapshotDiff
from impact.analysis.labels import KERNELS, NIXOS_TESTS_LABEL, labels_from_facts, stdenv_label
from impact.analysis.pr import Cause, PrReport, RepointCause
from impact.loaders.pr_report import (
    MAX_LISTED,
    CauseLine,
    EvalErrorLine,
    HeadlineRow,
    JobRef,
    LabelFacts,
    NamedList,
    PrComment,
    RepointedJob,
    RepointLine,
    RootLine,
    RowKind,
)
from impact.render.diff import root_label
from impact.render.escape import code_block, code_span, inline_text, one_line
from impact.render.hydra import hydra_markdown, hydra_section, verdict, verdict_text
from impact.render.markdown import GITHUB_COMMENT_LIMIT, MARKER, branch_of, labels_and_branch

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


# -- what the comment says -------------------------------------------------------------------------------------


def _rows(report: PrReport) -> tuple[HeadlineRow, ...]:
    """The headline rows per jobset: the changed jobs and their parts (rebuilt, re-pointed, every commit: no
    overlap, so they add up to the changed), the added jobs and the removed (those that no longer evaluate apart);
    a part with no job is left out."""
    diff = report.diff
    rows = []
    for js in _jobsets(diff):
        changed = diff.changed.get(js, ())
        rows.append(
            HeadlineRow(
                "changed", js, _count_by_system(diff, js, changed), len(changed), diff.jobs_total_head.get(js, 0)
            )
        )
        repointed = {r.attr for r in diff.repointed if r.jobset == js}
        every = set(diff.every_commit_jobs.get(js, ()))
        rebuilt = diff.rebuilt(js)
        added = diff.added.get(js, ())
        removed = diff.removed.get(js, ())
        failing = diff.removed_failing(js)
        parts: list[tuple[RowKind, Sequence[str]]] = [
            ("rebuilt", rebuilt),
            ("tests", [a for a in rebuilt if js == "nixos" and a.startswith("tests.")]),
            ("changed_repointed", [a for a in changed if a in repointed]),
            ("changed_every_commit", [a for a in changed if a in every and a not in repointed]),
            ("added", added),
            ("added_repointed", [a for a in added if a in repointed]),
            ("added_every_commit", [a for a in added if a in every and a not in repointed]),
            ("removed", removed),
            ("removed_failing", failing),
            ("removed_gone", [a for a in removed if a not in failing] if failing else ()),
        ]
        rows += [HeadlineRow(kind, js, _count_by_system(diff, js, attrs), len(attrs)) for kind, attrs in parts if attrs]
    return tuple(rows)


def _repoint_line(r: RepointCause) -> RepointLine:
    return RepointLine(
        jobset=r.jobset,
        head_prefix=r.head_prefix,
        base_prefix=r.base_prefix,
        also=r.also[:MAX_LISTED],
        members=r.members[:MAX_LISTED],
        members_total=len(r.members),
        name=r.name,
        base_name=r.base_name,
        systems=r.systems[:MAX_LISTED],
        jobs=r.jobs,
    )


def _cause_line(cause: Cause) -> CauseLine:
    root = cause.root
    return CauseLine(
        name=root.name,
        base_name=root.base_name,
        paired_by=root.paired_by,  # type: ignore[arg-type]
        system=root.system,
        swapped=cause.swapped[:MAX_LISTED],
        follows_repointing=cause.follows_repointing,
        jobs_reached=cause.jobs_reached,
        example_job=cause.example_job,
        chain=cause.chain,
    )


def _label_facts(report: PrReport) -> LabelFacts:
    labels = report.rebuild_labels
    counts = labels.rebuild_count_by_kernel
    stdenv = tuple(k for k in KERNELS if k in counts and labels.labels.get(stdenv_label(k)))
    return LabelFacts(dict(counts), stdenv, bool(labels.labels.get(NIXOS_TESTS_LABEL)))


def pr_comment(report: PrReport) -> PrComment:
    """What the comment on `report` says, as data: the first `MAX_LISTED` entries of each list and its count."""
    diff = report.diff
    labels = report.rebuild_labels
    jobsets = _jobsets(diff)

    def kind(path: str) -> str:
        return "every_commit" if path in diff.every_commit_roots else "follows" if path in report.follows else "edited"

    order = {"edited": 0, "follows": 1, "every_commit": 2}
    roots = sorted(diff.roots, key=lambda r: (order[kind(r.path)], r.name, r.system))
    added = [JobRef(js, a) for js in jobsets for a in diff.added.get(js, ())]
    failing = sorted((js, a) for js in jobsets for a in diff.removed_failing(js))
    failed = set(failing)
    gone = [JobRef(js, a) for js in jobsets for a in diff.removed.get(js, ()) if (js, a) not in failed]
    every = [JobRef(js, a) for js in jobsets for a in diff.every_commit_jobs.get(js, ())]
    others = [(js, diff.rebuilt(js)) for js in jobsets if js != "nixpkgs"]
    return PrComment(
        base_label=diff.base_label,
        head_label=diff.head_label,
        command=report.command,
        systems=tuple(report.systems) or tuple(_systems(diff)),
        rows=_rows(report),
        derivations_by_system=dict(diff.derivations_to_build_by_system),
        derivations=diff.derivations_to_build,
        every_commit_derivations=diff.every_commit_derivations,
        labels=_label_facts(report),
        branch=branch_of(report.branch),
        maintainers=tuple(dict.fromkeys(m.split(" <")[0] for m in report.maintainers))[:MAX_LISTED],
        repointings=tuple(_repoint_line(r) for r in report.repointings[:MAX_LISTED]),
        causes=tuple(_cause_line(c) for c in report.causes),
        agrees=diff.agrees,
        head_check=tuple(f.message for f in diff.findings if f.check == "head-check")[:MAX_LISTED],
        base_prediction=tuple(f.message for f in diff.findings if f.check == "base-prediction")[:MAX_LISTED],
        new_eval_errors=tuple(
            EvalErrorLine(e.jobset, e.attr, e.error, e.base_jobs) for e in diff.new_eval_errors[:MAX_LISTED]
        ),
        new_eval_errors_total=len(diff.new_eval_errors),
        new_eval_error_jobs=sum(e.base_jobs for e in diff.new_eval_errors),
        hydra=hydra_section(report.hydra) if report.hydra else None,
        platforms=tuple(
            NamedList(p, names[:MAX_LISTED], len(names)) for p, names in labels.rebuilds_by_platform.items()
        ),
        jobsets=tuple(NamedList(js, rebuilt[:MAX_LISTED], len(rebuilt)) for js, rebuilt in others if rebuilt),
        added=tuple(added[:MAX_LISTED]),
        added_total=len(added),
        removed_gone=tuple(gone[:MAX_LISTED]),
        removed_gone_total=len(gone),
        removed_failing=tuple(JobRef(js, a) for js, a in failing[:MAX_LISTED]),
        removed_failing_total=len(failing),
        repointed=tuple(
            RepointedJob(r.jobset, r.attr, r.name, r.before[:MAX_LISTED]) for r in diff.repointed[:MAX_LISTED]
        ),
        repointed_total=len(diff.repointed),
        every_commit=tuple(every[:MAX_LISTED]),
        every_commit_total=len(every),
        roots=tuple(RootLine(r.name, r.base_name, r.paired_by, r.system, kind(r.path)) for r in roots[:MAX_LISTED]),  # type: ignore[arg-type]
        roots_total=len(roots),
        estimate_changed_jobs=diff.head_estimate.changed_job_count,
        evaluated=report.evaluated,
    )


def pr_files(report: PrReport) -> tuple[str, dict[str, Any]]:
    """What `impact pr` writes: report.md's text, and report.json's data with the comment's own under `comment`."""
    comment = pr_comment(report)
    return comment_markdown(comment), {**report.to_dict(), "comment": comment.to_dict()}


def pr_markdown(report: PrReport, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The comment text of `report`, at most `limit` characters."""
    return comment_markdown(pr_comment(report), limit)


def comment_labels(comment: PrComment) -> tuple[str, ...]:
    """The labels the comment's numbers earn (never one the code could not set)."""
    facts = comment.labels
    return labels_from_facts(facts.counts, facts.stdenv, facts.nixos_tests)


# -- writing it --------------------------------------------------------------------------------------------------


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _row_label(r: HeadlineRow) -> str:
    """A row's label. GitHub drops a table cell's leading spaces, so a part says "of which" rather than
    relying on indentation."""
    parts = {
        "rebuilt": "of which rebuilt",
        "tests": "of the rebuilt: NixOS VM tests",
        "changed_repointed": "of which re-pointed (already built)",
        "changed_every_commit": "of which change on every commit",
        "added": f"{_plain(r.jobset)} jobs added",
        "added_repointed": "of which re-pointed (already built)",
        "added_every_commit": "of which change on every commit",
        "removed": f"{_plain(r.jobset)} jobs removed",
        "removed_failing": "of which no longer evaluate",
        "removed_gone": "of which gone without an evaluation error",
    }
    return f"**{_plain(r.jobset)} jobs changed**" if r.kind == "changed" else parts[r.kind]


def headline_table(c: PrComment) -> list[str]:
    """The exact diff per jobset and system: the changed jobs and how they split (rebuilt, re-pointed, every
    commit: no overlap, so they add up to the bold row), added and removed jobs (those that no longer evaluate
    apart); the derivations to build."""
    systems = list(c.systems)
    lines = [_row(["", *(_name(s) for s in systems), "total"]), _row(["---", *("---:" for _ in systems), "---:"])]
    for r in c.rows:
        total = f"**{r.total:,}** of {r.of or 0:,}" if r.kind == "changed" else f"{r.total:,}"
        lines.append(
            _row([_row_label(r), *(f"{r.per_system[s]:,}" if s in r.per_system else "–" for s in systems), total])
        )
    per = c.derivations_by_system
    lines.append(
        _row(
            [
                "**derivations to build**",
                *(f"{per[s]:,}" if s in per else "–" for s in systems),
                f"**{c.derivations:,}**",
            ]
        )
    )
    if c.every_commit_derivations:
        lines.append(_row(["of which every commit", *("" for _ in systems), f"{c.every_commit_derivations:,}"]))
    return lines


def _also(r: RepointLine, star: str = "") -> str:
    shown = [_name(a + star) for a in r.also[:3]]
    more = f" and {len(r.also) - 3:,} more" if len(r.also) > 3 else ""
    return f" (also {', '.join(shown)}{more})" if shown else ""


def _repoint_text(r: RepointLine) -> str:
    """`linux` now points to linux-4.6.2, built before as `linux_4_6`; or a whole set of attributes."""
    systems = ", ".join(_plain(s) for s in r.systems)
    if not r.members:
        where = f"built before as {_name(r.base_prefix)}{_also(r)}" if r.base_prefix else "already built in the base"
        was = f" (was {_name(r.base_name)})" if r.base_name and r.base_name != r.name else ""
        new = "new attribute " if r.base_name is None else ""
        return f"{new}{_name(r.head_prefix)} now points to {_name(r.name)}, {where}{was} ({systems})"
    members = ", ".join(_name(m) for m in r.members[:8]) + (
        f" and {r.members_total - 8:,} more" if r.members_total > 8 else ""
    )
    return (
        f"{_name(r.head_prefix + '.*')} now points to {_name(r.base_prefix + '.*')}{_also(r, '.*')}, already built: "
        f"{_plural(r.members_total, 'attribute')} ({members}), {_plural(r.jobs, 'job')} on {systems}"
    )


def _cause_lines(n: int, cause: CauseLine) -> list[str]:
    if cause.swapped:
        swapped = _plain(", ".join(cause.swapped))
        what = f"{_name(cause.name)}: its inputs switched to derivations already built ({swapped})"
    elif cause.follows_repointing:
        what = f"{_name(cause.name)} (follows the re-pointing: an input is now a derivation already built)"
    else:
        what = _name(root_label(cause.name, cause.base_name, cause.paired_by))
    return [
        f"{n}. {what} ({_plain(cause.system)}) reaches {_plural(cause.jobs_reached, 'rebuilt job')}; "
        f"why {_name(cause.example_job)}:",
        f"   {_name(cause.chain)}",
    ]


def capped(lines: Sequence[str], folded: int, unit: str = "", total: int | None = None) -> list[str]:
    """The first `SHOWN` lines, then the rest in a closed `<details>` of at most `folded` lines; `total` is how many
    there are when `lines` holds only the first of them."""
    count = len(lines) if total is None else total
    out = list(lines[:SHOWN])
    rest = count - len(out)
    if rest <= 0:
        return out
    inner = list(lines[SHOWN : SHOWN + folded])
    if rest > folded:
        inner.append(f"- … and {rest - folded:,} more{unit} (see report.json)")
    return [*out, "", "<details>", f"<summary>… and {rest:,} more</summary>", "", *inner, "", "</details>"]


def _listed(title: str, lines: Sequence[str], folded: int, total: int | None = None) -> list[str]:
    return [f"**{title}**", "", *capped(lines, folded, total=total), ""]


def _evaluated(c: PrComment) -> list[str]:
    """How the sides were evaluated, when it was not simply both in full."""
    e = c.evaluated
    if e.method == "git":
        return [
            f"HEAD's evaluation is BASE's with the jobs the change can move evaluated by Nix in HEAD "
            f"({_plural(e.head_jobs, 'job')}): the git change was answered exactly (`impact estimate --git`).",
            "",
        ]
    if e.not_exact:
        shown = "; ".join(_plain(r) for r in e.not_exact[:3]) + ("; …" if len(e.not_exact) > 3 else "")
        return [f"Both sides were evaluated in full: the git change could not be answered exactly ({shown}).", ""]
    return []


def _warnings(c: PrComment) -> list[str]:
    found = []
    if not c.agrees:
        found.append(
            "The graph estimate from the root changes disagrees with Nix's output paths (see the cross-check "
            "below): " + "; ".join(_plain(m) for m in c.head_check)
        )
    if c.new_eval_errors_total:
        found.append(
            f"{_plural(c.new_eval_errors_total, 'attribute')} ({_plural(c.new_eval_error_jobs, 'job')} in the base) "
            "no longer evaluate: see *No new breakage*."
        )
    if c.hydra and verdict(c.hydra) != "ok":
        found.append(f"Hydra: {_plain(verdict_text(c.hydra))}")
    return found


def _warning_block(messages: Sequence[str]) -> list[str]:
    if not messages:
        return []
    return ["> [!WARNING]", *(f"> - {m}" for m in messages), ""]


def _breakage(c: PrComment, folded: int) -> list[str]:
    out = ["### No new breakage?", ""]
    if c.new_eval_errors_total:
        lines = []
        for e in c.new_eval_errors:
            message = " ".join(e.error.split())
            if len(message) > ERROR_CHARS:
                message = message[:ERROR_CHARS] + "…"
            lines.append(
                f"- {_plain(e.jobset)}: {_name(e.attr)} ({_plural(e.base_jobs, 'job')} in the base): {_name(message)}"
            )
        out += _listed(
            f"{_plural(c.new_eval_errors_total, 'attribute')} evaluated in the base and fail to evaluate here:",
            lines,
            folded,
            c.new_eval_errors_total,
        )
    else:
        out += ["Evaluation: every job the base evaluated still evaluates.", ""]
    if c.removed_gone_total:
        gone = c.removed_gone_total
        out += [
            f"{_plural(gone, 'job')} of the base {'is' if gone == 1 else 'are'} gone without an evaluation error: "
            "the release file no longer lists them (a package removed, or one whose platforms no longer evaluate, "
            "which release.nix drops silently); see *Lists*.",
            "",
        ]
    if c.hydra:
        out += [hydra_markdown(c.hydra, heading="####").rstrip("\n"), ""]
    return out


def _lists(c: PrComment, folded: int) -> list[str]:
    out: list[str] = []
    for platform in c.platforms:
        out += _listed(
            f"{_plural(platform.total, 'package')} rebuilt on {_plain(platform.name)} (as nixpkgs CI counts):",
            [f"- {_name(n)}" for n in platform.items],
            folded,
            platform.total,
        )
    for jobset in c.jobsets:
        out += _listed(
            f"{_plural(jobset.total, 'job')} of the {_plain(jobset.name)} jobset rebuilt:",
            [f"- {_name(a)}" for a in jobset.items],
            folded,
            jobset.total,
        )
    for title, jobs, total in (
        ("added:", c.added, c.added_total),
        (
            "removed without an evaluation error:" if c.removed_failing_total else "removed:",
            c.removed_gone,
            c.removed_gone_total,
        ),
        ("removed that no longer evaluate (see *No new breakage*):", c.removed_failing, c.removed_failing_total),
    ):
        if total:
            items = [f"- {_plain(j.jobset)}: {_name(j.attr)}" for j in jobs]
            out += _listed(f"{_plural(total, 'job')} {title}", items, folded, total)
    if c.repointed_total:
        items = [
            f"- {_plain(r.jobset)}: {_name(r.attr)} → {_name(r.name)}"
            + (f" (before: {', '.join(_name(b) for b in r.before)})" if r.before else "")
            for r in c.repointed
        ]
        out += _listed(
            f"{_plural(c.repointed_total, 'job')} re-pointed to derivations already built (nothing to build):",
            items,
            folded,
            c.repointed_total,
        )
    if c.every_commit_total:
        out += _listed(
            f"{_plural(c.every_commit_total, 'job')} that {'changes' if c.every_commit_total == 1 else 'change'} on "
            "every commit (they embed the nixpkgs source tree; not caused by this change):",
            [f"- {_plain(j.jobset)}: {_name(j.attr)}" for j in c.every_commit],
            folded,
            c.every_commit_total,
        )
    note = {"edited": "", "follows": " — follows the re-pointing", "every_commit": " — every commit"}
    roots = [
        f"- {_name(r.name if r.kind != 'edited' else root_label(r.name, r.base_name, r.paired_by))} "
        f"({_plain(r.system)}{'' if r.paired_by == 'new' else ', paired by ' + r.paired_by}){note[r.kind]}"
        for r in c.roots
    ]
    if c.roots_total:
        out += _listed(
            f"{_plural(c.roots_total, 'root change')} (changed while none of their inputs did):",
            roots,
            folded,
            c.roots_total,
        )
    return out


def _cross_check(c: PrComment) -> list[str]:
    accounted = (
        f"; the {_plural(c.repointed_total, 'job')} re-pointed to derivations already built need no build, so the "
        "estimate rightly leaves them out"
        if c.repointed_total
        else ""
    )
    if c.agrees:
        out = [
            f"**Cross-check:** the graph estimate from the {_plural(c.roots_total, 'root change')} reaches exactly "
            f"the derivations with new output paths and the same "
            f"{_plural(c.estimate_changed_jobs, 'changed job')}{accounted}."
        ]
    else:
        out = ["**Cross-check: the graph estimate from the root changes disagrees with Nix:**"]
        out += [f"- {_plain(m)}" for m in c.head_check]
    if c.base_prediction:
        out += [
            "",
            "<details>",
            f"<summary>{_plural(len(c.base_prediction), 'note')} on what an estimate on the base would have "
            "predicted</summary>",
            "",
            *(f"- {_plain(m)}" for m in c.base_prediction),
            "",
            "</details>",
        ]
    return out


def _body(c: PrComment, folded: int, cut: bool) -> str:
    warnings = _warnings(c)
    if cut:
        warnings.append("Lists were shortened to fit GitHub's comment limit; report.json has them all.")
    out = [MARKER, f"## impact: {_name(c.base_label)} → {_name(c.head_label)}", ""]
    out += _warning_block(warnings)
    out += ["Reproduce with:", "", code_block(one_line(c.command), "sh"), ""]
    out += _evaluated(c)
    out += ["### Rebuilds (output paths evaluated by Nix)", "", *headline_table(c), ""]
    if c.labels.counts:
        out += [
            "Packages rebuilt (unique attributes of the `nixpkgs` jobset, as nixpkgs CI counts them): "
            + ", ".join(f"{_plain(k)} {v:,}" for k, v in c.labels.counts.items()),
            "",
        ]
    out += labels_and_branch(comment_labels(c), c.branch)
    if c.maintainers:
        out += ["**Maintainers of the edited packages:** " + ", ".join(_name(m) for m in c.maintainers), ""]
    causes: list[str] = []
    n = 0
    for r in c.repointings:
        n += 1
        causes.append(f"{n}. {_repoint_text(r)}")
    for cause in c.causes:
        n += 1
        causes += _cause_lines(n, cause)
    if causes:
        out += ["### Causes", "", *causes, ""]
    out += _breakage(c, folded)
    out += ["### Lists", "", *_lists(c, folded)]
    out += _cross_check(c)
    return "\n".join(out).rstrip("\n") + "\n"


def comment_markdown(comment: PrComment, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The comment text, at most `limit` characters: the folded parts of lists shrink until it fits."""
    text = ""
    for step, folded in enumerate(FOLDED_STEPS):
        text = _body(comment, folded, cut=step > 0)
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
