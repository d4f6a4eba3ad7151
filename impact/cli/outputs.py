"""`impact outputs`: each output of a package and who takes it, per system."""

from __future__ import annotations

from typing import Annotated

import typer

from impact.cli._app import JsonOption, SnapshotOption, app, emit


@app.command()
def outputs(
    name: Annotated[str, typer.Argument(help="An attribute without its system, e.g. curl or openssl.")],
    only: Annotated[
        bool,
        typer.Option(
            "--only", help="The attribute's own derivations alone, without variants built from the same source."
        ),
    ] = False,
    snapshot: SnapshotOption = None,
    json: JsonOption = False,
) -> None:
    """For each output of NAME (out, dev, bin, man, …), the derivations and jobs that take it, per system."""
    from impact.analysis.outputs import package_outputs
    from impact.loaders import load_snapshot
    from impact.render.why import outputs_json, outputs_text

    graph = load_snapshot(snapshot)
    report = package_outputs(graph, name, only=only)
    emit(outputs_json(report, graph) if json else outputs_text(report, graph))
