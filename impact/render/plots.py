"""Plots of impact's results: each helper returns a matplotlib `Figure` and never calls `show()`.

Figures are made with `matplotlib.figure.Figure` directly, not through pyplot: no global figure registry, no
GUI backend chosen or needed (saving renders with Agg), so they are safe in tests, servers and headless
notebook runs; a notebook displays one by leaving it as a cell's value, or `fig.savefig(path)` writes it.
matplotlib is imported inside the functions, never when `impact` is imported.

Every figure is made to read at a glance: a title or axis label too long for its place is wrapped to fit
(`_fit_text`, measured with the renderer), legends shared by panels sit outside them, and counts that span
orders of magnitude are drawn on a logarithmic axis with every bar labelled, so that a system or a category
of a few jobs beside tens of thousands stays visible. `layout_problems` checks a figure for what a reader
would find wrong (text cut at an edge, labels over each other, a legend over a label or a bar, a bar too thin
to see); the tests run it on every figure of the notebooks and of `--plot`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from impact.render import frames

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure
    from matplotlib.text import Text
    from matplotlib.transforms import BboxBase

    from impact.analysis.branches import BranchComparison
    from impact.analysis.landscape import Landscape
    from impact.analysis.rank import Ranking
    from impact.analysis.rebuild import RebuildEstimate
    from impact.analysis.whatif import OnlyOutputWhatIf

#: Colours for the statuses of a branch comparison, and for lines.
_STATUS_COLOURS = {"only_a": "#4c72b0", "only_b": "#dd8452", "differ": "#c44e52", "same": "#55a868"}
_LINE_COLOURS = ("#dd8452", "#c44e52", "#8172b3")
_BAR = "#4c72b0"
_BAND = "#8c8c8c"
#: Counts whose smallest non-zero value is below this share of the largest go on a logarithmic axis: on a
#: linear one the small ones would be a pixel high or less.
_LOG_BELOW = 1 / 30
#: The thinnest a bar of a non-zero value may be drawn, in points (`layout_problems`).
MIN_BAR_POINTS = 1.5
#: How far (in pixels) two boxes may touch before they count as overlapping, and text may pass an edge.
_SLACK = 0.5


def _figure(width: float = 8.0, height: float = 4.5) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _renderer(fig: Figure) -> RendererBase:
    """Draw `fig` (laying it out) and return the renderer that drew it, as `savefig` would draw it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas
    agg = FigureCanvasAgg(fig)
    try:
        agg.draw()
        return agg.get_renderer()
    finally:
        fig.set_canvas(canvas)


def _wrap(text: Text, width: float, renderer: RendererBase, original: str) -> bool:
    """Re-wrap `original` (the text as the helper set it, its own line breaks kept) into lines that fit `width`
    pixels, measured as `text` is drawn now; True when it changed."""
    extent = text.get_window_extent(renderer)
    long_side = extent.height if text.get_rotation() % 180 == 90 else extent.width
    if long_side <= width or not original:
        return False
    longest = max(len(line) for line in text.get_text().split("\n"))
    chars = max(12, int(longest * width / long_side) - 1)
    wrapped = "\n".join(textwrap.fill(line, chars, break_on_hyphens=False) for line in original.split("\n"))
    if wrapped == text.get_text():
        return False
    text.set_text(wrapped)
    return True


def _fit_text(fig: Figure) -> Figure:
    """Wrap every title and axis label that is wider than its place (a title over its axes, the suptitle over
    the figure, an axis label along its axis), measured as drawn; a few rounds, since the layout moves, each
    wrapping the text as first set (so no word is left alone on a line)."""
    originals: dict[int, str] = {}
    for _ in range(4):
        renderer = _renderer(fig)
        places = [(text, fig.bbox.width * 0.96) for text in fig.texts]  # the suptitle among them
        for ax in fig.axes:
            box = ax.get_window_extent(renderer)
            places += [(ax.title, box.width), (ax.xaxis.label, box.width), (ax.yaxis.label, box.height)]
        changed = False
        for text, width in places:
            original = originals.setdefault(id(text), text.get_text())
            changed |= _wrap(text, width, renderer, original)
        if not changed:
            break
    return fig


def _needs_log(values: Sequence[float]) -> bool:
    positive = [v for v in values if v > 0]
    return bool(positive) and min(positive) < max(positive) * _LOG_BELOW


