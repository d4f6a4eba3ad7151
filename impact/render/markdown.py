"""`--format markdown`: the body of a pull-request comment.

`render_markdown(report, command=...)` is a pure function of a `Report` (estimate, labels, branch advice,
maintainers) and the command that reproduces it; the PR bot posts what it returns. The body starts with a
hidden marker (`<!-- impact-report -->`) so a bot can find and update its own sticky comment, then a header,
the reproducing command, the counts per system, the labels, the branch with its reasons, the maintainers and
`<details>` lists of the rebuilt packages, sorted. GitHub refuses a comment longer than 65,536 characters:
each list shows at most `LIST_STEPS[0]` names and then "… and M more", fewer (down to `LIST_STEPS[-1]`) until
the whole body fits, so every section appears; a warning at the top says when lists were shortened. Only a
body whose fixed part alone is too long is cut at a line, its open `<details>` closed, with the same warning.
"""

from __future__ import annotations

from collections.abc import Sequence

from impact.analysis.policy import BranchAdvice
from impact.analysis.report import Report
from impact.loaders.pr_report import Branch
from impact.render.escape import code_block, code_span, html_text, inline_text, one_line, table_cell

#: The first line of every report: a bot finds its sticky comment by it.
MARKER = "<!-- impact-report -->"
#: GitHub's limit on a comment body, in characters.
GITHUB_COMMENT_LIMIT = 65_536
#: Maintainers listed by name; the rest are counted.
MAX_MAINTAINERS = 10
#: The note that ends a cut report.
CUT_NOTE = (
    "> [!WARNING]\n"
    "> This report was cut to GitHub's {limit:,}-character limit; run the command above for the whole of it."
)
#: The warning at the top of a report whose lists were shortened.
SHORTENED_NOTE = (
    "> [!WARNING]\n"
    "> Lists are shortened to fit GitHub's {limit:,}-character limit; run the command below for all of them."
)
#: Names listed per list, tried in turn until the body fits.
LIST_STEPS = (2000, 500, 100, 20)


def _system_order(system: str) -> tuple[bool, bool, str]:
    return (not system.endswith("-linux"), system != "x86_64-linux", system)


def _systems(report: Report) -> list[str]:
    found = set(report.estimate.derivations_to_build_by_system)
    for per in report.estimate.changed_jobs_by_system.values():
        found.update(per)
    found.discard("builtin")
    return sorted(found, key=_system_order)


