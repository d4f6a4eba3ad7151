"""Plot helpers return Figures (without pyplot), that render to PNG and read at a glance; importing impact loads
neither pandas nor matplotlib.

"Read at a glance" is checked with matplotlib's own text extents (`plots.layout_problems`): no text cut at the
figure's edge, no two labels over each other, no legend over a label or a bar, no bar of a non-zero value too
thin to see. The notebooks' figures get the same check as they are saved (tests/test_notebooks.py).
"""

from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest
from matplotlib.figure import Figure

from impact import api
from impact import app as service
from impact.analysis.branches import compare_branches
from impact.analysis.change import resolve_change
from impact.analysis.landscape import stdenv_band, stdenv_level
from impact.analysis.whatif import only_output
from impact.model import DerivationGraph
from impact.render import plots
from impact.render.formats import Format, render_rank
from tests.conftest import MASTER_2016


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def test_every_helper_returns_a_figure_that_reads(embedded_graph: DerivationGraph) -> None:
    ranking = api.rank(embedded_graph, kernel="linux")
    comparison = api.compare(embedded_graph, "qemu", "hello")
    branches = compare_branches(embedded_graph, embedded_graph)
    cutoff = only_output(embedded_graph, resolve_change(embedded_graph, ["curl"]), "man")
    figures = {
        "distribution": plots.rebuild_distribution(api.landscape(embedded_graph, ranking)),
        "top": plots.top_packages(ranking, n=10),
        "rank": plots.rank_bars(ranking, band=3, n=10, snapshot=embedded_graph.label),
        "compare": plots.compare_systems({c.name: c.report.estimate for c in comparison.changes}),
        "branches": plots.branches_by_system(branches),
        "drift": plots.drift({"same": branches}),
        "cutoff": plots.only_output_cutoff(cutoff, "curl"),
    }
    for name, fig in figures.items():
        assert isinstance(fig, Figure), name
        assert _png(fig).startswith(b"\x89PNG"), name
        assert plots.layout_problems(fig) == [], name
    # The top-packages bars are the first ten of the ranking, largest at the top.
    bars = figures["top"].axes[0].get_yticklabels()
    # Each bar names the package, its aliases in brackets.
    assert [t.get_text().split(" (")[0] for t in bars][::-1] == [r.package for r in ranking.rows[:10]]
    # A snapshot against itself: every job the same, nothing only on one side.
    counts = {c.get_label(): sum(c.datavalues) for c in figures["branches"].axes[0].containers}
    nixpkgs_jobs = sum(1 for js in embedded_graph.job_jobsets if js == "nixpkgs")
    assert counts.pop("same output paths") == nixpkgs_jobs and set(counts.values()) == {0}


def test_the_layout_check_sees_what_a_reader_would() -> None:
    """A figure with a title too wide for it, two labels on one spot and a bar of 1 beside one of 10,000: the
    check names all three (so the checks of the real figures can fail)."""
    fig = Figure(figsize=(3, 2), layout="constrained")
    ax = fig.subplots()
    ax.bar(["big", "small"], [10_000, 1])
    ax.set_title("a title far too long to fit in a figure three inches wide, cut at its right edge")
    ax.annotate("first label", (0.3, 0.5), xycoords="axes fraction")
    ax.annotate("second label", (0.35, 0.52), xycoords="axes fraction")
    problems = plots.layout_problems(fig)
    assert any(p.startswith("cut at the figure's edge: 'a title far too long") for p in problems), problems
    assert "overlapping: 'first label' and 'second label'" in problems
    assert any(p.startswith("a bar of 1 ") and p.endswith("too thin to see") for p in problems), problems
    # The helpers' own fix: the title wrapped to its axes, the counts on a log axis; nothing left to see.
    ax.texts[1].set_position((0.3, 0.2))
    plots._count_scale(ax, [10_000, 1])
    assert plots.layout_problems(plots._fit_text(fig)) == []