def _count_scale(ax: Axes, values: Sequence[float], axis: str = "y") -> str:
    """Put the count axis on a logarithmic scale (symlog: 0 stays drawable) when the values span orders of
    magnitude; returns the note for the axis label ("" or " (log scale)")."""
    if not _needs_log(values):
        return ""
    from matplotlib.ticker import FuncFormatter

    set_scale = ax.set_yscale if axis == "y" else ax.set_xscale
    set_scale("symlog", linthresh=1, linscale=0.5)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    top = max(values)
    (ax.set_ylim if axis == "y" else ax.set_xlim)(0, top * 4)  # room for the value labels past the longest bar
    return " (log scale)"


def rebuild_distribution(landscape: Landscape, kernel: str = "linux") -> Figure:
    """Left: how many packages rebuild how many jobs (log bins, log counts). Right: rebuilds per package,
    largest first, on a log axis, with the branch lines and how many packages are at or above each."""
    import numpy as np

    frame = frames.to_dataframe(landscape)
    jobs = frame[frames.JOBS_LINUX if kernel == "linux" else frames.JOBS_DARWIN].to_numpy()
    fig = _figure(11, 4.5)
    left, right = fig.subplots(1, 2)
    positive = jobs[jobs > 0]
    bins = np.logspace(0, np.log10(max(positive.max(), 10)) + 0.05, 30) if positive.size else 10
    left.hist(positive, bins=bins, color=_BAR)
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel(f"changed {kernel} jobs when the package changes")
    left.set_ylabel("packages (log scale)")
    left.set_title(f"{len(frame):,} packages; {int((jobs == 0).sum()):,} rebuild no {kernel} job", fontsize=10)
    column = frames.REBUILDS_LINUX if kernel == "linux" else frames.REBUILDS_DARWIN
    counts = np.sort(frame[column].dropna().to_numpy(dtype=np.int64))[::-1]
    counts = counts[counts > 0]
    right.plot(np.arange(1, counts.size + 1), counts, color=_BAR, drawstyle="steps-post")
    right.set_yscale("log")
    colours = dict(zip(sorted(landscape.lines), _LINE_COLOURS))
    for line in sorted(landscape.lines, reverse=True):  # the legend lists the highest line first, as drawn
        colour = colours.get(line, _LINE_COLOURS[-1])
        above = int((counts >= line).sum())
        right.axhline(
            line, color=colour, linestyle="--", linewidth=1, label=f"{line:,} rebuilds: {above:,} at or above"
        )
    right.legend(title="branch lines: packages", fontsize=8, title_fontsize=8, loc="upper right")
    right.set_xlabel("packages, largest rebuild first")
    right.set_ylabel(f"{kernel} rebuilds (unique packages; log scale)")
    right.set_title(
        f"Packages by {kernel} rebuilds as CI counts them (at least {min(landscape.lines):,} changed jobs), "
        "against the branch lines",
        fontsize=10,
    )
    return _fit_text(fig)


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
    fig = _figure(8, 0.3 * len(top) + 1.6)
    ax = fig.subplots()
    labels = [alias_label(p, aliases.get(p, ()), most=2) for p in top[frames.PACKAGE][::-1]]
    bars = ax.barh(labels, top[column][::-1], color=_BAR)
    ax.set_xlabel(f"changed {kernel} jobs (Hydra jobs, both jobsets)")
    ax.set_ylabel("package changed (aliases in brackets)")
    below = f"; {len(set(exclude)):,} stdenv-level packages left out (they rebuild everything)" if exclude else ""
    on = f"\n{snapshot}" if snapshot else ""
    ax.set_title(f"The {len(top)} packages whose change rebuilds most {kernel} jobs{below}{on}", fontsize=10)
    ax.margins(x=0.12)
    ax.bar_label(bars, labels=[f"{v:,}" for v in top[column][::-1]], fontsize=7, padding=2)
    ax.tick_params(axis="y", labelsize=8)
    return _fit_text(fig)


