"""The cost options (`--cost`, `--durations`, `--machines`, `--cores`) that `estimate` and `compare` share."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from impact.app import CostRequest

CostOption = Annotated[
    bool,
    typer.Option(
        "--cost",
        help="Add the cost: CPU-hours per system, critical path, time on a build farm (implied by --durations, "
        "--machines, --cores).",
    ),
]
CompareCostOption = Annotated[
    bool,
    typer.Option(
        "--cost/--no-cost", help="Show the cost side by side: CPU-hours, critical path, farm time (default on)."
    ),
]
DurationsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--durations",
        metavar="FILE",
        help="Build times: Hydra /build/N JSON, Hydra <job>.build-times.json, a Hydra builds+buildsteps CSV export, "
        "or `nix build --json` output (repeatable). Without it, a stated default model estimates every build.",
        show_default=False,
    ),
]
MachinesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--machines",
        metavar="N|SYSTEM=N",
        help="Build farm size: N machines for every system built (default 10) and/or SYSTEM=N (repeatable); "
        "x86_64-linux machines also build i686-linux.",
        show_default=False,
    ),
]
CoresOption = Annotated[
    int | None,
    typer.Option(
        "--cores",
        metavar="N",
        help="Cores (build slots) per machine; a big-parallel build takes a whole machine (default 8).",
        show_default=False,
    ),
]


def cost_request(
    cost: bool, durations: Sequence[Path] | None, machines: Sequence[str] | None, cores: int | None
) -> CostRequest | None:
    """The cost the options ask for, or None when none is (any of them implies `--cost`)."""
    if not (cost or durations or machines or cores is not None):
        return None
    return CostRequest(durations=tuple(durations or ()), machines=tuple(machines or ()), cores=cores)
