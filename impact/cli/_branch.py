"""Options shared by the commands that give branch advice (`impact estimate`, `impact compare`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from impact.model import DerivationGraph

BaseOption = Annotated[
    str | None,
    typer.Option(
        "--base",
        help="The branch the change is based on, e.g. master, staging, release-19.03 (default: the policy's, master); "
        "answered on that branch's shipped snapshot of the same time when there is one.",
        show_default=False,
    ),
]
SecurityOption = Annotated[
    bool,
    typer.Option(
        "--security", help="The change is a critical security fix (master when not a mass rebuild, else staging-next)."
    ),
]
PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Branch rules as a TOML file (default: nixpkgs' rules shipped with impact; see docs/branch-policy.md).",
        show_default=False,
    ),
]


def load_for_base(snapshot: Path | None, base: str | None) -> DerivationGraph:
    """The snapshot to answer on (`impact.snapshots.snapshot_for_base`: `base`'s own shipped snapshot unless one
    is given), its label extended with whether its data is `base`'s own, so every header says so."""
    from impact.loaders import load_snapshot
    from impact.snapshots import base_note, snapshot_for_base

    graph = load_snapshot(snapshot_for_base(snapshot, base))
    note = base_note(graph.meta, base)
    if note:
        graph.meta["label"] = f"{graph.label} · {note}"
    return graph