def rank_bars(ranking: Ranking, band: int = 0, n: int = 20, snapshot: str = "") -> Figure:
    """`impact rank --plot`: the ranking in the order of its table, by the value it is sorted by.

    The first `band` rows (the stdenv-level tie, `impact.analysis.landscape.stdenv_band`: packages whose change
    rebuilds nearly every job, a few jobs apart) are one grey band labelled with their range; below it the next
    `n` rows, each bar named by its row number in the table (`#33 which`) and labelled with its value.
    """
    from impact.render.text import alias_label

    key = ranking.sort_key
    values = [int(getattr(r, key)) for r in ranking.rows]
    shown = list(range(band, min(band + n, len(ranking.rows))))
    labels = [f"#{i + 1} {alias_label(ranking.rows[i].package, ranking.rows[i].aliases)}" for i in shown]
    heights, texts, colours = [values[i] for i in shown], [f"{values[i]:,}" for i in shown], [_BAR] * len(shown)
    if band:
        low, high = min(values[:band]), max(values[:band])
        names = ", ".join(r.package for r in ranking.rows[: min(band, 3)]) + (", …" if band > 3 else "")
        labels.insert(0, f"#1–{band} stdenv-level: {names}")
        heights.insert(0, high)
        texts.insert(0, f"{low:,}–{high:,} each" if low != high else f"{high:,} each")
        colours.insert(0, _BAND)
    fig = _figure(9, 0.3 * len(labels) + 1.8)
    ax = fig.subplots()
    bars = ax.barh(range(len(labels))[::-1], heights, color=colours, height=0.75, tick_label=labels)
    if band:
        bars[0].set_hatch("//")
    ax.bar_label(bars, labels=texts, fontsize=7, padding=2)
    what = f"changed {ranking.kernel} jobs" if ranking.kernel else "changed jobs, all systems"
    ax.set_xlabel(f"{what} (Hydra jobs, both jobsets): the table's sort key")
    ax.margins(x=0.18)
    ax.tick_params(axis="y", labelsize=8)
    by = f"{ranking.kernel} jobs" if ranking.kernel else "all jobs"
    lines = [f"impact rank · {snapshot}"] if snapshot else []
    lines.append(f"{len(ranking.rows):,} {ranking.jobset} packages in the order of the table (by {by})")
    if band:
        lines.append(f"#1–{band} change stdenv, so nearly every job: one band")
    ax.set_title("\n".join(lines), fontsize=10)
    return _fit_text(fig)


def _grouped_bars(
    ax: Axes,
    groups: Sequence[str],
    series: Mapping[str, Sequence[int]],
    colours: Mapping[str, str] | None = None,
    horizontal: bool = False,
) -> str:
    """Bars of each series side by side per group, every bar labelled with its count; a log count axis when
    the counts span orders of magnitude. Returns the axis-label note for the scale."""
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    width = 0.8 / max(len(series), 1)
    x = np.arange(len(groups))
    many = len(series) > 2 and not horizontal
    for i, (name, values) in enumerate(series.items()):
        colour = (colours or {}).get(name)
        offset = x + i * width if not horizontal else x[::-1] + (len(series) - 1 - i) * width
        if horizontal:
            bars = ax.barh(offset, values, width, label=name, color=colour)
        else:
            bars = ax.bar(offset, values, width, label=name, color=colour)
        ax.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize=7, padding=2, rotation=90 if many else 0)
    ticks = (x[::-1] if horizontal else x) + width * (len(series) - 1) / 2
    (ax.set_yticks if horizontal else ax.set_xticks)(ticks, groups)
    note = _count_scale(ax, [v for values in series.values() for v in values], "x" if horizontal else "y")
    if not note:
        (ax.xaxis if horizontal else ax.yaxis).set_major_locator(MaxNLocator(integer=True))
        if horizontal:
            ax.margins(x=0.15)
        else:
            ax.margins(y=0.15)
    return note


