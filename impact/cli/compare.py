"""`impact compare`: several changes side by side."""

from __future__ import annotations

from typing import Annotated

import typer

from impact.cli._app import JsonOption, SnapshotOption, app, emit
from impact.cli._branch import BaseOption, PolicyOption, SecurityOption, load_for_base
from impact.cli._cost import (
    CompareCostOption,
    CoresOption,
    DurationsOption,
    MachinesOption,
    cost_of,
    load_match,
    with_costs,
)
from impact.errors import UnknownNameError
from impact.render.compare import CompareFormat


@app.command()
def compare(
    changes: Annotated[
        list[str],
        typer.Argument(
            help="Changes to compare, one per argument; join attributes changed together with commas, e.g. qemu linux_4_4 or openssl,curl hello.",
            show_default=False,
        ),
    ],
    only: Annotated[
        bool, typer.Option("--only", help="The named attributes alone, without variants built from the same source.")
    ] = False,
    base: BaseOption = None,
    security: SecurityOption = False,
    policy: PolicyOption = None,
    cost: CompareCostOption = True,
    durations: DurationsOption = None,
    machines: MachinesOption = None,
    cores: CoresOption = None,
    output_format: Annotated[
        CompareFormat,
        typer.Option(
            "--format", help="text (columns, branch, labels), json, or markdown (a PR comment or release notes)."
        ),
    ] = CompareFormat.text,
    snapshot: SnapshotOption = None,
    json: JsonOption = False,
) -> None:
    """Compare changes: jobs per system and jobset, derivations, NixOS tests, labels, branch, and what only each rebuilds."""
    from impact.analysis.change import resolve_change
    from impact.analysis.compare import compare as run_compare
    from impact.analysis.policy import load_policy
    from impact.render.compare import render_compare
    from impact.render.formats import reproduce_command

    named = [[n for n in c.split(",") if n] for c in changes]
    if len(named) < 2 or not all(named):
        raise UnknownNameError("impact compare needs at least two changes", tip="e.g. impact compare qemu linux_4_4")
    graph = load_for_base(snapshot, base)
    rules = load_policy(policy)
    resolved = [resolve_change(graph, names, only=only) for names in named]
    comparison = run_compare(graph, resolved, rules, base=base, security=security)
    match = load_match(durations) if cost else None
    costs = (
        {c.name: cost_of(graph, c.report.estimate.rebuilt, c.name, match, machines, cores) for c in comparison.changes}
        if cost
        else None
    )
    fmt = CompareFormat.json if json else output_format
    options = [
        ("--only", only),
        ("--base", base),
        ("--security", security),
        ("--policy", policy),
        ("--no-cost", not cost),
        ("--durations", durations),
        ("--machines", machines),
        ("--cores", cores),
        ("--snapshot", snapshot),
        ("--format", fmt.value),
    ]
    command = reproduce_command("compare", changes, options)
    if fmt is CompareFormat.markdown:
        from impact.render.cost import cost_compare_markdown

        emit(
            render_compare(
                fmt,
                comparison,
                graph,
                command=command,
                markdown_sections=[cost_compare_markdown(costs)] if costs else (),
            )
        )
        return
    emit(with_costs(render_compare(fmt, comparison, graph, command=command), costs, fmt is CompareFormat.json))
