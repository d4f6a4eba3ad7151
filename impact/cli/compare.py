"""`impact compare`: several changes side by side."""

from __future__ import annotations

from typing import Annotated

import typer

from impact import app as service
from impact.cli._app import JsonOption, OnlyOption, OwnOption, PlotOption, SnapshotOption, app, emit, plot_to, refuse
from impact.cli._branch import BaseOption, PolicyOption, SecurityOption
from impact.cli._complete import change_names
from impact.cli._cost import CompareCostOption, CoresOption, DurationsOption, MachinesOption
from impact.errors import UnknownNameError
from impact.render.compare import CompareFormat
from impact.render.formats import render_compare_answer

ChangesArgument = Annotated[
    list[str],
    typer.Argument(
        metavar="CHANGE",
        autocompletion=change_names,
        help="Changes to compare, one per argument; join attributes changed together with commas, e.g. qemu "
        "linux_4_4 or openssl,curl hello.",
        show_default=False,
    ),
]
FormatOption = Annotated[
    CompareFormat,
    typer.Option("--format", help="text (columns, branch, labels), json, or markdown (a PR comment or release notes)."),
]


@app.command()
def compare(
    changes: ChangesArgument,
    only: OnlyOption = False,
    own: OwnOption = False,
    base: BaseOption = None,
    security: SecurityOption = False,
    policy: PolicyOption = None,
    cost: CompareCostOption = True,
    durations: DurationsOption = None,
    machines: MachinesOption = None,
    cores: CoresOption = None,
    output_format: FormatOption = CompareFormat.text,
    plot: PlotOption = None,
    snapshot: SnapshotOption = None,
    json: JsonOption = False,
) -> None:
    """Compare changes side by side: jobs, derivations, NixOS tests, labels, branch, what only each rebuilds."""
    fmt = CompareFormat.json if json else output_format
    farm = "--durations" if durations else "--machines" if machines else "--cores" if cores is not None else ""
    refuse(
        (
            json and output_format not in (CompareFormat.text, CompareFormat.json),
            "--json",
            f"--format {output_format.value}",
        ),
        (not cost and bool(farm), "--no-cost", farm),
    )
    costed = service.CostRequest(tuple(durations or ()), tuple(machines or ()), cores) if cost else None
    named = tuple(tuple(n for n in c.split(",") if n) for c in changes)
    if len(named) < 2 or not all(named):
        raise UnknownNameError("impact compare needs at least two changes", tip="e.g. impact compare qemu linux_4_4")
    request = service.CompareRequest(named, only, own, base, security, policy, costed, snapshot)
    answer = service.compare(request)
    plot_to(plot, lambda: _plot(answer))
    emit(render_compare_answer(fmt, answer))


def _plot(answer: service.CompareAnswer) -> object:
    from impact.render.plots import compare_systems

    estimates = {c.name: c.report.estimate for c in answer.comparison.changes}
    return compare_systems(estimates, title=f"impact compare · {answer.graph.label}")
