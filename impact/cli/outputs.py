"""`impact outputs`: each output of a package and who takes it, per system."""

from __future__ import annotations

from typing import Annotated

import typer

from impact import app as service
from impact.cli._app import JsonOption, SnapshotOption, app, emit
from impact.cli._complete import package_names
from impact.render.formats import Format, render_outputs

NameArgument = Annotated[
    str,
    typer.Argument(
        metavar="NAME", help="An attribute without its system, e.g. curl or openssl.", autocompletion=package_names
    ),
]
OnlyOption = Annotated[
    bool,
    typer.Option("--only", help="The attribute's own derivations alone, without variants built from the same source."),
]


@app.command()
def outputs(
    name: NameArgument, only: OnlyOption = False, snapshot: SnapshotOption = None, json: JsonOption = False
) -> None:
    """For each output of NAME (out, dev, bin, man, …), the derivations and jobs that take it, per system."""
    answer = service.outputs(service.OutputsRequest(name, only, snapshot))
    emit(render_outputs(Format.json if json else Format.text, answer))
