"""Rendering a Hydra comparison (`impact hydra-compare`, and its section of the PR comment)."""

from __future__ import annotations

from collections.abc import Sequence

from impact.analysis.hydra import HydraComparison, JobResult, verdict_of, verdict_sentence
from impact.loaders.pr_report import MAX_LISTED, HydraJob, HydraList, HydraSection
from impact.render.escape import code_span, inline_text
from impact.render.json import dumps

#: Jobs listed by name per list before the rest are folded away.
SHOWN = 10
#: Jobs listed in a folded list at most.
FOLDED = 500


def _name(text: str) -> str:
    """A job or derivation name as inline code (the one place names enter this Markdown)."""
    return code_span(text, table=True)


def _listed(rows: Sequence[JobResult]) -> HydraList:
    return HydraList(
        tuple(HydraJob(r.job, r.base, r.head, r.build.id) for r in rows[:MAX_LISTED]),
        len(rows),
    )


def hydra_section(c: HydraComparison) -> HydraSection:
    """What the Markdown says of a comparison, as data (the PR comment carries it in report.json)."""
    return HydraSection(
        base_label=c.base_label,
        head_label=c.head_label,
        base_builds=c.base_builds,
        head_builds=c.head_builds,
        still_failing=c.still_failing,
        dependency_failures=c.dependency_failures,
        newly_failing=_listed(c.newly_failing),
        transient=_listed(c.transient),
        queued=_listed(c.queued),
        new_jobs_failing=_listed(c.new_jobs_failing),
        newly_succeeding=_listed(c.newly_succeeding),
    )


def _line(r: HydraJob) -> str:
    was = f"{inline_text(r.base)} → " if r.base else ""
    build = f", build {r.build}" if r.build is not None else ""
    return f"- {_name(r.job)}: {was}**{inline_text(r.head)}**{build}"


def capped_list(items: Sequence[str], shown: int = SHOWN, folded: int = FOLDED, total: int | None = None) -> list[str]:
    """The first `shown` lines, then the rest in a closed `<details>` ("… and M more"), itself capped; `total` is
    how many there are when `items` holds only the first of them."""
    count = len(items) if total is None else total
    lines = list(items[:shown])
    rest = count - len(lines)
    if rest > 0:
        inner = list(items[shown : shown + folded])
        if rest > folded:
            inner.append(f"- … and {rest - folded:,} more (see the JSON report)")
        lines += ["", "<details>", f"<summary>… and {rest:,} more</summary>", "", *inner, "", "</details>"]
    return lines


def verdict(c: HydraSection) -> str:
    """`wait`, `breaks`, `restart` or `ok`, from the section's counts."""
    return verdict_of(c.queued.total, c.newly_failing.total, c.transient.total)


def verdict_text(c: HydraSection) -> str:
    """The verdict in one sentence, from the section's counts."""
    return verdict_sentence(c.queued.total, c.newly_failing.total, c.dependency_failures, c.transient.total)


def hydra_markdown(c: HydraComparison | HydraSection, heading: str = "###") -> str:
    """The Markdown section: the verdict first, then newly failing, restarts, queued, newly succeeding."""
    section = c if isinstance(c, HydraSection) else hydra_section(c)
    icon = {"ok": "✅", "wait": "⏳", "restart": "🔁", "breaks": "❌"}[verdict(section)]
    out = [
        f"{heading} Hydra builds: {_name(section.base_label)} → {_name(section.head_label)}",
        "",
        f"{icon} **{verdict_text(section)}**",
        "",
        f"{section.head_builds:,} builds in HEAD, {section.base_builds:,} in BASE; "
        f"{section.newly_failing.total:,} newly failing, {section.newly_succeeding.total:,} newly succeeding, "
        f"{section.still_failing:,} failing in both.",
        "",
    ]
    for title, rows in (
        ("Newly failing (succeeded in BASE)", section.newly_failing),
        ("To restart (aborted, cancelled or timed out; succeeded in BASE)", section.transient),
        ("Not built yet in HEAD", section.queued),
        ("New jobs that fail", section.new_jobs_failing),
        ("Newly succeeding (failed in BASE)", section.newly_succeeding),
    ):
        if rows.total:
            lines = [_line(r) for r in rows.items]
            out += [f"**{title}: {rows.total:,}**", "", *capped_list(lines, total=rows.total), ""]
    return "\n".join(out).rstrip("\n") + "\n"


def hydra_text(c: HydraComparison) -> str:
    """Terminal text: the verdict, the counts, then each list (first lines only)."""
    out = [f"impact hydra-compare  ·  {c.base_label} → {c.head_label}", "", c.verdict_text, ""]
    for title, rows in (
        ("newly failing", c.newly_failing),
        ("to restart", c.transient),
        ("not built yet", c.queued),
        ("new jobs failing", c.new_jobs_failing),
        ("newly succeeding", c.newly_succeeding),
    ):
        out.append(f"{title}: {len(rows):,}")
        for r in rows[:20]:
            out.append(f"  {r.job}  {r.base or '-'} → {r.head}")
        if len(rows) > 20:
            out.append(f"  … and {len(rows) - 20:,} more")
    out.append(f"failing in both: {c.still_failing:,}")
    return "\n".join(out) + "\n"


def render_hydra(c: HydraComparison, output_format: str) -> str:
    """`text`, `json` or `markdown`."""
    if output_format == "json":
        return dumps(c.to_dict())
    if output_format == "markdown":
        return hydra_markdown(c, heading="##")
    return hydra_text(c)
