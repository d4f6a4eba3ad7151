"""`impact snapshot`: the shipped snapshots, what a snapshot holds, and making compact ones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from impact.cli._app import JsonOption, SnapshotOption, app, emit
from impact.cli._complete import snapshot_names

snapshot_app = typer.Typer(help="List, describe and make snapshots.", no_args_is_help=True)
app.add_typer(snapshot_app, name="snapshot")


@snapshot_app.command("import")
def import_(
    source: Annotated[
        Path,
        typer.Argument(
            help="A snapshot in any supported format (e.g. a folder of jobs.jsonl.gz + derivations.json.gz)."
        ),
    ],
    output: Annotated[str, typer.Option("--output", "-o", help="The .impact file to write (atomically).")],
    label: Annotated[
        str | None, typer.Option(help="A short name shown in reports, e.g. 'nixpkgs master 2019-03-19 (8fce8a9)'.")
    ] = None,
    branch: Annotated[str | None, typer.Option(help="The branch evaluated, e.g. master or release-19.03.")] = None,
    commit: Annotated[str | None, typer.Option(help="The nixpkgs commit evaluated.")] = None,
    date: Annotated[str | None, typer.Option(help="The date of that commit.")] = None,
    compressed: Annotated[
        bool,
        typer.Option(
            "--compressed",
            help="Write the small compressed version-1 file (to ship in a repository); impact maps a version-2 "
            "copy of it from its cache.",
        ),
    ] = False,
) -> None:
    """Convert a snapshot into impact's compact format (version 2: memory-mapped, with its tables)."""
    from impact.app import import_snapshot
    from impact.writing import check_output_file

    target = check_output_file(output)
    meta = {"label": label, "branch": branch, "commit": commit, "date": date}
    graph = import_snapshot(source, target, meta, compressed=compressed)
    emit(f"wrote {target}: {len(graph):,} derivations, {graph.job_count:,} jobs, {target.stat().st_size:,} bytes")


@snapshot_app.command("list")
def list_(json: JsonOption = False) -> None:
    """The snapshots shipped with impact, by the names --snapshot takes."""
    from impact.render.snapshots import list_json, list_text
    from impact.snapshots import SHIPPED

    emit(list_json(SHIPPED) if json else list_text(SHIPPED))


@snapshot_app.command("info")
def info(
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="[NAME|PATH]",
            help="A shipped snapshot's name or a snapshot's path (default: the default one).",
            autocompletion=snapshot_names,
        ),
    ] = None,
    snapshot: SnapshotOption = None,
    json: JsonOption = False,
) -> None:
    """What a snapshot holds: branch, commit, date, systems, jobs per jobset and system, derivations."""
    from impact.loaders import load_snapshot
    from impact.render.snapshots import info_json, info_text
    from impact.snapshots import describe

    if name is not None and snapshot is not None:
        from impact.errors import UnknownNameError

        raise UnknownNameError("give the snapshot once: as NAME|PATH or with --snapshot, not both")
    described = describe(load_snapshot(name if name is not None else snapshot))
    emit(info_json(described) if json else info_text(described))


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
