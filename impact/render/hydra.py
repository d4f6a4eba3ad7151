"""Rendering a Hydra comparison (`impact hydra-compare`, and its section of the PR comment)."""

from __future__ import annotations

from collections.abc import Sequence

from impact.analysis.hydra import HydraComparison, JobResult
from impact.render.escape import code_span
from impact.render.json import dumps

#: Jobs listed by name per list before the rest are folded away.
SHOWN = 10
#: Jobs listed in a folded list at most.
FOLDED = 500


def _name(text: str) -> str:
    """A job or derivation name as inline code (the one place names enter this Markdown)."""
    return code_span(text, table=True)


def _line(r: JobResult) -> str:
    was = f"{r.base} → " if r.base else ""
    build = f", build {r.build.id}" if r.build.id is not None else ""
    return f"- {_name(r.job)}: {was}**{r.head}**{build}"


def capped_list(items: Sequence[str], shown: int = SHOWN, folded: int = FOLDED) -> list[str]:
    """The first `shown` lines, then the rest in a closed `<details>` ("… and M more"), itself capped."""
    lines = list(items[:shown])
    rest = items[shown:]
    if rest:
        inner = list(rest[:folded])
        if len(rest) > folded:
            inner.append(f"- … and {len(rest) - folded:,} more (see the JSON report)")
        lines += ["", "<details>", f"<summary>… and {len(rest):,} more</summary>", "", *inner, "", "</details>"]
    return lines


def hydra_markdown(c: HydraComparison, heading: str = "###") -> str:
    """The Markdown section: the verdict first, then newly failing, restarts, queued, newly succeeding."""
    icon = {"ok": "✅", "wait": "⏳", "restart": "🔁", "breaks": "❌"}[c.verdict]
    out = [
        f"{heading} Hydra builds: {_name(c.base_label)} → {_name(c.head_label)}",
        "",
        f"{icon} **{c.verdict_text}**",
        "",
        f"{c.head_builds:,} builds in HEAD, {c.base_builds:,} in BASE; "
        f"{len(c.newly_failing):,} newly failing, {len(c.newly_succeeding):,} newly succeeding, "
        f"{c.still_failing:,} failing in both.",
        "",
    ]
    for title, rows in (
        ("Newly failing (succeeded in BASE)", c.newly_failing),
        ("To restart (aborted, cancelled or timed out; succeeded in BASE)", c.transient),
        ("Not built yet in HEAD", c.queued),
        ("New jobs that fail", c.new_jobs_failing),
        ("Newly succeeding (failed in BASE)", c.newly_succeeding),
    ):
        if rows:
            out += [f"**{title}: {len(rows):,}**", "", *capped_list([_line(r) for r in rows]), ""]
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
