"""`impact why`: by which chain a change rebuilds a target, or what stops it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from impact import app as service
from impact.cli._app import JsonOption, OnlyOption, SnapshotOption, app, emit, refuse
from impact.cli._complete import package_names
from impact.render.formats import Format, render_why

TargetArgument = Annotated[
    str,
    typer.Argument(
        metavar="TARGET",
        autocompletion=package_names,
        help="A job (tests.nat.standalone.x86_64-linux), a package (hello), a derivation name or a .drv path.",
    ),
]
ChangeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--change",
        "-c",
        metavar="NAME",
        autocompletion=package_names,
        help="An attribute whose package file changes (repeatable), as for `impact estimate`.",
        show_default=False,
    ),
]
DrvOption = Annotated[
    list[Path] | None,
    typer.Option("--drv", metavar="DRV", help="An exact root derivation (repeatable).", show_default=False),
]
FileOption = Annotated[
    list[str] | None,
    typer.Option("--file", metavar="FILE", help="A changed nixpkgs file (repeatable).", show_default=False),
]
AllOption = Annotated[bool, typer.Option("--all", help="List every chain, shortest first, up to --limit.")]
LimitOption = Annotated[
    int | None,
    typer.Option("--limit", min=1, help="The most chains listed with --all (default 10).", show_default=False),
]


@app.command()
def why(
    target: TargetArgument,
    change: ChangeOption = None,
    drv: DrvOption = None,
    file: FileOption = None,
    only: OnlyOption = False,
    all_chains: AllOption = False,
    limit: LimitOption = None,
    snapshot: SnapshotOption = None,
    json: JsonOption = False,
) -> None:
    """Explain why a change rebuilds TARGET (the chain, with the outputs taken at each step), or why it does not."""
    refuse((limit is not None and not all_chains, "--limit", "one chain (it counts the chains --all lists)"))
    named = service.ChangeRequest(tuple(change or ()), tuple(map(str, drv or ())), tuple(file or ()), only)
    request = service.WhyRequest(target, named, all_chains, 10 if limit is None else limit, snapshot)
    emit(render_why(Format.json if json else Format.text, service.why(request)))
