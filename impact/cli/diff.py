"""`impact diff`: the exact difference between two evaluations, by output paths, with its cross-check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from impact.cli._app import JsonOption, app, emit


@app.command()
def diff(
    base: Annotated[Path, typer.Argument(help="The BASE snapshot (any supported format, e.g. a folder made by `impact eval`).")],
    head: Annotated[Path, typer.Argument(help="The HEAD snapshot.")],
    json: JsonOption = False,
) -> None:
    """Added, removed and changed jobs between two evaluations, the root changes, and the graph cross-check."""
    from impact.analysis.diff import diff_snapshots
    from impact.loaders import load_snapshot
    from impact.render.diff import diff_text
    from impact.render.json import dumps

    result = diff_snapshots(load_snapshot(base), load_snapshot(head))
    emit(dumps(result.to_dict()) if json else diff_text(result))