def compare_systems(estimates: Mapping[str, RebuildEstimate], title: str = "") -> Figure:
    """Grouped bars per system: changed jobs (both jobsets) and derivations to build, one colour per change.

    The legend names each change by its key, which should be the attributes changed (e.g. `qemu`, `linux_4_4`).
    Counts that span orders of magnitude (2,826 on x86_64-linux, 3 on x86_64-darwin) go on a log axis.
    """
    per = {name: frames.to_dataframe(e, per="system").set_index(frames.SYSTEM) for name, e in estimates.items()}
    systems = list(dict.fromkeys(s for f in per.values() for s in f.index if s != "builtin"))
    fig = _figure(11, 4.8)
    axes = fig.subplots(1, 2)
    for panel, ax in enumerate(axes):
        series: dict[str, list[int]] = {}
        for name, f in per.items():
            if panel == 0:
                series[name] = [
                    int(f.loc[s, frames.NIXPKGS_JOBS] + f.loc[s, frames.NIXOS_JOBS]) if s in f.index else 0
                    for s in systems
                ]
            else:
                series[name] = [int(f.loc[s, frames.DERIVATIONS_TO_BUILD]) if s in f.index else 0 for s in systems]
        note = _grouped_bars(ax, systems, series)
        ax.set_xlabel("system")
        ax.set_ylabel(
            ("changed jobs (nixpkgs + nixos)" if panel == 0 else "derivations to build (Hydra builds)") + note
        )
        ax.set_title("Jobs that change, per system" if panel == 0 else "Derivations Hydra builds, per system")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, title="change", fontsize=8, loc="outside lower center", ncols=min(len(labels), 4))
    if title:
        fig.suptitle(title, fontsize=11)
    return _fit_text(fig)


def branches_by_system(comparison: BranchComparison, jobset: str = "nixpkgs") -> Figure:
    """Bars per system, side by side: jobs only in A, only in B, with other output paths, and the same, each
    labelled with its count (a log axis when the counts span orders of magnitude, so no status or system of a
    few jobs vanishes)."""
    frame = frames.to_dataframe(comparison)
    frame = frame[frame[frames.JOBSET] == jobset]
    systems = list(frame[frames.SYSTEM])
    fig = _figure(8, 0.34 * len(systems) * len(frames.BRANCH_COUNT_COLUMNS) + 2.2)
    ax = fig.subplots()
    words = {
        "only_a": f"only in A ({comparison.a.branch or 'A'})",
        "only_b": f"only in B ({comparison.b.branch or 'B'})",
        "differ": "output paths differ",
        "same": "same output paths",
    }
    series = {words[s]: [int(v) for v in frame[s]] for s in frames.BRANCH_COUNT_COLUMNS}
    colours = {words[s]: _STATUS_COLOURS[s] for s in frames.BRANCH_COUNT_COLUMNS}
    note = _grouped_bars(ax, systems, series, colours, horizontal=True)
    ax.set_ylabel("system")
    ax.set_xlabel(f"{jobset} jobs (count){note}")
    ax.set_title(f"{jobset} jobs per system\nA: {comparison.a.label}\nB: {comparison.b.label}", fontsize=10)
    fig.legend(fontsize=8, loc="outside lower center", ncols=2)
    return _fit_text(fig)


def drift(comparisons: Mapping[str, BranchComparison], systems: Sequence[str] | None = None) -> Figure:
    """Bars per system: derivations new on the B side of each comparison (what moving to B would build)."""
    found = systems or sorted(
        {s for c in comparisons.values() for s in c.derivations_new_in_b_by_system if s != "builtin"}
    )
    fig = _figure(8, 4.8)
    ax = fig.subplots()
    series = {name: [c.derivations_new_in_b_by_system.get(s, 0) for s in found] for name, c in comparisons.items()}
    note = _grouped_bars(ax, found, series)
    ax.set_xlabel("system")
    ax.set_ylabel(f"derivations to build (count){note}")
    ax.set_title("Derivations to build when moving to the other branch")
    fig.legend(fontsize=8, loc="outside lower center", ncols=min(len(series), 3))
    return _fit_text(fig)


def only_output_cutoff(what_if: OnlyOutputWhatIf, name: str, snapshot: str = "") -> Figure:
    """Two bars: the derivations to build when `name` changes today (input-addressed: every consumer rebuilds)
    and when only its `what_if.output` output changes, with early cutoff (content-addressed, RFC 62)."""
    fig = _figure(8, 3.2)
    ax = fig.subplots()
    today, early = what_if.today.derivations_to_build, what_if.what_if.derivations_to_build
    labels = [f"{what_if.output} only, early cutoff", "today (input-addressed)"]
    bars = ax.barh(labels, [early, today], color=["#55a868", "#c44e52"])
    ax.bar_label(bars, labels=[f"{v:,}" for v in (early, today)], padding=3)
    ax.set_xlabel("derivations to build")
    on = f" ({snapshot})" if snapshot else ""
    ax.set_title(f"{name}: a change to its {what_if.output} output only{on}", fontsize=10)
    ax.margins(x=0.15)
    return _fit_text(fig)


