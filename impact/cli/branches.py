"""`impact branches`: two evaluations side by side (e.g. staging against master)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from impact import app as service
from impact.cli._app import JsonOption, app, emit, refuse
from impact.cli._complete import snapshot_names
from impact.render.formats import Format, render_branches

SnapshotA = Annotated[
    Path,
    typer.Argument(
        metavar="SNAP_A", help="Snapshot A, e.g. master (any supported format).", autocompletion=snapshot_names
    ),
]
SnapshotB = Annotated[
    Path,
    typer.Argument(metavar="SNAP_B", help="Snapshot B, e.g. staging or release-16.03.", autocompletion=snapshot_names),
]
LimitOption = Annotated[
    int | None,
    typer.Option(
        "--limit", "-n", help="How many edited derivations to name in the text (default 12).", show_default=False
    ),
]


@app.command()
def branches(snapshot_a: SnapshotA, snapshot_b: SnapshotB, limit: LimitOption = None, json: JsonOption = False) -> None:
    """Compare two snapshots: jobs only in A, only in B, and jobs whose output paths differ, per jobset and system."""
    refuse((json and limit is not None, "--limit", "--json (JSON names every derivation)"))
    comparison = service.branches(service.BranchesRequest(snapshot_a, snapshot_b))
    emit(render_branches(Format.json if json else Format.text, comparison, 12 if limit is None else limit))
