"""One side of a comparison, given on the command line: a snapshot, a nixpkgs checkout or a git ref."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from impact.cli.eval import Progress

if TYPE_CHECKING:
    from impact.model import DerivationGraph
    from impact.nix import Limits, Nix


def side_graph(
    spec: str,
    repo: Path,
    work: Path,
    role: str,
    nix: Callable[[], Nix],
    systems: list[str],
    nixos: bool,
    limits: Limits,
) -> DerivationGraph:
    """The graph of one side: a snapshot is read, a checkout evaluated, anything else is a git ref of `repo`.

    `nix` makes the `Nix` to evaluate with, only when a side needs evaluating (it may create a store).
    """
    from impact.evaluate import evaluate_checkout, export_ref, is_checkout
    from impact.loaders import load_snapshot

    path = Path(spec)
    label = spec
    if path.exists() and not is_checkout(path):
        return load_snapshot(path)
    if path.exists():
        source = path
    else:
        source = work / f"{role}-src"
        commit = export_ref(repo, spec, source)
        label = f"{spec} ({commit[:7]})"
    progress = Progress(f"evaluating {role} {spec}")
    try:
        store = nix()
        evaluate_checkout(
            source,
            work / f"{role}-snapshot",
            store,
            systems=systems,
            nixos=nixos,
            limits=limits,
            on_job=progress,
            gc=store.store_root is not None,  # impact's private store: nothing in it is needed afterwards
        )
    finally:
        progress.done()
    graph = load_snapshot(work / f"{role}-snapshot")
    graph.meta["label"] = label
    return graph
