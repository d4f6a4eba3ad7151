"""`impact diff`: the exact difference between two evaluations, by output paths, with its cross-check."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer

from impact.cli._app import JsonOption, app, emit
from impact.cli.eval import MemoryOption, NixosOption, StoreOption, SystemOption, TimeoutOption, make_limits, make_nix


@app.command()
def diff(
    base: Annotated[
        str, typer.Argument(help="BASE: a snapshot (any supported format), a nixpkgs checkout, or a git ref of --repo.")
    ],
    head: Annotated[str, typer.Argument(help="HEAD: a snapshot, a nixpkgs checkout, or a git ref of --repo.")],
    repo: Annotated[Path, typer.Option("--repo", help="The git repository refs are taken from.")] = Path("."),
    system: SystemOption = None,
    nixos: NixosOption = False,
    store: StoreOption = None,
    timeout: TimeoutOption = 3600.0,
    memory: MemoryOption = "8G",
    json: JsonOption = False,
) -> None:
    """Added, removed and changed jobs between two evaluations, the root changes, and the graph cross-check.

    Checkouts and refs are evaluated first, as `impact eval` does (the evaluation options apply to them).
    """
    from impact.analysis.diff import diff_snapshots
    from impact.cli._sides import side_graph
    from impact.render.diff import diff_text
    from impact.render.json import dumps

    systems = system or ["x86_64-linux"]
    limits = make_limits(timeout, memory)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="impact-diff-") as tmp:
        nix = functools.cache(lambda: make_nix(store))
        graphs = [
            side_graph(spec, repo, Path(tmp), role, nix, systems, nixos, limits)
            for spec, role in ((base, "base"), (head, "head"))
        ]
    result = diff_snapshots(*graphs)
    emit(dumps(result.to_dict()) if json else diff_text(result))
