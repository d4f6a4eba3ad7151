"""Terminal rendering of labels and branch advice, shown under the table of `impact estimate`."""

from __future__ import annotations

from impact.analysis.labels import RebuildLabels
from impact.analysis.policy import BranchAdvice


def labels_line(labels: RebuildLabels) -> str:
    """`Labels: 10.rebuild-linux: 1, 10.rebuild-linux: 1-10, …` (the labels that apply)."""
    return "Labels: " + (", ".join(labels.active) or "none")


def branch_text(advice: BranchAdvice) -> str:
    """The target branch, the alternatives and one line per rule that fired."""
    alternatives = f"; alternatives: {', '.join(advice.alternatives)}" if advice.alternatives else ""
    lines = [f"Branch: {advice.target}  (base {advice.base}, {advice.policy} rules{alternatives})"]
    lines += [f"  - {r.text}" for r in advice.reasons]
    return "\n".join(lines)


def labels_branch_text(labels: RebuildLabels, advice: BranchAdvice) -> str:
    """Labels, then branch advice, as `impact estimate` prints them under its table."""
    return labels_line(labels) + "\n" + branch_text(advice) + "\n"
