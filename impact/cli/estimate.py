"""`impact estimate`: what a change rebuilds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from impact.cli._app import JsonOption, SnapshotOption, app, emit
from impact.cli._branch import BaseOption, PolicyOption, SecurityOption, load_for_base
from impact.cli._cost import (
    CoresOption,
    CostOption,
    DurationsOption,
    MachinesOption,
    cost_markdown,
    cost_of,
    load_match,
    wants_cost,
    with_cost,
)
from impact.errors import UnknownNameError
from impact.render.formats import OutputFormat


@app.command()
def estimate(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Attributes whose package file changes, e.g. qemu linux_4_4.", show_default=False, metavar="NAME"
        ),
    ] = None,
    drv: Annotated[
        list[Path] | None,
        typer.Option(
            "--drv",
            metavar="DRV",
            help="An exact root derivation (repeatable); with --drv alone nothing else is a root.",
            show_default=False,
        ),
    ] = None,
    file: Annotated[
        list[str] | None,
        typer.Option(
            "--file",
            metavar="FILE",
            help="A changed nixpkgs file: the jobs whose meta.position is in it (repeatable).",
            show_default=False,
        ),
    ] = None,
    only: Annotated[
        bool, typer.Option("--only", help="The named attributes alone, without variants built from the same source.")
    ] = False,
    blast: Annotated[
        bool,
        typer.Option(
            "--blast",
            help="Add the blast radius: the dependents that carry most of the rebuild, and the leaf jobs that cover it.",
        ),
    ] = False,
    only_output: Annotated[
        str | None,
        typer.Option(
            "--only-output",
            metavar="NAME.OUTPUT",
            help="What-if: only this output changes, e.g. curl.man, with content-addressed early cutoff (RFC 62), beside today's answer.",
            show_default=False,
        ),
    ] = None,
    split_output: Annotated[
        str | None,
        typer.Option(
            "--split-output",
            metavar="OUTPUT",
            help="What-if: the named package gets this output split off, e.g. man.",
            show_default=False,
        ),
    ] = None,
    cost: CostOption = False,
    durations: DurationsOption = None,
    machines: MachinesOption = None,
    cores: CoresOption = None,
    base: BaseOption = None,
    security: SecurityOption = False,
    policy: PolicyOption = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            help="text (table, labels, branch), json, markdown (PR comment) or changed-paths (nixpkgs CI's changed-paths.json).",
        ),
    ] = OutputFormat.text,
    snapshot: SnapshotOption = None,
    json: JsonOption = False,
) -> None:
    """Estimate what a change rebuilds: jobs per jobset and system, derivations to build, NixOS tests."""
    from impact.analysis.change import resolve_change
    from impact.analysis.rebuild import estimate as run_estimate

    only_output_name = None
    if only_output:
        from impact.analysis.whatif import parse_output_spec

        names_t, only_output_name = parse_output_spec(only_output, tuple(names or ()))
        names = list(names_t)
    if not (names or drv or file):
        raise UnknownNameError(
            "no change named", tip="give an attribute (impact estimate qemu), --file PATH or --drv PATH"
        )
    graph = load_for_base(snapshot, base)
    change = resolve_change(graph, names or (), [str(d) for d in drv or ()], file or (), only=only)
    result = run_estimate(graph, change)
    from impact.analysis.policy import load_policy
    from impact.analysis.report import build_report
    from impact.render.formats import render_estimate, reproduce_command

    report = build_report(graph, result, load_policy(policy), base=base, security=security)
    fmt = OutputFormat.json if json else output_format
    json = fmt is OutputFormat.json
    command = reproduce_command(
        "estimate",
        names or (),
        [
            ("--file", file),
            ("--drv", drv),
            ("--only", only),
            ("--base", base),
            ("--security", security),
            ("--policy", policy),
            ("--snapshot", snapshot),
            ("--format", fmt.value),
            ("--cost", cost),
            ("--durations", durations),
            ("--machines", machines),
            ("--cores", cores),
        ],
    )
    estimate_json = render_estimate(OutputFormat.json, report, graph, command=command) if json else ""
    estimate_text = render_estimate(OutputFormat.text, report, graph, command=command) if not json else ""
    costed = (
        cost_of(graph, result.rebuilt, change.description, load_match(durations), machines, cores)
        if wants_cost(cost, durations, machines, cores)
        else None
    )
    if fmt in (OutputFormat.markdown, OutputFormat.changed_paths):
        emit(
            render_estimate(
                fmt, report, graph, command=command, markdown_sections=[cost_markdown(costed)] if costed else ()
            )
        )
        return
    if blast or only_output_name or split_output:
        from impact.analysis.whatif import estimate_sections
        from impact.render.why import estimate_sections_json, estimate_sections_text

        extra = estimate_sections(
            graph, result, blast=blast, only_output_name=only_output_name, split_output_name=split_output
        )
        emit(
            with_cost(
                estimate_sections_json(estimate_json, extra)
                if json
                else estimate_text + "\n" + estimate_sections_text(extra),
                costed,
                json,
            )
        )
        return
    emit(with_cost(estimate_json if json else estimate_text, costed, json))
