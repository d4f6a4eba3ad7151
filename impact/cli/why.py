"""`impact why`: by which chain a change rebuilds a target, or what stops it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from impact.cli._app import JsonOption, SnapshotOption, app, emit
from impact.errors import UnknownNameError


@app.command()
def why(
    target: Annotated[
        str,
        typer.Argument(
            help="A job (tests.nat.standalone.x86_64-linux), a package (hello), a derivation name or a .drv path."
        ),
    ],
    change: Annotated[
        list[str] | None,
        typer.Option(
            "--change",
            "-c",
            help="An attribute whose package file changes (repeatable), as for `impact estimate`.",
            show_default=False,
        ),
    ] = None,
    drv: Annotated[
        list[Path] | None, typer.Option("--drv", help="An exact root derivation (repeatable).", show_default=False)
    ] = None,
    file: Annotated[
        list[str] | None, typer.Option("--file", help="A changed nixpkgs file (repeatable).", show_default=False)
    ] = None,
    only: Annotated[
        bool, typer.Option("--only", help="The named attributes alone, without variants built from the same source.")
    ] = False,
    all_chains: Annotated[bool, typer.Option("--all", help="List every chain, shortest first, up to --limit.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="The most chains listed with --all.")] = 10,
    snapshot: SnapshotOption = None,
    json: JsonOption = False,
) -> None:
    """Explain why a change rebuilds TARGET (the chain, with the outputs taken at each step), or why it does not."""
    from impact.analysis.change import resolve_change
    from impact.analysis.why import why as run_why
    from impact.loaders import load_snapshot
    from impact.render.why import why_json, why_text

    if not (change or drv or file):
        raise UnknownNameError("no change named", tip="give one, e.g. impact why tests.nat.standalone --change qemu")
    graph = load_snapshot(snapshot)
    resolved = resolve_change(graph, change or (), [str(d) for d in drv or ()], file or (), only=only)
    result = run_why(graph, resolved, target, all_chains=all_chains, limit=limit)
    emit(why_json(result, graph) if json else why_text(result, graph))
