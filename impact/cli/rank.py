"""`impact rank`: every package ranked by what a change to it rebuilds."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from impact import app as service
from impact.cli._app import JsonOption, PlotOption, SnapshotOption, app, emit, plot_to, refuse
from impact.render.formats import Format, render_rank


class Kernel(str, Enum):
    """The kernels `--kernel` sorts by."""

    linux = "linux"
    darwin = "darwin"


LimitOption = Annotated[
    int | None,
    typer.Option(
        "--limit",
        "-n",
        help="How many packages to show in the table (0: all; default 20), and in the plot below its "
        "stdenv-level band.",
        show_default=False,
    ),
]
KernelOption = Annotated[
    Kernel | None,
    typer.Option("--kernel", help="Sort by the changed jobs of this kernel instead of all jobs.", show_default=False),
]
JobsetOption = Annotated[str, typer.Option("--jobset", metavar="JOBSET", help="The jobset whose packages are ranked.")]


@app.command()
def rank(
    limit: LimitOption = None,
    kernel: KernelOption = None,
    jobset: JobsetOption = "nixpkgs",
    plot: PlotOption = None,
    snapshot: SnapshotOption = None,
    json: JsonOption = False,
) -> None:
    """Rank every package by what a change to it rebuilds; aliases of one derivation share a row.

    Counted as `impact estimate NAME --own` counts: without the every-commit share.

    --plot draws it in the table's order, the stdenv-level tie at the top as one band.
    """
    refuse((json and limit is not None, "--limit", "--json (JSON lists every package)"))
    request = service.RankRequest(jobset, kernel.value if kernel else None, snapshot, band=plot is not None)
    answer = service.rank(request)
    shown = 20 if limit is None else limit
    plot_to(plot, lambda: _plot(answer, shown))
    emit(render_rank(Format.json if json else Format.text, answer, shown))


def _plot(answer: service.RankAnswer, limit: int) -> object:
    from impact.render.plots import rank_bars

    return rank_bars(answer.ranking, band=answer.band, n=limit or 20, snapshot=answer.graph.label)