def _plot_figures(snapshot: str | None) -> dict[str, Figure]:
    """The figures `impact estimate qemu --plot`, `impact compare qemu linux --plot` and `impact rank --plot`
    (by all jobs, and by darwin jobs) draw on `snapshot`."""
    from impact.cli import compare as compare_cli
    from impact.cli import estimate as estimate_cli
    from impact.cli import rank as rank_cli

    path = None if snapshot is None else snapshot
    change = service.ChangeRequest(("qemu",))
    return {
        "estimate": estimate_cli._plot(service.estimate(service.EstimateRequest(change, snapshot=path))),
        "compare": compare_cli._plot(
            service.compare(service.CompareRequest((("qemu",), ("linux",)), cost=None, snapshot=path))
        ),
        "rank": rank_cli._plot(service.rank(service.RankRequest(snapshot=path, band=True)), 20),
        "rank-darwin": rank_cli._plot(service.rank(service.RankRequest(kernel="darwin", snapshot=path, band=True)), 20),
    }


@pytest.mark.parametrize("snapshot", [None, MASTER_2016], ids=["2019", "2016"])
def test_every_plot_option_draws_a_figure_that_reads(snapshot: str | None) -> None:
    for name, fig in _plot_figures(snapshot).items():
        assert plots.layout_problems(fig) == [], name


#: A row of `impact rank`'s table: number, package (with aliases), linux, darwin, all jobs, of which nixos,
#: derivations to build.
_ROW = re.compile(r"^\s*([\d,]+)\s+(\S.*?)\s{2,}([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)$")


@pytest.mark.parametrize("kernel", [None, "linux"])
def test_the_rank_plot_is_its_table_in_the_same_order(kernel: str | None) -> None:
    """`impact rank --plot`: the stdenv-level tie at the top as one band (its rows' range), then the table's next
    rows in the table's order, each named by its number and package as the table prints it, by the value the
    table is sorted by."""
    from impact.cli import rank as rank_cli

    answer = service.rank(service.RankRequest(kernel=kernel, band=True))
    column = {None: 4, "linux": 2}[kernel]  # the table's "all jobs" or "linux jobs" column
    table = {}
    for line in render_rank(Format.text, answer, 0).splitlines():
        found = _ROW.match(line)
        if found:
            table[int(found[1].replace(",", ""))] = (found[2], int(found[column + 1].replace(",", "")))
    assert len(table) == len(answer.ranking.rows)
    values = [v for _, v in (table[k] for k in sorted(table))]
    assert values == sorted(values, reverse=True)  # the table is sorted by that column

    ax = rank_cli._plot(answer, 20).axes[0]
    (container,) = ax.containers
    ticks = sorted(zip(ax.get_yticks(), ax.get_yticklabels()), key=lambda t: -t[0])
    labels = [label.get_text() for _, label in ticks]
    bars = sorted(zip(ax.get_yticks(), container.datavalues), key=lambda t: -t[0])
    band = answer.band
    # The tie: the leading rows are stdenv-level on the kernel sorted by (on both kernels for all jobs), and
    # the row after them is not.
    level = stdenv_level(answer.graph)
    kernels = [kernel] if kernel else ["linux", "darwin"]
    assert band == stdenv_band(answer.ranking, level) and band > 10
    assert all(r.package in level[k] for r in answer.ranking.rows[:band] for k in kernels)
    assert not all(answer.ranking.rows[band].package in level[k] for k in kernels)
    tie = [table[k][1] for k in range(1, band + 1)]
    assert labels[0].startswith(f"#1–{band} stdenv-level: {answer.ranking.rows[0].package}, ")
    assert bars[0][1] == max(tie) and container.datavalues.size == 21
    assert ax.texts[0].get_text() == f"{min(tie):,}–{max(tie):,} each"
    # Then the table's rows band+1 … band+20, in its order, by its values.
    for (_, value), label, number in zip(bars[1:], labels[1:], range(band + 1, band + 21), strict=True):
        assert label == f"#{number} {table[number][0]}"
        assert value == table[number][1]


@pytest.mark.parametrize("module", ["impact.api", "impact.render.plots", "impact.render.frames", "impact.cli"])
def test_import_is_cheap(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in ('pandas', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
