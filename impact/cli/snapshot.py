"""`impact snapshot`: make and inspect compact snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from impact.cli._app import JsonOption, SnapshotOption, app, emit

snapshot_app = typer.Typer(help="Make and inspect snapshots.", no_args_is_help=True)
app.add_typer(snapshot_app, name="snapshot")


@snapshot_app.command("import")
def import_(
    source: Annotated[
        Path,
        typer.Argument(
            help="A snapshot in any supported format (e.g. a folder of jobs.jsonl.gz + derivations.json.gz)."
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="The .impact file to write (atomically).")],
    label: Annotated[
        str | None, typer.Option(help="A short name shown in reports, e.g. 'nixpkgs master 2016-06-24'.")
    ] = None,
    branch: Annotated[str | None, typer.Option(help="The branch evaluated, e.g. master or release-16.03.")] = None,
    commit: Annotated[str | None, typer.Option(help="The nixpkgs commit evaluated.")] = None,
    date: Annotated[str | None, typer.Option(help="The date of that commit.")] = None,
) -> None:
    """Convert a snapshot into impact's compact format."""
    from impact.loaders import load_snapshot
    from impact.loaders.compact import write_compact

    graph = load_snapshot(source)
    graph.meta.update(
        {k: v for k, v in {"label": label, "branch": branch, "commit": commit, "date": date}.items() if v}
    )
    write_compact(graph, output)
    emit(f"wrote {output}: {len(graph):,} derivations, {graph.job_count:,} jobs, {output.stat().st_size:,} bytes")


@snapshot_app.command("info")
def info(snapshot: SnapshotOption = None, json: JsonOption = False) -> None:
    """Describe a snapshot: what it is, its size, jobs per jobset and system."""
    from impact.loaders import load_snapshot
    from impact.render.json import dumps, snapshot_dict
    from impact.render.text import table

    graph = load_snapshot(snapshot)
    per: dict[tuple[str, str], int] = {}
    for js, sy in zip(graph.job_jobsets, graph.job_systems):
        per[(js, sy)] = per.get((js, sy), 0) + 1
    if json:
        emit(
            dumps(
                {
                    "snapshot": snapshot_dict(graph),
                    "derivations": len(graph),
                    "fixed_output_derivations": int(graph.fixed_output.sum()),
                    "inputs": graph.edge_count,
                    "jobs": {js: {sy: n for (j, sy), n in sorted(per.items()) if j == js} for js in graph.jobsets},
                    "eval_errors": len(graph.eval_errors),
                }
            )
        )
        return
    rows = [[js, sy, n] for (js, sy), n in sorted(per.items())]
    emit(
        "\n".join(
            [
                graph.label,
                f"{len(graph):,} derivations ({int(graph.fixed_output.sum()):,} fixed-output), {graph.edge_count:,} inputs, "
                f"{graph.job_count:,} jobs, {len(graph.eval_errors):,} evaluation errors",
                "",
                table(rows, ["jobset", "system", "jobs"], right_from=2),
            ]
        )
    )


@snapshot_app.command("merge")
def merge(
    slices: Annotated[list[Path], typer.Argument(help="Snapshot folders written by impact eval --chunks N --chunk K.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The snapshot folder to write.")],
    json: JsonOption = False,
) -> None:
    """Join the slices of one chunked evaluation into one snapshot folder (refusing overlaps and mismatches)."""
    from impact.loaders.merge import merge_slices
    from impact.render.json import dumps

    summary = merge_slices(slices, output)
    if json:
        emit(dumps(summary.to_dict()))
        return
    missing = sorted(set(range(summary.chunks)) - set(summary.slices))
    note = f"; slices {', '.join(map(str, missing))} missing" if missing else ""
    emit(
        f"wrote {output}: slices {', '.join(map(str, summary.slices))} of {summary.chunks}{note}: "
        f"{summary.jobs:,} jobs, {summary.errors:,} evaluation errors, {summary.derivations:,} derivations"
    )
