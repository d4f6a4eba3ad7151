"""`impact branches`: two evaluations side by side (e.g. staging against master)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from impact.cli._app import JsonOption, app, emit


@app.command()
def branches(
    snapshot_a: Annotated[
        Path, typer.Argument(metavar="SNAP_A", help="Snapshot A, e.g. master (any supported format).")
    ],
    snapshot_b: Annotated[Path, typer.Argument(metavar="SNAP_B", help="Snapshot B, e.g. staging or release-16.03.")],
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many edited derivations to name in the text.")] = 12,
    json: JsonOption = False,
) -> None:
    """Compare two snapshots: jobs only in A, only in B, and jobs whose output paths differ, per jobset and system."""
    from impact.analysis.branches import compare_branches
    from impact.loaders import load_snapshot
    from impact.render.json import dumps
    from impact.render.text import branches_text

    result = compare_branches(load_snapshot(snapshot_a), load_snapshot(snapshot_b))
    emit(dumps(result.to_dict()) if json else branches_text(result, limit))
