"""`impact diff`: the exact difference between two evaluations, by output paths, with its cross-check."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer

from impact import app as service
from impact.cli._app import JsonOption, app, emit
from impact.cli._complete import snapshot_names
from impact.cli.eval import (
    MemoryOption,
    NixosOption,
    Progress,
    StoreLimitOption,
    StoreOption,
    SystemOption,
    TimeoutOption,
    make_limits,
    make_nix,
)
from impact.render.formats import Format, render_diff

BaseArgument = Annotated[
    str,
    typer.Argument(
        metavar="BASE",
        autocompletion=snapshot_names,
        help="A snapshot (any supported format, or a shipped snapshot's name), a nixpkgs checkout, or a git ref of "
        "--repo.",
    ),
]
HeadArgument = Annotated[
    str,
    typer.Argument(
        metavar="HEAD",
        autocompletion=snapshot_names,
        help="A snapshot (or a shipped snapshot's name), a nixpkgs checkout, or a git ref of --repo.",
    ),
]
RepoOption = Annotated[Path, typer.Option("--repo", metavar="REPO", help="The git repository refs are taken from.")]


@app.command()
def diff(
    base: BaseArgument,
    head: HeadArgument,
    repo: RepoOption = Path("."),
    system: SystemOption = None,
    nixos: NixosOption = False,
    store: StoreOption = None,
    timeout: TimeoutOption = 3600.0,
    memory: MemoryOption = "8G",
    store_limit: StoreLimitOption = "16G",
    json: JsonOption = False,
) -> None:
    """Added, removed and changed jobs between two evaluations, the root changes, and the graph cross-check.

    Checkouts and refs are evaluated first, as `impact eval` does (the evaluation options apply to them).
    """
    request = service.EvaluationRequest(base, head, repo, tuple(system or ["x86_64-linux"]), nixos)
    nix = functools.cache(lambda: make_nix(store))
    result = service.diff(request, nix, make_limits(timeout, memory, store_limit), Progress)
    emit(render_diff(Format.json if json else Format.text, result))