def _n(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def counts_table(report: Report) -> list[str]:
    """The counts per system as a Markdown table."""
    result = report.estimate
    systems = _systems(report)
    lines = [
        _row(["", *(code_span(s, table=True) for s in systems), "total"]),
        _row(["---", *("---:" for _ in systems), "---:"]),
    ]
    for jobset, attrs in result.changed_jobs.items():
        per = result.changed_jobs_by_system.get(jobset, {})
        total = result.jobs_total.get(jobset, 0)
        lines.append(
            _row([f"{table_cell(jobset)} jobs", *(_n(per.get(s)) for s in systems), f"{len(attrs):,} of {total:,}"])
        )
        if jobset == "nixos" and attrs:
            lines.append(_row(["  NixOS VM tests", *("" for _ in systems), f"{len(result.nixos_tests):,}"]))
        every = len(result.every_commit_jobs.get(jobset, ()))
        if every:
            lines.append(_row(["  change on every commit", *("" for _ in systems), f"{every:,}"]))
    lines.append(
        _row(
            [
                "**derivations to build**",
                *(_n(result.derivations_to_build_by_system.get(s)) for s in systems),
                f"**{result.derivations_to_build:,}**",
            ]
        )
    )
    if result.every_commit_derivations:
        lines.append(_row(["  of which every commit", *("" for _ in systems), f"{result.every_commit_derivations:,}"]))
    if result.rebuilt_not_built:
        lines.append(
            _row(
                [
                    "  new output paths, not built (only feed fixed-output derivations)",
                    *(_n(result.rebuilt_not_built_by_system.get(s)) for s in systems),
                    f"{result.rebuilt_not_built:,}",
                ]
            )
        )
    return lines


def _name(text: str) -> str:
    """A name as inline code: with `_plain`, the one place names enter this Markdown (escaped: a name comes
    from the evaluated tree, which a pull request's author controls)."""
    return code_span(text)


def _plain(text: str) -> str:
    """A name in running text (a maintainer, a reason naming packages), escaped."""
    return inline_text(text)


def _details(summary: str, items: Sequence[str], cap: int | None = None) -> list[str]:
    shown = items if cap is None else items[:cap]
    more = [f"- … and {len(items) - len(shown):,} more"] if len(shown) < len(items) else []
    return [
        "<details>",
        f"<summary>{html_text(summary)}</summary>",
        "",
        *(f"- {_name(i)}" for i in shown),
        *more,
        "",
        "</details>",
        "",
    ]


def branch_of(advice: BranchAdvice) -> Branch:
    """What a comment says of the branch advice."""
    return Branch(advice.target, advice.base, advice.policy, advice.alternatives, tuple(r.text for r in advice.reasons))


def labels_and_branch(labels: Sequence[str], branch: Branch | BranchAdvice) -> list[str]:
    """The **Labels:** and **Branch:** lines with the branch's reasons: the same in every comment."""
    branch = branch if isinstance(branch, Branch) else branch_of(branch)
    alternatives = f"; alternatives: {', '.join(_name(a) for a in branch.alternatives)}" if branch.alternatives else ""
    return [
        "**Labels:** " + (" ".join(_name(label) for label in labels) or "none"),
        "",
        f"**Branch:** {_name(branch.target)} (base {_name(branch.base)}, {_plain(branch.policy)} rules{alternatives})",
        "",
        *(f"- {_plain(reason)}" for reason in branch.reasons),
        "",
    ]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def header(title: str, snapshot: str, command: str) -> list[str]:
    """The opening lines every comment shares: the hidden marker, the title, the snapshot, the command."""
    return [
        MARKER,
        f"## {title}",
        "",
        f"Snapshot: {inline_text(snapshot)}" if snapshot else "",
        "",
        "Reproduce with:",
        "",
        code_block(one_line(command), "sh"),
    ]


def render_markdown(
    report: Report, *, command: str, limit: int = GITHUB_COMMENT_LIMIT, sections: Sequence[str] = ()
) -> str:
    """The PR comment body for `report`, reproduced by `command`, at most `limit` characters; `sections` are
    further Markdown sections (e.g. the cost of the rebuild) placed before the lists of rebuilt packages."""
    result = report.estimate
    labels = report.labels
    branch = report.branch
    counts = labels.rebuild_count_by_kernel
    head = [
        *header(f"impact: {code_span(result.change.description)}", report.snapshot, command),
        "",
        *counts_table(report),
        "",
        *(f"> **Not known to be whole:** {inline_text(note)}\n" for note in result.change.notes),
        "Packages rebuilt (unique attributes of the `nixpkgs` jobset, as nixpkgs CI counts them): "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
        "",
        *labels_and_branch(labels.active, branch),
    ]
    if report.maintainers:
        shown = report.maintainers[:MAX_MAINTAINERS]
        rest = len(report.maintainers) - len(shown)
        head.append(
            "**Maintainers:** "
            + ", ".join(f"{_plain(m.name)} ({_plural(len(m.packages), 'package')})" for m in shown)
            + (f", and {rest:,} more" if rest > 0 else "")
        )
        head.append("")
    head += [line for section in sections for line in (*section.rstrip("\n").splitlines(), "")]

    def body(cap: int | None) -> list[str]:
        lines: list[str] = []
        for platform, names in sorted(labels.rebuilds_by_platform.items(), key=lambda item: _system_order(item[0])):
            lines += _details(f"{_plural(len(names), 'package')} rebuilt on {platform}", names, cap)
        for jobset, attrs in result.changed_jobs.items():
            if jobset != "nixpkgs" and attrs:
                lines += _details(f"{_plural(len(attrs), 'job')} of the {jobset} jobset change", attrs, cap)
        return lines

    text = "\n".join(head).rstrip("\n") + "\n\n"
    full = text + "\n".join(body(None)).rstrip("\n") + "\n"
    if len(full) <= limit:
        return full
    warned = "\n".join([*head[:2], "", SHORTENED_NOTE.format(limit=limit), *head[2:]]).rstrip("\n") + "\n\n"
    for cap in LIST_STEPS:
        shortened = warned + "\n".join(body(cap)).rstrip("\n") + "\n"
        if len(shortened) <= limit:
            return shortened
    return _cut(warned, body(LIST_STEPS[-1]), limit)


def _cut(head: str, body: list[str], limit: int) -> str:
    """`head` and as many `body` lines as fit in `limit` characters, closing an open `<details>` and adding a note."""
    full = head + "\n".join(body).rstrip("\n") + "\n"
    if len(full) <= limit:
        return full
    note = "\n" + CUT_NOTE.format(limit=limit) + "\n"
    closing = "\n\n</details>\n"
    budget = limit - len(head) - len(note) - len(closing)
    kept: list[str] = []
    used = 0
    inside = False
    for line in body:
        if used + len(line) + 1 > budget:
            break
        kept.append(line)
        used += len(line) + 1
        if line == "<details>":
            inside = True
        elif line == "</details>":
            inside = False
    if inside and kept and kept[-1] != "<details>":
        text = "\n".join(kept) + closing
    else:
        if inside:
            kept.pop()
        text = "\n".join(kept).rstrip("\n") + "\n"
    if len(head) + len(note) > limit:
        return head[: limit - len(note)] + note
    return head + text + note
