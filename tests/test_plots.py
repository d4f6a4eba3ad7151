"""Plot helpers return Figures (without pyplot), that render to PNG; importing impact loads neither pandas nor matplotlib."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from matplotlib.figure import Figure

from impact import api
from impact.analysis.branches import compare_branches
from impact.model import DerivationGraph
from impact.render import plots


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def test_every_helper_returns_a_figure(embedded_graph: DerivationGraph) -> None:
    ranking = api.rank(embedded_graph, kernel="linux")
    comparison = api.compare(embedded_graph, "qemu", "hello")
    branches = compare_branches(embedded_graph, embedded_graph)
    figures = {
        "distribution": plots.rebuild_distribution(api.landscape(embedded_graph, ranking)),
        "top": plots.top_packages(ranking, n=10),
        "compare": plots.compare_systems({c.name: c.report.estimate for c in comparison.changes}),
        "branches": plots.branches_by_system(branches),
        "drift": plots.drift({"same": branches}),
    }
    for name, fig in figures.items():
        assert isinstance(fig, Figure), name
        assert _png(fig).startswith(b"\x89PNG"), name
    # The top-packages bars are the first ten of the ranking, largest at the top.
    bars = figures["top"].axes[0].get_yticklabels()
    # Each bar names the package, its aliases in brackets.
    assert [t.get_text().split(" (")[0] for t in bars][::-1] == [r.package for r in ranking.rows[:10]]
    # A snapshot against itself: every job the same, nothing only on one side.
    stacks = {c.get_label(): sum(bar.get_height() for bar in c) for c in figures["branches"].axes[0].containers}
    nixpkgs_jobs = sum(1 for js in embedded_graph.job_jobsets if js == "nixpkgs")
    assert stacks.pop("same output paths") == nixpkgs_jobs and set(stacks.values()) == {0}


@pytest.mark.parametrize("module", ["impact.api", "impact.render.plots", "impact.render.frames", "impact.cli"])
def test_import_is_cheap(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in ('pandas', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
