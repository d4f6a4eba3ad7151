"""`impact estimate`: what a change rebuilds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from impact import app as service
from impact.cli._app import JsonOption, OnlyOption, OwnOption, PlotOption, SnapshotOption, app, emit, plot_to, refuse
from impact.cli._branch import BaseOption, PolicyOption, SecurityOption
from impact.cli._complete import package_names
from impact.cli._cost import CoresOption, CostOption, DurationsOption, MachinesOption, cost_request
from impact.render.formats import OutputFormat, render_estimate_answer
from impact.render.repoint import render_repoint

NamesArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="Attributes whose package file changes, e.g. qemu linux_4_4.",
        show_default=False,
        metavar="NAME",
        autocompletion=package_names,
    ),
]
DrvOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--drv",
        metavar="DRV",
        help="An exact root derivation (repeatable); with --drv alone nothing else is a root.",
        show_default=False,
    ),
]
FileOption = Annotated[
    list[str] | None,
    typer.Option(
        "--file",
        metavar="FILE",
        help="A changed nixpkgs file: the jobs whose meta.position is in it (repeatable).",
        show_default=False,
    ),
]
BlastOption = Annotated[
    bool,
    typer.Option(
        "--blast",
        help="Add the blast radius: the dependents that carry most of the rebuild, and the leaf jobs that cover it.",
    ),
]
OnlyOutputOption = Annotated[
    str | None,
    typer.Option(
        "--only-output",
        metavar="NAME.OUTPUT",
        help="What-if: only this output changes, e.g. curl.man, with content-addressed early cutoff (RFC 62), "
        "beside today's answer.",
        show_default=False,
    ),
]
SplitOutputOption = Annotated[
    str | None,
    typer.Option(
        "--split-output",
        metavar="OUTPUT",
        help="What-if: the named package gets this output split off, e.g. man.",
        show_default=False,
    ),
]
RepointOption = Annotated[
    str | None,
    typer.Option(
        "--repoint",
        metavar="ATTRIBUTE=TARGET",
        help="An attribute re-pointed to another (linuxPackages=linuxPackages_4_19): the bounds the graph gives.",
        show_default=False,
    ),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        help="text (table, labels, branch), json, markdown (PR comment) or changed-paths (nixpkgs CI's "
        "changed-paths.json).",
    ),
]


@app.command()
def estimate(
    names: NamesArgument = None,
    drv: DrvOption = None,
    file: FileOption = None,
    only: OnlyOption = False,
    own: OwnOption = False,
    blast: BlastOption = False,
    only_output: OnlyOutputOption = None,
    split_output: SplitOutputOption = None,
    repoint: RepointOption = None,
    cost: CostOption = False,
    durations: DurationsOption = None,
    machines: MachinesOption = None,
    cores: CoresOption = None,
    base: BaseOption = None,
    security: SecurityOption = False,
    policy: PolicyOption = None,
    output_format: FormatOption = OutputFormat.text,
    plot: PlotOption = None,
    snapshot: SnapshotOption = None,
    json: JsonOption = False,
) -> None:
    """Estimate what a change rebuilds: jobs per jobset and system, derivations to build, NixOS tests."""
    fmt = OutputFormat.json if json else output_format
    if repoint:
        emit(render_repoint(service.repoint(service.RepointRequest(repoint, snapshot)), fmt is OutputFormat.json))
        return
    costed = cost_request(cost, durations, machines, cores)
    refuse_conflicts(fmt, output_format, json, costed is not None, blast, only_output, split_output, security, policy)
    change = service.ChangeRequest(tuple(names or ()), tuple(map(str, drv or ())), tuple(file or ()), only, own)
    answer = service.estimate(
        service.EstimateRequest(change, blast, only_output, split_output, costed, base, security, policy, snapshot)
    )
    plot_to(plot, lambda: _plot(answer))
    emit(render_estimate_answer(fmt, answer))


def refuse_conflicts(
    fmt: OutputFormat,
    output_format: OutputFormat,
    json: bool,
    costed: bool,
    blast: bool,
    only_output: str | None,
    split_output: str | None,
    security: bool,
    policy: Path | None,
) -> None:
    """Stop with one line on options the chosen format would drop (see `refuse`)."""
    extra = "--blast" if blast else "--only-output" if only_output else "--split-output" if split_output else ""
    advice = "--security" if security else "--policy" if policy else ""  # changed-paths.json has no branch advice
    changed_paths = fmt is OutputFormat.changed_paths
    refuse(
        (
            json and output_format not in (OutputFormat.text, OutputFormat.json),
            "--json",
            f"--format {output_format.value}",
        ),
        (costed and changed_paths, "--cost", "--format changed-paths"),
        (bool(advice) and changed_paths, advice, "--format changed-paths"),
        (bool(extra) and fmt in (OutputFormat.markdown, OutputFormat.changed_paths), extra, f"--format {fmt.value}"),
    )


def _plot(answer: service.EstimateAnswer) -> object:
    from impact.render.plots import compare_systems

    estimate = answer.report.estimate
    return compare_systems({estimate.change.description: estimate}, title=f"impact estimate · {answer.graph.label}")
