"""`impact rank`: every package ranked by what a change to it rebuilds."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from impact.cli._app import JsonOption, SnapshotOption, app, emit


class Kernel(str, Enum):
    """The kernels `--kernel` sorts by."""

    linux = "linux"
    darwin = "darwin"


@app.command()
def rank(
    limit: Annotated[
        int,
        typer.Option("--limit", "-n", help="How many packages to show in the text table (0: all). --json prints all."),
    ] = 20,
    kernel: Annotated[
        Kernel | None,
        typer.Option(
            "--kernel", help="Sort by the changed jobs of this kernel instead of all jobs.", show_default=False
        ),
    ] = None,
    jobset: Annotated[str, typer.Option("--jobset", help="The jobset whose packages are ranked.")] = "nixpkgs",
    snapshot: SnapshotOption = None,
    json: JsonOption = False,
) -> None:
    """Rank every package by the jobs and derivations a change to it rebuilds (as `impact estimate NAME`, without the every-commit share)."""
    from impact.analysis.rank import rank as run_rank
    from impact.loaders import load_snapshot
    from impact.render.json import dumps, snapshot_dict
    from impact.render.text import rank_text

    graph = load_snapshot(snapshot)
    ranking = run_rank(graph, jobset=jobset, kernel=kernel.value if kernel else None)
    emit(dumps({"snapshot": snapshot_dict(graph), **ranking.to_dict()}) if json else rank_text(ranking, graph, limit))
