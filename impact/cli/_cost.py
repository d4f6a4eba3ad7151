"""The cost options (`--cost`, `--durations`, `--machines`, `--cores`) that `estimate` and `compare` share,
and the wiring that adds a cost section to their answers."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import numpy as np

    from impact.analysis.cost import ChangeCost, DurationMatch
    from impact.model import DerivationGraph

CostOption = Annotated[
    bool,
    typer.Option(
        "--cost",
        help="Add the cost: CPU-hours per system, critical path, time on a build farm (implied by --durations, --machines, --cores).",
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


def wants_cost(cost: bool, durations: Sequence[Path] | None, machines: Sequence[str] | None, cores: int | None) -> bool:
    """True when any cost option is given."""
    return bool(cost or durations or machines or cores is not None)


def load_match(durations: Sequence[Path] | None) -> DurationMatch | None:
    """The build records of the `--durations` files, indexed for matching (None when none are given)."""
    if not durations:
        return None
    from impact.analysis.cost import match_durations
    from impact.loaders.durations import load_all

    return match_durations(load_all(durations))


def cost_of(
    graph: DerivationGraph,
    rebuilt: np.ndarray,
    change: str,
    match: DurationMatch | None,
    machines: Sequence[str] | None,
    cores: int | None,
) -> ChangeCost:
    """The cost of rebuilding `rebuilt`, with the farm the options describe."""
    from impact.analysis.cost import DEFAULT_CORES, change_cost, parse_machines

    return change_cost(
        graph,
        rebuilt,
        change=change,
        match=match,
        machines=parse_machines(machines or ()),
        cores=DEFAULT_CORES if cores is None else cores,
    )


def cost_markdown(cost: ChangeCost) -> str:
    """The cost as a Markdown section for the PR comment."""
    from impact.render.cost import cost_markdown as render

    return render(cost)


def with_cost(answer: str, cost: ChangeCost | None, json: bool) -> str:
    """`answer` (a command's text or JSON) with the cost added: a section of text, or a `cost` key."""
    if cost is None:
        return answer
    from impact.render.cost import cost_dict, cost_text

    if json:
        from impact.render.json import dumps

        return dumps({**jsonlib.loads(answer), "cost": cost_dict(cost)})
    return answer.rstrip("\n") + "\n\n" + cost_text(cost)


def with_costs(answer: str, costs: Mapping[str, ChangeCost] | None, json: bool) -> str:
    """`answer` with several changes' costs side by side (text) or a `cost` key per change (JSON)."""
    if not costs:
        return answer
    from impact.render.cost import cost_compare_text, cost_dict

    if json:
        from impact.render.json import dumps

        return dumps({**jsonlib.loads(answer), "cost": {name: cost_dict(c) for name, c in costs.items()}})
    return answer.rstrip("\n") + "\n\n" + cost_compare_text(costs)
