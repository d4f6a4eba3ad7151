"""The summary `impact eval` prints: what was written, and each Nix process's time and peak memory."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from impact.evaluate import EvalSummary


def _count(n: int, noun: str) -> str:
    """`1 evaluation error`, `3 evaluation errors`."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def eval_text(summary: EvalSummary) -> str:
    """The summary of `impact eval` for a terminal: what was written, each Nix process's time and peak memory."""
    jobs = ", ".join(f"{n:,} {js}" for js, n in summary.jobs.items())
    part = f" (slices {', '.join(map(str, summary.slices))} of {summary.chunks})" if summary.chunks > 1 else ""
    lines = [
        f"wrote {summary.output}{part}: {jobs} jobs, {_count(summary.errors, 'evaluation error')}, "
        f"{summary.derivations:,} derivations in {summary.seconds:,.0f} s"
    ]
    explained = [p for p in summary.processes if p.label.startswith("job ")]
    lines += [
        f"  {p.label}: {p.seconds:,.0f} s, peak {p.peak_rss / 2**20:,.0f} MiB"
        for p in summary.processes
        if p not in explained
    ]
    if explained:
        lines.append(
            f"  {_count(len(explained), 'error')} explained, one job a process: "
            f"{sum(p.seconds for p in explained):,.0f} s, peak {max(p.peak_rss for p in explained) / 2**20:,.0f} MiB"
        )
    if summary.store_freed is not None:
        lines.append(f"  private store collected: {summary.store_freed / 2**20:,.1f} MiB freed")
    return "\n".join(lines)