# -- checking a figure ------------------------------------------------------------------------------------


def _overlap(a: BboxBase, b: BboxBase) -> bool:
    return a.x0 < b.x1 - _SLACK and b.x0 < a.x1 - _SLACK and a.y0 < b.y1 - _SLACK and b.y0 < a.y1 - _SLACK


def _inside(inner: BboxBase, outer: BboxBase) -> bool:
    return (
        inner.x0 >= outer.x0 - _SLACK
        and inner.y0 >= outer.y0 - _SLACK
        and inner.x1 <= outer.x1 + _SLACK
        and inner.y1 <= outer.y1 + _SLACK
    )


def _drawn_texts(fig: Figure, renderer: RendererBase) -> list[Text]:
    """Every text the figure draws: titles, labels, the tick labels of ticks in view, annotations, legends."""
    from matplotlib.text import Text

    not_drawn: set[int] = set()
    for ax in fig.axes:
        box = ax.get_window_extent(renderer)
        for axis, along in ((ax.xaxis, 0), (ax.yaxis, 1)):
            low, high = (box.x0, box.x1) if along == 0 else (box.y0, box.y1)
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                for label in (tick.label1, tick.label2):
                    centre = label.get_window_extent(renderer).get_points().mean(axis=0)[along]
                    if not (ax.axison and axis.get_visible()) or not low - 1 <= centre <= high + 1:
                        not_drawn.add(id(label))
            if not (ax.axison and axis.get_visible()):
                not_drawn.update((id(axis.label), id(axis.offsetText)))
    return [
        text
        for text in fig.findobj(Text)
        if id(text) not in not_drawn and text.get_visible() and text.get_text().strip()
    ]


def layout_problems(fig: Figure) -> list[str]:
    """What a reader would find wrong in `fig` as drawn (empty when nothing): a text cut by the figure's edge or
    by the box it is clipped to, two texts over each other, a legend over a text or a bar, a bar of a non-zero
    value drawn thinner than `MIN_BAR_POINTS`. Measured with matplotlib's own extents after layout."""
    import numpy as np
    from matplotlib.container import BarContainer
    from matplotlib.legend import Legend

    renderer = _renderer(fig)
    figure_box = fig.bbox
    texts = _drawn_texts(fig, renderer)
    boxes = [t.get_window_extent(renderer) for t in texts]
    problems = []
    for text, box in zip(texts, boxes):
        if not _inside(box, figure_box):
            problems.append(f"cut at the figure's edge: {text.get_text()!r}")
        clip = text.get_clip_box() if text.get_clip_on() else None
        if clip is not None and not _inside(box, clip):
            problems.append(f"cut by its clip box: {text.get_text()!r}")
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            if _overlap(boxes[i], boxes[j]):
                problems.append(f"overlapping: {texts[i].get_text()!r} and {texts[j].get_text()!r}")
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]
    for legend in legends:
        assert isinstance(legend, Legend)
        own = {id(t) for t in [*legend.get_texts(), legend.get_title()]}
        box = legend.get_window_extent(renderer)
        problems += [
            f"legend over the text {t.get_text()!r}"
            for t, b in zip(texts, boxes)
            if id(t) not in own and _overlap(box, b)
        ]
        for ax in fig.axes:
            if any(_overlap(box, p.get_window_extent(renderer)) for p in ax.patches if p.get_visible()):
                problems.append(f"legend over a bar of {ax.get_title()!r}")
    least = MIN_BAR_POINTS * fig.dpi / 72
    for ax in fig.axes:
        for container in ax.containers:
            if not isinstance(container, BarContainer):
                continue
            vertical = container.orientation == "vertical"
            values = np.asarray(container.datavalues, dtype=float).tolist()
            for patch, value in zip(container.patches, values):
                extent = patch.get_window_extent(renderer)
                size = extent.height if vertical else extent.width
                if value and size < least:
                    problems.append(f"a bar of {value:,g} in {ax.get_title()!r} is {size:.1f} px: too thin to see")
    return problems
