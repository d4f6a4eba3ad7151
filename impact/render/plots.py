"""Plots of impact's results: each helper returns a matplotlib `Figure` and never calls `show()`.

Figures are made with `matplotlib.figure.Figure` directly, not through pyplot: no global figure registry, no
GUI backend chosen or needed (saving renders with Agg), so they are safe in tests, servers and headless
notebook runs; a notebook displays one by leaving it as a cell's value, or `fig.savefig(path)` writes it.
matplotlib is imported inside the functions, never when `impact` is imported.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from impact.render import frames

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from impact.analysis.branches import BranchComparison
    from impact.analysis.landscape import Landscape
    from impact.analysis.rank import Ranking
    from impact.analysis.rebuild import RebuildEstimate

#: Colours for the statuses of a branch comparison, and for lines.
_STATUS_COLOURS = {"only_a": "#4c72b0", "only_b": "#dd8452", "differ": "#c44e52", "same": "#55a868"}
_LINE_COLOURS = ("#dd8452", "#c44e52", "#8172b3")


def _figure(width: float = 8.0, height: float = 4.5) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def rebuild_distribution(landscape: Landscape, kernel: str = "linux") -> Figure:
    """Left: how many packages rebuild how many jobs (log bins). Right: rebuilds per package, largest first,
    with the lines."""
    import numpy as np

    frame = frames.to_dataframe(landscape)
    jobs = frame[frames.JOBS_LINUX if kernel == "linux" else frames.JOBS_DARWIN].to_numpy()
    fig = _figure(11, 4.5)
    left, right = fig.subplots(1, 2)
    positive = jobs[jobs > 0]
    bins = np.logspace(0, np.log10(max(positive.max(), 10)) + 0.05, 30) if positive.size else 10
    left.hist(positive, bins=bins, color="#4c72b0")
    left.set_xscale("log")
    left.set_xlabel(f"changed {kernel} jobs when the package changes")
    left.set_ylabel("packages")
    left.set_title(f"{len(frame):,} packages; {int((jobs == 0).sum()):,} rebuild no {kernel} job")
    column = frames.REBUILDS_LINUX if kernel == "linux" else frames.REBUILDS_DARWIN
    counts = np.sort(frame[column].dropna().to_numpy(dtype=np.int64))[::-1]
    counts = counts[counts > 0]
    right.plot(np.arange(1, counts.size + 1), counts, color="#4c72b0", drawstyle="steps-post")
    for line, colour in zip(landscape.lines, _LINE_COLOURS):
        above = int((counts >= line).sum())
        right.axhline(line, color=colour, linestyle="--", linewidth=1)
        right.annotate(
            f"{line:,} rebuilds: {above:,} packages at or above",
            (0.98, line),
            xycoords=("axes fraction", "data"),
            xytext=(0, 3),
            textcoords="offset points",
            ha="right",
            va="bottom",
            color=colour,
            fontsize=8,
            clip_on=True,
        )
    right.set_xlabel("packages, largest rebuild first")
    right.set_ylabel(f"rebuilds on {kernel} (unique packages, as CI counts)")
    right.set_title(
        f"Packages by {kernel} rebuilds (at least {min(landscape.lines):,} changed jobs), against the branch lines",
        fontsize=10,
    )
    return fig


def top_packages(
    ranking: Ranking, kernel: str = "linux", n: int = 20, exclude: Collection[str] = (), snapshot: str = ""
) -> Figure:
    """Horizontal bars: the `n` packages whose change rebuilds the most jobs on `kernel`, leaving out `exclude`.

    Each bar names the package with its aliases (one derivation, one bar). `exclude` is for the stdenv-level
    packages (`Landscape.stdenv_level[kernel]`): they all rebuild everything, so the informative top starts below
    them. `snapshot` names the data in the title.
    """
    from impact.render.text import alias_label

    frame = frames.to_dataframe(ranking)
    aliases = {r.package: r.aliases for r in ranking.rows}
    if exclude:
        frame = frame[~frame[frames.PACKAGE].isin(set(exclude))]
    column = frames.JOBS_LINUX if kernel == "linux" else frames.JOBS_DARWIN
    top = frame.sort_values([column, frames.DERIVATIONS_TO_BUILD, frames.PACKAGE], ascending=[False, False, True]).head(
        n
    )
    fig = _figure(8, 0.3 * len(top) + 1.2)
    ax = fig.subplots()
    labels = [alias_label(p, aliases.get(p, ()), most=2) for p in top[frames.PACKAGE][::-1]]
    bars = ax.barh(labels, top[column][::-1], color="#4c72b0")
    ax.set_xlabel(f"changed {kernel} jobs (Hydra jobs, both jobsets)")
    ax.set_ylabel("package changed (aliases in brackets)")
    below = f"; {len(set(exclude)):,} stdenv-level packages left out" if exclude else ""
    on = f"\n{snapshot}" if snapshot else ""
    ax.set_title(f"The {len(top)} packages whose change rebuilds most {kernel} jobs{below}{on}", fontsize=10)
    ax.margins(x=0.1)
    ax.bar_label(bars, labels=[f"{v:,}" for v in top[column][::-1]], fontsize=7)
    ax.tick_params(axis="y", labelsize=8)
    return fig


def compare_systems(estimates: Mapping[str, RebuildEstimate], title: str = "") -> Figure:
    """Grouped bars per system: changed jobs (both jobsets) and derivations to build, one colour per change.

    The legend names each change by its key, which should be the attributes changed (e.g. `qemu`, `linux_4_4`).
    """
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    per = {name: frames.to_dataframe(e, per="system") for name, e in estimates.items()}
    systems = list(dict.fromkeys(s for f in per.values() for s in f[frames.SYSTEM] if s != "builtin"))
    fig = _figure(11, 4.5)
    axes = fig.subplots(1, 2)
    width = 0.8 / max(len(per), 1)
    x = np.arange(len(systems))
    for panel, (ax, what) in enumerate(zip(axes, ("jobs", frames.DERIVATIONS_TO_BUILD))):
        for i, (name, f) in enumerate(per.items()):
            f = f.set_index(frames.SYSTEM)
            if what == "jobs":
                values = [
                    int(f.loc[s, frames.NIXPKGS_JOBS] + f.loc[s, frames.NIXOS_JOBS]) if s in f.index else 0
                    for s in systems
                ]
            else:
                values = [int(f.loc[s, what]) if s in f.index else 0 for s in systems]
            bars = ax.bar(x + i * width, values, width, label=name)
            ax.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize=7)
        ax.set_xticks(x + width * (len(per) - 1) / 2, systems)
        ax.set_xlabel("system")
        ax.set_ylabel("changed jobs (nixpkgs + nixos)" if panel == 0 else "derivations to build (Hydra builds)")
        ax.set_title("Jobs that change, per system" if panel == 0 else "Derivations Hydra builds, per system")
        ax.margins(y=0.12)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(title="change", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def branches_by_system(comparison: BranchComparison, jobset: str = "nixpkgs") -> Figure:
    """Stacked bars per system: jobs only in A, only in B, with other output paths, and the same."""
    import numpy as np

    frame = frames.to_dataframe(comparison)
    frame = frame[frame[frames.JOBSET] == jobset]
    fig = _figure(8, 4.5)
    ax = fig.subplots()
    bottom = np.zeros(len(frame))
    words = {
        "only_a": f"only in A ({comparison.a.branch or 'A'})",
        "only_b": f"only in B ({comparison.b.branch or 'B'})",
        "differ": "output paths differ",
        "same": "same output paths",
    }
    for status in frames.BRANCH_COUNT_COLUMNS:
        values = frame[status].to_numpy()
        ax.bar(frame[frames.SYSTEM], values, bottom=bottom, label=words[status], color=_STATUS_COLOURS[status])
        bottom += values
    ax.set_xlabel("system")
    ax.set_ylabel(f"{jobset} jobs (count)")
    ax.set_title(f"{jobset} jobs per system: {comparison.a.label}  vs  {comparison.b.label}", fontsize=9)
    ax.legend(fontsize=8)
    return fig


def drift(comparisons: Mapping[str, BranchComparison], systems: Sequence[str] | None = None) -> Figure:
    """Bars per system: derivations new on the B side of each comparison (what moving to B would build)."""
    import numpy as np

    found = systems or sorted(
        {s for c in comparisons.values() for s in c.derivations_new_in_b_by_system if s != "builtin"}
    )
    fig = _figure(8, 4.5)
    ax = fig.subplots()
    width = 0.8 / max(len(comparisons), 1)
    x = np.arange(len(found))
    for i, (name, c) in enumerate(comparisons.items()):
        values = [c.derivations_new_in_b_by_system.get(s, 0) for s in found]
        bars = ax.bar(x + i * width, values, width, label=name)
        ax.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize=7)
    ax.set_xticks(x + width * (len(comparisons) - 1) / 2, found)
    ax.set_xlabel("system")
    ax.set_ylabel("derivations to build (count)")
    ax.margins(y=0.12)
    ax.set_title("Derivations to build when moving to the other branch")
    ax.legend(fontsize=8)
    return fig
